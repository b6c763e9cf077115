/*
 * neg.h - the shared core of the hostile-input suite (tests/negative/).
 *
 * Every case ends in one verdict (neg_expect_fail): the victim connection
 * failed with the exact error code, put exactly one fatal alert on the wire
 * (byte for byte when it is plaintext, 15 03 03 00 02 02 XX; when it is
 * sealed, the honest peer decrypts it and must report XX as received), says
 * why in a sentence, and is closed for good (input and writes refused,
 * nothing more sent). LeakSanitizer checks the rest at exit.
 *
 * Tools: hex with repeats ("00*31"), plaintext record framing, an honest
 * in-memory pair, and the mutate hook of src/internal.h, which rewrites one
 * outgoing handshake message of a "liar" before it is hashed and sealed.
 *
 * Each test_*.c here includes this file; everything in it is static.
 */
#ifndef MUTLS_TEST_NEG_H
#define MUTLS_TEST_NEG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h" /* mt_test_inject; the record keys (wr_encrypted, wr) */

#define NEG_FN static __attribute__((unused))
/* Room for any flight a test moves (an RSA chain fits easily). */
#define NEG_MAX 70000

/* The expected outcome of a case, as designated initializers of its
 * `alert` and `err` fields. */
#define FAILS(a, e) .alert = (a), .err = (e)
#define DECODE FAILS(ALERT_DECODE_ERROR, MUTLS_E_DECODE)
#define ILLEGAL FAILS(ALERT_ILLEGAL_PARAMETER, MUTLS_E_ILLEGAL_PARAMETER)
#define MISSING FAILS(ALERT_MISSING_EXTENSION, MUTLS_E_MISSING_EXTENSION)
#define VERSION FAILS(ALERT_PROTOCOL_VERSION, MUTLS_E_PROTOCOL_VERSION)
#define UNSUPPORTED FAILS(ALERT_UNSUPPORTED_EXTENSION, MUTLS_E_UNSUPPORTED_EXTENSION)
#define UNEXPECTED FAILS(ALERT_UNEXPECTED_MESSAGE, MUTLS_E_UNEXPECTED_MESSAGE)
#define OVERFLOW FAILS(ALERT_RECORD_OVERFLOW, MUTLS_E_RECORD_OVERFLOW)

/* An X25519 key share that any peer accepts: u = 9, the base point. */
#define X25519_PUB "09 00*31"

/* ---- bytes ------------------------------------------------------------- */

static int neg_nibble(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch = (char)(ch | 0x20);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A malformed hex string or a full buffer is a bug in the test itself. */
static void neg_die(const char *what, const char *where) {
  fprintf(stderr, "neg.h: %s at \"%.20s\"\n", what, where);
  exit(2);
}

/* Bytes from hex into out; spaces are ignored and "ab*5" is five 0xab.
 * Returns the number of bytes. */
NEG_FN size_t neg_hex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (*s) {
    if (*s == ' ') {
      s++;
      continue;
    }
    int hi = neg_nibble(s[0]), lo = hi < 0 ? -1 : neg_nibble(s[1]);
    if (lo < 0) neg_die("bad hex", s);
    const char *at = s;
    s += 2;
    unsigned long rep = 1;
    if (*s == '*') {
      char *end;
      rep = strtoul(s + 1, &end, 10);
      s = end;
    }
    if (rep > cap - n) neg_die("hex longer than its buffer", at);
    memset(out + n, hi << 4 | lo, rep);
    n += rep;
  }
  return n;
}

NEG_FN void neg_put_u16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

NEG_FN size_t neg_get_u16(const uint8_t *p) { return (size_t)p[0] << 8 | p[1]; }
NEG_FN size_t neg_get_u24(const uint8_t *p) { return (size_t)p[0] << 16 | neg_get_u16(p + 1); }

NEG_FN void neg_put_u24(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 16);
  neg_put_u16(p + 1, v);
}

/* One plaintext record of content type ct holding body. */
NEG_FN size_t neg_record(uint8_t ct, const uint8_t *body, size_t len, uint8_t *out) {
  out[0] = ct;
  out[1] = 0x03;
  out[2] = 0x03;
  neg_put_u16(out + 3, len);
  if (len) memmove(out + 5, body, len);
  return len + 5;
}

/* One handshake message (type, u24 length, body) in one plaintext record. */
NEG_FN size_t neg_hs_record(uint8_t type, const uint8_t *body, size_t len, uint8_t *out) {
  uint8_t msg[NEG_MAX];
  msg[0] = type;
  neg_put_u24(msg + 1, len);
  memcpy(msg + 4, body, len);
  return neg_record(CT_HANDSHAKE, msg, len + 4, out);
}

/* ---- moving bytes ----------------------------------------------------- */

/* Everything c has to send, up to cap bytes. */
NEG_FN size_t neg_take(mutls_conn *c, uint8_t *out, size_t cap) {
  size_t total = 0, n;
  while (total < cap && mutls_conn_send(c, out + total, cap - total, &n) == MUTLS_OK && n > 0)
    total += n;
  return total;
}

/* Feeds in to c, reading away any application data that blocks it.
 * Returns MUTLS_OK once all was taken, else the first refusal. */
NEG_FN int neg_feed(mutls_conn *c, const uint8_t *in, size_t len) {
  size_t off = 0, used;
  uint8_t sink[4096];
  while (off < len) {
    int rc = mutls_conn_recv(c, in + off, len - off, &used);
    if (rc != MUTLS_OK) return rc;
    if (used == 0 && mutls_conn_read(c, sink, sizeof sink) <= 0) return MUTLS_WANT_READ;
    off += used;
  }
  return MUTLS_OK;
}

NEG_FN int neg_feed_hex(mutls_conn *c, const char *hex) {
  uint8_t buf[NEG_MAX];
  return neg_feed(c, buf, neg_hex(hex, buf, sizeof buf));
}

/* Moves what from has pending into to; returns the bytes moved. */
NEG_FN size_t neg_move(mutls_conn *from, mutls_conn *to) {
  static uint8_t buf[NEG_MAX];
  size_t n = neg_take(from, buf, sizeof buf);
  neg_feed(to, buf, n);
  return n;
}

/* ---- an honest pair ----------------------------------------------------- */

typedef struct {
  const char *leaf;          /* server certificate for tu_server_config; "p256" if NULL */
  const char *host;          /* the name the client checks; "localhost" if NULL */
  const char *s_alpn, *c_alpn; /* ALPN lists, or NULL */
} neg_opts;

typedef struct {
  mutls_config *sc, *cc;
  mutls_conn *s, *c;
} neg_pair;

/* 0, or -1 (free the pair all the same). */
NEG_FN int neg_pair_new(neg_pair *p, const neg_opts *o) {
  static const neg_opts defaults;
  if (!o) o = &defaults;
  memset(p, 0, sizeof *p);
  p->sc = tu_server_config(o->leaf ? o->leaf : "p256");
  p->cc = tu_client_config();
  if (!p->sc || !p->cc) return -1;
  if ((o->s_alpn && mutls_config_set_alpn(p->sc, o->s_alpn) != MUTLS_OK) ||
      (o->c_alpn && mutls_config_set_alpn(p->cc, o->c_alpn) != MUTLS_OK))
    return -1;
  p->s = mutls_server_new(p->sc);
  p->c = mutls_client_new(p->cc, o->host ? o->host : "localhost");
  return p->s && p->c ? 0 : -1;
}

/* A pair whose handshake completed. */
NEG_FN int neg_pair_connected(neg_pair *p, const neg_opts *o) {
  return neg_pair_new(p, o) == 0 && tu_pump(p->c, p->s) == 0 ? 0 : -1;
}

NEG_FN void neg_pair_free(neg_pair *p) {
  mutls_conn_free(p->c);
  mutls_conn_free(p->s);
  mutls_config_free(p->cc);
  mutls_config_free(p->sc);
}

/* Moves flights both ways until victim fails (or 4 rounds pass). The
 * victim's own output stays with it, for the verdict to read. */
NEG_FN void neg_drive(neg_pair *p, mutls_conn *victim) {
  for (int i = 0; i < 4 && mutls_conn_error(victim) == MUTLS_E_NONE; i++) {
    neg_move(p->c, p->s);
    if (mutls_conn_error(victim) != MUTLS_E_NONE) break;
    neg_move(p->s, p->c);
  }
}

/* ---- the mutate hook -------------------------------------------------- */

/* Rewrites msg (header included, len bytes, room for cap); returns the new
 * length. arg is the case's parameter (hex, usually). */
typedef size_t (*neg_edit_fn)(uint8_t *msg, size_t len, size_t cap, const char *arg);

typedef struct {
  uint8_t type; /* the first outgoing message of this type is edited */
  neg_edit_fn edit;
  const char *arg;
  int done;
} neg_mutation;

static size_t neg_mutate_hook(void *arg, uint8_t *msg, size_t len, size_t cap) {
  neg_mutation *m = arg;
  if (m->done || len < 4 || msg[0] != m->type) return len;
  m->done = 1;
  return m->edit(msg, len, cap, m->arg);
}

/* From now on the liar sends m's edit of its next message of m->type. */
NEG_FN void neg_lie(mutls_conn *liar, neg_mutation *m) {
  mt_test_inject t;
  memset(&t, 0, sizeof t);
  t.mutate = neg_mutate_hook;
  t.mutate_arg = m;
  mt_test_inject_set(liar, &t);
}

/* Edits shared by the suites. */
/* The body becomes arg (hex); the type stays. */
NEG_FN size_t neg_ed_body(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t n = neg_hex(arg, m + 4, cap - 4);
  neg_put_u24(m + 1, n);
  return n + 4;
}
/* Flips the low bit of the last byte (of a signature, of a MAC). */
NEG_FN size_t neg_ed_flip_last(uint8_t *m, size_t len, size_t cap, const char *arg) {
  m[len - 1] ^= 0x01;
  return len;
}
/* Drops the last byte of the body. */
NEG_FN size_t neg_ed_short(uint8_t *m, size_t len, size_t cap, const char *arg) {
  neg_put_u24(m + 1, len - 5);
  return len - 1;
}
/* The message type becomes arg (one byte of hex). */
NEG_FN size_t neg_ed_type(uint8_t *m, size_t len, size_t cap, const char *arg) {
  neg_hex(arg, m, 1);
  return len;
}

/* ---- the verdict -------------------------------------------------------- */

/* Appends one complaint to why (cap bytes). */
__attribute__((format(printf, 3, 4))) static void neg_say(char *why, size_t cap,
                                                          const char *fmt, ...) {
  size_t at = strlen(why);
  va_list ap;
  if (at + 3 >= cap) return;
  if (at) at += (size_t)snprintf(why + at, cap - at, "; ");
  va_start(ap, fmt);
  vsnprintf(why + at, cap - at, fmt, ap);
  va_end(ap);
}

/* The alert the victim's output carries: when the victim writes in the
 * clear, the output must be exactly 15 03 03 00 02 02 XX; when sealed, it
 * must be one record of 2 + 1 + 16 bytes, which peer (if any) decrypts and
 * reports as received (without a peer, the shape is all we check and the
 * victim's alert_sent is returned). -1: no output; -2: anything else; -3:
 * the peer did not take it as a fatal alert. */
static int neg_wire_alert(mutls_conn *victim, mutls_conn *peer, const uint8_t *out, size_t n) {
  static const uint8_t plain[6] = {CT_ALERT, 0x03, 0x03, 0x00, 0x02, 0x02};
  static const uint8_t sealed[5] = {CT_APPLICATION_DATA, 0x03, 0x03, 0x00, 2 + 1 + MT_AEAD_TAG};
  if (n == 0) return -1;
  if (!victim->wr_encrypted) return n == 7 && memcmp(out, plain, 6) == 0 ? out[6] : -2;
  if (n != 5 + 2 + 1 + MT_AEAD_TAG || memcmp(out, sealed, 5) != 0) return -2;
  if (!peer) return mutls_conn_alert_sent(victim);
  neg_feed(peer, out, n);
  return mutls_conn_error(peer) == MUTLS_E_PEER_ALERT ? mutls_conn_alert_received(peer) : -3;
}

/* 1 if c is closed for good: recv, read and write refused, nothing more to
 * send, the first error kept. */
static int neg_closed(mutls_conn *c) {
  static const uint8_t rec[] = {CT_APPLICATION_DATA, 0x03, 0x03, 0x00, 0x01, 0x00};
  mutls_error e = mutls_conn_error(c);
  uint8_t out[64];
  size_t used = 1, n = 1;
  return mutls_conn_recv(c, rec, sizeof rec, &used) == MUTLS_ERR && used == 0 &&
         mutls_conn_read(c, out, sizeof out) == MUTLS_ERR &&
         mutls_conn_write(c, "x", 1) == MUTLS_ERR &&
         mutls_conn_send(c, out, sizeof out, &n) == MUTLS_ERR && n == 0 &&
         !mutls_conn_handshake_done(c) && mutls_conn_error(c) == e;
}

/* Writes into why every way the victim differs from: failed with err,
 * alert (-1: none) sent and on the wire, an explanation, closed. */
NEG_FN void neg_judge(mutls_conn *victim, mutls_conn *peer, int alert, mutls_error err,
                      char *why, size_t cap) {
  static uint8_t out[NEG_MAX];
  size_t n = neg_take(victim, out, sizeof out);
  int wire = neg_wire_alert(victim, peer, out, n);
  why[0] = 0;
  if (mutls_conn_error(victim) != err)
    neg_say(why, cap, "error %s, want %s", mutls_error_name(mutls_conn_error(victim)),
            mutls_error_name(err));
  if (mutls_conn_alert_sent(victim) != alert)
    neg_say(why, cap, "alert_sent %d, want %d", mutls_conn_alert_sent(victim), alert);
  if (wire != alert)
    neg_say(why, cap, "alert on the wire %d, want %d (%zu bytes out)", wire, alert, n);
  if (!mutls_conn_explain(victim)[0]) neg_say(why, cap, "no explanation");
  if (!neg_closed(victim)) neg_say(why, cap, "not closed");
}

/* The verdict of a case: judged as above, and (if says) the explanation
 * names says. */
NEG_FN void neg_expect_fail(const char *name, mutls_conn *victim, mutls_conn *peer, int alert,
                            mutls_error err, const char *says) {
  char why[1024];
  neg_judge(victim, peer, alert, err, why, sizeof why);
  if (says && !strstr(mutls_conn_explain(victim), says))
    neg_say(why, sizeof why, "explanation lacks \"%s\"", says);
  CHECKF(name, !why[0], "%s; explain: \"%s\"", why, mutls_conn_explain(victim));
}

#endif
