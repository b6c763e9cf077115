/* fuzz_server_recv.c - a fresh server fed the input as the client's bytes.
 *
 * Input: fz_recv_input (scenario, chunk sizes, then the client's bytes).
 * The server answers as it goes (its output is drained after each chunk).
 * Seeds are whole client streams of honest runs: with every random value
 * injected they decrypt, so mutations of the ClientHello and of the
 * records' framing reach the server's state machine; past the first flight
 * only unmutated records get through the AEAD (fuzz_server_msgs goes on
 * from there). */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_recv_input in;
  fz_hook h;
  if (fz_recv_input_parse(data, size, &in) != 0) return 0;
  mutls_conn *c = fz_server_new(in.s, &h, NULL);
  fz_feed(c, in.data, in.len, in.chunks, in.n_chunks, NULL);
  fz_touch(c);
  mutls_conn_free(c);
  return 0;
}
