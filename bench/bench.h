/*
 * bench.h - mutls beside OpenSSL's libssl, same machine, same run.
 *
 * The benchmark drives each library through the same scenarios with client
 * and server in one process, talking over memory (bench_wire), and reports
 * the medians side by side with the cost of the bare libcrypto operations
 * (the "floor"). Files:
 *   bench.c        options, pinning, certificates, the order of the runs
 *   run_mutls.c    the scenarios through mutls's sans-I/O API
 *   run_openssl.c  the same scenarios through libssl
 *   floor.c        the same public-key and AEAD operations, libcrypto alone
 *   report.c       series, medians, the table and the machine-readable lines
 *   util.c         clocks, wires, heap accounting, failures
 *   alloc.c        the allocation counter (malloc, calloc, realloc wrapped)
 *   profile.sh     perf, callgrind, gdb and massif profiles of one scenario
 * docs/PERFORMANCE.md has the numbers and how to read them.
 */
#ifndef MUTLS_BENCH_H
#define MUTLS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_REPS 64

/* ---- settings shared by both libraries ------------------------------------- */
typedef enum { SUITE_AES_128_GCM = 0, SUITE_AES_256_GCM, SUITE_CHACHA20, N_SUITES } bench_suite;
/* IANA names ("TLS_AES_128_GCM_SHA256"), short names for scenario keys
 * ("aes-128-gcm"), and libcrypto cipher names ("AES-128-GCM"). */
extern const char *const bench_suite_iana[N_SUITES];
extern const char *const bench_suite_short[N_SUITES];
extern const char *const bench_suite_evp[N_SUITES];

/* The server name both clients check and send as SNI. */
#define BENCH_SERVER_NAME "localhost"

/* Room for a certificate path: a directory of up to PATH_MAX and a file name. */
#define BENCH_PATH (4096 + 64)

typedef struct {
  char ca[BENCH_PATH];          /* P-256 root: trusts both leaves */
  char server_cert[BENCH_PATH]; /* ECDSA P-256 leaf, CN=localhost */
  char server_key[BENCH_PATH];
  char client_cert[BENCH_PATH]; /* ECDSA P-256 client leaf */
  char client_key[BENCH_PATH];
} bench_certs;

typedef struct {
  bench_suite suite;
  int mutual;          /* the server requires and verifies a client certificate */
  /* Idle buffers freed as they empty: mutls_config_set_release_buffers,
   * libssl SSL_MODE_RELEASE_BUFFERS. */
  int release_buffers;
  int resume;          /* one ticket per handshake, offered by the next connection */
  /* mutls only: the verified-chain cache on (warm: the default) or off
   * (cold: every peer certificate parsed and verified in every handshake).
   * libssl has no such cache; its runs are the same either way. */
  int chain_cache;
  /* mutls only, bulk: the receiver reads in place with mutls_conn_peek and
   * mutls_conn_consume instead of copying out with mutls_conn_read. libssl
   * has no zero-copy read; it always runs SSL_read. */
  int zero_copy_read;
} bench_setup;

/* ---- what a run measures ----------------------------------------------------- */
/* What one side's calls cost: seconds of this thread's CPU time and heap
 * allocations. Charged with bench_mark(c) before the calls and
 * bench_charge(c, mark) after. */
typedef struct {
  double cpu;
  unsigned long allocs;
} bench_cost;

typedef struct {
  long n;                    /* handshakes completed */
  double wall;               /* seconds, monotonic clock */
  double cpu;                /* seconds of this thread's CPU time, the whole run */
  bench_cost client, server; /* the part of it spent in each side's calls */
  long parsed;               /* mutls only: peer certificates run through d2i_X509 */
} bench_hs_result;

typedef struct {
  double steady; /* heap bytes per connection end once established and idle */
  double peak;   /* the most, per end, at any lockstep step of the handshake */
} bench_mem_result;

/* One library behind the same five calls. Every call returns 0, or -1 after
 * printing why to stderr. */
typedef struct {
  const char *name;
  void *(*setup)(const bench_certs *certs, const bench_setup *s);
  void (*teardown)(void *lib);
  /* n full handshakes, one pair at a time: new client and server, handshake,
   * free. The first one is checked (suite, group, peer verified). split: 1
   * to charge each side's calls to out->client and out->server (two clock
   * system calls around each of them, whose cost lands in out->cpu too); 0
   * to time the whole run alone. */
  int (*handshakes)(void *lib, long n, int split, bench_hs_result *out);
  /* n resumed handshakes (setup with resume): each client offers the ticket
   * the previous connection got and takes in the next one (its cost is the
   * client's). An untimed full handshake first provides the first ticket. */
  int (*resumed)(void *lib, long n, int split, bench_hs_result *out);
  /* One connection; then total bytes in chunk-sized writes from the client to
   * the server (or back, if s2c), each chunk read on the other side before
   * the next is written. *cpu and *wall: seconds of the transfer alone, on
   * this thread's CPU clock and on the monotonic clock. */
  int (*bulk)(void *lib, size_t total, size_t chunk, int s2c, double *cpu, double *wall);
  /* pairs connections through the handshake in lockstep (every pair one step
   * at a time), then a 64-byte exchange each way, then held open. */
  int (*memory)(void *lib, size_t pairs, bench_mem_result *out);
} bench_lib;

extern const bench_lib bench_mutls;
extern const bench_lib bench_openssl;

/* ---- the floor (floor.c) -------------------------------------------------------- */
typedef struct {
  double kex_us;    /* one X25519 keygen + import of the peer's share + derive */
  double sign_us;   /* one ECDSA P-256 signature (prehashed SHA-256) */
  double verify_us; /* one ECDSA P-256 verification */
} bench_floor_pk;

int bench_floor_pk_measure(long iters, bench_floor_pk *out);
/* What every cold handshake pays for each peer certificate, in either
 * library, before any TLS: libcrypto's d2i_X509 of a P-256 leaf, and
 * X509_verify_cert of it against a store holding its CA (one ECDSA
 * verification included). Not part of the floor: it is there to say how
 * much of a cold handshake no TLS library on this libcrypto can avoid. */
typedef struct {
  double parse_us;
  double verify_us;
} bench_floor_cert;

int bench_floor_cert_measure(const bench_certs *k, long iters, bench_floor_cert *out);
/* Microseconds to seal, and to open, one 16 KiB record of the suite's AEAD. */
int bench_floor_aead_measure(bench_suite suite, size_t len, long iters, double *seal_us,
                             double *open_us);

/* ---- wires (util.c) --------------------------------------------------------------- */
/* One direction of an in-memory link: bytes written by one side and not yet
 * read by the other are buf[off..len). */
typedef struct {
  uint8_t *buf;
  size_t cap, len, off;
} bench_wire;

int bench_wire_init(bench_wire *w, size_t cap);
void bench_wire_free(bench_wire *w);
/* Everything was read: start again at the front. */
void bench_wire_compact(bench_wire *w);

/* The legacy_session_id length in a client's first flight on w (32 means
 * middlebox compatibility mode, 0 means off), or -1 if w holds no
 * ClientHello record at its front. */
int bench_hello_session_id_len(const bench_wire *w);
/* What each library's client sent in its first ClientHello of the run. */
extern int bench_mutls_sid_len, bench_openssl_sid_len;

/* ---- clocks, heap, failures (util.c) --------------------------------------------- */
double bench_now(void);        /* CLOCK_MONOTONIC, seconds */
double bench_thread_cpu(void); /* CLOCK_THREAD_CPUTIME_ID, seconds */
/* Bytes the allocator has handed out and not taken back (mallinfo2: arena
 * chunks in use plus mmapped chunks). */
double bench_heap_bytes(void);
/* Prints "mutls-bench: <msg>" to stderr and returns -1. */
int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- allocations (alloc.c) -------------------------------------------------------- */
/* 1 if allocations are counted (not under AddressSanitizer). */
int bench_allocs_counted(void);
/* malloc, calloc and realloc calls so far, by anyone in the process. */
unsigned long bench_allocs(void);

/* A mark to charge c from later; with c NULL, nothing is read (no clock
 * system call: a run that splits nothing pays nothing for it). */
static inline bench_cost bench_mark(const bench_cost *c) {
  bench_cost m = {0, 0};
  if (c) {
    m.cpu = bench_thread_cpu();
    m.allocs = bench_allocs();
  }
  return m;
}
/* Adds what was spent since mark to c (c may be NULL). */
static inline void bench_charge(bench_cost *c, bench_cost mark) {
  if (!c) return;
  c->cpu += bench_thread_cpu() - mark.cpu;
  c->allocs += bench_allocs() - mark.allocs;
}

/* ---- results (report.c) ------------------------------------------------------------ */
typedef struct {
  double v[BENCH_MAX_REPS];
  int n;
} bench_series;

void bench_series_add(bench_series *s, double v);
double bench_series_median(const bench_series *s);
double bench_series_min(const bench_series *s);
double bench_series_max(const bench_series *s);

/* One line of the table: a scenario and one statistic of it. A library's
 * series may be empty ("n/a"); the floor's series is empty when the
 * statistic has none. Ratios are mutls / openssl, per repetition. */
typedef struct {
  char scenario[40];
  char stat[24];
  const char *unit; /* "hs/s", "us", "MB/s", "bytes", "allocs" */
  int higher_is_better;
  bench_series mutls, openssl, floor;
} bench_row;

bench_row *bench_row_add(const char *scenario, const char *stat, const char *unit,
                         int higher_is_better);
void bench_report_table(void);
void bench_report_lines(void);

#endif
