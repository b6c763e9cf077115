/* post.c - messages after the handshake (RFC 8446 4.6): NewSessionTicket
 * (to session.c), KeyUpdate both ways, and post-handshake authentication. */
#include "internal.h"
#include "msg/msg.h"

/* 4.6.3: the peer moved to its next traffic secret; if it asks, so do we. */
static int recv_key_update(mutls_conn *c, const uint8_t *body, size_t len) {
  if (len != 1)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer's KeyUpdate is malformed");
  if (body[0] > 1)
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the peer's KeyUpdate has request value %u", body[0]);
  uint8_t *peer = c->is_server ? c->c_ap : c->s_ap;
  if (mt_ks_update(c, peer) != 0 || mt_set_read_key(c, peer) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "updating traffic keys failed");
  /* 4.6.3: one answer before our next data, however many requests came. */
  if (body[0] == 1 && !c->sent_close) c->key_update_reply = 1;
  return 0;
}

/* 4.6.3: KeyUpdate under the old keys, then the next generation. */
int mt_send_key_update(mutls_conn *c, int request_peer) {
  uint8_t msg[5] = {HS_KEY_UPDATE, 0, 0, 1, (uint8_t)(request_peer ? 1 : 0)};
  uint8_t *ours = c->is_server ? c->s_ap : c->c_ap;
  if (mt_record_write(c, CT_HANDSHAKE, msg, sizeof msg) != 0 || mt_ks_update(c, ours) != 0 ||
      mt_set_write_key(c, ours) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "updating traffic keys failed");
  c->key_update_reply = 0; /* any KeyUpdate of ours answers a pending request */
  return 0;
}

int mutls_conn_key_update(mutls_conn *c, int request_peer) {
  if (!c || c->state != ST_CONNECTED || c->sent_close) return MUTLS_ERR;
  return mt_send_key_update(c, request_peer) == 0 ? MUTLS_OK : MUTLS_ERR;
}

int mt_post_handshake(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len) {
  switch (type) {
  case HS_NEW_SESSION_TICKET:
    if (c->is_server)
      return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the client sent a NewSessionTicket");
    return mt_client_recv_ticket(c, body, len);
  case HS_KEY_UPDATE: return recv_key_update(c, body, len);
  default:
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the peer sent handshake message %u after the handshake", type);
  }
}
