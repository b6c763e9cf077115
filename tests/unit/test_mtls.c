/* test_mtls.c - mutual TLS between our client and our server, in memory:
 * client authentication modes, identity selection, the peer's identity,
 * allow rules in both directions, and the failures each side explains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"

typedef struct {
  mutls_config *sc, *cc;
  mutls_conn *s, *c;
  int done;
} pair;

/* A server requiring (or not) certificates from ca.pem's clients, and a
 * client holding the identities listed (NULL-terminated prefixes). */
static mutls_config *server_cfg(mutls_client_auth mode) {
  mutls_config *cfg = tu_server_config("p256");
  if (mode != MUTLS_CLIENT_AUTH_UNSET) mutls_config_set_client_auth(cfg, mode);
  mutls_config_set_client_ca_file(cfg, tu_path("ca.pem"));
  return cfg;
}

static mutls_config *client_cfg(const char *const *ids) {
  mutls_config *cfg = tu_client_config();
  for (; ids && *ids; ids++) {
    char pem[64], key[64];
    snprintf(pem, sizeof pem, "%s.pem", *ids);
    snprintf(key, sizeof key, "%s.key", *ids);
    if (mutls_config_add_identity_files(cfg, tu_path(pem), tu_path(key)) != MUTLS_OK)
      fprintf(stderr, "identity %s: %s\n", *ids, mutls_config_error(cfg));
  }
  return cfg;
}

static void run(pair *p, mutls_config *sc, mutls_config *cc) {
  p->sc = sc;
  p->cc = cc;
  p->s = mutls_server_new(sc);
  p->c = mutls_client_new(cc, "localhost");
  p->done = tu_pump(p->c, p->s) == 0;
  /* The client finishes first in TLS 1.3: a refusal reaches it with the
   * server's answer to its Finished, so let it read that. */
  char buf[16];
  tu_move(p->s, p->c);
  mutls_conn_read(p->c, buf, sizeof buf);
}

static void done(pair *p) {
  mutls_conn_free(p->c);
  mutls_conn_free(p->s);
  mutls_config_free(p->sc);
  mutls_config_free(p->cc);
}

static int has(const char *s, const char *needle) { return s && needle && strstr(s, needle); }

static void modes(void) {
  static const char *const client_id[] = {"client", NULL};
  pair p;

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_REQUIRED), client_cfg(client_id));
  const mutls_peer *peer = mutls_conn_peer(p.s);
  CHECKF("mtls required: handshake", p.done, "server: %s", mutls_conn_explain(p.s));
  CHECK("mtls required: client sent its certificate",
        mutls_conn_cert_requested(p.c) && mutls_conn_cert_sent(p.c));
  CHECK("mtls required: server sees the client's SPIFFE ID",
        peer && has(mutls_peer_spiffe_id(peer), "spiffe://mutls.test/client"));
  CHECK("mtls required: subject and issuer", peer && has(mutls_peer_subject(peer), "CN=mutls test client") &&
                                                 has(mutls_peer_issuer(peer), "CN=mutls test CA"));
  CHECK("mtls required: URI SAN list", peer && mutls_peer_san_count(peer, MUTLS_SAN_URI) == 1 &&
                                           mutls_peer_san_count(peer, MUTLS_SAN_DNS) == 0 &&
                                           strcmp(mutls_peer_san(peer, MUTLS_SAN_URI, 0),
                                                  "spiffe://mutls.test/client") == 0);
  CHECK("mtls required: fingerprints", peer && strlen(mutls_peer_fingerprint(peer)) == 64 &&
                                           strlen(mutls_peer_spki_fingerprint(peer)) == 64);
  char pem[4096];
  CHECK("mtls required: chain as PEM", peer && mutls_peer_chain_length(peer) == 1 &&
                                           mutls_peer_cert_pem(peer, 0, pem, sizeof pem) > 0 &&
                                           has(pem, "-----BEGIN CERTIFICATE-----"));
  CHECK("mtls required: validity", peer && mutls_peer_not_after(peer) > mutls_peer_not_before(peer));
  done(&p);

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_REQUIRED), client_cfg(NULL));
  CHECKF("mtls required, no client certificate: certificate_required",
         !p.done && mutls_conn_error(p.s) == MUTLS_E_CERT_MISSING &&
             mutls_conn_alert_sent(p.s) == 116 && mutls_conn_alert_received(p.c) == 116 &&
             mutls_conn_error(p.c) == MUTLS_E_PEER_ALERT,
         "server %s alert %d; client %s alert %d", mutls_error_name(mutls_conn_error(p.s)),
         mutls_conn_alert_sent(p.s), mutls_error_name(mutls_conn_error(p.c)),
         mutls_conn_alert_received(p.c));
  CHECKF("mtls required, no client certificate: both sentences say why",
         has(mutls_conn_explain(p.s), "sent no certificate") &&
             has(mutls_conn_explain(p.c), "requires a client certificate") &&
             has(mutls_conn_explain(p.c), "none is configured"),
         "server: %s | client: %s", mutls_conn_explain(p.s), mutls_conn_explain(p.c));
  done(&p);

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_OPTIONAL), client_cfg(NULL));
  CHECK("mtls optional, no client certificate: served without identity",
        p.done && mutls_conn_peer(p.s) == NULL && mutls_conn_cert_requested(p.c) &&
            !mutls_conn_cert_sent(p.c));
  done(&p);

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_OPTIONAL), client_cfg(client_id));
  CHECK("mtls optional, client certificate: verified", p.done && mutls_conn_peer(p.s) != NULL);
  done(&p);

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_NONE), client_cfg(client_id));
  CHECKF("mtls none: not asked, notice says so",
         p.done && !mutls_conn_cert_requested(p.c) && mutls_conn_peer(p.s) == NULL &&
             has(mutls_conn_notice(p.c), "did not ask"),
         "notice: %s", mutls_conn_notice(p.c));
  done(&p);

  mutls_config *sc = server_cfg(MUTLS_CLIENT_AUTH_UNSET);
  CHECKF("client CA without a mode refuses to serve",
         mutls_config_check(sc, 1) == MUTLS_ERR && has(mutls_config_error(sc), "--client-auth"),
         "%s", mutls_config_error(sc));
  mutls_conn *s = mutls_server_new(sc);
  CHECK("client CA without a mode: connection fails with MUTLS_E_CONFIG",
        s && mutls_conn_error(s) == MUTLS_E_CONFIG && has(mutls_conn_explain(s), "--client-auth"));
  mutls_conn_free(s);
  mutls_config_free(sc);

  sc = tu_server_config("p256");
  mutls_config_set_client_auth(sc, MUTLS_CLIENT_AUTH_REQUIRED);
  CHECK("require without a client CA refuses to serve",
        mutls_config_check(sc, 1) == MUTLS_ERR && has(mutls_config_error(sc), "--client-ca"));
  mutls_config_free(sc);
}

/* Client certificate failures, judged by the server. */
static void failures(void) {
  static const struct {
    const char *id, *name;
    mutls_error err;
    int alert;
    const char *says;
  } cases[] = {
      {"client-other", "client certificate from another CA", MUTLS_E_CERT_UNTRUSTED, 48,
       "not in the trust store"},
      {"client-expired", "expired client certificate", MUTLS_E_CERT_EXPIRED, 45, "expired on"},
      {"client-noeku", "client certificate without clientAuth", MUTLS_E_CERT_UNSUPPORTED, 43,
       "clientAuth"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *ids[] = {cases[i].id, NULL};
    pair p;
    mutls_config *cc = client_cfg(ids);
    /* Without the CA list a client sends what it has: the server judges it. */
    mutls_config *sc = server_cfg(MUTLS_CLIENT_AUTH_REQUIRED);
    run(&p, sc, cc);
    int sent = mutls_conn_cert_sent(p.c);
    char name[200];
    snprintf(name, sizeof name, "%s: %s", cases[i].name, mutls_alert_name(cases[i].alert));
    if (!sent) { /* the CA list made the client hold back: also right */
      CHECKF(name, mutls_conn_alert_sent(p.s) == 116 && has(mutls_conn_notice(p.c), "issued by"),
             "notice: %s", mutls_conn_notice(p.c));
    } else {
      CHECKF(name,
             !p.done && mutls_conn_error(p.s) == cases[i].err &&
                 mutls_conn_alert_sent(p.s) == cases[i].alert &&
                 mutls_conn_alert_received(p.c) == cases[i].alert &&
                 has(mutls_conn_explain(p.s), cases[i].says),
             "server: %s alert %d: %s", mutls_error_name(mutls_conn_error(p.s)),
             mutls_conn_alert_sent(p.s), mutls_conn_explain(p.s));
    }
    done(&p);
  }
}

/* The client picks the identity the server's CA list accepts. */
static void selection(void) {
  static const char *const both[] = {"client-other", "client", NULL};
  static const char *const other[] = {"client-other", NULL};
  pair p;
  run(&p, server_cfg(MUTLS_CLIENT_AUTH_REQUIRED), client_cfg(both));
  CHECK("two identities: the one from an accepted CA is chosen",
        p.done && mutls_conn_peer(p.s) &&
            has(mutls_peer_issuer(mutls_conn_peer(p.s)), "CN=mutls test CA"));
  done(&p);

  run(&p, server_cfg(MUTLS_CLIENT_AUTH_REQUIRED), client_cfg(other));
  CHECKF("only an identity from another CA: none sent, and the client says why",
         !p.done && !mutls_conn_cert_sent(p.c) && mutls_conn_alert_received(p.c) == 116 &&
             has(mutls_conn_explain(p.c), "accepts client certificates issued by CN=mutls test CA") &&
             has(mutls_conn_explain(p.c), "issued by CN=mutls other CA"),
         "client: %s", mutls_conn_explain(p.c));
  done(&p);
}

/* Allow rules: each kind allows what it should and denies what it should. */
static void policy(void) {
  static const char *const billing[] = {"client-billing", NULL};
  static const struct {
    const char *rule;
    int allowed;
  } cases[] = {
      {"uri:spiffe://mutls.test/billing/api", 1}, {"uri:spiffe://mutls.test/billing/*", 1},
      {"uri:spiffe://mutls.test/*", 1},           {"uri:spiffe://mutls.test/billing", 0},
      {"uri:spiffe://mutls.test/billing/api/*", 0}, {"uri:spiffe://other.test/*", 0},
      {"dns:billing.mutls.test", 1},              {"dns:*.mutls.test", 1},
      {"dns:*.test", 0},                          {"dns:mutls.test", 0},
      {"cn:billing", 1},                          {"cn:Billing", 0},
      {"ou:payments", 1},                         {"ou:ledger", 1},
      {"ou:pay", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pair p;
    mutls_config *sc = server_cfg(MUTLS_CLIENT_AUTH_REQUIRED);
    int ok = mutls_config_allow(sc, cases[i].rule) == MUTLS_OK;
    run(&p, sc, client_cfg(billing));
    char name[200];
    snprintf(name, sizeof name, "allow %s %s", cases[i].rule, cases[i].allowed ? "allows" : "denies");
    if (cases[i].allowed)
      CHECKF(name, ok && p.done, "server: %s", mutls_conn_explain(p.s));
    else
      CHECKF(name,
             ok && !p.done && mutls_conn_error(p.s) == MUTLS_E_ACCESS_DENIED &&
                 mutls_conn_alert_sent(p.s) == 49 && mutls_conn_alert_received(p.c) == 49 &&
                 has(mutls_conn_explain(p.s), "spiffe://mutls.test/billing/api") &&
                 has(mutls_conn_explain(p.s), cases[i].rule),
             "server: %s", mutls_conn_explain(p.s));
    done(&p);
  }

  /* Pins: the leaf's and the public key's SHA-256, learned from a first run. */
  pair p;
  run(&p, server_cfg(MUTLS_CLIENT_AUTH_REQUIRED), client_cfg(billing));
  char pin[80], spki[80];
  snprintf(pin, sizeof pin, "pin:%s", mutls_peer_fingerprint(mutls_conn_peer(p.s)));
  snprintf(spki, sizeof spki, "spki:%s", mutls_peer_spki_fingerprint(mutls_conn_peer(p.s)));
  done(&p);
  const char *rules[][2] = {{pin, "allows"}, {spki, "allows"},
                            {"pin:00000000000000000000000000000000000000000000000000000000000000ff", "denies"}};
  for (size_t i = 0; i < 3; i++) {
    mutls_config *sc = server_cfg(MUTLS_CLIENT_AUTH_REQUIRED);
    mutls_config_allow(sc, rules[i][0]);
    run(&p, sc, client_cfg(billing));
    char name[64];
    snprintf(name, sizeof name, "allow %.4s %s", rules[i][0], rules[i][1]);
    CHECK(name, p.done == (rules[i][1][0] == 'a') &&
                    (p.done || mutls_conn_error(p.s) == MUTLS_E_ACCESS_DENIED));
    done(&p);
  }

  /* Rules cannot be dodged by sending no certificate to an optional server. */
  mutls_config *osc = tu_server_config("p256");
  mutls_config_set_client_auth(osc, MUTLS_CLIENT_AUTH_OPTIONAL);
  mutls_config_set_client_ca_file(osc, tu_path("ca.pem"));
  mutls_config_allow(osc, "ou:payments");
  run(&p, osc, client_cfg(NULL));
  CHECKF("allow rules with optional auth: no certificate is certificate_required",
         !p.done && mutls_conn_error(p.s) == MUTLS_E_CERT_MISSING && mutls_conn_alert_sent(p.s) == 116,
         "server: %s", mutls_conn_explain(p.s));
  done(&p);

  /* Rules are OR-ed. */
  mutls_config *sc = server_cfg(MUTLS_CLIENT_AUTH_REQUIRED);
  mutls_config_allow(sc, "cn:nobody");
  mutls_config_allow(sc, "ou:payments");
  run(&p, sc, client_cfg(billing));
  CHECK("allow rules are OR-ed", p.done);
  done(&p);

  /* Malformed rules are refused with a sentence. */
  mutls_config *cfg = mutls_config_new();
  CHECK("rule: unknown kind refused", mutls_config_allow(cfg, "ip:1.2.3.4") == MUTLS_ERR &&
                                          has(mutls_config_error(cfg), "uri:, dns:"));
  CHECK("rule: star inside a uri refused", mutls_config_allow(cfg, "uri:spiffe://*/x") == MUTLS_ERR);
  CHECK("rule: short pin refused", mutls_config_allow(cfg, "pin:abcd") == MUTLS_ERR &&
                                       has(mutls_config_error(cfg), "64 hex"));
  mutls_config_free(cfg);

  /* A client constrains the server the same way. */
  mutls_config *cc = tu_client_config();
  mutls_config_allow(cc, "dns:localhost");
  run(&p, tu_server_config("p256"), cc);
  CHECK("client allow rule accepts the server", p.done);
  done(&p);
  cc = tu_client_config();
  mutls_config_allow(cc, "dns:api.example");
  run(&p, tu_server_config("p256"), cc);
  CHECKF("client allow rule refuses the server: access_denied",
         !p.done && mutls_conn_error(p.c) == MUTLS_E_ACCESS_DENIED &&
             mutls_conn_alert_sent(p.c) == 49 && has(mutls_conn_explain(p.c), "dns:api.example"),
         "client: %s", mutls_conn_explain(p.c));
  done(&p);
}

int main(void) {
  tu_certs();
  modes();
  failures();
  selection();
  policy();
  return check_exit();
}
