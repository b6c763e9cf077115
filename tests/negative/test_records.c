/*
 * test_records.c - hostile records (RFC 8446 5, 6): bad framing, lengths and
 * content types, the ChangeCipherSpec rule, interleaving, corrupted and
 * oversized ciphertext, alerts from the peer. Each case checks the exact
 * alert on the wire, the error code and that the victim is closed (neg.h).
 */
#include "negative/neg.h"

/* ---- plaintext phase: raw bytes to a fresh server or client ----------- */

typedef struct {
  const char *name;
  const char *hex; /* what the victim receives */
  int alert;
  mutls_error err;
} raw_case;

/* To a server waiting for a ClientHello. */
static const raw_case to_server[] = {
    /* 5.1: a TLSPlaintext fragment holds at most 2^14 bytes; the header alone decides. */
    {"record: plaintext length 2^14+1 -> record_overflow (5.1)", "16 0303 4001",
     OVERFLOW},
    /* 5.2: even an application_data-typed record may not claim over 2^14+256. */
    {"record: ciphertext length 2^14+256+1 before keys -> record_overflow (5.2)", "17 0303 4101",
     OVERFLOW},
    /* 5: "receives an unexpected record type ... unexpected_message". */
    {"record: unknown content type 24 -> unexpected_message (5)", "18 0303 0001 00",
     UNEXPECTED},
    {"record: an HTTP request on the TLS port -> unexpected_message (5)",
     "474554202f20485454502f312e310d0a0d0a", UNEXPECTED},
    /* 5.1/2: application data may only flow under traffic keys. */
    {"record: application data before the handshake -> unexpected_message (5.1)",
     "17 0303 0005 68656c6c6f", UNEXPECTED},
    /* 5: a ChangeCipherSpec before the first ClientHello is not allowed. */
    {"record: ChangeCipherSpec before the ClientHello -> unexpected_message (5)",
     "14 0303 0001 01", UNEXPECTED},
    /* 5.1, 6: an alert is exactly two bytes, never fragmented or padded out. */
    {"record: alert record of length 3 -> decode_error (5.1, 6)", "15 0303 0003 02 28 00",
     DECODE},
    {"record: alert record of length 1 -> decode_error (5.1, 6)", "15 0303 0001 02",
     DECODE},
    /* 5.1: "MUST NOT send zero-length fragments of Handshake types". */
    {"record: empty handshake record -> unexpected_message (5.1)", "16 0303 0000",
     UNEXPECTED},
    /* 5.1: a handshake message split over records has nothing in between. */
    {"record: handshake message interleaved with an alert -> unexpected_message (5.1)",
     "16 0303 0004 01 000100  15 0303 0002 01 00", UNEXPECTED},
    {"record: handshake message interleaved with application data -> unexpected_message (5.1)",
     "16 0303 0004 01 000100  17 0303 0001 00", UNEXPECTED},
    /* Our bound on one handshake message (MT_MAX_HANDSHAKE_MESSAGE, 256 KiB):
     * refused from its header, before anything is buffered. */
    {"record: handshake message claiming 16 MiB -> decode_error (our limit)",
     "16 0303 0004 01 ffffff", DECODE},
};

/* To a client that sent its ClientHello and waits for the ServerHello. */
static const raw_case to_client[] = {
    /* 5: only a single byte 0x01 is tolerated as ChangeCipherSpec. */
    {"record: ChangeCipherSpec with value 2 -> unexpected_message (5)", "14 0303 0001 02",
     UNEXPECTED},
    {"record: ChangeCipherSpec of length 2 -> unexpected_message (5)", "14 0303 0002 0101",
     UNEXPECTED},
    {"record: ChangeCipherSpec of length 0 -> unexpected_message (5)", "14 0303 0000",
     UNEXPECTED},
    /* 5.1: a valid CCS still may not split a handshake message. */
    {"record: ChangeCipherSpec inside a fragmented ServerHello -> unexpected_message (5.1)",
     "16 0303 0004 02 000100  14 0303 0001 01", UNEXPECTED},
};

static void raw_cases(const raw_case *k, size_t n, int client) {
  for (size_t i = 0; i < n; i++) {
    neg_pair p;
    uint8_t ch[NEG_MAX];
    if (neg_pair_new(&p, NULL) == 0) {
      mutls_conn *victim = client ? p.c : p.s;
      if (client) neg_take(p.c, ch, sizeof ch); /* the ClientHello goes nowhere */
      neg_feed_hex(victim, k[i].hex);
      neg_expect_fail(k[i].name, victim, NULL, k[i].alert, k[i].err, NULL);
    } else {
      CHECK(k[i].name, 0);
    }
    neg_pair_free(&p);
  }
}

/* 5.1: a record may arrive in pieces; a cut-off header is not an error. */
static void truncated_header(void) {
  neg_pair p;
  uint8_t ch[NEG_MAX];
  size_t n = 0, used = 0;
  int ok = neg_pair_new(&p, NULL) == 0 && (n = neg_take(p.c, ch, sizeof ch)) > 5;
  int waits = ok && mutls_conn_recv(p.s, ch, 3, &used) == MUTLS_OK && used == 3 &&
              mutls_conn_pending(p.s) == 0 && mutls_conn_error(p.s) == MUTLS_E_NONE &&
              mutls_conn_alert_sent(p.s) == -1 && mutls_conn_recv(p.s, ch, 0, &used) == MUTLS_OK;
  CHECK("record: a truncated record header then silence is no error (5.1)", waits);
  for (size_t i = 3; waits && i < n; i++)
    waits = mutls_conn_recv(p.s, ch + i, 1, &used) == MUTLS_OK && used == 1;
  CHECK("record: the rest fed byte by byte completes the handshake (control)",
        waits && mutls_conn_pending(p.s) > 0 && tu_pump(p.c, p.s) == 0);
  neg_pair_free(&p);
}

/* 5: a lone CCS 0x01 after the ClientHello is dropped (middlebox mode). */
static void ccs_tolerated(void) {
  neg_pair p;
  uint8_t ch[NEG_MAX];
  int ok = neg_pair_new(&p, NULL) == 0 && neg_take(p.c, ch, sizeof ch) > 0 &&
           neg_feed_hex(p.c, "14 0303 0001 01") == MUTLS_OK &&
           mutls_conn_error(p.c) == MUTLS_E_NONE && mutls_conn_pending(p.c) == 0;
  CHECK("record: a lone ChangeCipherSpec 0x01 after the ClientHello is dropped (5, control)", ok);
  neg_pair_free(&p);
}

/* 6.2: a fatal alert ends the connection; 6: so does any alert but
 * close_notify and user_canceled, whatever its level says. */
static void peer_alert(const char *name, const char *hex) {
  neg_pair p;
  char why[1024] = "setup failed";
  if (neg_pair_new(&p, NULL) == 0) {
    neg_feed_hex(p.s, hex);
    neg_judge(p.s, NULL, -1, MUTLS_E_PEER_ALERT, why, sizeof why);
    if (mutls_conn_alert_received(p.s) != ALERT_HANDSHAKE_FAILURE)
      neg_say(why, sizeof why, "alert_received %d", mutls_conn_alert_received(p.s));
    if (!strstr(mutls_conn_explain(p.s), "handshake_failure"))
      neg_say(why, sizeof why, "the explanation does not name the alert");
  }
  CHECKF(name, !why[0], "%s; explain: \"%s\"", why, p.s ? mutls_conn_explain(p.s) : "");
  neg_pair_free(&p);
}

/* ---- protected phase: hostile records to a connected side ------------- */

/* Seals one record as `from` would, but with any inner type and padding:
 * TLSInnerPlaintext = content || type || pad zeros (5.2, 5.4). */
static size_t seal(mutls_conn *from, uint8_t type, const char *content_hex, size_t pad,
                   uint8_t *out) {
  uint8_t nonce[MT_AEAD_NONCE];
  size_t len = neg_hex(content_hex, out + 5, NEG_MAX - 5 - 1 - pad - MT_AEAD_TAG);
  size_t inner = len + 1 + pad;
  out[5 + len] = type;
  memset(out + 6 + len, 0, pad);
  out[0] = CT_APPLICATION_DATA; /* 5.2: the outer header */
  out[1] = out[2] = 0x03;
  neg_put_u16(out + 3, inner + MT_AEAD_TAG);
  memcpy(nonce, from->wr.iv, MT_AEAD_NONCE); /* 5.3: iv XOR the sequence number */
  for (int i = 0; i < 8; i++) nonce[MT_AEAD_NONCE - 1 - i] ^= (uint8_t)(from->wr.seq >> (8 * i));
  if (mt_aead_seal(from->wr.aead, nonce, out, 5, out + 5, inner, out + 5) != 0)
    neg_die("sealing failed", "");
  from->wr.seq++;
  return 5 + inner + MT_AEAD_TAG;
}

/* Makers of the hostile bytes; `from` is the honest peer, whose keys they use. */
static size_t mk_ccs(mutls_conn *from, uint8_t *out) {
  return neg_hex("14 0303 0001 01", out, NEG_MAX);
}
static size_t mk_oversized(mutls_conn *from, uint8_t *out) {
  return neg_hex("17 0303 4101", out, NEG_MAX);
}
static size_t mk_flipped(mutls_conn *from, uint8_t *out) {
  size_t n = 0;
  if (mutls_conn_write(from, "ping", 4) == 4) n = neg_take(from, out, NEG_MAX);
  if (n > 8) out[8] ^= 0x40; /* a ciphertext byte */
  return n;
}
static size_t mk_plain_handshake(mutls_conn *from, uint8_t *out) {
  return neg_hex("16 0303 0005 18 000001 00", out, NEG_MAX); /* an unprotected KeyUpdate */
}
static size_t mk_short(mutls_conn *from, uint8_t *out) {
  return neg_hex("17 0303 0010 00*16", out, NEG_MAX); /* no room for a tag and a type */
}
static size_t mk_no_type(mutls_conn *from, uint8_t *out) {
  return seal(from, 0, "", 8, out);
}
static size_t mk_inner_unknown(mutls_conn *from, uint8_t *out) {
  return seal(from, 0x30, "00", 0, out);
}
static size_t mk_inner_ccs(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_CHANGE_CIPHER_SPEC, "01", 0, out);
}
static size_t mk_content_over(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_APPLICATION_DATA, "78*16385", 0, out);
}
static size_t mk_padded_over(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_APPLICATION_DATA, "78*16384", 1, out);
}
static size_t mk_empty_handshake(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "", 0, out);
}
static size_t mk_interleaved(mutls_conn *from, uint8_t *out) {
  size_t n = seal(from, CT_HANDSHAKE, "04 000010", 0, out); /* a NewSessionTicket begins */
  return n + seal(from, CT_APPLICATION_DATA, "78", 0, out + n);
}
static size_t mk_alert3(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_ALERT, "02 28 00", 0, out);
}

/* Post-handshake messages (4.6), sealed as the peer would. */
static size_t mk_key_update_2(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "18 000001 02", 0, out);
}
static size_t mk_key_update_long(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "18 000002 0100", 0, out);
}
static size_t mk_ticket_to_server(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "04 00000e 00000e10 00000000 00 0001aa 0000", 0, out);
}
static size_t mk_ticket_empty(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "04 00000d 00000e10 00000000 00 0000 0000", 0, out);
}
static size_t mk_ticket_key_share(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "04 000012 00000e10 00000000 00 0001aa 0004 0033 0000", 0, out);
}
static size_t mk_client_hello_again(mutls_conn *from, uint8_t *out) {
  return seal(from, CT_HANDSHAKE, "01 000002 0303", 0, out);
}

typedef struct {
  const char *name;
  int victim_is_client;
  size_t (*make)(mutls_conn *from, uint8_t *out);
  int alert;
  mutls_error err;
} live_case;

static const live_case live[] = {
    /* 5: "... before the peer's Finished"; after it, a CCS is unexpected. */
    {"record: ChangeCipherSpec after the handshake -> unexpected_message (5)", 1, mk_ccs,
     UNEXPECTED},
    {"record: ciphertext length 2^14+256+1 -> record_overflow (5.2)", 0, mk_oversized,
     OVERFLOW},
    /* 5.2: "If the decryption fails, ... bad_record_mac". */
    {"record: one corrupted ciphertext byte -> bad_record_mac (5.2)", 0, mk_flipped,
     FAILS(ALERT_BAD_RECORD_MAC, MUTLS_E_BAD_RECORD_MAC)},
    {"record: ciphertext shorter than a tag -> bad_record_mac (5.2)", 1, mk_short,
     FAILS(ALERT_BAD_RECORD_MAC, MUTLS_E_BAD_RECORD_MAC)},
    /* 5: after keys, every record but CCS is protected. */
    {"record: unprotected handshake record after the handshake -> unexpected_message (5)", 1,
     mk_plain_handshake, UNEXPECTED},
    /* 5.4: no non-zero byte in the plaintext -> unexpected_message. */
    {"record: sealed record of padding only -> unexpected_message (5.4)", 0, mk_no_type,
     UNEXPECTED},
    {"record: sealed record of unknown inner type 48 -> unexpected_message (5)", 1,
     mk_inner_unknown, UNEXPECTED},
    /* 5: a CCS is never protected. */
    {"record: ChangeCipherSpec inside a sealed record -> unexpected_message (5)", 0,
     mk_inner_ccs, UNEXPECTED},
    /* 5.2, 6.2: decrypted content over 2^14 -> record_overflow. */
    {"record: sealed content of 2^14+1 bytes -> record_overflow (5.2, 6.2)", 1, mk_content_over,
     OVERFLOW},
    /* 5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1". */
    {"record: 2^14 content plus padding past 2^14+1 -> record_overflow (5.4)", 0, mk_padded_over,
     OVERFLOW},
    {"record: empty sealed handshake record -> unexpected_message (5.1)", 1, mk_empty_handshake,
     UNEXPECTED},
    {"record: sealed handshake message interleaved with data -> unexpected_message (5.1)", 1,
     mk_interleaved, UNEXPECTED},
    {"record: sealed alert of length 3 -> decode_error (5.1, 6)", 0, mk_alert3,
     DECODE},
    /* 4.6.3: request_update is 0 or 1; anything else -> illegal_parameter. */
    {"post: KeyUpdate with request_update 2 -> illegal_parameter (4.6.3)", 1, mk_key_update_2,
     ILLEGAL},
    {"post: KeyUpdate of two bytes -> decode_error (4.6.3)", 1, mk_key_update_long,
     DECODE},
    /* 4.6.1: only servers send tickets; ticket<1..2^16-1>; 4.2: NST carries early_data only. */
    {"post: NewSessionTicket from a client -> unexpected_message (4.6.1)", 0,
     mk_ticket_to_server, UNEXPECTED},
    {"post: NewSessionTicket with an empty ticket -> decode_error (4.6.1)", 1, mk_ticket_empty,
     DECODE},
    {"post: NewSessionTicket carrying key_share -> illegal_parameter (4.2)", 1,
     mk_ticket_key_share, ILLEGAL},
    /* 4: TLS 1.3 has no renegotiation. */
    {"post: a ClientHello after the handshake -> unexpected_message (4)", 0,
     mk_client_hello_again, UNEXPECTED},
};

static void live_cases(void) {
  static uint8_t bytes[NEG_MAX];
  for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
    const live_case *k = &live[i];
    neg_pair p;
    if (neg_pair_connected(&p, NULL) == 0) {
      mutls_conn *victim = k->victim_is_client ? p.c : p.s, *peer = k->victim_is_client ? p.s : p.c;
      neg_feed(victim, bytes, k->make(peer, bytes));
      neg_expect_fail(k->name, victim, peer, k->alert, k->err, NULL);
    } else {
      CHECK(k->name, 0);
    }
    neg_pair_free(&p);
  }
}

/* 6.1: "Any data received after a closure alert has been received MUST be
 * ignored." */
static void data_after_close(void) {
  static uint8_t bytes[NEG_MAX];
  neg_pair p;
  int ok = neg_pair_connected(&p, NULL) == 0;
  if (ok) {
    size_t n = seal(p.c, CT_ALERT, "01 00", 0, bytes);
    n += seal(p.c, CT_APPLICATION_DATA, "78", 0, bytes + n);
    neg_feed(p.s, bytes, n);
  }
  uint8_t buf[16];
  CHECK("record: application data after close_notify is ignored (6.1, control)",
        ok && mutls_conn_read(p.s, buf, sizeof buf) == MUTLS_CLOSED &&
            mutls_conn_error(p.s) == MUTLS_E_NONE && mutls_conn_alert_sent(p.s) == -1);
  neg_pair_free(&p);
}

/* The post-handshake messages above differ from these in one field each. */
static void post_controls(void) {
  static uint8_t bytes[NEG_MAX];
  neg_pair p;
  int ok = neg_pair_connected(&p, NULL) == 0;
  if (ok) {
    size_t n = seal(p.s, CT_HANDSHAKE, "04 00000e 00000e10 00000000 00 0001aa 0000", 0, bytes);
    n += seal(p.s, CT_HANDSHAKE, "18 000001 00", 0, bytes + n);
    ok = neg_feed(p.c, bytes, n) == MUTLS_OK;
  }
  CHECK("post: a well-formed NewSessionTicket and KeyUpdate are accepted (control)",
        ok && mutls_conn_error(p.c) == MUTLS_E_NONE && mutls_conn_pending(p.c) == 0);
  neg_pair_free(&p);
}

int main(void) {
  tu_certs();
  raw_cases(to_server, sizeof to_server / sizeof to_server[0], 0);
  raw_cases(to_client, sizeof to_client / sizeof to_client[0], 1);
  truncated_header();
  ccs_tolerated();
  peer_alert("record: fatal alert from the peer -> MUTLS_E_PEER_ALERT, alert_received (6.2)",
             "15 0303 0002 02 28");
  peer_alert("record: warning-level handshake_failure is fatal all the same (6)",
             "15 0303 0002 01 28");
  live_cases();
  data_after_close();
  post_controls();
  return check_exit();
}
