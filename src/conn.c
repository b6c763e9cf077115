/* conn.c - the connection object and its sans-I/O API. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* What a connection without injected test values reads. */
static const mt_test_inject mt_test_none;

static mutls_conn *conn_new(mutls_config *cfg, int is_server) {
  if (!cfg || mt_crypto_init() != 0) return NULL;
  mutls_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->cfg = mutls_config_ref(cfg);
  mt_config_freeze(cfg);
  c->test = &mt_test_none;
  c->is_server = is_server;
  c->release_auto = cfg->release_buffers;
  c->fd = -1;
  c->alert_sent = c->alert_received = -1;
  c->id = is_server ? 0 : -1;
  c->state = is_server ? ST_S_WAIT_CH : ST_START;
  mt_w_init(&c->hs_in, MT_MAX_HANDSHAKE_MESSAGE + 4 + MT_MAX_PLAINTEXT);
  mt_w_init(&c->out, (size_t)64 << 20);
  mt_w_init(&c->hs_out, MT_MAX_HANDSHAKE_MESSAGE * 2);
  mt_w_init(&c->pha_buf, MT_MAX_HANDSHAKE_MESSAGE * 2);
  mt_w_init(&c->th_buf, 2 * (MT_MAX_HANDSHAKE_MESSAGE + 4));
  return c;
}

mutls_conn *mutls_client_new(mutls_config *cfg, const char *server_name) {
  /* Room for any DNS name (at most 253 characters, RFC 1035 2.3.4). */
  if (server_name && strlen(server_name) > 255) return NULL;
  mutls_conn *c = conn_new(cfg, 0);
  if (!c) return NULL;
  char why[400];
  if (server_name && *server_name && mt_set_str(&c->server_name, server_name, strlen(server_name))) {
    mutls_conn_free(c);
    return NULL;
  }
  if ((!server_name || !*server_name) && cfg->verify_peer)
    mt_fail(c, MUTLS_E_CONFIG, -1,
            "a client that verifies the server needs the server's name (it was %s); pass it "
            "to mutls_client_new (mutls client --servername) or turn verification off",
            server_name ? "empty" : "NULL");
  else if (mt_config_check(cfg, 0, why, sizeof why) != 0)
    mt_fail(c, MUTLS_E_CONFIG, -1, "%s", why);
  return c;
}

mutls_conn *mutls_server_new(mutls_config *cfg) {
  mutls_conn *c = conn_new(cfg, 1);
  char why[400];
  if (c && mt_config_check(cfg, 1, why, sizeof why) != 0) mt_fail(c, MUTLS_E_CONFIG, -1, "%s", why);
  return c;
}

void mutls_conn_free(mutls_conn *c) {
  if (!c) return;
  mt_dir_clear(&c->rd);
  mt_dir_clear(&c->wr);
  mt_w_free(&c->hs_in);
  mt_w_free(&c->out);
  mt_w_free(&c->hs_out);
  mt_w_free(&c->pha_buf);
  mt_w_free(&c->th_buf);
  mt_hash_free(c->th);
  mt_kex_free(c->kex);
  mt_peer_free(c->peer);
  mt_session_free(c->offer);
  mt_session_free(c->received);
  free(c->cookie);
  free(c->cr_context);
  free(c->notice);
  free(c->why);
  free(c->server_name);
  free(c->alpn);
  if (c->test != &mt_test_none) { /* it holds private keys */
    mt_wipe((mt_test_inject *)c->test, sizeof *c->test);
    free((mt_test_inject *)c->test);
  }
  mt_wipe(c->in, c->in_cap);
  free(c->in);
  mutls_config_free(c->cfg);
  mt_wipe(c, sizeof *c);
  free(c);
}

int64_t mt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mt_fail(mutls_conn *c, mutls_error code, int alert, const char *fmt, ...) {
  if (c->state == ST_FAILED) return -1;
  c->state = ST_FAILED;
  c->err = code;
  char why[MT_MAX_SENTENCE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  (void)mt_set_str(&c->why, why, strlen(why)); /* NULL: explained as out of memory */
  if (alert >= 0) {
    uint8_t a[2] = {2, (uint8_t)alert};
    c->alert_sent = alert;
    /* Messages not yet sealed are dropped; sealed records stay, so that the
     * alert's sequence number is the one the peer expects. */
    c->hs_out.len = 0;
    mt_record_write(c, CT_ALERT, a, 2);
  }
  return -1;
}

void mt_notice(mutls_conn *c, const char *fmt, ...) {
  char text[MT_MAX_SENTENCE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  (void)mt_set_str(&c->notice, text, strlen(text));
}

int mt_set_str(char **dst, const void *p, size_t n) {
  free(*dst);
  *dst = malloc(n + 1);
  if (!*dst) return -1;
  memcpy(*dst, p, n);
  (*dst)[n] = 0;
  return 0;
}

size_t mt_hs_begin(mt_writer *w, uint8_t type) {
  mt_w_u8(w, type);
  return mt_w_begin(w, 3);
}

void mt_hs_end(mt_writer *w, size_t token) { mt_w_end(w, token, 3); }

int mt_send_handshake(mutls_conn *c, const uint8_t *msg, size_t len) {
  size_t at = c->hs_out.len;
  mt_w_bytes(&c->hs_out, msg, len);
  if (!mt_w_failed(&c->hs_out) && c->test->mutate) {
    /* Test hook: let a negative test corrupt what we send. */
    uint8_t *room = mt_w_space(&c->hs_out, 1024);
    if (room) {
      size_t n = c->test->mutate(c->test->mutate_arg, c->hs_out.buf + at, len, len + 1024);
      c->hs_out.len = at + n;
      len = n;
    }
  }
  if (mt_w_failed(&c->hs_out) || mt_transcript_add(c, c->hs_out.buf + at, len) != 0)
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory building a message");
  return 0;
}

int mt_flush_handshake(mutls_conn *c) {
  if (!c->hs_out.len) return 0;
  int rc = mt_record_write(c, CT_HANDSHAKE, c->hs_out.buf, c->hs_out.len);
  c->hs_out.len = 0;
  if (rc != 0) return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory sealing records");
  return 0;
}

int mt_send_ccs(mutls_conn *c) {
  static const uint8_t one = 1;
  if (mt_flush_handshake(c) != 0) return -1;
  int enc = c->wr_encrypted;
  c->wr_encrypted = 0; /* CCS is never protected */
  int rc = mt_record_write(c, CT_CHANGE_CIPHER_SPEC, &one, 1);
  c->wr_encrypted = enc;
  return rc;
}

void mt_keylog(mutls_conn *c, const char *label, const uint8_t *secret) {
  mutls_config *cfg = c->cfg;
  if (!cfg->keylog) return;
  char cr[65], sec[2 * MT_MAX_HASH + 1];
  mt_hex(c->client_random, 32, cr);
  mt_hex(secret, c->hlen, sec);
  pthread_mutex_lock(&cfg->keylog_lock);
  fprintf(cfg->keylog, "%s %s %s\n", label, cr, sec);
  fflush(cfg->keylog);
  pthread_mutex_unlock(&cfg->keylog_lock);
  mt_wipe(sec, sizeof sec);
}

int mt_random_bytes(mutls_conn *c, uint8_t *out, size_t len) {
  if (c->test->active && len == 32) {
    memcpy(out, c->test->random, 32);
    return 0;
  }
  return mt_random(out, len);
}

int mt_kex_new(mutls_conn *c, uint16_t group) {
  mt_kex_free(c->kex);
  c->kex = NULL;
  c->kex_pub_len = sizeof c->kex_pub;
  if (c->test->active && c->test->kex_group == group)
    return mt_kex_from_private(group, c->test->kex_priv, c->test->kex_priv_len, &c->kex,
                               c->kex_pub, &c->kex_pub_len);
  return mt_kex_generate(group, &c->kex, c->kex_pub, &c->kex_pub_len);
}

/* Only tests pay for the injected values: a copy made here. */
void mt_test_inject_set(mutls_conn *c, const mt_test_inject *t) {
  mt_test_inject *copy = c->test != &mt_test_none ? (mt_test_inject *)c->test : malloc(sizeof *copy);
  if (!copy) abort(); /* a test that cannot inject must not run as if it had */
  *copy = *t;
  c->test = copy;
}

/* ---- buffers ------------------------------------------------------------------ */
void mt_release_idle(mutls_conn *c) {
  /* A half-received record or unread data keeps the input buffer. */
  if (c->in && !c->hdr_len && !c->in_len && !c->app_len) {
    mt_wipe(c->in, c->in_cap);
    free(c->in);
    c->in = NULL;
    c->in_cap = c->in_plain = 0;
  }
  if (!c->out.len) mt_w_drop(&c->out); /* ciphertext only: nothing to wipe */
  if (!c->hs_in.len) mt_w_release(&c->hs_in);
  if (!c->hs_out.len) mt_w_release(&c->hs_out);
  if (!c->in_pha) mt_w_release(&c->pha_buf);
}

/* What only the handshake needed. The transcript hash stays while a
 * post-handshake CertificateRequest may still come (4.6.2): on a client
 * that offered post_handshake_auth, on a server whose client did and that
 * can verify client certificates. Tickets, KeyUpdate and the exporter
 * need only the secrets kept in the struct. */
static void trim_handshake(mutls_conn *c) {
  int pha = c->is_server ? c->pha_offered && c->cfg->client_trust : c->cfg->post_handshake_auth;
  c->hs_trimmed = 1;
  mt_kex_free(c->kex);
  c->kex = NULL;
  mt_wipe(c->kex_pub, sizeof c->kex_pub);
  free(c->cookie);
  c->cookie = NULL;
  c->cookie_len = 0;
  if (!c->in_pha) {
    free(c->cr_context);
    c->cr_context = NULL;
    c->cr_context_len = 0;
  }
  mt_w_free(&c->th_buf); /* emptied once the suite was known; now never used */
  if (!pha) {
    mt_hash_free(c->th);
    c->th = NULL;
  }
  /* The buffers were sized for the handshake's flights: start afresh. */
  mt_release_idle(c);
}

void mt_after_record(mutls_conn *c) {
  if (c->established && !c->hs_trimmed)
    trim_handshake(c);
  else if (c->release_auto)
    mt_release_idle(c);
}

int mutls_conn_release_buffers(mutls_conn *c) {
  if (!c) return MUTLS_ERR;
  mt_release_idle(c);
  return MUTLS_OK;
}

static int ensure_started(mutls_conn *c) {
  if (c->state == ST_START && !c->is_server) {
    int rc = mt_client_start(c);
    return rc ? rc : mt_flush_handshake(c);
  }
  return 0;
}

/* A NULL buffer with a length is a misuse of the API: 1 after saying so in
 * the notice (nothing else changes), else 0. */
static int null_buffer(mutls_conn *c, const char *call, const void *p, size_t len) {
  if (p || !len) return 0;
  mt_notice(c, "%s was given a NULL buffer of %zu bytes; nothing was done", call, len);
  return 1;
}

int mutls_conn_recv(mutls_conn *c, const uint8_t *in, size_t len, size_t *used) {
  size_t dummy;
  if (!used) used = &dummy;
  *used = 0;
  if (!c || null_buffer(c, "mutls_conn_recv", in, len)) return MUTLS_ERR;
  if (ensure_started(c) != 0 || c->state == ST_FAILED) return MUTLS_ERR;
  /* A flight's key schedule steps clear the HMAC state once, at the end. */
  mt_hmac_batch_begin();
  int rc = mt_record_recv(c, in, len, used);
  mt_hmac_batch_end();
  return rc == 0 ? MUTLS_OK : MUTLS_ERR;
}

int mutls_conn_send(mutls_conn *c, uint8_t *out, size_t cap, size_t *produced) {
  size_t dummy;
  if (!produced) produced = &dummy;
  *produced = 0;
  if (!c || null_buffer(c, "mutls_conn_send", out, cap)) return MUTLS_ERR;
  ensure_started(c); /* a failure still leaves its alert to send */
  size_t n = c->out.len - c->out_off;
  if (n > cap) n = cap;
  if (n) memcpy(out, c->out.buf + c->out_off, n);
  c->out_off += n;
  *produced = n;
  if (c->out_off == c->out.len) {
    c->out.len = 0;
    c->out_off = 0;
    if (c->release_auto) mt_w_drop(&c->out);
  }
  return c->state == ST_FAILED && !n && c->err != MUTLS_E_NONE ? MUTLS_ERR : MUTLS_OK;
}

size_t mutls_conn_pending(const mutls_conn *c) {
  if (!c) return 0;
  if (c->state == ST_START && !c->is_server) ensure_started((mutls_conn *)c);
  return c->out.len - c->out_off;
}

int mutls_conn_handshake_done(const mutls_conn *c) { return c && c->state == ST_CONNECTED; }

/* Why nothing waits to be read: the peer closed, the connection failed, or
 * more input is needed. */
static int nothing_to_read(const mutls_conn *c) {
  if (c->got_close) return MUTLS_CLOSED;
  if (c->state == ST_FAILED) return MUTLS_ERR;
  return MUTLS_WANT_READ;
}

/* n <= app_len bytes are read. Like all plaintext in c->in, they are not
 * wiped here: the next record overwrites them, a release wipes them. */
static void mark_read(mutls_conn *c, size_t n) {
  c->app_off += n;
  c->app_len -= n;
  if (!c->app_len && c->release_auto) mt_release_idle(c);
}

int mutls_conn_read(mutls_conn *c, void *buf, size_t len) {
  if (!c || null_buffer(c, "mutls_conn_read", buf, len)) return MUTLS_ERR;
  if (!c->app_len) return nothing_to_read(c);
  if (!len) return 0; /* data waits; none was asked for */
  size_t n = len < c->app_len ? len : c->app_len;
  if (n > INT32_MAX) n = INT32_MAX;
  memcpy(buf, c->in + c->app_off, n);
  mark_read(c, n);
  return (int)n;
}

int mutls_conn_peek(mutls_conn *c, const uint8_t **data, size_t *len) {
  if (data) *data = NULL;
  if (len) *len = 0;
  if (!c || !data || !len) return MUTLS_ERR;
  if (!c->app_len) return nothing_to_read(c);
  *data = c->in + c->app_off;
  *len = c->app_len;
  return MUTLS_OK;
}

int mutls_conn_consume(mutls_conn *c, size_t n) {
  if (!c) return MUTLS_ERR;
  if (n > c->app_len) {
    /* A misuse of the API, not the peer's doing: nothing changes. */
    mt_notice(c,
              "mutls_conn_consume was asked for %zu bytes where %zu wait; nothing was "
              "consumed",
              n, c->app_len);
    return MUTLS_ERR;
  }
  if (n) mark_read(c, n);
  return MUTLS_OK;
}

/* Whether application data may go out now; who names the call in the
 * notice. MUTLS_OK, or MUTLS_ERR. */
static int may_write(mutls_conn *c, const char *who) {
  if (c->state == ST_FAILED) return MUTLS_ERR;
  if (c->state != ST_CONNECTED || c->sent_close) {
    /* A misuse of the API is not the peer's doing: nothing is torn down. */
    mt_notice(c, "%s was called %s; nothing was written", who,
              c->sent_close ? "after close" : "before the handshake completed");
    return MUTLS_ERR;
  }
  return MUTLS_OK;
}

/* The KeyUpdates due before our next data, queued in c->out. */
static int key_updates_due(mutls_conn *c) {
  /* 4.6.3: answer the peer's update request before our next data. */
  if (c->key_update_reply && mt_send_key_update(c, 0) != 0) return -1;
  uint64_t limit = c->test->key_update_after ? c->test->key_update_after : MT_KEY_UPDATE_AFTER;
  if (c->wr.seq >= limit && mt_send_key_update(c, 0) != 0) return -1;
  return 0;
}

int mutls_conn_write(mutls_conn *c, const void *buf, size_t len) {
  if (!c || null_buffer(c, "mutls_conn_write", buf, len)) return MUTLS_ERR;
  if (may_write(c, "mutls_conn_write") != MUTLS_OK) return MUTLS_ERR;
  if (len == 0) return 0;
  /* Output is bounded: take what fits under the high-water mark (a partial
   * write), or ask the caller to send first. */
  size_t queued = c->out.len - c->out_off;
  if (queued >= MT_OUT_HIGH) return MUTLS_WANT_WRITE;
  if (len > MT_OUT_HIGH - queued) len = MT_OUT_HIGH - queued;
  if (key_updates_due(c) != 0) return MUTLS_ERR;
  if (mt_record_write(c, CT_APPLICATION_DATA, buf, len) != 0) {
    mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory queueing application data");
    return MUTLS_ERR;
  }
  return (int)len;
}

int mutls_conn_write_into(mutls_conn *c, const void *buf, size_t len, uint8_t *out, size_t cap,
                          size_t *produced) {
  if (produced) *produced = 0;
  if (!c) return MUTLS_ERR;
  if (!produced) {
    mt_notice(c, "mutls_conn_write_into was given a NULL produced; nothing was done");
    return MUTLS_ERR;
  }
  if (null_buffer(c, "mutls_conn_write_into", out, cap) ||
      null_buffer(c, "mutls_conn_write_into", buf, len))
    return MUTLS_ERR;
  if (may_write(c, "mutls_conn_write_into") != MUTLS_OK) return MUTLS_ERR;
  if (len > INT32_MAX) len = INT32_MAX; /* the count must fit the return value */
  if (len && key_updates_due(c) != 0) return MUTLS_ERR;
  /* Order: what is queued (a KeyUpdate, a ticket, a post-handshake
   * message, earlier writes) goes out first. If it does not all fit, out is
   * full and no record of buf follows. */
  (void)mutls_conn_send(c, out, cap, produced);
  long taken = mt_record_seal_into(c, buf, len, out, cap, produced);
  if (taken < 0) {
    mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR,
            "sealing application data failed (a libcrypto error, or the write sequence number "
            "ran out)");
    return MUTLS_ERR;
  }
  return (int)taken;
}

int mutls_conn_close(mutls_conn *c) {
  static const uint8_t cn[2] = {1, ALERT_CLOSE_NOTIFY};
  if (!c) return MUTLS_ERR;
  if (c->sent_close || c->state == ST_FAILED) return MUTLS_OK;
  c->sent_close = 1;
  return mt_record_write(c, CT_ALERT, cn, 2) == 0 ? MUTLS_OK : MUTLS_ERR;
}

/* ---- getters ----------------------------------------------------------------
 * A NULL connection reads as one that has negotiated nothing. */
const char *mutls_conn_version(const mutls_conn *c) {
  return c && c->established ? "TLSv1.3" : NULL;
}
const char *mutls_conn_cipher_suite(const mutls_conn *c) {
  return c && c->suite ? c->suite->name : NULL;
}
const char *mutls_conn_group(const mutls_conn *c) { return c ? mt_group_name(c->group) : NULL; }
const char *mutls_conn_signature_scheme(const mutls_conn *c) {
  return c ? mt_sigscheme_name(c->is_server ? c->our_scheme : c->peer_scheme) : NULL;
}
const char *mutls_conn_alpn(const mutls_conn *c) { return c ? c->alpn : NULL; }
const char *mutls_conn_server_name(const mutls_conn *c) { return c ? c->server_name : NULL; }
int mutls_conn_used_hrr(const mutls_conn *c) { return c ? c->hrr : 0; }
int mutls_conn_resumed(const mutls_conn *c) { return c ? c->resumed : 0; }
int mutls_conn_confirmed(const mutls_conn *c) { return c ? c->confirmed : 0; }

int mutls_conn_skip_confirm(mutls_conn *c) {
  if (!c || c->state != ST_C_WAIT_CONFIRM) return MUTLS_ERR;
  c->state = ST_CONNECTED;
  mt_notice(c,
            "not confirmed: the server sent nothing within %u ms after the handshake, so whether "
            "it accepted our certificate is unknown until it answers (servers that send no "
            "tickets are never confirmed)",
            c->cfg->confirm_ms);
  return MUTLS_OK;
}
int mutls_conn_is_server(const mutls_conn *c) { return c ? c->is_server : 0; }

const mutls_peer *mutls_conn_peer(const mutls_conn *c) { return c ? c->peer : NULL; }
int mutls_conn_cert_requested(const mutls_conn *c) { return c ? c->cert_requested : 0; }
int mutls_conn_cert_sent(const mutls_conn *c) { return c ? c->cert_sent : 0; }
int mutls_conn_identity(const mutls_conn *c) {
  if (!c) return -1;
  return c->is_server ? (c->established || c->state != ST_S_WAIT_CH ? 0 : -1)
                      : (c->cert_sent ? c->id : -1);
}

/* What the sentences say for a NULL connection: calls made on it fail with
 * MUTLS_E_STATE, and a caller printing either sentence learns why. */
static const char no_conn[] =
    "the connection is NULL; check what mutls_client_new or mutls_server_new returned";

const char *mutls_conn_notice(const mutls_conn *c) {
  if (!c) return no_conn;
  return c->notice ? c->notice : "";
}

mutls_error mutls_conn_error(const mutls_conn *c) { return c ? c->err : MUTLS_E_STATE; }
int mutls_conn_alert_sent(const mutls_conn *c) { return c ? c->alert_sent : -1; }
int mutls_conn_alert_received(const mutls_conn *c) { return c ? c->alert_received : -1; }
const char *mutls_conn_explain(const mutls_conn *c) {
  if (!c) return no_conn;
  if (c->why) return c->why;
  return c->state == ST_FAILED ? "out of memory while explaining a failure" : "";
}

/* What a received alert most likely means, for the side that received it. */
const char *mt_alert_cause(int alert, int we_are_server) {
  switch (alert) {
  case ALERT_PROTOCOL_VERSION:
    return "the peer does not accept TLS 1.3 (it may be limited to TLS 1.2 or older)";
  case ALERT_HANDSHAKE_FAILURE:
    return "the peer found no cipher suite, group or signature scheme in common with us";
  case ALERT_UNKNOWN_CA:
    return we_are_server ? "the client does not trust the CA that issued our certificate; give "
                           "it our CA (for mutls client: --cacert)"
                         : "the server does not trust the CA that issued our certificate";
  case ALERT_BAD_CERTIFICATE:
    return we_are_server ? "the client rejected our certificate (often a host name that the "
                           "certificate does not list)"
                         : "the server rejected our client certificate, or (some servers) the "
                           "absence of one";
  case ALERT_CERTIFICATE_EXPIRED:
    return "the peer says our certificate has expired or is not yet valid; renew it or check "
           "the clocks";
  case ALERT_UNSUPPORTED_CERTIFICATE:
    return "the peer cannot use our certificate for this purpose (key usage, extended key "
           "usage or key type)";
  case ALERT_CERTIFICATE_REQUIRED:
    return "the server requires a client certificate and none was sent";
  case ALERT_CERTIFICATE_REVOKED:
    return "the peer says our certificate was revoked (it is listed in a CRL it loaded); get a "
           "new one issued";
  case ALERT_CERTIFICATE_UNKNOWN:
    return "the peer could not judge our certificate: often it lacks a current CRL for our "
           "issuer, or it dislikes the certificate for another reason";
  case ALERT_DECRYPT_ERROR:
    return "the peer could not verify a signature or Finished from us";
  case ALERT_BAD_RECORD_MAC:
    return "the peer could not decrypt our records";
  case ALERT_DECODE_ERROR:
  case ALERT_ILLEGAL_PARAMETER:
  case ALERT_UNEXPECTED_MESSAGE:
    return "the peer found something it could not accept in what we sent (a protocol error on "
           "one side)";
  case ALERT_NO_APPLICATION_PROTOCOL:
    return "the peer shares none of our ALPN protocols";
  case ALERT_UNRECOGNIZED_NAME:
    return "the server has no certificate for the name we asked for (SNI)";
  case ALERT_ACCESS_DENIED:
    return "the peer refuses our identity: its policy does not allow it (some peers also send "
           "this for a certificate they could not verify)";
  case ALERT_MISSING_EXTENSION:
    return "the peer expected an extension we did not send";
  case ALERT_INTERNAL_ERROR:
    return "the peer hit an internal error";
  default: return "the peer aborted the connection";
  }
}
