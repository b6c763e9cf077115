/*
 * test_crypto.c - src/crypto/ against published vectors (RFC 5869, 4231,
 * 8439, 7748, the GCM spec), round trips with keys made now by the openssl
 * CLI, and the certificate verification matrix with its sentences.
 */
#include "bytes.h"
#include "common/check.h"
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (; h[0] && h[1] && n < cap; h += 2) {
    unsigned v;
    if (sscanf(h, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
  }
  return n;
}

/* 1 if buf (n bytes) is the bytes of hex h. */
static int eq_hex(const uint8_t *buf, size_t n, const char *h) {
  uint8_t want[512];
  size_t wn = unhex(h, want, sizeof(want));
  return wn == n && memcmp(buf, want, n) == 0;
}

static char tmpdir[64];

static void path_of(char *out, size_t len, const char *file) {
  snprintf(out, len, "%s/%s", tmpdir, file);
}

static mt_pkey *key(const char *file) {
  char p[128], err[256] = "";
  path_of(p, sizeof(p), file);
  mt_pkey *k = mt_pkey_load_file(p, err, sizeof(err));
  if (k == NULL) printf("# loading %s: %s\n", file, err);
  return k;
}

static mt_chain *chain(const char *file) {
  char p[128], err[256] = "";
  path_of(p, sizeof(p), file);
  mt_chain *c = mt_chain_load_file(p, err, sizeof(err));
  if (c == NULL) printf("# loading %s: %s\n", file, err);
  return c;
}

/* ---- hashes, HMAC, HKDF -------------------------------------------------- */

static void test_hash(void) {
  uint8_t out[MT_MAX_HASH], peek[MT_MAX_HASH];
  CHECK("sha256 len", mt_hash_len(MT_SHA256) == 32 && mt_hash_len(MT_SHA384) == 48);
  CHECK("sha256 abc",
        mt_hash(MT_SHA256, (const uint8_t *)"abc", 3, out) == 0 &&
            eq_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK("sha384 abc", mt_hash(MT_SHA384, (const uint8_t *)"abc", 3, out) == 0 &&
                          eq_hex(out, 48,
                                 "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                                 "8086072ba1e7cc2358baeca134c825a7"));
  mt_hash_ctx *h = mt_hash_new(MT_SHA256);
  CHECK("hash_new", h != NULL);
  CHECK("hash_update", mt_hash_update(h, (const uint8_t *)"a", 1) == 0 &&
                           mt_hash_update(h, (const uint8_t *)"bc", 2) == 0);
  CHECK("hash_peek = one-shot",
        mt_hash_peek(h, peek) == 0 &&
            eq_hex(peek, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  /* Peeking must not end the context: keep going and compare with abcd. */
  mt_hash(MT_SHA256, (const uint8_t *)"abcd", 4, out);
  CHECK("hash_peek keeps going", mt_hash_update(h, (const uint8_t *)"d", 1) == 0 &&
                                     mt_hash_peek(h, peek) == 0 && memcmp(peek, out, 32) == 0);
  CHECK("hash_peek twice same", mt_hash_peek(h, peek) == 0 && memcmp(peek, out, 32) == 0);
  mt_hash_free(h);
  mt_hash_free(NULL);
  mt_hash_ctx *h384 = mt_hash_new(MT_SHA384);
  CHECK("hash384 empty peek",
        h384 && mt_hash_peek(h384, peek) == 0 &&
            eq_hex(peek, 48,
                   "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
                   "274edebfe76f65fbd51ad2f14898b95b"));
  mt_hash_free(h384);
}

static void test_hmac(void) {
  uint8_t out[MT_MAX_HASH];
  const uint8_t *data = (const uint8_t *)"what do ya want for nothing?";
  /* RFC 4231 4.3 (test case 2). */
  CHECK("hmac-sha256 rfc4231 case 2",
        mt_hmac(MT_SHA256, (const uint8_t *)"Jefe", 4, data, 28, out) == 0 &&
            eq_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  CHECK("hmac-sha384 rfc4231 case 2",
        mt_hmac(MT_SHA384, (const uint8_t *)"Jefe", 4, data, 28, out) == 0 &&
            eq_hex(out, 48,
                   "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
                   "8e2240ca5e69e2c78b3239ecfab21649"));
}

struct hkdf_case {
  const char *name, *ikm, *salt, *info, *prk, *okm;
};

static const struct hkdf_case hkdf_cases[] = {
    /* RFC 5869 A.1 */
    {"hkdf rfc5869 case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
     "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    /* RFC 5869 A.2 */
    {"hkdf rfc5869 case 2",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    /* RFC 5869 A.3: no salt, no info */
    {"hkdf rfc5869 case 3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

static void test_hkdf(void) {
  for (size_t i = 0; i < sizeof(hkdf_cases) / sizeof(hkdf_cases[0]); i++) {
    const struct hkdf_case *c = &hkdf_cases[i];
    uint8_t ikm[128], salt[128], info[128], prk[MT_MAX_HASH], okm[128];
    size_t ikm_n = unhex(c->ikm, ikm, sizeof(ikm)), salt_n = unhex(c->salt, salt, sizeof(salt));
    size_t info_n = unhex(c->info, info, sizeof(info)), okm_n = strlen(c->okm) / 2;
    char name[80];
    snprintf(name, sizeof(name), "%s prk", c->name);
    CHECK(name, mt_hkdf_extract(MT_SHA256, salt_n ? salt : NULL, salt_n, ikm, ikm_n, prk) == 0 &&
                    eq_hex(prk, 32, c->prk));
    snprintf(name, sizeof(name), "%s okm", c->name);
    CHECK(name, mt_hkdf_expand(MT_SHA256, prk, 32, info, info_n, okm, okm_n) == 0 &&
                    eq_hex(okm, okm_n, c->okm));
  }
  /* RFC 5869 2.3: L <= 255 * HashLen. */
  static uint8_t big[255 * 32 + 1];
  uint8_t prk[32] = {1};
  CHECK("hkdf expand max length", mt_hkdf_expand(MT_SHA256, prk, 32, NULL, 0, big, 255 * 32) == 0);
  CHECK("hkdf expand too long",
        mt_hkdf_expand(MT_SHA256, prk, 32, NULL, 0, big, 255 * 32 + 1) == -1);
  /* A prefix of a longer expansion equals the shorter one. */
  uint8_t a[100], b[40];
  CHECK("hkdf expand prefix",
        mt_hkdf_expand(MT_SHA384, prk, 32, (const uint8_t *)"x", 1, a, 100) == 0 &&
            mt_hkdf_expand(MT_SHA384, prk, 32, (const uint8_t *)"x", 1, b, 40) == 0 &&
            memcmp(a, b, 40) == 0);
}

/* Several outputs of one PRK in one call equal one mt_hkdf_expand each,
 * whatever their lengths (multi-block ones included) and order. */
static void test_hkdf_multi(void) {
  const struct hkdf_case *c = &hkdf_cases[1]; /* 82 bytes: three blocks */
  uint8_t ikm[128], salt[128], info[128], prk[MT_MAX_HASH], okm[128], one[3][128], many[3][128];
  size_t ikm_n = unhex(c->ikm, ikm, sizeof(ikm)), salt_n = unhex(c->salt, salt, sizeof(salt));
  size_t info_n = unhex(c->info, info, sizeof(info)), okm_n = strlen(c->okm) / 2;
  CHECK("hkdf multi: prk", mt_hkdf_extract(MT_SHA256, salt, salt_n, ikm, ikm_n, prk) == 0);
  const mt_hkdf_out rfc[2] = {{(const uint8_t *)"x", 1, many[0], 16}, {info, info_n, okm, okm_n}};
  CHECK("hkdf multi: rfc5869 case 2 as the second output",
        mt_hkdf_expand_multi(MT_SHA256, prk, 32, rfc, 2) == 0 && eq_hex(okm, okm_n, c->okm));
  const struct {
    const char *info;
    size_t len;
  } want[3] = {{"key", 16}, {"", 100}, {"iv", 12}};
  for (int alg = MT_SHA256; alg <= MT_SHA384; alg++) {
    mt_hkdf_out outs[3];
    int ok = 1;
    for (int i = 0; i < 3; i++) {
      const uint8_t *in = (const uint8_t *)want[i].info;
      ok = ok && mt_hkdf_expand((mt_hash_alg)alg, prk, 32, in, strlen(want[i].info), one[i],
                                want[i].len) == 0;
      outs[i] = (mt_hkdf_out){in, strlen(want[i].info), many[i], want[i].len};
    }
    ok = ok && mt_hkdf_expand_multi((mt_hash_alg)alg, prk, 32, outs, 3) == 0;
    for (int i = 0; i < 3; i++) ok = ok && memcmp(one[i], many[i], want[i].len) == 0;
    CHECK(alg == MT_SHA256 ? "hkdf multi = single expansions (sha256)"
                           : "hkdf multi = single expansions (sha384)",
          ok);
  }
  /* Extract and expand in one call: RFC 5869 case 1, and no salt (case 3). */
  for (int i = 0; i < 3; i += 2) {
    const struct hkdf_case *v = &hkdf_cases[i];
    uint8_t vikm[128], vsalt[128], vinfo[128], vprk[MT_MAX_HASH], vokm[128];
    size_t vikm_n = unhex(v->ikm, vikm, sizeof(vikm)), vsalt_n = unhex(v->salt, vsalt, sizeof(vsalt));
    size_t vinfo_n = unhex(v->info, vinfo, sizeof(vinfo)), vokm_n = strlen(v->okm) / 2;
    const mt_hkdf_out vo = {vinfo, vinfo_n, vokm, vokm_n};
    char name[80];
    snprintf(name, sizeof(name), "%s in one call (mt_hkdf)", v->name);
    CHECK(name, mt_hkdf(MT_SHA256, vsalt_n ? vsalt : NULL, vsalt_n, vikm, vikm_n, vprk, &vo, 1) == 0 &&
                    eq_hex(vprk, 32, v->prk) && eq_hex(vokm, vokm_n, v->okm));
  }
  /* HMAC under an expanded key = the two steps one after the other. */
  for (int alg = MT_SHA256; alg <= MT_SHA384; alg++) {
    size_t hl = mt_hash_len((mt_hash_alg)alg);
    uint8_t key[MT_MAX_HASH], mac1[MT_MAX_HASH], mac2[MT_MAX_HASH];
    const uint8_t *in = (const uint8_t *)"transcript hash";
    int ok = mt_hkdf_expand((mt_hash_alg)alg, prk, 32, info, info_n, key, hl) == 0 &&
             mt_hmac((mt_hash_alg)alg, key, hl, in, 15, mac1) == 0 &&
             mt_hkdf_expand_hmac((mt_hash_alg)alg, prk, 32, info, info_n, in, 15, mac2) == 0 &&
             memcmp(mac1, mac2, hl) == 0;
    CHECK(alg == MT_SHA256 ? "hmac under an expanded key (sha256)"
                           : "hmac under an expanded key (sha384)",
          ok);
  }
  /* One output too long: the call fails before deriving anything. */
  static uint8_t big[255 * 32 + 1];
  memset(many[0], 0xaa, 16);
  const mt_hkdf_out bad[2] = {{NULL, 0, many[0], 16}, {NULL, 0, big, sizeof big}};
  CHECK("hkdf multi: an output too long fails the call",
        mt_hkdf_expand_multi(MT_SHA256, prk, 32, bad, 2) == -1 && many[0][0] == 0xaa &&
            many[0][15] == 0xaa);
}

static void *hmac_thread(void *arg) {
  uint8_t out[32];
  int *ok = arg;
  *ok = 1;
  for (int i = 0; i < 200; i++)
    if (mt_hmac(MT_SHA256, (const uint8_t *)"Jefe", 4,
                (const uint8_t *)"what do ya want for nothing?", 28, out) != 0 ||
        !eq_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
      *ok = 0;
  return NULL;
}

static void test_threads(void) {
  pthread_t t[4];
  int ok[4] = {0};
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, hmac_thread, &ok[i]);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  CHECK("hmac from 4 threads", ok[0] && ok[1] && ok[2] && ok[3]);
}

static void test_random(void) {
  uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
  CHECK("random", mt_random(a, 32) == 0 && mt_random(b, 32) == 0 && memcmp(a, b, 32) != 0 &&
                      memcmp(a, zero, 32) != 0);
  CHECK("crypto_init idempotent", mt_crypto_init() == 0 && mt_crypto_init() == 0);
  /* Small requests come from a per-thread pool: across many refills, no
   * two draws repeat, whatever their sizes; large ones bypass it. */
  static uint8_t draws[400][32];
  int ok = 1;
  for (int i = 0; i < 400 && ok; i++) ok = mt_random(draws[i], (size_t)(i % 3 ? 32 : 12)) == 0;
  for (int i = 0; i < 400 && ok; i++)
    for (int j = i + 1; j < 400 && ok; j++) ok = memcmp(draws[i], draws[j], 12) != 0;
  CHECK("random: 400 small draws, no repeats", ok);
  static uint8_t big[3000];
  CHECK("random: a large draw", mt_random(big, sizeof big) == 0 && memcmp(big, zero, 32) != 0 &&
                                    memcmp(big + 2968, zero, 32) != 0);
}

/* After fork() the child must not hand out what the parent's pool holds
 * (the parent's next draw and the child's first would then be equal). */
static void test_random_fork(void) {
  uint8_t first[32], parent[32], child[32] = {0};
  int fds[2], status = 1;
  if (mt_random(first, 32) != 0 || pipe(fds) != 0) {
    CHECK("random: fork test set-up", 0);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    ssize_t w = mt_random(child, 32) == 0 ? write(fds[1], child, 32) : -1;
    _exit(w == 32 ? 0 : 1);
  }
  int ok = pid > 0 && mt_random(parent, 32) == 0 && read(fds[0], child, 32) == 32;
  if (pid > 0) waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  CHECK("random: a forked child draws other bytes than its parent",
        ok && status == 0 && memcmp(parent, child, 32) != 0 && memcmp(first, child, 32) != 0);
}

static void *random_thread(void *arg) {
  uint8_t(*out)[32] = arg;
  for (int i = 0; i < 50; i++)
    if (mt_random(out[i], 32) != 0) memset(out[i], 0, 32);
  return NULL;
}

static void test_random_threads(void) {
  static uint8_t out[4][50][32];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, random_thread, out[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  const uint8_t(*all)[32] = (const uint8_t(*)[32])out;
  int ok = 1;
  for (int i = 0; i < 200 && ok; i++)
    for (int j = i + 1; j < 200 && ok; j++) ok = memcmp(all[i], all[j], 32) != 0;
  CHECK("random: 4 threads, 200 draws, no repeats", ok);
}

/* ---- AEAD ------------------------------------------------------------------ */

static void test_aead_kat(void) {
  uint8_t key[32] = {0}, nonce[12] = {0}, buf[64] = {0};
  /* The GCM specification (McGrew & Viega), test cases 2 and 14. */
  mt_aead *a = mt_aead_new(MT_AES_128_GCM, key, 1);
  CHECK("aes128gcm kat (gcm spec case 2)",
        a && mt_aead_seal(a, nonce, NULL, 0, buf, 16, buf) == 0 &&
            eq_hex(buf, 32, "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"));
  mt_aead_free(a);
  memset(buf, 0, sizeof(buf));
  a = mt_aead_new(MT_AES_256_GCM, key, 1);
  CHECK("aes256gcm kat (gcm spec case 14)",
        a && mt_aead_seal(a, nonce, NULL, 0, buf, 16, buf) == 0 &&
            eq_hex(buf, 32, "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"));
  mt_aead_free(a);

  /* RFC 8439 2.8.2. */
  static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you only "
                           "one tip for the future, sunscreen would be it.";
  const size_t n = sizeof(pt) - 1;
  const char *ct_hex = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                       "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                       "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                       "3ff4def08e4b7a9de576d26586cec64b6116"
                       "1ae10b594f09e26a7e902ecbd0600691";
  uint8_t ckey[32], cnonce[12], aad[12], rec[160];
  for (int i = 0; i < 32; i++)
    ckey[i] = (uint8_t)(0x80 + i);
  unhex("070000004041424344454647", cnonce, 12);
  unhex("50515253c0c1c2c3c4c5c6c7", aad, 12);
  mt_aead *s = mt_aead_new(MT_CHACHA20_POLY1305, ckey, 1);
  mt_aead *o = mt_aead_new(MT_CHACHA20_POLY1305, ckey, 0);
  memcpy(rec, pt, n);
  CHECK("chacha20poly1305 rfc8439 2.8.2 seal (in place)",
        s && mt_aead_seal(s, cnonce, aad, 12, rec, n, rec) == 0 && eq_hex(rec, n + 16, ct_hex));
  CHECK("chacha20poly1305 rfc8439 2.8.2 open (in place)",
        o && mt_aead_open(o, cnonce, aad, 12, rec, n + 16, rec) == 0 && memcmp(rec, pt, n) == 0);
  mt_aead_free(s);
  mt_aead_free(o);
  mt_aead_free(NULL);
}

static void test_aead_roundtrip(mt_aead_alg alg, const char *label) {
  uint8_t key[MT_MAX_AEAD_KEY], nonce[12], aad[5] = {23, 3, 3, 0, 40};
  uint8_t msg[24], rec[64], out[64];
  char name[96];
  mt_random(key, sizeof(key));
  mt_random(nonce, sizeof(nonce));
  for (int i = 0; i < 24; i++)
    msg[i] = (uint8_t)i;
  mt_aead *s = mt_aead_new(alg, key, 1), *o = mt_aead_new(alg, key, 0);
  snprintf(name, sizeof(name), "%s new", label);
  CHECK(name, s && o && mt_aead_key_len(alg) >= 16);

  snprintf(name, sizeof(name), "%s seal/open", label);
  CHECK(name, mt_aead_seal(s, nonce, aad, 5, msg, 24, rec) == 0 &&
                  mt_aead_open(o, nonce, aad, 5, rec, 40, out) == 0 && memcmp(out, msg, 24) == 0);

  /* In place, then a second record with another nonce on the same contexts. */
  nonce[11] ^= 1;
  memcpy(rec, msg, 24);
  snprintf(name, sizeof(name), "%s in place, next nonce", label);
  CHECK(name, mt_aead_seal(s, nonce, aad, 5, rec, 24, rec) == 0 && memcmp(rec, msg, 24) != 0 &&
                  mt_aead_open(o, nonce, aad, 5, rec, 40, rec) == 0 && memcmp(rec, msg, 24) == 0);

  mt_aead_seal(s, nonce, aad, 5, msg, 24, rec);
  rec[39] ^= 0x01;
  memset(out, 0xAA, sizeof(out));
  snprintf(name, sizeof(name), "%s bad tag -> -1, output wiped", label);
  uint8_t zero[24] = {0};
  CHECK(name, mt_aead_open(o, nonce, aad, 5, rec, 40, out) == -1 && memcmp(out, zero, 24) == 0);
  rec[39] ^= 0x01;
  rec[0] ^= 0x80;
  snprintf(name, sizeof(name), "%s bad ciphertext -> -1", label);
  CHECK(name, mt_aead_open(o, nonce, aad, 5, rec, 40, out) == -1);
  rec[0] ^= 0x80;
  aad[4] = 41;
  snprintf(name, sizeof(name), "%s bad aad -> -1", label);
  CHECK(name, mt_aead_open(o, nonce, aad, 5, rec, 40, out) == -1);
  aad[4] = 40;
  snprintf(name, sizeof(name), "%s good again after failures", label);
  CHECK(name, mt_aead_open(o, nonce, aad, 5, rec, 40, out) == 0 && memcmp(out, msg, 24) == 0);
  snprintf(name, sizeof(name), "%s short input -> -1", label);
  CHECK(name, mt_aead_open(o, nonce, aad, 5, rec, 15, out) == -1);
  snprintf(name, sizeof(name), "%s empty plaintext", label);
  CHECK(name, mt_aead_seal(s, nonce, NULL, 0, NULL, 0, rec) == 0 &&
                  mt_aead_open(o, nonce, NULL, 0, rec, 16, out) == 0);

  /* Two pieces (a record's content and its type byte, split anywhere, even
   * mid-block) seal to the same bytes as one. */
  uint8_t one[64], two[64];
  int same = 1;
  for (size_t cut = 0; cut <= 24; cut += 7) {
    same &= mt_aead_seal(s, nonce, aad, 5, msg, 24, one) == 0 &&
            mt_aead_seal2(s, nonce, aad, 5, msg, cut, msg + cut, 24 - cut, two) == 0 &&
            memcmp(one, two, 40) == 0;
  }
  snprintf(name, sizeof(name), "%s seal2: two pieces seal as one", label);
  CHECK(name, same && mt_aead_open(o, nonce, aad, 5, two, 40, out) == 0 && memcmp(out, msg, 24) == 0);

  /* Re-keyed contexts act as new ones made with the new key (the same
   * bytes sealed, in each direction), and the old key no longer opens. */
  uint8_t key2[MT_MAX_AEAD_KEY], old[64], fresh[64];
  for (size_t i = 0; i < sizeof(key2); i++) key2[i] = (uint8_t)(key[i] ^ 0x5c);
  mt_aead *n = mt_aead_new(alg, key2, 1);
  int rekeyed = n != NULL && mt_aead_seal(s, nonce, aad, 5, msg, 24, old) == 0 &&
                mt_aead_rekey(s, key2) == 0 && mt_aead_rekey(o, key2) == 0 &&
                mt_aead_seal(s, nonce, aad, 5, msg, 24, one) == 0 &&
                mt_aead_seal(n, nonce, aad, 5, msg, 24, fresh) == 0 && memcmp(one, fresh, 40) == 0 &&
                mt_aead_open(o, nonce, aad, 5, one, 40, out) == 0 && memcmp(out, msg, 24) == 0 &&
                mt_aead_open(o, nonce, aad, 5, old, 40, out) == -1;
  snprintf(name, sizeof(name), "%s rekey: as new with the new key, the old one refused", label);
  CHECK(name, rekeyed);
  snprintf(name, sizeof(name), "%s rekey: NULL refused", label);
  CHECK(name, mt_aead_rekey(NULL, key2) == -1 && mt_aead_rekey(s, NULL) == -1);
  mt_aead_free(n);
  mt_aead_free(s);
  mt_aead_free(o);
}

/* ---- key exchange ------------------------------------------------------------ */

static void test_x25519(void) {
  /* RFC 7748 6.1 */
  uint8_t a_priv[32], b_priv[32], a_pub[32], b_pub[32], s1[48], s2[48];
  size_t a_len = 0, b_len = 0, n1 = 0, n2 = 0;
  unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a_priv, 32);
  unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b_priv, 32);
  mt_kex *a = NULL, *b = NULL;
  CHECK("x25519 rfc7748 alice pub",
        mt_kex_from_private(MT_GROUP_X25519, a_priv, 32, &a, a_pub, &a_len) == 0 && a_len == 32 &&
            eq_hex(a_pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  CHECK("x25519 rfc7748 bob pub",
        mt_kex_from_private(MT_GROUP_X25519, b_priv, 32, &b, b_pub, &b_len) == 0 && b_len == 32 &&
            eq_hex(b_pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  const char *k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  CHECK("x25519 rfc7748 shared (alice)",
        a && mt_kex_derive(a, b_pub, 32, s1, &n1) == 0 && n1 == 32 && eq_hex(s1, 32, k));
  CHECK("x25519 rfc7748 shared (bob)",
        b && mt_kex_derive(b, a_pub, 32, s2, &n2) == 0 && n2 == 32 && eq_hex(s2, 32, k));
  uint8_t zero[32] = {0}, one[32] = {1};
  CHECK("x25519 all-zero peer -> -1", mt_kex_derive(a, zero, 32, s1, &n1) == -1);
  CHECK("x25519 low-order peer (u=1) -> -1", mt_kex_derive(a, one, 32, s1, &n1) == -1);
  CHECK("x25519 short share -> -1", mt_kex_derive(a, b_pub, 31, s1, &n1) == -1);
  CHECK("x25519 long share -> -1", mt_kex_derive(a, s1, 33, s1, &n1) == -1);
  CHECK("x25519 wrong private length",
        mt_kex_from_private(MT_GROUP_X25519, a_priv, 31, &b, b_pub, &b_len) == -1);
  mt_kex_free(a);
  mt_kex_free(b);

  mt_kex *g1 = NULL, *g2 = NULL;
  uint8_t p1[97], p2[97];
  size_t l1 = 0, l2 = 0;
  CHECK("x25519 generate agree",
        mt_kex_generate(MT_GROUP_X25519, &g1, p1, &l1) == 0 &&
            mt_kex_generate(MT_GROUP_X25519, &g2, p2, &l2) == 0 && l1 == 32 && l2 == 32 &&
            mt_kex_derive(g1, p2, l2, s1, &n1) == 0 && mt_kex_derive(g2, p1, l1, s2, &n2) == 0 &&
            n1 == 32 && n2 == 32 && memcmp(s1, s2, 32) == 0);
  mt_kex_free(g1);
  mt_kex_free(g2);
  mt_kex_free(NULL);
  CHECK("unknown group -> -1", mt_kex_generate(0x0019, &g1, p1, &l1) == -1);
}

static void test_nist(uint16_t group, size_t pub_len, size_t sec_len, const char *label) {
  mt_kex *a = NULL, *b = NULL;
  uint8_t pa[97], pb[97], bad[97], s1[48], s2[48];
  size_t la = 0, lb = 0, n1 = 0, n2 = 0;
  char name[96];
  snprintf(name, sizeof(name), "%s generate", label);
  CHECK(name, mt_kex_generate(group, &a, pa, &la) == 0 &&
                  mt_kex_generate(group, &b, pb, &lb) == 0 && la == pub_len && lb == pub_len &&
                  pa[0] == 0x04 && pb[0] == 0x04);
  snprintf(name, sizeof(name), "%s derive agree", label);
  CHECK(name, mt_kex_derive(a, pb, lb, s1, &n1) == 0 && mt_kex_derive(b, pa, la, s2, &n2) == 0 &&
                  n1 == sec_len && n2 == sec_len && memcmp(s1, s2, sec_len) == 0);
  memcpy(bad, pb, lb);
  bad[lb - 1] ^= 0x01; /* y changed: off the curve */
  snprintf(name, sizeof(name), "%s off-curve point -> -1", label);
  CHECK(name, mt_kex_derive(a, bad, lb, s1, &n1) == -1);
  memset(bad + 1, 0, lb - 1);
  snprintf(name, sizeof(name), "%s zero point -> -1", label);
  CHECK(name, mt_kex_derive(a, bad, lb, s1, &n1) == -1);
  snprintf(name, sizeof(name), "%s wrong length -> -1", label);
  CHECK(name,
        mt_kex_derive(a, pb, lb - 1, s1, &n1) == -1 && mt_kex_derive(a, pb, 1, s1, &n1) == -1);
  memcpy(bad, pb, lb);
  bad[0] = 0x02;
  snprintf(name, sizeof(name), "%s compressed/hybrid prefix -> -1", label);
  CHECK(name, mt_kex_derive(a, bad, lb, s1, &n1) == -1);
  snprintf(name, sizeof(name), "%s x25519-sized share -> -1", label);
  CHECK(name, mt_kex_derive(a, pb, 32, s1, &n1) == -1);
  /* This thread's import context outlives the refusals above. */
  snprintf(name, sizeof(name), "%s a good share after refused ones", label);
  CHECK(name, mt_kex_derive(a, pb, lb, s1, &n1) == 0 && mt_kex_derive(b, pa, la, s2, &n2) == 0 &&
                  n1 == sec_len && n2 == sec_len && memcmp(s1, s2, sec_len) == 0);
  mt_kex_free(a);
  mt_kex_free(b);
}

/* Each thread generates and imports with contexts of its own: pairs made
 * on four threads at once agree, for every group, and no two keys repeat. */
static void *kex_thread(void *arg) {
  static const uint16_t groups[] = {MT_GROUP_X25519, MT_GROUP_SECP256R1, MT_GROUP_SECP384R1};
  int *ok = arg;
  uint8_t last[97] = {0};
  *ok = 1;
  for (int i = 0; i < 30 && *ok; i++) {
    mt_kex *a = NULL, *b = NULL;
    uint8_t pa[97], pb[97], s1[48], s2[48];
    size_t la = 0, lb = 0, n1 = 0, n2 = 0;
    uint16_t g = groups[i % 3];
    *ok = mt_kex_generate(g, &a, pa, &la) == 0 && mt_kex_generate(g, &b, pb, &lb) == 0 &&
          mt_kex_derive(a, pb, lb, s1, &n1) == 0 && mt_kex_derive(b, pa, la, s2, &n2) == 0 &&
          n1 == n2 && memcmp(s1, s2, n1) == 0 && memcmp(pa, pb, la) != 0 &&
          memcmp(pa, last, la) != 0;
    memcpy(last, pb, lb);
    mt_kex_free(a);
    mt_kex_free(b);
  }
  return NULL;
}

static void test_kex_threads(void) {
  pthread_t t[4];
  int ok[4] = {0};
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, kex_thread, &ok[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK("key exchange on 4 threads at once, every group", ok[0] && ok[1] && ok[2] && ok[3]);
}

static void test_nist_from_private(void) {
  /* Private scalar 1: the public key is the base point G of P-256. */
  uint8_t one[32] = {0}, pub[97], s1[48], s2[48];
  size_t len = 0, n1 = 0, n2 = 0;
  one[31] = 1;
  mt_kex *k = NULL, *g = NULL;
  CHECK("p256 from_private(1) = G",
        mt_kex_from_private(MT_GROUP_SECP256R1, one, 32, &k, pub, &len) == 0 && len == 65 &&
            eq_hex(pub, 65,
                   "04"
                   "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                   "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"));
  uint8_t gp[97];
  size_t gl = 0;
  /* d=1: the secret is the x coordinate of the peer's own public key. */
  CHECK("p256 from_private derive", k && mt_kex_generate(MT_GROUP_SECP256R1, &g, gp, &gl) == 0 &&
                                        mt_kex_derive(k, gp, gl, s1, &n1) == 0 &&
                                        mt_kex_derive(g, pub, len, s2, &n2) == 0 && n1 == 32 &&
                                        memcmp(s1, s2, 32) == 0 && memcmp(s1, gp + 1, 32) == 0);
  uint8_t zero[32] = {0};
  mt_kex *z = NULL;
  CHECK("p256 from_private(0) -> -1",
        mt_kex_from_private(MT_GROUP_SECP256R1, zero, 32, &z, pub, &len) == -1 && z == NULL);
  mt_kex_free(k);
  mt_kex_free(g);
}

/* ---- signatures ---------------------------------------------------------------- */

static const uint16_t all_schemes[] = {
    MT_SIG_ECDSA_SECP256R1_SHA256,
    MT_SIG_ECDSA_SECP384R1_SHA384,
    MT_SIG_RSA_PSS_RSAE_SHA256,
    MT_SIG_RSA_PSS_RSAE_SHA384,
    MT_SIG_RSA_PSS_RSAE_SHA512,
    MT_SIG_ED25519,
    0x0401 /* rsa_pkcs1_sha256: never in TLS 1.3 CertificateVerify */};
#define N_SCHEMES (sizeof(all_schemes) / sizeof(all_schemes[0]))

struct sig_key {
  const char *name;
  int fits[N_SCHEMES]; /* expected mt_pkey_supports, same order as all_schemes */
};

static const struct sig_key sig_keys[] = {
    {"p256", {1, 0, 0, 0, 0, 0, 0}},
    {"p384", {0, 1, 0, 0, 0, 0, 0}},
    {"rsa", {0, 0, 1, 1, 1, 0, 0}},
    {"ed25519", {0, 0, 0, 0, 0, 1, 0}},
};

static void test_signatures(void) {
  const uint8_t msg[] = "                                TLS 1.3, server CertificateVerify";
  for (size_t i = 0; i < sizeof(sig_keys) / sizeof(sig_keys[0]); i++) {
    const struct sig_key *sk = &sig_keys[i];
    char file[64], name[128];
    snprintf(file, sizeof(file), "%s.key", sk->name);
    mt_pkey *k = key(file);
    snprintf(file, sizeof(file), "%s.crt", sk->name);
    mt_chain *c = chain(file);
    snprintf(name, sizeof(name), "load %s key and cert", sk->name);
    CHECK(name, k != NULL && c != NULL && mt_chain_matches_key(c, k) == 1);
    if (k == NULL || c == NULL) {
      mt_pkey_free(k);
      mt_chain_free(c);
      continue;
    }
    int matrix_ok = 1, leaf_ok = 1;
    for (size_t j = 0; j < N_SCHEMES; j++) {
      if (mt_pkey_supports(k, all_schemes[j]) != sk->fits[j]) matrix_ok = 0;
      if (mt_chain_leaf_supports(c, all_schemes[j]) != sk->fits[j]) leaf_ok = 0;
    }
    snprintf(name, sizeof(name), "pkey_supports matrix %s", sk->name);
    CHECK(name, matrix_ok);
    snprintf(name, sizeof(name), "leaf_supports matrix %s", sk->name);
    CHECK(name, leaf_ok);
    for (size_t j = 0; j < N_SCHEMES; j++) {
      uint8_t sig[MT_MAX_SIGNATURE];
      size_t sig_len = sizeof(sig);
      uint16_t sch = all_schemes[j];
      if (!sk->fits[j]) {
        snprintf(name, sizeof(name), "%s sign 0x%04x -> -2, verify -> -2", sk->name, sch);
        CHECK(name, mt_sign(k, sch, msg, sizeof(msg), sig, &sig_len) == -2 &&
                        mt_chain_leaf_verify(c, sch, msg, sizeof(msg), sig, 64) == -2);
        continue;
      }
      int rs = mt_sign(k, sch, msg, sizeof(msg), sig, &sig_len);
      snprintf(name, sizeof(name), "%s 0x%04x sign/verify", sk->name, sch);
      CHECK(name, rs == 0 && mt_chain_leaf_verify(c, sch, msg, sizeof(msg), sig, sig_len) == 0);
      sig[sig_len / 2] ^= 0x10;
      snprintf(name, sizeof(name), "%s 0x%04x tampered signature -> -1", sk->name, sch);
      CHECK(name, mt_chain_leaf_verify(c, sch, msg, sizeof(msg), sig, sig_len) == -1);
      sig[sig_len / 2] ^= 0x10;
      snprintf(name, sizeof(name), "%s 0x%04x other message -> -1", sk->name, sch);
      CHECK(name, mt_chain_leaf_verify(c, sch, msg, sizeof(msg) - 1, sig, sig_len) == -1);
      size_t small = 8;
      snprintf(name, sizeof(name), "%s 0x%04x small buffer -> -1", sk->name, sch);
      CHECK(name, mt_sign(k, sch, msg, sizeof(msg), sig, &small) == -1);
    }
    mt_pkey_free(k);
    mt_chain_free(c);
  }

  /* RSA-PSS: the hash is part of the scheme; a SHA-256 signature is not a
   * SHA-384 one. */
  mt_pkey *rk = key("rsa.key");
  mt_chain *rc = chain("rsa.crt");
  uint8_t sig[MT_MAX_SIGNATURE];
  size_t sig_len = sizeof(sig);
  CHECK("rsa-pss sha256 sig does not verify as sha384",
        rk && rc && mt_sign(rk, MT_SIG_RSA_PSS_RSAE_SHA256, msg, sizeof(msg), sig, &sig_len) == 0 &&
            mt_chain_leaf_verify(rc, MT_SIG_RSA_PSS_RSAE_SHA384, msg, sizeof(msg), sig, sig_len) ==
                -1);
  /* Interop: the openssl CLI verifies ours with salt length = 32 exactly. */
  char cmd[1024], p[128];
  path_of(p, sizeof(p), "msg.bin");
  FILE *f = fopen(p, "wb");
  if (f) {
    fwrite(msg, 1, sizeof(msg), f);
    fclose(f);
  }
  path_of(p, sizeof(p), "pss.sig");
  f = fopen(p, "wb");
  if (f) {
    fwrite(sig, 1, sig_len, f);
    fclose(f);
  }
  snprintf(cmd, sizeof(cmd),
           "cd %s && openssl x509 -in rsa.crt -pubkey -noout > rsa.pub && openssl dgst -sha256 "
           "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 "
           "-verify rsa.pub -signature pss.sig msg.bin >/dev/null 2>&1",
           tmpdir);
  CHECK("rsa-pss sha256 verified by openssl dgst (salt 32, mgf1 sha256)", system(cmd) == 0);
  mt_pkey_free(rk);
  mt_chain_free(rc);

  mt_pkey *ek = key("p384.key");
  sig_len = sizeof(sig);
  if (ek && mt_sign(ek, MT_SIG_ECDSA_SECP384R1_SHA384, msg, sizeof(msg), sig, &sig_len) == 0) {
    path_of(p, sizeof(p), "ec.sig");
    f = fopen(p, "wb");
    if (f) {
      fwrite(sig, 1, sig_len, f);
      fclose(f);
    }
  }
  snprintf(cmd, sizeof(cmd),
           "cd %s && openssl x509 -in p384.crt -pubkey -noout > p384.pub && openssl dgst -sha384 "
           "-verify p384.pub -signature ec.sig msg.bin >/dev/null 2>&1",
           tmpdir);
  CHECK("ecdsa p384 DER signature verified by openssl dgst", ek && system(cmd) == 0);
  mt_pkey_free(ek);
  mt_pkey_free(NULL);
}

static void test_key_loading(void) {
  char p[128], err[512];
  mt_pkey *k;
  k = key("rsa_trad.key");
  CHECK("load traditional RSA key", k && mt_pkey_supports(k, MT_SIG_RSA_PSS_RSAE_SHA256));
  mt_pkey_free(k);
  k = key("p256_trad.key");
  CHECK("load traditional EC key", k && mt_pkey_supports(k, MT_SIG_ECDSA_SECP256R1_SHA256));
  mt_pkey_free(k);

  struct {
    const char *file, *want, *label;
  } bad[] = {
      {"p256_enc.key", "passphrase", "encrypted key refused, no prompt"},
      {"p521.key", "P-256 or P-384", "P-521 key refused"},
      {"rsa1024.key", "1024-bit", "RSA-1024 key refused"},
      {"server.crt", "certificate, not a private key", "certificate as key refused"},
      {"server.pub", "public key", "public key as key refused"},
      {"no-such.key", "No such file", "missing key file"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    path_of(p, sizeof(p), bad[i].file);
    err[0] = '\0';
    k = mt_pkey_load_file(p, err, sizeof(err));
    CHECKF(bad[i].label, k == NULL && strstr(err, bad[i].want) && strstr(err, p), "err=\"%s\"",
           err);
    mt_pkey_free(k);
  }
  const char *junk = "hello";
  k = mt_pkey_load_pem((const uint8_t *)junk, 5, err, sizeof(err));
  CHECKF("pem without PEM data", k == NULL && strstr(err, "no PEM"), "err=\"%s\"", err);

  /* From memory: the key file's bytes. */
  path_of(p, sizeof(p), "ed25519.key");
  FILE *f = fopen(p, "rb");
  uint8_t buf[4096];
  size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
  if (f) fclose(f);
  k = mt_pkey_load_pem(buf, n, err, sizeof(err));
  CHECK("load Ed25519 key from memory", k && mt_pkey_supports(k, MT_SIG_ED25519));
  mt_pkey_free(k);
}

/* ---- certificates ----------------------------------------------------------------- */

static void test_chain_info(void) {
  char s[512], err[256];
  mt_chain *c = chain("server_chain.pem");
  CHECK("chain load 2 certs", c && mt_chain_count(c) == 2);
  if (c == NULL) return;
  mt_chain_leaf_subject(c, s, sizeof(s));
  CHECKF("leaf subject", strcmp(s, "CN=api.internal,O=Test") == 0, "got \"%s\"", s);
  mt_chain_leaf_issuer(c, s, sizeof(s));
  CHECKF("leaf issuer", strcmp(s, "CN=Test Intermediate CA,O=Test") == 0, "got \"%s\"", s);
  mt_chain_leaf_sans(c, s, sizeof(s));
  CHECKF("leaf sans", strcmp(s, "DNS:api.internal, DNS:*.svc.internal, IP:127.0.0.1, IP:::1") == 0,
         "got \"%s\"", s);
  char small[8];
  mt_chain_leaf_sans(c, small, sizeof(small));
  CHECK("leaf sans truncated", strcmp(small, "DNS:api") == 0);
  char na[64], nb[64];
  mt_chain_leaf_not_after(c, na, sizeof(na));
  mt_chain_leaf_not_before(c, nb, sizeof(nb));
  CHECKF("leaf dates format",
         strlen(na) == 23 && strlen(nb) == 23 && strcmp(na + 19, " UTC") == 0 && na[4] == '-' &&
             na[13] == ':' && strcmp(nb, na) < 0,
         "notBefore \"%s\" notAfter \"%s\"", nb, na);

  /* Fingerprint vs the openssl CLI's. */
  uint8_t fp[32];
  char hex[65], cli[256] = "", want[65] = "", p[128];
  path_of(p, sizeof(p), "server.fp");
  FILE *f = fopen(p, "r");
  if (f && fgets(cli, sizeof(cli), f)) {
    size_t w = 0;
    for (const char *q = strchr(cli, '='); q && *q && w < 64; q++)
      if ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'F'))
        want[w++] = (char)(*q >= 'A' ? *q - 'A' + 'a' : *q);
    want[w] = '\0';
  }
  if (f) fclose(f);
  CHECK("leaf fingerprint = openssl x509 -fingerprint -sha256",
        mt_chain_leaf_fingerprint(c, fp) == 0 && (mt_hex(fp, 32, hex), strcmp(hex, want) == 0));

  /* Round trip through DER, as a peer's Certificate message carries it. */
  const uint8_t *ders[2];
  size_t lens[2];
  ders[0] = mt_chain_der(c, 0, &lens[0]);
  ders[1] = mt_chain_der(c, 1, &lens[1]);
  mt_chain *d = mt_chain_from_der(ders, lens, 2, err, sizeof(err));
  uint8_t fp2[32];
  CHECK("chain from der", d && mt_chain_count(d) == 2 && mt_chain_leaf_fingerprint(d, fp2) == 0 &&
                              memcmp(fp, fp2, 32) == 0);
  size_t l0 = 0;
  CHECK("chain der out of range", mt_chain_der(c, 2, &l0) == NULL && l0 == 0);
  mt_chain_free(d);

  uint8_t *plus = malloc(lens[0] + 1);
  memcpy(plus, ders[0], lens[0]);
  plus[lens[0]] = 0;
  const uint8_t *pp = plus;
  size_t pl = lens[0] + 1;
  d = mt_chain_from_der(&pp, &pl, 1, err, sizeof(err));
  CHECKF("der with trailing byte refused", d == NULL && strstr(err, "bytes after"), "err=\"%s\"",
         err);
  mt_chain_free(d);
  pl = lens[0] - 1;
  d = mt_chain_from_der(&pp, &pl, 1, err, sizeof(err));
  CHECKF("truncated der refused", d == NULL && strstr(err, "certificate 1"), "err=\"%s\"", err);
  mt_chain_free(d);
  free(plus);

  mt_pkey *sk = key("server.key"), *other = key("p256.key");
  CHECK("chain matches its key, not another",
        mt_chain_matches_key(c, sk) == 1 && mt_chain_matches_key(c, other) == 0);
  mt_pkey_free(sk);
  mt_pkey_free(other);
  mt_chain_free(c);
  mt_chain_free(NULL);

  path_of(p, sizeof(p), "server.key");
  c = mt_chain_load_file(p, err, sizeof(err));
  CHECKF("chain from a key file refused",
         c == NULL && strstr(err, "holds no certificate") && strstr(err, p), "err=\"%s\"", err);
  path_of(p, sizeof(p), "missing.pem");
  c = mt_chain_load_file(p, err, sizeof(err));
  CHECKF("chain file missing", c == NULL && strstr(err, p) && strstr(err, "No such file"),
         "err=\"%s\"", err);
}

static mt_trust *trust(const char *file) {
  char p[128], err[256] = "";
  path_of(p, sizeof(p), file);
  mt_trust *t = mt_trust_load_file(p, err, sizeof(err));
  if (t == NULL) printf("# loading trust %s: %s\n", file, err);
  return t;
}

/* One verification case: chain file, purpose, name, time offset, the code
 * expected and up to two substrings the sentence must contain. */
static void vcase(const char *label, mt_trust *t, const char *file, mt_purpose purpose,
                  const char *name, time_t now, mt_verify_code want, const char *s1,
                  const char *s2) {
  char why[512] = "";
  mt_chain *c = chain(file);
  int got = c ? (int)mt_verify_chain(t, c, purpose, name, now, why, sizeof(why)) : -1;
  CHECKF(label, got == (int)want && (!s1 || strstr(why, s1)) && (!s2 || strstr(why, s2)),
         "code %d (want %d), why=\"%s\"", (int)got, (int)want, why);
  if (got == (int)want && want != MT_VERIFY_OK) printf("# %s\n", why);
  mt_chain_free(c);
}

static void test_verify(void) {
  mt_trust *t = trust("trust.pem");
  CHECK("trust load", t != NULL);
  if (t == NULL) return;
  const mt_purpose S = MT_PURPOSE_SERVER, C = MT_PURPOSE_CLIENT;
  vcase("verify good chain + name", t, "server_chain.pem", S, "api.internal", 0, MT_VERIFY_OK, NULL,
        NULL);
  vcase("verify without name check", t, "server_chain.pem", S, NULL, 0, MT_VERIFY_OK, NULL, NULL);
  vcase("verify absolute name (trailing dot)", t, "server_chain.pem", S, "api.internal.", 0,
        MT_VERIFY_OK, NULL, NULL);
  vcase("verify name is case-insensitive", t, "server_chain.pem", S, "API.Internal", 0,
        MT_VERIFY_OK, NULL, NULL);
  vcase("verify wildcard", t, "server_chain.pem", S, "db.svc.internal", 0, MT_VERIFY_OK, NULL,
        NULL);
  vcase("verify wildcard one label only", t, "server_chain.pem", S, "a.db.svc.internal", 0,
        MT_VERIFY_NAME_MISMATCH, NULL, NULL);
  vcase("verify name mismatch", t, "server_chain.pem", S, "b.example", 0, MT_VERIFY_NAME_MISMATCH,
        "CN=api.internal,O=Test (DNS:api.internal, DNS:*.svc.internal",
        "does not match the name b.example");
  vcase("verify empty name", t, "server_chain.pem", S, "", 0, MT_VERIFY_NAME_MISMATCH, NULL, NULL);
  vcase("verify IPv4 SAN", t, "server_chain.pem", S, "127.0.0.1", 0, MT_VERIFY_OK, NULL, NULL);
  vcase("verify IPv6 SAN", t, "server_chain.pem", S, "::1", 0, MT_VERIFY_OK, NULL, NULL);
  vcase("verify IP not in SAN", t, "server_chain.pem", S, "10.0.0.1", 0, MT_VERIFY_NAME_MISMATCH,
        "10.0.0.1", "IP:127.0.0.1");
  vcase("verify CN fallback without SAN", t, "legacy_chain.pem", S, "legacy.internal", 0,
        MT_VERIFY_OK, NULL, NULL);
  vcase("verify no CN fallback with a SAN", t, "client_chain.pem", C, "billing.internal", 0,
        MT_VERIFY_NAME_MISMATCH, "URI:spiffe://example.org/billing", NULL);

  /* Time: at a chosen instant, and certificates dated in the past/future. */
  char na[64], why[512];
  mt_chain *c = chain("server_chain.pem");
  if (c) mt_chain_leaf_not_after(c, na, sizeof(na));
  int code =
      c ? (int)mt_verify_chain(t, c, S, "api.internal", time(NULL) + 60 * 86400, why, sizeof(why))
        : -1;
  CHECKF("verify at now after notAfter -> expired",
         code == MT_VERIFY_EXPIRED && strstr(why, na) && strstr(why, "CN=api.internal") &&
             strstr(why, "renew"),
         "code %d why=\"%s\"", (int)code, why);
  code = c ? (int)mt_verify_chain(t, c, S, "api.internal", time(NULL) - 3 * 86400, why, sizeof(why))
           : -1;
  CHECKF("verify at now before notBefore -> not yet valid",
         code == MT_VERIFY_NOT_YET_VALID && strstr(why, "not valid until"), "code %d why=\"%s\"",
         (int)code, why);
  mt_chain_free(c);
  vcase("verify expired cert", t, "expired_chain.pem", S, NULL, 0, MT_VERIFY_EXPIRED,
        "the certificate for CN=expired.internal expired on 2020-02-01 00:00:00 UTC", "renew it");
  vcase("verify not-yet-valid cert", t, "future_chain.pem", S, NULL, 0, MT_VERIFY_NOT_YET_VALID,
        "is not valid until 2090-01-01 00:00:00 UTC", "check the clock");

  /* Trust. */
  vcase("verify untrusted CA", t, "stranger.crt", S, NULL, 0, MT_VERIFY_UNTRUSTED,
        "issued by CN=Other Root CA", "not in the trust store");
  vcase("verify untrusted root sent by peer", t, "stranger_full.pem", S, NULL, 0,
        MT_VERIFY_UNTRUSTED, "issued by CN=Other Root CA", "add that CA to the trust file");
  vcase("verify missing intermediate", t, "server.crt", S, "api.internal", 0, MT_VERIFY_UNTRUSTED,
        "issued by CN=Test Intermediate CA,O=Test", "intermediate");
  vcase("verify self-signed leaf", t, "p256.crt", S, NULL, 0, MT_VERIFY_UNTRUSTED,
        "CN=sig-p256 is self-signed", NULL);

  /* Purpose (extended key usage). */
  vcase("verify clientAuth cert as server -> bad purpose", t, "client_chain.pem", S, NULL, 0,
        MT_VERIFY_BAD_PURPOSE, "not allowed for TLS server authentication", "serverAuth");
  vcase("verify clientAuth cert as client", t, "client_chain.pem", C, NULL, 0, MT_VERIFY_OK, NULL,
        NULL);
  vcase("verify serverAuth cert as client -> bad purpose", t, "server_chain.pem", C, NULL, 0,
        MT_VERIFY_BAD_PURPOSE, "CN=api.internal", "clientAuth");

  /* Too many certificates. */
  c = chain("server_chain.pem");
  if (c) {
    const uint8_t *ders[MT_MAX_CHAIN + 1];
    size_t lens[MT_MAX_CHAIN + 1];
    ders[0] = mt_chain_der(c, 0, &lens[0]);
    for (int i = 1; i <= MT_MAX_CHAIN; i++)
      ders[i] = mt_chain_der(c, 1, &lens[i]);
    char err[256];
    mt_chain *longc = mt_chain_from_der(ders, lens, MT_MAX_CHAIN + 1, err, sizeof(err));
    code = longc ? (int)mt_verify_chain(t, longc, S, NULL, 0, why, sizeof(why)) : -1;
    CHECKF("verify chain too long", code == MT_VERIFY_CHAIN_TOO_LONG, "code %d why=\"%s\"",
           (int)code, why);
    mt_chain_free(longc);
  }
  mt_chain_free(c);
  mt_trust_free(t);

  /* An intermediate alone in the trust file is an anchor. */
  t = trust("inter.crt");
  vcase("verify against a trusted intermediate", t, "server.crt", S, "api.internal", 0,
        MT_VERIFY_OK, NULL, NULL);
  mt_trust_free(t);
  mt_trust_free(NULL);

  char p[128], err[256];
  path_of(p, sizeof(p), "nope.pem");
  t = mt_trust_load_file(p, err, sizeof(err));
  CHECKF("trust file missing", t == NULL && strstr(err, p) && strstr(err, "No such file"),
         "err=\"%s\"", err);
  path_of(p, sizeof(p), "server.key");
  t = mt_trust_load_file(p, err, sizeof(err));
  CHECKF("trust file without certificates", t == NULL && strstr(err, "holds no certificate"),
         "err=\"%s\"", err);
}

/* ---- fixtures ------------------------------------------------------------------------ */

/* Keys and certificates made now by the openssl CLI. */
static const char gen_script[] =
    "set -e\n"
    "g() { openssl genpkey -algorithm \"$@\" 2>/dev/null; }\n"
    "g RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key\n"
    "g EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key\n"
    "g EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key\n"
    "g ED25519 -out ed25519.key\n"
    "g EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key\n"
    "g RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key\n"
    "openssl pkey -in rsa.key -traditional -out rsa_trad.key\n"
    "openssl pkey -in p256.key -traditional -out p256_trad.key\n"
    "openssl pkey -in p256.key -aes128 -passout pass:secret -out p256_enc.key\n"
    "for k in rsa p256 p384 ed25519; do\n"
    "  openssl req -new -x509 -key $k.key -subj /CN=sig-$k -days 2 -out $k.crt\n"
    "done\n"
    "cat > ext.cnf <<'X'\n"
    "[ca]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "authorityKeyIdentifier = keyid\n"
    "[server]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:api.internal,DNS:*.svc.internal,IP:127.0.0.1,IP:::1\n"
    "[client]\n"
    "basicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = clientAuth\n"
    "subjectAltName = URI:spiffe://example.org/billing,email:ops@example.org\n"
    "[nosan]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "X\n"
    "cat > ca.cnf <<'X'\n"
    "[ca]\n"
    "default_ca = d\n"
    "[d]\n"
    "database = index.txt\n"
    "new_certs_dir = .\n"
    "serial = serial\n"
    "default_md = sha256\n"
    "policy = p\n"
    "unique_subject = no\n"
    "email_in_dn = no\n"
    "[p]\n"
    "commonName = supplied\n"
    "organizationName = optional\n"
    "X\n"
    ": > index.txt; echo 1000 > serial\n"
    "csr() { g EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; "
    "openssl req -new -key $1.key -subj \"$2\" -out $1.csr; }\n"
    "csr root \"/O=Test/CN=Test Root CA\"\n"
    "openssl x509 -req -in root.csr -signkey root.key -days 3650 "
    "-extfile ext.cnf -extensions ca -out root.crt 2>/dev/null\n"
    "csr inter \"/O=Test/CN=Test Intermediate CA\"\n"
    "openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -set_serial 2 -days 3650 "
    "-extfile ext.cnf -extensions ca -out inter.crt 2>/dev/null\n"
    "leaf() { csr $1 \"$2\"; openssl x509 -req -in $1.csr -CA inter.crt -CAkey inter.key "
    "-set_serial $3 -days 30 -extfile ext.cnf -extensions $4 -out $1.crt 2>/dev/null; "
    "cat $1.crt inter.crt > $1_chain.pem; }\n"
    "leaf server \"/O=Test/CN=api.internal\" 10 server\n"
    "leaf client \"/O=Test/CN=billing.internal\" 11 client\n"
    "leaf legacy \"/CN=legacy.internal\" 12 nosan\n"
    "csr other \"/CN=Other Root CA\"\n"
    "openssl x509 -req -in other.csr -signkey other.key -days 3650 "
    "-extfile ext.cnf -extensions ca -out other.crt 2>/dev/null\n"
    "csr stranger \"/CN=stranger.internal\"\n"
    "openssl x509 -req -in stranger.csr -CA other.crt -CAkey other.key -set_serial 3 -days 30 "
    "-extfile ext.cnf -extensions server -out stranger.crt 2>/dev/null\n"
    "cat stranger.crt other.crt > stranger_full.pem\n"
    "dated() { csr $1 \"/CN=$1.internal\"; openssl ca -batch -config ca.cnf -cert inter.crt "
    "-keyfile inter.key -in $1.csr -out $1.crt -startdate $2 -enddate $3 -notext "
    "-extfile ext.cnf -extensions server 2>/dev/null; cat $1.crt inter.crt > $1_chain.pem; }\n"
    "dated expired 20200101000000Z 20200201000000Z\n"
    "dated future 20900101000000Z 20901231000000Z\n"
    "cp root.crt trust.pem\n"
    "openssl x509 -in server.crt -noout -fingerprint -sha256 > server.fp\n"
    "openssl pkey -in server.key -pubout -out server.pub\n";

static int make_fixtures(void) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/mutls-test-crypto-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  char script[128];
  path_of(script, sizeof(script), "gen.sh");
  FILE *f = fopen(script, "w");
  if (f == NULL) return -1;
  fputs(gen_script, f);
  fclose(f);
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "cd %s && sh gen.sh >gen.log 2>&1", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void remove_fixtures(void) {
  char cmd[256];
  if (strncmp(tmpdir, "/tmp/mutls-test-crypto-", 23) != 0) return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
}

int main(void) {
  CHECK("crypto_init", mt_crypto_init() == 0);
  test_random();
  test_random_fork();
  test_random_threads();
  test_hash();
  test_hmac();
  test_hkdf();
  test_hkdf_multi();
  test_threads();
  test_aead_kat();
  test_aead_roundtrip(MT_AES_128_GCM, "aes128gcm");
  test_aead_roundtrip(MT_AES_256_GCM, "aes256gcm");
  test_aead_roundtrip(MT_CHACHA20_POLY1305, "chacha20poly1305");
  test_x25519();
  test_nist(MT_GROUP_SECP256R1, 65, 32, "p256");
  test_nist(MT_GROUP_SECP384R1, 97, 48, "p384");
  test_nist_from_private();
  test_kex_threads();

  int fx = make_fixtures();
  CHECKF("fixtures (openssl CLI)", fx == 0, "see %s/gen.log", tmpdir);
  if (fx == 0) {
    test_signatures();
    test_key_loading();
    test_chain_info();
    test_verify();
  }
  if (check_exit() == 0)
    remove_fixtures();
  else
    printf("# fixtures kept in %s\n", tmpdir);
  return check_exit();
}
