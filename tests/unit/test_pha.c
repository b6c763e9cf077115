/* test_pha.c - post-handshake client authentication (RFC 8446 4.6.2)
 * between our client and our server, in memory. */
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"

static int has(const char *s, const char *n) { return s && strstr(s, n); }

static mutls_config *server(void) {
  mutls_config *cfg = tu_server_config("p256");
  mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_NONE);
  mutls_config_set_client_ca_file(cfg, tu_path("ca.pem"));
  return cfg;
}

static mutls_config *client(const char *id, int pha) {
  mutls_config *cfg = tu_client_config();
  char pem[64], key[64];
  if (id) {
    snprintf(pem, sizeof pem, "%s.pem", id);
    snprintf(key, sizeof key, "%s.key", id);
    mutls_config_add_identity_files(cfg, tu_path(pem), tu_path(key));
  }
  mutls_config_set_post_handshake_auth(cfg, pha);
  return cfg;
}

/* Handshake, then the server asks; returns the request's result. */
static int ask(mutls_config *sc, mutls_config *cc, mutls_conn **s, mutls_conn **c) {
  *s = mutls_server_new(sc);
  *c = mutls_client_new(cc, "localhost");
  tu_pump(*c, *s);
  char buf[16];
  tu_move(*s, *c); /* the ticket */
  mutls_conn_read(*c, buf, sizeof buf);
  int rc = mutls_conn_request_client_cert(*s);
  tu_move(*s, *c);
  mutls_conn_read(*c, buf, sizeof buf);
  tu_move(*c, *s);
  mutls_conn_read(*s, buf, sizeof buf);
  return rc;
}

int main(void) {
  tu_certs();
  mutls_config *sc = server();
  mutls_conn *s, *c;

  mutls_config *cc = client("client", 1);
  int rc = ask(sc, cc, &s, &c);
  CHECKF("post-handshake auth: the client's certificate arrives and verifies",
         rc == MUTLS_OK && !mutls_conn_client_cert_pending(s) && mutls_conn_peer(s) &&
             has(mutls_peer_spiffe_id(mutls_conn_peer(s)), "spiffe://mutls.test/client") &&
             mutls_conn_error(s) == MUTLS_E_NONE && mutls_conn_error(c) == MUTLS_E_NONE,
         "rc %d; server: %s; client: %s", rc, mutls_conn_explain(s), mutls_conn_explain(c));
  CHECK("post-handshake auth: data still flows", mutls_conn_write(c, "x", 1) == 1);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);

  cc = client("client", 0);
  rc = ask(sc, cc, &s, &c);
  CHECKF("a client that did not offer post_handshake_auth: a clear refusal, connection intact",
         rc == MUTLS_ERR && has(mutls_conn_notice(s), "did not offer post_handshake_auth") &&
             mutls_conn_error(s) == MUTLS_E_NONE,
         "notice: %s", mutls_conn_notice(s));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);

  cc = client(NULL, 1);
  rc = ask(sc, cc, &s, &c);
  CHECK("no identity: an empty answer, no peer, nothing fails",
        rc == MUTLS_OK && !mutls_conn_client_cert_pending(s) && !mutls_conn_peer(s) &&
            mutls_conn_error(s) == MUTLS_E_NONE);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);

  cc = client("client-other", 1);
  /* A client answers with what it has when the CA list does not fit:
   * here it holds back and says why in its notice. */
  rc = ask(sc, cc, &s, &c);
  CHECKF("an identity from another CA is held back, and the client says why",
         rc == MUTLS_OK && !mutls_conn_peer(s) && has(mutls_conn_notice(c), "issued by"),
         "notice: %s", mutls_conn_notice(c));
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);

  mutls_config_free(sc);
  return check_exit();
}
