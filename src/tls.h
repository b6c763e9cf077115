/* tls.h - TLS 1.3 code points (RFC 8446) and the tables built on them. */
#ifndef MUTLS_TLS_H
#define MUTLS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define TLS13 0x0304
#define TLS12 0x0303

/* Record content types (5.1). */
enum {
  CT_CHANGE_CIPHER_SPEC = 20,
  CT_ALERT = 21,
  CT_HANDSHAKE = 22,
  CT_APPLICATION_DATA = 23
};

/* Handshake message types (4). */
enum {
  HS_CLIENT_HELLO = 1,
  HS_SERVER_HELLO = 2,
  HS_NEW_SESSION_TICKET = 4,
  HS_END_OF_EARLY_DATA = 5,
  HS_ENCRYPTED_EXTENSIONS = 8,
  HS_CERTIFICATE = 11,
  HS_CERTIFICATE_REQUEST = 13,
  HS_CERTIFICATE_VERIFY = 15,
  HS_FINISHED = 20,
  HS_KEY_UPDATE = 24,
  HS_MESSAGE_HASH = 254
};

/* Extension types (4.2). */
enum {
  EXT_SERVER_NAME = 0,
  EXT_MAX_FRAGMENT_LENGTH = 1,
  EXT_STATUS_REQUEST = 5,
  EXT_SUPPORTED_GROUPS = 10,
  EXT_SIGNATURE_ALGORITHMS = 13,
  EXT_USE_SRTP = 14,
  EXT_HEARTBEAT = 15,
  EXT_ALPN = 16,
  EXT_SCT = 18,
  EXT_CLIENT_CERT_TYPE = 19,
  EXT_SERVER_CERT_TYPE = 20,
  EXT_PADDING = 21,
  EXT_PRE_SHARED_KEY = 41,
  EXT_EARLY_DATA = 42,
  EXT_SUPPORTED_VERSIONS = 43,
  EXT_COOKIE = 44,
  EXT_PSK_KEY_EXCHANGE_MODES = 45,
  EXT_CERTIFICATE_AUTHORITIES = 47,
  EXT_OID_FILTERS = 48,
  EXT_POST_HANDSHAKE_AUTH = 49,
  EXT_SIGNATURE_ALGORITHMS_CERT = 50,
  EXT_KEY_SHARE = 51
};

/* Alert descriptions (6). */
enum {
  ALERT_CLOSE_NOTIFY = 0,
  ALERT_UNEXPECTED_MESSAGE = 10,
  ALERT_BAD_RECORD_MAC = 20,
  ALERT_RECORD_OVERFLOW = 22,
  ALERT_HANDSHAKE_FAILURE = 40,
  ALERT_BAD_CERTIFICATE = 42,
  ALERT_UNSUPPORTED_CERTIFICATE = 43,
  ALERT_CERTIFICATE_REVOKED = 44,
  ALERT_CERTIFICATE_EXPIRED = 45,
  ALERT_CERTIFICATE_UNKNOWN = 46,
  ALERT_ILLEGAL_PARAMETER = 47,
  ALERT_UNKNOWN_CA = 48,
  ALERT_ACCESS_DENIED = 49,
  ALERT_DECODE_ERROR = 50,
  ALERT_DECRYPT_ERROR = 51,
  ALERT_PROTOCOL_VERSION = 70,
  ALERT_INSUFFICIENT_SECURITY = 71,
  ALERT_INTERNAL_ERROR = 80,
  ALERT_INAPPROPRIATE_FALLBACK = 86,
  ALERT_USER_CANCELED = 90,
  ALERT_MISSING_EXTENSION = 109,
  ALERT_UNSUPPORTED_EXTENSION = 110,
  ALERT_UNRECOGNIZED_NAME = 112,
  ALERT_CERTIFICATE_REQUIRED = 116,
  ALERT_NO_APPLICATION_PROTOCOL = 120
};

/* Named limits (5.1, 5.2). */
#define MT_MAX_PLAINTEXT 16384
#define MT_MAX_CIPHERTEXT (16384 + 256)
#define MT_RECORD_HEADER 5
#define MT_MAX_RECORD (MT_RECORD_HEADER + MT_MAX_CIPHERTEXT)
#define MT_MAX_HANDSHAKE_MESSAGE (256 * 1024)
#define MT_MAX_EXTENSIONS 64
#define MT_MAX_ALPN 255

typedef struct {
  uint16_t id;
  const char *name;
  mt_aead_alg aead;
  mt_hash_alg hash;
} mt_suite;

#define TLS_AES_128_GCM_SHA256 0x1301
#define TLS_AES_256_GCM_SHA384 0x1302
#define TLS_CHACHA20_POLY1305_SHA256 0x1303

const mt_suite *mt_suite_by_id(uint16_t id);
const char *mt_group_name(uint16_t group);
const char *mt_sigscheme_name(uint16_t scheme);

/* Parse a colon/comma separated list of names into code points; returns the
 * count or -1 (and the bad name in bad). */
int mt_parse_suites(const char *list, uint16_t *out, size_t max, char *bad, size_t bad_len);
int mt_parse_groups(const char *list, uint16_t *out, size_t max, char *bad, size_t bad_len);
int mt_parse_sigschemes(const char *list, uint16_t *out, size_t max, char *bad, size_t bad_len);

#endif
