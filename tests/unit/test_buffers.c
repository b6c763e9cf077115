/* test_buffers.c - a connection's buffers come and go (mutls_conn_release_buffers,
 * mutls_config_set_release_buffers) and nothing else changes: handshakes,
 * data both ways in records of every size and in pieces down to one byte,
 * KeyUpdate, post-handshake authentication, tickets and resumption; a
 * half-received record or unread data survives a release; the handshake's
 * own state is gone once it completes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h" /* to see which buffers are held */

typedef struct {
  uint8_t *buf;
  size_t len, cap;
} sink;

static void sink_put(sink *s, const uint8_t *p, size_t n) {
  if (s->len + n > s->cap) {
    s->cap = (s->len + n) * 2;
    s->buf = realloc(s->buf, s->cap);
    if (!s->buf) abort();
  }
  memcpy(s->buf + s->len, p, n);
  s->len += n;
}

/* Release modes of a run: none (defaults), by hand between every call, or
 * automatic (the config setter). */
enum { KEEP, MANUAL, AUTO };

static void release(int mode, mutls_conn *a, mutls_conn *b) {
  if (mode != MANUAL) return;
  mutls_conn_release_buffers(a);
  mutls_conn_release_buffers(b);
}

/* Reads what `to` has decrypted, in 700-byte pieces (a release between
 * them must keep the rest). 1 if anything was read. */
static int drain(mutls_conn *from, mutls_conn *to, int mode, sink *got) {
  uint8_t piece[700];
  int any = 0, r;
  for (;;) {
    release(mode, from, to);
    if ((r = mutls_conn_read(to, piece, sizeof piece)) <= 0) return any;
    if (got) sink_put(got, piece, (size_t)r);
    any = 1;
  }
}

/* Moves all that `from` has to say into `to`, step bytes per recv call
 * (1: byte by byte), and appends the application data `to` yields to got.
 * Returns the bytes moved. */
static size_t move(mutls_conn *from, mutls_conn *to, size_t step, int mode, sink *got) {
  static uint8_t wire[1 << 17];
  size_t total = 0, n;
  for (;;) {
    release(mode, from, to);
    if (mutls_conn_send(from, wire, sizeof wire, &n) != MUTLS_OK || n == 0) return total;
    total += n;
    for (size_t off = 0; off < n;) {
      size_t k = n - off < step ? n - off : step, used = 0;
      release(mode, from, to);
      if (mutls_conn_recv(to, wire + off, k, &used) != MUTLS_OK) return total;
      off += used;
      if (!drain(from, to, mode, got) && used == 0) return total;
    }
  }
}

static int pump(mutls_conn *c, mutls_conn *s, size_t step, int mode) {
  for (int i = 0; i < 20; i++) {
    size_t moved = move(c, s, step, mode, NULL) + move(s, c, step, mode, NULL);
    if (mutls_conn_handshake_done(c) && mutls_conn_handshake_done(s) && !moved) return 0;
    if (!moved) break;
  }
  return -1;
}

static mutls_config *server_cfg(int mode) {
  mutls_config *cfg = tu_server_config("p256");
  mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_REQUIRED);
  mutls_config_set_client_ca_file(cfg, tu_path("ca.pem"));
  mutls_config_set_tickets(cfg, 2, 3600);
  if (mode == AUTO) mutls_config_set_release_buffers(cfg, 1);
  return cfg;
}

static mutls_config *client_cfg(int mode, int pha) {
  mutls_config *cfg = tu_client_config();
  mutls_config_add_identity_files(cfg, tu_path("client.pem"), tu_path("client.key"));
  mutls_config_set_post_handshake_auth(cfg, pha);
  if (mode == AUTO) mutls_config_set_release_buffers(cfg, 1);
  return cfg;
}

static tu_pair pair_new(int mode, int pha) {
  tu_pair p = {server_cfg(mode), client_cfg(mode, pha), NULL, NULL};
  p.s = mutls_server_new(p.sc);
  p.c = mutls_client_new(p.cc, "localhost");
  return p;
}

/* In automatic mode an idle connection holds no buffer at all. */
static int holds_nothing(const mutls_conn *c) {
  return !c->in && !c->out.buf && !c->hs_in.buf && !c->hs_out.buf && !c->pha_buf.buf &&
         !c->th_buf.buf;
}

/* n bytes of a pattern that differs per offset and per seed. */
static uint8_t *pattern(size_t n, unsigned seed) {
  uint8_t *p = malloc(n);
  if (!p) abort();
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 131 + seed + (i >> 8));
  return p;
}

/* Writes n bytes from a to b and checks they arrive whole, moved step bytes
 * at a time. */
static int send_data(mutls_conn *a, mutls_conn *b, size_t n, size_t step, int mode, unsigned seed) {
  uint8_t *data = pattern(n, seed);
  sink got = {0};
  int ok = mutls_conn_write(a, data, n) == (int)n;
  move(a, b, step, mode, &got);
  ok = ok && got.len == n && memcmp(got.buf, data, n) == 0;
  free(data);
  free(got.buf);
  return ok;
}

static const char *mode_name(int mode) {
  return mode == MANUAL ? "released between every call" : mode == AUTO ? "automatic release"
                                                                         : "default buffers";
}

/* Everything a connection does, under one release mode. */
static void lifecycle(int mode) {
  char name[200];
  tu_pair p = pair_new(mode, 1);
  mutls_conn *s = p.s, *c = p.c;
  const char *m = mode_name(mode);

  /* The handshake byte by byte: every record arrives in pieces. */
  int rc = pump(c, s, 1, mode);
  snprintf(name, sizeof name, "%s: a mutual handshake fed byte by byte completes", m);
  CHECKF(name, rc == 0 && mutls_conn_peer(s) && mutls_conn_peer(c), "server: %s; client: %s",
         mutls_conn_explain(s), mutls_conn_explain(c));
  snprintf(name, sizeof name, "%s: the client holds the server's tickets", m);
  uint8_t session[4096];
  int slen = mutls_conn_get_session(c, session, sizeof session);
  CHECKF(name, slen > 0, "get_session %d", slen);
  snprintf(name, sizeof name, "%s: the handshake's own state is freed when it completes", m);
  CHECK(name, !c->kex && !s->kex && !c->cookie && !s->hs_out.buf && !c->hs_out.buf &&
                  !s->th_buf.buf && c->th /* kept: post-handshake auth offered */);
  if (mode == AUTO) {
    snprintf(name, sizeof name, "%s: idle connections hold no buffer after the handshake", m);
    CHECK(name, holds_nothing(c) && holds_nothing(s));
  }

  /* Data both ways: more than one record, records split at odd places,
   * one byte at a time. */
  snprintf(name, sizeof name, "%s: 40000 bytes client to server in 1000-byte pieces", m);
  CHECK(name, send_data(c, s, 40000, 1000, mode, 1));
  snprintf(name, sizeof name, "%s: 16385 bytes server to client, 7 bytes at a time", m);
  CHECK(name, send_data(s, c, 16385, 7, mode, 2));
  snprintf(name, sizeof name, "%s: 300 bytes server to client, byte by byte", m);
  CHECK(name, send_data(s, c, 300, 1, mode, 3));
  snprintf(name, sizeof name, "%s: a whole 16 KiB record in one piece", m);
  CHECK(name, send_data(c, s, 16384, 1 << 17, mode, 4));
  if (mode == AUTO) {
    snprintf(name, sizeof name, "%s: the buffers are gone once the data was read", m);
    CHECK(name, holds_nothing(c) && holds_nothing(s));
  }

  /* KeyUpdate, asking the peer to update too: its answer comes with its
   * next data. */
  rc = mutls_conn_key_update(c, 1);
  move(c, s, 3, mode, NULL);
  snprintf(name, sizeof name, "%s: KeyUpdate with a request, then data both ways", m);
  CHECKF(name, rc == MUTLS_OK && send_data(s, c, 2000, 100, mode, 5) &&
                   send_data(c, s, 2000, 100, mode, 6) && mutls_conn_error(s) == MUTLS_E_NONE,
         "server: %s; client: %s", mutls_conn_explain(s), mutls_conn_explain(c));

  /* Post-handshake authentication: the server asks again. */
  rc = mutls_conn_request_client_cert(s);
  move(s, c, 5, mode, NULL);
  move(c, s, 5, mode, NULL);
  snprintf(name, sizeof name, "%s: post-handshake authentication after releases", m);
  CHECKF(name,
         rc == MUTLS_OK && !mutls_conn_client_cert_pending(s) && mutls_conn_peer(s) &&
             mutls_conn_error(s) == MUTLS_E_NONE && mutls_conn_error(c) == MUTLS_E_NONE,
         "rc %d; server: %s; client: %s", rc, mutls_conn_explain(s), mutls_conn_explain(c));
  snprintf(name, sizeof name, "%s: data after post-handshake authentication", m);
  CHECK(name, send_data(c, s, 5000, 333, mode, 7) && send_data(s, c, 5000, 333, mode, 8));

  /* close_notify both ways. */
  mutls_conn_close(c);
  move(c, s, 2, mode, NULL);
  uint8_t b[8];
  snprintf(name, sizeof name, "%s: close_notify arrives", m);
  CHECK(name, mutls_conn_read(s, b, sizeof b) == MUTLS_CLOSED);
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* Resumption with the ticket received above. */
  p.s = s = mutls_server_new(p.sc);
  p.c = c = mutls_client_new(p.cc, "localhost");
  mutls_conn_set_session(c, session, (size_t)slen);
  rc = pump(c, s, 9, mode);
  snprintf(name, sizeof name, "%s: the ticket resumes", m);
  CHECKF(name, rc == 0 && mutls_conn_resumed(c) && mutls_conn_resumed(s) &&
                   send_data(c, s, 20000, 4096, mode, 9),
         "server: %s; client: %s", mutls_conn_explain(s), mutls_conn_explain(c));
  tu_pair_free(&p);
}

/* A release leaves alone what is not idle: a record half received (header
 * or body), data not yet read, ciphertext not yet sent. */
static void keeps_what_is_busy(void) {
  tu_pair p = pair_new(KEEP, 0);
  mutls_conn *s = p.s, *c = p.c;
  static uint8_t wire[1 << 16];
  size_t n = 0, used = 0, used2 = 0;
  uint8_t *data = pattern(3000, 11), got[3000];
  CHECK("busy buffers: handshake", pump(c, s, 1 << 16, KEEP) == 0);

  /* Unsent ciphertext survives, and goes out whole. */
  mutls_conn_write(c, data, 3000);
  mutls_conn_release_buffers(c);
  CHECK("busy buffers: queued ciphertext is kept", c->out.len > 3000);
  mutls_conn_send(c, wire, sizeof wire, &n);

  /* Three bytes of the header, release, two more and half the body,
   * release, the rest. */
  int rc = mutls_conn_recv(s, wire, 3, &used);
  mutls_conn_release_buffers(s);
  rc |= mutls_conn_recv(s, wire + 3, 1500, &used2);
  used += used2;
  mutls_conn_release_buffers(s);
  CHECK("busy buffers: a half-received record is kept", s->in && s->in_len == 1498 && s->hdr_len == 5);
  rc |= mutls_conn_recv(s, wire + used, n - used, &used2);
  used += used2;
  mutls_conn_release_buffers(s);
  int r1 = mutls_conn_read(s, got, 1000);
  mutls_conn_release_buffers(s);
  CHECK("busy buffers: unread data is kept", s->in && s->app_len == 2000);
  int r2 = mutls_conn_read(s, got + 1000, 2000);
  CHECKF("busy buffers: the record arrives whole across releases",
         rc == MUTLS_OK && used == n && r1 == 1000 && r2 == 2000 && memcmp(got, data, 3000) == 0,
         "rc %d used %zu/%zu reads %d %d", rc, used, n, r1, r2);
  mutls_conn_release_buffers(s);
  CHECK("busy buffers: once read, the input buffer is freed", !s->in && !s->in_cap);

  free(data);
  tu_pair_free(&p);
}

/* Plaintext is not wiped as it is read but when the next record does not
 * cover it: a short record after a long one wipes the long one's tail. A
 * record that fails to open leaves no plaintext either. */
static void wipes_what_is_not_overwritten(void) {
  tu_pair p = pair_new(KEEP, 0);
  mutls_conn *s = p.s, *c = p.c;
  CHECK("wipe: handshake", pump(c, s, 1 << 16, KEEP) == 0);
  CHECK("wipe: a long record arrives", send_data(c, s, 10000, 1 << 17, KEEP, 13));
  size_t long_plain = s->in_plain;
  CHECK("wipe: a short one follows", send_data(c, s, 100, 1 << 17, KEEP, 14));
  int tail_zero = s->in_plain == 101 && long_plain == 10001;
  for (size_t i = 101; i < long_plain && tail_zero; i++) tail_zero = s->in[i] == 0;
  CHECKF("wipe: nothing of the long record's plaintext remains", tail_zero,
         "in_plain %zu after %zu", s->in_plain, long_plain);

  /* A whole record whose last byte (in its tag) was altered, opened
   * straight out of the caller's bytes. */
  static uint8_t wire[1 << 15];
  size_t n = 0, used = 0;
  uint8_t *data = pattern(5000, 15);
  mutls_conn_write(c, data, 5000);
  mutls_conn_send(c, wire, sizeof wire, &n);
  wire[n - 1] ^= 1;
  int rc = mutls_conn_recv(s, wire, n, &used);
  int clean = s->in != NULL;
  for (size_t i = 0; clean && i < 5000; i++) clean = s->in[i] == 0;
  CHECK("wipe: a forged record fails with bad_record_mac and leaves no plaintext",
        rc == MUTLS_ERR && mutls_conn_error(s) == MUTLS_E_BAD_RECORD_MAC &&
            mutls_conn_alert_sent(s) == 20 && clean);
  free(data);
  tu_pair_free(&p);
}

/* Without post-handshake authentication the transcript hash goes with the
 * handshake; the setter follows the other setters' rule. */
static void small_things(void) {
  tu_pair p = pair_new(KEEP, 0);
  mutls_conn *s = p.s, *c = p.c;
  CHECK("no post-handshake auth: handshake", pump(c, s, 1 << 16, KEEP) == 0);
  CHECK("no post-handshake auth: the transcript hash is freed on both sides", !c->th && !s->th);
  CHECK("no post-handshake auth: a request is refused, the connection lives",
        mutls_conn_request_client_cert(s) == MUTLS_ERR && mutls_conn_error(s) == MUTLS_E_NONE &&
            send_data(c, s, 100, 100, KEEP, 12));
  CHECK("release_buffers on a config in use fails like every setter",
        mutls_config_set_release_buffers(p.sc, 1) == MUTLS_ERR);
  CHECK("release_buffers(NULL) is an error", mutls_conn_release_buffers(NULL) == MUTLS_ERR);
  tu_pair_free(&p);
}

int main(void) {
  tu_certs();
  lifecycle(KEEP);
  lifecycle(MANUAL);
  lifecycle(AUTO);
  keeps_what_is_busy();
  wipes_what_is_not_overwritten();
  small_things();
  return check_exit();
}
