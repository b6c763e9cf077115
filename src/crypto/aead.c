/* aead.c - AES-GCM and ChaCha20-Poly1305 record protection primitives.
 *
 * The context is keyed once (the key schedule runs once per traffic key);
 * each record only sets its nonce. */
#include "crypto/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

struct mt_aead {
  EVP_CIPHER_CTX *ctx;
  mt_aead_alg alg;
};

size_t mt_aead_key_len(mt_aead_alg alg) {
  switch (alg) {
  case MT_AES_128_GCM: return 16;
  case MT_AES_256_GCM: return 32;
  case MT_CHACHA20_POLY1305: return 32;
  }
  return 0;
}

static const EVP_CIPHER *cipher_of(mt_aead_alg alg) {
  switch (alg) {
  case MT_AES_128_GCM: return mt_algs_.aes128gcm;
  case MT_AES_256_GCM: return mt_algs_.aes256gcm;
  case MT_CHACHA20_POLY1305: return mt_algs_.chacha20poly1305;
  }
  return NULL;
}

mt_aead *mt_aead_new(mt_aead_alg alg, const uint8_t *key, int encrypt) {
  if (mt_crypto_init() != 0 || cipher_of(alg) == NULL || key == NULL) return NULL;
  mt_aead *a = calloc(1, sizeof(*a));
  if (a == NULL) return NULL;
  a->alg = alg;
  a->ctx = EVP_CIPHER_CTX_new();
  /* Both ciphers default to a 12-byte IV, which is what TLS 1.3 uses
   * (RFC 8446 5.3), so no IV-length parameter is needed. */
  if (a->ctx == NULL ||
      EVP_CipherInit_ex2(a->ctx, cipher_of(alg), key, NULL, encrypt ? 1 : 0, NULL) != 1 ||
      EVP_CIPHER_CTX_get_iv_length(a->ctx) != MT_AEAD_NONCE) {
    ERR_clear_error();
    mt_aead_free(a);
    return NULL;
  }
  return a;
}

int mt_aead_rekey(mt_aead *a, const uint8_t *key) {
  if (a == NULL || key == NULL) return -1;
  /* No cipher: the context's own; no IV: each record sets its nonce; -1:
   * the direction stays. */
  if (EVP_CipherInit_ex2(a->ctx, NULL, key, NULL, -1, NULL) != 1) {
    ERR_clear_error();
    return -1;
  }
  return 0;
}

/* Starts a record: nonce, direction, AAD. The key stays as set in _new. */
static int begin(mt_aead *a, const uint8_t *nonce, int enc, const uint8_t *aad, size_t aad_len) {
  int n;
  if (EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, enc, NULL) != 1) return -1;
  if (aad_len > (size_t)INT_MAX) return -1;
  if (aad_len && EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len) != 1) return -1;
  return 0;
}

int mt_aead_seal2(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE], const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t in_len, const uint8_t *tail,
                  size_t tail_len, uint8_t *out) {
  if (a == NULL || in_len > (size_t)INT_MAX - MT_AEAD_TAG ||
      tail_len > (size_t)INT_MAX - MT_AEAD_TAG - in_len)
    return -1;
  size_t total = in_len + tail_len;
  int n = 0, m = 0, fin = 0;
  OSSL_PARAM params[2];
  params[0] =
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + total, MT_AEAD_TAG);
  params[1] = OSSL_PARAM_construct_end();
  /* Both ciphers are stream-like here: an update may end mid-block and the
   * next one continues the keystream, so the two pieces seal as one. */
  if (begin(a, nonce, 1, aad, aad_len) != 0 ||
      (in_len && EVP_CipherUpdate(a->ctx, out, &n, in, (int)in_len) != 1) ||
      (tail_len && EVP_CipherUpdate(a->ctx, out + n, &m, tail, (int)tail_len) != 1) ||
      EVP_CipherFinal_ex(a->ctx, out + n + m, &fin) != 1 ||
      (size_t)n + (size_t)m + (size_t)fin != total || EVP_CIPHER_CTX_get_params(a->ctx, params) != 1) {
    ERR_clear_error();
    return -1;
  }
  return 0;
}

int mt_aead_seal(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE], const uint8_t *aad, size_t aad_len,
                 const uint8_t *in, size_t in_len, uint8_t *out) {
  return mt_aead_seal2(a, nonce, aad, aad_len, in, in_len, NULL, 0, out);
}

int mt_aead_open(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE], const uint8_t *aad, size_t aad_len,
                 const uint8_t *in, size_t in_len, uint8_t *out) {
  if (a == NULL || in_len < MT_AEAD_TAG || in_len > (size_t)INT_MAX) return -1;
  size_t ct_len = in_len - MT_AEAD_TAG;
  /* Copy the tag first: with out == in nothing overwrites it, but a caller
   * whose out overlaps differently must not corrupt it either. */
  uint8_t tag[MT_AEAD_TAG];
  memcpy(tag, in + ct_len, MT_AEAD_TAG);
  int n = 0, fin = 0;
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, MT_AEAD_TAG);
  params[1] = OSSL_PARAM_construct_end();
  int ok = begin(a, nonce, 0, aad, aad_len) == 0 &&
           (ct_len == 0 || EVP_CipherUpdate(a->ctx, out, &n, in, (int)ct_len) == 1) &&
           EVP_CIPHER_CTX_set_params(a->ctx, params) == 1 &&
           EVP_CipherFinal_ex(a->ctx, out + n, &fin) == 1 && (size_t)n + (size_t)fin == ct_len;
  if (!ok) {
    /* Never hand back unauthenticated plaintext. */
    if (ct_len) OPENSSL_cleanse(out, ct_len);
    ERR_clear_error();
    return -1;
  }
  return 0;
}

void mt_aead_free(mt_aead *a) {
  if (a == NULL) return;
  EVP_CIPHER_CTX_free(a->ctx); /* the providers cleanse their key schedules */
  OPENSSL_cleanse(a, sizeof(*a));
  free(a);
}
