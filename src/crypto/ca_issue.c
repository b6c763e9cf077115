/* ca_issue.c - issuing certificates and CRLs (mutls_ca.h), with the
 * profiles of RFC 5280 that TLS peers expect: CA certificates that can sign
 * certificates and CRLs, leaves for TLS servers and clients named by their
 * SANs. Every structure is built with libcrypto's X.509 types. */
#include "crypto/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define SKEW_S 300        /* not_before 0: backdated this much for clock skew */
#define MAX_DAYS 36500    /* a certificate's lifetime, at most */
#define MAX_CRL_DAYS 3650 /* a CRL's nextUpdate, at most this far ahead */
#define SERIAL_BYTES 16
#define MAX_SERIAL_BYTES 20 /* RFC 5280 4.1.2.2 */
#define MAX_DNS_NAME 253
#define MAX_SAN 2048 /* URIs and emails longer than this are a mistake */
#define DAY_S 86400
/* 9999-12-31 23:59:59 UTC, the last second GeneralizedTime can say; bounds
 * the times callers give, so that adding days cannot overflow. */
#define MAX_TIME INT64_C(253402300799)

/* RFC 5280 4.2.1.3 KeyUsage bit numbers (libcrypto's KU_* are flags). */
enum {
  BIT_DIGITAL_SIGNATURE = 0,
  BIT_KEY_ENCIPHERMENT = 2,
  BIT_KEY_CERT_SIGN = 5,
  BIT_CRL_SIGN = 6
};

/* ---- small helpers ----------------------------------------------------------- */

/* s for a sentence: at most 100 bytes, anything but printable ASCII as '?'. */
static const char *shown(const char *s, char out[128]) {
  size_t i = 0;
  for (; s != NULL && s[i] != '\0' && i < 100; i++)
    out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  strcpy(out + i, s != NULL && s[i] != '\0' ? "..." : "");
  return out;
}

static void date_text(time_t t, char *out, size_t len) {
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(out, len, "(unreadable date)");
}

static void asn1_date_text(const ASN1_TIME *t, char *out, size_t len) {
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
      strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(out, len, "(unreadable date)");
  ERR_clear_error();
}

/* A certificate's subject as one line, through x509.c's name printer. */
static void subject_text(X509 *x, char *out, size_t len) {
  unsigned char *der = NULL;
  int n = i2d_X509_NAME(X509_get_subject_name(x), &der);
  if (n <= 0 || mt_name_text(der, (size_t)n, out, len) != 0 || out[0] == '\0')
    snprintf(out, len, "(no subject)");
  OPENSSL_free(der);
  ERR_clear_error();
}

/* The signature for a key: RFC 5758 3.2 pairs each curve with its hash;
 * RFC 8410 3: Ed25519 takes no separate hash; RSA signs certificates with
 * PKCS#1 v1.5 and SHA-256 (RFC 4055 5), which every verifier accepts. */
static const EVP_MD *sign_md(const mt_pkey *k) {
  switch (k->kind) {
  case MT_KEY_P384: return mt_algs_.sha384;
  case MT_KEY_ED25519: return NULL;
  default: return mt_algs_.sha256;
  }
}

/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
static ASN1_OCTET_STRING *key_id_of(X509 *x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
  if (id == NULL || X509_pubkey_digest(x, EVP_sha1(), md, &n) != 1 ||
      ASN1_OCTET_STRING_set(id, md, (int)n) != 1) {
    ASN1_OCTET_STRING_free(id);
    return NULL;
  }
  return id;
}

/* The authority key identifier for what issuer signs: its own subject key
 * identifier, so that verifiers find the issuer by it. */
static AUTHORITY_KEYID *akid_of(X509 *issuer) {
  AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
  const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
  if (akid == NULL) return NULL;
  akid->keyid = ski != NULL ? ASN1_OCTET_STRING_dup(ski) : key_id_of(issuer);
  if (akid->keyid == NULL) {
    AUTHORITY_KEYID_free(akid);
    return NULL;
  }
  return akid;
}

/* ---- checking a profile -------------------------------------------------------- */

static size_t count(const char *const *list) {
  size_t n = 0;
  while (list != NULL && list[n] != NULL)
    n++;
  return n;
}

/* Printable ASCII, no space, 1 to max bytes. */
static int is_token(const char *s, size_t max) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++)
    if (s[i] <= 0x20 || s[i] >= 0x7f) return 0;
  return n > 0 && n <= max;
}

/* Letters, digits, '-' and '_' in labels of 1 to 63 bytes, no trailing
 * dot; a "*." wildcard only as the whole left-most label, followed by at
 * least two labels ("*.example.org", not "*.org"). */
static int is_dns_name(const char *s) {
  size_t n = strlen(s), labels = 0, label = 0;
  int wildcard = s[0] == '*';
  if (n == 0 || n > MAX_DNS_NAME || (wildcard && s[1] != '.')) return 0;
  for (s += wildcard ? 2 : 0; *s != '\0'; s++) {
    if (*s == '.') {
      if (label == 0) return 0;
      labels++;
      label = 0;
    } else if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_') || ++label > 63) {
      return 0;
    }
  }
  /* labels counted the dots: a wildcard needs one after it. */
  return label > 0 && (!wildcard || labels >= 1);
}

/* RFC 3986 3.1: scheme ":" then the rest. */
static int is_uri(const char *s) {
  if (!is_token(s, MAX_SAN) || !isalpha((unsigned char)s[0])) return 0;
  size_t i = 1;
  while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
    i++;
  return s[i] == ':' && s[i + 1] != '\0';
}

static int is_email(const char *s) {
  const char *at = strchr(s, '@');
  return is_token(s, MAX_SAN) && at != NULL && at != s && at[1] != '\0' &&
         strchr(at + 1, '@') == NULL;
}

/* 4 or 16 bytes of the address in s; 0 if it is none. */
static int ip_bytes(const char *s, unsigned char out[16]) {
  if (inet_pton(AF_INET, s, out) == 1) return 4;
  if (inet_pton(AF_INET6, s, out) == 1) return 16;
  return 0;
}

/* Every SAN of the profile; 0, or -1 with a sentence. */
static int check_sans(const mutls_ca_profile *p, mutls_ca_status *st) {
  unsigned char ip[16];
  char buf[128];
  for (size_t i = 0; p->dns != NULL && p->dns[i] != NULL; i++)
    if (!is_dns_name(p->dns[i]))
      return mt_ca_fail(st, MUTLS_E_CONFIG,
                        "\"%s\" is not a valid DNS name (letters, digits, '-', dots; a \"*.\" "
                        "wildcard only as the whole first label)",
                        shown(p->dns[i], buf));
  for (size_t i = 0; p->ip != NULL && p->ip[i] != NULL; i++)
    if (ip_bytes(p->ip[i], ip) == 0)
      return mt_ca_fail(st, MUTLS_E_CONFIG, "\"%s\" is not an IPv4 or IPv6 address",
                        shown(p->ip[i], buf));
  for (size_t i = 0; p->uri != NULL && p->uri[i] != NULL; i++)
    if (!is_uri(p->uri[i]))
      return mt_ca_fail(st, MUTLS_E_CONFIG,
                        "\"%s\" is not a URI (scheme:rest, printable ASCII, no spaces)",
                        shown(p->uri[i], buf));
  for (size_t i = 0; p->email != NULL && p->email[i] != NULL; i++)
    if (!is_email(p->email[i]))
      return mt_ca_fail(st, MUTLS_E_CONFIG, "\"%s\" is not an email address",
                        shown(p->email[i], buf));
  return 0;
}

static int check_profile(const mutls_ca_profile *p, mutls_ca_status *st) {
  size_t sans = count(p->dns) + count(p->ip) + count(p->uri) + count(p->email);
  char cn[128];
  if (p->common_name == NULL || p->common_name[0] == '\0')
    return mt_ca_fail(st, MUTLS_E_CONFIG, "a certificate needs a common name");
  if (p->days < 1 || p->days > MAX_DAYS)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "a certificate is valid for 1 to %d days, not %u",
                      MAX_DAYS, p->days);
  if (p->not_before < 0 || p->not_before > MAX_TIME - (int64_t)MAX_DAYS * DAY_S)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "not_before is before 1970 or after 9899");
  if (p->is_ca && p->path_len < -1)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "a CA's path length is -1 (no limit) or more, not %d",
                      p->path_len);
  /* RFC 6125 6.4.4: TLS peers match names against SANs only when there is
   * one, and mutls never falls back to the CN of a leaf that has SANs. */
  if (!p->is_ca && sans == 0)
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the certificate for %s has no subject alternative name; give it at least "
                      "one DNS name, IP address, URI or email address",
                      shown(p->common_name, cn));
  if (!p->is_ca && !p->server_auth && !p->client_auth)
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the certificate for %s is for neither TLS servers nor clients; ask for "
                      "serverAuth, clientAuth or both",
                      shown(p->common_name, cn));
  return check_sans(p, st) == MUTLS_OK ? 0 : -1;
}

/* ---- building a certificate ------------------------------------------------------- */

static int add_ext(X509 *x, int nid, void *value, int critical) {
  return X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
}

static int add_name_entries(X509_NAME *nm, int nid, const char *what, const char *const *v,
                            mutls_ca_status *st) {
  char buf[128];
  for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
    int clean = v[i][0] != '\0';
    for (const unsigned char *c = (const unsigned char *)v[i]; *c && clean; c++)
      clean = *c >= 0x20 && *c != 0x7f;
    /* libcrypto checks the UTF-8 and the upper bound (64 characters,
     * RFC 5280 Appendix A) while converting. */
    if (!clean || X509_NAME_add_entry_by_NID(nm, nid, MBSTRING_UTF8, (const unsigned char *)v[i],
                                             -1, -1, 0) != 1) {
      ERR_clear_error();
      return mt_ca_fail(st, MUTLS_E_CONFIG,
                        "the %s \"%s\" is empty, holds a control character, is not UTF-8 or is "
                        "longer than 64 characters",
                        what, shown(v[i], buf));
    }
  }
  return 0;
}

/* O..., OU..., CN: least specific first, as in the DER. */
static int set_subject(X509 *x, const mutls_ca_profile *p, mutls_ca_status *st) {
  const char *cn[2] = {p->common_name, NULL};
  X509_NAME *nm = X509_NAME_new();
  int r = nm == NULL ? mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory") : 0;
  if (r == 0) r = add_name_entries(nm, NID_organizationName, "organization", p->organization, st);
  if (r == 0) r = add_name_entries(nm, NID_organizationalUnitName, "unit", p->org_unit, st);
  if (r == 0) r = add_name_entries(nm, NID_commonName, "common name", cn, st);
  if (r == 0 && X509_set_subject_name(x, nm) != 1)
    r = mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory");
  X509_NAME_free(nm);
  return r == 0 ? 0 : -1;
}

/* 16 random bytes with the top bits 01: positive (the sign bit clear), and
 * always 16 bytes long, so always 32 hex digits. 126 random bits; the
 * CA/Browser Forum asks for 64. */
static int set_serial(X509 *x, char *hex_out) {
  uint8_t b[SERIAL_BYTES];
  if (mt_random(b, sizeof(b)) != 0) return -1;
  b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
  BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
  ASN1_INTEGER *ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
  int ok = ai != NULL && hex != NULL && X509_set_serialNumber(x, ai) == 1;
  if (ok && hex_out != NULL) snprintf(hex_out, MUTLS_CA_SERIAL_LEN, "%s", hex);
  OPENSSL_free(hex);
  ASN1_INTEGER_free(ai);
  BN_free(bn);
  return ok ? 0 : -1;
}

/* Writes notAfter to *not_after. */
static int set_validity(X509 *x, const mutls_ca_profile *p, time_t *not_after) {
  time_t now = time(NULL);
  time_t start = p->not_before != 0 ? (time_t)p->not_before : now;
  time_t nb = p->not_before != 0 ? start : now - SKEW_S;
  *not_after = start + (time_t)p->days * DAY_S;
  return ASN1_TIME_set(X509_getm_notBefore(x), nb) != NULL &&
                 ASN1_TIME_set(X509_getm_notAfter(x), *not_after) != NULL
             ? 0
             : -1;
}

static int add_basic_constraints(X509 *x, const mutls_ca_profile *p) {
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  int ok = bc != NULL;
  if (ok && p->is_ca) {
    bc->ca = 0xff; /* DER TRUE; a leaf's FALSE is the default and left out */
    if (p->path_len >= 0)
      ok = (bc->pathlen = ASN1_INTEGER_new()) != NULL && ASN1_INTEGER_set(bc->pathlen, p->path_len);
  }
  /* RFC 5280 4.2.1.9: critical in CA certificates; here in leaves too, so
   * that no verifier can take a leaf for a CA. */
  ok = ok && add_ext(x, NID_basic_constraints, bc, 1) == 0;
  BASIC_CONSTRAINTS_free(bc);
  return ok ? 0 : -1;
}

static int add_key_usage(X509 *x, const mutls_ca_profile *p, EVP_PKEY *subject) {
  ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
  int ok = ku != NULL;
  if (ok && p->is_ca) {
    ok = ASN1_BIT_STRING_set_bit(ku, BIT_KEY_CERT_SIGN, 1) &&
         ASN1_BIT_STRING_set_bit(ku, BIT_CRL_SIGN, 1);
  } else if (ok) {
    ok = ASN1_BIT_STRING_set_bit(ku, BIT_DIGITAL_SIGNATURE, 1);
    /* RSA keys may also be used for RSA key transport by TLS 1.2 peers. */
    if (ok && mt_key_kind_of(subject) == MT_KEY_RSA)
      ok = ASN1_BIT_STRING_set_bit(ku, BIT_KEY_ENCIPHERMENT, 1);
  }
  ok = ok && add_ext(x, NID_key_usage, ku, 1) == 0;
  ASN1_BIT_STRING_free(ku);
  return ok ? 0 : -1;
}

static int add_eku(X509 *x, const mutls_ca_profile *p) {
  if (!p->server_auth && !p->client_auth) return 0; /* a CA without limits */
  EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
  int ok = eku != NULL;
  /* OBJ_nid2obj's objects are static: the stack is freed, not its items. */
  if (ok && p->server_auth) ok = sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0;
  if (ok && p->client_auth) ok = sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) > 0;
  ok = ok && add_ext(x, NID_ext_key_usage, eku, 0) == 0;
  sk_ASN1_OBJECT_free(eku);
  return ok ? 0 : -1;
}

static int push_names(GENERAL_NAMES *gens, int type, const char *const *v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    unsigned char ip[16];
    int ok = g != NULL && s != NULL;
    if (ok && type == GEN_IPADD)
      ok = ASN1_OCTET_STRING_set(s, ip, ip_bytes(v[i], ip)) == 1;
    else if (ok)
      ok = ASN1_STRING_set(s, v[i], -1) == 1;
    if (ok) {
      GENERAL_NAME_set0_value(g, type, s);
      s = NULL;
      ok = sk_GENERAL_NAME_push(gens, g) > 0;
      if (ok) g = NULL;
    }
    ASN1_STRING_free(s);
    GENERAL_NAME_free(g);
    if (!ok) return -1;
  }
  return 0;
}

static int add_sans(X509 *x, const mutls_ca_profile *p) {
  GENERAL_NAMES *gens = GENERAL_NAMES_new();
  int ok = gens != NULL && push_names(gens, GEN_DNS, p->dns) == 0 &&
           push_names(gens, GEN_IPADD, p->ip) == 0 && push_names(gens, GEN_URI, p->uri) == 0 &&
           push_names(gens, GEN_EMAIL, p->email) == 0;
  /* Not critical: the subject (a CN) is never empty here (RFC 5280 4.2.1.6). */
  if (ok && sk_GENERAL_NAME_num(gens) > 0) ok = add_ext(x, NID_subject_alt_name, gens, 0) == 0;
  GENERAL_NAMES_free(gens);
  return ok ? 0 : -1;
}

/* SKI, then AKI: a self-signed certificate is its own issuer, so its AKI
 * repeats the SKI just added. */
static int add_key_ids(X509 *x, X509 *issuer) {
  ASN1_OCTET_STRING *ski = key_id_of(x);
  int ok = ski != NULL && add_ext(x, NID_subject_key_identifier, ski, 0) == 0;
  ASN1_OCTET_STRING_free(ski);
  AUTHORITY_KEYID *akid = ok ? akid_of(issuer != NULL ? issuer : x) : NULL;
  ok = akid != NULL && add_ext(x, NID_authority_key_identifier, akid, 0) == 0;
  AUTHORITY_KEYID_free(akid);
  return ok ? 0 : -1;
}

/* ---- issuing ----------------------------------------------------------------------- */

struct issuing {
  const mutls_ca_profile *p;
  EVP_PKEY *subject; /* the subject's public key */
  mt_pkey *signer;   /* the issuer's key, or the subject's own when self-signed */
  X509 *issuer;      /* NULL when self-signed */
  X509 *x;           /* the certificate being made */
  time_t not_after;
};

/* The subject's key from a private key PEM or a "PUBLIC KEY" PEM. */
static EVP_PKEY *read_subject_key(const char *pem, mutls_ca_status *st) {
  if (pem != NULL && strstr(pem, "-----BEGIN PUBLIC KEY-----") == NULL) {
    mt_pkey *k = mt_ca_read_key(pem, "subject key", st);
    EVP_PKEY *pk = k != NULL ? k->pkey : NULL;
    if (k != NULL) k->pkey = NULL;
    mt_pkey_free(k);
    return pk;
  }
  if (pem == NULL) {
    mt_ca_fail(st, MUTLS_E_CONFIG, "no subject key was given");
    return NULL;
  }
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  ERR_clear_error();
  mt_key_kind kind = mt_key_kind_of(pk);
  int bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
  if (pk == NULL)
    mt_ca_fail(st, MUTLS_E_CONFIG,
               "cannot use the subject key: the public key PEM does not "
               "parse (corrupt, or an unknown algorithm)");
  else if (kind == MT_KEY_UNSUPPORTED)
    mt_ca_fail(st, MUTLS_E_CONFIG,
               "cannot use the subject key: it is not an RSA, EC "
               "P-256/P-384 or Ed25519 key");
  else if (kind == MT_KEY_RSA && (bits < 2048 || bits > 8192))
    mt_ca_fail(st, MUTLS_E_CONFIG,
               "cannot use the subject key: it is a %d-bit RSA key; use 2048 to 8192 bits", bits);
  else
    return pk;
  EVP_PKEY_free(pk);
  return NULL;
}

/* What every signer must be: a CA certificate allowed to sign with usage
 * bit ku, whose key is the one given. */
static int check_signer(X509 *issuer, const mt_pkey *key, unsigned long ku, const char *usage,
                        mutls_ca_status *st) {
  char name[256];
  subject_text(issuer, name, sizeof(name));
  uint32_t flags = X509_get_extension_flags(issuer);
  if (!(flags & EXFLAG_CA))
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the issuer certificate %s is not a CA certificate (basicConstraints "
                      "CA:TRUE); sign with a CA",
                      name);
  if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(issuer) & ku))
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the issuer certificate %s may not sign %s (its key usage lacks %s)", name,
                      ku == KU_KEY_CERT_SIGN ? "certificates" : "CRLs", usage);
  if (EVP_PKEY_eq(X509_get0_pubkey(issuer), key->pkey) != 1) {
    ERR_clear_error();
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the issuer key does not belong to the issuer certificate %s; pass the key "
                      "that was made with that certificate",
                      name);
  }
  return 0;
}

static int check_issuer(struct issuing *is, mutls_ca_status *st) {
  char name[256], a[64], b[64];
  if (check_signer(is->issuer, is->signer, KU_KEY_CERT_SIGN, "keyCertSign", st) != 0) return -1;
  subject_text(is->issuer, name, sizeof(name));
  /* RFC 5280 4.2.1.9: pathLenConstraint 0 allows no CA below it. */
  if (is->p->is_ca && X509_get_pathlen(is->issuer) == 0)
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the issuer %s has path length 0, so it may not issue CA certificates; issue "
                      "this CA from the CA above it",
                      name);
  /* Verifiers reject a chain once any certificate of it has expired: a
   * certificate outliving its issuer would fail early, by surprise. */
  if (X509_cmp_time(X509_get0_notAfter(is->issuer), &is->not_after) < 0) {
    asn1_date_text(X509_get0_notAfter(is->issuer), a, sizeof(a));
    date_text(is->not_after, b, sizeof(b));
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "the issuer %s expires on %s, before this certificate would (%s); issue it "
                      "for fewer days or renew the CA first",
                      name, a, b);
  }
  return 0;
}

static int load_inputs(struct issuing *is, const char *subject_key_pem, const char *issuer_cert_pem,
                       const char *issuer_key_pem, mutls_ca_status *st) {
  if (issuer_cert_pem == NULL) {
    if (issuer_key_pem != NULL)
      return mt_ca_fail(st, MUTLS_E_CONFIG,
                        "an issuer key was given without its certificate; a self-signed "
                        "certificate is signed with the subject's own key");
    is->signer = mt_ca_read_key(subject_key_pem,
                                "subject key (a self-signed certificate needs "
                                "the private key)",
                                st);
    if (is->signer == NULL || EVP_PKEY_up_ref(is->signer->pkey) != 1) return -1;
    is->subject = is->signer->pkey;
    return 0;
  }
  if ((is->subject = read_subject_key(subject_key_pem, st)) == NULL ||
      (is->issuer = mt_ca_read_cert(issuer_cert_pem, "issuer certificate", st)) == NULL ||
      (is->signer = mt_ca_read_key(issuer_key_pem, "issuer key", st)) == NULL)
    return -1;
  return 0;
}

/* Everything but the signature. */
static int build(struct issuing *is, char *serial_hex, mutls_ca_status *st) {
  const mutls_ca_profile *p = is->p;
  if ((is->x = X509_new()) == NULL) return mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory");
  if (set_subject(is->x, p, st) != 0) return -1;
  if (set_validity(is->x, p, &is->not_after) != 0)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "the validity period cannot be encoded");
  if (is->issuer != NULL && check_issuer(is, st) != 0) return -1;
  X509_NAME *issuer_name = X509_get_subject_name(is->issuer != NULL ? is->issuer : is->x);
  if (X509_set_version(is->x, X509_VERSION_3) != 1 || set_serial(is->x, serial_hex) != 0 ||
      X509_set_issuer_name(is->x, issuer_name) != 1 || X509_set_pubkey(is->x, is->subject) != 1 ||
      add_basic_constraints(is->x, p) != 0 || add_key_usage(is->x, p, is->subject) != 0 ||
      add_eku(is->x, p) != 0 || add_key_ids(is->x, is->issuer) != 0 || add_sans(is->x, p) != 0)
    return mt_ca_fail(st, MUTLS_E_INTERNAL,
                      "could not build the certificate for %s (libcrypto "
                      "failed or out of memory)",
                      p->common_name);
  return 0;
}

int mutls_ca_issue(const mutls_ca_profile *p, const char *subject_key_pem,
                   const char *issuer_cert_pem, const char *issuer_key_pem, char **cert_pem,
                   char serial_hex[MUTLS_CA_SERIAL_LEN], mutls_ca_status *st) {
  struct issuing is = {p, NULL, NULL, NULL, NULL, 0};
  if (serial_hex != NULL) serial_hex[0] = '\0';
  if (cert_pem != NULL) *cert_pem = NULL;
  if (cert_pem == NULL || p == NULL)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "no profile or no place for the certificate was given");
  if (mt_crypto_init() != 0)
    return mt_ca_fail(st, MUTLS_E_INTERNAL, "libcrypto lacks an algorithm mutls needs");
  int r = check_profile(p, st) == 0 &&
                  load_inputs(&is, subject_key_pem, issuer_cert_pem, issuer_key_pem, st) == 0 &&
                  build(&is, serial_hex, st) == 0
              ? 0
              : -1;
  BIO *bio = NULL;
  if (r == 0 && (X509_sign(is.x, is.signer->pkey, sign_md(is.signer)) <= 0 ||
                 (bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(bio, is.x) != 1 ||
                 (*cert_pem = mt_ca_bio_text(bio)) == NULL))
    r = mt_ca_fail(st, MUTLS_E_INTERNAL,
                   "could not sign the certificate for %s (libcrypto "
                   "failed or out of memory)",
                   p->common_name);
  BIO_free(bio);
  X509_free(is.x);
  X509_free(is.issuer);
  mt_pkey_free(is.signer);
  EVP_PKEY_free(is.subject);
  ERR_clear_error();
  if (r != 0 && serial_hex != NULL) serial_hex[0] = '\0';
  return r == 0 ? mt_ca_ok(st) : MUTLS_ERR;
}

/* ---- CRLs (RFC 5280 5) ------------------------------------------------------------- */

/* A serial number from hex ("0x" first and ':' between bytes allowed):
 * positive, at most 20 bytes. NULL if it is not one. */
static BIGNUM *parse_serial(const char *s) {
  char digits[2 * MAX_SERIAL_BYTES + 1];
  size_t n = 0;
  if (s == NULL) return NULL;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
  for (; *s != '\0'; s++) {
    if (*s == ':') continue;
    if (!isxdigit((unsigned char)*s) || n == sizeof(digits) - 1) return NULL;
    digits[n++] = *s;
  }
  digits[n] = '\0';
  BIGNUM *bn = NULL;
  if (n == 0 || BN_hex2bn(&bn, digits) != (int)n || BN_is_zero(bn)) {
    BN_free(bn);
    return NULL;
  }
  return bn;
}

static int add_revoked(X509_CRL *crl, const mutls_ca_revoked *r, size_t i, time_t now,
                       mutls_ca_status *st) {
  char buf[128];
  BIGNUM *bn = parse_serial(r->serial_hex);
  if (bn == NULL)
    return mt_ca_fail(st, MUTLS_E_CONFIG,
                      "revoked serial \"%s\" (entry %zu) is not a positive hex number of at most "
                      "20 bytes",
                      shown(r->serial_hex, buf), i + 1);
  int bad_time = r->revoked_at < 0 || r->revoked_at > MAX_TIME;
  if (mutls_ca_reason_name(r->reason) == NULL || bad_time) {
    BN_free(bn);
    return mt_ca_fail(st, MUTLS_E_CONFIG, "entry %zu has %s", i + 1,
                      bad_time ? "a revocation time before 1970 or after 9999"
                               : "an unknown revocation reason");
  }
  X509_REVOKED *rv = X509_REVOKED_new();
  ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
  ASN1_TIME *when = ASN1_TIME_set(NULL, r->revoked_at != 0 ? (time_t)r->revoked_at : now);
  ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
  int ok = rv != NULL && serial != NULL && when != NULL && reason != NULL &&
           X509_REVOKED_set_serialNumber(rv, serial) == 1 &&
           X509_REVOKED_set_revocationDate(rv, when) == 1;
  /* RFC 5280 5.3.1: no reasonCode rather than unspecified (0). */
  if (ok && r->reason != MUTLS_REASON_UNSPECIFIED)
    ok = ASN1_ENUMERATED_set(reason, r->reason) == 1 &&
         X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, X509V3_ADD_DEFAULT) == 1;
  if (ok && X509_CRL_add0_revoked(crl, rv) == 1)
    rv = NULL; /* the CRL owns it now */
  else
    ok = 0;
  ASN1_ENUMERATED_free(reason);
  ASN1_TIME_free(when);
  ASN1_INTEGER_free(serial);
  BN_free(bn);
  X509_REVOKED_free(rv);
  return ok ? 0 : mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory building the CRL");
}

/* Sorts the entries by serial (as verifiers expect to search them) and
 * refuses a serial listed twice. */
static int sort_entries(X509_CRL *crl, mutls_ca_status *st) {
  if (X509_CRL_sort(crl) != 1) return mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory");
  STACK_OF(X509_REVOKED) *sk = X509_CRL_get_REVOKED(crl);
  for (int i = 1; i < sk_X509_REVOKED_num(sk); i++) {
    const ASN1_INTEGER *a = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(sk, i - 1));
    const ASN1_INTEGER *b = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(sk, i));
    if (ASN1_INTEGER_cmp(a, b) == 0) {
      BIGNUM *bn = ASN1_INTEGER_to_BN(b, NULL);
      char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
      mt_ca_fail(st, MUTLS_E_CONFIG,
                 "serial %s is listed twice; list each revoked certificate "
                 "once",
                 hex != NULL ? hex : "?");
      OPENSSL_free(hex);
      BN_free(bn);
      return -1;
    }
  }
  return 0;
}

static int fill_crl(X509_CRL *crl, X509 *issuer, const mutls_ca_revoked *list, size_t n,
                    uint64_t number, unsigned days, mutls_ca_status *st) {
  time_t now = time(NULL);
  ASN1_TIME *last = ASN1_TIME_set(NULL, now);
  ASN1_TIME *next = ASN1_TIME_set(NULL, now + (time_t)days * DAY_S);
  ASN1_INTEGER *num = ASN1_INTEGER_new();
  AUTHORITY_KEYID *akid = akid_of(issuer);
  /* v2: CRLs with extensions (RFC 5280 5.1.2.1). */
  int ok = last != NULL && next != NULL && num != NULL && akid != NULL &&
           X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
           X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
           X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1 &&
           ASN1_INTEGER_set_uint64(num, number) == 1 &&
           X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1 &&
           X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  ASN1_INTEGER_free(num);
  AUTHORITY_KEYID_free(akid);
  if (!ok) return mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory building the CRL");
  for (size_t i = 0; i < n; i++)
    if (add_revoked(crl, &list[i], i, now, st) != 0) return -1;
  return sort_entries(crl, st);
}

int mutls_ca_make_crl(const char *issuer_cert_pem, const char *issuer_key_pem,
                      const mutls_ca_revoked *list, size_t n, uint64_t crl_number, unsigned days,
                      char **crl_pem, mutls_ca_status *st) {
  if (crl_pem == NULL) return mt_ca_fail(st, MUTLS_E_CONFIG, "no place for the CRL was given");
  *crl_pem = NULL;
  if (list == NULL && n > 0) return mt_ca_fail(st, MUTLS_E_CONFIG, "the revoked list is missing");
  if (days < 1 || days > MAX_CRL_DAYS)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "a CRL's next update is 1 to %d days ahead, not %u",
                      MAX_CRL_DAYS, days);
  if (mt_crypto_init() != 0)
    return mt_ca_fail(st, MUTLS_E_INTERNAL, "libcrypto lacks an algorithm mutls needs");
  X509 *issuer = mt_ca_read_cert(issuer_cert_pem, "issuer certificate", st);
  mt_pkey *key = issuer != NULL ? mt_ca_read_key(issuer_key_pem, "issuer key", st) : NULL;
  X509_CRL *crl = key != NULL ? X509_CRL_new() : NULL;
  BIO *bio = NULL;
  int r = -1;
  if (crl == NULL && key != NULL)
    mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory");
  else if (crl != NULL && check_signer(issuer, key, KU_CRL_SIGN, "cRLSign", st) == 0 &&
           fill_crl(crl, issuer, list, n, crl_number, days, st) == 0)
    r = 0;
  if (r == 0 &&
      (X509_CRL_sign(crl, key->pkey, sign_md(key)) <= 0 || (bio = BIO_new(BIO_s_mem())) == NULL ||
       PEM_write_bio_X509_CRL(bio, crl) != 1 || (*crl_pem = mt_ca_bio_text(bio)) == NULL))
    r = mt_ca_fail(st, MUTLS_E_INTERNAL,
                   "could not sign the CRL (libcrypto failed or out of "
                   "memory)");
  BIO_free(bio);
  X509_CRL_free(crl);
  mt_pkey_free(key);
  X509_free(issuer);
  ERR_clear_error();
  return r == 0 ? mt_ca_ok(st) : MUTLS_ERR;
}
