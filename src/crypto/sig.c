/* sig.c - private keys, and signing/verifying with TLS 1.3 signature schemes
 * (RFC 8446 4.2.3): ECDSA P-256/P-384, RSA-PSS (rsaEncryption keys), Ed25519. */
#include "crypto/internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#define MT_RSA_MIN_BITS 2048
#define MT_RSA_MAX_BITS 8192 /* MT_MAX_SIGNATURE */

mt_key_kind mt_key_kind_of(const EVP_PKEY *pk) {
  if (pk == NULL) return MT_KEY_UNSUPPORTED;
  /* "RSA" is rsaEncryption only; RSASSA-PSS keys are "RSA-PSS" and fall
   * through: TLS 1.3's rsa_pss_pss_* schemes are not supported. */
  if (EVP_PKEY_is_a(pk, "RSA")) return MT_KEY_RSA;
  if (EVP_PKEY_is_a(pk, "ED25519")) return MT_KEY_ED25519;
  if (EVP_PKEY_is_a(pk, "EC")) {
    char name[80];
    size_t n = 0;
    if (EVP_PKEY_get_group_name(pk, name, sizeof(name), &n) != 1) return MT_KEY_UNSUPPORTED;
    int nid = OBJ_sn2nid(name);
    if (nid == NID_undef) nid = EC_curve_nist2nid(name);
    if (nid == NID_X9_62_prime256v1) return MT_KEY_P256;
    if (nid == NID_secp384r1) return MT_KEY_P384;
  }
  return MT_KEY_UNSUPPORTED;
}

int mt_kind_fits(mt_key_kind kind, uint16_t scheme) {
  switch (scheme) {
  /* RFC 8446 4.2.3: in TLS 1.3 the ECDSA curve is part of the scheme. */
  case MT_SIG_ECDSA_SECP256R1_SHA256: return kind == MT_KEY_P256;
  case MT_SIG_ECDSA_SECP384R1_SHA384: return kind == MT_KEY_P384;
  case MT_SIG_RSA_PSS_RSAE_SHA256:
  case MT_SIG_RSA_PSS_RSAE_SHA384:
  case MT_SIG_RSA_PSS_RSAE_SHA512: return kind == MT_KEY_RSA;
  case MT_SIG_ED25519: return kind == MT_KEY_ED25519;
  }
  return 0; /* rsa_pkcs1_* are forbidden in CertificateVerify; others unsupported */
}

static const EVP_MD *scheme_md(uint16_t scheme) {
  switch (scheme) {
  case MT_SIG_ECDSA_SECP256R1_SHA256:
  case MT_SIG_RSA_PSS_RSAE_SHA256: return mt_algs_.sha256;
  case MT_SIG_ECDSA_SECP384R1_SHA384:
  case MT_SIG_RSA_PSS_RSAE_SHA384: return mt_algs_.sha384;
  case MT_SIG_RSA_PSS_RSAE_SHA512: return mt_algs_.sha512;
  }
  return NULL; /* Ed25519 hashes internally */
}

static int is_pss(uint16_t scheme) {
  return scheme == MT_SIG_RSA_PSS_RSAE_SHA256 || scheme == MT_SIG_RSA_PSS_RSAE_SHA384 ||
         scheme == MT_SIG_RSA_PSS_RSAE_SHA512;
}

/* Prepares mc to sign (sign = 1) with our key, or verify with a peer's key
 * pk, under scheme. A peer's key is used in the library context its
 * certificate was parsed in (peerparse.c), where it needs no copy. */
static int sig_init(EVP_MD_CTX *mc, EVP_PKEY *pk, uint16_t scheme, int sign) {
  const EVP_MD *md = scheme_md(scheme);
  EVP_PKEY_CTX *pc = NULL;
  int r = sign ? EVP_DigestSignInit(mc, &pc, md, NULL, pk)
               : EVP_DigestVerifyInit_ex(mc, &pc, md ? EVP_MD_get0_name(md) : NULL,
                                         mt_peer_libctx(), NULL, pk, NULL);
  if (r != 1) return -1;
  /* RFC 8446 4.2.3: RSASSA-PSS with MGF1 over the same hash, and a salt as
   * long as the hash (on verify, this also rejects any other salt length). */
  if (is_pss(scheme) && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
                         EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                         EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1))
    return -1;
  return 0;
}

int mt_weak_keys_allowed;

void mt_crypto_test_allow_weak_keys(int on) { mt_weak_keys_allowed = on; }

int mt_crypto_weak_keys_allowed(void) { return mt_weak_keys_allowed != 0; }

/* A context that signs (sign = 1) with our key, or verifies with a peer's
 * key (in the context its certificate was parsed in, peerparse.c), a digest
 * of scheme's hash: what EVP_DigestSignInit / EVP_DigestVerifyInit set up for
 * every signature (the signature algorithm fetched, the key's context built,
 * padding and digest set), done once. */
static EVP_PKEY_CTX *prepared_ctx(EVP_PKEY *pk, uint16_t scheme, int sign) {
  const EVP_MD *md = scheme_md(scheme);
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(sign ? NULL : mt_peer_libctx(), pk, NULL);
  if (pc == NULL || (sign ? EVP_PKEY_sign_init(pc) : EVP_PKEY_verify_init(pc)) != 1 ||
      (is_pss(scheme) && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
                          EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                          EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1)) ||
      EVP_PKEY_CTX_set_signature_md(pc, md) != 1) {
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    return NULL;
  }
  return pc;
}

/* A context to check scheme's signatures with a peer's key pk: one this
 * thread made before for the same key, or a new one that it keeps. The
 * verified-chain cache hands every handshake of a client that reconnects
 * the same parsed key, so its CertificateVerify skips the set-up. Each
 * context holds a reference to its key, so no other key can take that
 * address while the context is kept; keys are public, nothing secret
 * stays. NULL if none can be made (the caller does without). */
static EVP_PKEY_CTX *peer_verify_ctx(EVP_PKEY *pk, uint16_t scheme) {
  struct mt_thread_state *t = mt_thread_state();
  if (t == NULL) return NULL;
  for (size_t i = 0; i < MT_VERIFY_SLOTS; i++)
    if (t->verify[i].key == pk && t->verify[i].scheme == scheme && t->verify[i].ctx != NULL)
      return t->verify[i].ctx;
  EVP_PKEY_CTX *pc = prepared_ctx(pk, scheme, 0);
  if (pc == NULL) return NULL;
  size_t i = t->verify_next++ % MT_VERIFY_SLOTS;
  EVP_PKEY_CTX_free(t->verify[i].ctx);
  t->verify[i].key = pk;
  t->verify[i].scheme = scheme;
  t->verify[i].ctx = pc;
  return pc;
}

/* scheme's signature sig over msg, checked with a kept context. */
static int verify_prepared(EVP_PKEY_CTX *pc, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                           const uint8_t *sig, size_t sig_len) {
  uint8_t dgst[EVP_MAX_MD_SIZE];
  unsigned dgst_len = 0;
  return EVP_Digest(msg, msg_len, dgst, &dgst_len, scheme_md(scheme), NULL) == 1 &&
                 EVP_PKEY_verify(pc, sig, sig_len, dgst, dgst_len) == 1
             ? 0
             : -1;
}

int mt_verify_with(EVP_PKEY *pk, mt_key_kind kind, uint16_t scheme, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len) {
  if (!mt_kind_fits(kind, scheme)) return -2;
  if (mt_crypto_init() != 0 || pk == NULL || sig == NULL || sig_len == 0) return -1;
  /* A peer's RSA key below 2048 bits proves nothing worth trusting. */
  if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) < 2048 &&
      !mt_weak_keys_allowed)
    return -1;
  /* Ed25519 signs the message itself: no digest, no kept context. */
  EVP_PKEY_CTX *pc = scheme_md(scheme) ? peer_verify_ctx(pk, scheme) : NULL;
  int ok;
  if (pc != NULL) {
    ok = verify_prepared(pc, scheme, msg, msg_len, sig, sig_len) == 0;
  } else {
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    ok = mc != NULL && sig_init(mc, pk, scheme, 0) == 0 &&
         EVP_DigestVerify(mc, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(mc);
  }
  if (!ok) ERR_clear_error();
  return ok ? 0 : -1;
}

/* ---- private keys -------------------------------------------------------- */

/* The schemes a key kind signs with, in the order of mt_pkey.prepared. */
static size_t kind_schemes(mt_key_kind kind, uint16_t out[MT_PKEY_SCHEMES]) {
  switch (kind) {
  case MT_KEY_P256: out[0] = MT_SIG_ECDSA_SECP256R1_SHA256; return 1;
  case MT_KEY_P384: out[0] = MT_SIG_ECDSA_SECP384R1_SHA384; return 1;
  case MT_KEY_RSA:
    out[0] = MT_SIG_RSA_PSS_RSAE_SHA256;
    out[1] = MT_SIG_RSA_PSS_RSAE_SHA384;
    out[2] = MT_SIG_RSA_PSS_RSAE_SHA512;
    return 3;
  default: return 0; /* Ed25519: no prehash, nothing to prepare */
  }
}


static void prepare_signing(mt_pkey *k) {
  uint16_t schemes[MT_PKEY_SCHEMES];
  size_t n = kind_schemes(k->kind, schemes);
  for (size_t i = 0; i < n; i++) k->prepared[i] = prepared_ctx(k->pkey, schemes[i], 1);
}

/* The prepared context for scheme, or NULL. */
static EVP_PKEY_CTX *prepared_for(const mt_pkey *k, uint16_t scheme) {
  uint16_t schemes[MT_PKEY_SCHEMES];
  size_t n = kind_schemes(k->kind, schemes);
  for (size_t i = 0; i < n; i++)
    if (schemes[i] == scheme) return k->prepared[i];
  return NULL;
}

/* Never prompt on a terminal for a passphrase: an encrypted key is an error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  return 0;
}

static int has(const uint8_t *p, size_t len, const char *s) {
  return memmem(p, len, s, strlen(s)) != NULL;
}

/* Why a PEM buffer held no usable private key, as the end of a sentence. */
static const char *why_no_key(const uint8_t *pem, size_t len) {
  if (!has(pem, len, "-----BEGIN "))
    return "holds no PEM data (expected -----BEGIN PRIVATE KEY-----)";
  if (has(pem, len, "ENCRYPTED"))
    return "is encrypted with a passphrase; decrypt it first (openssl pkey -in KEY -out "
           "PLAIN.key)";
  if (!has(pem, len, "PRIVATE KEY-----")) {
    if (has(pem, len, "-----BEGIN CERTIFICATE-----"))
      return "holds a certificate, not a private key; pass the key file";
    if (has(pem, len, "PUBLIC KEY-----")) return "holds a public key, not a private key";
    return "holds no PEM private key";
  }
  return "holds a private key that does not parse (corrupt, or an unknown algorithm)";
}

static const char *kind_problem(EVP_PKEY *pk) {
  if (EVP_PKEY_is_a(pk, "RSA-PSS"))
    return "holds an RSASSA-PSS key; TLS 1.3 here needs an rsaEncryption RSA key, "
           "EC P-256/P-384 or Ed25519";
  if (EVP_PKEY_is_a(pk, "EC"))
    return "holds an EC key on a curve other than P-256 or P-384 (or with explicit "
           "parameters); use P-256 or P-384";
  return "holds an unsupported key type; use RSA, EC P-256/P-384 or Ed25519";
}

static mt_pkey *load_pem(const char *label, const uint8_t *pem, size_t len, char *err,
                         size_t err_len) {
  if (mt_crypto_init() != 0) {
    mt_errf(err, err_len, "libcrypto lacks an algorithm mutls needs");
    return NULL;
  }
  if (pem == NULL || len > (size_t)INT32_MAX) {
    mt_errf(err, err_len, "%s is empty or too large", label);
    return NULL;
  }
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *pk =
      bio ? PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  ERR_clear_error();
  if (pk == NULL) {
    mt_errf(err, err_len, "%s %s", label, why_no_key(pem, len));
    return NULL;
  }
  mt_key_kind kind = mt_key_kind_of(pk);
  int bits = EVP_PKEY_get_bits(pk);
  mt_pkey *k = NULL;
  if (kind == MT_KEY_UNSUPPORTED)
    mt_errf(err, err_len, "%s %s", label, kind_problem(pk));
  else if (kind == MT_KEY_RSA && (bits < MT_RSA_MIN_BITS || bits > MT_RSA_MAX_BITS))
    mt_errf(err, err_len, "%s holds a %d-bit RSA key; use %d to %d bits", label, bits,
            MT_RSA_MIN_BITS, MT_RSA_MAX_BITS);
  else if ((k = calloc(1, sizeof(*k))) == NULL)
    mt_errf(err, err_len, "out of memory loading %s", label);
  if (k == NULL) {
    EVP_PKEY_free(pk);
    return NULL;
  }
  k->pkey = pk;
  k->kind = kind;
  prepare_signing(k);
  return k;
}

mt_pkey *mt_pkey_load_pem(const uint8_t *pem, size_t len, char *err, size_t err_len) {
  return load_pem("the private key PEM", pem, len, err, err_len);
}

mt_pkey *mt_pkey_load_file(const char *path, char *err, size_t err_len) {
  if (path == NULL) {
    mt_errf(err, err_len, "no key file was given");
    return NULL;
  }
  size_t len = 0;
  uint8_t *buf = mt_read_small_file("key file", path, &len, err, err_len);
  if (buf == NULL) return NULL;
  char label[512];
  snprintf(label, sizeof(label), "key file %s", path);
  mt_pkey *k = load_pem(label, buf, len, err, err_len);
  OPENSSL_cleanse(buf, len);
  free(buf);
  return k;
}

void mt_pkey_free(mt_pkey *k) {
  if (k == NULL) return;
  for (size_t i = 0; i < MT_PKEY_SCHEMES; i++) EVP_PKEY_CTX_free(k->prepared[i]);
  EVP_PKEY_free(k->pkey);
  free(k);
}

int mt_pkey_supports(const mt_pkey *k, uint16_t scheme) {
  return k != NULL && mt_kind_fits(k->kind, scheme);
}

/* sig_len: in = capacity, out = length. The buffer may fit the actual
 * (DER, variable) length without fitting the bound known in advance (max):
 * then sign into a scratch buffer. */
static int sign_into(EVP_PKEY_CTX *pc, const uint8_t *dgst, size_t dgst_len, size_t max,
                     uint8_t *sig, size_t *sig_len) {
  size_t n = *sig_len;
  if (max <= *sig_len) {
    if (EVP_PKEY_sign(pc, sig, &n, dgst, dgst_len) != 1) return -1;
  } else {
    uint8_t tmp[MT_MAX_SIGNATURE];
    n = sizeof tmp;
    if (max > sizeof tmp || EVP_PKEY_sign(pc, tmp, &n, dgst, dgst_len) != 1 || n > *sig_len)
      return -1;
    memcpy(sig, tmp, n);
  }
  *sig_len = n;
  return 0;
}

/* RFC 8446 4.4.3: ECDSA and RSA-PSS sign the scheme's hash of the content;
 * hashing it here with the digest fetched once and signing the digest with a
 * duplicate of the key's prepared context gives the signature that
 * EVP_DigestSign would, without fetching and building a context per call. */
static int sign_prepared(EVP_PKEY_CTX *prep, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                         uint8_t *sig, size_t *sig_len) {
  uint8_t dgst[EVP_MAX_MD_SIZE];
  unsigned dgst_len = 0;
  size_t max = 0;
  EVP_PKEY_CTX *pc = NULL;
  int rc = -1;
  if (EVP_Digest(msg, msg_len, dgst, &dgst_len, scheme_md(scheme), NULL) == 1 &&
      (pc = EVP_PKEY_CTX_dup(prep)) != NULL && EVP_PKEY_sign(pc, NULL, &max, dgst, dgst_len) == 1)
    rc = sign_into(pc, dgst, dgst_len, max, sig, sig_len);
  EVP_PKEY_CTX_free(pc);
  return rc;
}

/* Ed25519 (and any key without a prepared context): one-shot signing. */
static int sign_message(mt_pkey *k, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                        uint8_t *sig, size_t *sig_len) {
  EVP_MD_CTX *mc = EVP_MD_CTX_new();
  size_t max = 0, n = *sig_len;
  int ok = mc != NULL && sig_init(mc, k->pkey, scheme, 1) == 0 &&
           EVP_DigestSign(mc, NULL, &max, msg, msg_len) == 1;
  if (ok && max <= *sig_len) {
    ok = EVP_DigestSign(mc, sig, &n, msg, msg_len) == 1;
  } else if (ok) {
    uint8_t tmp[MT_MAX_SIGNATURE];
    n = sizeof tmp;
    ok = max <= sizeof tmp && EVP_DigestSign(mc, tmp, &n, msg, msg_len) == 1 && n <= *sig_len;
    if (ok) memcpy(sig, tmp, n);
  }
  EVP_MD_CTX_free(mc);
  if (ok) *sig_len = n;
  return ok ? 0 : -1;
}

int mt_sign(mt_pkey *k, uint16_t scheme, const uint8_t *msg, size_t msg_len, uint8_t *sig,
            size_t *sig_len) {
  if (k == NULL || sig == NULL || sig_len == NULL) return -1;
  if (!mt_kind_fits(k->kind, scheme)) return -2;
  if (mt_crypto_init() != 0) return -1;
  EVP_PKEY_CTX *prep = prepared_for(k, scheme);
  int rc = prep ? sign_prepared(prep, scheme, msg, msg_len, sig, sig_len)
                : sign_message(k, scheme, msg, msg_len, sig, sig_len);
  if (rc != 0) ERR_clear_error();
  return rc;
}
