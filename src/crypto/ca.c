/* ca.c - what the calls of mutls_ca.h share: outcomes, PEM in and out, key
 * generation, and the names of key types and CRL reasons. Certificates and
 * CRLs are made in ca_issue.c, read and checked in ca_inspect.c. */
#include "crypto/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

/* ---- outcomes ------------------------------------------------------------ */

int mt_ca_ok(mutls_ca_status *st) {
  if (st != NULL) {
    st->code = MUTLS_E_NONE;
    st->alert = -1;
    st->why[0] = '\0';
  }
  return MUTLS_OK;
}

int mt_ca_fail(mutls_ca_status *st, mutls_error code, const char *fmt, ...) {
  if (st == NULL) return MUTLS_ERR;
  st->code = code;
  st->alert = -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->why, sizeof(st->why), fmt, ap);
  va_end(ap);
  return MUTLS_ERR;
}

void mutls_ca_free(char *pem) {
  if (pem == NULL) return;
  OPENSSL_cleanse(pem, strlen(pem));
  free(pem);
}

/* ---- PEM in and out ---------------------------------------------------------- */

char *mt_ca_bio_text(BIO *bio) {
  char *p = NULL;
  long n = BIO_get_mem_data(bio, &p);
  char *out = n >= 0 && p != NULL ? malloc((size_t)n + 1) : NULL;
  if (out == NULL) return NULL;
  memcpy(out, p, (size_t)n);
  out[n] = '\0';
  return out;
}

X509 *mt_ca_read_cert(const char *pem, const char *what, mutls_ca_status *st) {
  char err[512] = "";
  if (pem == NULL) {
    mt_ca_fail(st, MUTLS_E_CONFIG, "no %s was given", what);
    return NULL;
  }
  /* Through the chain loader, for its sentences about corrupt PEM. */
  mt_chain *c = mt_chain_load_pem((const uint8_t *)pem, strlen(pem), err, sizeof(err));
  if (c == NULL) {
    mt_ca_fail(st, MUTLS_E_CERT_BAD, "cannot use the %s: %s", what, err);
    return NULL;
  }
  size_t len = 0;
  const unsigned char *der = mt_chain_der(c, 0, &len);
  X509 *x = der != NULL ? d2i_X509(NULL, &der, (long)len) : NULL;
  mt_chain_free(c);
  ERR_clear_error();
  if (x == NULL) mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory reading the %s", what);
  return x;
}

mt_pkey *mt_ca_read_key(const char *pem, const char *what, mutls_ca_status *st) {
  char err[512] = "";
  if (pem == NULL) {
    mt_ca_fail(st, MUTLS_E_CONFIG, "no %s was given", what);
    return NULL;
  }
  mt_pkey *k = mt_pkey_load_pem((const uint8_t *)pem, strlen(pem), err, sizeof(err));
  if (k == NULL) mt_ca_fail(st, MUTLS_E_CONFIG, "cannot use the %s: %s", what, err);
  return k;
}

/* ---- keys ------------------------------------------------------------------ */

static const struct {
  mutls_key_type type;
  const char *name;
} key_types[] = {
    {MUTLS_KEY_P256, "p256"},
    {MUTLS_KEY_P384, "p384"},
    {MUTLS_KEY_ED25519, "ed25519"},
    {MUTLS_KEY_RSA3072, "rsa3072"},
};

int mutls_ca_key_type_from_name(const char *name, mutls_key_type *type, mutls_ca_status *st) {
  for (size_t i = 0; name != NULL && i < sizeof(key_types) / sizeof(key_types[0]); i++) {
    if (strcasecmp(name, key_types[i].name) == 0) {
      if (type != NULL) *type = key_types[i].type;
      return mt_ca_ok(st);
    }
  }
  return mt_ca_fail(st, MUTLS_E_CONFIG,
                    "unknown key type \"%s\"; use p256, p384, ed25519 or rsa3072",
                    name ? name : "");
}

static const char *key_type_name(mutls_key_type type) {
  for (size_t i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
    if (key_types[i].type == type) return key_types[i].name;
  return NULL;
}

static EVP_PKEY *generate(mutls_key_type type) {
  switch (type) {
  case MUTLS_KEY_P256: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  case MUTLS_KEY_P384: return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  case MUTLS_KEY_ED25519: return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  case MUTLS_KEY_RSA3072: return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
  }
  return NULL;
}

int mutls_ca_generate_key(mutls_key_type type, char **key_pem, mutls_ca_status *st) {
  if (key_pem == NULL) return mt_ca_fail(st, MUTLS_E_CONFIG, "no place for the key was given");
  *key_pem = NULL;
  if (key_type_name(type) == NULL)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "unknown key type %d", (int)type);
  if (mt_crypto_init() != 0)
    return mt_ca_fail(st, MUTLS_E_INTERNAL, "libcrypto lacks an algorithm mutls needs");
  EVP_PKEY *pk = generate(type);
  /* secmem: a BIO that wipes what it held when freed, as key text should be. */
  BIO *bio = pk != NULL ? BIO_new(BIO_s_secmem()) : NULL;
  /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
  if (bio != NULL && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1)
    *key_pem = mt_ca_bio_text(bio);
  BIO_free(bio);
  EVP_PKEY_free(pk);
  ERR_clear_error();
  if (*key_pem == NULL)
    return mt_ca_fail(st, pk == NULL ? MUTLS_E_INTERNAL : MUTLS_E_NOMEM,
                      "could not generate a %s key (libcrypto failed or out of memory)",
                      key_type_name(type));
  return mt_ca_ok(st);
}

/* ---- CRL reasons (RFC 5280 5.3.1) --------------------------------------------- */

static const struct {
  mutls_crl_reason reason;
  const char *name;
} reasons[] = {
    {MUTLS_REASON_UNSPECIFIED, "unspecified"},
    {MUTLS_REASON_KEY_COMPROMISE, "keyCompromise"},
    {MUTLS_REASON_CA_COMPROMISE, "cACompromise"},
    {MUTLS_REASON_AFFILIATION_CHANGED, "affiliationChanged"},
    {MUTLS_REASON_SUPERSEDED, "superseded"},
    {MUTLS_REASON_CESSATION_OF_OPERATION, "cessationOfOperation"},
    {MUTLS_REASON_CERTIFICATE_HOLD, "certificateHold"},
    {MUTLS_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn"},
    {MUTLS_REASON_AA_COMPROMISE, "aACompromise"},
};

const char *mutls_ca_reason_name(mutls_crl_reason reason) {
  for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
    if (reasons[i].reason == reason) return reasons[i].name;
  return NULL;
}

int mutls_ca_reason_from_name(const char *name, mutls_crl_reason *reason, mutls_ca_status *st) {
  for (size_t i = 0; name != NULL && i < sizeof(reasons) / sizeof(reasons[0]); i++) {
    if (strcasecmp(name, reasons[i].name) == 0) {
      if (reason != NULL) *reason = reasons[i].reason;
      return mt_ca_ok(st);
    }
  }
  return mt_ca_fail(st, MUTLS_E_CONFIG,
                    "unknown revocation reason \"%s\"; use unspecified, keyCompromise, "
                    "cACompromise, affiliationChanged, superseded, cessationOfOperation, "
                    "certificateHold, privilegeWithdrawn or aACompromise",
                    name ? name : "");
}
