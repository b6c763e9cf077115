/* server.c - the server handshake (RFC 8446 2, 4): ClientHello (and after a
 * HelloRetryRequest, the second one), then ServerHello, EncryptedExtensions,
 * Certificate, CertificateVerify, Finished; then the client's Finished. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "msg/msg.h"

/* What the server decided from a ClientHello. */
typedef struct {
  const mt_suite *suite;
  uint16_t group, scheme;
  mt_reader share; /* the client's share for group; len 0 if none */
  size_t n_shares;
  const uint8_t *alpn;
  size_t alpn_len;
} choice;

static int fail_alert(mutls_conn *c, int alert, const char *what) {
  mutls_error e = alert == ALERT_DECODE_ERROR          ? MUTLS_E_DECODE
                  : alert == ALERT_ILLEGAL_PARAMETER   ? MUTLS_E_ILLEGAL_PARAMETER
                  : alert == ALERT_MISSING_EXTENSION   ? MUTLS_E_MISSING_EXTENSION
                  : alert == ALERT_PROTOCOL_VERSION    ? MUTLS_E_PROTOCOL_VERSION
                  : alert == ALERT_UNEXPECTED_MESSAGE  ? MUTLS_E_UNEXPECTED_MESSAGE
                                                       : MUTLS_E_INTERNAL;
  return mt_fail(c, e, alert, "the client's %s", what);
}

/* 4.2.1: TLS 1.3 must be among the client's versions. */
static int check_versions(mutls_conn *c, mt_client_hello *ch) {
  mt_ext *sv = mt_exts_find(&ch->exts, EXT_SUPPORTED_VERSIONS);
  mt_reader list;
  if (!sv)
    return mt_fail(c, MUTLS_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                   "the client offers only TLS 1.2 or older (no supported_versions); mutls "
                   "speaks TLS 1.3 only, so the client must enable TLS 1.3");
  if (mt_r_block(&sv->body, 1, &list) != 0 || mt_r_done(&sv->body) != 0 || list.len == 0 ||
      list.len % 2)
    return fail_alert(c, ALERT_DECODE_ERROR, "supported_versions is malformed");
  if (!mt_u16_list_has(list, TLS13))
    return mt_fail(c, MUTLS_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                   "the client does not offer TLS 1.3; mutls speaks TLS 1.3 only");
  /* 4.1.2: a TLS 1.3 ClientHello offers only the null compression method. */
  if (ch->compression.len != 1 || ch->compression.p[0] != 0)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "ClientHello offers compression");
  return 0;
}

/* Reads the u16 list inside extension type; NULL list.p if absent. */
static int ext_u16_list(mutls_conn *c, mt_client_hello *ch, uint16_t type, mt_reader *list,
                        const char *name) {
  mt_ext *e = mt_exts_find(&ch->exts, type);
  list->p = NULL;
  list->len = 0;
  if (!e) return 0;
  if (mt_r_block(&e->body, 2, list) != 0 || mt_r_done(&e->body) != 0 || list->len == 0 ||
      list->len % 2) {
    char what[80];
    snprintf(what, sizeof what, "%s extension is malformed", name);
    return fail_alert(c, ALERT_DECODE_ERROR, what);
  }
  return 0;
}

/* 4.2.8: finds the share for group, checking every entry's shape. */
static int find_share(mutls_conn *c, mt_client_hello *ch, mt_reader groups, uint16_t group,
                      mt_reader *share, size_t *count) {
  mt_ext *e = mt_exts_find(&ch->exts, EXT_KEY_SHARE);
  mt_reader body = e->body, list; /* read again for each group tried */
  uint16_t seen[16];
  size_t n = 0;
  share->len = 0;
  share->p = NULL;
  if (mt_r_block(&body, 2, &list) != 0 || mt_r_done(&body) != 0)
    return fail_alert(c, ALERT_DECODE_ERROR, "key_share is malformed");
  while (mt_r_left(&list)) {
    uint16_t g;
    mt_reader key;
    if (mt_r_u16(&list, &g) != 0 || mt_r_block(&list, 2, &key) != 0 || key.len == 0)
      return fail_alert(c, ALERT_DECODE_ERROR, "key_share entry is malformed");
    /* Each share must be for an offered group, and at most one per group. */
    if (!mt_u16_list_has(groups, g))
      return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "key_share holds a group it does not support");
    for (size_t i = 0; i < n; i++)
      if (seen[i] == g) return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "key_share repeats a group");
    if (n == sizeof seen / sizeof seen[0])
      return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "key_share has too many entries");
    seen[n++] = g;
    if (g == group) *share = key;
  }
  *count = n;
  return 0;
}

static int choose_alpn(mutls_conn *c, mt_client_hello *ch, choice *ch_out) {
  mt_ext *e = mt_exts_find(&ch->exts, EXT_ALPN);
  mt_reader list, name;
  if (!e) return 0;
  if (mt_r_block(&e->body, 2, &list) != 0 || mt_r_done(&e->body) != 0 || list.len == 0)
    return fail_alert(c, ALERT_DECODE_ERROR, "ALPN extension is malformed");
  for (mt_reader l = list; mt_r_left(&l);)
    if (mt_r_block(&l, 1, &name) != 0 || name.len == 0)
      return fail_alert(c, ALERT_DECODE_ERROR, "ALPN extension is malformed");
  if (!c->cfg->alpn_len) return 0; /* no ALPN on our side: ignore theirs */
  mt_reader ours = mt_reader_init(c->cfg->alpn, c->cfg->alpn_len), o;
  while (mt_r_block(&ours, 1, &o) == 0) {
    for (mt_reader l = list; mt_r_block(&l, 1, &name) == 0;) {
      if (name.len == o.len && memcmp(name.p, o.p, o.len) == 0) {
        ch_out->alpn = o.p;
        ch_out->alpn_len = o.len;
        return 0;
      }
    }
  }
  return mt_fail(c, MUTLS_E_NO_APPLICATION_PROTOCOL, ALERT_NO_APPLICATION_PROTOCOL,
                 "the client offers no ALPN protocol that this server speaks");
}

/* RFC 6066 3: one host_name. */
static int read_sni(mutls_conn *c, mt_client_hello *ch) {
  mt_ext *e = mt_exts_find(&ch->exts, EXT_SERVER_NAME);
  mt_reader list, name;
  uint8_t type;
  if (!e) return 0;
  if (mt_r_block(&e->body, 2, &list) != 0 || mt_r_done(&e->body) != 0 || list.len == 0)
    return fail_alert(c, ALERT_DECODE_ERROR, "server_name is malformed");
  while (mt_r_left(&list)) {
    if (mt_r_u8(&list, &type) != 0 || mt_r_block(&list, 2, &name) != 0 || name.len == 0)
      return fail_alert(c, ALERT_DECODE_ERROR, "server_name is malformed");
    if (type != 0) continue;
    if (name.len > 255 || memchr(name.p, 0, name.len))
      return fail_alert(c, ALERT_DECODE_ERROR, "server_name holds an invalid host name");
    if (mt_set_str(&c->server_name, name.p, name.len) != 0)
      return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  }
  return 0;
}

/* The key exchange group (4.2.7, 4.2.8): among the groups both sides
 * accept, the server's most preferred one that the client sent a share for,
 * since any other costs a HelloRetryRequest and a round trip; only when the
 * client sent a share for none of them, the server's most preferred one
 * (out->share stays empty: HelloRetryRequest). After a HelloRetryRequest the
 * group is the one asked for, if the client still offers it
 * (check_second_hello holds it to that). 0, or -1 after failing c. */
static int choose_group(mutls_conn *c, mt_client_hello *ch, mt_reader groups, choice *out) {
  const mutls_config *cfg = c->cfg;
  uint16_t first = 0;
  for (size_t i = 0; i < cfg->n_groups && !out->group; i++) {
    uint16_t g = cfg->groups[i];
    if (!mt_u16_list_has(groups, g)) continue;
    if (c->state == ST_S_WAIT_CH2 && mt_u16_list_has(groups, c->group) && g != c->group) continue;
    if (!first) first = g;
    if (find_share(c, ch, groups, g, &out->share, &out->n_shares) != 0) return -1;
    if (out->share.len) out->group = g;
  }
  if (!first)
    return mt_fail(c, MUTLS_E_NO_SHARED_GROUP, ALERT_HANDSHAKE_FAILURE,
                   "the client offers no key exchange group this server accepts");
  if (!out->group) out->group = first;
  return 0;
}

/* Chooses suite and signature scheme by the server's preference, and the
 * group as choose_group says. */
static int choose(mutls_conn *c, mt_client_hello *ch, choice *out) {
  const mutls_config *cfg = c->cfg;
  mt_reader sigs, groups;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < cfg->n_suites && !out->suite; i++)
    if (mt_u16_list_has(ch->suites, cfg->suites[i])) out->suite = mt_suite_by_id(cfg->suites[i]);
  if (!out->suite)
    return mt_fail(c, MUTLS_E_NO_SHARED_CIPHER, ALERT_HANDSHAKE_FAILURE,
                   "the client offers no cipher suite this server accepts");
  if (ext_u16_list(c, ch, EXT_SIGNATURE_ALGORITHMS, &sigs, "signature_algorithms") ||
      ext_u16_list(c, ch, EXT_SUPPORTED_GROUPS, &groups, "supported_groups"))
    return -1;
  /* 4.2.3, 9.2: without a PSK these three extensions are mandatory. */
  if (!sigs.p || !groups.p || !mt_exts_find(&ch->exts, EXT_KEY_SHARE))
    return mt_fail(c, MUTLS_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                   "the client's hello lacks %s",
                   !sigs.p ? "signature_algorithms" : !groups.p ? "supported_groups" : "key_share");
  for (size_t i = 0; i < cfg->n_schemes && !out->scheme; i++)
    if (mt_u16_list_has(sigs, cfg->schemes[i]) && mt_pkey_supports(cfg->ids[0].key, cfg->schemes[i]))
      out->scheme = cfg->schemes[i];
  if (!out->scheme)
    return mt_fail(c, MUTLS_E_NO_SHARED_SIGALG, ALERT_HANDSHAKE_FAILURE,
                   "the client accepts no signature scheme that this server's key can produce");
  if (choose_group(c, ch, groups, out) != 0) return -1;
  return choose_alpn(c, ch, out);
}

/* 4.1.3: what ServerHello and HelloRetryRequest share before extensions.
 * Returns the message token for mt_hs_end. */
static size_t put_hello_head(const mutls_conn *c, mt_writer *w, const uint8_t random[32]) {
  size_t t = mt_hs_begin(w, HS_SERVER_HELLO);
  mt_w_u16(w, TLS12); /* legacy_version */
  mt_w_bytes(w, random, 32);
  mt_w_u8(w, (uint8_t)c->session_id_len); /* legacy_session_id_echo */
  mt_w_bytes(w, c->session_id, c->session_id_len);
  mt_w_u16(w, c->suite->id);
  mt_w_u8(w, 0); /* legacy_compression_method */
  return t;
}

static void put_versions_ext(mt_writer *w) {
  mt_w_u16(w, EXT_SUPPORTED_VERSIONS);
  mt_w_u16(w, 2);
  mt_w_u16(w, TLS13);
}

/* 4.1.4: asks for a share of the group we chose, with a cookie to echo. */
static int send_hrr(mutls_conn *c, uint16_t group) {
  uint8_t buf[1024];
  mt_writer w;
  if (c->test->active && c->test->cookie_len) {
    c->cookie_len = c->test->cookie_len;
    c->cookie = malloc(c->cookie_len);
    if (c->cookie) memcpy(c->cookie, c->test->cookie, c->cookie_len);
  } else {
    c->cookie_len = 32;
    c->cookie = malloc(32);
    if (c->cookie && mt_random(c->cookie, 32) != 0) c->cookie_len = 0;
  }
  if (!c->cookie || !c->cookie_len)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "making a cookie failed");
  mt_w_init_fixed(&w, buf, sizeof buf);
  size_t t = put_hello_head(c, &w, mt_hrr_random);
  /* Same order as our ServerHello (key_share first, supported_versions
   * last), which is also RFC 8448 5's: the trace is reproduced exactly. */
  size_t exts = mt_w_begin(&w, 2);
  mt_w_u16(&w, EXT_KEY_SHARE);
  mt_w_u16(&w, 2);
  mt_w_u16(&w, group);
  mt_w_u16(&w, EXT_COOKIE);
  size_t e = mt_w_begin(&w, 2), ck = mt_w_begin(&w, 2);
  mt_w_bytes(&w, c->cookie, c->cookie_len);
  mt_w_end(&w, ck, 2);
  mt_w_end(&w, e, 2);
  put_versions_ext(&w);
  mt_w_end(&w, exts, 2);
  mt_hs_end(&w, t);
  if (mt_w_failed(&w)) return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "HRR too big");
  if (mt_send_handshake(c, buf, w.len) != 0) return -1;
  /* Middlebox compatibility (D.4): a client that sent a session id gets a
   * ChangeCipherSpec after our first flight. */
  if (c->session_id_len && mt_send_ccs(c) != 0)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  return 0;
}

static int send_server_hello(mutls_conn *c) {
  uint8_t buf[512], random[32];
  mt_writer w;
  if (mt_random_bytes(c, random, 32) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "the random generator failed");
  mt_w_init_fixed(&w, buf, sizeof buf);
  size_t t = put_hello_head(c, &w, random);
  size_t exts = mt_w_begin(&w, 2);
  mt_w_u16(&w, EXT_KEY_SHARE);
  size_t e = mt_w_begin(&w, 2);
  mt_w_u16(&w, c->group);
  size_t k = mt_w_begin(&w, 2);
  mt_w_bytes(&w, c->kex_pub, c->kex_pub_len);
  mt_w_end(&w, k, 2);
  mt_w_end(&w, e, 2);
  if (c->resumed) { /* 4.2.11: the first (only) identity we consider */
    mt_w_u16(&w, EXT_PRE_SHARED_KEY);
    mt_w_u16(&w, 2);
    mt_w_u16(&w, 0);
  }
  put_versions_ext(&w);
  mt_w_end(&w, exts, 2);
  mt_hs_end(&w, t);
  if (mt_w_failed(&w)) return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "SH too big");
  return mt_send_handshake(c, buf, w.len);
}

static int send_encrypted_extensions(mutls_conn *c) {
  uint8_t buf[1024 + MT_MAX_ALPN];
  mt_writer w;
  mt_w_init_fixed(&w, buf, sizeof buf);
  size_t t = mt_hs_begin(&w, HS_ENCRYPTED_EXTENSIONS);
  size_t exts = mt_w_begin(&w, 2);
  if (c->test->ee_exts) mt_w_bytes(&w, c->test->ee_exts, c->test->ee_exts_len);
  if (c->alpn) {
    size_t n = strlen(c->alpn);
    mt_w_u16(&w, EXT_ALPN);
    mt_w_u16(&w, (uint16_t)(n + 3));
    mt_w_u16(&w, (uint16_t)(n + 1));
    mt_w_u8(&w, (uint8_t)n);
    mt_w_bytes(&w, c->alpn, n);
  }
  mt_w_end(&w, exts, 2);
  mt_hs_end(&w, t);
  if (mt_w_failed(&w)) return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "EE too big");
  return mt_send_handshake(c, buf, w.len);
}

/* After EncryptedExtensions, a resumed handshake goes straight to Finished. */
static int send_resumed_flight(mutls_conn *c) {
  if (mt_send_finished(c) != 0) return -1;
  if (mt_ks_application(c) != 0 || mt_set_write_key(c, c->s_ap) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving traffic keys failed");
  c->state = ST_S_WAIT_FINISHED;
  return 0;
}

/* ServerHello through Finished, after the group and share are settled. */
static int send_flight(mutls_conn *c, const mt_reader *share) {
  uint8_t dhe[MT_MAX_KEX_SECRET];
  size_t dhe_len = sizeof dhe;
  if (mt_kex_new(c, c->group) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "generating a key share failed");
  int rc = mt_kex_derive(c->kex, share->p, share->len, dhe, &dhe_len);
  if (rc == -1)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "key share is not a valid public key");
  if (rc != 0 || send_server_hello(c) != 0 || mt_ks_handshake(c, dhe, dhe_len) != 0) {
    mt_wipe(dhe, sizeof dhe);
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving handshake keys failed");
  }
  mt_wipe(dhe, sizeof dhe);
  mt_kex_free(c->kex);
  c->kex = NULL;
  if (c->session_id_len && !c->hrr && mt_send_ccs(c) != 0)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  if (mt_set_write_key(c, c->s_hs) != 0 || mt_set_read_key(c, c->c_hs) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "installing keys failed");
  if (send_encrypted_extensions(c) != 0) return -1;
  /* 4.3.2: ask for the client's certificate, naming the CAs we accept; a
   * resumed handshake authenticates with the PSK alone (and MUST NOT ask). */
  if (c->resumed) return send_resumed_flight(c);
  c->cert_requested = c->cfg->client_auth >= MUTLS_CLIENT_AUTH_OPTIONAL;
  if (c->cert_requested && (c->test->cr_msg ? mt_send_handshake(c, c->test->cr_msg, c->test->cr_msg_len)
                                            : mt_send_handshake(c, c->cfg->cr_msg, c->cfg->cr_msg_len)) != 0)
    return -1;
  if (mt_send_certificate(c) != 0 || mt_send_certificate_verify(c) != 0 ||
      mt_send_finished(c) != 0)
    return -1;
  if (mt_ks_application(c) != 0 || mt_set_write_key(c, c->s_ap) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving traffic keys failed");
  c->state = c->cert_requested ? ST_S_WAIT_CERT : ST_S_WAIT_FINISHED;
  return 0;
}

/* 4.1.2: the second ClientHello must answer the HelloRetryRequest. */
static int check_second_hello(mutls_conn *c, mt_client_hello *ch, const choice *k) {
  mt_ext *ck = mt_exts_find(&ch->exts, EXT_COOKIE);
  mt_reader v;
  if (ch->session_id_len != c->session_id_len ||
      memcmp(ch->session_id, c->session_id, c->session_id_len) != 0 ||
      memcmp(ch->random, c->client_random, 32) != 0)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "second ClientHello changes its random or session id");
  if (k->suite != c->suite || k->group != c->group)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "second ClientHello changes its offer");
  /* 4.2.8: exactly one share, for the group we asked for. */
  if (!k->share.len || k->n_shares != 1)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER,
                      "second ClientHello does not hold exactly one key share, for the group we "
                      "asked for");
  if (!ck) return fail_alert(c, ALERT_MISSING_EXTENSION, "second ClientHello drops the cookie");
  if (mt_r_block(&ck->body, 2, &v) != 0 || mt_r_done(&ck->body) != 0 ||
      v.len != c->cookie_len || mt_ct_memcmp(v.p, c->cookie, v.len) != 0)
    return fail_alert(c, ALERT_ILLEGAL_PARAMETER, "second ClientHello carries a different cookie");
  return 0;
}

static int handle_client_hello(mutls_conn *c, const uint8_t *body, size_t len,
                               const uint8_t *msg, size_t mlen) {
  mt_client_hello ch;
  choice k;
  int alert = mt_client_hello_decode(body, len, &ch);
  if (alert) return fail_alert(c, alert, "ClientHello is malformed");
  if (check_versions(c, &ch) != 0 || read_sni(c, &ch) != 0 || choose(c, &ch, &k) != 0) return -1;
  if (k.alpn_len && mt_set_str(&c->alpn, k.alpn, k.alpn_len) != 0)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  c->our_scheme = k.scheme;
  if (c->state == ST_S_WAIT_CH2) {
    if (check_second_hello(c, &ch, &k) != 0) return -1;
  } else {
    memcpy(c->client_random, ch.random, 32);
    memcpy(c->session_id, ch.session_id, ch.session_id_len);
    c->session_id_len = ch.session_id_len;
    c->suite = k.suite;
    c->group = k.group;
    if (mt_transcript_start(c) != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
  }
  /* 4.2.11: a ticket is judged (binder included) before the hello joins the
   * transcript; only a hello we answer with a ServerHello can resume. */
  if (k.share.len && mt_server_try_psk(c, &ch, msg, mlen) < 0) return -1;
  c->pha_offered = mt_exts_find(&ch.exts, EXT_POST_HANDSHAKE_AUTH) != NULL;
  if (mt_transcript_add(c, msg, mlen) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
  if (!k.share.len) {
    c->hrr = 1;
    c->state = ST_S_WAIT_CH2;
    if (mt_transcript_hrr_rewrite(c) != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
    return send_hrr(c, k.group);
  }
  return send_flight(c, &k.share);
}

static int handle_client_finished(mutls_conn *c, const uint8_t *body, size_t len,
                                  const uint8_t *msg, size_t mlen) {
  if (mt_recv_finished(c, body, len) != 0) return -1;
  if (mt_transcript_add(c, msg, mlen) != 0 || mt_set_read_key(c, c->c_ap) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "installing keys failed");
  mt_wipe(c->c_hs, sizeof c->c_hs);
  mt_wipe(c->s_hs, sizeof c->s_hs);
  c->state = ST_CONNECTED;
  c->established = 1;
  /* Tickets go out at once: a client waiting for confirmation gets it
   * without another round trip. */
  int rc = mt_server_send_tickets(c);
  mt_wipe(c->secret, sizeof c->secret);
  return rc;
}

int mt_server_handle(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                     const uint8_t *msg, size_t mlen) {
  switch (c->state) {
  case ST_S_WAIT_CH:
  case ST_S_WAIT_CH2:
    if (type != HS_CLIENT_HELLO) break;
    return handle_client_hello(c, body, len, msg, mlen);
  case ST_S_WAIT_CERT:
    if (type != HS_CERTIFICATE) break;
    if (mt_recv_certificate(c, body, len) != 0) return -1;
    c->state = c->peer ? ST_S_WAIT_CV : ST_S_WAIT_FINISHED;
    return mt_transcript_add(c, msg, mlen);
  case ST_S_WAIT_CV:
    if (type != HS_CERTIFICATE_VERIFY) break;
    if (mt_recv_certificate_verify(c, body, len) != 0) return -1;
    c->state = ST_S_WAIT_FINISHED;
    return mt_transcript_add(c, msg, mlen);
  case ST_S_WAIT_FINISHED:
    if (type != HS_FINISHED) break;
    return handle_client_finished(c, body, len, msg, mlen);
  default: break;
  }
  return mt_fail(c, MUTLS_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                 "the client sent handshake message %u where the protocol does not allow it",
                 type);
}
