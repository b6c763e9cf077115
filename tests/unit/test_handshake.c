/* test_handshake.c - our client against our server, in memory: every
 * cipher suite x group x signature scheme, HelloRetryRequest, ALPN, the
 * exporter, application data both ways, close_notify, key logging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "crypto/crypto.h"

static const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                               "TLS_CHACHA20_POLY1305_SHA256"};
static const char *groups[] = {"x25519", "secp256r1", "secp384r1"};
static const struct {
  const char *leaf, *scheme;
} schemes[] = {
    {"p256", "ecdsa_secp256r1_sha256"}, {"p384", "ecdsa_secp384r1_sha384"},
    {"rsa", "rsa_pss_rsae_sha256"},     {"rsa", "rsa_pss_rsae_sha384"},
    {"rsa", "rsa_pss_rsae_sha512"},     {"ed25519", "ed25519"},
};

/* Sends msg from a to b and checks that b reads exactly msg. */
static int roundtrip(mutls_conn *a, mutls_conn *b, const char *msg) {
  char buf[256];
  if (mutls_conn_write(a, msg, strlen(msg)) != (int)strlen(msg)) return 0;
  tu_move(a, b);
  int n = mutls_conn_read(b, buf, sizeof buf);
  return n == (int)strlen(msg) && memcmp(buf, msg, (size_t)n) == 0;
}

static void one(const char *suite, const char *group, int si, const char *client_groups) {
  char name[200];
  snprintf(name, sizeof name, "handshake %s %s %s%s", suite, group, schemes[si].scheme,
           client_groups ? " (HRR)" : "");
  mutls_config *sc = tu_server_config(schemes[si].leaf), *cc = tu_client_config();
  int ok = sc && cc && mutls_config_set_cipher_suites(sc, suite) == MUTLS_OK &&
           mutls_config_set_groups(sc, group) == MUTLS_OK &&
           mutls_config_set_signature_schemes(sc, schemes[si].scheme) == MUTLS_OK &&
           mutls_config_set_groups(cc, client_groups ? client_groups : group) == MUTLS_OK;
  mutls_conn *s = ok ? mutls_server_new(sc) : NULL, *c = ok ? mutls_client_new(cc, "localhost") : NULL;
  int done = s && c && tu_pump(c, s) == 0;
  CHECKF(name, done && strcmp(mutls_conn_cipher_suite(c), suite) == 0 &&
                   strcmp(mutls_conn_group(c), group) == 0 &&
                   strcmp(mutls_conn_signature_scheme(c), schemes[si].scheme) == 0 &&
                   mutls_conn_used_hrr(c) == (client_groups != NULL) &&
                   mutls_conn_used_hrr(s) == (client_groups != NULL) &&
                   roundtrip(c, s, "ping") && roundtrip(s, c, "pong"),
         "client: %s %s; server: %s %s", c ? mutls_error_name(mutls_conn_error(c)) : "-",
         c ? mutls_conn_explain(c) : "", s ? mutls_error_name(mutls_conn_error(s)) : "-",
         s ? mutls_conn_explain(s) : "");
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

static void matrix(void) {
  for (size_t a = 0; a < 3; a++)
    for (size_t g = 0; g < 3; g++)
      for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) one(suites[a], groups[g], (int)s, NULL);
  /* HelloRetryRequest: the client's first share is not the server's choice. */
  one(suites[0], "secp256r1", 0, "x25519:secp256r1");
  one(suites[1], "secp384r1", 1, "x25519:secp384r1");
  one(suites[2], "x25519", 5, "secp256r1:x25519");
}

/* 4.2.8: a share the server accepts is taken even when the server prefers
 * another group: asking for that one would cost a round trip. A share for
 * a group it does not accept still means HelloRetryRequest. */
static void share_before_preference(void) {
  static const struct {
    const char *server, *client, *want;
    int hrr;
  } cases[] = {
      {"secp256r1:x25519", "x25519:secp256r1", "x25519", 0},
      {"secp384r1:secp256r1:x25519", "secp256r1:x25519", "secp256r1", 0},
      {"secp256r1:secp384r1", "x25519:secp384r1", "secp384r1", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mutls_config *sc = tu_server_config("p256"), *cc = tu_client_config();
    int ok = sc && cc && mutls_config_set_groups(sc, cases[i].server) == MUTLS_OK &&
             mutls_config_set_groups(cc, cases[i].client) == MUTLS_OK;
    mutls_conn *s = ok ? mutls_server_new(sc) : NULL, *c = ok ? mutls_client_new(cc, "localhost") : NULL;
    int done = s && c && tu_pump(c, s) == 0;
    char name[160];
    /* A mutls client sends one share: for its first group. */
    snprintf(name, sizeof name, "server %s, client %s (share %.*s): %s, HRR %s", cases[i].server,
             cases[i].client, (int)strcspn(cases[i].client, ":"), cases[i].client, cases[i].want,
             cases[i].hrr ? "yes" : "no");
    CHECKF(name, done && strcmp(mutls_conn_group(s), cases[i].want) == 0 &&
                     mutls_conn_used_hrr(s) == cases[i].hrr && mutls_conn_used_hrr(c) == cases[i].hrr,
           "group %s, HRR %d; %s", s && done ? mutls_conn_group(s) : "-", s ? mutls_conn_used_hrr(s) : -1,
           s ? mutls_conn_explain(s) : "");
    mutls_conn_free(c);
    mutls_conn_free(s);
    mutls_config_free(sc);
    mutls_config_free(cc);
  }
}

static void details(void) {
  mutls_config *sc = tu_server_config("p256"), *cc = tu_client_config();
  char keylog[600];
  snprintf(keylog, sizeof keylog, "%s/keylog.txt", tu_certs());
  mutls_config_set_alpn(sc, "h2,http/1.1");
  mutls_config_set_alpn(cc, "http/1.1,h2");
  mutls_config_set_keylog_file(cc, keylog);
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "localhost");
  CHECK("handshake p256 default", tu_pump(c, s) == 0);
  CHECK("alpn: server preference wins", mutls_conn_alpn(c) && strcmp(mutls_conn_alpn(c), "h2") == 0 &&
                                            strcmp(mutls_conn_alpn(s), "h2") == 0);
  CHECK("sni seen by server", mutls_conn_server_name(s) && strcmp(mutls_conn_server_name(s), "localhost") == 0);
  CHECK("version", strcmp(mutls_conn_version(c), "TLSv1.3") == 0);
  CHECK("peer subject", mutls_peer_subject(mutls_conn_peer(c)) && strstr(mutls_peer_subject(mutls_conn_peer(c)), "CN=localhost"));
  CHECK("peer sans", mutls_peer_sans(mutls_conn_peer(c)) && strstr(mutls_peer_sans(mutls_conn_peer(c)), "DNS:localhost"));
  CHECK("peer fingerprint", mutls_peer_fingerprint(mutls_conn_peer(c)) && strlen(mutls_peer_fingerprint(mutls_conn_peer(c))) == 64);
  uint8_t e1[32], e2[32];
  CHECK("exporter agrees", mutls_conn_export(c, "EXPERIMENTAL test", (const uint8_t *)"ctx", 3, e1, 32) == MUTLS_OK &&
                               mutls_conn_export(s, "EXPERIMENTAL test", (const uint8_t *)"ctx", 3, e2, 32) == MUTLS_OK &&
                               memcmp(e1, e2, 32) == 0);
  CHECK("exporter context matters", mutls_conn_export(s, "EXPERIMENTAL test", NULL, 0, e2, 32) == MUTLS_OK &&
                                        memcmp(e1, e2, 32) != 0);
  /* A 40 KiB write spans three records and arrives whole. */
  static char big[40000], got[40000];
  memset(big, 'x', sizeof big);
  size_t have = 0;
  CHECK("large write accepted", mutls_conn_write(c, big, sizeof big) == (int)sizeof big);
  for (int i = 0; i < 10 && have < sizeof big; i++) {
    uint8_t buf[4096];
    size_t n, used, off = 0;
    if (mutls_conn_send(c, buf, sizeof buf, &n) != MUTLS_OK) break;
    while (off < n) {
      mutls_conn_recv(s, buf + off, n - off, &used);
      off += used;
      int r;
      while ((r = mutls_conn_read(s, got + have, sizeof got - have)) > 0) have += (size_t)r;
    }
    if (n == 0) break;
    i = 0;
  }
  CHECK("large write read back", have == sizeof big && memcmp(big, got, sizeof big) == 0);
  mutls_conn_close(c);
  tu_move(c, s);
  CHECK("close_notify seen", mutls_conn_read(s, got, 10) == MUTLS_CLOSED);
  CHECK("write after close refused, without tearing anything down",
        mutls_conn_write(c, "x", 1) == MUTLS_ERR && mutls_conn_error(c) == MUTLS_E_NONE &&
            strstr(mutls_conn_notice(c), "after close"));
  CHECK("config frozen once used", mutls_config_set_alpn(sc, "h3") == MUTLS_ERR &&
                                       mutls_config_error_code(sc) == MUTLS_E_CONFIG_FROZEN);
  FILE *f = fopen(keylog, "r");
  char line[400];
  int labels = 0;
  while (f && fgets(line, sizeof line, f))
    labels += strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0 ||
              strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0;
  if (f) fclose(f);
  CHECK("keylog written", labels == 2);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* Misuse and limits of the API. */
static void api_edges(void) {
  mutls_config *cc = tu_client_config(), *sc = tu_server_config("p256");
  mutls_conn *c = mutls_client_new(cc, "");
  CHECK("an empty server name with verification on is refused",
        c && mutls_conn_error(c) == MUTLS_E_CONFIG && strstr(mutls_conn_explain(c), "empty"));
  mutls_conn_free(c);
  c = mutls_client_new(cc, "localhost");
  CHECK("write before the handshake: refused, handshake untouched",
        mutls_conn_write(c, "x", 1) == MUTLS_ERR && mutls_conn_error(c) == MUTLS_E_NONE);
  mutls_conn *s = mutls_server_new(sc);
  tu_pump(c, s);
  static char big[3 << 20];
  int n = mutls_conn_write(c, big, sizeof big);
  CHECKF("a huge write is taken in part, not refused",
         n > 0 && n < (int)sizeof big && mutls_conn_error(c) == MUTLS_E_NONE, "n=%d", n);
  CHECK("with the queue full, a write asks to send first",
        mutls_conn_write(c, big, sizeof big) == MUTLS_WANT_WRITE);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* mutls_conn_close before the handshake completes: the close_notify goes
 * out in order, behind whatever is already queued (6.1). */
static void close_during_handshake(void) {
  mutls_config *cc = tu_client_config(), *sc = tu_server_config("p256");
  char buf[16];
  /* Before anything was sent: the ClientHello, then close_notify. */
  mutls_conn *c = mutls_client_new(cc, "localhost"), *s = mutls_server_new(sc);
  CHECK("close before the handshake: accepted", mutls_conn_close(c) == MUTLS_OK);
  tu_pump(c, s);
  CHECKF("close before the handshake: the server stops with MUTLS_E_EOF and says so",
         !mutls_conn_handshake_done(s) && mutls_conn_error(s) == MUTLS_E_EOF &&
             strstr(mutls_conn_explain(s), "before the handshake completed"),
         "%s: %s", mutls_error_name(mutls_conn_error(s)), mutls_conn_explain(s));
  CHECK("close before the handshake: the client writes nothing after it",
        mutls_conn_write(c, "x", 1) == MUTLS_ERR && strstr(mutls_conn_notice(c), "after close"));
  mutls_conn_free(c);
  mutls_conn_free(s);
  /* With the client's Finished already queued: it goes first, so the
   * server completes, then sees the close. */
  c = mutls_client_new(cc, "localhost");
  s = mutls_server_new(sc);
  tu_move(c, s);
  tu_move(s, c);
  CHECK("close with Finished queued: accepted", mutls_conn_close(c) == MUTLS_OK);
  tu_move(c, s);
  /* mutls_conn_recv runs each input as one HMAC batch (hash.c): no key's
   * state may be left once it returns. */
  CHECKF("after the handshakes: no HMAC key state left in this thread",
         mt_hmac_batch_pending() == 0, "pending %d", mt_hmac_batch_pending());
  CHECKF("close with Finished queued: the server completes, then reads MUTLS_CLOSED",
         mutls_conn_handshake_done(s) && mutls_conn_error(s) == MUTLS_E_NONE &&
             mutls_conn_read(s, buf, sizeof buf) == MUTLS_CLOSED,
         "%s: %s", mutls_error_name(mutls_conn_error(s)), mutls_conn_explain(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

int main(void) {
  tu_certs();
  matrix();
  share_before_preference();
  details();
  api_edges();
  close_during_handshake();
  return check_exit();
}
