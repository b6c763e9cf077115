/* post.c - messages after the handshake (RFC 8446 4.6): NewSessionTicket
 * (to session.c), KeyUpdate both ways, and post-handshake authentication. */
#include <stdlib.h>
#include <string.h>

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

/* 4.6.2, client: answer a CertificateRequest after the handshake with
 * Certificate, CertificateVerify and Finished, if we offered to. */
static int client_pha(mutls_conn *c, const uint8_t *body, size_t len, const uint8_t *msg,
                      size_t mlen) {
  if (!c->cfg->post_handshake_auth)
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the server asked for a certificate after the handshake, which we did not "
                   "offer (post_handshake_auth)");
  c->in_pha = 1;
  mt_w_reset(&c->pha_buf);
  if (mt_client_certificate_request(c, body, len, 1) != 0 || mt_transcript_add(c, msg, mlen) != 0 ||
      mt_client_send_identity(c) != 0 || mt_send_finished(c) != 0)
    return -1;
  c->in_pha = 0;
  return 0;
}

/* 4.6.2, server: the client's answer, one message at a time. */
static int server_pha(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                      const uint8_t *msg, size_t mlen) {
  static const uint8_t expected[3] = {HS_CERTIFICATE, HS_CERTIFICATE_VERIFY, HS_FINISHED};
  if (type != expected[c->pha_step])
    return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                   "the client answered our certificate request with message %u", type);
  const mutls_peer *before = c->peer;
  switch (c->pha_step) {
  case 0:
    if (mt_recv_certificate(c, body, len) != 0) return -1;
    c->pha_step = c->peer != before ? 1 : 2; /* an empty Certificate has no CertificateVerify */
    return mt_transcript_add(c, msg, mlen);
  case 1:
    if (mt_recv_certificate_verify(c, body, len) != 0) return -1;
    c->pha_step = 2;
    return mt_transcript_add(c, msg, mlen);
  default:
    if (mt_recv_finished(c, body, len) != 0) return -1;
    c->in_pha = c->pha_pending = 0;
    mt_w_reset(&c->pha_buf);
    return 0;
  }
}

int mutls_conn_request_client_cert(mutls_conn *c) {
  uint8_t ctx[8];
  if (!c) return MUTLS_ERR;
  const mutls_config *cfg = c->cfg;
  const char *why = !c->is_server ? "only a server asks for client certificates"
                    : c->state != ST_CONNECTED ? "the handshake has not completed"
                    : !c->pha_offered ? "the client did not offer post_handshake_auth, so it "
                                        "cannot be asked for a certificate after the handshake"
                    : c->pha_pending ? "a certificate request is already waiting for its answer"
                    : !cfg->client_trust ? "no client CA is configured to verify the answer with"
                                         : NULL;
  if (why) {
    mt_notice(c, "%s", why);
    return MUTLS_ERR;
  }
  /* Our CertificateRequest with a fresh, non-empty context (4.3.2). */
  if (mt_random(ctx, sizeof ctx) != 0) return MUTLS_ERR;
  mt_writer w;
  mt_w_init(&w, cfg->cr_msg_len + 16);
  size_t t = mt_hs_begin(&w, HS_CERTIFICATE_REQUEST);
  mt_w_u8(&w, sizeof ctx);
  mt_w_bytes(&w, ctx, sizeof ctx);
  mt_w_bytes(&w, cfg->cr_msg + 5, cfg->cr_msg_len - 5); /* its extensions */
  mt_hs_end(&w, t);
  free(c->cr_context);
  c->cr_context = malloc(sizeof ctx);
  int rc = MUTLS_ERR;
  if (!mt_w_failed(&w) && c->cr_context) {
    memcpy(c->cr_context, ctx, sizeof ctx);
    c->cr_context_len = sizeof ctx;
    c->in_pha = c->pha_pending = 1;
    c->pha_step = 0;
    mt_w_reset(&c->pha_buf);
    if (mt_send_handshake(c, w.buf, w.len) == 0 && mt_flush_handshake(c) == 0) rc = MUTLS_OK;
  }
  mt_w_free(&w);
  return rc;
}

int mutls_conn_client_cert_pending(const mutls_conn *c) { return c ? c->pha_pending : 0; }

int mt_post_handshake(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                      const uint8_t *msg, size_t mlen) {
  if (c->is_server && c->pha_pending && type != HS_KEY_UPDATE)
    return server_pha(c, type, body, len, msg, mlen);
  if (!c->is_server && type == HS_CERTIFICATE_REQUEST) return client_pha(c, body, len, msg, mlen);
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
