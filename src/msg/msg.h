/* msg.h - decode handshake messages into structs before acting on them. */
#ifndef MUTLS_MSG_H
#define MUTLS_MSG_H

#include "bytes.h"
#include "tls.h"

/* Which messages may carry an extension (RFC 8446 4.2's table). */
enum {
  M_CH = 1 << 0,
  M_SH = 1 << 1,
  M_HRR = 1 << 2,
  M_EE = 1 << 3,
  M_CT = 1 << 4,
  M_CR = 1 << 5,
  M_NST = 1 << 6
};

typedef struct {
  uint16_t type;
  mt_reader body;
} mt_ext;

typedef struct {
  mt_ext e[MT_MAX_EXTENSIONS];
  size_t n;
} mt_exts;

/* Parses an extensions block (the u16-prefixed list) for message kind msg.
 * Returns 0, or the alert to send: decode_error for bad framing or too many
 * extensions, illegal_parameter for a duplicate or for a known extension
 * that the table does not allow in msg. Unknown types are kept (the caller
 * decides: ignored in ClientHello, unsupported_extension in replies). */
int mt_exts_parse(mt_reader *r, unsigned msg, mt_exts *out);
/* The extension of that type, or NULL. */
mt_ext *mt_exts_find(mt_exts *x, uint16_t type);
/* Bitmask position for the extensions mutls knows, -1 for others. */
int mt_ext_known(uint16_t type);

typedef struct {
  uint16_t legacy_version;
  const uint8_t *random;
  const uint8_t *session_id;
  size_t session_id_len;
  mt_reader suites;
  mt_reader compression;
  mt_exts exts;
} mt_client_hello;

/* 4.1.2. Returns 0 or an alert. */
int mt_client_hello_decode(const uint8_t *body, size_t len, mt_client_hello *ch);

typedef struct {
  uint16_t legacy_version;
  const uint8_t *random;
  const uint8_t *session_id;
  size_t session_id_len;
  uint16_t suite;
  uint8_t compression;
  int is_hrr;
  mt_exts exts;
} mt_server_hello;

/* 4.1.3 / 4.1.4. Returns 0 or an alert. */
int mt_server_hello_decode(const uint8_t *body, size_t len, mt_server_hello *sh);

extern const uint8_t mt_hrr_random[32];

/* Reads a u16 list (e.g. supported_groups) and reports whether v is in it.
 * Returns -1 if the list is malformed (odd length or empty). */
int mt_u16_list_check(mt_reader list, int lenbytes);
int mt_u16_list_has(mt_reader list, uint16_t v);

#endif
