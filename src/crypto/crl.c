/* crl.c - sets of certificate revocation lists (RFC 5280 section 5): loading
 * them from PEM or DER files and sharing them between connections. Using
 * them to verify a chain is x509.c's job (mt_verify_chain_rev). */
#include "crypto/internal.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

struct mt_crls {
  atomic_int refs;
  /* Never changed after load: several threads verify with one set. */
  STACK_OF(X509_CRL) * sk;
};

STACK_OF(X509_CRL) * mt_crls_stack(const mt_crls *c) {
  return c ? c->sk : NULL;
}

/* Takes ownership of crl. Sorts its entries now, while only this thread
 * sees it: libcrypto sorts them on first lookup otherwise, a write that
 * concurrent verifications would race on. */
static int keep_crl(STACK_OF(X509_CRL) * sk, X509_CRL *crl) {
  sk_X509_REVOKED_sort(X509_CRL_get_REVOKED(crl));
  if (sk_X509_CRL_push(sk, crl) > 0) return 0;
  X509_CRL_free(crl);
  return -1;
}

/* Every "X509 CRL" block of a PEM buffer; other blocks are skipped. Returns
 * how many were added, or -1 with a sentence in err. */
static int read_pem_crls(STACK_OF(X509_CRL) * sk, const uint8_t *buf, size_t len, const char *path,
                         char *err, size_t err_len) {
  BIO *bio = BIO_new_mem_buf(buf, (int)len);
  int n = 0;
  if (bio == NULL) {
    mt_errf(err, err_len, "out of memory reading CRL file %s", path);
    return -1;
  }
  for (;;) {
    ERR_clear_error();
    X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
    if (crl == NULL) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) break;
      mt_errf(err, err_len, "CRL %d in CRL file %s does not parse (corrupt PEM or DER)", n + 1,
              path);
      n = -1;
      break;
    }
    if (keep_crl(sk, crl) != 0) {
      mt_errf(err, err_len, "out of memory reading CRL file %s", path);
      n = -1;
      break;
    }
    n++;
  }
  BIO_free(bio);
  ERR_clear_error();
  return n;
}

/* One DER CRL filling the whole buffer. Returns 1 if added, 0 if the bytes
 * are no DER CRL, -1 (and a sentence in err) when out of memory. */
static int read_der_crl(STACK_OF(X509_CRL) * sk, const uint8_t *buf, size_t len, const char *path,
                        char *err, size_t err_len) {
  const unsigned char *p = buf;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
  ERR_clear_error();
  if (crl == NULL) return 0;
  if (p != buf + len) { /* trailing bytes: not a CRL file after all */
    X509_CRL_free(crl);
    return 0;
  }
  if (keep_crl(sk, crl) == 0) return 1;
  mt_errf(err, err_len, "out of memory reading CRL file %s", path);
  return -1;
}

static int load_one(STACK_OF(X509_CRL) * sk, const char *path, char *err, size_t err_len) {
  if (path == NULL) {
    mt_errf(err, err_len, "a CRL file name is missing");
    return -1;
  }
  size_t len = 0;
  /* At most a few MiB (mt_read_small_file's limit), so len fits an int. */
  uint8_t *buf = mt_read_small_file("CRL file", path, &len, err, err_len);
  if (buf == NULL) return -1;
  int n = read_pem_crls(sk, buf, len, path, err, err_len);
  /* No PEM block at all: the file may be one DER CRL. */
  if (n == 0) n = read_der_crl(sk, buf, len, path, err, err_len);
  free(buf);
  if (n == 0)
    mt_errf(err, err_len,
            "CRL file %s holds no CRL (expected -----BEGIN X509 CRL----- blocks or one DER CRL)",
            path);
  return n > 0 ? 0 : -1;
}

mt_crls *mt_crls_load_files(const char *const *paths, size_t n, char *err, size_t err_len) {
  if (mt_crypto_init() != 0) {
    mt_errf(err, err_len, "libcrypto lacks an algorithm mutls needs");
    return NULL;
  }
  if (paths == NULL || n == 0) {
    mt_errf(err, err_len, "no CRL file was given");
    return NULL;
  }
  mt_crls *c = calloc(1, sizeof(*c));
  if (c == NULL || (c->sk = sk_X509_CRL_new_null()) == NULL) {
    mt_errf(err, err_len, "out of memory loading CRLs");
    free(c);
    return NULL;
  }
  atomic_init(&c->refs, 1);
  for (size_t i = 0; i < n; i++) {
    if (load_one(c->sk, paths[i], err, err_len) != 0) {
      mt_crls_free(c);
      return NULL;
    }
  }
  return c;
}

mt_crls *mt_crls_ref(mt_crls *c) {
  if (c != NULL) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return c;
}

void mt_crls_free(mt_crls *c) {
  if (c == NULL) return;
  /* acq_rel: the thread that frees sees every other holder's last use. */
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) return;
  sk_X509_CRL_pop_free(c->sk, X509_CRL_free);
  free(c);
}
