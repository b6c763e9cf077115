/* tu.h - shared helpers for the C tests: a throwaway PKI and an in-memory
 * pipe between two connections. */
#ifndef MUTLS_TEST_TU_H
#define MUTLS_TEST_TU_H

#include <stddef.h>

#include "mutls.h"

/* A directory holding the certificates of tests/lib.sh's make_certs, made
 * once per process and removed at exit. */
const char *tu_certs(void);
/* Path of a file in that directory (static buffer, rotating). */
const char *tu_path(const char *name);
/* A server config with the given leaf ("p256", "p384", "rsa", "ed25519",
 * ...), or NULL (message on stderr). */
mutls_config *tu_server_config(const char *leaf);
/* A client config trusting ca.pem. */
mutls_config *tu_client_config(void);
/* Moves ciphertext between a and b until neither has anything to say.
 * Returns 0 when both handshakes completed, -1 otherwise. */
int tu_pump(mutls_conn *a, mutls_conn *b);
/* One step: moves what from has pending into to. Returns bytes moved. */
size_t tu_move(mutls_conn *from, mutls_conn *to);

/* A server and a client connection and their configs. */
typedef struct {
  mutls_config *sc, *cc;
  mutls_conn *s, *c;
} tu_pair;
/* Frees both connections, then both configs. */
void tu_pair_free(tu_pair *p);

#endif
