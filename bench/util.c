/* util.c - clocks, in-memory wires, heap accounting, failures. */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

const char *const bench_suite_iana[N_SUITES] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                                "TLS_CHACHA20_POLY1305_SHA256"};
const char *const bench_suite_short[N_SUITES] = {"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"};
const char *const bench_suite_evp[N_SUITES] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

int bench_wire_init(bench_wire *w, size_t cap) {
  w->buf = malloc(cap);
  w->cap = w->buf ? cap : 0;
  w->len = w->off = 0;
  return w->buf ? 0 : bench_fail("out of memory for a %zu-byte wire", cap);
}

void bench_wire_free(bench_wire *w) {
  free(w->buf);
  memset(w, 0, sizeof *w);
}

void bench_wire_compact(bench_wire *w) {
  if (w->off == w->len) w->off = w->len = 0;
}

static double seconds_of(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_now(void) {
  return seconds_of(CLOCK_MONOTONIC);
}
double bench_thread_cpu(void) {
  return seconds_of(CLOCK_THREAD_CPUTIME_ID);
}

double bench_heap_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  return (double)mi.uordblks + (double)mi.hblkhd;
}

int bench_fail(const char *fmt, ...) {
  va_list ap;
  fputs("mutls-bench: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return -1;
}

int bench_mutls_sid_len = -1, bench_openssl_sid_len = -1;

int bench_hello_session_id_len(const bench_wire *w) {
  /* record header (5), handshake header (4), legacy_version (2), random (32) */
  const size_t at = 5 + 4 + 2 + 32;
  const uint8_t *p = w->buf + w->off;
  if (w->len - w->off <= at || p[0] != 22 || p[5] != 1) return -1;
  return p[at];
}
