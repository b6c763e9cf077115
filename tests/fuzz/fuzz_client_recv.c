/* fuzz_client_recv.c - a fresh client, its ClientHello sent, then fed the
 * input as the server's bytes.
 *
 * Input: fz_recv_input (scenario, chunk sizes, then the server's bytes).
 * Seeds are whole server streams of honest runs (and one from openssl
 * s_server, answering our injected ClientHello): they decrypt and verify,
 * so a seed completes the handshake and reaches application data,
 * NewSessionTicket, KeyUpdate and close_notify. */
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
  mutls_conn *c = fz_client_new(in.s, &h, NULL);
  fz_drain(c, NULL); /* the ClientHello */
  fz_feed(c, in.data, in.len, in.chunks, in.n_chunks, NULL);
  fz_touch(c);
  mutls_conn_free(c);
  return 0;
}
