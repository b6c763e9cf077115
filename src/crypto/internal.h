/*
 * internal.h - shared by the .c files of src/crypto/ only: the algorithm objects fetched
 * once by mt_crypto_init(), key classification, and small helpers. Nothing
 * outside src/crypto/ may include this file (it pulls in <openssl/...>).
 */
#ifndef MUTLS_CRYPTO_INTERNAL_H
#define MUTLS_CRYPTO_INTERNAL_H

#include "crypto/crypto.h"

#include <stdarg.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Fetched once, read-only afterwards; valid after mt_crypto_init() == 0. */
struct mt_algs {
  EVP_MD *sha256, *sha384, *sha512;
  EVP_CIPHER *aes128gcm, *aes256gcm, *chacha20poly1305;
  EVP_MAC *hmac;
  /* An un-keyed HMAC context per hash, digest already set: a call dups it
   * and keys the copy, so no call looks a digest up by name. */
  EVP_MAC_CTX *hmac_tmpl[2];
};
extern struct mt_algs mt_algs_;

const EVP_MD *mt_md_of(mt_hash_alg alg); /* NULL for an unknown alg */

/* What each thread keeps for itself so that no call builds it again: made
 * on first use, freed with everything it holds when the thread exits.
 * Nothing in it is shared, so nothing in it needs a lock; nothing in it
 * holds a secret between API calls (hash.c clears its HMAC contexts after
 * each use, or at the end of the batch around the uses; the key-exchange
 * contexts hold algorithms and parameters only; the CertificateVerify
 * contexts, peers' public keys only; the random pool serves small, public
 * values only, and is wiped with it). */
#define MT_KEX_GROUPS 3 /* kex.c's table of groups */
#define MT_RAND_POOL 256
#define MT_VERIFY_SLOTS 4
struct mt_thread_state {
  EVP_MAC_CTX *hmac[2];                 /* by mt_hash_alg (hash.c) */
  /* Inside mt_hmac_batch_begin/_end: how deep, and which contexts still
   * hold a key's state, to be cleared when the outermost batch ends. */
  unsigned hmac_batch;
  uint8_t hmac_dirty[2];
  EVP_PKEY_CTX *keygen[MT_KEX_GROUPS];  /* keygen_init done, group set (kex.c) */
  EVP_PKEY_CTX *peer_import[MT_KEX_GROUPS]; /* fromdata_init done (kex.c) */
  /* Contexts that checked a peer's CertificateVerify, kept for the next
   * check with the same key (sig.c); taken in turn when a new key comes. */
  struct {
    const EVP_PKEY *key;
    uint16_t scheme;
    EVP_PKEY_CTX *ctx; /* verify_init done, digest and padding set */
  } verify[MT_VERIFY_SLOTS];
  unsigned verify_next;
  /* Random bytes not handed out yet (init.c, mt_random): the first
   * rand_left bytes of rand_pool, drawn in the process generation
   * rand_gen. */
  uint8_t rand_pool[MT_RAND_POOL];
  size_t rand_left;
  unsigned long rand_gen;
};
/* This thread's state; NULL only if it cannot be made (out of memory). */
struct mt_thread_state *mt_thread_state(void);

/* Peers' certificates (peerparse.c): parsed in a library context that
 * skips OpenSSL 3.0's decoder search, when the start-up test allows. */
void mt_peer_parse_init(void); /* once, from mt_crypto_init */
/* The context peers' certificates are parsed in, and their keys used in;
 * NULL when they are parsed the plain way. */
OSSL_LIB_CTX *mt_peer_libctx(void);
/* d2i_X509 of a peer's certificate: the same result, sooner. */
X509 *mt_peer_d2i(const uint8_t **p, long len);

/* What a key can do in TLS 1.3, decided once when the key is loaded. */
typedef enum {
  MT_KEY_UNSUPPORTED = 0,
  MT_KEY_RSA,  /* rsaEncryption: rsa_pss_rsae_* */
  MT_KEY_P256, /* ecdsa_secp256r1_sha256 */
  MT_KEY_P384, /* ecdsa_secp384r1_sha384 */
  MT_KEY_ED25519
} mt_key_kind;

mt_key_kind mt_key_kind_of(const EVP_PKEY *pk);
/* 1 if a key of this kind signs/verifies scheme (TLS 1.3 rules). */
int mt_kind_fits(mt_key_kind kind, uint16_t scheme);
/* 0 good, -1 bad signature, -2 scheme does not fit the key. */
extern int mt_weak_keys_allowed;
int mt_verify_with(EVP_PKEY *pk, mt_key_kind kind, uint16_t scheme, const uint8_t *msg,
                   size_t msg_len, const uint8_t *sig, size_t sig_len);

/* Signature schemes one key kind can produce: at most three (RSA-PSS with
 * SHA-256, -384, -512). */
#define MT_PKEY_SCHEMES 3

struct mt_pkey {
  EVP_PKEY *pkey;
  mt_key_kind kind;
  /* Signing contexts made when the key is loaded, one per scheme it can
   * produce (sig.c: sign_init done, padding and digest set). Read-only:
   * every signature signs with a duplicate, so threads that share the key
   * write nothing they share. NULL for Ed25519, which signs the message
   * itself, and wherever one could not be made (mt_sign then does without). */
  EVP_PKEY_CTX *prepared[MT_PKEY_SCHEMES];
};

/* The CRLs of a set (crl.c), for X509_STORE_CTX_set0_crls; owned by the
 * set and never changed after load. NULL for a NULL set. */
STACK_OF(X509_CRL) * mt_crls_stack(const mt_crls *c);

/* Reads a whole (small) file into a malloc'd buffer. On failure writes a
 * sentence naming what (e.g. "key file") and the path. */
uint8_t *mt_read_small_file(const char *what, const char *path, size_t *len, char *err,
                            size_t err_len);
/* snprintf into err when err is non-NULL. */
void mt_errf(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- the CA calls of mutls_ca.h (ca.c, ca_issue.c, ca_inspect.c) ---------- */
#include "mutls_ca.h"

/* The error code and TLS alert a handshake gives for a verification
 * outcome: the one table (ca_inspect.c), used by mutls_ca_check.
 * src/handshake.c's verify_failure keeps a copy for now; it should call this
 * once the declaration moves to crypto.h. alert may be NULL. */
/* Sets st (may be NULL) to success, sentence "", and returns MUTLS_OK. */
int mt_ca_ok(mutls_ca_status *st);
/* Sets st (may be NULL) to code and one sentence; returns MUTLS_ERR. */
int mt_ca_fail(mutls_ca_status *st, mutls_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first certificate of a PEM text, owned by the caller; NULL with a
 * sentence in st that starts "cannot use the <what>: ". */
X509 *mt_ca_read_cert(const char *pem, const char *what, mutls_ca_status *st);
/* A private key from PEM text, the same way (mt_pkey_free it). */
mt_pkey *mt_ca_read_key(const char *pem, const char *what, mutls_ca_status *st);
/* The contents of a memory BIO as malloc'd NUL-terminated text, for
 * mutls_ca_free (which wipes it); NULL if out of memory. */
char *mt_ca_bio_text(BIO *bio);

#endif
