/* handshake.c - the steps both state machines share: Certificate,
 * CertificateVerify (4.4.2, 4.4.3) and Finished (4.4.4). */
#include <string.h>

#include "internal.h"
#include "msg/msg.h"

int mt_send_finished(mutls_conn *c) {
  uint8_t mac[MT_MAX_HASH];
  mt_writer w;
  uint8_t buf[4 + MT_MAX_HASH];
  /* 4.4: post-handshake, the client's Finished keys off its current
   * application traffic secret. */
  if (mt_finished_mac(c, c->in_pha ? c->c_ap : c->is_server ? c->s_hs : c->c_hs, mac) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "computing Finished failed");
  mt_w_init_fixed(&w, buf, sizeof buf);
  size_t t = mt_hs_begin(&w, HS_FINISHED);
  mt_w_bytes(&w, mac, c->hlen);
  mt_hs_end(&w, t);
  mt_wipe(mac, sizeof mac);
  return mt_send_handshake(c, buf, w.len);
}

int mt_recv_finished(mutls_conn *c, const uint8_t *body, size_t len) {
  uint8_t mac[MT_MAX_HASH];
  if (len != c->hlen)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                   "the peer's Finished has %zu bytes instead of %zu", len, c->hlen);
  if (mt_finished_mac(c, c->in_pha ? c->c_ap : c->is_server ? c->c_hs : c->s_hs, mac) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "computing Finished failed");
  int bad = mt_ct_memcmp(mac, body, len);
  mt_wipe(mac, sizeof mac);
  /* 4.4.4: a wrong verify_data ends in decrypt_error. */
  if (bad)
    return mt_fail(c, MUTLS_E_BAD_FINISHED, ALERT_DECRYPT_ERROR,
                   "the peer's Finished message does not match the handshake: the messages were "
                   "altered in transit, or the peer derived different keys");
  return 0;
}

size_t mt_cv_content(mutls_conn *c, int by_server, uint8_t *out) {
  static const char srv[] = "TLS 1.3, server CertificateVerify";
  static const char cli[] = "TLS 1.3, client CertificateVerify";
  memset(out, 0x20, 64);
  memcpy(out + 64, by_server ? srv : cli, sizeof srv); /* includes the 0 separator */
  if (mt_transcript_hash(c, out + 64 + sizeof srv) != 0) return 0;
  return 64 + sizeof srv + c->hlen;
}

/* 4.4.2: our identity's chain, or an empty list when we have none to
 * offer (a client answering a CertificateRequest it cannot satisfy). In
 * the handshake the request context is empty: the message is the one the
 * config encoded. */
int mt_send_certificate(mutls_conn *c) {
  const mt_identity *id = c->id >= 0 ? &c->cfg->ids[c->id] : NULL;
  if (id && c->cr_context_len == 0) return mt_send_handshake(c, id->cert_msg, id->cert_msg_len);
  mt_writer w;
  uint8_t stack[1024];
  mt_w_init_borrowed(&w, stack, sizeof stack, (id ? id->cert_msg_len : 4) + 4 + 256);
  size_t t = mt_hs_begin(&w, HS_CERTIFICATE);
  size_t ctx = mt_w_begin(&w, 1);
  mt_w_bytes(&w, c->cr_context, c->cr_context_len);
  mt_w_end(&w, ctx, 1);
  if (id) /* the encoded certificate_list: after the header and the empty context */
    mt_w_bytes(&w, id->cert_msg + 5, id->cert_msg_len - 5);
  else
    mt_w_u24(&w, 0);
  mt_hs_end(&w, t);
  int rc = mt_w_failed(&w) ? mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory")
                           : mt_send_handshake(c, w.buf, w.len);
  mt_w_free(&w);
  return rc;
}

int mt_send_certificate_verify(mutls_conn *c) {
  uint8_t content[64 + 34 + MT_MAX_HASH], sig[MT_MAX_SIGNATURE];
  size_t sig_len = sizeof sig, n = mt_cv_content(c, c->is_server, content);
  if (c->test->signature && c->test->signature_len <= sizeof sig) {
    memcpy(sig, c->test->signature, c->test->signature_len); /* trace replay */
    sig_len = c->test->signature_len;
  } else if (n == 0 || mt_sign(c->cfg->ids[c->id].key, c->our_scheme, content, n, sig, &sig_len) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR,
                   "signing the CertificateVerify with %s failed",
                   mt_sigscheme_name(c->our_scheme));
  mt_writer w;
  uint8_t buf[4 + 4 + MT_MAX_SIGNATURE];
  mt_w_init_fixed(&w, buf, sizeof buf);
  size_t t = mt_hs_begin(&w, HS_CERTIFICATE_VERIFY);
  mt_w_u16(&w, c->our_scheme);
  size_t s = mt_w_begin(&w, 2);
  mt_w_bytes(&w, sig, sig_len);
  mt_w_end(&w, s, 2);
  mt_hs_end(&w, t);
  return mt_send_handshake(c, buf, w.len);
}

static int offered_scheme(const mutls_conn *c, uint16_t scheme) {
  for (size_t i = 0; i < c->cfg->n_schemes; i++)
    if (c->cfg->schemes[i] == scheme) return 1;
  return 0;
}

int mt_recv_certificate_verify(mutls_conn *c, const uint8_t *body, size_t len) {
  mt_reader r = mt_reader_init(body, len), sig;
  uint16_t scheme;
  uint8_t content[64 + 34 + MT_MAX_HASH];
  /* 4.4.3: signature<0..2^16-1>: an empty one is well formed and simply
   * does not verify (decrypt_error below). */
  if (mt_r_u16(&r, &scheme) != 0 || mt_r_block(&r, 2, &sig) != 0 || mt_r_done(&r) != 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer's CertificateVerify is malformed");
  /* 4.4.3: the scheme must be one we offered. */
  if (!offered_scheme(c, scheme))
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the peer signed with scheme 0x%04x, which we did not offer", scheme);
  size_t n = mt_cv_content(c, !c->is_server, content);
  int rc = n ? mt_chain_leaf_verify(c->peer->chain, scheme, content, n, sig.p, sig.len) : -3;
  if (rc == -2)
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the peer signed with %s, which its certificate's key cannot produce",
                   mt_sigscheme_name(scheme));
  if (rc != 0)
    return mt_fail(c, MUTLS_E_BAD_SIGNATURE, ALERT_DECRYPT_ERROR,
                   "the peer's CertificateVerify signature (%s) does not verify: the peer does "
                   "not hold the private key of the certificate it sent, or the handshake was "
                   "altered",
                   mt_sigscheme_name(scheme));
  c->peer_scheme = scheme;
  /* The peer proved it holds the key: now our allow rules judge it. */
  char why[1500];
  if (!mt_policy_allows(&c->cfg->policy, c->peer, why, sizeof why))
    return mt_fail(c, MUTLS_E_ACCESS_DENIED, ALERT_ACCESS_DENIED, "%s", why);
  return 0;
}

/* The outcome's code and alert come from the one mapping in crypto. */
static int verify_failure(mutls_conn *c, mt_verify_code v, const char *why) {
  int alert;
  mutls_error e = mt_verify_code_error(v, &alert);
  return mt_fail(c, e, alert, "%s", why);
}

/* A server verifies clients against its client CAs only, for clientAuth; a
 * client verifies the server's chain and name against its trust store. Both
 * check the CRLs the config holds now. */
mt_verify_code mt_verify_peer_chain_window(mutls_conn *c, const mt_chain *chain, mt_verified *w,
                                           uint64_t *crl_gen, char *why, size_t len) {
  mutls_config *cfg = c->cfg;
  mt_revocation rev = {NULL, cfg->crl_whole_chain, cfg->crl_soft_fail};
  if (w) memset(w, 0, sizeof *w);
  if (!c->is_server && !cfg->verify_peer) return MT_VERIFY_OK;
  pthread_mutex_lock(&cfg->lock);
  mt_crls *crls = cfg->crls ? mt_crls_ref(cfg->crls) : NULL;
  if (crl_gen) *crl_gen = cfg->crl_gen;
  pthread_mutex_unlock(&cfg->lock);
  rev.crls = crls;
  const char *name = !c->is_server ? c->server_name : NULL;
  mt_verify_code v = mt_verify_chain_window(c->is_server ? cfg->client_trust : cfg->trust, chain,
                                            c->is_server ? MT_PURPOSE_CLIENT : MT_PURPOSE_SERVER,
                                            name, c->test->verify_time, &rev, w, why, len);
  mt_crls_free(crls);
  return v;
}

int mt_recv_certificate(mutls_conn *c, const uint8_t *body, size_t len) {
  mt_reader r = mt_reader_init(body, len), ctx, list;
  const uint8_t *der[MT_MAX_CHAIN];
  size_t der_len[MT_MAX_CHAIN], n = 0;
  char why[512];
  if (mt_r_block(&r, 1, &ctx) != 0 || mt_r_block(&r, 3, &list) != 0 || mt_r_done(&r) != 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the peer's Certificate is malformed");
  /* 4.4.2: a server's context is empty; a client echoes the request's. */
  if (ctx.len != (c->is_server ? c->cr_context_len : 0) ||
      (ctx.len && memcmp(ctx.p, c->cr_context, ctx.len) != 0))
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the peer's Certificate carries the wrong request context");
  while (mt_r_left(&list) > 0) {
    mt_reader cert, exts_r;
    mt_exts exts;
    if (mt_r_block(&list, 3, &cert) != 0 || cert.len == 0)
      return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                     "a certificate entry in the peer's Certificate is malformed");
    int alert = mt_exts_parse(&list, M_CT, &exts);
    (void)exts_r;
    if (alert)
      return mt_fail(c, alert == ALERT_DECODE_ERROR ? MUTLS_E_DECODE : MUTLS_E_ILLEGAL_PARAMETER,
                     alert, "the extensions of a certificate entry are malformed");
    /* 4.4.2: we asked for no certificate extensions (no OCSP, no SCT). */
    if (exts.n)
      return mt_fail(c, MUTLS_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                     "the peer sent certificate extension %u, which we did not ask for",
                     exts.e[0].type);
    if (n == MT_MAX_CHAIN)
      return mt_fail(c, MUTLS_E_CERT_BAD, ALERT_BAD_CERTIFICATE,
                     "the peer sent more than %d certificates", MT_MAX_CHAIN);
    der[n] = cert.p;
    der_len[n++] = cert.len;
  }
  if (n == 0) {
    /* 4.4.2.4: a server must send a certificate. */
    if (!c->is_server)
      return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                     "the server sent an empty Certificate message");
    /* Allow rules can only be met with a certificate: without one a client
     * would slip past them, so they make it required too. After the
     * handshake the application judges an empty answer itself. */
    if (!c->in_pha && (c->cfg->client_auth == MUTLS_CLIENT_AUTH_REQUIRED || c->cfg->policy.n))
      return mt_fail(c, MUTLS_E_CERT_MISSING, ALERT_CERTIFICATE_REQUIRED,
                     "the client sent no certificate, and this server requires one%s; configure "
                     "the client with a certificate from one of the CAs in the server's client "
                     "CA file (mutls client --cert --key)",
                     c->cfg->client_auth == MUTLS_CLIENT_AUTH_REQUIRED ? ""
                                                                      : " (it has allow rules)");
    return 0; /* optional: served without an identity */
  }
  /* Parsed and verified, or taken from the config's verified-chain cache
   * after re-checking time, CRLs and name (chain_cache.c). */
  mutls_peer *peer = NULL;
  int v = mt_peer_from_der(c, der, der_len, n, &peer, why, sizeof why);
  if (v == MT_PEER_BAD_DER) return mt_fail(c, MUTLS_E_CERT_BAD, ALERT_BAD_CERTIFICATE, "%s", why);
  if (v == MT_PEER_NOMEM) return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  if (v != MT_VERIFY_OK) return verify_failure(c, (mt_verify_code)v, why);
  mt_peer_free(c->peer); /* post-handshake: the new identity replaces any older one */
  c->peer = peer;
  return 0;
}
