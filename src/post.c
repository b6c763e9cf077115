/* post.c - messages after the handshake (RFC 8446 4.6): NewSessionTicket
 * (checked, then ignored until resumption exists) and KeyUpdate. */
#include "internal.h"
#include "msg/msg.h"

static int recv_ticket(mutls_conn *c, const uint8_t *body, size_t len) {
  mt_reader r = mt_reader_init(body, len), nonce, ticket;
  mt_exts exts;
  const uint8_t *p;
  if (c->is_server)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the client sent a NewSessionTicket");
  /* ticket_lifetime, ticket_age_add */
  if (mt_r_bytes(&r, 8, &p) != 0 || mt_r_block(&r, 1, &nonce) != 0 ||
      mt_r_block(&r, 2, &ticket) != 0 || ticket.len == 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the server's NewSessionTicket is malformed");
  int alert = mt_exts_parse(&r, M_NST, &exts);
  if (!alert && mt_r_done(&r) != 0) alert = ALERT_DECODE_ERROR;
  if (alert)
    return mt_fail(c, alert == ALERT_DECODE_ERROR ? MUTLS_E_DECODE : MUTLS_E_ILLEGAL_PARAMETER,
                   alert, "the server's NewSessionTicket has malformed extensions");
  return 0;
}

/* 4.6.3: the peer moved to its next traffic secret; if it asks, so do we. */
static int recv_key_update(mutls_conn *c, const uint8_t *body, size_t len) {
  static const uint8_t not_requested[5] = {HS_KEY_UPDATE, 0, 0, 1, 0};
  if (len != 1)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer's KeyUpdate is malformed");
  if (body[0] > 1)
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the peer's KeyUpdate has request value %u", body[0]);
  uint8_t *peer = c->is_server ? c->c_ap : c->s_ap, *ours = c->is_server ? c->s_ap : c->c_ap;
  if (mt_ks_update(c, peer) != 0 || mt_set_read_key(c, peer) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "updating traffic keys failed");
  if (body[0] == 1 && !c->sent_close) {
    if (mt_record_write(c, CT_HANDSHAKE, not_requested, sizeof not_requested) != 0 ||
        mt_ks_update(c, ours) != 0 || mt_set_write_key(c, ours) != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "updating traffic keys failed");
  }
  return 0;
}

int mt_post_handshake(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len) {
  switch (type) {
  case HS_NEW_SESSION_TICKET: return recv_ticket(c, body, len);
  case HS_KEY_UPDATE: return recv_key_update(c, body, len);
  default:
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent handshake message %u after the handshake", type);
  }
}
