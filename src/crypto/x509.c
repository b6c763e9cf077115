/* x509.c - certificate chains, trust stores, path validation, and the one
 * place that turns libcrypto's X509_V_ERR_* into a code and a sentence. */
#include "crypto/internal.h"

#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct mt_cert {
  X509 *x;
  uint8_t *der;
  size_t der_len;
};

struct mt_chain {
  size_t n;
  struct mt_cert *certs; /* leaf first */
  mt_key_kind leaf_kind;
};

struct mt_trust {
  X509_STORE *store;
  /* The anchors' subjects, DER, in file order, exact duplicates dropped:
   * made once at load for certificate_authorities (RFC 8446 4.2.4). The
   * names point into subj_buf. */
  uint8_t *subj_buf;
  uint8_t **subj;
  size_t *subj_len;
  size_t n_subj;
};

/* ---- building chains ------------------------------------------------------ */

void mt_chain_free(mt_chain *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->n; i++) {
    X509_free(c->certs[i].x);
    free(c->certs[i].der);
  }
  free(c->certs);
  free(c);
}

static mt_chain *chain_alloc(size_t n) {
  mt_chain *c = calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  c->certs = calloc(n ? n : 1, sizeof(*c->certs));
  if (c->certs == NULL) {
    free(c);
    return NULL;
  }
  return c;
}

/* Takes ownership of x (and of der if non-NULL; else encodes x). */
static int chain_push(mt_chain *c, X509 *x, uint8_t *der, size_t der_len) {
  if (der == NULL) {
    int n = i2d_X509(x, NULL);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    der = p;
    if (p == NULL || i2d_X509(x, &p) != n) {
      free(der);
      X509_free(x);
      return -1;
    }
    der_len = (size_t)n;
  }
  struct mt_cert *slot = &c->certs[c->n++];
  slot->x = x;
  slot->der = der;
  slot->der_len = der_len;
  if (c->n == 1) c->leaf_kind = mt_key_kind_of(X509_get0_pubkey(x));
  return 0;
}

/* Reads every certificate in a PEM buffer. aux: also accept "TRUSTED
 * CERTIFICATE" blocks (trust files). Returns NULL with a sentence in err
 * if a block does not parse or there is none. */
static STACK_OF(X509) * read_pem_certs(const uint8_t *pem, size_t len, int aux, const char *label,
                                       char *err, size_t err_len) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  BIO *bio = len <= (size_t)INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
  if (sk == NULL || bio == NULL) {
    mt_errf(err, err_len, "out of memory reading %s", label);
    goto fail;
  }
  for (;;) {
    ERR_clear_error();
    X509 *x = aux ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)
                  : PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (x == NULL) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) break;
      mt_errf(err, err_len, "certificate %d in %s does not parse (corrupt PEM or DER)",
              sk_X509_num(sk) + 1, label);
      goto fail;
    }
    if (sk_X509_push(sk, x) <= 0) {
      X509_free(x);
      mt_errf(err, err_len, "out of memory reading %s", label);
      goto fail;
    }
  }
  ERR_clear_error();
  BIO_free(bio);
  if (sk_X509_num(sk) == 0) {
    mt_errf(err, err_len, "%s holds no certificate (expected -----BEGIN CERTIFICATE-----)", label);
    sk_X509_free(sk);
    return NULL;
  }
  return sk;
fail:
  ERR_clear_error();
  BIO_free(bio);
  sk_X509_pop_free(sk, X509_free);
  return NULL;
}

static mt_chain *chain_from_pem(const char *label, const uint8_t *pem, size_t len, char *err,
                                size_t err_len) {
  if (mt_crypto_init() != 0) {
    mt_errf(err, err_len, "libcrypto lacks an algorithm mutls needs");
    return NULL;
  }
  STACK_OF(X509) *sk = pem ? read_pem_certs(pem, len, 0, label, err, err_len) : NULL;
  if (sk == NULL) {
    if (pem == NULL) mt_errf(err, err_len, "%s is empty", label);
    return NULL;
  }
  size_t n = (size_t)sk_X509_num(sk);
  mt_chain *c = NULL;
  if (n > MT_MAX_CHAIN) {
    mt_errf(err, err_len, "%s holds %zu certificates; a chain has at most %d", label, n,
            MT_MAX_CHAIN);
  } else if ((c = chain_alloc(n)) != NULL) {
    for (size_t i = 0; i < n; i++) {
      if (chain_push(c, sk_X509_value(sk, (int)i), NULL, 0) != 0) {
        /* chain_push freed this one; the rest still belong to sk */
        for (size_t j = i + 1; j < n; j++)
          X509_free(sk_X509_value(sk, (int)j));
        mt_chain_free(c);
        c = NULL;
        break;
      }
    }
    sk_X509_free(sk); /* the chain owns the certificates now */
    if (c == NULL) mt_errf(err, err_len, "out of memory loading %s", label);
    return c;
  } else {
    mt_errf(err, err_len, "out of memory loading %s", label);
  }
  sk_X509_pop_free(sk, X509_free);
  return NULL;
}

mt_chain *mt_chain_load_pem(const uint8_t *pem, size_t len, char *err, size_t err_len) {
  return chain_from_pem("the certificate PEM", pem, len, err, err_len);
}

mt_chain *mt_chain_load_file(const char *path, char *err, size_t err_len) {
  if (path == NULL) {
    mt_errf(err, err_len, "no certificate file was given");
    return NULL;
  }
  size_t len = 0;
  uint8_t *buf = mt_read_small_file("certificate file", path, &len, err, err_len);
  if (buf == NULL) return NULL;
  char label[512];
  snprintf(label, sizeof(label), "certificate file %s", path);
  mt_chain *c = chain_from_pem(label, buf, len, err, err_len);
  free(buf);
  return c;
}

/* ---- parsed certificates, shared ----------------------------------------------
 * d2i_X509 is the dearest step of a handshake on OpenSSL 3.0 (a decoder
 * chain is built for every public key). A config keeps the certificates it
 * parsed, keyed by the SHA-256 of their DER, and hands out X509_up_ref'd
 * objects: a parsed certificate is a pure function of its DER, so sharing
 * one decides nothing about trust. Direct-mapped: a slot holds the newest
 * certificate whose hash falls in it, so the cache never holds more than
 * its slots. */
struct mt_certcache {
  pthread_mutex_t lock;
  size_t n;
  struct {
    uint8_t hash[32];
    size_t der_len; /* the whole certificate, nothing after it */
    X509 *x;
  } *slot;
};

static unsigned long parse_count; /* atomic: every d2i_X509 of a peer's certificate */

unsigned long mt_x509_parse_count(void) {
  return __atomic_load_n(&parse_count, __ATOMIC_RELAXED);
}

mt_certcache *mt_certcache_new(size_t slots) {
  mt_certcache *cc = calloc(1, sizeof(*cc));
  if (cc == NULL || slots == 0 || (cc->slot = calloc(slots, sizeof(*cc->slot))) == NULL) {
    free(cc);
    return NULL;
  }
  cc->n = slots;
  pthread_mutex_init(&cc->lock, NULL);
  return cc;
}

void mt_certcache_free(mt_certcache *cc) {
  if (cc == NULL) return;
  for (size_t i = 0; i < cc->n; i++) X509_free(cc->slot[i].x);
  free(cc->slot);
  pthread_mutex_destroy(&cc->lock);
  free(cc);
}

static size_t cc_index(const mt_certcache *cc, const uint8_t hash[32]) {
  uint64_t v;
  memcpy(&v, hash, sizeof(v));
  return (size_t)(v % cc->n);
}

/* A new reference to the certificate with this hash and length, or NULL. */
static X509 *cc_get(mt_certcache *cc, const uint8_t hash[32], size_t der_len) {
  X509 *x = NULL;
  pthread_mutex_lock(&cc->lock);
  size_t i = cc_index(cc, hash);
  if (cc->slot[i].x != NULL && cc->slot[i].der_len == der_len &&
      memcmp(cc->slot[i].hash, hash, 32) == 0 && X509_up_ref(cc->slot[i].x) == 1)
    x = cc->slot[i].x;
  pthread_mutex_unlock(&cc->lock);
  return x;
}

static void cc_put(mt_certcache *cc, const uint8_t hash[32], size_t der_len, X509 *x) {
  X509 *old = NULL;
  if (X509_up_ref(x) != 1) return;
  pthread_mutex_lock(&cc->lock);
  size_t i = cc_index(cc, hash);
  old = cc->slot[i].x;
  memcpy(cc->slot[i].hash, hash, 32);
  cc->slot[i].der_len = der_len;
  cc->slot[i].x = x;
  pthread_mutex_unlock(&cc->lock);
  X509_free(old);
}

mt_chain *mt_chain_from_der(const uint8_t *const *der, const size_t *der_len, size_t n, char *err,
                            size_t err_len) {
  return mt_chain_from_der_cached(NULL, NULL, der, der_len, n, err, err_len);
}

mt_chain *mt_chain_from_der_cached(mt_certcache *cc, const uint8_t (*hash)[32],
                                   const uint8_t *const *der, const size_t *der_len, size_t n,
                                   char *err, size_t err_len) {
  if (hash == NULL) cc = NULL;
  if (mt_crypto_init() != 0) {
    mt_errf(err, err_len, "libcrypto lacks an algorithm mutls needs");
    return NULL;
  }
  if (n == 0 || der == NULL || der_len == NULL) {
    mt_errf(err, err_len, "the peer sent no certificate");
    return NULL;
  }
  mt_chain *c = chain_alloc(n);
  if (c == NULL) {
    mt_errf(err, err_len, "out of memory parsing the peer's certificates");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = der[i];
    size_t len = der_len[i];
    X509 *x = cc != NULL && p != NULL ? cc_get(cc, hash[i], len) : NULL;
    if (x != NULL) {
      p += len; /* parsed before from these very bytes, which ended there */
    } else if (p && len && len <= (size_t)INT32_MAX) {
      __atomic_add_fetch(&parse_count, 1, __ATOMIC_RELAXED);
      x = mt_peer_d2i(&p, (long)len);
      if (x != NULL && cc != NULL && p == der[i] + len) cc_put(cc, hash[i], len, x);
    }
    if (x == NULL || p != der[i] + len) {
      /* A certificate followed by trailing bytes is malformed, too. */
      mt_errf(err, err_len, "certificate %zu from the peer %s", i + 1,
              x == NULL ? "does not parse as DER X.509" : "has bytes after its end");
      X509_free(x);
      goto fail;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL) {
      X509_free(x);
      mt_errf(err, err_len, "out of memory parsing the peer's certificates");
      goto fail;
    }
    memcpy(copy, der[i], len);
    if (chain_push(c, x, copy, len) != 0) goto fail;
  }
  return c;
fail:
  ERR_clear_error();
  mt_chain_free(c);
  return NULL;
}

size_t mt_chain_count(const mt_chain *c) {
  return c ? c->n : 0;
}

const uint8_t *mt_chain_der(const mt_chain *c, size_t i, size_t *len) {
  if (c == NULL || i >= c->n) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = c->certs[i].der_len;
  return c->certs[i].der;
}

static X509 *leaf_of(const mt_chain *c) {
  return c && c->n ? c->certs[0].x : NULL;
}

int mt_chain_matches_key(const mt_chain *c, const mt_pkey *k) {
  X509 *leaf = leaf_of(c);
  if (leaf == NULL || k == NULL) return 0;
  int r = EVP_PKEY_eq(X509_get0_pubkey(leaf), k->pkey);
  ERR_clear_error();
  return r == 1;
}

int mt_chain_leaf_supports(const mt_chain *c, uint16_t scheme) {
  return leaf_of(c) != NULL && mt_kind_fits(c->leaf_kind, scheme);
}

int mt_chain_leaf_verify(const mt_chain *c, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                         const uint8_t *sig, size_t sig_len) {
  X509 *leaf = leaf_of(c);
  if (leaf == NULL) return -1;
  return mt_verify_with(X509_get0_pubkey(leaf), c->leaf_kind, scheme, msg, msg_len, sig, sig_len);
}

/* ---- text about certificates ----------------------------------------------- */

/* Copies s (n bytes, not NUL-terminated) to out, bytes that are not
 * printable ASCII turned into '?' so a hostile name cannot forge log lines. */
static void put_clean(char *out, size_t cap, size_t *used, const void *s, size_t n) {
  const unsigned char *p = s;
  for (size_t i = 0; i < n && *used + 1 < cap; i++)
    out[(*used)++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
  if (cap) out[*used < cap ? *used : cap - 1] = '\0';
}

static void put_str(char *out, size_t cap, size_t *used, const char *s) {
  put_clean(out, cap, used, s, strlen(s));
}

static void name_text(const X509_NAME *nm, char *out, size_t len) {
  if (out == NULL || len == 0) return;
  out[0] = '\0';
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == NULL || nm == NULL) {
    BIO_free(bio);
    return;
  }
  /* RFC 2253 order: most specific first, "CN=api,O=x". */
  if (X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253) >= 0) {
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    size_t used = 0;
    if (n > 0) put_clean(out, len, &used, p, (size_t)n);
  }
  BIO_free(bio);
  ERR_clear_error();
}

static void sans_text(X509 *x, char *out, size_t len) {
  if (len == 0) return;
  out[0] = '\0';
  if (x == NULL) return;
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  size_t used = 0;
  int first = 1;
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    const ASN1_STRING *s = NULL;
    const char *prefix = NULL;
    char ip[INET6_ADDRSTRLEN] = "";
    switch (g->type) {
    case GEN_DNS:
      prefix = "DNS:";
      s = g->d.dNSName;
      break;
    case GEN_URI:
      prefix = "URI:";
      s = g->d.uniformResourceIdentifier;
      break;
    case GEN_EMAIL:
      prefix = "email:";
      s = g->d.rfc822Name;
      break;
    case GEN_IPADD: {
      prefix = "IP:";
      int l = ASN1_STRING_length(g->d.iPAddress);
      const unsigned char *b = ASN1_STRING_get0_data(g->d.iPAddress);
      if (l == 4)
        inet_ntop(AF_INET, b, ip, sizeof(ip));
      else if (l == 16)
        inet_ntop(AF_INET6, b, ip, sizeof(ip));
      else
        snprintf(ip, sizeof(ip), "(malformed)");
      break;
    }
    default: continue; /* otherName, dirName, ...: not shown */
    }
    if (!first) put_str(out, len, &used, ", ");
    first = 0;
    put_str(out, len, &used, prefix);
    if (s != NULL)
      put_clean(out, len, &used, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    else
      put_str(out, len, &used, ip);
  }
  GENERAL_NAMES_free(gens);
  ERR_clear_error();
}

static void time_text(const ASN1_TIME *t, char *out, size_t len) {
  struct tm tm;
  if (len == 0) return;
  memset(&tm, 0, sizeof(tm));
  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
      strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    snprintf(out, len, "(unreadable date)");
    ERR_clear_error();
  }
}

void mt_chain_leaf_subject(const mt_chain *c, char *out, size_t len) {
  X509 *leaf = leaf_of(c);
  name_text(leaf ? X509_get_subject_name(leaf) : NULL, out, len);
}

void mt_chain_leaf_issuer(const mt_chain *c, char *out, size_t len) {
  X509 *leaf = leaf_of(c);
  name_text(leaf ? X509_get_issuer_name(leaf) : NULL, out, len);
}

void mt_chain_leaf_sans(const mt_chain *c, char *out, size_t len) {
  sans_text(leaf_of(c), out, len);
}

void mt_chain_leaf_not_after(const mt_chain *c, char *out, size_t len) {
  X509 *leaf = leaf_of(c);
  time_text(leaf ? X509_get0_notAfter(leaf) : NULL, out, len);
}

void mt_chain_leaf_not_before(const mt_chain *c, char *out, size_t len) {
  X509 *leaf = leaf_of(c);
  time_text(leaf ? X509_get0_notBefore(leaf) : NULL, out, len);
}

int mt_chain_leaf_fingerprint(const mt_chain *c, uint8_t out[32]) {
  if (c == NULL || c->n == 0) return -1;
  return mt_hash(MT_SHA256, c->certs[0].der, c->certs[0].der_len, out);
}

/* ---- identities (mutual TLS) ------------------------------------------------ */
/* Authorization rules match these values byte for byte, so a value is given
 * whole or not at all: never truncated, never with a byte changed. */

/* Copies s (n bytes) and a NUL to out. 0, or -2 (and "") if it does not fit. */
static int put_exact(char *out, size_t len, const void *s, size_t n) {
  if (out == NULL || len == 0) return -2;
  if (n >= len) {
    out[0] = '\0';
    return -2;
  }
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}

/* 1 if every byte is printable ASCII. A NUL is not, so this also catches an
 * embedded NUL without relying on the terminator libcrypto appends. */
static int printable_ascii(const unsigned char *p, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (p[k] < 0x20 || p[k] > 0x7e) return 0;
  return 1;
}

/* 1 if p is well-formed UTF-8 (no overlong forms, surrogates, or code points
 * above U+10FFFF) with no control character (C0, DEL, C1). */
static int clean_utf8(const unsigned char *p, size_t n) {
  for (size_t k = 0; k < n;) {
    unsigned c = p[k], more, min;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return 0;
      k++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      more = 1, min = 0x80, c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2, min = 0x800, c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3, min = 0x10000, c &= 0x07;
    } else {
      return 0;
    }
    if (n - k <= more) return 0;
    for (unsigned m = 1; m <= more; m++) {
      if ((p[k + m] & 0xc0) != 0x80) return 0;
      c = (c << 6) | (p[k + m] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f))
      return 0;
    k += more + 1;
  }
  return 1;
}

/* If g is a SAN of the wanted kind with a usable value, points *s at its
 * text (inside g, or in ip) and returns 1; else 0. Unusable: empty, a byte
 * that is not printable ASCII, an IP address that is neither 4 nor 16 bytes. */
static int san_value(const GENERAL_NAME *g, mt_san_type type, char ip[INET6_ADDRSTRLEN],
                     const char **s, size_t *n) {
  const ASN1_STRING *a = NULL;
  if (type == MT_SAN_IP) {
    if (g->type != GEN_IPADD || g->d.iPAddress == NULL) return 0;
    int l = ASN1_STRING_length(g->d.iPAddress);
    int af = l == 4 ? AF_INET : l == 16 ? AF_INET6 : AF_UNSPEC;
    if (af == AF_UNSPEC ||
        inet_ntop(af, ASN1_STRING_get0_data(g->d.iPAddress), ip, INET6_ADDRSTRLEN) == NULL)
      return 0;
    *s = ip;
    *n = strlen(ip);
    return 1;
  }
  if (type == MT_SAN_DNS && g->type == GEN_DNS)
    a = g->d.dNSName;
  else if (type == MT_SAN_URI && g->type == GEN_URI)
    a = g->d.uniformResourceIdentifier;
  else if (type == MT_SAN_EMAIL && g->type == GEN_EMAIL)
    a = g->d.rfc822Name;
  const unsigned char *p = a ? ASN1_STRING_get0_data(a) : NULL;
  int l = a ? ASN1_STRING_length(a) : 0;
  if (p == NULL || l <= 0 || !printable_ascii(p, (size_t)l)) return 0;
  *s = (const char *)p;
  *n = (size_t)l;
  return 1;
}

int mt_chain_leaf_san(const mt_chain *c, mt_san_type type, size_t i, char *out, size_t len) {
  if (out != NULL && len > 0) out[0] = '\0';
  X509 *leaf = leaf_of(c);
  if (leaf == NULL) return -1;
  GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  int r = -1;
  size_t seen = 0;
  for (int k = 0; gens != NULL && k < sk_GENERAL_NAME_num(gens); k++) {
    char ip[INET6_ADDRSTRLEN];
    const char *s = NULL;
    size_t n = 0;
    if (!san_value(sk_GENERAL_NAME_value(gens, k), type, ip, &s, &n)) continue;
    if (seen++ == i) {
      r = put_exact(out, len, s, n);
      break;
    }
  }
  GENERAL_NAMES_free(gens);
  ERR_clear_error();
  return r;
}

int mt_chain_leaf_attr(const mt_chain *c, const char *attr, size_t i, char *out, size_t len) {
  if (out != NULL && len > 0) out[0] = '\0';
  X509 *leaf = leaf_of(c);
  int nid = attr != NULL ? OBJ_txt2nid(attr) : NID_undef;
  if (leaf == NULL || nid == NID_undef) {
    ERR_clear_error();
    return -1;
  }
  const X509_NAME *nm = X509_get_subject_name(leaf);
  int r = -1;
  size_t seen = 0;
  for (int k = X509_NAME_get_index_by_NID(nm, nid, -1); k >= 0;
       k = X509_NAME_get_index_by_NID(nm, nid, k)) {
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, k)));
    /* Skipped like a SAN when it does not convert or is not clean text. */
    int ok = n >= 0 && u != NULL && clean_utf8(u, (size_t)n);
    if (ok && seen++ == i) r = put_exact(out, len, u, (size_t)n);
    OPENSSL_free(u);
    if (r != -1) break;
  }
  ERR_clear_error();
  return r;
}

int mt_chain_leaf_spki_sha256(const mt_chain *c, uint8_t out[32]) {
  X509 *leaf = leaf_of(c);
  const X509_PUBKEY *pk = leaf ? X509_get_X509_PUBKEY(leaf) : NULL;
  int n = pk ? i2d_X509_PUBKEY(pk, NULL) : -1;
  uint8_t *der = n > 0 && out != NULL ? malloc((size_t)n) : NULL, *p = der;
  int r =
      der != NULL && i2d_X509_PUBKEY(pk, &p) == n ? mt_hash(MT_SHA256, der, (size_t)n, out) : -1;
  free(der);
  ERR_clear_error();
  return r;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (m and d
 * from 1), for any year: counted in 400-year eras of 146097 days. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);                       /* 0..399 */
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365, from March 1 */
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
  return era * 146097 + (int64_t)doe - 719468;
}

static int unix_time(const ASN1_TIME *t, int64_t *out) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  /* A NULL time would mean "now" to ASN1_TIME_to_tm. */
  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return -1;
  }
  int64_t days =
      days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
  *out = days * 86400 + (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return 0;
}

int mt_chain_leaf_validity(const mt_chain *c, int64_t *not_before, int64_t *not_after) {
  X509 *leaf = leaf_of(c);
  int64_t nb = 0, na = 0;
  int r = leaf != NULL && unix_time(X509_get0_notBefore(leaf), &nb) == 0 &&
                  unix_time(X509_get0_notAfter(leaf), &na) == 0
              ? 0
              : -1;
  if (r != 0) nb = na = 0;
  if (not_before) *not_before = nb;
  if (not_after) *not_after = na;
  return r;
}

int mt_chain_pem(const mt_chain *c, size_t i, char *out, size_t len) {
  if (out != NULL && len > 0) out[0] = '\0';
  if (c == NULL || i >= c->n || out == NULL) return -1;
  BIO *bio = BIO_new(BIO_s_mem());
  char *p = NULL;
  long n = -1;
  if (bio != NULL && PEM_write_bio_X509(bio, c->certs[i].x) == 1) n = BIO_get_mem_data(bio, &p);
  int r = -1;
  if (n > 0 && n < INT_MAX && p != NULL && (unsigned long)n < len) {
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    r = (int)n;
  }
  BIO_free(bio);
  ERR_clear_error();
  return r;
}

/* Parses a DER name that must end exactly at der + len; NULL if it does not. */
static X509_NAME *name_from_der(const uint8_t *der, size_t len) {
  if (der == NULL || len == 0 || len > LONG_MAX) return NULL;
  const unsigned char *p = der;
  X509_NAME *nm = d2i_X509_NAME(NULL, &p, (long)len);
  if (nm != NULL && p != der + len) {
    X509_NAME_free(nm);
    nm = NULL;
  }
  ERR_clear_error();
  return nm;
}

int mt_chain_issuer_in(const mt_chain *c, size_t i, const uint8_t *const *names,
                       const size_t *name_len, size_t n) {
  if (c == NULL || i >= c->n || names == NULL || name_len == NULL) return 0;
  const X509_NAME *issuer = X509_get_issuer_name(c->certs[i].x);
  const unsigned char *enc = NULL;
  size_t enc_len = 0;
  if (X509_NAME_get0_der(issuer, &enc, &enc_len) != 1) enc = NULL;
  int found = 0;
  /* A name the peer sent that does not parse is skipped, not fatal: the
   * others may still name our issuer. The same bytes are the same name
   * (X509_NAME_cmp compares encodings): no need to parse those. */
  for (size_t k = 0; k < n && !found; k++) {
    if (enc != NULL && name_len[k] == enc_len && names[k] != NULL &&
        memcmp(names[k], enc, enc_len) == 0) {
      found = 1;
      break;
    }
    X509_NAME *nm = name_from_der(names[k], name_len[k]);
    found = nm != NULL && X509_NAME_cmp(issuer, nm) == 0;
    X509_NAME_free(nm);
  }
  ERR_clear_error();
  return found;
}

void mt_chain_issuer_text(const mt_chain *c, size_t i, char *out, size_t len) {
  name_text(c && i < c->n ? X509_get_issuer_name(c->certs[i].x) : NULL, out, len);
}

int mt_name_text(const uint8_t *der, size_t len, char *out, size_t out_len) {
  X509_NAME *nm = name_from_der(der, len);
  if (out != NULL && out_len > 0) out[0] = '\0';
  if (nm == NULL) return -1;
  name_text(nm, out, out_len);
  X509_NAME_free(nm);
  return 0;
}

/* ---- trust ---------------------------------------------------------------- */

/* Encodes the subject of every certificate in sk into t, once, so that each
 * CertificateRequest reuses them. Returns 0, or -1 (out of memory). */
static int keep_subjects(mt_trust *t, STACK_OF(X509) * sk) {
  size_t n = (size_t)sk_X509_num(sk), total = 0;
  for (size_t k = 0; k < n; k++) {
    int l = i2d_X509_NAME(X509_get_subject_name(sk_X509_value(sk, (int)k)), NULL);
    if (l <= 0 || (size_t)l > SIZE_MAX - total) return -1;
    total += (size_t)l;
  }
  t->subj_buf = malloc(total ? total : 1);
  t->subj = calloc(n ? n : 1, sizeof(*t->subj));
  t->subj_len = calloc(n ? n : 1, sizeof(*t->subj_len));
  if (t->subj_buf == NULL || t->subj == NULL || t->subj_len == NULL) return -1;
  size_t used = 0;
  for (size_t k = 0; k < n; k++) {
    const X509_NAME *nm = X509_get_subject_name(sk_X509_value(sk, (int)k));
    uint8_t *w = t->subj_buf + used, *p = w;
    int l = i2d_X509_NAME(nm, NULL);
    if (l <= 0 || (size_t)l > total - used || i2d_X509_NAME(nm, &p) != l) return -1;
    /* The same CA twice (or two CAs with one name, as in a key rollover)
     * would only repeat a name in certificate_authorities. */
    int dup = 0;
    for (size_t j = 0; j < t->n_subj && !dup; j++)
      dup = t->subj_len[j] == (size_t)l && memcmp(t->subj[j], w, (size_t)l) == 0;
    if (dup) continue;
    t->subj[t->n_subj] = w;
    t->subj_len[t->n_subj++] = (size_t)l;
    used += (size_t)l;
  }
  return 0;
}

mt_trust *mt_trust_load_file(const char *path, char *err, size_t err_len) {
  if (mt_crypto_init() != 0) {
    mt_errf(err, err_len, "libcrypto lacks an algorithm mutls needs");
    return NULL;
  }
  if (path == NULL) {
    mt_errf(err, err_len, "no trust file was given");
    return NULL;
  }
  size_t len = 0;
  uint8_t *buf = mt_read_small_file("trust file", path, &len, err, err_len);
  if (buf == NULL) return NULL;
  char label[512];
  snprintf(label, sizeof(label), "trust file %s", path);
  STACK_OF(X509) *sk = read_pem_certs(buf, len, 1, label, err, err_len);
  free(buf);
  if (sk == NULL) return NULL;
  mt_trust *t = calloc(1, sizeof(*t));
  int ok = t != NULL && (t->store = X509_STORE_new()) != NULL;
  for (int i = 0; ok && i < sk_X509_num(sk); i++)
    ok = X509_STORE_add_cert(t->store, sk_X509_value(sk, i)) == 1;
  ok = ok && keep_subjects(t, sk) == 0;
  sk_X509_pop_free(sk, X509_free); /* the store holds its own references */
  ERR_clear_error();
  if (!ok) {
    mt_errf(err, err_len, "cannot build a trust store from %s (out of memory?)", label);
    mt_trust_free(t);
    return NULL;
  }
  return t;
}

void mt_trust_free(mt_trust *t) {
  if (t == NULL) return;
  X509_STORE_free(t->store);
  free(t->subj_buf);
  free(t->subj);
  free(t->subj_len);
  free(t);
}

int mt_trust_subjects(const mt_trust *t, const uint8_t *const **names, const size_t **lens,
                      size_t *n_out) {
  if (names) *names = t ? (const uint8_t *const *)t->subj : NULL;
  if (lens) *lens = t ? t->subj_len : NULL;
  if (n_out) *n_out = t ? t->n_subj : 0;
  return t ? 0 : -1;
}

/* ---- verification ----------------------------------------------------------- */

/* The one mapping from libcrypto's verification result to ours. */
static mt_verify_code map_verify_error(int e) {
  switch (e) {
  case X509_V_OK: return MT_VERIFY_OK;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
  case X509_V_ERR_CERT_UNTRUSTED:
  case X509_V_ERR_CERT_REJECTED: return MT_VERIFY_UNTRUSTED;
  case X509_V_ERR_CERT_HAS_EXPIRED: return MT_VERIFY_EXPIRED;
  case X509_V_ERR_CERT_NOT_YET_VALID: return MT_VERIFY_NOT_YET_VALID;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
  case X509_V_ERR_EMAIL_MISMATCH: return MT_VERIFY_NAME_MISMATCH;
  case X509_V_ERR_INVALID_PURPOSE:
  case X509_V_ERR_KEYUSAGE_NO_CERTSIGN: return MT_VERIFY_BAD_PURPOSE;
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
  case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: return MT_VERIFY_BAD_SIGNATURE;
  case X509_V_ERR_CERT_CHAIN_TOO_LONG:
  case X509_V_ERR_PATH_LENGTH_EXCEEDED: return MT_VERIFY_CHAIN_TOO_LONG;
  case X509_V_ERR_CERT_REVOKED: return MT_VERIFY_REVOKED;
  case X509_V_ERR_UNABLE_TO_GET_CRL: return MT_VERIFY_CRL_MISSING;
  case X509_V_ERR_CRL_HAS_EXPIRED: return MT_VERIFY_CRL_STALE;
  /* The other CRL errors (bad signature, not yet valid, no issuer for the
   * CRL, ...) are about a CRL we were given, not about the peer's
   * certificate: MT_VERIFY_OTHER, with a sentence from explain_crl. */
  default: return MT_VERIFY_OTHER;
  }
}

/* "CN=x", or the SANs when the subject is empty (common for SPIFFE). */
static void describe(X509 *x, char *out, size_t len) {
  name_text(x ? X509_get_subject_name(x) : NULL, out, len);
  if (out[0] == '\0') sans_text(x, out, len);
  if (out[0] == '\0') snprintf(out, len, "(no subject and no names)");
}

/* What the verify callback saw while CRLs were checked (see crl_verify_cb). */
struct rev_state {
  const mt_crls *crls;
  int soft_fail;
  X509_CRL *crl;       /* referenced: the CRL of the error that ended verification */
  int soft_err;        /* the first CRL error soft-fail let pass, or X509_V_OK */
  char soft_from[256]; /* whose CRL that was */
};

struct why_ctx {
  int err, depth;
  X509 *leaf, *cur; /* cur: the certificate the error is about */
  mt_purpose purpose;
  const char *name;
  const struct rev_state *rev; /* NULL when no CRL was checked */
  char leaf_s[256], cur_s[256];
};

static void explain_untrusted(const struct why_ctx *w, char *why, size_t len) {
  char issuer[256];
  name_text(X509_get_issuer_name(w->cur), issuer, sizeof(issuer));
  switch (w->err) {
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    snprintf(why, len,
             "the certificate for %s is self-signed and not in the trust store; add it to "
             "the trust file or use a certificate from a trusted CA",
             w->leaf_s);
    return;
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    snprintf(why, len,
             "the certificate for %s %s %s, which is not in the trust store; add that CA to "
             "the trust file or use a certificate from a trusted CA",
             w->leaf_s, w->depth == 1 ? "was issued by" : "chains up to", w->cur_s);
    return;
  case X509_V_ERR_CERT_UNTRUSTED:
  case X509_V_ERR_CERT_REJECTED:
    snprintf(why, len,
             "the CA certificate %s is in the trust store but marked as not trusted for TLS "
             "%s authentication; add it as a plain CERTIFICATE",
             w->cur_s, w->purpose == MT_PURPOSE_SERVER ? "server" : "client");
    return;
  }
  /* The issuer is neither in the store nor in the chain: an unknown CA, or
   * an intermediate the peer did not send. Nothing tells the two apart. */
  snprintf(why, len,
           "the certificate for %s was issued by %s, which is not in the trust store; add that "
           "CA to the trust file or use a certificate from a trusted CA (if %s is an "
           "intermediate CA, the peer must send it: append it to the peer's chain file)",
           w->depth == 0 ? w->leaf_s : w->cur_s, issuer, issuer);
}

static void explain_purpose(const struct why_ctx *w, char *why, size_t len) {
  const char *role = w->purpose == MT_PURPOSE_SERVER ? "server" : "client";
  const char *eku = w->purpose == MT_PURPOSE_SERVER ? "serverAuth" : "clientAuth";
  if (w->err == X509_V_ERR_KEYUSAGE_NO_CERTSIGN) {
    snprintf(why, len,
             "the CA certificate %s may not sign certificates (its key usage lacks "
             "keyCertSign); reissue it with keyCertSign",
             w->cur_s);
    return;
  }
  if (w->depth > 0) {
    snprintf(why, len,
             "the CA certificate %s may not issue certificates for TLS %s authentication "
             "(its extended key usage lacks %s); reissue it with %s or without an extended "
             "key usage",
             w->cur_s, role, eku, eku);
    return;
  }
  uint32_t xku = X509_get_extended_key_usage(w->cur);
  uint32_t want = w->purpose == MT_PURPOSE_SERVER ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
  if (xku != UINT32_MAX && !(xku & want)) /* UINT32_MAX: no EKU extension */
    snprintf(why, len,
             "the certificate for %s is not allowed for TLS %s authentication (extended key "
             "usage); reissue it with %s",
             w->leaf_s, role, eku);
  else
    snprintf(why, len,
             "the certificate for %s is not allowed for TLS %s authentication (key usage "
             "lacks digitalSignature); reissue it with digitalSignature",
             w->leaf_s, role);
}

/* ---- revocation sentences ---- */

/* RFC 5280 5.3.1 CRLReason, by value; 7 is not used. */
static const char *const crl_reasons[] = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

/* The reason code of a CRL entry as its RFC 5280 name, or NULL if the entry
 * has none (or one we do not know). */
static const char *revocation_reason(const X509_REVOKED *r) {
  ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
  long v = e != NULL ? ASN1_ENUMERATED_get(e) : -1;
  ASN1_ENUMERATED_free(e);
  ERR_clear_error();
  if (v < 0 || v >= (long)(sizeof(crl_reasons) / sizeof(crl_reasons[0]))) return NULL;
  return crl_reasons[v];
}

/* "0x15", as `openssl x509 -serial` prints it after the 0x. */
static void serial_text(X509 *x, char *out, size_t len) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
  if (hex == NULL)
    snprintf(out, len, "unreadable");
  else if (hex[0] == '-')
    snprintf(out, len, "-0x%s", hex + 1);
  else
    snprintf(out, len, "0x%s", hex);
  OPENSSL_free(hex);
  BN_free(bn);
  ERR_clear_error();
}

/* Who issued the CRL the error is about: the CRL's issuer, or when no CRL
 * was found, the issuer of the certificate being checked. */
static void crl_issuer_text(const struct why_ctx *w, char *out, size_t len) {
  X509_CRL *crl = w->rev ? w->rev->crl : NULL;
  name_text(crl ? X509_CRL_get_issuer(crl) : X509_get_issuer_name(w->cur), out, len);
}

/* The entry for x in the CRL the callback kept or, when it kept none, in
 * the first CRL of the set that lists x. libcrypto forgets the CRL it is
 * checking once it has checked that CRL's dates the long way (when it has
 * no better CRL than a stale one), so the callback cannot always keep it. */
static X509_REVOKED *revoked_entry(const struct rev_state *st, X509 *x) {
  X509_REVOKED *r = NULL;
  if (st == NULL) return NULL;
  /* get0_by_cert matches the CRL's issuer with x's as well as the serial. */
  if (st->crl != NULL && X509_CRL_get0_by_cert(st->crl, &r, x) == 1) return r;
  STACK_OF(X509_CRL) *sk = mt_crls_stack(st->crls);
  for (int i = 0; i < sk_X509_CRL_num(sk); i++)
    if (X509_CRL_get0_by_cert(sk_X509_CRL_value(sk, i), &r, x) == 1) return r;
  return NULL;
}

static void explain_revoked(const struct why_ctx *w, char *why, size_t len) {
  const char *who = w->depth == 0 ? "the certificate for" : "the CA certificate";
  char serial[96], date[64], from[256];
  serial_text(w->cur, serial, sizeof(serial));
  X509_REVOKED *r = revoked_entry(w->rev, w->cur);
  ERR_clear_error();
  if (r == NULL) {
    crl_issuer_text(w, from, sizeof(from));
    snprintf(why, len, "%s %s (serial %s) was revoked by the CRL from %s; issue a new one", who,
             w->cur_s, serial, from);
    return;
  }
  const char *reason = revocation_reason(r);
  time_text(X509_REVOKED_get0_revocationDate(r), date, sizeof(date));
  snprintf(why, len, "%s %s (serial %s) was revoked on %s%s%s%s; issue a new one", who, w->cur_s,
           serial, date, reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
}

/* MT_VERIFY_CRL_MISSING and MT_VERIFY_CRL_STALE. */
static void explain_crl_state(const struct why_ctx *w, mt_verify_code code, char *why, size_t len) {
  char from[256], date[64];
  crl_issuer_text(w, from, sizeof(from));
  if (code == MT_VERIFY_CRL_MISSING) {
    snprintf(why, len,
             "no CRL from %s was loaded, so the revocation of %s cannot be checked; add that "
             "CA's CRL (--crl) or allow soft-fail",
             from, w->cur_s);
    return;
  }
  X509_CRL *crl = w->rev ? w->rev->crl : NULL;
  time_text(crl ? X509_CRL_get0_nextUpdate(crl) : NULL, date, sizeof(date));
  snprintf(why, len, "the CRL from %s is stale: its nextUpdate was %s; fetch a fresh one", from,
           date);
}

/* The CRL errors that are MT_VERIFY_OTHER. Returns 0 if w->err is none of
 * them. */
static int explain_crl(const struct why_ctx *w, char *why, size_t len) {
  char from[256], what[128], date[64];
  const char *fix;
  X509_CRL *crl = w->rev ? w->rev->crl : NULL;
  switch (w->err) {
  case X509_V_ERR_CRL_SIGNATURE_FAILURE:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    snprintf(what, sizeof(what), "does not verify with that CA's key");
    fix = "it is corrupt or was signed by another CA of that name: replace it";
    break;
  case X509_V_ERR_CRL_NOT_YET_VALID:
    time_text(crl ? X509_CRL_get0_lastUpdate(crl) : NULL, date, sizeof(date));
    snprintf(what, sizeof(what), "is not valid until %s (its lastUpdate)", date);
    fix = "check the clock or the CRL";
    break;
  case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
  case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    snprintf(what, sizeof(what), "has a malformed lastUpdate or nextUpdate");
    fix = "replace it";
    break;
  case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    snprintf(what, sizeof(what),
             "was signed by a CA that is in neither the chain nor the trust store");
    fix = "add that CA to the trust file";
    break;
  case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    snprintf(what, sizeof(what), "was signed by a CA whose key usage lacks cRLSign");
    fix = "reissue that CA with cRLSign";
    break;
  case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    snprintf(what, sizeof(what), "has a critical extension mutls does not understand");
    fix = "use a complete CRL signed by the CA itself";
    break;
  case X509_V_ERR_DIFFERENT_CRL_SCOPE:
  case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    snprintf(what, sizeof(what), "cannot be used (%s)", X509_verify_cert_error_string(w->err));
    fix = "use a complete CRL signed by the CA itself";
    break;
  default: return 0;
  }
  crl_issuer_text(w, from, sizeof(from));
  snprintf(why, len, "the CRL from %s %s, so the revocation of %s cannot be checked; %s", from,
           what, w->cur_s, fix);
  return 1;
}

/* MT_VERIFY_OK, saying when soft-fail let a missing or stale CRL pass. */
static void explain_ok(const struct why_ctx *w, char *why, size_t len) {
  int soft = w->rev ? w->rev->soft_err : X509_V_OK;
  if (soft == X509_V_ERR_UNABLE_TO_GET_CRL)
    snprintf(why, len,
             "the certificate for %s is valid, but its chain was not fully checked for "
             "revocation: no CRL from %s was loaded (soft-fail)",
             w->leaf_s, w->rev->soft_from);
  else if (soft == X509_V_ERR_CRL_HAS_EXPIRED)
    snprintf(why, len,
             "the certificate for %s is valid, checked against a stale CRL from %s (soft-fail)",
             w->leaf_s, w->rev->soft_from);
  else
    snprintf(why, len, "the certificate for %s is valid", w->leaf_s);
}

static void explain(const struct why_ctx *w, mt_verify_code code, char *why, size_t len) {
  char date[64], sans[512];
  const char *who = w->depth == 0 ? "the certificate for" : "the CA certificate";
  switch (code) {
  case MT_VERIFY_OK: explain_ok(w, why, len); return;
  case MT_VERIFY_UNTRUSTED: explain_untrusted(w, why, len); return;
  case MT_VERIFY_EXPIRED:
    time_text(X509_get0_notAfter(w->cur), date, sizeof(date));
    snprintf(why, len, "%s %s expired on %s; renew it", who, w->cur_s, date);
    return;
  case MT_VERIFY_NOT_YET_VALID:
    time_text(X509_get0_notBefore(w->cur), date, sizeof(date));
    snprintf(why, len, "%s %s is not valid until %s; check the clock or the certificate's dates",
             who, w->cur_s, date);
    return;
  case MT_VERIFY_NAME_MISMATCH:
    sans_text(w->leaf, sans, sizeof(sans));
    snprintf(why, len,
             "the certificate for %s (%s) does not match the name %s; connect with a name it "
             "lists or reissue it with that name",
             w->leaf_s, sans[0] ? sans : "no subject alternative names", w->name ? w->name : "");
    return;
  case MT_VERIFY_BAD_PURPOSE: explain_purpose(w, why, len); return;
  case MT_VERIFY_BAD_SIGNATURE:
    snprintf(why, len,
             "the signature on %s %s does not verify with its issuer's key; the certificate "
             "is corrupt or was not issued by the CA it names",
             who, w->cur_s);
    return;
  case MT_VERIFY_CHAIN_TOO_LONG:
    if (w->err == X509_V_ERR_PATH_LENGTH_EXCEEDED)
      snprintf(why, len,
               "the chain for %s has more CA certificates than %s's path length constraint "
               "allows; shorten the chain or reissue that CA",
               w->leaf_s, w->cur_s);
    else
      snprintf(why, len,
               "the chain for %s is longer than %d certificates; shorten it or trust an "
               "intermediate CA directly",
               w->leaf_s, MT_MAX_CHAIN);
    return;
  case MT_VERIFY_REVOKED: explain_revoked(w, why, len); return;
  case MT_VERIFY_CRL_MISSING:
  case MT_VERIFY_CRL_STALE: explain_crl_state(w, code, why, len); return;
  case MT_VERIFY_OTHER: break;
  }
  if (explain_crl(w, why, len)) return;
  switch (w->err) {
  case X509_V_ERR_INVALID_CA:
    snprintf(why, len,
             "%s is used as a CA but is not a CA certificate (basicConstraints); issue the "
             "certificate from a real CA",
             w->cur_s);
    return;
  case X509_V_ERR_EE_KEY_TOO_SMALL:
  case X509_V_ERR_CA_KEY_TOO_SMALL:
    snprintf(why, len, "%s %s has a key too small to be safe; reissue it with a larger key", who,
             w->cur_s);
    return;
  case X509_V_ERR_CA_MD_TOO_WEAK:
    snprintf(why, len, "%s %s is signed with a weak hash (MD5 or SHA-1); reissue it with SHA-256",
             who, w->cur_s);
    return;
  }
  snprintf(why, len, "%s %s failed verification: %s", who, w->cur_s,
           X509_verify_cert_error_string(w->err));
}

static int is_ip_literal(const char *name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Sets purpose, time, depth and the expected name on ctx. */
static int set_params(X509_STORE_CTX *ctx, const mt_chain *chain, mt_purpose purpose,
                      const char *name, time_t now) {
  /* Sets the trust setting that goes with the purpose too, as libssl does;
   * the purpose check enforces the extended key usage. */
  if (X509_STORE_CTX_set_purpose(ctx, purpose == MT_PURPOSE_SERVER ? X509_PURPOSE_SSL_SERVER
                                                                   : X509_PURPOSE_SSL_CLIENT) != 1)
    return -1;
  X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
  /* depth counts neither the leaf nor the anchor. */
  X509_VERIFY_PARAM_set_depth(vp, MT_MAX_CHAIN - 2);
  /* Every certificate in the trust file is an anchor, intermediates too
   * (as in Go and rustls): trusting an issuing CA alone is common in mTLS. */
  X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
  /* Level 2: RSA and DH keys of 2048 bits or more, ECC of 224 or more, and
   * no MD5 or SHA-1 signatures anywhere in the chain. */
  X509_VERIFY_PARAM_set_auth_level(vp, mt_weak_keys_allowed ? 0 : 2);
  if (now != 0) X509_VERIFY_PARAM_set_time(vp, now);
  if (name == NULL) return 0;
  if (is_ip_literal(name)) return X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1 ? 0 : -1;
  unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
  /* The subject CN is consulted only when there is no SAN at all. */
  if (X509_get_ext_by_NID(chain->certs[0].x, NID_subject_alt_name, -1) >= 0)
    flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
  X509_VERIFY_PARAM_set_hostflags(vp, flags);
  /* "api.internal." is the same (absolute) name as "api.internal". */
  size_t n = strlen(name);
  if (n > 1 && name[n - 1] == '.' && name[n - 2] != '.') n--;
  return X509_VERIFY_PARAM_set1_host(vp, name, n) == 1 ? 0 : -1;
}

int mt_chain_leaf_name_matches(const mt_chain *c, const char *name) {
  X509 *leaf = leaf_of(c);
  if (leaf == NULL) return 0;
  if (name == NULL) return 1;
  if (name[0] == '\0') return 0;
  /* What X509_verify_cert does with the parameters set_params gives it:
   * X509_check_ip_asc for an address literal, else X509_check_host with the
   * same flags and the same trailing-dot rule. */
  int r;
  if (is_ip_literal(name)) {
    r = X509_check_ip_asc(leaf, name, 0);
  } else {
    unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    if (X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) >= 0)
      flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.' && name[n - 2] != '.') n--;
    r = X509_check_host(leaf, name, n, flags, NULL);
  }
  ERR_clear_error();
  return r == 1;
}

/* Every error raised while checking one certificate against CRLs. */
static int is_crl_error(int e) {
  switch (e) {
  case X509_V_ERR_UNABLE_TO_GET_CRL:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
  case X509_V_ERR_CRL_SIGNATURE_FAILURE:
  case X509_V_ERR_CRL_NOT_YET_VALID:
  case X509_V_ERR_CRL_HAS_EXPIRED:
  case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
  case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
  case X509_V_ERR_CERT_REVOKED:
  case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
  case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
  case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
  case X509_V_ERR_DIFFERENT_CRL_SCOPE:
  case X509_V_ERR_CRL_PATH_VALIDATION_ERROR: return 1;
  }
  return 0;
}

/* The verify callback while CRLs are checked: libcrypto calls it at each
 * error, and verification goes on only if it returns 1. It lets exactly
 * these errors pass, and no other:
 *  - a CRL error about the trust anchor itself: the anchor is trusted because
 *    the trust file names it (crypto.h: "every certificate but the anchor"),
 *    while libcrypto's CRL_CHECK_ALL would want a CRL for it too;
 *  - with soft_fail, a missing CRL or one past its nextUpdate. A stale CRL is
 *    still used, so a certificate it lists is still revoked.
 * On any other error it keeps the CRL involved, for the sentence. */
static int crl_verify_cb(int ok, X509_STORE_CTX *ctx) {
  /* The app data slot is ours: mt_verify_chain_rev made this context. The
   * context libcrypto makes to verify a CRL issuer's own path carries none,
   * and its errors pass through untouched. */
  struct rev_state *st = X509_STORE_CTX_get_app_data(ctx);
  if (ok || st == NULL) return ok;
  int e = X509_STORE_CTX_get_error(ctx);
  STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
  int anchor = chain != NULL && X509_STORE_CTX_get_error_depth(ctx) == sk_X509_num(chain) - 1;
  int soft =
      st->soft_fail && (e == X509_V_ERR_UNABLE_TO_GET_CRL || e == X509_V_ERR_CRL_HAS_EXPIRED);
  if (anchor && is_crl_error(e)) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  if (soft) {
    if (st->soft_err == X509_V_OK) {
      X509 *x = X509_STORE_CTX_get_current_cert(ctx);
      st->soft_err = e;
      name_text(x ? X509_get_issuer_name(x) : NULL, st->soft_from, sizeof(st->soft_from));
    }
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  X509_CRL *crl = X509_STORE_CTX_get0_current_crl(ctx);
  if (crl != NULL && X509_CRL_up_ref(crl) == 1) {
    X509_CRL_free(st->crl);
    st->crl = crl;
  }
  return 0;
}

/* Turns CRL checking on in ctx as rev says; st is the callback's state. */
static int set_revocation(X509_STORE_CTX *ctx, const mt_revocation *rev, struct rev_state *st) {
  /* set0: the set keeps the CRLs and outlives ctx. libcrypto wants a
   * non-const stack but only reads it (entries were sorted at load). */
  X509_STORE_CTX_set0_crls(ctx, mt_crls_stack(rev->crls));
  unsigned long flags = X509_V_FLAG_CRL_CHECK;
  if (rev->whole_chain) flags |= X509_V_FLAG_CRL_CHECK_ALL;
  if (X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), flags) != 1) return -1;
  st->crls = rev->crls;
  st->soft_fail = rev->soft_fail != 0;
  X509_STORE_CTX_set_verify_cb(ctx, crl_verify_cb);
  return X509_STORE_CTX_set_app_data(ctx, st) == 1 ? 0 : -1;
}

/* Runs the verification set up in ctx and explains its outcome. */
static mt_verify_code run_verify(X509_STORE_CTX *ctx, struct why_ctx *w, char *why,
                                 size_t why_len) {
  int r = X509_verify_cert(ctx);
  w->err = X509_STORE_CTX_get_error(ctx);
  if (r != 1 && w->err == X509_V_OK) w->err = X509_V_ERR_UNSPECIFIED;
  w->depth = X509_STORE_CTX_get_error_depth(ctx);
  w->cur = X509_STORE_CTX_get_current_cert(ctx);
  if (w->cur == NULL) w->cur = w->leaf;
  if (w->depth < 0) w->depth = 0;
  describe(w->cur, w->cur_s, sizeof(w->cur_s));
  mt_verify_code code = map_verify_error(w->err);
  explain(w, code, why, why_len);
  return code;
}

mt_verify_code mt_verify_chain(const mt_trust *trust, const mt_chain *chain, mt_purpose purpose,
                               const char *name, time_t now, char *why, size_t why_len) {
  return mt_verify_chain_rev(trust, chain, purpose, name, now, NULL, why, why_len);
}

mt_verify_code mt_verify_chain_rev(const mt_trust *trust, const mt_chain *chain, mt_purpose purpose,
                                   const char *name, time_t now, const mt_revocation *rev,
                                   char *why, size_t why_len) {
  return mt_verify_chain_window(trust, chain, purpose, name, now, rev, NULL, why, why_len);
}

/* Narrows [*from, *until) to [nb, na) (a certificate is current from
 * notBefore up to, not including, notAfter: X509_cmp_time's reading; a CRL
 * from lastUpdate to nextUpdate). A NULL bound is open. -1 if a date does
 * not read. */
static int narrow(const ASN1_TIME *nb, const ASN1_TIME *na, int64_t *from, int64_t *until) {
  int64_t b = INT64_MIN, a = INT64_MAX;
  if ((nb != NULL && unix_time(nb, &b) != 0) || (na != NULL && unix_time(na, &a) != 0)) return -1;
  if (b > *from) *from = b;
  if (a < *until) *until = a;
  return 0;
}

/* What the successful verification in ctx established: every certificate
 * of the path it built (anchor included) and every CRL of the set is
 * current in [from, until). Any CRL of the set, not only the ones used:
 * a narrower span only means an earlier full verification. */
static void verified_window(X509_STORE_CTX *ctx, const mt_revocation *rev, mt_verified *out) {
  STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);
  int64_t from = INT64_MIN, until = INT64_MAX;
  int ok = path != NULL && sk_X509_num(path) > 0;
  for (int i = 0; ok && i < sk_X509_num(path); i++) {
    X509 *x = sk_X509_value(path, i);
    ok = narrow(X509_get0_notBefore(x), X509_get0_notAfter(x), &from, &until) == 0;
  }
  STACK_OF(X509_CRL) *crls = rev != NULL ? mt_crls_stack(rev->crls) : NULL;
  for (int i = 0; ok && i < sk_X509_CRL_num(crls); i++) {
    X509_CRL *crl = sk_X509_CRL_value(crls, i);
    ok = narrow(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl), &from, &until) == 0;
  }
  out->valid = ok && from < until;
  out->from = from;
  out->until = until;
}

mt_verify_code mt_verify_chain_window(const mt_trust *trust, const mt_chain *chain,
                                      mt_purpose purpose, const char *name, time_t now,
                                      const mt_revocation *rev, mt_verified *verified, char *why,
                                      size_t why_len) {
  char dummy[1];
  if (verified != NULL) memset(verified, 0, sizeof(*verified));
  if (why == NULL || why_len == 0) {
    why = dummy;
    why_len = sizeof(dummy);
  }
  why[0] = '\0';
  if (mt_crypto_init() != 0 || trust == NULL || chain == NULL || chain->n == 0) {
    snprintf(why, why_len, "there is no certificate or no trust store to verify with");
    return MT_VERIFY_OTHER;
  }
  struct why_ctx w;
  memset(&w, 0, sizeof(w));
  w.leaf = w.cur = chain->certs[0].x;
  w.purpose = purpose;
  w.name = name;
  describe(w.leaf, w.leaf_s, sizeof(w.leaf_s));
  if (chain->n > MT_MAX_CHAIN) {
    w.err = X509_V_ERR_CERT_CHAIN_TOO_LONG;
    explain(&w, MT_VERIFY_CHAIN_TOO_LONG, why, why_len);
    return MT_VERIFY_CHAIN_TOO_LONG;
  }
  if (name != NULL && name[0] == '\0') {
    /* libcrypto would read an empty name as "no name check". */
    snprintf(why, why_len, "no name was given to check the certificate for %s against", w.leaf_s);
    return MT_VERIFY_NAME_MISMATCH;
  }
  struct rev_state st;
  memset(&st, 0, sizeof(st));
  int crls = rev != NULL && rev->crls != NULL;
  if (crls) w.rev = &st;
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  int ok = ctx != NULL && untrusted != NULL;
  for (size_t i = 1; ok && i < chain->n; i++)
    ok = sk_X509_push(untrusted, chain->certs[i].x) > 0;
  ok = ok && X509_STORE_CTX_init(ctx, trust->store, w.leaf, untrusted) == 1 &&
       set_params(ctx, chain, purpose, name, now) == 0 &&
       (!crls || set_revocation(ctx, rev, &st) == 0);
  mt_verify_code code;
  if (ok) {
    code = run_verify(ctx, &w, why, why_len);
    if (code == MT_VERIFY_OK && verified != NULL) verified_window(ctx, crls ? rev : NULL, verified);
  } else {
    code = MT_VERIFY_OTHER;
    snprintf(why, why_len,
             "could not set up verification of the certificate for %s (out of "
             "memory?)",
             w.leaf_s);
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted); /* the chain still owns the certificates */
  X509_CRL_free(st.crl);
  ERR_clear_error();
  return code;
}
