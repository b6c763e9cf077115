/* floor.c - the crypto floor: the operations a handshake or a record cannot
 * avoid, through libcrypto alone, with everything that can be prepared
 * beforehand prepared (keys parsed, contexts initialised, algorithms
 * fetched). A TLS library can approach these numbers, never beat them.
 *
 * Each operation runs in BLOCKS blocks of iters / BLOCKS, the operations
 * taking turns block by block, and its cost is the CPU time of all its
 * blocks over all its iterations: the same statistic as a library's run
 * (its CPU time over its handshakes or bytes). Taking the fastest block
 * instead would set the floor's luckiest stretch against each library's
 * whole run, and understate every fraction of the floor. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define BLOCKS 5

/* Iterations in each of the BLOCKS blocks. */
static long per_block(long iters) {
  return iters / BLOCKS > 0 ? iters / BLOCKS : 1;
}

/* Adds one block's share to the mean per-iteration cost in microseconds. */
static void add_block(double *mean_us, double t0, double t1, long n) {
  *mean_us += (t1 - t0) * 1e6 / (double)n / BLOCKS;
}

/* One X25519 exchange as one side sees it: a fresh key pair, its public half
 * taken out for the key_share, the peer's 32 bytes made into a key, the
 * shared secret derived. */
static int x25519_once(EVP_PKEY_CTX *gen, const uint8_t peer_pub[32]) {
  EVP_PKEY *ours = NULL, *peer = NULL;
  EVP_PKEY_CTX *d = NULL;
  uint8_t pub[32], secret[32];
  size_t pub_len = sizeof pub, secret_len = sizeof secret;
  int ok =
      EVP_PKEY_keygen(gen, &ours) == 1 && EVP_PKEY_get_raw_public_key(ours, pub, &pub_len) == 1 &&
      (peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, 32)) != NULL &&
      (d = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL)) != NULL && EVP_PKEY_derive_init(d) == 1 &&
      EVP_PKEY_derive_set_peer(d, peer) == 1 && EVP_PKEY_derive(d, secret, &secret_len) == 1;
  EVP_PKEY_CTX_free(d);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(ours);
  return ok ? 0 : -1;
}

int bench_floor_pk_measure(long iters, bench_floor_pk *out) {
  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
  EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
  EVP_PKEY_CTX *sc = ec ? EVP_PKEY_CTX_new_from_pkey(NULL, ec, NULL) : NULL;
  EVP_PKEY_CTX *vc = ec ? EVP_PKEY_CTX_new_from_pkey(NULL, ec, NULL) : NULL;
  uint8_t peer_pub[32], digest[32], sig[80];
  size_t peer_len = sizeof peer_pub, sig_len = sizeof sig;
  int rc = -1;
  /* The digest of a CertificateVerify's content; its value does not matter. */
  RAND_bytes(digest, sizeof digest);
  if (!peer || !gen || !sc || !vc || EVP_PKEY_get_raw_public_key(peer, peer_pub, &peer_len) != 1 ||
      EVP_PKEY_keygen_init(gen) != 1 || EVP_PKEY_sign_init(sc) != 1 ||
      EVP_PKEY_CTX_set_signature_md(sc, EVP_sha256()) != 1 || EVP_PKEY_verify_init(vc) != 1 ||
      EVP_PKEY_CTX_set_signature_md(vc, EVP_sha256()) != 1 ||
      EVP_PKEY_sign(sc, sig, &sig_len, digest, sizeof digest) != 1) {
    bench_fail("floor: libcrypto setup failed");
    goto done;
  }
  long n = per_block(iters);
  memset(out, 0, sizeof *out);
  for (int b = 0; b < BLOCKS; b++) {
    double t0 = bench_thread_cpu();
    for (long i = 0; i < n; i++)
      if (x25519_once(gen, peer_pub) != 0) {
        bench_fail("floor: X25519 failed");
        goto done;
      }
    double t1 = bench_thread_cpu();
    for (long i = 0; i < n; i++) {
      size_t len = sizeof sig;
      if (EVP_PKEY_sign(sc, sig, &len, digest, sizeof digest) != 1) {
        bench_fail("floor: ECDSA sign failed");
        goto done;
      }
      sig_len = len;
    }
    double t2 = bench_thread_cpu();
    for (long i = 0; i < n; i++)
      if (EVP_PKEY_verify(vc, sig, sig_len, digest, sizeof digest) != 1) {
        bench_fail("floor: ECDSA verify failed");
        goto done;
      }
    double t3 = bench_thread_cpu();
    add_block(&out->kex_us, t0, t1, n);
    add_block(&out->sign_us, t1, t2, n);
    add_block(&out->verify_us, t2, t3, n);
  }
  rc = 0;
done:
  EVP_PKEY_CTX_free(vc);
  EVP_PKEY_CTX_free(sc);
  EVP_PKEY_CTX_free(gen);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(ec);
  return rc;
}

/* Seals (in place) or opens one record: a fresh nonce, the 5-byte header as
 * additional data, the body, the 16-byte tag. */
static int seal(EVP_CIPHER_CTX *e, const uint8_t *nonce, const uint8_t *aad, uint8_t *buf,
                size_t len, uint8_t *tag) {
  int n = 0, f = 0;
  return EVP_EncryptInit_ex2(e, NULL, NULL, nonce, NULL) == 1 &&
                 EVP_EncryptUpdate(e, NULL, &n, aad, 5) == 1 &&
                 EVP_EncryptUpdate(e, buf, &n, buf, (int)len) == 1 &&
                 EVP_EncryptFinal_ex(e, buf + n, &f) == 1 &&
                 EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1
             ? 0
             : -1;
}

static int open_(EVP_CIPHER_CTX *d, const uint8_t *nonce, const uint8_t *aad, const uint8_t *ct,
                 size_t len, uint8_t *tag, uint8_t *pt) {
  int n = 0, f = 0;
  return EVP_DecryptInit_ex2(d, NULL, NULL, nonce, NULL) == 1 &&
                 EVP_DecryptUpdate(d, NULL, &n, aad, 5) == 1 &&
                 EVP_DecryptUpdate(d, pt, &n, ct, (int)len) == 1 &&
                 EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 &&
                 EVP_DecryptFinal_ex(d, pt + n, &f) == 1
             ? 0
             : -1;
}

int bench_floor_aead_measure(bench_suite suite, size_t len, long iters, double *seal_us,
                             double *open_us) {
  EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, bench_suite_evp[suite], NULL);
  EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new(), *d = EVP_CIPHER_CTX_new();
  uint8_t key[32], nonce[12] = {0}, aad[5] = {23, 3, 3, 0, 0}, tag[16], ct_tag[16];
  uint8_t *buf = malloc(len), *ct = malloc(len), *pt = malloc(len);
  int rc = -1;
  RAND_bytes(key, sizeof key);
  if (!c || !e || !d || !buf || !ct || !pt || EVP_EncryptInit_ex2(e, c, key, NULL, NULL) != 1 ||
      EVP_DecryptInit_ex2(d, c, key, NULL, NULL) != 1) {
    bench_fail("floor: %s setup failed", bench_suite_evp[suite]);
    goto done;
  }
  memset(buf, 0x5a, len);
  /* A record to open again and again (into another buffer, so that it stays
   * intact). */
  memcpy(ct, buf, len);
  if (seal(e, nonce, aad, ct, len, ct_tag) != 0) goto done;
  long n = per_block(iters);
  *seal_us = *open_us = 0;
  for (int b = 0; b < BLOCKS; b++) {
    double t0 = bench_thread_cpu();
    for (long i = 0; i < n; i++) {
      nonce[11] = (uint8_t)(i + 1);
      nonce[10] = (uint8_t)((i + 1) >> 8);
      if (seal(e, nonce, aad, buf, len, tag) != 0) {
        bench_fail("floor: %s seal failed", bench_suite_evp[suite]);
        goto done;
      }
    }
    double t1 = bench_thread_cpu();
    nonce[10] = nonce[11] = 0;
    for (long i = 0; i < n; i++)
      if (open_(d, nonce, aad, ct, len, ct_tag, pt) != 0) {
        bench_fail("floor: %s open failed", bench_suite_evp[suite]);
        goto done;
      }
    double t2 = bench_thread_cpu();
    add_block(seal_us, t0, t1, n);
    add_block(open_us, t1, t2, n);
  }
  rc = 0;
done:
  free(buf);
  free(ct);
  free(pt);
  EVP_CIPHER_CTX_free(e);
  EVP_CIPHER_CTX_free(d);
  EVP_CIPHER_free(c);
  return rc;
}

/* Parses der, and with store also verifies it as a TLS client's
 * certificate; 0 if all went well. */
static int parse_verify(X509_STORE *store, const uint8_t *der, long len) {
  const uint8_t *p = der;
  X509 *x = d2i_X509(NULL, &p, len);
  X509_STORE_CTX *v = NULL;
  int ok = x != NULL;
  if (ok && store)
    ok = (v = X509_STORE_CTX_new()) != NULL && X509_STORE_CTX_init(v, store, x, NULL) == 1 &&
         X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_CLIENT) == 1 && X509_verify_cert(v) == 1;
  X509_STORE_CTX_free(v);
  X509_free(x);
  return ok ? 0 : -1;
}

int bench_floor_cert_measure(const bench_certs *k, long iters, bench_floor_cert *out) {
  X509_STORE *store = X509_STORE_new();
  BIO *bio = BIO_new_file(k->client_cert, "r");
  X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  uint8_t *der = NULL;
  int len = leaf ? i2d_X509(leaf, &der) : -1;
  int rc = -1;
  if (store && len > 0 && X509_STORE_load_file(store, k->ca) == 1) rc = 0;
  memset(out, 0, sizeof *out);
  /* Parsing alone, then parsing and verifying: the difference is the
   * verification, without a clock read per certificate. */
  for (int b = 0, n = (int)per_block(iters); b < BLOCKS && rc == 0; b++) {
    double t0 = bench_thread_cpu();
    for (long i = 0; i < n && rc == 0; i++) rc = parse_verify(NULL, der, len);
    double t1 = bench_thread_cpu();
    for (long i = 0; i < n && rc == 0; i++) rc = parse_verify(store, der, len);
    double t2 = bench_thread_cpu();
    add_block(&out->parse_us, t0, t1, n);
    add_block(&out->verify_us, t1 - t0, t2 - t1, n); /* (parse + verify) - parse */
  }
  if (rc != 0) bench_fail("floor: cannot parse and verify %s against %s", k->client_cert, k->ca);
  OPENSSL_free(der);
  X509_free(leaf);
  BIO_free(bio);
  X509_STORE_free(store);
  return rc;
}
