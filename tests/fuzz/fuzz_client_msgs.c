/* fuzz_client_msgs.c - the client's handshake parsers behind the AEAD:
 * EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
 * Finished, then NewSessionTicket and KeyUpdate.
 *
 * A client is brought honestly to the point where it waits for
 * EncryptedExtensions (the recorded, deterministic server stream of the
 * scenario is fed record by record up to there, HelloRetryRequest included),
 * then the input's handshake messages go straight to mt_client_handle.
 *
 * Input: a scenario byte (modulo FZ_N_SCENARIOS), then handshake messages:
 * type (1 byte), length (3 bytes; clamped to what is left), body. Seeds are
 * the server's own messages of an honest run, so they verify to the end. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fz_buf server_stream[FZ_N_SCENARIOS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_init();
  for (unsigned i = 0; i < FZ_N_SCENARIOS; i++)
    if (fz_honest(fz_scenario_at(i), NULL, &server_stream[i], NULL, NULL, NULL) != 0) exit(2);
  return 0;
}

static int before_ee(const mutls_conn *c) { return c->state == ST_C_WAIT_SH; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_hook h;
  if (size < 1) return 0;
  unsigned k = data[0] % FZ_N_SCENARIOS;
  mutls_conn *c = fz_client_new(fz_scenario_at(k), &h, NULL);
  fz_drain(c, NULL);
  fz_feed_records_while(c, server_stream[k].p, server_stream[k].len, before_ee);
  if (c->state != ST_C_WAIT_EE) {
    fprintf(stderr, "fuzz_client_msgs: scenario %u did not reach WAIT_EE: %s\n", k,
            mutls_conn_explain(c));
    abort();
  }
  fz_drain(c, NULL);
  fz_handle_messages(c, data + 1, size - 1);
  fz_touch(c);
  mutls_conn_free(c);
  return 0;
}
