/* fuzz_server_msgs.c - the server's handshake parsers after the first
 * ClientHello: the second ClientHello (after HelloRetryRequest), the
 * client's Finished (and Certificate and CertificateVerify once client
 * authentication exists), then KeyUpdate and what may not come.
 *
 * A server is given the scenario's first ClientHello (recorded from an
 * honest, deterministic run), which leaves it waiting for the second
 * ClientHello or for the client's Finished; then the input's handshake
 * messages go straight to mt_server_handle.
 *
 * Input: a scenario byte (modulo FZ_N_SCENARIOS), then handshake messages:
 * type (1 byte), length (3 bytes; clamped to what is left), body. Seeds are
 * the client's own messages of an honest run, so they verify to the end. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fz_buf client_stream[FZ_N_SCENARIOS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_init();
  for (unsigned i = 0; i < FZ_N_SCENARIOS; i++)
    if (fz_honest(fz_scenario_at(i), &client_stream[i], NULL, NULL, NULL, NULL) != 0) exit(2);
  return 0;
}

static int before_hello(const mutls_conn *c) { return c->state == ST_S_WAIT_CH; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_hook h;
  if (size < 1) return 0;
  unsigned k = data[0] % FZ_N_SCENARIOS;
  mutls_conn *c = fz_server_new(fz_scenario_at(k), &h, NULL);
  fz_feed_records_while(c, client_stream[k].p, client_stream[k].len, before_hello);
  if (c->state == ST_S_WAIT_CH || c->state == ST_FAILED) {
    fprintf(stderr, "fuzz_server_msgs: scenario %u: the first ClientHello failed: %s\n", k,
            mutls_conn_explain(c));
    abort();
  }
  fz_drain(c, NULL);
  fz_handle_messages(c, data + 1, size - 1);
  fz_touch(c);
  mutls_conn_free(c);
  return 0;
}
