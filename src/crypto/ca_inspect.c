/* ca_inspect.c - reading certificates back and judging them (mutls_ca.h):
 * what a certificate says, whether a mutls peer would accept a chain, and
 * whether a key belongs to a certificate. Built on x509.c's getters and its
 * verifier, so `mutls cert` tells what a connection would. */
#include "crypto/internal.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ---- verification outcomes --------------------------------------------------- */

/* The one table from a verification outcome to the error a connection
 * reports and the alert it sends (RFC 8446 6.2). */
mutls_error mt_verify_code_error(mt_verify_code v, int *alert) {
  static const struct {
    mt_verify_code v;
    mutls_error e;
    int alert;
  } map[] = {
      {MT_VERIFY_OK, MUTLS_E_NONE, -1},
      {MT_VERIFY_UNTRUSTED, MUTLS_E_CERT_UNTRUSTED, ALERT_UNKNOWN_CA},
      {MT_VERIFY_EXPIRED, MUTLS_E_CERT_EXPIRED, ALERT_CERTIFICATE_EXPIRED},
      {MT_VERIFY_NOT_YET_VALID, MUTLS_E_CERT_NOT_YET_VALID, ALERT_CERTIFICATE_EXPIRED},
      {MT_VERIFY_NAME_MISMATCH, MUTLS_E_CERT_NAME_MISMATCH, ALERT_BAD_CERTIFICATE},
      {MT_VERIFY_BAD_PURPOSE, MUTLS_E_CERT_UNSUPPORTED, ALERT_UNSUPPORTED_CERTIFICATE},
      {MT_VERIFY_REVOKED, MUTLS_E_CERT_REVOKED, ALERT_CERTIFICATE_REVOKED},
      {MT_VERIFY_CRL_MISSING, MUTLS_E_CRL_MISSING, ALERT_CERTIFICATE_UNKNOWN},
      {MT_VERIFY_CRL_STALE, MUTLS_E_CRL_STALE, ALERT_CERTIFICATE_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if (map[i].v == v) {
      if (alert != NULL) *alert = map[i].alert;
      return map[i].e;
    }
  }
  /* Bad signature, chain too long, anything else. */
  if (alert != NULL) *alert = ALERT_BAD_CERTIFICATE;
  return MUTLS_E_CERT_BAD;
}

/* ---- inspection ------------------------------------------------------------------ */

static void hex_of(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static void strings_free(mutls_ca_strings *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static int strings_add(mutls_ca_strings *l, const char *s) {
  char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
  if (v == NULL) return -1;
  l->v = v;
  if ((v[l->n] = strdup(s)) == NULL) return -1;
  l->n++;
  return 0;
}

/* Every SAN of one kind; buf (cap bytes) holds any one of them. */
static int read_sans(const mt_chain *c, mt_san_type type, mutls_ca_strings *out, char *buf,
                     size_t cap) {
  for (size_t i = 0;; i++) {
    int r = mt_chain_leaf_san(c, type, i, buf, cap);
    if (r == -1) return 0;
    if (r == 0 && strings_add(out, buf) != 0) return -1;
  }
}

static void key_type_text(EVP_PKEY *pk, char *out, size_t len) {
  char group[64] = "";
  size_t n = 0;
  switch (mt_key_kind_of(pk)) {
  case MT_KEY_P256: snprintf(out, len, "ECDSA P-256"); return;
  case MT_KEY_P384: snprintf(out, len, "ECDSA P-384"); return;
  case MT_KEY_ED25519: snprintf(out, len, "Ed25519"); return;
  case MT_KEY_RSA: snprintf(out, len, "RSA %d", EVP_PKEY_get_bits(pk)); return;
  case MT_KEY_UNSUPPORTED: break;
  }
  if (pk == NULL)
    snprintf(out, len, "unreadable");
  else if (EVP_PKEY_is_a(pk, "RSA-PSS"))
    snprintf(out, len, "RSA-PSS %d", EVP_PKEY_get_bits(pk));
  else if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk, group, sizeof(group), &n) == 1)
    snprintf(out, len, "EC %.40s", group); /* curve names are short; the field is 48 */
  else
    snprintf(out, len, "%s", EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown");
  ERR_clear_error();
}

/* What only the X509 itself tells: serial, key type, CA and EKU. */
static void read_x509(X509 *x, mutls_ca_cert_info *info) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
  snprintf(info->serial_hex, sizeof(info->serial_hex), "%s", hex != NULL ? hex : "");
  OPENSSL_free(hex);
  BN_free(bn);
  key_type_text(X509_get0_pubkey(x), info->key_type, sizeof(info->key_type));
  uint32_t flags = X509_get_extension_flags(x);
  info->is_ca = (flags & EXFLAG_CA) != 0;
  info->path_len = info->is_ca ? (int)X509_get_pathlen(x) : -1;
  info->has_eku = (flags & EXFLAG_XKUSAGE) != 0;
  uint32_t xku = X509_get_extended_key_usage(x);
  info->server_auth = info->has_eku && (xku & XKU_SSL_SERVER) != 0;
  info->client_auth = info->has_eku && (xku & XKU_SSL_CLIENT) != 0;
  ERR_clear_error();
}

/* Fills info from one certificate (DER), read as the leaf of a chain of one
 * so that x509.c's getters apply. */
static int read_one(const uint8_t *der, size_t len, mutls_ca_cert_info *info, mutls_ca_status *st) {
  char err[256] = "";
  uint8_t h[32];
  mt_chain *one = mt_chain_from_der(&der, &len, 1, err, sizeof(err));
  const unsigned char *p = der;
  X509 *x = one != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
  /* A SAN is never longer than the certificate holding it; an IP's text is
   * at most 45 bytes. */
  size_t cap = len + 64;
  char *buf = x != NULL ? malloc(cap) : NULL;
  int ok = buf != NULL;
  if (ok) {
    mt_chain_leaf_subject(one, info->subject, sizeof(info->subject));
    mt_chain_leaf_issuer(one, info->issuer, sizeof(info->issuer));
    mt_chain_leaf_attr(one, "CN", 0, info->common_name, sizeof(info->common_name));
    mt_chain_leaf_validity(one, &info->not_before, &info->not_after);
    if (mt_chain_leaf_fingerprint(one, h) == 0) hex_of(h, 32, info->fingerprint);
    if (mt_chain_leaf_spki_sha256(one, h) == 0) hex_of(h, 32, info->spki_fingerprint);
    read_x509(x, info);
    ok = read_sans(one, MT_SAN_DNS, &info->dns, buf, cap) == 0 &&
         read_sans(one, MT_SAN_IP, &info->ip, buf, cap) == 0 &&
         read_sans(one, MT_SAN_URI, &info->uri, buf, cap) == 0 &&
         read_sans(one, MT_SAN_EMAIL, &info->email, buf, cap) == 0;
  }
  /* SPIFFE X509-SVID 2, as mutls_peer_spiffe_id: one URI SAN, spiffe://. */
  if (ok && info->uri.n == 1 && strncmp(info->uri.v[0], "spiffe://", 9) == 0)
    info->spiffe_id = info->uri.v[0];
  free(buf);
  X509_free(x);
  mt_chain_free(one);
  ERR_clear_error();
  if (one == NULL) return mt_ca_fail(st, MUTLS_E_CERT_BAD, "%s", err);
  return ok ? 0 : mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory reading a certificate");
}

void mutls_ca_info_free(mutls_ca_cert_info *info, size_t n) {
  if (info == NULL) return;
  for (size_t i = 0; i < n; i++) {
    strings_free(&info[i].dns);
    strings_free(&info[i].ip);
    strings_free(&info[i].uri);
    strings_free(&info[i].email);
  }
  free(info);
}

int mutls_ca_inspect(const char *pem, int whole_chain, mutls_ca_cert_info **info, size_t *n,
                     mutls_ca_status *st) {
  char err[512] = "";
  if (info == NULL || n == NULL)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "no place for the result was given");
  *info = NULL;
  *n = 0;
  if (pem == NULL) return mt_ca_fail(st, MUTLS_E_CONFIG, "no certificate PEM was given");
  mt_chain *c = mt_chain_load_pem((const uint8_t *)pem, strlen(pem), err, sizeof(err));
  if (c == NULL) return mt_ca_fail(st, MUTLS_E_CERT_BAD, "%s", err);
  size_t count = whole_chain ? mt_chain_count(c) : 1;
  mutls_ca_cert_info *out = calloc(count, sizeof(*out));
  int r = out != NULL ? 0 : mt_ca_fail(st, MUTLS_E_NOMEM, "out of memory");
  for (size_t i = 0; r == 0 && i < count; i++) {
    size_t len = 0;
    const uint8_t *der = mt_chain_der(c, i, &len);
    r = read_one(der, len, &out[i], st);
  }
  mt_chain_free(c);
  if (r != 0) {
    mutls_ca_info_free(out, count);
    return MUTLS_ERR;
  }
  *info = out;
  *n = count;
  return mt_ca_ok(st);
}

/* ---- checks ---------------------------------------------------------------------- */

int mutls_ca_check(const char *chain_pem, const char *ca_file, mutls_ca_purpose purpose,
                   const char *name, const char *const *crl_files, mutls_ca_status *st) {
  mutls_ca_status local;
  char err[512] = "";
  if (st == NULL) st = &local;
  if (purpose != MUTLS_CA_PURPOSE_SERVER && purpose != MUTLS_CA_PURPOSE_CLIENT)
    return mt_ca_fail(st, MUTLS_E_CONFIG, "the purpose is neither server nor client");
  if (chain_pem == NULL) return mt_ca_fail(st, MUTLS_E_CONFIG, "no certificate PEM was given");
  size_t n_crl = 0;
  while (crl_files != NULL && crl_files[n_crl] != NULL)
    n_crl++;
  mt_chain *chain =
      mt_chain_load_pem((const uint8_t *)chain_pem, strlen(chain_pem), err, sizeof(err));
  if (chain == NULL) return mt_ca_fail(st, MUTLS_E_CERT_BAD, "%s", err);
  mt_trust *trust = mt_trust_load_file(ca_file, err, sizeof(err));
  mt_crls *crls =
      trust != NULL && n_crl > 0 ? mt_crls_load_files(crl_files, n_crl, err, sizeof(err)) : NULL;
  int r;
  if (trust == NULL || (n_crl > 0 && crls == NULL)) {
    r = mt_ca_fail(st, MUTLS_E_CONFIG, "%s", err);
  } else {
    /* A connection's defaults: the leaf only, hard fail. A client passes
     * no name when it has none, and never an empty one. The sentence goes
     * straight into st->why, as long as a connection's. */
    mt_revocation rev = {crls, 0, 0};
    mt_purpose as = purpose == MUTLS_CA_PURPOSE_SERVER ? MT_PURPOSE_SERVER : MT_PURPOSE_CLIENT;
    mt_verify_code v =
        mt_verify_chain_rev(trust, chain, as, name != NULL && name[0] != '\0' ? name : NULL, 0,
                            &rev, st->why, sizeof(st->why));
    st->code = mt_verify_code_error(v, &st->alert);
    r = v == MT_VERIFY_OK ? MUTLS_OK : MUTLS_ERR;
  }
  mt_crls_free(crls);
  mt_trust_free(trust);
  mt_chain_free(chain);
  return r;
}

int mutls_ca_key_matches(const char *cert_pem, const char *key_pem, mutls_ca_status *st) {
  char err[512] = "", subject[256];
  if (cert_pem == NULL) return mt_ca_fail(st, MUTLS_E_CONFIG, "no certificate PEM was given");
  mt_chain *c = mt_chain_load_pem((const uint8_t *)cert_pem, strlen(cert_pem), err, sizeof(err));
  if (c == NULL) return mt_ca_fail(st, MUTLS_E_CERT_BAD, "%s", err);
  mt_pkey *k = mt_ca_read_key(key_pem, "private key", st);
  int r = MUTLS_ERR;
  if (k != NULL && mt_chain_matches_key(c, k)) {
    r = mt_ca_ok(st);
  } else if (k != NULL) {
    mt_chain_leaf_subject(c, subject, sizeof(subject));
    r = mt_ca_fail(st, MUTLS_E_CONFIG,
                   "the private key does not belong to the certificate for %s; pass the key "
                   "that was made with that certificate",
                   subject);
  }
  mt_pkey_free(k);
  mt_chain_free(c);
  return r;
}
