/* test_keysched.c - HKDF-Expand-Label in batches (keysched.c): the values
 * RFC 8448 gives, the same bytes as one expansion at a time, the limits,
 * and many threads at once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "internal.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (; h[0] && h[1] && n < cap; h += 2) {
    while (*h == ' ') h++;
    unsigned v;
    if (sscanf(h, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
  }
  return n;
}

/* RFC 8448 section 3, "{server} derive write traffic keys for handshake
 * data". */
static const char s_hs_secret[] =
    "3031e9c2c26ecc154bc36826e87feeff8f4547df52596747b2dcabf92b18fb59";
static const char s_hs_key[] = "4d15c00e47317fe99c714f8ebd92c4d1";
static const char s_hs_iv[] = "18223084735f2f2d8588caaa";

static int traffic_keys_match(void) {
  uint8_t secret[32], key[16], iv[12], want_key[16], want_iv[12];
  unhex(s_hs_secret, secret, sizeof secret);
  unhex(s_hs_key, want_key, sizeof want_key);
  unhex(s_hs_iv, want_iv, sizeof want_iv);
  return mt_ks_traffic_keys(MT_SHA256, secret, key, sizeof key, iv) == 0 &&
         memcmp(key, want_key, 16) == 0 && memcmp(iv, want_iv, 12) == 0;
}

static void rfc8448(void) {
  CHECK("traffic key and iv of RFC 8448's server handshake secret", traffic_keys_match());
}

/* A batch gives each output what one mt_hkdf_expand_label call gives it. */
static void same_as_single(void) {
  const uint8_t ctx[48] = {1, 2, 3};
  for (int alg = MT_SHA256; alg <= MT_SHA384; alg++) {
    mt_hash_alg h = (mt_hash_alg)alg;
    size_t hl = mt_hash_len(h);
    uint8_t secret[MT_MAX_HASH] = {9, 8, 7}, one[4][96], many[4][96];
    const mt_label_out o[4] = {{"c hs traffic", ctx, hl, many[0], hl},
                               {"key", NULL, 0, many[1], 32},
                               {"iv", NULL, 0, many[2], 12},
                               {"exporter", ctx, 7, many[3], 96}};
    int ok = mt_hkdf_expand_labels(h, secret, o, 4) == 0;
    for (int i = 0; i < 4; i++)
      ok = ok && mt_hkdf_expand_label(h, secret, o[i].label, o[i].ctx, o[i].ctx_len, one[i],
                                      o[i].out_len) == 0 &&
           memcmp(one[i], many[i], o[i].out_len) == 0;
    CHECK(h == MT_SHA256 ? "four labels at once = one at a time (sha256)"
                         : "four labels at once = one at a time (sha384)",
          ok);
    uint8_t key[32], iv[12];
    CHECK(h == MT_SHA256 ? "traffic keys = \"key\" and \"iv\" one at a time (sha256)"
                         : "traffic keys = \"key\" and \"iv\" one at a time (sha384)",
          mt_ks_traffic_keys(h, secret, key, 32, iv) == 0 && memcmp(key, many[1], 32) == 0 &&
              memcmp(iv, many[2], 12) == 0);
  }
}

/* Inside a batch the HMAC state is cleared once, at its end: the values are
 * the same, nested batches end with the outermost, and nothing is left
 * pending after. */
static void batches(void) {
  uint8_t secret[32] = {5, 4, 3}, a[32], b[32], k1[16], k2[16], iv1[12], iv2[12];
  int ok = mt_derive_secret(MT_SHA256, secret, "c hs traffic", secret, a) == 0 &&
           mt_ks_traffic_keys(MT_SHA256, a, k1, 16, iv1) == 0;
  mt_hmac_batch_begin();
  mt_hmac_batch_begin();
  ok = ok && mt_derive_secret(MT_SHA256, secret, "c hs traffic", secret, b) == 0 &&
       mt_ks_traffic_keys(MT_SHA256, b, k2, 16, iv2) == 0;
  mt_hmac_batch_end();
  int inner_end = mt_hmac_batch_pending();
  mt_hmac_batch_end();
  CHECK("in a batch: the same secret and traffic keys as outside one",
        ok && memcmp(a, b, 32) == 0 && memcmp(k1, k2, 16) == 0 && memcmp(iv1, iv2, 12) == 0);
  CHECKF("in a batch: the inner end leaves the state to the outer one", inner_end == 2,
         "pending %d (want the outer batch and one dirty context)", inner_end);
  CHECKF("after the outermost end: nothing pending", mt_hmac_batch_pending() == 0, "pending %d",
         mt_hmac_batch_pending());
  mt_hmac_batch_end(); /* one too many: ignored */
  CHECK("an unmatched end changes nothing", mt_hmac_batch_pending() == 0);
}

static void limits(void) {
  uint8_t secret[32] = {0}, out[5][32];
  char label[300];
  memset(label, 'a', sizeof label - 1);
  label[sizeof label - 1] = 0;
  mt_label_out o[5];
  for (int i = 0; i < 5; i++) o[i] = (mt_label_out){"key", NULL, 0, out[i], 16};
  CHECK("no labels: refused", mt_hkdf_expand_labels(MT_SHA256, secret, o, 0) == -1);
  CHECK("more than MT_MAX_LABELS: refused",
        mt_hkdf_expand_labels(MT_SHA256, secret, o, MT_MAX_LABELS + 1) == -1);
  o[1].label = label; /* "tls13 " + label must fit in 255 bytes */
  CHECK("a label too long fails the whole batch",
        mt_hkdf_expand_labels(MT_SHA256, secret, o, 2) == -1);
}

static void *worker(void *arg) {
  int *ok = arg;
  *ok = 1;
  for (int i = 0; i < 300 && *ok; i++) *ok = traffic_keys_match();
  return NULL;
}

/* Each thread keys its own HMAC context. */
static void threads(void) {
  pthread_t t[4];
  int ok[4] = {0};
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, &ok[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK("batched expansions from 4 threads", ok[0] && ok[1] && ok[2] && ok[3]);
}

int main(void) {
  threads();
  rfc8448();
  same_as_single();
  batches();
  limits();
  return check_exit();
}
