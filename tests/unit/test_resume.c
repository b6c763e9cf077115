/* test_resume.c - resumption (tickets, binders, rotation, single use, the
 * identity re-check), confirmation of acceptance, and KeyUpdate, between our
 * client and our server in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h"

static int has(const char *s, const char *n) { return s && strstr(s, n); }

static mutls_config *mtls_server(void) {
  mutls_config *cfg = tu_server_config("p256");
  mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_REQUIRED);
  mutls_config_set_client_ca_file(cfg, tu_path("ca.pem"));
  return cfg;
}

static mutls_config *mtls_client(const char *id) {
  mutls_config *cfg = tu_client_config();
  char pem[64], key[64];
  snprintf(pem, sizeof pem, "%s.pem", id);
  snprintf(key, sizeof key, "%s.key", id);
  if (id) mutls_config_add_identity_files(cfg, tu_path(pem), tu_path(key));
  return cfg;
}

/* One connection; the client reads once more so that post-handshake
 * messages (tickets, alerts) reach it. Returns 1 if both completed. */
static int connect_once(mutls_config *sc, mutls_config *cc, mutls_conn **s_out,
                        mutls_conn **c_out, const uint8_t *session, size_t session_len) {
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "localhost");
  if (session) mutls_conn_set_session(c, session, session_len);
  int ok = tu_pump(c, s) == 0;
  char buf[16];
  tu_move(s, c);
  mutls_conn_read(c, buf, sizeof buf);
  *s_out = s;
  *c_out = c;
  return ok && mutls_conn_error(c) == MUTLS_E_NONE;
}

static void resumption(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client-billing");
  mutls_conn *s, *c;
  int ok = connect_once(sc, cc, &s, &c, NULL, 0);
  CHECK("full mutual handshake first", ok && !mutls_conn_resumed(c) && !mutls_conn_resumed(s));
  uint8_t sess[8192];
  int n = mutls_conn_get_session(c, sess, sizeof sess);
  CHECK("the client received a session", n > 0 && (size_t)n <= sizeof sess);
  mutls_conn_free(c);
  mutls_conn_free(s);

  unsigned long parsed = mt_x509_parse_count();
  ok = connect_once(sc, cc, &s, &c, NULL, 0);
  CHECKF("second connection resumes from the cache", ok && mutls_conn_resumed(c) && mutls_conn_resumed(s),
         "client: %s; server: %s / %s", mutls_conn_explain(c), mutls_conn_explain(s),
         mutls_conn_notice(s));
  /* The ticket's client chain is judged from the verified-chain cache. */
  CHECKF("resuming parses no certificate on either side", mt_x509_parse_count() == parsed,
         "%lu parsed", mt_x509_parse_count() - parsed);
  CHECK("resumed server still knows the client",
        mutls_conn_peer(s) && has(mutls_peer_spiffe_id(mutls_conn_peer(s)), "billing/api"));
  CHECK("resumed client still knows the server",
        mutls_conn_peer(c) && has(mutls_peer_subject(mutls_conn_peer(c)), "CN=localhost"));
  CHECK("resumed: no certificate was asked or sent",
        !mutls_conn_cert_requested(c) && !mutls_conn_cert_sent(c));
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* A saved session works in a fresh client (another process, say). */
  mutls_config *cc2 = mtls_client("client-billing");
  ok = connect_once(sc, cc2, &s, &c, sess, (size_t)n);
  CHECK("a serialized session resumes in a new client", ok && mutls_conn_resumed(s));
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* One rotation keeps the previous key for its grace; two push it out. */
  mutls_config_rotate_ticket_keys(sc);
  ok = connect_once(sc, cc2, &s, &c, sess, (size_t)n);
  CHECK("after one rotation the ticket still resumes", ok && mutls_conn_resumed(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_rotate_ticket_keys(sc);
  ok = connect_once(sc, cc2, &s, &c, sess, (size_t)n);
  CHECK("a ticket from a rotated-out key does not resume (full handshake)",
        ok && !mutls_conn_resumed(s) && !mutls_conn_resumed(c));
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* A tampered ticket simply does not resume. */
  ok = connect_once(sc, cc2, &s, &c, NULL, 0);
  n = mutls_conn_get_session(c, sess, sizeof sess);
  mutls_conn_free(c);
  mutls_conn_free(s);
  sess[40] ^= 1; /* inside the ticket (after version, suite, PSK) */
  ok = connect_once(sc, cc2, &s, &c, sess, (size_t)n);
  CHECK("a tampered ticket does not resume", ok && !mutls_conn_resumed(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc2);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* Without the verified-chain cache a ticket's client chain is parsed and
 * verified in full, and resumption works the same. */
static void resumption_cold(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client-billing");
  mt_config_set_chain_cache(sc, 0);
  mutls_conn *s, *c;
  int ok = connect_once(sc, cc, &s, &c, NULL, 0);
  mutls_conn_free(c);
  mutls_conn_free(s);
  unsigned long parsed = mt_x509_parse_count();
  ok = ok && connect_once(sc, cc, &s, &c, NULL, 0);
  CHECK("cache off: the ticket resumes, its client chain parsed again",
        ok && mutls_conn_resumed(s) && mt_x509_parse_count() > parsed && mutls_conn_peer(s) &&
            has(mutls_peer_spiffe_id(mutls_conn_peer(s)), "billing/api"));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* The client's binder is the last bytes of its ClientHello. */
static size_t flip_last(void *arg, uint8_t *msg, size_t len, size_t cap) {
  if (msg[0] == 1) msg[len - 1] ^= 1;
  return len;
}

static void bad_binder(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client");
  mutls_conn *s, *c;
  connect_once(sc, cc, &s, &c, NULL, 0);
  mutls_conn_free(c);
  mutls_conn_free(s);
  s = mutls_server_new(sc);
  c = mutls_client_new(cc, "localhost");
  mt_test_inject t = {0};
  t.mutate = flip_last;
  mt_test_inject_set(c, &t);
  tu_pump(c, s);
  CHECKF("a tampered binder: decrypt_error", mutls_conn_error(s) == MUTLS_E_BAD_FINISHED &&
                                                 mutls_conn_alert_sent(s) == 51 &&
                                                 has(mutls_conn_explain(s), "binder"),
         "%s: %s", mutls_error_name(mutls_conn_error(s)), mutls_conn_explain(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* Two servers share ticket keys through a file; the second has other rules. */
static void recheck(void) {
  char keys[600];
  snprintf(keys, sizeof keys, "%s/ticket.keys", tu_certs());
  FILE *f = fopen(keys, "w");
  fprintf(f, "%s\n", "00112233445566778899aabbccddeeff"
                     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  fclose(f);
  mutls_config *a = mtls_server(), *b = mtls_server(), *cc = mtls_client("client-billing");
  CHECK("ticket key file loads", mutls_config_set_ticket_key_file(a, keys) == MUTLS_OK &&
                                     mutls_config_set_ticket_key_file(b, keys) == MUTLS_OK);
  mutls_config_allow(b, "uri:spiffe://mutls.test/web/*");
  mutls_conn *s, *c;
  connect_once(a, cc, &s, &c, NULL, 0);
  uint8_t sess[8192];
  int n = mutls_conn_get_session(c, sess, sizeof sess);
  mutls_conn_free(c);
  mutls_conn_free(s);
  connect_once(a, cc, &s, &c, sess, (size_t)n);
  CHECK("a shared key file lets the same ticket resume", mutls_conn_resumed(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  int ok = connect_once(b, cc, &s, &c, sess, (size_t)n);
  CHECKF("policy changed: the ticket does not resume and the full handshake is refused",
         !ok && !mutls_conn_resumed(s) && has(mutls_conn_notice(s), "did not resume") &&
             mutls_conn_error(s) == MUTLS_E_ACCESS_DENIED,
         "notice: %s; error %s", mutls_conn_notice(s), mutls_error_name(mutls_conn_error(s)));
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* Expired since: judge the stored identity at a later time. */
  s = mutls_server_new(a);
  c = mutls_client_new(cc, "localhost");
  mutls_conn_set_session(c, sess, (size_t)n);
  mt_test_inject t = {0};
  t.verify_time = time(NULL) + 400 * 86400;
  mt_test_inject_set(s, &t);
  tu_pump(c, s);
  CHECKF("identity expired since: the ticket does not resume",
         !mutls_conn_resumed(s) && has(mutls_conn_notice(s), "expired"), "notice: %s",
         mutls_conn_notice(s));
  mutls_conn_free(c);
  mutls_conn_free(s);

  mutls_config_set_single_use_tickets(b, 1);
  mutls_config_free(a);
  mutls_config_free(b);
  mutls_config_free(cc);
}

/* Where a session blob's chain<3> starts (format 1: version, suite, psk<1>,
 * ticket<2>, lifetime, age_add, received_ms, name<1>, chain<3>). */
static size_t chain_at(const uint8_t *b, size_t n) {
  size_t off = 3;
  off += 1 + b[off];
  off += 2 + ((size_t)b[off] << 8 | b[off + 1]);
  off += 16;
  off += 1 + b[off];
  return off < n ? off : 0;
}

/* 4.6.1: a client resumes only if the new SNI value is valid for the
 * server certificate of the original session; a blob's chain is judged when
 * it is set, as if the server had sent it. */
static void session_blobs(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client");
  mutls_conn *s, *c;
  connect_once(sc, cc, &s, &c, NULL, 0);
  uint8_t sess[8192], bad[8200];
  int n = mutls_conn_get_session(c, sess, sizeof sess);
  mutls_conn_free(c);
  mutls_conn_free(s);
  CHECK("a session to judge", n > 0);
  if (n <= 0) goto out;

  c = mutls_client_new(cc, "wrong.example");
  int rc = mutls_conn_set_session(c, sess, (size_t)n);
  CHECKF("a session for localhost is not taken for wrong.example",
         rc == MUTLS_ERR && has(mutls_conn_notice(c), "the session was not taken") &&
             has(mutls_conn_notice(c), "wrong.example"),
         "rc %d, notice: %s", rc, mutls_conn_notice(c));
  mutls_conn_free(c);

  size_t at = chain_at(sess, (size_t)n);
  CHECK("the blob's chain found", at > 0);
  if (!at) goto out;
  /* One byte more inside chain<3>: trailing bytes after the last certificate. */
  size_t clen = ((size_t)sess[at] << 16 | (size_t)sess[at + 1] << 8 | sess[at + 2]) + 1;
  memcpy(bad, sess, (size_t)n);
  bad[at] = (uint8_t)(clen >> 16);
  bad[at + 1] = (uint8_t)(clen >> 8);
  bad[at + 2] = (uint8_t)clen;
  bad[n] = 0;
  c = mutls_client_new(cc, "localhost");
  rc = mutls_conn_set_session(c, bad, (size_t)n + 1);
  CHECKF("a chain with bytes after its last certificate is not taken",
         rc == MUTLS_ERR && has(mutls_conn_notice(c), "the stored chain is malformed"), "rc %d, notice: %s", rc,
         mutls_conn_notice(c));
  mutls_conn_free(c);

  /* No certificate at all. */
  memcpy(bad, sess, at);
  bad[at] = bad[at + 1] = bad[at + 2] = 0;
  c = mutls_client_new(cc, "localhost");
  rc = mutls_conn_set_session(c, bad, at + 3);
  CHECKF("a session without a server certificate is not taken",
         rc == MUTLS_ERR && has(mutls_conn_notice(c), "the stored chain holds no certificate"),
         "rc %d, notice: %s", rc, mutls_conn_notice(c));
  mutls_conn_free(c);

  c = mutls_client_new(cc, "localhost");
  rc = mutls_conn_set_session(c, sess, (size_t)n);
  s = mutls_server_new(sc);
  tu_pump(c, s);
  CHECKF("the same blob for its own name resumes", rc == MUTLS_OK && mutls_conn_resumed(c) &&
                                                       mutls_conn_peer(c) != NULL,
         "rc %d: %s", rc, mutls_conn_notice(c));
  mutls_conn_free(c);
  mutls_conn_free(s);
out:
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* Into blob: the session sess (n bytes, from sc) with its ticket replaced
 * by one sealed with sc's key: created (ms), a lifetime of 7200 s, the
 * session's PSK, and der as the client chain, followed by trailing zero
 * bytes if asked. Returns 0 if it could. */
static int reseal(mutls_config *sc, const uint8_t *sess, int n, uint64_t created,
                  const uint8_t *der, size_t der_len, size_t trailing, mt_writer *blob) {
  mt_writer pt;
  if (n < 5) return -1;
  mt_w_init(&pt, 1 << 16);
  /* The plaintext (ticket.c, ticket_plaintext); the session (format 1):
   * version, suite, psk<1>, ticket<2>, then the rest. */
  size_t psk_len = sess[3], off = 4 + psk_len;
  mt_w_u8(&pt, 1);
  mt_w_bytes(&pt, sess + 1, 2);
  for (int shift = 48; shift >= 0; shift -= 16) mt_w_u16(&pt, (uint16_t)(created >> shift));
  mt_w_bytes(&pt, (const uint8_t[]){0, 0, 0x1c, 0x20, 0, 0, 0, 0}, 8); /* lifetime, age_add */
  mt_w_u8(&pt, (uint8_t)psk_len);
  mt_w_bytes(&pt, sess + 4, psk_len);
  size_t list = mt_w_begin(&pt, 3), t = mt_w_begin(&pt, 3);
  mt_w_bytes(&pt, der, der_len);
  mt_w_end(&pt, t, 3);
  for (size_t i = 0; i < trailing; i++) mt_w_u8(&pt, 0);
  mt_w_end(&pt, list, 3);
  mt_w_bytes(blob, sess, off);
  t = mt_w_begin(blob, 2);
  int rc = mt_w_failed(&pt) ? -1 : mt_ticket_seal(sc, pt.buf, pt.len, blob);
  mt_w_end(blob, t, 2);
  off += 2 + ((size_t)sess[off] << 8 | sess[off + 1]);
  mt_w_bytes(blob, sess + off, (size_t)n - off);
  mt_w_free(&pt);
  return rc == 0 && !mt_w_failed(blob) ? 0 : -1;
}

/* Tickets sealed with the server's key but not as the server writes them
 * do not resume (4.6.1: no alert, a full handshake follows). */
static void forged(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client");
  mutls_config_set_single_use_tickets(sc, 1);
  mutls_conn *s, *c;
  connect_once(sc, cc, &s, &c, NULL, 0);
  uint8_t sess[8192], der[4096];
  int n = mutls_conn_get_session(c, sess, sizeof sess);
  size_t der_len = 0;
  const uint8_t *p = mutls_peer_cert_der(mutls_conn_peer(s), 0, &der_len);
  if (p && der_len <= sizeof der) memcpy(der, p, der_len);
  mutls_conn_free(c);
  mutls_conn_free(s);
  uint64_t now = (uint64_t)mt_now_ms();
  mt_writer blob;
  mt_w_init(&blob, 1 << 16);

  int ok = reseal(sc, sess, n, now, der, der_len, 0, &blob) == 0 &&
           connect_once(sc, cc, &s, &c, blob.buf, blob.len);
  CHECKF("a ticket resealed as the server writes it resumes", ok && mutls_conn_resumed(s),
         "notice: %s; %s", mutls_conn_notice(s), mutls_conn_explain(s));
  mutls_conn_free(c);
  mutls_conn_free(s);

  mt_w_reset(&blob);
  ok = reseal(sc, sess, n, now, der, der_len, 2, &blob) == 0 &&
       connect_once(sc, cc, &s, &c, blob.buf, blob.len);
  CHECKF("a ticket whose client chain has trailing bytes does not resume; full handshake",
         ok && !mutls_conn_resumed(s) && has(mutls_conn_notice(s), "the stored chain is malformed"),
         "notice: %s; %s", mutls_conn_notice(s), mutls_conn_explain(s));
  mutls_conn_free(c);
  mutls_conn_free(s);

  /* Single use computes when the ticket expires: from the far future,
   * that overflowed (UBSan: signed integer overflow). */
  mt_w_reset(&blob);
  ok = reseal(sc, sess, n, INT64_MAX - 1000, der, der_len, 0, &blob) == 0 &&
       connect_once(sc, cc, &s, &c, blob.buf, blob.len);
  CHECKF("a ticket created in the future does not resume; full handshake",
         ok && !mutls_conn_resumed(s), "%s", mutls_conn_explain(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mt_w_free(&blob);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

static void single_use(void) {
  mutls_config *sc = mtls_server(), *cc = mtls_client("client");
  mutls_config_set_single_use_tickets(sc, 1);
  mutls_conn *s, *c;
  connect_once(sc, cc, &s, &c, NULL, 0);
  uint8_t sess[8192];
  int n = mutls_conn_get_session(c, sess, sizeof sess);
  mutls_conn_free(c);
  mutls_conn_free(s);
  connect_once(sc, cc, &s, &c, sess, (size_t)n);
  CHECK("single use: first use resumes", mutls_conn_resumed(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  connect_once(sc, cc, &s, &c, sess, (size_t)n);
  CHECK("single use: second use does not", !mutls_conn_resumed(s) && has(mutls_conn_notice(s), "single-use"));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

static void confirm(void) {
  mutls_config *sc = mtls_server(), *good = mtls_client("client"), *none = tu_client_config();
  mutls_config_set_confirm(good, 1000);
  mutls_config_set_confirm(none, 1000);
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(good, "localhost");
  tu_pump(c, s);
  tu_move(s, c);
  CHECK("confirm: an accepted client is confirmed by the ticket",
        mutls_conn_handshake_done(c) && mutls_conn_confirmed(c));
  mutls_conn_free(c);
  mutls_conn_free(s);

  s = mutls_server_new(sc);
  c = mutls_client_new(none, "localhost");
  tu_move(c, s);
  tu_move(s, c);
  tu_move(c, s);
  CHECK("confirm: the client waits before reporting success", !mutls_conn_handshake_done(c));
  tu_move(s, c);
  CHECKF("confirm: a refused client learns it from the handshake itself",
         !mutls_conn_handshake_done(c) && mutls_conn_error(c) == MUTLS_E_PEER_ALERT &&
             mutls_conn_alert_received(c) == 116,
         "%s", mutls_conn_explain(c));
  mutls_conn_free(c);
  mutls_conn_free(s);

  mutls_config *quiet = tu_server_config("p256");
  mutls_config_set_tickets(quiet, 0, 0);
  s = mutls_server_new(quiet);
  c = mutls_client_new(good, "localhost");
  tu_pump(c, s);
  CHECK("confirm: a server that sends nothing leaves the client waiting", !mutls_conn_handshake_done(c));
  CHECK("confirm: giving up completes unconfirmed, and says so",
        mutls_conn_skip_confirm(c) == MUTLS_OK && mutls_conn_handshake_done(c) &&
            !mutls_conn_confirmed(c) && has(mutls_conn_notice(c), "not confirmed"));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(quiet);
  mutls_config_free(none);
  mutls_config_free(good);
  mutls_config_free(sc);
}

static int echo(mutls_conn *a, mutls_conn *b, const char *msg) {
  char buf[64];
  if (mutls_conn_write(a, msg, strlen(msg)) < 0) return 0;
  tu_move(a, b);
  int n = mutls_conn_read(b, buf, sizeof buf);
  return n == (int)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0;
}

static void key_update(void) {
  mutls_config *sc = tu_server_config("p256"), *cc = tu_client_config();
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "localhost");
  tu_pump(c, s);
  mt_test_inject t = {0};
  t.key_update_after = 3;
  mt_test_inject_set(c, &t);
  uint8_t before[MT_MAX_HASH];
  memcpy(before, c->c_ap, sizeof before);
  int ok = 1;
  for (int i = 0; i < 8; i++) ok &= echo(c, s, "data");
  CHECK("automatic KeyUpdate before the limit; data keeps flowing",
        ok && memcmp(before, c->c_ap, sizeof before) != 0 && memcmp(c->c_ap, s->c_ap, 48) == 0);
  memcpy(before, s->s_ap, sizeof before);
  CHECK("KeyUpdate with update_requested", mutls_conn_key_update(c, 1) == MUTLS_OK);
  tu_move(c, s);
  ok = echo(s, c, "after");
  CHECK("the peer answered with its own KeyUpdate", ok && memcmp(before, s->s_ap, 48) != 0 &&
                                                        memcmp(s->s_ap, c->s_ap, 48) == 0);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* A client certificate of about 80 KB (4000 DNS names), from the test CA:
 * client-big.pem and .key in the test directory. 1 if made. */
static int make_big_client(void) {
  FILE *f = fopen(tu_path("big.cnf"), "w");
  if (!f) return 0;
  fprintf(f, "[req]\ndistinguished_name = dn\n[dn]\n[ext]\nbasicConstraints = CA:FALSE\n"
             "keyUsage = digitalSignature\nextendedKeyUsage = clientAuth\n"
             "subjectAltName = @alt\n[alt]\n");
  for (int i = 1; i <= 4000; i++) fprintf(f, "DNS.%d = host%04d.big.mutls.test\n", i, i);
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
           "-out client-big.key 2>/dev/null && openssl req -new -key client-big.key "
           "-subj '/CN=big client' -config big.cnf -out big.csr 2>/dev/null && openssl x509 "
           "-req -in big.csr -CA ca.pem -CAkey ca.key -set_serial 99 -days 2 -sha256 "
           "-extfile big.cnf -extensions ext -out client-big.pem 2>/dev/null",
           tu_certs());
  return system(cmd) == 0;
}

/* 4.6.1: a ticket is at most 65535 bytes, and ours carries the client's
 * chain. A chain too large for one is no reason to fail a connection that
 * has just been made: no ticket is sent, and the server says why. */
static void chain_too_large_for_a_ticket(void) {
  int made = make_big_client();
  CHECK("a client certificate of about 80 KB is made", made);
  if (!made) return;
  mutls_config *sc = mtls_server(), *cc = mtls_client("client-big");
  mutls_conn *s, *c;
  int ok = connect_once(sc, cc, &s, &c, NULL, 0);
  uint8_t sess[512];
  CHECKF("big client chain: the handshake completes and stays up on both sides",
         ok && mutls_conn_error(s) == MUTLS_E_NONE && mutls_conn_handshake_done(s) &&
             mutls_conn_handshake_done(c),
         "client: %s; server: %s", mutls_conn_explain(c), mutls_conn_explain(s));
  CHECKF("big client chain: no ticket, and the server's notice says why",
         mutls_conn_get_session(c, sess, sizeof sess) <= 0 &&
             has(mutls_conn_notice(s), "no session ticket was sent") &&
             has(mutls_conn_notice(s), "more than a ticket's 65535"),
         "notice: %s", mutls_conn_notice(s));
  CHECK("big client chain: application data still flows", echo(c, s, "after no ticket"));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

int main(void) {
  tu_certs();
  resumption();
  resumption_cold();
  bad_binder();
  recheck();
  forged();
  single_use();
  session_blobs();
  confirm();
  key_update();
  chain_too_large_for_a_ticket();
  return check_exit();
}
