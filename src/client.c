/* client.c - the client handshake (RFC 8446 2, 4): ClientHello, then
 * ServerHello or HelloRetryRequest, EncryptedExtensions, optional
 * CertificateRequest, Certificate, CertificateVerify, Finished. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "msg/msg.h"

/* Code points a certificate's own signature may use, beyond the schemes we
 * accept in CertificateVerify: CAs still sign with RSA PKCS#1 (4.2.3). */
static const uint16_t cert_only_schemes[] = {0x0401, 0x0501, 0x0601};

static int is_ip_literal(const char *s) {
  uint8_t buf[16];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 6066 3: a host name, never an IP literal. */
static int sends_sni(const mutls_conn *c) {
  return c->server_name && !is_ip_literal(c->server_name);
}

static void put_u16_list(mt_writer *w, const uint16_t *v, size_t n, int lenbytes) {
  size_t t = mt_w_begin(w, lenbytes);
  for (size_t i = 0; i < n; i++) mt_w_u16(w, v[i]);
  mt_w_end(w, t, lenbytes);
}

static void put_extensions(mutls_conn *c, mt_writer *w) {
  const mutls_config *cfg = c->cfg;
  size_t exts = mt_w_begin(w, 2), t;
  if (sends_sni(c)) {
    mt_w_u16(w, EXT_SERVER_NAME);
    t = mt_w_begin(w, 2);
    size_t list = mt_w_begin(w, 2);
    mt_w_u8(w, 0); /* host_name */
    size_t name = mt_w_begin(w, 2);
    mt_w_bytes(w, c->server_name, strlen(c->server_name));
    mt_w_end(w, name, 2);
    mt_w_end(w, list, 2);
    mt_w_end(w, t, 2);
  }
  mt_w_u16(w, EXT_SUPPORTED_VERSIONS);
  t = mt_w_begin(w, 2);
  uint16_t v13 = TLS13;
  put_u16_list(w, &v13, 1, 1);
  mt_w_end(w, t, 2);

  mt_w_u16(w, EXT_SUPPORTED_GROUPS);
  t = mt_w_begin(w, 2);
  put_u16_list(w, cfg->groups, cfg->n_groups, 2);
  mt_w_end(w, t, 2);

  mt_w_u16(w, EXT_SIGNATURE_ALGORITHMS);
  t = mt_w_begin(w, 2);
  put_u16_list(w, cfg->schemes, cfg->n_schemes, 2);
  mt_w_end(w, t, 2);

  mt_w_u16(w, EXT_SIGNATURE_ALGORITHMS_CERT);
  t = mt_w_begin(w, 2);
  size_t l = mt_w_begin(w, 2);
  for (size_t i = 0; i < cfg->n_schemes; i++) mt_w_u16(w, cfg->schemes[i]);
  for (size_t i = 0; i < sizeof cert_only_schemes / 2; i++) mt_w_u16(w, cert_only_schemes[i]);
  mt_w_end(w, l, 2);
  mt_w_end(w, t, 2);

  mt_w_u16(w, EXT_KEY_SHARE);
  t = mt_w_begin(w, 2);
  size_t shares = mt_w_begin(w, 2);
  mt_w_u16(w, c->group);
  size_t k = mt_w_begin(w, 2);
  mt_w_bytes(w, c->kex_pub, c->kex_pub_len);
  mt_w_end(w, k, 2);
  mt_w_end(w, shares, 2);
  mt_w_end(w, t, 2);

  if (cfg->alpn_len) {
    mt_w_u16(w, EXT_ALPN);
    t = mt_w_begin(w, 2);
    size_t a = mt_w_begin(w, 2);
    mt_w_bytes(w, cfg->alpn, cfg->alpn_len);
    mt_w_end(w, a, 2);
    mt_w_end(w, t, 2);
  }
  if (c->cookie_len) { /* 4.2.2: echo the HelloRetryRequest's cookie */
    mt_w_u16(w, EXT_COOKIE);
    t = mt_w_begin(w, 2);
    size_t ck = mt_w_begin(w, 2);
    mt_w_bytes(w, c->cookie, c->cookie_len);
    mt_w_end(w, ck, 2);
    mt_w_end(w, t, 2);
  }
  if (cfg->post_handshake_auth) { /* 4.2.6: empty */
    mt_w_u16(w, EXT_POST_HANDSHAKE_AUTH);
    mt_w_u16(w, 0);
  }
  mt_client_put_psk(c, w); /* last, as 4.2.11 requires */
  mt_w_end(w, exts, 2);
}

static int send_client_hello(mutls_conn *c) {
  mt_writer w;
  uint8_t stack[1024]; /* a hello without a large ticket fits */
  int which = c->hrr ? 1 : 0;
  if (c->test->client_hello[which]) /* trace replay: the trace's own hello */
    return mt_send_handshake(c, c->test->client_hello[which], c->test->client_hello_len[which]);
  mt_w_init_borrowed(&w, stack, sizeof stack, MT_MAX_PLAINTEXT);
  size_t t = mt_hs_begin(&w, HS_CLIENT_HELLO);
  mt_w_u16(&w, TLS12); /* legacy_version */
  mt_w_bytes(&w, c->client_random, 32);
  mt_w_u8(&w, (uint8_t)c->session_id_len);
  mt_w_bytes(&w, c->session_id, c->session_id_len);
  put_u16_list(&w, c->cfg->suites, c->cfg->n_suites, 2);
  mt_w_u8(&w, 1); /* legacy_compression_methods: null only */
  mt_w_u8(&w, 0);
  put_extensions(c, &w);
  mt_hs_end(&w, t);
  int rc = mt_w_failed(&w) || mt_client_fill_binder(c, w.buf, w.len) != 0
               ? mt_fail(c, MUTLS_E_INTERNAL, -1, "building the ClientHello failed")
               : mt_send_handshake(c, w.buf, w.len);
  mt_w_free(&w);
  return rc;
}

int mt_client_start(mutls_conn *c) {
  if (c->state != ST_START) return 0;
  c->group = c->cfg->groups[0];
  if (mt_random_bytes(c, c->client_random, 32) != 0 || mt_kex_new(c, c->group) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, -1, "generating the client's random or key share failed");
  c->state = ST_C_WAIT_SH;
  mt_client_pick_session(c);
  return send_client_hello(c);
}

static mutls_error alert_error(int alert) {
  switch (alert) {
  case ALERT_DECODE_ERROR: return MUTLS_E_DECODE;
  case ALERT_ILLEGAL_PARAMETER: return MUTLS_E_ILLEGAL_PARAMETER;
  case ALERT_UNSUPPORTED_EXTENSION: return MUTLS_E_UNSUPPORTED_EXTENSION;
  case ALERT_MISSING_EXTENSION: return MUTLS_E_MISSING_EXTENSION;
  case ALERT_PROTOCOL_VERSION: return MUTLS_E_PROTOCOL_VERSION;
  case ALERT_UNEXPECTED_MESSAGE: return MUTLS_E_UNEXPECTED_MESSAGE;
  default: return MUTLS_E_INTERNAL;
  }
}

/* Fails with alert and a sentence naming the message. */
static int bad(mutls_conn *c, int alert, const char *msg, const char *what) {
  return mt_fail(c, alert_error(alert), alert, "the server's %s %s", msg, what);
}

static int offered(const uint16_t *list, size_t n, uint16_t v) {
  for (size_t i = 0; i < n; i++)
    if (list[i] == v) return 1;
  return 0;
}

/* 4.1.4: HelloRetryRequest. */
static int handle_hrr(mutls_conn *c, mt_server_hello *sh, const uint8_t *msg, size_t mlen) {
  if (c->hrr)
    return bad(c, ALERT_UNEXPECTED_MESSAGE, "second HelloRetryRequest", "is not allowed");
  c->hrr = 1;
  c->suite = mt_suite_by_id(sh->suite);
  if (mt_transcript_start(c) != 0 || mt_transcript_hrr_rewrite(c) != 0 ||
      mt_transcript_add(c, msg, mlen) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
  int changed = 0;
  mt_ext *ks = mt_exts_find(&sh->exts, EXT_KEY_SHARE);
  if (ks) {
    uint16_t g;
    if (mt_r_u16(&ks->body, &g) != 0 || mt_r_done(&ks->body) != 0)
      return bad(c, ALERT_DECODE_ERROR, "HelloRetryRequest", "has a malformed key_share");
    /* 4.2.8: the group must be offered, and not the one we already sent. */
    if (!offered(c->cfg->groups, c->cfg->n_groups, g) || g == c->group)
      return bad(c, ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest",
                 "asks for a group we did not offer or already sent");
    c->group = g;
    changed = 1;
    if (mt_kex_new(c, g) != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "generating a key share failed");
  }
  mt_ext *ck = mt_exts_find(&sh->exts, EXT_COOKIE);
  if (ck) {
    mt_reader v;
    if (mt_r_block(&ck->body, 2, &v) != 0 || mt_r_done(&ck->body) != 0 || v.len == 0)
      return bad(c, ALERT_DECODE_ERROR, "HelloRetryRequest", "has a malformed cookie");
    c->cookie = malloc(v.len);
    if (!c->cookie) return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
    memcpy(c->cookie, v.p, v.len);
    c->cookie_len = v.len;
    changed = 1;
  }
  if (!changed)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "HelloRetryRequest", "would change nothing");
  return send_client_hello(c);
}

static int handle_server_hello(mutls_conn *c, const uint8_t *body, size_t len,
                               const uint8_t *msg, size_t mlen) {
  mt_server_hello sh;
  int alert = mt_server_hello_decode(body, len, &sh);
  if (alert) return bad(c, alert, "ServerHello", "is malformed");
  mt_ext *sv = mt_exts_find(&sh.exts, EXT_SUPPORTED_VERSIONS);
  uint16_t version = 0;
  if (!sv)
    return mt_fail(c, MUTLS_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                   "the server chose TLS 1.2 or older; mutls speaks TLS 1.3 only, so the server "
                   "must enable TLS 1.3");
  if (mt_r_u16(&sv->body, &version) != 0 || mt_r_done(&sv->body) != 0)
    return bad(c, ALERT_DECODE_ERROR, "supported_versions", "is malformed");
  if (version != TLS13 || sh.legacy_version != TLS12)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "ServerHello", "selects a version we did not offer");
  if (sh.session_id_len != c->session_id_len ||
      memcmp(sh.session_id, c->session_id, c->session_id_len) != 0)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "ServerHello", "does not echo our session id");
  if (!offered(c->cfg->suites, c->cfg->n_suites, sh.suite) || sh.compression != 0)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "ServerHello",
               "selects a cipher suite or compression we did not offer");
  if (c->hrr && c->suite->id != sh.suite)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "ServerHello",
               "changes the cipher suite chosen in HelloRetryRequest");
  /* 4.2: only what we asked for may come back. */
  for (size_t i = 0; i < sh.exts.n; i++) {
    uint16_t t = sh.exts.e[i].type;
    if (t != EXT_SUPPORTED_VERSIONS && t != EXT_KEY_SHARE && !(sh.is_hrr && t == EXT_COOKIE) &&
        !(!sh.is_hrr && t == EXT_PRE_SHARED_KEY && c->offer))
      return mt_fail(c, MUTLS_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                     "the server sent extension %u, which we did not offer", t);
  }
  if (sh.is_hrr) return handle_hrr(c, &sh, msg, mlen);

  mt_ext *psk = mt_exts_find(&sh.exts, EXT_PRE_SHARED_KEY);
  if (psk && mt_client_accept_psk(c, &psk->body, sh.suite) != 0) return -1;
  mt_ext *ks = mt_exts_find(&sh.exts, EXT_KEY_SHARE);
  mt_reader key = {NULL, 0};
  uint16_t g;
  /* Only psk_ke, which we offer when asked to, goes without a key share. */
  if (!ks && !(c->resumed && c->cfg->psk_ke))
    return bad(c, ALERT_MISSING_EXTENSION, "ServerHello", "has no key_share");
  if (ks && (mt_r_u16(&ks->body, &g) != 0 || mt_r_block(&ks->body, 2, &key) != 0 ||
             mt_r_done(&ks->body) != 0 || key.len == 0))
    return bad(c, ALERT_DECODE_ERROR, "key_share", "is malformed");
  if (ks && g != c->group)
    return bad(c, ALERT_ILLEGAL_PARAMETER, "key_share", "is for a group we sent no share for");
  if (!c->hrr) {
    c->suite = mt_suite_by_id(sh.suite);
    if (mt_transcript_start(c) != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
  }
  uint8_t dhe[MT_MAX_KEX_SECRET] = {0}; /* 7.1: zeros when there is no (EC)DHE */
  size_t dhe_len = ks ? sizeof dhe : mt_hash_len(c->suite->hash);
  int rc = ks ? mt_kex_derive(c->kex, key.p, key.len, dhe, &dhe_len) : 0;
  if (rc == -1) return bad(c, ALERT_ILLEGAL_PARAMETER, "key share", "is not a valid point");
  if (rc != 0 || mt_transcript_add(c, msg, mlen) != 0 || mt_ks_handshake(c, dhe, dhe_len) != 0 ||
      mt_set_read_key(c, c->s_hs) != 0 || mt_set_write_key(c, c->c_hs) != 0) {
    mt_wipe(dhe, sizeof dhe);
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving handshake keys failed");
  }
  mt_wipe(dhe, sizeof dhe);
  mt_kex_free(c->kex);
  c->kex = NULL;
  c->state = ST_C_WAIT_EE;
  return 0;
}

/* Trace replay (mt_test_inject.client_hello): what went out is the injected
 * hello, so an extension it offered may be answered (4.2); we accept the
 * answer and ignore it. */
static int injected_hello_offers(mutls_conn *c, uint16_t type) {
  const uint8_t *m = c->test->client_hello[c->hrr ? 1 : 0];
  size_t n = c->test->client_hello_len[c->hrr ? 1 : 0];
  mt_client_hello ch;
  if (!m || n < 4 || mt_client_hello_decode(m + 4, n - 4, &ch) != 0) return 0;
  return mt_exts_find(&ch.exts, type) != NULL;
}

static int handle_encrypted_extensions(mutls_conn *c, const uint8_t *body, size_t len) {
  mt_reader r = mt_reader_init(body, len);
  mt_exts exts;
  int alert = mt_exts_parse(&r, M_EE, &exts);
  if (!alert && mt_r_done(&r) != 0) alert = ALERT_DECODE_ERROR;
  if (alert) return bad(c, alert, "EncryptedExtensions", "are malformed");
  for (size_t i = 0; i < exts.n; i++) {
    mt_ext *e = &exts.e[i];
    if (e->type == EXT_SUPPORTED_GROUPS) continue; /* the server's preferences: informative */
    if (e->type == EXT_SERVER_NAME && sends_sni(c) && e->body.len == 0) continue;
    if (e->type == EXT_ALPN && c->cfg->alpn_len) {
      mt_reader list, name;
      /* RFC 7301 3.1: exactly one protocol, one we offered. */
      if (mt_r_block(&e->body, 2, &list) != 0 || mt_r_done(&e->body) != 0 ||
          mt_r_block(&list, 1, &name) != 0 || mt_r_done(&list) != 0 || name.len == 0)
        return bad(c, ALERT_DECODE_ERROR, "ALPN response", "is malformed");
      int found = 0;
      mt_reader ours = mt_reader_init(c->cfg->alpn, c->cfg->alpn_len), o;
      while (mt_r_block(&ours, 1, &o) == 0)
        found |= o.len == name.len && memcmp(o.p, name.p, name.len) == 0;
      if (!found)
        return bad(c, ALERT_ILLEGAL_PARAMETER, "ALPN response", "names a protocol we did not offer");
      if (mt_set_str(&c->alpn, name.p, name.len) != 0)
        return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
      continue;
    }
    if (injected_hello_offers(c, e->type)) continue;
    return mt_fail(c, MUTLS_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                   "the server sent extension %u in EncryptedExtensions, which we did not offer",
                   e->type);
  }
  /* A resumed server does not authenticate again (2.2): its identity is the
   * one stored with the session. */
  if (c->resumed) {
    c->state = ST_C_WAIT_FINISHED;
    return mt_client_resumed_peer(c) == 0 ? 0 : mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  }
  c->state = ST_C_WAIT_CERT_CR;
  return 0;
}

/* Reads certificate_authorities (4.2.4) into names; at most max kept. */
static int read_ca_names(mutls_conn *c, mt_ext *e, const uint8_t **names, size_t *lens,
                         size_t max, size_t *n) {
  mt_reader list, dn;
  *n = 0;
  if (!e) return 0;
  if (mt_r_block(&e->body, 2, &list) != 0 || mt_r_done(&e->body) != 0 || list.len == 0)
    return bad(c, ALERT_DECODE_ERROR, "certificate_authorities", "is malformed");
  while (mt_r_left(&list)) {
    if (mt_r_block(&list, 2, &dn) != 0 || dn.len == 0)
      return bad(c, ALERT_DECODE_ERROR, "certificate_authorities", "is malformed");
    if (*n < max) {
      names[*n] = dn.p;
      lens[(*n)++] = dn.len;
    }
  }
  return 0;
}

/* Why no identity fits, in one sentence for the notice. */
static void explain_no_identity(mutls_conn *c, const uint8_t **names, const size_t *lens,
                                size_t n, int ca_mismatch) {
  char accepted[400] = "", ours[200], one[200];
  if (!c->cfg->n_ids) {
    mt_notice(c,
             "the server asked for a client certificate and none is configured; give one with "
             "mutls client --cert --key");
    return;
  }
  if (!ca_mismatch) {
    mt_notice(c,
             "no client certificate was sent: none of our keys can make a signature the server "
             "accepts (an RSA key must support RSA-PSS; an EC key must be P-256 or P-384)");
    return;
  }
  for (size_t i = 0; i < n && i < 3; i++)
    if (mt_name_text(names[i], lens[i], one, sizeof one) == 0)
      snprintf(accepted + strlen(accepted), sizeof accepted - strlen(accepted), "%s%s",
               i ? "; " : "", one);
  const mt_chain *first = c->cfg->ids[0].chain;
  mt_chain_issuer_text(first, mt_chain_count(first) - 1, ours, sizeof ours);
  mt_notice(c,
           "no client certificate was sent: the server accepts client certificates issued by "
           "%s%s; ours %s issued by %s",
           accepted, n > 3 ? " (and others)" : "", c->cfg->n_ids > 1 ? "are" : "is", ours);
}

/* Picks the first identity the CertificateRequest accepts: a CA it names
 * issued the chain (when it names any), and the key can sign one of the
 * schemes it lists, in our order of preference. */
static int choose_identity(mutls_conn *c, mt_reader sigs, mt_ext *cas) {
  const mutls_config *cfg = c->cfg;
  const uint8_t *names[64];
  size_t lens[64], n;
  int ca_mismatch = 0;
  if (read_ca_names(c, cas, names, lens, 64, &n) != 0) return -1;
  for (size_t i = 0; i < cfg->n_ids; i++) {
    const mt_identity *id = &cfg->ids[i];
    int ca_ok = n == 0;
    for (size_t k = 0; !ca_ok && k < mt_chain_count(id->chain); k++)
      ca_ok = mt_chain_issuer_in(id->chain, k, names, lens, n);
    if (!ca_ok) {
      ca_mismatch = 1;
      continue;
    }
    for (size_t s = 0; s < cfg->n_schemes; s++) {
      if (mt_u16_list_has(sigs, cfg->schemes[s]) && mt_pkey_supports(id->key, cfg->schemes[s])) {
        c->id = (int)i;
        c->our_scheme = cfg->schemes[s];
        return 0;
      }
    }
  }
  explain_no_identity(c, names, lens, n, ca_mismatch);
  return 0;
}

/* 4.3.2: the server asks for our certificate, in the handshake or (4.6.2)
 * after it. */
int mt_client_certificate_request(mutls_conn *c, const uint8_t *body, size_t len, int post) {
  mt_reader r = mt_reader_init(body, len), ctx, sigs;
  mt_exts exts;
  if (mt_r_block(&r, 1, &ctx) != 0)
    return bad(c, ALERT_DECODE_ERROR, "CertificateRequest", "is malformed");
  int alert = mt_exts_parse(&r, M_CR, &exts);
  if (!alert && mt_r_done(&r) != 0) alert = ALERT_DECODE_ERROR;
  if (alert) return bad(c, alert, "CertificateRequest", "is malformed");
  /* 4.3.2: in the handshake the context is empty; after it, it names the
   * request (and our answer echoes it). */
  if (ctx.len && !post) return bad(c, ALERT_ILLEGAL_PARAMETER, "CertificateRequest", "has a context");
  free(c->cr_context);
  c->cr_context = NULL;
  c->cr_context_len = 0;
  if (ctx.len) {
    if (!(c->cr_context = malloc(ctx.len)))
      return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
    memcpy(c->cr_context, ctx.p, ctx.len);
    c->cr_context_len = ctx.len;
  }
  c->id = -1;
  mt_ext *sa = mt_exts_find(&exts, EXT_SIGNATURE_ALGORITHMS);
  if (!sa) return bad(c, ALERT_MISSING_EXTENSION, "CertificateRequest", "lacks signature_algorithms");
  if (mt_u16_list_check(sa->body, 2) != 0)
    return bad(c, ALERT_DECODE_ERROR, "signature_algorithms", "is malformed");
  sigs = sa->body;
  if (mt_r_block(&sigs, 2, &sigs) != 0) return -1; /* checked just above */
  c->cert_requested = 1;
  if (!post) c->state = ST_C_WAIT_CERT;
  return choose_identity(c, sigs, mt_exts_find(&exts, EXT_CERTIFICATE_AUTHORITIES));
}

int mt_client_send_identity(mutls_conn *c) {
  if (mt_send_certificate(c) != 0) return -1;
  if (c->id >= 0) {
    if (mt_send_certificate_verify(c) != 0) return -1;
    c->cert_sent = 1;
  }
  return 0;
}

/* Our second flight: [Certificate, CertificateVerify], Finished. */
static int send_client_flight(mutls_conn *c) {
  if (c->cert_requested) {
    if (mt_client_send_identity(c) != 0) return -1;
  } else if (c->cfg->n_ids && !c->resumed) { /* resumed: the ticket speaks for us */
    mt_notice(c,
             "the server did not ask for a client certificate; ours was not sent");
  }
  return mt_send_finished(c);
}

static int handle_finished(mutls_conn *c, const uint8_t *body, size_t len, const uint8_t *msg,
                           size_t mlen) {
  if (mt_recv_finished(c, body, len) != 0) return -1;
  if (mt_transcript_add(c, msg, mlen) != 0 || mt_ks_application(c) != 0 ||
      mt_set_read_key(c, c->s_ap) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving traffic keys failed");
  if (send_client_flight(c) != 0) return -1;
  /* The transcript now ends with our Finished: what tickets derive from. */
  if (mt_ks_resumption(c) != 0 || mt_set_write_key(c, c->c_ap) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving traffic keys failed");
  mt_wipe(c->c_hs, sizeof c->c_hs);
  mt_wipe(c->s_hs, sizeof c->s_hs);
  mt_wipe(c->secret, sizeof c->secret);
  c->established = 1;
  if (c->cfg->confirm_ms) {
    c->state = ST_C_WAIT_CONFIRM;
    c->confirm_deadline = mt_now_ms() + c->cfg->confirm_ms;
  } else {
    c->state = ST_CONNECTED;
  }
  return 0;
}

int mt_client_handle(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                     const uint8_t *msg, size_t mlen) {
  int rc;
  switch (c->state) {
  case ST_C_WAIT_SH:
    if (type != HS_SERVER_HELLO) break;
    return handle_server_hello(c, body, len, msg, mlen);
  case ST_C_WAIT_EE:
    if (type != HS_ENCRYPTED_EXTENSIONS) break;
    rc = handle_encrypted_extensions(c, body, len);
    return rc ? rc : mt_transcript_add(c, msg, mlen);
  case ST_C_WAIT_CERT_CR:
    if (type == HS_CERTIFICATE_REQUEST) {
      rc = mt_client_certificate_request(c, body, len, 0);
      return rc ? rc : mt_transcript_add(c, msg, mlen);
    }
    /* fall through */
  case ST_C_WAIT_CERT:
    if (type != HS_CERTIFICATE) break;
    if (mt_recv_certificate(c, body, len) != 0) return -1;
    c->state = ST_C_WAIT_CV;
    return mt_transcript_add(c, msg, mlen);
  case ST_C_WAIT_CV:
    if (type != HS_CERTIFICATE_VERIFY) break;
    if (mt_recv_certificate_verify(c, body, len) != 0) return -1;
    c->state = ST_C_WAIT_FINISHED;
    return mt_transcript_add(c, msg, mlen);
  case ST_C_WAIT_FINISHED:
    if (type != HS_FINISHED) break;
    return handle_finished(c, body, len, msg, mlen);
  default: break;
  }
  return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                 "the server sent handshake message %u where the protocol does not allow it",
                 type);
}
