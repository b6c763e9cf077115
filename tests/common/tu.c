/* tu.c - see tu.h. */
#include "tu.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];

static void cleanup(void) {
  char cmd[300];
  if (!dir[0]) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

const char *tu_certs(void) {
  if (dir[0]) return dir;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(dir, sizeof dir, "%s/mutls-test-XXXXXX", tmp);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    exit(2);
  }
  atexit(cleanup);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "bash -c '. tests/lib.sh && make_certs \"%s\"' >&2", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "make_certs failed (run the tests from the repository root)\n");
    exit(2);
  }
  return dir;
}

const char *tu_path(const char *name) {
  static char bufs[8][512];
  static int i;
  char *b = bufs[i++ % 8];
  snprintf(b, 512, "%s/%s", tu_certs(), name);
  return b;
}

mutls_config *tu_server_config(const char *leaf) {
  char pem[64], key[64];
  snprintf(pem, sizeof pem, "server-%s.pem", leaf);
  snprintf(key, sizeof key, "server-%s.key", leaf);
  mutls_config *cfg = mutls_config_new();
  if (cfg && mutls_config_set_identity_files(cfg, tu_path(pem), tu_path(key)) != MUTLS_OK) {
    fprintf(stderr, "server config: %s\n", mutls_config_error(cfg));
    mutls_config_free(cfg);
    return NULL;
  }
  return cfg;
}

mutls_config *tu_client_config(void) {
  mutls_config *cfg = mutls_config_new();
  if (cfg && mutls_config_set_trust_file(cfg, tu_path("ca.pem")) != MUTLS_OK) {
    fprintf(stderr, "client config: %s\n", mutls_config_error(cfg));
    mutls_config_free(cfg);
    return NULL;
  }
  return cfg;
}

size_t tu_move(mutls_conn *from, mutls_conn *to) {
  uint8_t buf[4096];
  size_t total = 0, n, used;
  while (mutls_conn_send(from, buf, sizeof buf, &n) == MUTLS_OK && n > 0) {
    size_t off = 0;
    total += n;
    while (off < n) {
      if (mutls_conn_recv(to, buf + off, n - off, &used) != MUTLS_OK) return total;
      if (used == 0) { /* application data waits: drain it */
        uint8_t sink[4096];
        if (mutls_conn_read(to, sink, sizeof sink) <= 0) return total;
      }
      off += used;
    }
  }
  return total;
}

int tu_pump(mutls_conn *a, mutls_conn *b) {
  for (int i = 0; i < 50; i++) {
    size_t moved = tu_move(a, b) + tu_move(b, a);
    if (mutls_conn_handshake_done(a) && mutls_conn_handshake_done(b)) return 0;
    if (moved == 0) break;
  }
  return mutls_conn_handshake_done(a) && mutls_conn_handshake_done(b) ? 0 : -1;
}

void tu_pair_free(tu_pair *p) {
  mutls_conn_free(p->c);
  mutls_conn_free(p->s);
  mutls_config_free(p->cc);
  mutls_config_free(p->sc);
}
