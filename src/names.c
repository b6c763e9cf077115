/* names.c - code points to names and back, for the API, logs and config. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mutls.h"
#include "tls.h"

static const mt_suite suites[] = {
    {TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", MT_AES_128_GCM, MT_SHA256},
    {TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", MT_AES_256_GCM, MT_SHA384},
    {TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", MT_CHACHA20_POLY1305,
     MT_SHA256},
};

typedef struct {
  uint16_t id;
  const char *name;
  const char *alias;
} named;

static const named groups[] = {
    {MT_GROUP_X25519, "x25519", "X25519"},
    {MT_GROUP_SECP256R1, "secp256r1", "P-256"},
    {MT_GROUP_SECP384R1, "secp384r1", "P-384"},
};

static const named schemes[] = {
    {MT_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256", NULL},
    {MT_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384", NULL},
    {MT_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256", NULL},
    {MT_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384", NULL},
    {MT_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512", NULL},
    {MT_SIG_ED25519, "ed25519", NULL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const mt_suite *mt_suite_by_id(uint16_t id) {
  for (size_t i = 0; i < COUNT(suites); i++)
    if (suites[i].id == id) return &suites[i];
  return NULL;
}

static const char *lookup_name(const named *t, size_t n, uint16_t id) {
  for (size_t i = 0; i < n; i++)
    if (t[i].id == id) return t[i].name;
  return NULL;
}

const char *mt_group_name(uint16_t g) { return lookup_name(groups, COUNT(groups), g); }
const char *mt_sigscheme_name(uint16_t s) { return lookup_name(schemes, COUNT(schemes), s); }

/* Splits list at ':' or ',' and maps each name through find(); returns the
 * count, or -1 with the offending name copied into bad. Duplicates are
 * dropped. */
static int parse_list(const char *list, uint16_t *out, size_t max, char *bad, size_t bad_len,
                      int (*find)(const char *name, size_t len, uint16_t *id)) {
  size_t n = 0;
  const char *p = list;
  if (!list || !*list) {
    snprintf(bad, bad_len, "(empty list)");
    return -1;
  }
  while (*p) {
    size_t len = strcspn(p, ":,");
    uint16_t id;
    if (len == 0 || find(p, len, &id) != 0) {
      if (len)
        snprintf(bad, bad_len, "%.*s", (int)len, p);
      else
        snprintf(bad, bad_len, "(an empty name)");
      return -1;
    }
    int dup = 0;
    for (size_t i = 0; i < n; i++) dup |= out[i] == id;
    if (!dup) {
      if (n == max) {
        snprintf(bad, bad_len, "(too many names)");
        return -1;
      }
      out[n++] = id;
    }
    p += len;
    if (*p) p++;
  }
  return (int)n;
}

static int find_in(const named *t, size_t n, const char *name, size_t len, uint16_t *id) {
  for (size_t i = 0; i < n; i++) {
    if ((strlen(t[i].name) == len && strncasecmp(t[i].name, name, len) == 0) ||
        (t[i].alias && strlen(t[i].alias) == len && strncasecmp(t[i].alias, name, len) == 0)) {
      *id = t[i].id;
      return 0;
    }
  }
  return -1;
}

static int find_suite(const char *name, size_t len, uint16_t *id) {
  for (size_t i = 0; i < COUNT(suites); i++) {
    if (strlen(suites[i].name) == len && strncasecmp(suites[i].name, name, len) == 0) {
      *id = suites[i].id;
      return 0;
    }
  }
  return -1;
}
static int find_group(const char *name, size_t len, uint16_t *id) {
  return find_in(groups, COUNT(groups), name, len, id);
}
static int find_scheme(const char *name, size_t len, uint16_t *id) {
  return find_in(schemes, COUNT(schemes), name, len, id);
}

int mt_parse_suites(const char *l, uint16_t *o, size_t m, char *b, size_t bl) {
  return parse_list(l, o, m, b, bl, find_suite);
}
int mt_parse_groups(const char *l, uint16_t *o, size_t m, char *b, size_t bl) {
  return parse_list(l, o, m, b, bl, find_group);
}
int mt_parse_sigschemes(const char *l, uint16_t *o, size_t m, char *b, size_t bl) {
  return parse_list(l, o, m, b, bl, find_scheme);
}

const char *mutls_error_name(mutls_error e) {
  switch (e) {
#define N(x)                                                                                       \
  case x: return #x;
    N(MUTLS_E_NONE) N(MUTLS_E_INTERNAL) N(MUTLS_E_NOMEM) N(MUTLS_E_CONFIG)
    N(MUTLS_E_CONFIG_FROZEN) N(MUTLS_E_STATE) N(MUTLS_E_IO) N(MUTLS_E_EOF) N(MUTLS_E_DECODE)
    N(MUTLS_E_UNEXPECTED_MESSAGE) N(MUTLS_E_ILLEGAL_PARAMETER) N(MUTLS_E_PROTOCOL_VERSION)
    N(MUTLS_E_NO_SHARED_CIPHER) N(MUTLS_E_NO_SHARED_GROUP) N(MUTLS_E_NO_SHARED_SIGALG)
    N(MUTLS_E_MISSING_EXTENSION) N(MUTLS_E_UNSUPPORTED_EXTENSION)
    N(MUTLS_E_NO_APPLICATION_PROTOCOL) N(MUTLS_E_BAD_RECORD_MAC) N(MUTLS_E_RECORD_OVERFLOW)
    N(MUTLS_E_BAD_FINISHED) N(MUTLS_E_BAD_SIGNATURE) N(MUTLS_E_CERT_UNTRUSTED)
    N(MUTLS_E_CERT_EXPIRED) N(MUTLS_E_CERT_NOT_YET_VALID) N(MUTLS_E_CERT_NAME_MISMATCH)
    N(MUTLS_E_CERT_BAD) N(MUTLS_E_CERT_UNSUPPORTED) N(MUTLS_E_CERT_MISSING)
    N(MUTLS_E_ACCESS_DENIED) N(MUTLS_E_CERT_REVOKED) N(MUTLS_E_CRL_MISSING) N(MUTLS_E_CRL_STALE)
    N(MUTLS_E_PEER_ALERT) N(MUTLS_E_TIMEOUT)
#undef N
  }
  return "MUTLS_E_UNKNOWN";
}

const char *mutls_alert_name(int a) {
  switch (a) {
  case ALERT_CLOSE_NOTIFY: return "close_notify";
  case ALERT_UNEXPECTED_MESSAGE: return "unexpected_message";
  case ALERT_BAD_RECORD_MAC: return "bad_record_mac";
  case ALERT_RECORD_OVERFLOW: return "record_overflow";
  case ALERT_HANDSHAKE_FAILURE: return "handshake_failure";
  case ALERT_BAD_CERTIFICATE: return "bad_certificate";
  case ALERT_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
  case ALERT_CERTIFICATE_REVOKED: return "certificate_revoked";
  case ALERT_CERTIFICATE_EXPIRED: return "certificate_expired";
  case ALERT_CERTIFICATE_UNKNOWN: return "certificate_unknown";
  case ALERT_ILLEGAL_PARAMETER: return "illegal_parameter";
  case ALERT_UNKNOWN_CA: return "unknown_ca";
  case ALERT_ACCESS_DENIED: return "access_denied";
  case ALERT_DECODE_ERROR: return "decode_error";
  case ALERT_DECRYPT_ERROR: return "decrypt_error";
  case ALERT_PROTOCOL_VERSION: return "protocol_version";
  case ALERT_INSUFFICIENT_SECURITY: return "insufficient_security";
  case ALERT_INTERNAL_ERROR: return "internal_error";
  case ALERT_INAPPROPRIATE_FALLBACK: return "inappropriate_fallback";
  case ALERT_USER_CANCELED: return "user_canceled";
  case ALERT_MISSING_EXTENSION: return "missing_extension";
  case ALERT_UNSUPPORTED_EXTENSION: return "unsupported_extension";
  case ALERT_UNRECOGNIZED_NAME: return "unrecognized_name";
  case ALERT_CERTIFICATE_REQUIRED: return "certificate_required";
  case ALERT_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
  }
  return "unknown_alert";
}
