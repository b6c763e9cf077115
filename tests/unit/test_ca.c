/*
 * test_ca.c - the CA calls of mutls_ca.h. For each key type (P-256, P-384,
 * Ed25519, RSA 3072): keys, a self-signed root, an intermediate, a server
 * and a client leaf; the openssl CLI cross-checks what was made (verify
 * with -purpose, the extensions in -text, fingerprints, serials);
 * inspection reads back the exact values; a CRL revokes the client, which
 * `openssl verify -crl_check` and mutls_ca_check refuse. mutls_ca_check's
 * code, alert and sentence are compared with a real in-memory handshake.
 * Then the refusals: leaves without SANs or EKU, bad names, wrong issuers,
 * mismatched keys, bad CRL entries, unknown names.
 */
#include "common/check.h"
#include "common/tu.h"
#include "mutls_ca.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- fixtures --------------------------------------------------------------- */

static char dir[64];

/* A file in our directory (rotating static buffers). */
static const char *path_of(const char *file) {
  static char bufs[8][160];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, 160, "%s/%s", dir, file);
  return b;
}

static void write_file(const char *file, const char *text) {
  FILE *f = fopen(path_of(file), "w");
  if (f == NULL) return;
  fputs(text ? text : "", f);
  fclose(f);
}

/* Runs a shell command in our directory; returns what it printed on
 * stdout (malloc'ed, "" if nothing) and its exit status in *status. */
/* What a failed check prints of a command's output: run() gives NULL when
 * it could not run the command at all. */
static const char *shown(const char *out) {
  return out ? out : "(the command did not run)";
}

static char *run(int *status, const char *fmt, ...) {
  char cmd[1024], full[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  snprintf(full, sizeof(full), "cd '%s' && { %s ; } 2>>cmd.err", dir, cmd);
  FILE *p = popen(full, "r");
  size_t len = 0, cap = 4096;
  char *out = malloc(cap);
  if (p == NULL || out == NULL) {
    if (p != NULL) pclose(p);
    if (status) *status = -1;
    free(out);
    return calloc(1, 1);
  }
  size_t n;
  while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *bigger = realloc(out, cap * 2);
      if (bigger == NULL) break;
      out = bigger;
      cap *= 2;
    }
  }
  out[len] = '\0';
  int st = pclose(p);
  if (status) *status = st;
  return out;
}

/* Exit status of a command, output dropped. */
static int status_of(const char *cmd) {
  int st = -1;
  free(run(&st, "%s >/dev/null", cmd));
  return st;
}

static int has(const char *s, const char *needle) {
  return s && needle && strstr(s, needle);
}

/* ---- one key type's hierarchy ------------------------------------------------- */

typedef struct {
  const char *name; /* "p256" */
  mutls_key_type type;
  const char *key_text; /* what `openssl pkey -text` says first */
  const char *sig_alg;  /* what `openssl x509 -text` says */
  const char *key_type; /* mutls_ca_inspect's key_type */
  char *root_key, *inter_key, *server_key, *client_key;
  char *root, *inter, *server, *client;
  char server_serial[MUTLS_CA_SERIAL_LEN], client_serial[MUTLS_CA_SERIAL_LEN];
  time_t issued_at;
} pki;

#define PKI(n, t, kt, sa, ty)                                                                      \
  { .name = n, .type = t, .key_text = kt, .sig_alg = sa, .key_type = ty }
static pki pkis[] = {
    PKI("p256", MUTLS_KEY_P256, "Private-Key: (256 bit", "ecdsa-with-SHA256", "ECDSA P-256"),
    PKI("p384", MUTLS_KEY_P384, "Private-Key: (384 bit", "ecdsa-with-SHA384", "ECDSA P-384"),
    PKI("ed25519", MUTLS_KEY_ED25519, "ED25519 Private-Key", "ED25519", "Ed25519"),
    PKI("rsa3072", MUTLS_KEY_RSA3072, "Private-Key: (3072 bit", "sha256WithRSAEncryption",
        "RSA 3072"),
};
#define N_PKI (sizeof(pkis) / sizeof(pkis[0]))

static const char *const ORG[] = {"mutls tests", NULL};
static const char *const SERVER_DNS[] = {"api.example", "*.svc.example", NULL};
static const char *const SERVER_IP[] = {"127.0.0.1", "::1", NULL};
static const char *const CLIENT_OU[] = {"payments", "ledger", NULL};
static const char *const CLIENT_URI[] = {"spiffe://example.org/billing", NULL};
static const char *const CLIENT_EMAIL[] = {"billing@example.org", NULL};
#define LEAF_DAYS 10

/* "p256-server.pem" and the like. */
static const char *file_of(const pki *k, const char *what) {
  static char bufs[8][64];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, 64, "%s-%s", k->name, what);
  return b;
}

static char *keygen(const pki *k, const char *label) {
  mutls_ca_status st;
  char *pem = NULL;
  int r = mutls_ca_generate_key(k->type, &pem, &st);
  CHECKF(label, r == MUTLS_OK && pem && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0,
         "%s", st.why);
  return pem;
}

static char *issue(const mutls_ca_profile *p, const char *subject_key, const char *issuer,
                   const char *issuer_key, char *serial, const char *label) {
  mutls_ca_status st;
  char *pem = NULL;
  int r = mutls_ca_issue(p, subject_key, issuer, issuer_key, &pem, serial, &st);
  CHECKF(label,
         r == MUTLS_OK && st.code == MUTLS_E_NONE && pem &&
             strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0,
         "%s", st.why);
  return pem;
}

static mutls_ca_profile ca_profile(const char *cn, int path_len, unsigned days) {
  mutls_ca_profile p = {0};
  p.common_name = cn;
  p.organization = ORG;
  p.is_ca = 1;
  p.path_len = path_len;
  p.days = days;
  return p;
}

static mutls_ca_profile server_profile(void) {
  mutls_ca_profile p = {0};
  p.common_name = "api.example";
  p.organization = ORG;
  p.server_auth = 1;
  p.dns = SERVER_DNS;
  p.ip = SERVER_IP;
  p.days = LEAF_DAYS;
  return p;
}

static mutls_ca_profile client_profile(void) {
  mutls_ca_profile p = {0};
  p.common_name = "billing";
  p.organization = ORG;
  p.org_unit = CLIENT_OU;
  p.client_auth = 1;
  p.uri = CLIENT_URI;
  p.email = CLIENT_EMAIL;
  p.days = LEAF_DAYS;
  return p;
}

static void build(pki *k) {
  char label[128], cn[64], ca_cn[64];
  int st = 0;
#define L(s) (snprintf(label, sizeof(label), "%s: %s", k->name, s), label)
  k->root_key = keygen(k, L("generate the root key"));
  k->inter_key = keygen(k, L("generate the intermediate key"));
  k->server_key = keygen(k, L("generate the server key"));
  k->client_key = keygen(k, L("generate the client key"));
  write_file(file_of(k, "root.key"), k->root_key);
  write_file(file_of(k, "inter.key"), k->inter_key);
  write_file(file_of(k, "server.key"), k->server_key);
  write_file(file_of(k, "client.key"), k->client_key);
  char *text = run(&st, "openssl pkey -in %s -noout -text", file_of(k, "server.key"));
  CHECKF(L("openssl reads the PKCS#8 key"), st == 0 && has(text, k->key_text), "%.200s", text);
  free(text);

  snprintf(cn, sizeof(cn), "Root %s", k->name);
  mutls_ca_profile p = ca_profile(cn, 1, 60);
  k->root = issue(&p, k->root_key, NULL, NULL, NULL, L("self-sign the root"));
  snprintf(ca_cn, sizeof(ca_cn), "Inter %s", k->name);
  p = ca_profile(ca_cn, 0, 30);
  k->inter = issue(&p, k->inter_key, k->root, k->root_key, NULL, L("issue the intermediate"));

  /* The server's key goes in as a public key, as a CSR-less flow would. */
  free(run(&st, "openssl pkey -in %s -pubout -out %s", file_of(k, "server.key"),
           file_of(k, "server.pub")));
  char *pub = run(&st, "cat %s", file_of(k, "server.pub"));
  CHECKF(L("public key PEM made"), has(pub, "-----BEGIN PUBLIC KEY-----"), "%s", shown(pub));
  k->issued_at = time(NULL);
  p = server_profile();
  k->server = issue(&p, pub, k->inter, k->inter_key, k->server_serial,
                    L("issue the server leaf (from its public key)"));
  free(pub);
  p = client_profile();
  k->client = issue(&p, k->client_key, k->inter, k->inter_key, k->client_serial,
                    L("issue the client leaf"));
#undef L
  write_file(file_of(k, "root.pem"), k->root);
  write_file(file_of(k, "inter.pem"), k->inter);
  write_file(file_of(k, "server.pem"), k->server);
  write_file(file_of(k, "client.pem"), k->client);
  free(run(&st, "cat %s %s > %s; cat %s %s > %s", file_of(k, "server.pem"), file_of(k, "inter.pem"),
           file_of(k, "server-chain.pem"), file_of(k, "client.pem"), file_of(k, "inter.pem"),
           file_of(k, "client-chain.pem")));
}

static void release(pki *k) {
  mutls_ca_free(k->root_key);
  mutls_ca_free(k->inter_key);
  mutls_ca_free(k->server_key);
  mutls_ca_free(k->client_key);
  mutls_ca_free(k->root);
  mutls_ca_free(k->inter);
  mutls_ca_free(k->server);
  mutls_ca_free(k->client);
}

/* ---- what openssl sees ----------------------------------------------------------- */

/* The value on the line after "header" in `openssl x509 -text` output,
 * without a "keyid:" prefix. */
static void ext_value(const char *text, const char *header, char *out, size_t len) {
  out[0] = '\0';
  const char *p = text ? strstr(text, header) : NULL;
  if (p == NULL || (p = strchr(p, '\n')) == NULL) return;
  while (*p == '\n' || *p == ' ')
    p++;
  if (strncmp(p, "keyid:", 6) == 0) p += 6;
  size_t n = strcspn(p, "\n");
  snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

static void openssl_view(pki *k) {
  char label[128], ski[128], aki[128];
  int st = 0;
#define L(s) (snprintf(label, sizeof(label), "%s: %s", k->name, s), label)
  char *out = run(&st, "openssl verify -purpose sslserver -CAfile %s -untrusted %s %s",
                  file_of(k, "root.pem"), file_of(k, "inter.pem"), file_of(k, "server.pem"));
  CHECKF(L("openssl verify -purpose sslserver accepts the server leaf"), st == 0, "%s", shown(out));
  free(out);
  out = run(&st, "openssl verify -purpose sslclient -CAfile %s -untrusted %s %s",
            file_of(k, "root.pem"), file_of(k, "inter.pem"), file_of(k, "client.pem"));
  CHECKF(L("openssl verify -purpose sslclient accepts the client leaf"), st == 0, "%s", shown(out));
  free(out);
  out = run(&st, "openssl verify -purpose sslserver -CAfile %s -untrusted %s %s",
            file_of(k, "root.pem"), file_of(k, "inter.pem"), file_of(k, "client.pem"));
  CHECKF(L("openssl verify -purpose sslserver refuses the client leaf"), st != 0, "%s", shown(out));
  free(out);

  char *server = run(&st, "openssl x509 -in %s -noout -text", file_of(k, "server.pem"));
  CHECKF(L("server leaf: SANs"),
         has(server, "DNS:api.example, DNS:*.svc.example, IP Address:127.0.0.1, IP "
                     "Address:0:0:0:0:0:0:0:1"),
         "%s", shown(server));
  CHECKF(L("server leaf: CA:FALSE critical"),
         has(server, "X509v3 Basic Constraints: critical\n                CA:FALSE"), "%s", shown(server));
  CHECKF(L("server leaf: key usage critical"),
         has(server, k->type == MUTLS_KEY_RSA3072
                         ? "X509v3 Key Usage: critical\n                Digital Signature, Key "
                           "Encipherment\n"
                         : "X509v3 Key Usage: critical\n                Digital Signature\n"),
         "%s", shown(server));
  CHECKF(L("server leaf: EKU serverAuth only"),
         has(server, "X509v3 Extended Key Usage: \n                TLS Web Server "
                     "Authentication\n"),
         "%s", shown(server));
  CHECKF(L("server leaf: signature algorithm"), has(server, k->sig_alg), "%s", shown(server));
  CHECKF(L("server leaf: v3, subject and issuer"),
         has(server, "Version: 3 (0x2)") &&
             has(server, "Subject: O = mutls tests, CN = api.example") &&
             has(server, "Issuer: O = mutls tests, CN = Inter "),
         "%s", shown(server));
  char *inter = run(&st, "openssl x509 -in %s -noout -text", file_of(k, "inter.pem"));
  ext_value(inter, "X509v3 Subject Key Identifier:", ski, sizeof(ski));
  ext_value(server, "X509v3 Authority Key Identifier:", aki, sizeof(aki));
  CHECKF(L("server leaf: AKI is the intermediate's SKI"), ski[0] && strcmp(ski, aki) == 0,
         "SKI %s AKI %s", ski, aki);
  ext_value(server, "X509v3 Subject Key Identifier:", aki, sizeof(aki));
  CHECKF(L("server leaf: its own SKI"), strlen(aki) == 59 && strcmp(ski, aki) != 0, "%s", shown(aki));
  CHECKF(L("intermediate: CA:TRUE, pathlen:0, keyCertSign + cRLSign"),
         has(inter, "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0") &&
             has(inter, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign") &&
             !has(inter, "Extended Key Usage") && !has(inter, "Alternative Name"),
         "%s", shown(inter));
  free(server);
  free(inter);

  char *client = run(&st, "openssl x509 -in %s -noout -text", file_of(k, "client.pem"));
  CHECKF(L("client leaf: SANs, EKU clientAuth, CA:FALSE"),
         has(client, "URI:spiffe://example.org/billing") &&
             has(client, "email:billing@example.org") &&
             has(client, "X509v3 Extended Key Usage: \n                TLS Web Client "
                         "Authentication\n") &&
             has(client, "CA:FALSE") &&
             has(client, "Subject: O = mutls tests, OU = payments, OU = ledger, CN = billing"),
         "%s", shown(client));
  free(client);

  char *root = run(&st, "openssl x509 -in %s -noout -text", file_of(k, "root.pem"));
  ext_value(root, "X509v3 Subject Key Identifier:", ski, sizeof(ski));
  ext_value(root, "X509v3 Authority Key Identifier:", aki, sizeof(aki));
  CHECKF(L("root: self-signed, CA:TRUE pathlen:1, AKI = SKI"),
         has(root, "CA:TRUE, pathlen:1") && ski[0] && strcmp(ski, aki) == 0 &&
             has(root, "Issuer: O = mutls tests, CN = Root ") &&
             has(root, "Subject: O = mutls tests, CN = Root "),
         "%s", shown(root));
  free(root);
#undef L
}

/* ---- inspection ---------------------------------------------------------------- */

/* "SHA256 Fingerprint=AB:CD:..." to "abcd...". */
static void normalize_hex(const char *in, char *out, size_t len) {
  const char *p = strchr(in, '=');
  size_t n = 0;
  for (p = p ? p + 1 : in; *p && *p != '\n' && *p != ' ' && n + 1 < len; p++)
    if (*p != ':') out[n++] = (char)tolower((unsigned char)*p);
  out[n] = '\0';
}

static int list_is(const mutls_ca_strings *l, const char *const *want) {
  size_t n = 0;
  while (want[n] != NULL)
    n++;
  if (l->n != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(l->v[i], want[i]) != 0) return 0;
  return 1;
}

static void inspect(pki *k) {
  char label[128], want[128], fp[80];
  int st = 0;
  mutls_ca_status s;
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
#define L(x) (snprintf(label, sizeof(label), "%s: %s", k->name, x), label)
  char *chain = run(&st, "cat %s", file_of(k, "server-chain.pem"));
  int r = mutls_ca_inspect(chain, 0, &info, &n, &s);
  CHECKF(L("inspect the server leaf"), r == MUTLS_OK && n == 1, "%s", s.why);
  if (r == MUTLS_OK) {
    const mutls_ca_cert_info *i = &info[0];
    static const char *const ips[] = {"127.0.0.1", "::1", NULL};
    static const char *const none[] = {NULL};
    snprintf(want, sizeof(want), "CN=Inter %s,O=mutls tests", k->name);
    CHECKF(L("inspect: subject, issuer, CN"),
           strcmp(i->subject, "CN=api.example,O=mutls tests") == 0 &&
               strcmp(i->issuer, want) == 0 && strcmp(i->common_name, "api.example") == 0,
           "%s / %s / %s", i->subject, i->issuer, i->common_name);
    CHECKF(L("inspect: serial as issued"), strcmp(i->serial_hex, k->server_serial) == 0, "%s vs %s",
           i->serial_hex, k->server_serial);
    CHECKF(L("inspect: validity"),
           i->not_before >= k->issued_at - 305 && i->not_before <= k->issued_at - 295 &&
               i->not_after >= k->issued_at + LEAF_DAYS * 86400 - 5 &&
               i->not_after <= k->issued_at + LEAF_DAYS * 86400 + 5,
           "%lld %lld at %lld", (long long)i->not_before, (long long)i->not_after,
           (long long)k->issued_at);
    CHECKF(L("inspect: key type"), strcmp(i->key_type, k->key_type) == 0, "%s", i->key_type);
    CHECK(L("inspect: leaf flags"),
          !i->is_ca && i->path_len == -1 && i->has_eku && i->server_auth && !i->client_auth);
    CHECK(L("inspect: SANs"), list_is(&i->dns, SERVER_DNS) && list_is(&i->ip, ips) &&
                                  list_is(&i->uri, none) && list_is(&i->email, none) &&
                                  i->spiffe_id == NULL);
    char *out =
        run(&st, "openssl x509 -in %s -noout -fingerprint -sha256", file_of(k, "server.pem"));
    normalize_hex(out, fp, sizeof(fp));
    free(out);
    CHECKF(L("inspect: certificate fingerprint"), strcmp(i->fingerprint, fp) == 0, "%s vs %s",
           i->fingerprint, fp);
    out = run(&st, "openssl pkey -pubin -in %s -outform DER | openssl dgst -sha256 -r",
              file_of(k, "server.pub"));
    snprintf(fp, sizeof(fp), "%.64s", out);
    free(out);
    CHECKF(L("inspect: SPKI fingerprint"), strcmp(i->spki_fingerprint, fp) == 0, "%s vs %s",
           i->spki_fingerprint, fp);
    out = run(&st, "openssl x509 -in %s -noout -serial", file_of(k, "server.pem"));
    snprintf(want, sizeof(want), "serial=%s\n", k->server_serial);
    CHECKF(L("serial as openssl prints it"), strcmp(out, want) == 0, "%s vs %s", out, want);
    free(out);
  }
  mutls_ca_info_free(info, n);

  r = mutls_ca_inspect(chain, 1, &info, &n, &s);
  CHECKF(L("inspect the whole chain"),
         r == MUTLS_OK && n == 2 && !info[0].is_ca && info[1].is_ca && info[1].path_len == 0 &&
             !info[1].has_eku && info[1].dns.n == 0 && strcmp(info[0].issuer, info[1].subject) == 0,
         "%s", s.why);
  mutls_ca_info_free(info, n);
  free(chain);

  r = mutls_ca_inspect(k->client, 1, &info, &n, &s);
  CHECKF(L("inspect the client leaf"),
         r == MUTLS_OK && n == 1 &&
             strcmp(info[0].subject, "CN=billing,OU=ledger,OU=payments,O=mutls tests") == 0 &&
             info[0].client_auth && !info[0].server_auth && list_is(&info[0].uri, CLIENT_URI) &&
             list_is(&info[0].email, CLIENT_EMAIL) && info[0].dns.n == 0 &&
             info[0].spiffe_id != NULL &&
             strcmp(info[0].spiffe_id, "spiffe://example.org/billing") == 0 &&
             strcmp(info[0].serial_hex, k->client_serial) == 0,
         "%s", r == MUTLS_OK ? info[0].subject : s.why);
  mutls_ca_info_free(info, n);

  r = mutls_ca_inspect(k->root, 0, &info, &n, &s);
  CHECKF(L("inspect the root"),
         r == MUTLS_OK && info[0].is_ca && info[0].path_len == 1 &&
             strcmp(info[0].subject, info[0].issuer) == 0,
         "%s", s.why);
  mutls_ca_info_free(info, n);
#undef L
}

/* Serials: 16 bytes, positive (first hex digit 4 to 7), random. */
static void serials(pki *k) {
  char label[128], a[MUTLS_CA_SERIAL_LEN], b[MUTLS_CA_SERIAL_LEN];
  mutls_ca_profile p = server_profile();
  snprintf(label, sizeof(label), "%s: two issues of one profile", k->name);
  char *x = issue(&p, k->server_key, k->inter, k->inter_key, a, label);
  char *y = issue(&p, k->server_key, k->inter, k->inter_key, b, label);
  snprintf(label, sizeof(label), "%s: serials are random, positive, 16 bytes", k->name);
  CHECKF(label,
         strlen(a) == 32 && strlen(b) == 32 && strchr("4567", a[0]) && strchr("4567", b[0]) &&
             strcmp(a, b) != 0 && strcmp(a, k->server_serial) != 0,
         "%s %s", a, b);
  mutls_ca_free(x);
  mutls_ca_free(y);
}

/* ---- checks and the handshake ------------------------------------------------------- */

typedef struct {
  mutls_error code;
  int alert;
  char why[1024];
} outcome;

/* A real handshake: our server (this PKI's server chain; client CAs: the
 * root; CRL if given) and a client presenting client_chain. The server's
 * verdict. */
static outcome handshake(pki *k, const char *client_chain, const char *client_key,
                         const char *crl) {
  outcome o = {MUTLS_E_NONE, -1, ""};
  mutls_config *sc = mutls_config_new(), *cc = mutls_config_new();
  int ok =
      mutls_config_set_identity_files(sc, path_of(file_of(k, "server-chain.pem")),
                                      path_of(file_of(k, "server.key"))) == MUTLS_OK &&
      mutls_config_set_client_ca_file(sc, path_of(file_of(k, "root.pem"))) == MUTLS_OK &&
      mutls_config_set_client_auth(sc, MUTLS_CLIENT_AUTH_REQUIRED) == MUTLS_OK &&
      (crl == NULL || mutls_config_add_crl_file(sc, path_of(crl)) == MUTLS_OK) &&
      mutls_config_set_trust_file(cc, path_of(file_of(k, "root.pem"))) == MUTLS_OK &&
      mutls_config_set_identity_files(cc, path_of(client_chain), path_of(client_key)) == MUTLS_OK;
  if (!ok) {
    snprintf(o.why, sizeof(o.why), "config: %s / %s", mutls_config_error(sc),
             mutls_config_error(cc));
    o.code = MUTLS_E_CONFIG;
  } else {
    mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "api.example");
    tu_pump(c, s);
    o.code = mutls_conn_error(s);
    o.alert = mutls_conn_alert_sent(s);
    snprintf(o.why, sizeof(o.why), "%s", mutls_conn_explain(s));
    if (o.code == MUTLS_E_NONE && mutls_conn_error(c) != MUTLS_E_NONE) {
      o.code = mutls_conn_error(c);
      snprintf(o.why, sizeof(o.why), "client: %s", mutls_conn_explain(c));
    }
    mutls_conn_free(c);
    mutls_conn_free(s);
  }
  mutls_config_free(sc);
  mutls_config_free(cc);
  return o;
}

/* mutls_ca_check of chain_file for purpose, its outcome as want, and the
 * very code, alert and sentence the handshake gave (o may be NULL). */
static void check_case(const char *label, pki *k, const char *chain_file, const char *ca_file,
                       mutls_ca_purpose purpose, const char *name, const char *crl,
                       mutls_error want, int want_alert, const char *part, const outcome *o) {
  int st = 0;
  mutls_ca_status s;
  char *chain = run(&st, "cat %s", chain_file);
  const char *crls[] = {crl ? path_of(crl) : NULL, NULL};
  int r = mutls_ca_check(chain, path_of(ca_file), purpose, name, crl ? crls : NULL, &s);
  CHECKF(label,
         (r == MUTLS_OK) == (want == MUTLS_E_NONE) && s.code == want && s.alert == want_alert &&
             has(s.why, part),
         "%s: r %d code %s alert %d why \"%s\"", k->name, r, mutls_error_name(s.code), s.alert,
         s.why);
  if (o != NULL) {
    char l2[160];
    snprintf(l2, sizeof(l2), "%s: the handshake says the same", label);
    /* A connection that succeeded has no sentence to compare. */
    CHECKF(l2,
           o->code == s.code && o->alert == s.alert &&
               (s.code == MUTLS_E_NONE || strcmp(o->why, s.why) == 0),
           "handshake %s %d \"%s\" vs check %s %d \"%s\"", mutls_error_name(o->code), o->alert,
           o->why, mutls_error_name(s.code), s.alert, s.why);
  }
  if (want != MUTLS_E_NONE) printf("# %s\n", s.why);
  free(chain);
}

static void checks(pki *k, pki *other) {
  char label[128], sentence[256];
  int st = 0;
#define L(s) (snprintf(label, sizeof(label), "%s: %s", k->name, s), label)
  const char *server_chain = file_of(k, "server-chain.pem");
  const char *client_chain = file_of(k, "client-chain.pem");
  const char *root = file_of(k, "root.pem");
  outcome o = handshake(k, client_chain, file_of(k, "client.key"), NULL);
  CHECKF(L("mutls accepts the issued server and client"), o.code == MUTLS_E_NONE, "%s", o.why);

  check_case(L("check: server chain for a server"), k, server_chain, root, MUTLS_CA_PURPOSE_SERVER,
             "api.example", NULL, MUTLS_E_NONE, -1, "is valid", NULL);
  check_case(L("check: wildcard name"), k, server_chain, root, MUTLS_CA_PURPOSE_SERVER,
             "db.svc.example", NULL, MUTLS_E_NONE, -1, "is valid", NULL);
  check_case(L("check: IPv6 name"), k, server_chain, root, MUTLS_CA_PURPOSE_SERVER, "::1", NULL,
             MUTLS_E_NONE, -1, "is valid", NULL);
  check_case(L("check: client chain for a client"), k, client_chain, root, MUTLS_CA_PURPOSE_CLIENT,
             NULL, NULL, MUTLS_E_NONE, -1, "is valid", &o);
  check_case(L("check: wrong name"), k, server_chain, root, MUTLS_CA_PURPOSE_SERVER,
             "other.example", NULL, MUTLS_E_CERT_NAME_MISMATCH, 42,
             "does not match the name other.example", NULL);
  check_case(L("check: client leaf as a server: UNSUPPORTED"), k, client_chain, root,
             MUTLS_CA_PURPOSE_SERVER, NULL, NULL, MUTLS_E_CERT_UNSUPPORTED, 43,
             "the certificate for CN=billing,OU=ledger,OU=payments,O=mutls tests is not allowed "
             "for TLS server authentication (extended key usage); reissue it with serverAuth",
             NULL);
  snprintf(sentence, sizeof(sentence),
           "the certificate for CN=Inter %s,O=mutls tests was issued by CN=Root %s,O=mutls tests, "
           "which is not in the trust store",
           k->name, k->name);
  check_case(L("check: another CA: UNTRUSTED"), k, client_chain, file_of(other, "root.pem"),
             MUTLS_CA_PURPOSE_CLIENT, NULL, NULL, MUTLS_E_CERT_UNTRUSTED, 48, sentence, NULL);

  /* Expired: valid from three days ago, for one day. */
  mutls_ca_profile p = client_profile();
  p.not_before = (int64_t)time(NULL) - 3 * 86400;
  p.days = 1;
  char *old = issue(&p, k->client_key, k->inter, k->inter_key, NULL, L("issue an expired leaf"));
  write_file(file_of(k, "old.pem"), old);
  free(run(&st, "cat %s %s > %s", file_of(k, "old.pem"), file_of(k, "inter.pem"),
           file_of(k, "old-chain.pem")));
  o = handshake(k, file_of(k, "old-chain.pem"), file_of(k, "client.key"), NULL);
  check_case(L("check: EXPIRED"), k, file_of(k, "old-chain.pem"), root, MUTLS_CA_PURPOSE_CLIENT,
             NULL, NULL, MUTLS_E_CERT_EXPIRED, 45, "expired on", &o);
  mutls_ca_free(old);

  mutls_ca_status s;
  CHECKF(L("key matches its certificate"),
         mutls_ca_key_matches(k->server, k->server_key, &s) == MUTLS_OK && s.code == MUTLS_E_NONE,
         "%s", s.why);
  int r = mutls_ca_key_matches(k->server, k->client_key, &s);
  CHECKF(L("key of another certificate: mismatch"),
         r == MUTLS_ERR && s.code == MUTLS_E_CONFIG &&
             has(s.why, "the private key does not belong to the certificate for "
                        "CN=api.example,O=mutls tests"),
         "%s", s.why);
#undef L
}

/* ---- CRLs ----------------------------------------------------------------------- */

static void crls(pki *k) {
  char label[128], want[160];
  int st = 0;
  mutls_ca_status s;
#define L(x) (snprintf(label, sizeof(label), "%s: %s", k->name, x), label)
  char *crl = NULL;
  mutls_ca_revoked list[] = {{k->client_serial, 0, MUTLS_REASON_KEY_COMPROMISE}};
  int r = mutls_ca_make_crl(k->inter, k->inter_key, list, 1, 7, 7, &crl, &s);
  CHECKF(L("make a CRL"), r == MUTLS_OK && has(crl, "-----BEGIN X509 CRL-----\n"), "%s", s.why);
  write_file(file_of(k, "inter.crl"), crl);
  mutls_ca_free(crl);

  char *text = run(&st, "openssl crl -in %s -noout -text", file_of(k, "inter.crl"));
  snprintf(want, sizeof(want), "Serial Number: %s\n        Revocation Date: ", k->client_serial);
  CHECKF(L("openssl crl lists the serial, the reason, number, AKI"),
         st == 0 && has(text, want) &&
             has(text, "X509v3 CRL Reason Code: \n                Key Compromise") &&
             has(text, "X509v3 CRL Number: \n                7") &&
             has(text, "X509v3 Authority Key Identifier") && has(text, "Version 2 (0x1)") &&
             has(text, k->sig_alg),
         "%s", shown(text));
  free(text);
  char *out = run(&st, "openssl verify -crl_check -CRLfile %s -CAfile %s -untrusted %s %s 2>&1",
                  file_of(k, "inter.crl"), file_of(k, "root.pem"), file_of(k, "inter.pem"),
                  file_of(k, "client.pem"));
  CHECKF(L("openssl verify -crl_check refuses the revoked leaf"),
         st != 0 && has(out, "certificate revoked"), "%s", shown(out));
  free(out);
  out = run(&st, "openssl verify -crl_check -CRLfile %s -CAfile %s -untrusted %s %s",
            file_of(k, "inter.crl"), file_of(k, "root.pem"), file_of(k, "inter.pem"),
            file_of(k, "server.pem"));
  CHECKF(L("openssl verify -crl_check accepts a leaf not listed"), st == 0, "%s", shown(out));
  free(out);

  outcome o = handshake(k, file_of(k, "client-chain.pem"), file_of(k, "client.key"),
                        file_of(k, "inter.crl"));
  snprintf(want, sizeof(want), "(serial 0x%s) was revoked on ", k->client_serial);
  check_case(L("check: REVOKED"), k, file_of(k, "client-chain.pem"), file_of(k, "root.pem"),
             MUTLS_CA_PURPOSE_CLIENT, NULL, file_of(k, "inter.crl"), MUTLS_E_CERT_REVOKED, 44, want,
             &o);
  check_case(L("check: REVOKED names the reason"), k, file_of(k, "client-chain.pem"),
             file_of(k, "root.pem"), MUTLS_CA_PURPOSE_CLIENT, NULL, file_of(k, "inter.crl"),
             MUTLS_E_CERT_REVOKED, 44, "(keyCompromise); issue a new one", NULL);
  check_case(L("check: a leaf the CRL does not list"), k, file_of(k, "server-chain.pem"),
             file_of(k, "root.pem"), MUTLS_CA_PURPOSE_SERVER, "api.example",
             file_of(k, "inter.crl"), MUTLS_E_NONE, -1, "is valid", NULL);
#undef L
}

/* ---- refusals ----------------------------------------------------------------------- */

static void expect_refusal(const char *label, int r, const mutls_ca_status *s, mutls_error code,
                           const char *part) {
  CHECKF(label, r == MUTLS_ERR && s->code == code && has(s->why, part), "r %d code %s why \"%s\"",
         r, mutls_error_name(s->code), s->why);
  if (r == MUTLS_ERR) printf("# %s\n", s->why);
}

static void refuse_issue(const char *label, const mutls_ca_profile *p, const char *key,
                         const char *issuer, const char *issuer_key, mutls_error code,
                         const char *part) {
  mutls_ca_status s;
  char *pem = (char *)"unchanged";
  char serial[MUTLS_CA_SERIAL_LEN] = "x";
  int r = mutls_ca_issue(p, key, issuer, issuer_key, &pem, serial, &s);
  expect_refusal(label, r, &s, code, part);
  CHECK("  ... and outputs nothing", pem == NULL && serial[0] == '\0');
}

static void refusals(pki *k, pki *other) {
  static const char *const bad_dns[] = {"api..example", NULL};
  static const char *const bad_wild[] = {"a*.example", NULL};
  static const char *const bad_ip[] = {"300.1.1.1", NULL};
  static const char *const bad_uri[] = {"no scheme", NULL};
  static const char *const bad_email[] = {"nobody", NULL};
  mutls_ca_profile p = server_profile();
  p.dns = NULL;
  p.ip = NULL;
  refuse_issue("a leaf without SAN is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG,
               "the certificate for api.example has no subject alternative name; give it at least "
               "one DNS name, IP address, URI or email address");
  p = server_profile();
  p.server_auth = 0;
  refuse_issue("a leaf without EKU is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "is for neither TLS servers nor clients");
  p = server_profile();
  p.dns = bad_dns;
  refuse_issue("an empty DNS label is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "\"api..example\" is not a valid DNS name");
  p.dns = bad_wild;
  refuse_issue("a partial wildcard is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "\"a*.example\" is not a valid DNS name");
  p = server_profile();
  p.ip = bad_ip;
  refuse_issue("a bad IP is refused", &p, k->server_key, k->inter, k->inter_key, MUTLS_E_CONFIG,
               "\"300.1.1.1\" is not an IPv4 or IPv6 address");
  p = client_profile();
  p.uri = bad_uri;
  refuse_issue("a bad URI is refused", &p, k->client_key, k->inter, k->inter_key, MUTLS_E_CONFIG,
               "\"no scheme\" is not a URI");
  p = client_profile();
  p.email = bad_email;
  refuse_issue("a bad email is refused", &p, k->client_key, k->inter, k->inter_key, MUTLS_E_CONFIG,
               "\"nobody\" is not an email address");
  p = server_profile();
  p.common_name = "a-common-name-that-is-much-longer-than-the-sixty-four-characters-allowed";
  refuse_issue("a CN over 64 characters is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "is longer than 64 characters");
  p = server_profile();
  p.days = 0;
  refuse_issue("zero days are refused", &p, k->server_key, k->inter, k->inter_key, MUTLS_E_CONFIG,
               "valid for 1 to 36500 days, not 0");
  p.days = LEAF_DAYS;
  p.not_before = INT64_MAX;
  refuse_issue("a not_before past year 9899 is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "not_before is before 1970 or after 9899");
  p.not_before = 0;
  p.days = 45;
  refuse_issue("a leaf outliving its issuer is refused", &p, k->server_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "expires on");
  p = server_profile();
  refuse_issue("a leaf cannot issue", &p, k->client_key, k->server, k->server_key, MUTLS_E_CONFIG,
               "the issuer certificate CN=api.example,O=mutls tests is not a CA");
  refuse_issue("the issuer key must match", &p, k->server_key, k->inter, k->root_key,
               MUTLS_E_CONFIG, "the issuer key does not belong to the issuer certificate");
  refuse_issue("a self-signed certificate needs a private key", &p, k->server, NULL, NULL,
               MUTLS_E_CONFIG, "cannot use the subject key");
  refuse_issue("an issuer key without certificate is refused", &p, k->server_key, NULL,
               k->inter_key, MUTLS_E_CONFIG, "an issuer key was given without its certificate");
  refuse_issue("a corrupt issuer certificate is refused", &p, k->server_key,
               "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", k->inter_key,
               MUTLS_E_CERT_BAD, "cannot use the issuer certificate: ");
  mutls_ca_profile ca = ca_profile("Too deep", 0, 10);
  refuse_issue("pathlen 0 issues no CA", &ca, other->inter_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "has path length 0, so it may not issue CA certificates");
  refuse_issue("no profile", NULL, k->server_key, NULL, NULL, MUTLS_E_CONFIG, "no profile");

  mutls_ca_status s;
  char *crl = (char *)"unchanged";
  mutls_ca_revoked twice[] = {{k->client_serial, 0, MUTLS_REASON_SUPERSEDED},
                              {k->client_serial, 0, MUTLS_REASON_UNSPECIFIED}};
  int r = mutls_ca_make_crl(k->inter, k->inter_key, twice, 2, 2, 7, &crl, &s);
  expect_refusal("a serial listed twice is refused", r, &s, MUTLS_E_CONFIG, "is listed twice");
  CHECK("  ... and outputs nothing", crl == NULL);
  mutls_ca_revoked bad[] = {{"0x12zz", 0, MUTLS_REASON_SUPERSEDED}};
  r = mutls_ca_make_crl(k->inter, k->inter_key, bad, 1, 2, 7, &crl, &s);
  expect_refusal("a bad serial is refused", r, &s, MUTLS_E_CONFIG,
                 "revoked serial \"0x12zz\" (entry 1) is not a positive hex number");
  mutls_ca_revoked zero[] = {{"00", 0, MUTLS_REASON_SUPERSEDED}};
  r = mutls_ca_make_crl(k->inter, k->inter_key, zero, 1, 2, 7, &crl, &s);
  expect_refusal("serial 0 is refused", r, &s, MUTLS_E_CONFIG, "not a positive hex number");
  mutls_ca_revoked reason[] = {{"01", 0, (mutls_crl_reason)8}};
  r = mutls_ca_make_crl(k->inter, k->inter_key, reason, 1, 2, 7, &crl, &s);
  expect_refusal("removeFromCRL (8) is refused", r, &s, MUTLS_E_CONFIG,
                 "entry 1 has an unknown revocation reason");
  r = mutls_ca_make_crl(k->server, k->server_key, NULL, 0, 2, 7, &crl, &s);
  expect_refusal("a leaf cannot sign a CRL", r, &s, MUTLS_E_CONFIG, "is not a CA certificate");
  r = mutls_ca_make_crl(k->inter, k->root_key, NULL, 0, 2, 7, &crl, &s);
  expect_refusal("a CRL needs the issuer's own key", r, &s, MUTLS_E_CONFIG,
                 "the issuer key does not belong");
}

/* An unspecified reason leaves the reason code out (RFC 5280 5.3.1); colons
 * and 0x in serials; an empty CRL. */
static void crl_forms(pki *k) {
  mutls_ca_status s;
  char *crl = NULL, colons[MUTLS_CA_SERIAL_LEN * 2], *w = colons;
  int st = 0;
  for (const char *c = k->server_serial; *c; c += 2)
    w += sprintf(w, "%s%.2s", w == colons ? "0x" : ":", c);
  mutls_ca_revoked list[] = {{colons, 1700000000, MUTLS_REASON_UNSPECIFIED}};
  int r = mutls_ca_make_crl(k->inter, k->inter_key, list, 1, 1, 1, &crl, &s);
  write_file("forms.crl", crl);
  mutls_ca_free(crl);
  char *text = run(&st, "openssl crl -in forms.crl -noout -text");
  char want[256];
  snprintf(want, sizeof(want),
           "Serial Number: %s\n        Revocation Date: Nov 14 22:13:20 2023 GMT",
           k->server_serial);
  CHECKF("CRL: serial with 0x and colons, a given date, no reason code",
         r == MUTLS_OK && has(text, want) && !has(text, "Reason Code"), "%s %s", s.why, text);
  free(text);
  r = mutls_ca_make_crl(k->inter, k->inter_key, NULL, 0, 3, 1, &crl, &s);
  write_file("empty.crl", crl);
  mutls_ca_free(crl);
  text = run(&st, "openssl crl -in empty.crl -noout -text");
  CHECKF("CRL: an empty one", r == MUTLS_OK && has(text, "No Revoked Certificates."), "%s %s",
         s.why, text);
  free(text);
}

/* A UTF-8 common name goes in whole; the one-line subject shows '?' for
 * what is not ASCII (x509.c's rule for names in sentences and logs). */
static void utf8_name(pki *k) {
  static const char *const uri[] = {"spiffe://example.org/z\xc3\xbcrich", NULL};
  mutls_ca_profile p = client_profile();
  p.common_name = "Z\xc3\xbcrich";
  p.uri = NULL;
  p.email = NULL;
  p.dns = SERVER_DNS;
  char *pem = issue(&p, k->client_key, k->inter, k->inter_key, NULL, "issue a UTF-8 CN");
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  mutls_ca_status s;
  int r = mutls_ca_inspect(pem, 0, &info, &n, &s);
  CHECKF("inspect: UTF-8 CN exact, subject line ASCII",
         r == MUTLS_OK && strcmp(info[0].common_name, "Z\xc3\xbcrich") == 0 &&
             strncmp(info[0].subject, "CN=Z", 4) == 0 && info[0].spiffe_id == NULL,
         "%s", r == MUTLS_OK ? info[0].subject : s.why);
  mutls_ca_info_free(info, n);
  mutls_ca_free(pem);
  p.uri = uri;
  refuse_issue("a URI that is not ASCII is refused", &p, k->client_key, k->inter, k->inter_key,
               MUTLS_E_CONFIG, "is not a URI");
}

static void names(void) {
  mutls_ca_status s;
  mutls_key_type t = 0;
  mutls_crl_reason reason = 0;
  CHECK("key type p256",
        mutls_ca_key_type_from_name("p256", &t, &s) == MUTLS_OK && t == MUTLS_KEY_P256);
  CHECK("key type RSA3072 (any case)",
        mutls_ca_key_type_from_name("RSA3072", &t, &s) == MUTLS_OK && t == MUTLS_KEY_RSA3072);
  int r = mutls_ca_key_type_from_name("p521", &t, &s);
  expect_refusal("key type p521 is unknown", r, &s, MUTLS_E_CONFIG,
                 "unknown key type \"p521\"; use p256, p384, ed25519 or rsa3072");
  char *pem = (char *)"unchanged";
  r = mutls_ca_generate_key((mutls_key_type)9, &pem, &s);
  expect_refusal("generating an unknown type is refused", r, &s, MUTLS_E_CONFIG,
                 "unknown key type 9");
  CHECK("  ... and outputs nothing", pem == NULL);

  CHECK("reason keyCompromise",
        mutls_ca_reason_from_name("keyCompromise", &reason, &s) == MUTLS_OK &&
            reason == MUTLS_REASON_KEY_COMPROMISE);
  CHECK("reason AACOMPROMISE (any case)",
        mutls_ca_reason_from_name("AACOMPROMISE", &reason, &s) == MUTLS_OK &&
            reason == MUTLS_REASON_AA_COMPROMISE);
  r = mutls_ca_reason_from_name("removeFromCRL", &reason, &s);
  expect_refusal("reason removeFromCRL is refused", r, &s, MUTLS_E_CONFIG,
                 "unknown revocation reason \"removeFromCRL\"");
  CHECK("reason names",
        strcmp(mutls_ca_reason_name(MUTLS_REASON_PRIVILEGE_WITHDRAWN), "privilegeWithdrawn") == 0 &&
            strcmp(mutls_ca_reason_name(MUTLS_REASON_UNSPECIFIED), "unspecified") == 0 &&
            mutls_ca_reason_name((mutls_crl_reason)7) == NULL);

  mutls_ca_cert_info *info = (mutls_ca_cert_info *)1;
  size_t n = 5;
  r = mutls_ca_inspect("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 1, &info,
                       &n, &s);
  expect_refusal("inspect: corrupt PEM", r, &s, MUTLS_E_CERT_BAD,
                 "certificate 1 in the certificate PEM does not parse");
  CHECK("  ... and outputs nothing", info == NULL && n == 0);
  r = mutls_ca_inspect("hello", 0, &info, &n, &s);
  expect_refusal("inspect: no PEM", r, &s, MUTLS_E_CERT_BAD, "holds no certificate");
  r = mutls_ca_check("hello", "/nonexistent", MUTLS_CA_PURPOSE_CLIENT, NULL, NULL, &s);
  expect_refusal("check: no certificate", r, &s, MUTLS_E_CERT_BAD, "holds no certificate");
  CHECK("  ... alert -1", s.alert == -1);
  mutls_ca_free(NULL);
  mutls_ca_info_free(NULL, 0);
  CHECK("NULL status is fine", mutls_ca_key_type_from_name("x", &t, NULL) == MUTLS_ERR &&
                                   mutls_ca_key_type_from_name("ed25519", &t, NULL) == MUTLS_OK);
}

static void check_missing_files(pki *k) {
  mutls_ca_status s;
  int st = 0;
  char *chain = run(&st, "cat %s", file_of(k, "client-chain.pem"));
  const char *crl[] = {path_of("none.crl"), NULL};
  int r = mutls_ca_check(k->client, path_of("none.pem"), MUTLS_CA_PURPOSE_CLIENT, NULL, NULL, &s);
  expect_refusal("check: missing CA file", r, &s, MUTLS_E_CONFIG, "cannot open trust file");
  r = mutls_ca_check(k->client, path_of(file_of(k, "root.pem")), MUTLS_CA_PURPOSE_CLIENT, NULL, crl,
                     &s);
  expect_refusal("check: missing CRL file", r, &s, MUTLS_E_CONFIG, "cannot open CRL file");
  /* A CRL from the root does not cover the intermediate's leaves: hard fail. */
  char *pem = NULL;
  r = mutls_ca_make_crl(k->root, k->root_key, NULL, 0, 1, 1, &pem, &s);
  write_file("root.crl", pem);
  mutls_ca_free(pem);
  crl[0] = path_of("root.crl");
  r = mutls_ca_check(chain, path_of(file_of(k, "root.pem")), MUTLS_CA_PURPOSE_CLIENT, NULL, crl,
                     &s);
  CHECKF("check: client leaf without its issuer's CRL: CRL_MISSING",
         r == MUTLS_ERR && s.code == MUTLS_E_CRL_MISSING && s.alert == 46 &&
             has(s.why, "no CRL from CN=Inter p256,O=mutls tests was loaded"),
         "%s %s", mutls_error_name(s.code), s.why);
  free(chain);
}

int main(void) {
  snprintf(dir, sizeof(dir), "/tmp/mutls-test-ca-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    printf("FAIL mkdtemp\n");
    return 1;
  }
  CHECK("the openssl CLI is there", status_of("openssl version") == 0);
  names();
  for (size_t i = 0; i < N_PKI; i++)
    build(&pkis[i]);
  for (size_t i = 0; i < N_PKI; i++) {
    pki *k = &pkis[i], *other = &pkis[(i + 1) % N_PKI];
    openssl_view(k);
    inspect(k);
    serials(k);
    checks(k, other);
    crls(k);
    refusals(k, other);
  }
  crl_forms(&pkis[0]);
  utf8_name(&pkis[0]);
  check_missing_files(&pkis[0]);
  for (size_t i = 0; i < N_PKI; i++)
    release(&pkis[i]);
  if (check_exit() == 0) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
  } else {
    printf("# files kept in %s\n", dir);
  }
  return check_exit();
}
