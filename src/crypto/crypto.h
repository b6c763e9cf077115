/*
 * crypto.h - the only door from mutls to libcrypto.
 *
 * Everything cryptographic that the protocol engine needs is declared here and
 * implemented in the .c files of src/crypto/, the only files allowed to include
 * <openssl/...>.  Types are opaque; every function that can fail returns 0 on
 * success and a negative value on failure (see each comment).
 *
 * Algorithm objects (EVP_MD, EVP_CIPHER, EVP_MAC, ...) are fetched once per
 * process by mt_crypto_init() and never per handshake.
 */
#ifndef MUTLS_CRYPTO_H
#define MUTLS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mutls.h"

/* Fetches algorithm objects once. Safe to call many times and from many
 * threads (pthread_once inside). Returns 0, or -1 if libcrypto lacks
 * something we need. */
int mt_crypto_init(void);

/* ---- randomness --------------------------------------------------------- */
int mt_random(uint8_t *out, size_t len); /* 0 or -1 */

/* ---- hashes, HMAC, HKDF ------------------------------------------------- */
typedef enum { MT_SHA256 = 0, MT_SHA384 = 1 } mt_hash_alg;
#define MT_MAX_HASH 48
size_t mt_hash_len(mt_hash_alg alg);

/* One-shot digest. out holds mt_hash_len(alg) bytes. */
int mt_hash(mt_hash_alg alg, const uint8_t *in, size_t len, uint8_t *out);

/* Incremental digest for the handshake transcript. */
typedef struct mt_hash_ctx mt_hash_ctx;
mt_hash_ctx *mt_hash_new(mt_hash_alg alg); /* NULL on failure */
int mt_hash_update(mt_hash_ctx *h, const uint8_t *in, size_t len);
/* Digest of everything so far, without ending the context. */
int mt_hash_peek(const mt_hash_ctx *h, uint8_t *out);
/* Digest of everything so far followed by extra, without changing the
 * context (PSK binders hash a transcript plus a partial ClientHello). */
int mt_hash_peek_with(const mt_hash_ctx *h, const uint8_t *extra, size_t len, uint8_t *out);
void mt_hash_free(mt_hash_ctx *h); /* NULL is fine */

int mt_hmac(mt_hash_alg alg, const uint8_t *key, size_t key_len,
            const uint8_t *in, size_t in_len, uint8_t *out);
/* RFC 5869. salt may be NULL with salt_len 0 (then a zero salt of hash length). */
int mt_hkdf_extract(mt_hash_alg alg, const uint8_t *salt, size_t salt_len,
                    const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
int mt_hkdf_expand(mt_hash_alg alg, const uint8_t *prk, size_t prk_len,
                   const uint8_t *info, size_t info_len, uint8_t *out,
                   size_t out_len);
/* Several HKDF-Expand outputs from one PRK, each exactly what
 * mt_hkdf_expand gives for its info and length, for the price of keying
 * HMAC once (the key schedule derives two or three values from most of its
 * secrets). On failure every output is wiped. */
typedef struct {
  const uint8_t *info;
  size_t info_len;
  uint8_t *out;
  size_t out_len;
} mt_hkdf_out;
int mt_hkdf_expand_multi(mt_hash_alg alg, const uint8_t *prk, size_t prk_len,
                         const mt_hkdf_out *outs, size_t n);
/* HKDF-Extract into prk (hash length), then mt_hkdf_expand_multi from it. */
int mt_hkdf(mt_hash_alg alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
            size_t ikm_len, uint8_t *prk, const mt_hkdf_out *outs, size_t n);
/* out = HMAC(HKDF-Expand(prk, info, hash length), in): the construction of
 * TLS 1.3's Finished and PSK binders; the key is never seen outside. */
int mt_hkdf_expand_hmac(mt_hash_alg alg, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                        size_t info_len, const uint8_t *in, size_t in_len, uint8_t *out);
/* Between these two (nested: the outermost pair counts), the HMAC calls
 * above leave their last key's state in this thread's context, and the end
 * clears it once, instead of after each call. A key schedule step is
 * several calls in a row; mutls_conn_recv runs its whole input as one
 * batch, so no key's state outlives the API call that used it. Every begin
 * must be matched by an end on the same thread. */
void mt_hmac_batch_begin(void);
void mt_hmac_batch_end(void);
/* Tests: this thread's open batches plus the contexts still holding a
 * key's state; 0 between API calls. */
int mt_hmac_batch_pending(void);

/* ---- AEAD ---------------------------------------------------------------- */
typedef enum {
  MT_AES_128_GCM = 0,
  MT_AES_256_GCM = 1,
  MT_CHACHA20_POLY1305 = 2
} mt_aead_alg;
#define MT_AEAD_TAG 16
#define MT_AEAD_NONCE 12
#define MT_MAX_AEAD_KEY 32
size_t mt_aead_key_len(mt_aead_alg alg);

/* A keyed AEAD context for one direction. The key is copied into libcrypto's
 * context; the caller wipes its copy. */
typedef struct mt_aead mt_aead;
mt_aead *mt_aead_new(mt_aead_alg alg, const uint8_t *key, int encrypt);
/* A new key for a (same algorithm, same direction): the context and its
 * fetched cipher are kept, the provider overwrites the key schedule. 0, or
 * -1 (then a is unusable: free it). */
int mt_aead_rekey(mt_aead *a, const uint8_t *key);
/* out receives in_len + MT_AEAD_TAG bytes; out may equal in. */
int mt_aead_seal(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE],
                 const uint8_t *aad, size_t aad_len, const uint8_t *in,
                 size_t in_len, uint8_t *out);
/* Seals in followed by tail (a record's content and its inner type byte)
 * as one plaintext, without gathering them first: out receives in_len +
 * tail_len + MT_AEAD_TAG bytes and may equal in, but tail must not lie in
 * out. */
int mt_aead_seal2(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE], const uint8_t *aad,
                  size_t aad_len, const uint8_t *in, size_t in_len, const uint8_t *tail,
                  size_t tail_len, uint8_t *out);
/* in holds ciphertext followed by the tag (in_len >= MT_AEAD_TAG); out
 * receives in_len - MT_AEAD_TAG bytes and may equal in. Returns -1 when the
 * tag does not verify. */
int mt_aead_open(mt_aead *a, const uint8_t nonce[MT_AEAD_NONCE],
                 const uint8_t *aad, size_t aad_len, const uint8_t *in,
                 size_t in_len, uint8_t *out);
void mt_aead_free(mt_aead *a); /* wipes key material; NULL is fine */

/* ---- key exchange (TLS NamedGroup code points) -------------------------- */
#define MT_GROUP_SECP256R1 0x0017
#define MT_GROUP_SECP384R1 0x0018
#define MT_GROUP_X25519 0x001d
#define MT_MAX_KEX_PUB 97    /* uncompressed P-384 point */
#define MT_MAX_KEX_SECRET 48 /* P-384 x coordinate */

typedef struct mt_kex mt_kex;
/* Generates an ephemeral key for group; writes the TLS key_share encoding
 * (raw 32 bytes for X25519, uncompressed point for NIST curves) to pub. */
int mt_kex_generate(uint16_t group, mt_kex **out, uint8_t *pub, size_t *pub_len);
/* Test hook (RFC 8448 vectors): builds the key from a given private scalar. */
int mt_kex_from_private(uint16_t group, const uint8_t *priv, size_t priv_len,
                        mt_kex **out, uint8_t *pub, size_t *pub_len);
/* Derives the shared secret from the peer's key_share. Returns -1 if the
 * peer's share is malformed or not on the curve (caller sends
 * illegal_parameter), -2 on any other failure. Rejects an all-zero X25519
 * result. */
int mt_kex_derive(mt_kex *k, const uint8_t *peer, size_t peer_len,
                  uint8_t *secret, size_t *secret_len);
void mt_kex_free(mt_kex *k);

/* ---- signatures (TLS SignatureScheme code points) ----------------------- */
#define MT_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define MT_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define MT_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define MT_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define MT_SIG_RSA_PSS_RSAE_SHA512 0x0806
#define MT_SIG_ED25519 0x0807
#define MT_MAX_SIGNATURE 1024 /* up to RSA-8192 */

typedef struct mt_pkey mt_pkey; /* a private key */
/* Loads a PEM private key (PKCS#8, traditional RSA/EC). On failure returns
 * NULL and writes one sentence to err. */
mt_pkey *mt_pkey_load_file(const char *path, char *err, size_t err_len);
mt_pkey *mt_pkey_load_pem(const uint8_t *pem, size_t len, char *err, size_t err_len);
void mt_pkey_free(mt_pkey *k);
/* 1 if the key can produce this scheme (right type, right curve), else 0. */
int mt_pkey_supports(const mt_pkey *k, uint16_t scheme);
/* sig_len: in = capacity, out = length. RSA-PSS uses salt = hash length. */
int mt_sign(mt_pkey *k, uint16_t scheme, const uint8_t *msg, size_t msg_len,
            uint8_t *sig, size_t *sig_len);

/* ---- certificates -------------------------------------------------------- */
#define MT_MAX_CHAIN 10

typedef struct mt_chain mt_chain; /* a certificate chain, leaf first */
/* Loads every certificate from a PEM file, leaf first. */
mt_chain *mt_chain_load_file(const char *path, char *err, size_t err_len);
mt_chain *mt_chain_load_pem(const uint8_t *pem, size_t len, char *err, size_t err_len);
/* Builds a chain from DER certificates received from a peer. Returns NULL
 * (and a sentence in err) if any certificate does not parse. */
mt_chain *mt_chain_from_der(const uint8_t *const *der, const size_t *der_len,
                            size_t n, char *err, size_t err_len);
void mt_chain_free(mt_chain *c);
/* Parsed certificates kept for reuse, keyed by the SHA-256 of their DER
 * (slots: the most it holds). Thread safe. */
typedef struct mt_certcache mt_certcache;
mt_certcache *mt_certcache_new(size_t slots);
void mt_certcache_free(mt_certcache *cc); /* NULL ok */
/* mt_chain_from_der, taking certificates already parsed from cc and
 * putting the ones it parses there. hash[i] is the SHA-256 of der[i]; cc
 * and hash may be NULL (then it is mt_chain_from_der). */
mt_chain *mt_chain_from_der_cached(mt_certcache *cc, const uint8_t (*hash)[32],
                                   const uint8_t *const *der, const size_t *der_len, size_t n,
                                   char *err, size_t err_len);
/* How many peer certificates this process has run through d2i_X509 (tests
 * and the benchmark count parses with it). */
unsigned long mt_x509_parse_count(void);
/* 1 if peers' certificates are parsed without OpenSSL 3.0's decoder search
 * (crypto/peerparse.c; its start-up test passed). Tests: with on, parse
 * the plain way until called with 0. */
int mt_peer_parse_fast(void);
void mt_peer_parse_test_plain(int on);
size_t mt_chain_count(const mt_chain *c);
/* DER of certificate i; valid as long as the chain. */
const uint8_t *mt_chain_der(const mt_chain *c, size_t i, size_t *len);
/* 1 if the private key belongs to the chain's leaf. */
int mt_chain_matches_key(const mt_chain *c, const mt_pkey *k);
/* 1 if the leaf's public key can verify this scheme. */
int mt_chain_leaf_supports(const mt_chain *c, uint16_t scheme);
/* Verifies sig over msg with the leaf's public key. 0 good, -1 bad
 * signature, -2 scheme does not match the key. */
int mt_chain_leaf_verify(const mt_chain *c, uint16_t scheme,
                         const uint8_t *msg, size_t msg_len,
                         const uint8_t *sig, size_t sig_len);
/* Text about the leaf, for logs and the API: written NUL-terminated,
 * truncated to fit. */
void mt_chain_leaf_subject(const mt_chain *c, char *out, size_t len); /* "CN=api,O=x" */
void mt_chain_leaf_issuer(const mt_chain *c, char *out, size_t len);
/* "DNS:a.example, IP:127.0.0.1, URI:spiffe://..." */
void mt_chain_leaf_sans(const mt_chain *c, char *out, size_t len);
/* notAfter / notBefore as "2026-11-20 12:00:00 UTC" */
void mt_chain_leaf_not_after(const mt_chain *c, char *out, size_t len);
void mt_chain_leaf_not_before(const mt_chain *c, char *out, size_t len);
/* SHA-256 of the leaf's DER, 32 bytes. */
int mt_chain_leaf_fingerprint(const mt_chain *c, uint8_t out[32]);

/* A set of trust anchors (an X509_STORE inside). */
typedef struct mt_trust mt_trust;
mt_trust *mt_trust_load_file(const char *path, char *err, size_t err_len);
void mt_trust_free(mt_trust *t);

/* ---- revocation (CRLs) ------------------------------------------------------ */
/* A set of CRLs loaded from PEM or DER files; immutable and reference
 * counted, so a new set can be swapped in while connections use the old. */
typedef struct mt_crls mt_crls;
/* Loads every CRL from each file (PEM with one or more CRLs, or one DER).
 * Returns NULL and a sentence naming the file on failure. Signatures are
 * checked at verification time, against the trust store in use. */
mt_crls *mt_crls_load_files(const char *const *paths, size_t n, char *err, size_t err_len);
mt_crls *mt_crls_ref(mt_crls *c);
void mt_crls_free(mt_crls *c); /* drops one reference; NULL ok */

typedef struct {
  const mt_crls *crls; /* NULL: no revocation checking */
  int whole_chain;     /* 0: the leaf only; 1: every certificate but the anchor */
  int soft_fail;       /* 1: a missing or stale CRL is accepted, not an error */
} mt_revocation;

/* Outcome of chain verification: a code, and one sentence that names the
 * cause with its specifics (dates, names) and, where one exists, the fix. */
typedef enum {
  MT_VERIFY_OK = 0,
  MT_VERIFY_UNTRUSTED,     /* no path to a trust anchor   -> unknown_ca */
  MT_VERIFY_EXPIRED,       /* a certificate's notAfter passed -> certificate_expired */
  MT_VERIFY_NOT_YET_VALID, /* notBefore in the future   -> certificate_expired */
  MT_VERIFY_NAME_MISMATCH, /* host name / IP not in the leaf -> bad_certificate */
  MT_VERIFY_BAD_PURPOSE,   /* EKU / key usage forbid this use -> unsupported_certificate */
  MT_VERIFY_BAD_SIGNATURE, /* a certificate's signature is wrong -> bad_certificate */
  MT_VERIFY_CHAIN_TOO_LONG,/* -> bad_certificate */
  MT_VERIFY_REVOKED,       /* listed in a CRL             -> certificate_revoked */
  MT_VERIFY_CRL_MISSING,   /* no CRL for an issuer that needs one -> certificate_unknown */
  MT_VERIFY_CRL_STALE,     /* the CRL's nextUpdate has passed -> certificate_unknown */
  MT_VERIFY_OTHER          /* anything else -> bad_certificate */
} mt_verify_code;

typedef enum { MT_PURPOSE_SERVER = 0, MT_PURPOSE_CLIENT = 1 } mt_purpose;

/* Verifies chain against trust at time `now` (0 = current time) for the
 * given purpose. If name is non-NULL it must match the leaf: an IPv4/IPv6
 * literal is checked against IP SANs, anything else against DNS SANs
 * (wildcards in the left-most label only), falling back to the CN only when
 * the leaf has no SAN at all. why receives one sentence. */
mt_verify_code mt_verify_chain(const mt_trust *trust, const mt_chain *chain,
                               mt_purpose purpose, const char *name,
                               time_t now, char *why, size_t why_len);
/* The same, with revocation checking as rev says (rev may be NULL). A
 * revoked certificate's sentence names it, its serial, the revocation date
 * and reason; a missing CRL names the issuer; a stale one its nextUpdate. */
mt_verify_code mt_verify_chain_rev(const mt_trust *trust, const mt_chain *chain,
                                   mt_purpose purpose, const char *name, time_t now,
                                   const mt_revocation *rev, char *why, size_t why_len);

/* What a successful verification established, for the verified-chain
 * cache: every certificate of the path it built (the anchor included) and
 * every CRL it was given is current from `from` up to, not including,
 * `until` (Unix time). valid is 0 when that could not be worked out (a date
 * that does not read): then the outcome is not to be reused. */
typedef struct {
  int valid;
  int64_t from, until;
} mt_verified;
/* mt_verify_chain_rev, also filling *verified (may be NULL) when the
 * outcome is MT_VERIFY_OK. */
mt_verify_code mt_verify_chain_window(const mt_trust *trust, const mt_chain *chain,
                                      mt_purpose purpose, const char *name, time_t now,
                                      const mt_revocation *rev, mt_verified *verified,
                                      char *why, size_t why_len);
/* 1 if name (a host name or an address literal; NULL: no name to check)
 * matches the leaf exactly as mt_verify_chain's name check would, else 0. */
int mt_chain_leaf_name_matches(const mt_chain *c, const char *name);
/* 1 while mt_crypto_test_allow_weak_keys is on: verification outcomes
 * reached under it must not be reused once it is off. */
int mt_crypto_weak_keys_allowed(void);

/* ---- identities (mutual TLS) ----------------------------------------------- */
/* Subject alternative names of the leaf, one kind at a time. */
typedef enum { MT_SAN_DNS = 1, MT_SAN_IP = 2, MT_SAN_URI = 3, MT_SAN_EMAIL = 4 } mt_san_type;
/* Writes the i-th SAN of that kind (NUL-terminated; IP as text, "127.0.0.1"
 * or "::1") and returns 0; -1 when there is no i-th one; -2 when it does
 * not fit in out (never truncated: callers stop, so rules match less, not
 * more). A SAN holding an embedded NUL or non-printable bytes is skipped. */
int mt_chain_leaf_san(const mt_chain *c, mt_san_type type, size_t i, char *out, size_t len);
/* The i-th value of a subject attribute of the leaf ("CN", "OU", "O"), as
 * UTF-8; 0, -1 if absent, -2 if it does not fit. Values that are not clean
 * UTF-8 or hold control characters are skipped. */
int mt_chain_leaf_attr(const mt_chain *c, const char *attr, size_t i, char *out, size_t len);
/* SHA-256 of the leaf's SubjectPublicKeyInfo (DER), for pinning. */
int mt_chain_leaf_spki_sha256(const mt_chain *c, uint8_t out[32]);
/* notBefore / notAfter of the leaf as Unix time. */
int mt_chain_leaf_validity(const mt_chain *c, int64_t *not_before, int64_t *not_after);
/* Certificate i as PEM text (NUL-terminated). Returns the length without
 * the NUL, or -1 if out is too small (then nothing useful was written). */
int mt_chain_pem(const mt_chain *c, size_t i, char *out, size_t len);
/* 1 if certificate i's issuer equals one of the DER-encoded names
 * (X509_NAME_cmp semantics), else 0. Used to pick the client identity that
 * a server's certificate_authorities list accepts: callers try every i. */
int mt_chain_issuer_in(const mt_chain *c, size_t i, const uint8_t *const *names,
                       const size_t *name_len, size_t n);
/* Issuer of certificate i as one line ("CN=Dev CA"). */
void mt_chain_issuer_text(const mt_chain *c, size_t i, char *out, size_t len);

/* Subjects of the trust anchors, DER-encoded, in file order: what a server
 * lists in certificate_authorities (RFC 8446 4.2.4). n_out receives the
 * count; the pointers live as long as the trust store. */
int mt_trust_subjects(const mt_trust *t, const uint8_t *const **names, const size_t **lens,
                      size_t *n_out);
/* A DER-encoded distinguished name as one line ("CN=Billing CA,O=x"); -1 if
 * it does not parse. */
int mt_name_text(const uint8_t *der, size_t len, char *out, size_t out_len);

/* The one mapping from a verification outcome to our error code and the
 * alert RFC 8446 6.2 names (handshake and `mutls cert check` share it). */
mutls_error mt_verify_code_error(mt_verify_code v, int *alert);

/* Test hook, for replaying RFC 8448 (whose keys are 1024-bit RSA): lets
 * peers use keys and signature hashes that verification refuses otherwise.
 * Nothing outside tests/ calls it. */
void mt_crypto_test_allow_weak_keys(int on);

#endif
