/* fuzz_ticket.c - the server's opening of a resumption ticket (src/ticket.c,
 * mt_server_try_psk: open, decode, suite and age checks, binder, single
 * use, then recheck_identity, which parses and verifies the client chain
 * the ticket carries and applies the allow rules). A fuzzer cannot forge a
 * ticket sealed with the server's key, so the harness seals the input with
 * it (mt_ticket_seal).
 *
 * Per input, in fz_ticket_scenario (client certificate required, an allow
 * rule, one ticket per handshake; a verified-chain cache and ticket keys
 * new for each input): the plaintext is sealed; a client is given a
 * session (format 1, see fuzz_session.c) holding that ticket, the
 * harness's PSK, the ticket's suite (TLS_AES_128_GCM_SHA256 if that is not
 * a suite we know: the client would refuse the session) and the server's
 * chain; then client and server talk in memory to the end: a resumption,
 * or the full handshake that follows a ticket that does not resume, or a
 * failure (a binder that does not verify is fatal).
 *
 * Input: a flags byte, then the ticket's plaintext (fz_ticket_fields in
 * fuzz.h). Flags:
 *   bit 0  overwrite created with the current time (less a second), so
 *          that a seed does not expire;
 *   bit 1  overwrite the psk's bytes with the harness's PSK, so that the
 *          binder the client computes with it verifies on the server;
 *   bit 2  single-use tickets (use_once).
 *
 * Three self-checks abort() (a crash for libFuzzer, a failure for replay):
 *   - the canonical ticket (fz_ticket_canonical: version 1,
 *     TLS_AES_128_GCM_SHA256, a 32-byte PSK, the checked-in client
 *     certificate), with both flags, must resume: the target reaches the
 *     end of the path it is for;
 *   - when the handshake completes, the ticket the server sent at its end
 *     must resume a fresh client and server: what the server seals it
 *     opens, and the identity it recorded passes its own recheck (there,
 *     from the verified-chain cache the first handshake filled);
 *   - with bit 2, a ticket that resumed does not resume again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SESSION_VERSION 1
#define SESSION_LIFETIME 7200

static fz_buf canonical, server_chain;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_init();
  fz_buf chain = {0};
  size_t len;
  const uint8_t *der = fz_cert_der(FZ_CERT_CLIENT, &len);
  fz_chain_add(&chain, der, len);
  fz_ticket_plaintext(&canonical, &fz_ticket_canonical, chain.p, chain.len);
  fz_buf_free(&chain);
  der = fz_cert_der(FZ_CERT_SERVER, &len);
  fz_chain_add(&server_chain, der, len);
  return 0;
}

/* The flags' overwrites, where the plaintext is long enough to have them. */
static void fix_up(uint8_t *pt, size_t n, uint8_t flags) {
  if ((flags & 1) && n >= FZ_TICKET_CREATED_AT + 8) {
    uint64_t now = (uint64_t)mt_now_ms() - 1000;
    for (int i = 0; i < 8; i++) pt[FZ_TICKET_CREATED_AT + i] = (uint8_t)(now >> (56 - 8 * i));
  }
  if ((flags & 2) && n > FZ_TICKET_PSK_AT) {
    size_t psk_len = pt[FZ_TICKET_PSK_AT];
    for (size_t i = 0; i < psk_len && FZ_TICKET_PSK_AT + 1 + i < n; i++)
      pt[FZ_TICKET_PSK_AT + 1 + i] = fz_ticket_psk(i);
  }
}

/* The canonical ticket, created aside, with both flags. */
static int is_canonical(const uint8_t *pt, size_t n, uint8_t flags) {
  const size_t end = FZ_TICKET_CREATED_AT + 8;
  return (flags & 3) == 3 && n == canonical.len && memcmp(pt, canonical.p, FZ_TICKET_CREATED_AT) == 0 &&
         memcmp(pt + end, canonical.p + end, n - end) == 0;
}

/* A client of s offering ticket (sealed for suite) as the session it holds
 * for the server; with the harness's PSK, received a second ago. */
static mutls_conn *client_offering(const fz_scenario *s, fz_hook *h, uint16_t suite,
                                   const uint8_t *ticket, size_t ticket_len) {
  mt_writer w;
  mt_w_init(&w, (size_t)1 << 24);
  mt_w_u8(&w, SESSION_VERSION);
  mt_w_u16(&w, suite);
  size_t t = mt_w_begin(&w, 1);
  for (size_t i = 0; i < mt_hash_len(mt_suite_by_id(suite)->hash); i++) mt_w_u8(&w, fz_ticket_psk(i));
  mt_w_end(&w, t, 1);
  t = mt_w_begin(&w, 2);
  mt_w_bytes(&w, ticket, ticket_len);
  mt_w_end(&w, t, 2);
  mt_w_u16(&w, 0);
  mt_w_u16(&w, SESSION_LIFETIME);
  mt_w_u16(&w, 0); /* age_add */
  mt_w_u16(&w, 0);
  uint64_t received = (uint64_t)mt_now_ms() - 1000;
  for (int shift = 48; shift >= 0; shift -= 16) mt_w_u16(&w, (uint16_t)(received >> shift));
  t = mt_w_begin(&w, 1);
  mt_w_bytes(&w, s->server_name, strlen(s->server_name));
  mt_w_end(&w, t, 1);
  t = mt_w_begin(&w, 3);
  mt_w_bytes(&w, server_chain.p, server_chain.len);
  mt_w_end(&w, t, 3);
  mutls_conn *c = fz_client_new(s, h, NULL);
  if (mt_w_failed(&w) || mutls_conn_set_session(c, w.buf, w.len) != MUTLS_OK) {
    fprintf(stderr, "fuzz_ticket: the client refused the harness's session\n");
    abort();
  }
  mt_w_free(&w);
  return c;
}

static int completed(const mutls_conn *c) {
  return mutls_conn_handshake_done(c) && mutls_conn_error(c) == MUTLS_E_NONE;
}

/* The second self-check: the session c received resumes a fresh pair. */
static void check_reissued(const fz_scenario *s, const mutls_conn *c) {
  int n = mutls_conn_get_session(c, NULL, 0);
  uint8_t *blob = n > 0 ? malloc((size_t)n) : NULL;
  fz_hook ch, sh;
  if (!blob || mutls_conn_get_session(c, blob, (size_t)n) != n) {
    fprintf(stderr, "fuzz_ticket: the handshake completed without a ticket\n");
    abort();
  }
  mutls_conn *c2 = fz_client_new(s, &ch, NULL), *s2 = fz_server_new(s, &sh, NULL);
  if (mutls_conn_set_session(c2, blob, (size_t)n) != MUTLS_OK) {
    fprintf(stderr, "fuzz_ticket: the client refused its own session\n");
    abort();
  }
  fz_converse(c2, s2);
  if (!completed(c2) || !completed(s2) || !mutls_conn_resumed(c2) || !mutls_conn_resumed(s2)) {
    fprintf(stderr, "fuzz_ticket: the server's own ticket did not resume: %s; %s\n",
            mutls_conn_explain(s2), mutls_conn_notice(s2));
    abort();
  }
  free(blob);
  mutls_conn_free(c2);
  mutls_conn_free(s2);
}

/* The third self-check: a single-use ticket that resumed does not again. */
static void check_replay(const fz_scenario *s, uint16_t suite, const uint8_t *ticket,
                         size_t len) {
  fz_hook ch, sh;
  mutls_conn *c = client_offering(s, &ch, suite, ticket, len), *sv = fz_server_new(s, &sh, NULL);
  fz_converse(c, sv);
  if (mutls_conn_resumed(sv)) {
    fprintf(stderr, "fuzz_ticket: a single-use ticket resumed twice\n");
    abort();
  }
  mutls_conn_free(c);
  mutls_conn_free(sv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const fz_scenario *s = fz_ticket_scenario();
  mt_writer ticket;
  fz_hook ch, sh;
  if (size < 1) return 0;
  fz_ticket_server_fresh(data[0] & 4);
  size_t n = size - 1;
  uint8_t *pt = malloc(n ? n : 1);
  if (!pt) return 0;
  memcpy(pt, data + 1, n);
  fix_up(pt, n, data[0]);
  /* Larger than a PSK identity can be: nothing to offer. */
  mt_w_init(&ticket, 0xffff);
  if (mt_ticket_seal(s->server, pt, n, &ticket) != 0) goto out;
  uint16_t suite = n >= 3 ? (uint16_t)(pt[1] << 8 | pt[2]) : 0;
  if (!mt_suite_by_id(suite)) suite = TLS_AES_128_GCM_SHA256;

  mutls_conn *c = client_offering(s, &ch, suite, ticket.buf, ticket.len);
  mutls_conn *sv = fz_server_new(s, &sh, NULL);
  fz_converse(c, sv);
  int resumed = mutls_conn_resumed(sv), done = completed(c) && completed(sv);
  fz_touch(c);
  fz_touch(sv);
  if (!resumed && is_canonical(pt, n, data[0])) {
    fprintf(stderr, "fuzz_ticket: the canonical ticket did not resume: %s; %s\n",
            mutls_conn_explain(sv), mutls_conn_notice(sv));
    abort();
  }
  if (done) check_reissued(s, c);
  if (resumed && (data[0] & 4)) check_replay(s, suite, ticket.buf, ticket.len);
  if (getenv("FUZZ_VERBOSE")) {
    mt_chain_cache_stats_t st;
    mt_chain_cache_stats(s->server, &st);
    fprintf(stderr, "server's chain cache: %lu misses, %lu hits, %lu verified again\n", st.misses,
            st.hits, st.reverified);
  }
  mutls_conn_free(c);
  mutls_conn_free(sv);
out:
  mt_w_free(&ticket);
  free(pt);
  return 0;
}
