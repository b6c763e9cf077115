/* peerparse.c - peers' certificates parsed without OpenSSL 3.0's decoder
 * search.
 *
 * d2i_X509 decodes a certificate's public key while it parses. On OpenSSL
 * 3.0 that goes through OSSL_DECODER_CTX_new_for_pkey, which looks at every
 * decoder and key manager of every provider in the library context before
 * it decodes anything: about 100 of the 120 us a P-256 certificate costs.
 * Decoding the key itself is about 15 us.
 *
 * So peers' certificates are parsed in a library context of our own, whose
 * one provider offers just what a TLS 1.3 peer certificate can need: the
 * default provider's key managers for EC, RSA, RSA-PSS, Ed25519 and Ed448,
 * its decoders from DER SubjectPublicKeyInfo to those keys, their signature
 * algorithms (a CertificateVerify is checked in this context, so the key
 * needs no copy into another), and SHA-1 and SHA-2 (libcrypto takes a
 * certificate's SHA-1 fingerprint while it caches the extensions). The
 * entries are the default provider's own, from
 * OSSL_PROVIDER_query_operation, and run with the default provider's
 * context: the same code decodes, checks and verifies; only the search is
 * shorter. A P-256 leaf parses in about 30 us.
 *
 * Handing one provider's context to the functions of another registration
 * is not a documented contract, so it is tested when mutls starts, not
 * assumed (self_test). If the test fails, if the default provider is not
 * running, or if the process runs the FIPS provider or asks for fips=yes
 * (this context would ignore both), certificates are parsed with plain
 * d2i_X509, as before. A key type this context lacks (DSA, say, which TLS
 * 1.3 cannot use) is parsed again the plain way, so what comes out is
 * always what d2i_X509 would give.
 *
 * The context, and the default provider reference it relies on, live until
 * the process exits, like the algorithms init.c fetches. */
#include "crypto/internal.h"

#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

/* By the first name the default provider gives each algorithm. */
static const char *const key_types[] = {"EC", "RSA", "RSA-PSS", "ED25519", "ED448", NULL};
static const char *const sig_algs[] = {"ECDSA", "RSA", "ED25519", "ED448", NULL};
static const char *const digests[] = {"SHA1", "SHA2-256", "SHA2-384", "SHA2-512", NULL};

static const struct {
  int op;
  const char *const *names;
} wanted[] = {
    {OSSL_OP_KEYMGMT, key_types},
    {OSSL_OP_DECODER, key_types}, /* DER SubjectPublicKeyInfo only: see keep() */
    {OSSL_OP_SIGNATURE, sig_algs},
    {OSSL_OP_DIGEST, digests},
};
#define N_OPS (sizeof wanted / sizeof wanted[0])
#define MAX_ALGS 32

static void *default_provctx;
/* What our provider offers, per operation; each list ends with a zeroed
 * entry. The entries point into the default provider, built into
 * libcrypto. */
static OSSL_ALGORITHM table[N_OPS][MAX_ALGS + 1];
static OSSL_LIB_CTX *peer_ctx; /* NULL: plain d2i_X509 */
static int test_plain;

static int first_name_in(const char *names, const char *const *list) {
  size_t n = strcspn(names, ":");
  for (; *list; list++)
    if (strlen(*list) == n && strncmp(names, *list, n) == 0) return 1;
  return 0;
}

static int keep(size_t op, const OSSL_ALGORITHM *a) {
  if (!first_name_in(a->algorithm_names, wanted[op].names)) return 0;
  if (wanted[op].op != OSSL_OP_DECODER) return 1;
  const char *p = a->property_definition ? a->property_definition : "";
  return strstr(p, "input=der") != NULL && strstr(p, "structure=SubjectPublicKeyInfo") != NULL;
}

/* The default provider's tables are static: the arrays are not given back
 * (OSSL_PROVIDER_unquery_operation) because the copies point into them. */
static int build_tables(OSSL_PROVIDER *deflt) {
  for (size_t i = 0; i < N_OPS; i++) {
    int no_cache = 0;
    size_t k = 0;
    const OSSL_ALGORITHM *a = OSSL_PROVIDER_query_operation(deflt, wanted[i].op, &no_cache);
    if (a == NULL || no_cache) return -1;
    for (; a->algorithm_names != NULL; a++) {
      if (!keep(i, a)) continue;
      if (k == MAX_ALGS) return -1;
      table[i][k++] = *a;
    }
    if (k == 0) return -1;
  }
  return 0;
}

static const OSSL_ALGORITHM *query(void *provctx, int op, int *no_cache) {
  *no_cache = 0;
  for (size_t i = 0; i < N_OPS; i++)
    if (wanted[i].op == op) return table[i];
  return NULL;
}

/* Our provider's context is the default provider's own, which its
 * functions expect; there is nothing of ours to tear down. */
static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                         const OSSL_DISPATCH **out, void **provctx) {
  static const OSSL_DISPATCH dispatch[] = {
      {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))query}, {0, NULL}};
  *out = dispatch;
  *provctx = default_provctx;
  return 1;
}

/* A self-signed P-256 certificate, DER (OPENSSL_free it); NULL on failure. */
static uint8_t *test_cert(EVP_PKEY *k, int *len) {
  X509 *x = X509_new();
  uint8_t *der = NULL;
  *len = -1;
  if (x && X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
      X509_gmtime_adj(X509_getm_notBefore(x), 0) && X509_gmtime_adj(X509_getm_notAfter(x), 60) &&
      X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                 (const unsigned char *)"mutls self-test", -1, -1, 0) &&
      X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_set_pubkey(x, k) &&
      X509_sign(x, k, EVP_sha256()) > 0)
    *len = i2d_X509(x, &der);
  X509_free(x);
  return *len > 0 ? der : NULL;
}

/* Parses der in ctx (NULL: the plain way); the whole of it, or NULL. */
static X509 *parse_in(OSSL_LIB_CTX *ctx, const uint8_t *der, int len) {
  const uint8_t *p = der;
  X509 *x = ctx ? X509_new_ex(ctx, NULL) : NULL;
  if (ctx && x == NULL) return NULL;
  x = d2i_X509(ctx ? &x : NULL, &p, len); /* frees x on failure */
  if (x != NULL && p != der + len) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* Both ways must give the same key, each key must check the signature
 * across the contexts, and a damaged signature must fail in ours. */
static int self_test(OSSL_LIB_CTX *ctx) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  int len = -1, ok = 0;
  uint8_t *der = k ? test_cert(k, &len) : NULL;
  X509 *plain = der ? parse_in(NULL, der, len) : NULL;
  X509 *ours = der ? parse_in(ctx, der, len) : NULL;
  if (plain && ours) {
    EVP_PKEY *pk = X509_get0_pubkey(ours);
    ok = pk != NULL && EVP_PKEY_eq(pk, X509_get0_pubkey(plain)) == 1 && EVP_PKEY_eq(pk, k) == 1 &&
         X509_verify(ours, pk) == 1 && X509_verify(ours, k) == 1 && X509_verify(plain, pk) == 1;
  }
  X509_free(ours);
  ours = NULL;
  if (ok) {
    der[len - 1] ^= 1; /* the signature's last byte */
    ours = parse_in(ctx, der, len);
    ok = ours != NULL && X509_verify(ours, X509_get0_pubkey(ours)) != 1;
  }
  X509_free(ours);
  X509_free(plain);
  OPENSSL_free(der);
  EVP_PKEY_free(k);
  ERR_clear_error();
  return ok ? 0 : -1;
}

void mt_peer_parse_init(void) {
  if (!OSSL_PROVIDER_available(NULL, "default") || OSSL_PROVIDER_available(NULL, "fips") ||
      EVP_default_properties_is_fips_enabled(NULL))
    return;
  /* A reference, so that the default provider outlives our use of it. */
  OSSL_PROVIDER *deflt = OSSL_PROVIDER_load(NULL, "default");
  OSSL_LIB_CTX *ctx = NULL;
  if (deflt != NULL && (default_provctx = OSSL_PROVIDER_get0_provider_ctx(deflt)) != NULL &&
      build_tables(deflt) == 0 && (ctx = OSSL_LIB_CTX_new()) != NULL &&
      OSSL_PROVIDER_add_builtin(ctx, "mutls-peer-certificates", provider_init) == 1 &&
      OSSL_PROVIDER_load(ctx, "mutls-peer-certificates") != NULL && self_test(ctx) == 0) {
    peer_ctx = ctx;
  } else {
    /* Nothing made here is used; what could not be undone stays unused. */
    OSSL_LIB_CTX_free(ctx);
    if (deflt != NULL) OSSL_PROVIDER_unload(deflt);
  }
  ERR_clear_error();
}

OSSL_LIB_CTX *mt_peer_libctx(void) {
  return test_plain ? NULL : peer_ctx;
}

int mt_peer_parse_fast(void) {
  return mt_crypto_init() == 0 && mt_peer_libctx() != NULL;
}

void mt_peer_parse_test_plain(int on) {
  test_plain = on;
}

X509 *mt_peer_d2i(const uint8_t **p, long len) {
  OSSL_LIB_CTX *ctx = mt_peer_libctx();
  const uint8_t *start = *p;
  if (ctx == NULL) return d2i_X509(NULL, p, len);
  X509 *x = X509_new_ex(ctx, NULL);
  if (x == NULL) return NULL;
  if (d2i_X509(&x, p, len) == NULL) return NULL; /* x was freed */
  if (X509_get0_pubkey(x) != NULL) return x;
  /* A key type our context does not carry, or a key that does not decode:
   * the plain parse gives what it always gave. */
  X509_free(x);
  ERR_clear_error();
  *p = start;
  return d2i_X509(NULL, p, len);
}
