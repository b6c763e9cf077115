/* test_null.c - every public function handed a NULL object (config,
 * connection or peer) gives the result mutls.h documents, never a crash:
 * MUTLS_ERR for a status, what means "none" for a getter (NULL, 0, -1),
 * a sentence saying so where one is promised, nothing for a free.
 *
 * The list of calls below was made from the header with
 *   awk '/MUTLS_API/{s=$0; while (s !~ /;/) {getline l; s=s l} print s}' \
 *     include/mutls.h | grep -E '\(.*mutls_(conn|config|peer) \*'
 * and the last check reads the header again, so that a function added to it
 * later fails here until it is called with NULL too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "mutls.h"

/* Each check is named after its call and the result it must give. */
#define EXPECT(call, want) expect(#call " == " #want, (long long)(call), (long long)(want))
#define EXPECT_NULL(call) CHECK(#call " == NULL", (call) == NULL)

static void expect(const char *name, long long got, long long want) {
  CHECKF(name, got == want, "got %lld", got);
}

/* The sentence a NULL object gets where a sentence is promised. */
static void says_null(const char *name, const char *s) {
  CHECKF(name, s && strstr(s, "is NULL"), "got \"%s\"", s ? s : "(NULL)");
}

static void configs(void) {
  const char *const crls[] = {"none.crl"};
  mutls_config_free(NULL);
  CHECK("mutls_config_free(NULL) does nothing", 1);
  EXPECT_NULL(mutls_config_ref(NULL));
  says_null("mutls_config_error(NULL) says the config is NULL", mutls_config_error(NULL));
  EXPECT(mutls_config_error_code(NULL), MUTLS_E_CONFIG);
  EXPECT(mutls_config_set_identity_files(NULL, "a.pem", "a.key"), MUTLS_ERR);
  EXPECT(mutls_config_set_trust_file(NULL, "ca.pem"), MUTLS_ERR);
  EXPECT(mutls_config_set_verify_peer(NULL, 0), MUTLS_ERR);
  EXPECT(mutls_config_set_cipher_suites(NULL, "TLS_AES_128_GCM_SHA256"), MUTLS_ERR);
  EXPECT(mutls_config_set_groups(NULL, "x25519"), MUTLS_ERR);
  EXPECT(mutls_config_set_signature_schemes(NULL, "ed25519"), MUTLS_ERR);
  EXPECT(mutls_config_set_alpn(NULL, "h2"), MUTLS_ERR);
  EXPECT(mutls_config_set_keylog_file(NULL, "/dev/null"), MUTLS_ERR);
  EXPECT(mutls_config_set_client_auth(NULL, MUTLS_CLIENT_AUTH_REQUIRED), MUTLS_ERR);
  EXPECT(mutls_config_set_client_ca_file(NULL, "ca.pem"), MUTLS_ERR);
  EXPECT(mutls_config_add_identity_files(NULL, "a.pem", "a.key"), MUTLS_ERR);
  EXPECT(mutls_config_allow(NULL, "cn:api"), MUTLS_ERR);
  EXPECT(mutls_config_check(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_config_add_crl_file(NULL, "none.crl"), MUTLS_ERR);
  EXPECT(mutls_config_set_crl_check(NULL, 1, 1), MUTLS_ERR);
  EXPECT(mutls_config_reload_crls(NULL, crls, 1), MUTLS_ERR);
  EXPECT(mutls_config_set_tickets(NULL, 1, 60), MUTLS_ERR);
  EXPECT(mutls_config_set_ticket_rotation(NULL, 60, 60), MUTLS_ERR);
  EXPECT(mutls_config_set_ticket_key_file(NULL, "ticket.keys"), MUTLS_ERR);
  EXPECT(mutls_config_rotate_ticket_keys(NULL), MUTLS_ERR);
  EXPECT(mutls_config_set_single_use_tickets(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_config_set_psk_ke(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_config_set_session_cache(NULL, 8), MUTLS_ERR);
  EXPECT(mutls_config_set_post_handshake_auth(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_config_set_confirm(NULL, 100), MUTLS_ERR);
  EXPECT(mutls_config_set_release_buffers(NULL, 1), MUTLS_ERR);
  EXPECT_NULL(mutls_client_new(NULL, "localhost"));
  EXPECT_NULL(mutls_server_new(NULL));
}

/* The sans-I/O core and the socket helpers. Out-parameters start non-zero
 * so that the checks see them cleared. */
static void conn_calls(void) {
  uint8_t buf[64] = {0}, *const sentinel = buf + 1;
  const uint8_t *view = sentinel;
  size_t used = 7, produced = 7, len = 7;
  mutls_conn_free(NULL);
  CHECK("mutls_conn_free(NULL) does nothing", 1);
  EXPECT(mutls_conn_recv(NULL, buf, sizeof buf, &used), MUTLS_ERR);
  EXPECT(used, 0);
  EXPECT(mutls_conn_send(NULL, buf, sizeof buf, &produced), MUTLS_ERR);
  EXPECT(produced, 0);
  EXPECT(mutls_conn_pending(NULL), 0);
  EXPECT(mutls_conn_handshake_done(NULL), 0);
  EXPECT(mutls_conn_read(NULL, buf, sizeof buf), MUTLS_ERR);
  EXPECT(mutls_conn_peek(NULL, &view, &len), MUTLS_ERR);
  CHECK("mutls_conn_peek(NULL) leaves an empty view", view == NULL && len == 0);
  EXPECT(mutls_conn_consume(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_conn_write(NULL, buf, sizeof buf), MUTLS_ERR);
  produced = 7;
  EXPECT(mutls_conn_write_into(NULL, buf, 1, buf + 1, 32, &produced), MUTLS_ERR);
  EXPECT(produced, 0);
  EXPECT(mutls_conn_close(NULL), MUTLS_ERR);
  EXPECT(mutls_conn_key_update(NULL, 1), MUTLS_ERR);
  EXPECT(mutls_conn_request_client_cert(NULL), MUTLS_ERR);
  EXPECT(mutls_conn_client_cert_pending(NULL), 0);
  EXPECT(mutls_conn_skip_confirm(NULL), MUTLS_ERR);
  EXPECT(mutls_conn_release_buffers(NULL), MUTLS_ERR);
  EXPECT(mutls_conn_get_session(NULL, buf, sizeof buf), MUTLS_ERR);
  EXPECT(mutls_conn_set_session(NULL, buf, sizeof buf), MUTLS_ERR);
  EXPECT(mutls_conn_set_fd(NULL, 0), MUTLS_ERR);
  EXPECT(mutls_handshake(NULL), MUTLS_ERR);
  EXPECT(mutls_read(NULL, buf, sizeof buf), MUTLS_ERR);
  EXPECT(mutls_write(NULL, buf, sizeof buf), MUTLS_ERR);
  EXPECT(mutls_shutdown(NULL), MUTLS_ERR);
  EXPECT(mutls_flush(NULL), MUTLS_ERR);
  EXPECT(mutls_conn_export(NULL, "EXPORTER-test", NULL, 0, buf, 32), MUTLS_ERR);
}

/* What was negotiated, and why it failed. */
static void conn_getters(void) {
  EXPECT_NULL(mutls_conn_version(NULL));
  EXPECT_NULL(mutls_conn_cipher_suite(NULL));
  EXPECT_NULL(mutls_conn_group(NULL));
  EXPECT_NULL(mutls_conn_signature_scheme(NULL));
  EXPECT_NULL(mutls_conn_alpn(NULL));
  EXPECT_NULL(mutls_conn_server_name(NULL));
  EXPECT(mutls_conn_used_hrr(NULL), 0);
  EXPECT(mutls_conn_resumed(NULL), 0);
  EXPECT(mutls_conn_confirmed(NULL), 0);
  EXPECT(mutls_conn_is_server(NULL), 0);
  EXPECT(mutls_conn_cert_requested(NULL), 0);
  EXPECT(mutls_conn_cert_sent(NULL), 0);
  EXPECT(mutls_conn_identity(NULL), -1);
  says_null("mutls_conn_notice(NULL) says the connection is NULL", mutls_conn_notice(NULL));
  EXPECT_NULL(mutls_conn_peer(NULL));
  EXPECT(mutls_conn_error(NULL), MUTLS_E_STATE);
  EXPECT(mutls_conn_alert_sent(NULL), -1);
  EXPECT(mutls_conn_alert_received(NULL), -1);
  says_null("mutls_conn_explain(NULL) says the connection is NULL", mutls_conn_explain(NULL));
}

static void peers(void) {
  char pem[64] = "x";
  size_t len = 7;
  EXPECT(mutls_peer_chain_length(NULL), 0);
  EXPECT_NULL(mutls_peer_cert_der(NULL, 0, &len));
  EXPECT(len, 0);
  EXPECT(mutls_peer_cert_pem(NULL, 0, pem, sizeof pem), MUTLS_ERR);
  EXPECT_NULL(mutls_peer_subject(NULL));
  EXPECT_NULL(mutls_peer_issuer(NULL));
  EXPECT(mutls_peer_san_count(NULL, MUTLS_SAN_DNS), 0);
  EXPECT_NULL(mutls_peer_san(NULL, MUTLS_SAN_URI, 0));
  EXPECT_NULL(mutls_peer_sans(NULL));
  EXPECT_NULL(mutls_peer_spiffe_id(NULL));
  EXPECT_NULL(mutls_peer_fingerprint(NULL));
  EXPECT_NULL(mutls_peer_spki_fingerprint(NULL));
  EXPECT(mutls_peer_not_before(NULL), 0);
  EXPECT(mutls_peer_not_after(NULL), 0);
  EXPECT_NULL(mutls_peer_not_after_text(NULL));
}

/* On a live connection, a NULL buffer with a length is refused the same
 * way, with a notice, and the connection carries on as if nothing
 * happened; with length 0, NULL is allowed. */
static void null_buffers(void) {
  mutls_config *sc = tu_server_config("p256"), *cc = tu_client_config();
  mutls_conn *s = sc ? mutls_server_new(sc) : NULL, *c = cc ? mutls_client_new(cc, "localhost") : NULL;
  int up = s && c && tu_pump(c, s) == 0;
  CHECK("a connected pair for the buffer checks", up);
  if (up) {
    size_t n = 99;
    uint8_t buf[64];
    EXPECT(mutls_conn_write(c, NULL, 5), MUTLS_ERR);
    CHECKF("mutls_conn_write(c, NULL, 5): the notice names the call",
           strstr(mutls_conn_notice(c), "mutls_conn_write was given a NULL buffer of 5 bytes"),
           "notice: %s", mutls_conn_notice(c));
    EXPECT(mutls_conn_write(c, NULL, 0), 0);
    EXPECT(mutls_conn_write(c, "hello", 5), 5);
    EXPECT(mutls_conn_send(c, NULL, 100, &n), MUTLS_ERR);
    EXPECT(n, 0);
    EXPECT(mutls_conn_send(c, NULL, 0, &n), MUTLS_OK);
    EXPECT(mutls_conn_recv(s, NULL, 100, &n), MUTLS_ERR);
    EXPECT(n, 0);
    EXPECT(mutls_conn_recv(s, NULL, 0, &n), MUTLS_OK);
    tu_move(c, s);
    EXPECT(mutls_conn_read(s, NULL, 5), MUTLS_ERR);
    CHECKF("mutls_conn_read(s, NULL, 5): the notice names the call",
           strstr(mutls_conn_notice(s), "mutls_conn_read was given a NULL buffer of 5 bytes"),
           "notice: %s", mutls_conn_notice(s));
    EXPECT(mutls_conn_read(s, NULL, 0), 0);
    int got = mutls_conn_read(s, buf, sizeof buf);
    CHECKF("after the refusals, the data arrives whole", got == 5 && memcmp(buf, "hello", 5) == 0,
           "read %d", got);
    EXPECT(mutls_conn_error(c), MUTLS_E_NONE);
    EXPECT(mutls_conn_error(s), MUTLS_E_NONE);
    EXPECT(mutls_conn_export(c, "EXPORTER-test", NULL, 0, NULL, 32), MUTLS_ERR);
    EXPECT(mutls_conn_get_session(c, NULL, 100), MUTLS_ERR);
    EXPECT(mutls_read(c, NULL, 5), MUTLS_ERR);
    EXPECT(mutls_write(c, NULL, 5), MUTLS_ERR);
  }
  mutls_conn *fresh = cc ? mutls_client_new(cc, "localhost") : NULL;
  EXPECT(mutls_conn_set_session(fresh, NULL, 40), MUTLS_ERR);
  mutls_conn_free(fresh);
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(cc);
  mutls_config_free(sc);
}

/* The whole of a file as a string, or NULL. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *s = f ? calloc(1, 1 << 20) : NULL;
  if (s && fread(s, 1, (1 << 20) - 1, f) == 0) {
    free(s);
    s = NULL;
  }
  if (f) fclose(f);
  return s;
}

/* Every declaration in mutls.h that takes a config, connection or peer
 * pointer is called above with NULL (run from the repository's root, as
 * tests/run.sh does). */
static void all_covered(void) {
  char *header = slurp("include/mutls.h"), *self = slurp(__FILE__);
  int n = 0, missing = 0;
  char first[80] = "";
  for (char *d = header && self ? strstr(header, "MUTLS_API ") : NULL; d;
       d = strstr(d + 1, "MUTLS_API ")) {
    char *end = strchr(d, ';'), *paren = strchr(d, '(');
    if (!end || !paren || paren > end) continue; /* the #define */
    *end = 0;
    int takes_object = strstr(paren, "mutls_conn *") || strstr(paren, "mutls_config *") ||
                       strstr(paren, "mutls_peer *");
    *end = ';';
    if (!takes_object) continue;
    char *name = paren;
    while (name > d && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z'))) name--;
    char call[80];
    snprintf(call, sizeof call, "%.*s(NULL", (int)(paren - name), name);
    n++;
    if (!strstr(self, call) && !missing++) snprintf(first, sizeof first, "%s", call);
  }
  CHECKF("every function of mutls.h that takes an object is called here with NULL",
         header && self && n >= 90 && !missing, "%d functions found, %d not called, first %s",
         n, missing, first);
  free(header);
  free(self);
}

int main(void) {
  configs();
  conn_calls();
  conn_getters();
  peers();
  null_buffers();
  all_covered();
  return check_exit();
}
