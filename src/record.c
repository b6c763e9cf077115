/* record.c - the record layer (RFC 8446 section 5): framing, protection,
 * the ChangeCipherSpec rule, alerts, and handshake reassembly. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int mt_dir_set(mutls_conn *c, mt_dir *d, const uint8_t *secret, int encrypt) {
  uint8_t key[MT_MAX_AEAD_KEY];
  size_t klen = mt_aead_key_len(c->suite->aead);
  int rc = -1;
  /* A direction keeps its suite and its way: the next keys (handshake to
   * application, KeyUpdate) re-key its context instead of building one. */
  mt_aead *keep = d->aead;
  d->aead = NULL;
  mt_dir_clear(d);
  if (mt_ks_traffic_keys(c->suite->hash, secret, key, klen, d->iv) == 0) {
    if (keep != NULL && mt_aead_rekey(keep, key) == 0) {
      d->aead = keep;
      keep = NULL;
      rc = 0;
    } else if ((d->aead = mt_aead_new(c->suite->aead, key, encrypt)) != NULL) {
      rc = 0;
    }
  }
  mt_aead_free(keep);
  mt_wipe(key, sizeof key);
  return rc;
}

void mt_dir_clear(mt_dir *d) {
  mt_aead_free(d->aead);
  mt_wipe(d, sizeof *d);
}

/* 5.3: the per-record nonce is the IV XOR the padded sequence number. */
static void nonce_for(const mt_dir *d, uint8_t *n) {
  memcpy(n, d->iv, MT_AEAD_NONCE);
  for (int i = 0; i < 8; i++) n[MT_AEAD_NONCE - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

/* 5.2: seals one record of type ct holding len <= MT_MAX_PLAINTEXT bytes
 * into rec, which has room for len + MT_RECORD_OVERHEAD bytes: the header,
 * then TLSInnerPlaintext = content || type (no padding) sealed straight
 * from the caller's bytes, so no plaintext copy is made. The one place that
 * seals, for the output queue and for the caller's buffer alike. On failure
 * the sequence number is unchanged and rec is wiped: no partial record. */
static int seal_record(mutls_conn *c, uint8_t ct, const uint8_t *data, size_t len, uint8_t *rec) {
  size_t total = len + 1 + MT_AEAD_TAG;
  uint8_t nonce[MT_AEAD_NONCE];
  /* 5.5: never let the sequence number wrap; KeyUpdate comes long before. */
  if (c->wr.seq == UINT64_MAX) return -1;
  rec[0] = CT_APPLICATION_DATA;
  rec[1] = 0x03;
  rec[2] = 0x03;
  rec[3] = (uint8_t)(total >> 8);
  rec[4] = (uint8_t)total;
  nonce_for(&c->wr, nonce);
  if (mt_aead_seal2(c->wr.aead, nonce, rec, MT_RECORD_HEADER, data, len, &ct, 1,
                    rec + MT_RECORD_HEADER) != 0) {
    mt_wipe(rec, MT_RECORD_HEADER + total);
    return -1;
  }
  c->wr.seq++;
  return 0;
}

/* One record holding at most MT_MAX_PLAINTEXT bytes, into c->out. */
static int write_one(mutls_conn *c, uint8_t ct, const uint8_t *data, size_t len) {
  if (!c->wr_encrypted) {
    mt_w_u8(&c->out, ct);
    /* 5.1: 0x0301 is allowed (and most compatible) for the initial
     * ClientHello only; everything else says 0x0303. */
    int initial_hello = ct == CT_HANDSHAKE && !c->is_server && c->state <= ST_C_WAIT_SH && !c->hrr;
    mt_w_u16(&c->out, initial_hello ? 0x0301 : TLS12);
    mt_w_u16(&c->out, (uint16_t)len);
    mt_w_bytes(&c->out, data, len);
    return mt_w_failed(&c->out) ? -1 : 0;
  }
  size_t at = c->out.len;
  uint8_t *rec = mt_w_space(&c->out, len + MT_RECORD_OVERHEAD);
  if (!rec) return -1;
  if (seal_record(c, ct, data, len, rec) != 0) {
    c->out.len = at;
    return -1;
  }
  return 0;
}

int mt_record_write(mutls_conn *c, uint8_t ct, const uint8_t *data, size_t len) {
  do {
    size_t n = len > MT_MAX_PLAINTEXT ? MT_MAX_PLAINTEXT : len;
    if (write_one(c, ct, data, n) != 0) return -1;
    data += n;
    len -= n;
  } while (len > 0);
  return 0;
}

long mt_record_seal_into(mutls_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                         size_t *produced) {
  size_t taken = 0;
  /* Room for at least one byte of content, or stop. */
  while (taken < len && cap - *produced > MT_RECORD_OVERHEAD) {
    size_t n = cap - *produced - MT_RECORD_OVERHEAD;
    if (n > MT_MAX_PLAINTEXT) n = MT_MAX_PLAINTEXT;
    if (n > len - taken) n = len - taken;
    if (seal_record(c, CT_APPLICATION_DATA, data + taken, n, out + *produced) != 0) return -1;
    *produced += n + MT_RECORD_OVERHEAD;
    taken += n;
  }
  return (long)taken;
}

/* Dispatches the whole handshake messages at the start of p (a record's
 * plaintext, or hs_in) and sets *done to the bytes they took: the rest
 * begins a message that later records complete. */
static int dispatch_messages(mutls_conn *c, const uint8_t *p, size_t len, size_t *done) {
  size_t off = 0;
  int rc = 0;
  *done = 0;
  while (c->state != ST_FAILED) {
    mt_reader r = mt_reader_init(p + off, len - off), body;
    uint8_t type;
    const uint8_t *msg = r.p;
    if (mt_r_u8(&r, &type) != 0) break;
    if (r.len >= 3 && (((size_t)r.p[0] << 16) | ((size_t)r.p[1] << 8) | r.p[2]) >
                          MT_MAX_HANDSHAKE_MESSAGE)
      return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                     "the peer sent a handshake message larger than %d bytes",
                     MT_MAX_HANDSHAKE_MESSAGE);
    if (mt_r_block(&r, 3, &body) != 0) break; /* incomplete: wait for more */
    size_t mlen = 4 + body.len;
    off += mlen;
    unsigned epoch = c->rd_epoch;
    if (c->state == ST_CONNECTED)
      rc = mt_post_handshake(c, type, body.p, body.len, msg, mlen);
    else if (c->is_server)
      rc = mt_server_handle(c, type, body.p, body.len, msg, mlen);
    else
      rc = mt_client_handle(c, type, body.p, body.len, msg, mlen);
    if (rc != 0) return -1;
    /* 5.1: a message may not share a record with data under other keys. */
    if (epoch != c->rd_epoch && off < len)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent handshake data across a key change");
  }
  *done = off;
  return c->state == ST_FAILED ? -1 : 0;
}

/* A handshake record's plaintext: whole messages are handled where they
 * lie; only a message that spans records is gathered in hs_in. */
static int handshake_record(mutls_conn *c, const uint8_t *pt, size_t len) {
  size_t done;
  if (c->hs_in.len == 0) {
    if (dispatch_messages(c, pt, len, &done) != 0) return -1;
    pt += done;
    len -= done;
    if (len == 0) return 0;
  }
  mt_w_bytes(&c->hs_in, pt, len);
  if (mt_w_failed(&c->hs_in))
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer's handshake message is too large");
  if (c->hs_in.len == len) return 0; /* a fresh tail: not complete, or it would have gone */
  if (dispatch_messages(c, c->hs_in.buf, c->hs_in.len, &done) != 0) return -1;
  /* Keep the incomplete tail. */
  size_t rest = c->hs_in.len - done;
  if (done && rest) memmove(c->hs_in.buf, c->hs_in.buf + done, rest);
  c->hs_in.len = rest;
  return 0;
}

static int handle_alert(mutls_conn *c, const uint8_t *p, size_t len) {
  /* 5.4: an empty alert is unexpected_message; 5.1: any other length than
   * one alert is malformed. */
  if (len == 0)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent an empty alert record");
  if (len != 2)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer sent a malformed alert");
  if (p[1] == ALERT_CLOSE_NOTIFY) {
    /* 6.1: a close before the handshake completes means it never will. */
    if (c->state != ST_CONNECTED)
      return mt_fail(c, MUTLS_E_EOF, -1,
                     "the peer closed the connection (close_notify) before the handshake "
                     "completed");
    c->got_close = 1;
    return 0;
  }
  if (p[1] == ALERT_USER_CANCELED) return 0; /* 6.1: followed by close_notify */
  c->alert_received = p[1];
  /* 6.2: every other alert is fatal, whatever its level says. */
  /* What we know of our own side may say why (e.g. no certificate sent). */
  /* Why we sent no certificate, when asked for one, explains whatever
   * refusal follows (peers differ: certificate_required, bad_certificate). */
  int why = c->notice && c->cert_requested && !c->cert_sent;
  return mt_fail(c, MUTLS_E_PEER_ALERT, -1, "the peer sent the alert %s: %s%s%s%s",
                 mutls_alert_name(p[1]), mt_alert_cause(p[1], c->is_server), why ? " (" : "",
                 why ? c->notice : "", why ? ")" : "");
}

/* Decrypts the record body src (c->in itself, or the caller's input) into
 * c->in; on success *ct and the plaintext span are set. */
static int open_record(mutls_conn *c, const uint8_t *src, uint8_t *ct, uint8_t **pt,
                       size_t *pt_len) {
  uint8_t *hdr = c->hdr, *body = c->in, nonce[MT_AEAD_NONCE];
  size_t len = c->in_len;
  if (len < MT_AEAD_TAG + 1)
    return mt_fail(c, MUTLS_E_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
                   "the peer sent an encrypted record too short to hold a tag");
  nonce_for(&c->rd, nonce);
  int bad = mt_aead_open(c->rd.aead, nonce, hdr, MT_RECORD_HEADER, src, len, body);
  /* c->in now holds this record's plaintext up to len - tag; what an older,
   * longer record left beyond that is wiped (the rest was overwritten). */
  size_t fresh = len - MT_AEAD_TAG;
  if (c->in_plain > fresh) mt_wipe(c->in + fresh, c->in_plain - fresh);
  c->in_plain = fresh;
  if (bad)
    return mt_fail(c, MUTLS_E_BAD_RECORD_MAC, ALERT_BAD_RECORD_MAC,
                   "a record from the peer failed to decrypt (bad_record_mac): the data "
                   "was altered in transit or the two sides derived different keys");
  c->rd.seq++;
  len -= MT_AEAD_TAG;
  /* 5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1
   * octets": content, type and padding together. */
  if (len > MT_MAX_PLAINTEXT + 1)
    return mt_fail(c, MUTLS_E_RECORD_OVERFLOW, ALERT_RECORD_OVERFLOW,
                   "the peer sent a record whose plaintext exceeds 2^14 bytes");
  /* 5.4: strip zero padding; the last non-zero byte is the real type. */
  while (len > 0 && body[len - 1] == 0) len--;
  if (len == 0)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent an encrypted record with no content type");
  *ct = body[--len];
  *pt = body;
  *pt_len = len;
  return 0;
}

/* Handles the complete record: its header in hdr, its body at src, which is
 * c->in or (protected records only) the caller's input. */
static int process_record(mutls_conn *c, const uint8_t *src) {
  uint8_t ct = c->hdr[0], *pt = (uint8_t *)src; /* only written through after open_record */
  size_t len = c->in_len;
  if (ct == CT_CHANGE_CIPHER_SPEC) {
    /* 5: a lone 0x01 CCS between the first ClientHello and the peer's
     * Finished is dropped; anything else is unexpected. 5.1: not even that
     * may split a handshake message. */
    int in_handshake = c->state != ST_CONNECTED && c->state != ST_C_WAIT_CONFIRM &&
                       (c->is_server ? c->state != ST_S_WAIT_CH : c->state != ST_START);
    if (len != 1 || pt[0] != 0x01 || !in_handshake || c->hs_in.len)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent a ChangeCipherSpec record where none is allowed");
    c->ccs_seen = 1;
    return 0;
  }
  if (c->rd_encrypted) {
    if (ct != CT_APPLICATION_DATA)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent an unprotected record after keys were established");
    if (open_record(c, src, &ct, &pt, &len) != 0) return -1;
  } else if (ct == CT_APPLICATION_DATA) {
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent application data before the handshake protected it");
  }
  /* Confirmation: the server's first protected flight after our Finished
   * (a ticket or data) says it accepted us; a refusal is an alert. */
  if (c->state == ST_C_WAIT_CONFIRM && (ct == CT_HANDSHAKE || ct == CT_APPLICATION_DATA)) {
    c->state = ST_CONNECTED;
    c->confirmed = 1;
  }
  /* 5.1: handshake messages may not be interleaved with other types. */
  if (ct != CT_HANDSHAKE && c->hs_in.len)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer interleaved another record type inside a handshake message");
  switch (ct) {
  case CT_ALERT: return handle_alert(c, pt, len);
  case CT_HANDSHAKE:
    if (len == 0)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent an empty handshake record");
    return handshake_record(c, pt, len);
  case CT_APPLICATION_DATA:
    if (c->state != ST_CONNECTED)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent application data before the handshake finished");
    if (c->got_close)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent data after close_notify");
    c->app_off = (size_t)(pt - c->in);
    c->app_len = len;
    return 0;
  default:
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent a record of unknown content type %u", ct);
  }
}

static size_t record_length(const mutls_conn *c) {
  return ((size_t)c->hdr[3] << 8) | c->hdr[4];
}

/* 5.1/5.2: checks the header of the record being assembled. */
static int check_header(mutls_conn *c) {
  size_t rlen = record_length(c);
  /* Plaintext records hold at most 2^14 bytes, protected ones 2^14 + 256. */
  size_t max = c->rd_encrypted || c->hdr[0] == CT_APPLICATION_DATA ? MT_MAX_CIPHERTEXT
                                                                   : MT_MAX_PLAINTEXT;
  if (c->hdr[0] < CT_CHANGE_CIPHER_SPEC || c->hdr[0] > CT_APPLICATION_DATA)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent bytes that are not a TLS record (type %u); is it "
                   "speaking TLS on this port?",
                   c->hdr[0]);
  if (rlen > max)
    return mt_fail(c, MUTLS_E_RECORD_OVERFLOW, ALERT_RECORD_OVERFLOW,
                   "the peer sent a %zu-byte record; the limit is %zu", rlen, max);
  return 0;
}

size_t mt_record_want(const mutls_conn *c) {
  if (c->state == ST_FAILED || c->app_len || c->got_close) return 0;
  if (c->hdr_len < MT_RECORD_HEADER) return MT_RECORD_HEADER - c->hdr_len;
  return record_length(c) - c->in_len;
}

/* The body buffer holds the whole record: grown by copy, so that what the
 * old one held can be wiped. */
static int reserve_body(mutls_conn *c, size_t need) {
  if (need <= c->in_cap) return 0;
  uint8_t *nb = malloc(need);
  if (!nb)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory for a %zu-byte record",
                   need);
  if (c->in_len) memcpy(nb, c->in, c->in_len);
  mt_wipe(c->in, c->in_cap);
  free(c->in);
  c->in = nb;
  c->in_cap = need;
  c->in_plain = 0; /* what was copied is ciphertext being assembled */
  return 0;
}

uint8_t *mt_record_room(mutls_conn *c, size_t *want) {
  *want = mt_record_want(c);
  if (*want == 0) return NULL;
  if (c->hdr_len < MT_RECORD_HEADER) return c->hdr + c->hdr_len;
  if (reserve_body(c, record_length(c)) != 0) return NULL;
  return c->in + c->in_len;
}

void mt_record_filled(mutls_conn *c, size_t n) {
  if (c->hdr_len < MT_RECORD_HEADER) {
    c->hdr_len += n;
    /* A bad header fails here, before any body is taken or allocated. */
    if (c->hdr_len == MT_RECORD_HEADER) (void)check_header(c);
  } else {
    c->in_len += n;
  }
}

static int record_complete(const mutls_conn *c) {
  return c->hdr_len == MT_RECORD_HEADER && c->in_len == record_length(c);
}

/* A whole protected record at the start of p: its header is taken and its
 * body opened straight out of p into c->in, without copying it first.
 * Returns the bytes it took, 0 when p holds no whole record, or -1. */
static long whole_record(mutls_conn *c, const uint8_t *p, size_t len) {
  if (!c->rd_encrypted || c->hdr_len || len < MT_RECORD_HEADER) return 0;
  size_t rlen = ((size_t)p[3] << 8) | p[4];
  if (len - MT_RECORD_HEADER < rlen) return 0;
  memcpy(c->hdr, p, MT_RECORD_HEADER);
  c->hdr_len = MT_RECORD_HEADER;
  if (check_header(c) != 0 || reserve_body(c, rlen) != 0) return -1;
  c->in_len = rlen;
  return (long)(MT_RECORD_HEADER + rlen);
}

/* The record in hdr and src is complete: handles it, sends what it made us
 * say, and makes room for the next. */
static int finish_record(mutls_conn *c, const uint8_t *src) {
  int rc = process_record(c, src);
  c->hdr_len = c->in_len = 0;
  if (rc != 0 || mt_flush_handshake(c) != 0) return -1;
  mt_after_record(c);
  return 0;
}

int mt_record_recv(mutls_conn *c, const uint8_t *in, size_t len, size_t *used) {
  *used = 0;
  while (c->state != ST_FAILED && c->app_len == 0 && !c->got_close) {
    if (record_complete(c)) {
      if (finish_record(c, c->in) != 0) return -1;
      continue;
    }
    long whole = whole_record(c, in + *used, len - *used);
    if (whole < 0) return -1;
    if (whole > 0) {
      const uint8_t *body = in + *used + MT_RECORD_HEADER;
      *used += (size_t)whole;
      if (finish_record(c, body) != 0) return -1;
      continue;
    }
    size_t want;
    uint8_t *room = mt_record_room(c, &want);
    if (!room) break; /* failed (checked below) */
    if (want > len - *used) want = len - *used;
    if (want == 0) break;
    memcpy(room, in + *used, want);
    mt_record_filled(c, want);
    *used += want;
  }
  return c->state == ST_FAILED ? -1 : 0;
}

int mt_set_read_key(mutls_conn *c, const uint8_t *secret) {
  c->rd_epoch++;
  c->rd_encrypted = 1;
  return mt_dir_set(c, &c->rd, secret, 0);
}

int mt_set_write_key(mutls_conn *c, const uint8_t *secret) {
  if (mt_flush_handshake(c) != 0) return -1;
  c->wr_encrypted = 1;
  return mt_dir_set(c, &c->wr, secret, 1);
}
