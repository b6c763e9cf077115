/*
 * bench.c - mutls-bench: mutls beside OpenSSL's libssl in one run.
 *
 * Each scenario runs through mutls and through libssl (same libcrypto, same
 * certificates, same settings), client and server in this one process over
 * memory, on one pinned CPU, repeated and interleaved (mutls, libssl, floor,
 * mutls, libssl, floor, ...). Progress goes to stderr; the results (settings,
 * a table, one `bench ...` line per row) go to stdout at the end.
 *
 *   mutls-bench              the full run (make bench)
 *   mutls-bench --quick      a smoke run of a few seconds
 *   mutls-bench --help       every option
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "mutls.h"

#define CHUNK 16384

typedef struct {
  int quick, reps, pin;
  double scale;
  long handshakes, pairs, pk_iters, aead_iters;
  long warmup; /* untimed handshakes before the repetitions; -1: handshakes / 20, at least 5 */
  size_t bulk_bytes;
  int use[2]; /* mutls, openssl */
  const char *scenarios;
  const char *certs;
} options;

static options opt;
static const bench_lib *const libs[2] = {&bench_mutls, &bench_openssl};
static char pin_note[160];
static char repo_root[PATH_MAX];
static int busy_reps, total_reps;
static bench_floor_pk floor_pk_last;
static bench_floor_cert floor_cert;
static double floor_seal_us[N_SUITES], floor_open_us[N_SUITES];

/* ---- certificates: made at startup in a temp dir, removed at exit ------------------- */
static char cert_dir[PATH_MAX];
static int cert_dir_ours;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
  return remove(path);
}

static void remove_certs(void) {
  if (cert_dir_ours && cert_dir[0]) nftw(cert_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  cert_dir_ours = 0;
}

static void on_signal(int sig) {
  remove_certs();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* tests/lib.sh, from the working directory (the repository root, as make
 * runs us) or next to the binary (build/mutls-bench -> ../tests/lib.sh). */
static int find_lib_sh(char *out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n;
  if (access("tests/lib.sh", R_OK) == 0 && realpath("tests/lib.sh", out)) return 0;
  if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
    exe[n] = 0;
    snprintf(out, cap, "%s/../tests/lib.sh", dirname(exe));
    if (access(out, R_OK) == 0) return 0;
  }
  return bench_fail("cannot find tests/lib.sh: run from the repository root, or pass --certs DIR");
}

/* Runs make_certs DIR from tests/lib.sh (the openssl CLI); its chatter goes
 * to DIR/make_certs.log, shown only if it fails. */
static int make_certs(const char *lib_sh, const char *dir) {
  char log[PATH_MAX + 32];
  snprintf(log, sizeof log, "%s/make_certs.log", dir);
  pid_t pid = fork();
  if (pid < 0) return bench_fail("fork: %s", strerror(errno));
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execlp("bash", "bash", "-c", ". \"$0\" && make_certs \"$1\"", lib_sh, dir, (char *)NULL);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  FILE *f = fopen(log, "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    fprintf(stderr, "  | %s", line);
  if (f) fclose(f);
  return bench_fail("make_certs failed (is the openssl CLI installed?)");
}

static int prepare_certs(bench_certs *k) {
  char lib_sh[PATH_MAX];
  if (opt.certs) {
    snprintf(cert_dir, sizeof cert_dir, "%s", opt.certs);
  } else {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    if (find_lib_sh(lib_sh, sizeof lib_sh) != 0) return -1;
    snprintf(cert_dir, sizeof cert_dir, "%s/mutls-bench-XXXXXX", tmp);
    if (!mkdtemp(cert_dir)) return bench_fail("mkdtemp %s: %s", cert_dir, strerror(errno));
    cert_dir_ours = 1;
    atexit(remove_certs);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char tmp_path[PATH_MAX];
    snprintf(tmp_path, sizeof tmp_path, "%s", lib_sh);
    snprintf(repo_root, sizeof repo_root, "%s", dirname(dirname(tmp_path)));
    if (make_certs(lib_sh, cert_dir) != 0) return -1;
  }
  snprintf(k->ca, sizeof k->ca, "%s/ca.pem", cert_dir);
  snprintf(k->server_cert, sizeof k->server_cert, "%s/server-p256.pem", cert_dir);
  snprintf(k->server_key, sizeof k->server_key, "%s/server-p256.key", cert_dir);
  snprintf(k->client_cert, sizeof k->client_cert, "%s/client.pem", cert_dir);
  snprintf(k->client_key, sizeof k->client_key, "%s/client.key", cert_dir);
  return 0;
}

/* ---- pinning ---------------------------------------------------------------------- */
static void pin(void) {
  cpu_set_t allowed, one;
  if (!opt.pin) {
    snprintf(pin_note, sizeof pin_note, "not pinned (--no-pin)");
    return;
  }
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_ZERO(&allowed);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed))
    cpu++;
  if (cpu == CPU_SETSIZE) cpu = 0;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) == 0)
    snprintf(pin_note, sizeof pin_note,
             "pinned to CPU %d with sched_setaffinity() from inside the process", cpu);
  else
    snprintf(pin_note, sizeof pin_note, "not pinned: sched_setaffinity failed: %s",
             strerror(errno));
}

/* ---- scenarios --------------------------------------------------------------------- */
static const char *const scenario_names[] = {
    "full-server",    "full-server-warm", "full-mutual", "full-mutual-warm", "resumed-server",
    "resumed-mutual", "resumed-mutual-warm", "bulk",     "memory"};
#define N_SCENARIOS (sizeof scenario_names / sizeof scenario_names[0])

/* Every name in the -s list is a scenario; else one sentence and exit 2. */
static void check_scenarios(const char *list) {
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ","), i = 0;
    while (i < N_SCENARIOS &&
           !(strlen(scenario_names[i]) == n && strncmp(scenario_names[i], p, n) == 0))
      i++;
    if (i == N_SCENARIOS) {
      fprintf(stderr, "mutls-bench: unknown scenario '%.*s' (see --help for the list)\n",
              (int)n, p);
      exit(2);
    }
    p += n + (p[n] == ',');
  }
}

static int wanted(const char *name) {
  if (!opt.scenarios) return 1;
  size_t n = strlen(name);
  for (const char *p = opt.scenarios; (p = strstr(p, name)) != NULL; p += n)
    if ((p == opt.scenarios || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
  return 0;
}

static void setup_libs(void *lib[2], const bench_certs *k, const bench_setup *s) {
  for (int i = 0; i < 2; i++) {
    lib[i] = NULL;
    if (opt.use[i] && !(lib[i] = libs[i]->setup(k, s))) {
      bench_fail("%s setup failed", libs[i]->name);
      exit(1);
    }
  }
}

static void teardown_libs(void *lib[2]) {
  for (int i = 0; i < 2; i++)
    if (lib[i]) libs[i]->teardown(lib[i]);
}

/* Rates are per second of this thread's CPU time, so that other load on the
 * machine (preemption) does not count against either library; the wall clock
 * says whether there was such load. */
static void note_busy(double wall, double cpu) {
  total_reps++;
  if (wall > 1.10 * cpu) busy_reps++;
}

static bench_series *side(bench_row *r, int i) {
  return i == 0 ? &r->mutls : &r->openssl;
}

static void measure_floor_pk(void) {
  if (bench_floor_pk_measure(opt.pk_iters, &floor_pk_last) != 0) exit(1);
}

/* n handshakes of library i: full, or (resumed) each resuming a ticket. */
static int run_hs(int i, void *lib, int resumed, long n, int split, bench_hs_result *res) {
  return (resumed ? libs[i]->resumed : libs[i]->handshakes)(lib, n, split, res);
}

/* Handshakes/s, CPU microseconds and allocations per handshake on each
 * side: full handshakes, or (resumed) handshakes that resume a ticket. */
static void run_handshakes(const bench_certs *k, const char *name, int mutual, int resumed,
                           int chain_cache) {
  bench_setup s = {
      .suite = SUITE_AES_128_GCM, .mutual = mutual, .resume = resumed, .chain_cache = chain_cache};
  void *lib[2];
  setup_libs(lib, k, &s);
  bench_row *rate = bench_row_add(name, "rate", "hs/s", 1);
  bench_row *cc = bench_row_add(name, "cpu-client", "us", 0);
  bench_row *cs = bench_row_add(name, "cpu-server", "us", 0);
  bench_row *ct = bench_row_add(name, "cpu-total", "us", 0);
  bench_row *ac = bench_allocs_counted() ? bench_row_add(name, "allocs-client", "allocs", 0) : NULL;
  bench_row *as = bench_allocs_counted() ? bench_row_add(name, "allocs-server", "allocs", 0) : NULL;
  bench_row *pc = bench_row_add(name, "certs-parsed", "certs", 0); /* mutls only */
  long warm = opt.warmup >= 0 ? opt.warmup : opt.handshakes / 20 > 5 ? opt.handshakes / 20 : 5;
  for (int i = 0; warm > 0 && i < 2; i++) {
    bench_hs_result res;
    if (lib[i] && run_hs(i, lib[i], resumed, warm, 0, &res) != 0) exit(1);
  }
  for (int r = 0; r < opt.reps; r++) {
    fprintf(stderr, "[%s %d/%d]", name, r + 1, opt.reps);
    /* The rate and the total come from runs that read no clock but at
     * their ends; the split between the sides, and the allocations, from
     * runs of the same length that read the CPU clock around each side's
     * calls. Those reads are system calls (about 1.4 us each, some 16 per
     * handshake): left in, they would add the same time to both libraries
     * and pull every ratio towards 1. */
    for (int split = 0; split < 2; split++)
      for (int i = 0; i < 2; i++) {
        bench_hs_result res;
        if (!lib[i]) continue;
        if (run_hs(i, lib[i], resumed, opt.handshakes, split, &res) != 0) exit(1);
        double n = (double)res.n;
        note_busy(res.wall, res.cpu);
        if (!split) {
          bench_series_add(side(rate, i), n / res.cpu);
          bench_series_add(side(ct, i), res.cpu * 1e6 / n);
          fprintf(stderr, " %s %.0f hs/s", libs[i]->name, n / res.cpu);
          continue;
        }
        bench_series_add(side(cc, i), res.client.cpu * 1e6 / n);
        bench_series_add(side(cs, i), res.server.cpu * 1e6 / n);
        if (ac) bench_series_add(side(ac, i), (double)res.client.allocs / n);
        if (as) bench_series_add(side(as, i), (double)res.server.allocs / n);
        if (i == 0) bench_series_add(&pc->mutls, (double)res.parsed / n);
      }
    /* RFC 8446 in numbers: each side one X25519 exchange; in a full
     * handshake the server signs its CertificateVerify and the client checks
     * it and the signature on the server's leaf; with client auth the same
     * again the other way. A resumed handshake (psk_dhe_ke) signs nothing. */
    measure_floor_pk();
    const bench_floor_pk *f = &floor_pk_last;
    double client = f->kex_us, server = f->kex_us;
    if (!resumed) {
      client += 2 * f->verify_us + (mutual ? f->sign_us : 0);
      server += f->sign_us + (mutual ? 2 * f->verify_us : 0);
    }
    bench_series_add(&rate->floor, 1e6 / (client + server));
    bench_series_add(&cc->floor, client);
    bench_series_add(&cs->floor, server);
    bench_series_add(&ct->floor, client + server);
    fprintf(stderr, " floor %.0f hs/s\n", 1e6 / (client + server));
  }
  teardown_libs(lib);
}

/* One bulk run of library i (0 mutls, 1 libssl) in direction dir: MB/s
 * (10^6 bytes per second of CPU time). label names it on stderr. */
static double bulk_once(void *lib, int i, size_t total, int dir, const char *label) {
  double cpu, wall;
  if (libs[i]->bulk(lib, total, CHUNK, dir, &cpu, &wall) != 0) exit(1);
  note_busy(wall, cpu);
  fprintf(stderr, " %s %s %.0f MB/s", dir ? "s2c" : "c2s", label, (double)total / cpu / 1e6);
  return (double)total / cpu / 1e6;
}

/* MB/s moving opt.bulk_bytes in 16 KiB writes, each direction, each suite.
 * bulk-<suite>: mutls_conn_write/send and mutls_conn_read beside SSL_write and
 * SSL_read. bulk-<suite>-view: a second mutls connection whose sender seals
 * onto the wire (mutls_conn_write_into) and whose receiver uses
 * mutls_conn_peek/mutls_conn_consume (no copy of ciphertext or plaintext);
 * libssl has no zero-copy calls, so its side of those
 * rows is the SSL_read run of the same repetition. The floor seals and
 * opens the same 16 KiB records. */
static void run_bulk(const bench_certs *k) {
  for (int su = 0; su < N_SUITES; su++) {
    bench_setup s = {.suite = (bench_suite)su, .chain_cache = 1}, sv = s;
    void *lib[2], *view = NULL;
    char name[40], vname[48];
    bench_row *row[2], *vrow[2];
    setup_libs(lib, k, &s);
    sv.zero_copy_read = 1;
    if (lib[0] && !(view = bench_mutls.setup(k, &sv))) {
      bench_fail("mutls setup failed");
      exit(1);
    }
    snprintf(name, sizeof name, "bulk-%s", bench_suite_short[su]);
    snprintf(vname, sizeof vname, "%s-view", name);
    row[0] = bench_row_add(name, "client-to-server", "MB/s", 1);
    row[1] = bench_row_add(name, "server-to-client", "MB/s", 1);
    vrow[0] = view ? bench_row_add(vname, "client-to-server", "MB/s", 1) : NULL;
    vrow[1] = view ? bench_row_add(vname, "server-to-client", "MB/s", 1) : NULL;
    double cpu, wall; /* of the untimed warm-up runs */
    for (int i = 0; i < 2; i++)
      if (lib[i] && libs[i]->bulk(lib[i], (size_t)64 * CHUNK, CHUNK, 0, &cpu, &wall) != 0) exit(1);
    if (view && bench_mutls.bulk(view, (size_t)64 * CHUNK, CHUNK, 0, &cpu, &wall) != 0) exit(1);
    for (int r = 0; r < opt.reps; r++) {
      fprintf(stderr, "[%s %d/%d]", name, r + 1, opt.reps);
      for (int dir = 0; dir < 2; dir++) {
        for (int i = 0; i < 2; i++) {
          if (!lib[i]) continue;
          double mbs = bulk_once(lib[i], i, opt.bulk_bytes, dir, libs[i]->name);
          bench_series_add(side(row[dir], i), mbs);
          if (i == 1 && vrow[dir]) bench_series_add(side(vrow[dir], 1), mbs);
        }
        if (view)
          bench_series_add(&vrow[dir]->mutls, bulk_once(view, 0, opt.bulk_bytes, dir, "mutls-view"));
      }
      double seal_us, open_us;
      if (bench_floor_aead_measure((bench_suite)su, CHUNK, opt.aead_iters, &seal_us, &open_us) != 0)
        exit(1);
      floor_seal_us[su] = seal_us;
      floor_open_us[su] = open_us;
      /* Every byte is sealed once and opened once: bytes per microsecond. */
      double floor = (double)CHUNK / (seal_us + open_us);
      for (int dir = 0; dir < 2; dir++) {
        bench_series_add(&row[dir]->floor, floor);
        if (vrow[dir]) bench_series_add(&vrow[dir]->floor, floor);
      }
      fprintf(stderr, " floor %.0f MB/s\n", floor);
    }
    if (view) bench_mutls.teardown(view);
    teardown_libs(lib);
  }
}

/* One memory run of library i (if set up) into its side of the two rows. */
static void memory_once(void *lib, int i, const char *suffix, bench_row *steady, bench_row *peak) {
  bench_mem_result m;
  if (!lib) return;
  if (libs[i]->memory(lib, (size_t)opt.pairs, &m) != 0) exit(1);
  bench_series_add(side(steady, i), m.steady);
  bench_series_add(side(peak, i), m.peak);
  fprintf(stderr, " %s%s %.0f/%.0f", libs[i]->name, suffix, m.steady, m.peak);
}

/* Heap bytes per connection end: each library as it comes, then with idle
 * buffers released (mutls_config_set_release_buffers, libssl
 * SSL_MODE_RELEASE_BUFFERS). */
static void run_memory(const bench_certs *k) {
  bench_setup s = {.suite = SUITE_AES_128_GCM, .mutual = 1, .chain_cache = 1};
  bench_setup rel = {.suite = SUITE_AES_128_GCM, .mutual = 1, .chain_cache = 1, .release_buffers = 1};
  void *lib[2], *lib_rel[2];
  if (!bench_allocs_counted()) { /* AddressSanitizer: mallinfo2 sees nothing */
    fprintf(stderr, "mutls-bench: memory is not measured under AddressSanitizer\n");
    return;
  }
  setup_libs(lib, k, &s);
  setup_libs(lib_rel, k, &rel);
  bench_row *steady = bench_row_add("memory", "steady", "bytes", 0);
  bench_row *peak = bench_row_add("memory", "peak", "bytes", 0);
  bench_row *steady_rel = bench_row_add("memory", "steady-released", "bytes", 0);
  bench_row *peak_rel = bench_row_add("memory", "peak-released", "bytes", 0);
  /* Warm up: libcrypto fills its caches on first use; keep that out. */
  bench_mem_result m;
  for (int i = 0; i < 2; i++)
    if ((lib[i] && libs[i]->memory(lib[i], 4, &m) != 0) ||
        (lib_rel[i] && libs[i]->memory(lib_rel[i], 4, &m) != 0))
      exit(1);
  for (int r = 0; r < opt.reps; r++) {
    fprintf(stderr, "[memory %d/%d]", r + 1, opt.reps);
    for (int i = 0; i < 2; i++) memory_once(lib[i], i, "", steady, peak);
    for (int i = 0; i < 2; i++) memory_once(lib_rel[i], i, "-released", steady_rel, peak_rel);
    fprintf(stderr, " bytes per end (steady/peak)\n");
  }
  teardown_libs(lib);
  teardown_libs(lib_rel);
}

/* ---- what was measured, where ------------------------------------------------------ */
static void cpu_model(char *out, size_t cap) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  snprintf(out, cap, "unknown");
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) != 0 || !colon) continue;
    colon += 1 + strspn(colon + 1, " \t");
    colon[strcspn(colon, "\n")] = 0;
    snprintf(out, cap, "%s", colon);
    break;
  }
  if (f) fclose(f);
}

static void git_commit(char *out, size_t cap) {
  char cmd[PATH_MAX + 64];
  const char *given = getenv("BENCH_COMMIT");
  snprintf(out, cap, "%s", given && *given ? given : "unknown");
  if (!repo_root[0] || (given && *given)) return;
  snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse --short HEAD 2>/dev/null", repo_root);
  FILE *p = popen(cmd, "r");
  if (!p) return;
  if (fgets(out, (int)cap, p)) out[strcspn(out, "\n")] = 0;
  if (!out[0]) snprintf(out, cap, "unknown");
  pclose(p);
}

/* "key=value" safe: spaces become underscores. */
static void squash(char *s) {
  for (; *s; s++)
    if (*s == ' ' || *s == '\t') *s = '_';
}

static const char *middlebox(int sid_len) {
  if (sid_len < 0) return "not observed";
  return sid_len ? "on (the client sends a 32-byte legacy_session_id; both sides send a "
                   "ChangeCipherSpec)"
                 : "off (the client sends an empty legacy_session_id; no ChangeCipherSpec)";
}

static void report_header(void) {
  char model[256], commit[64], ver[128];
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_model(model, sizeof model);
  git_commit(commit, sizeof commit);
  snprintf(ver, sizeof ver, "%s", OpenSSL_version(OPENSSL_VERSION));
  printf("mutls-bench: mutls %s (commit %s) beside %s libssl, same libcrypto, same run\n",
         MUTLS_VERSION, commit, ver);
  printf("machine: %s, %ld CPUs online; %s\n", model, cpus, pin_note);
  printf("run: %d repetitions, interleaved (mutls, openssl, floor); per repetition %ld "
         "handshakes, %.0f MiB per bulk direction in 16 KiB writes, %ld connection pairs%s\n",
         opt.reps, opt.handshakes, (double)opt.bulk_bytes / (1 << 20), opt.pairs,
         opt.quick ? " (--quick: a smoke run, not a measurement)" : "");
  printf("settings: TLS 1.3 only; handshakes TLS_AES_128_GCM_SHA256, bulk each suite; X25519 "
         "only; ECDSA P-256 leaves signed by a P-256 CA; leaf-only chains (libssl "
         "SSL_MODE_NO_AUTO_CHAIN); the client checks the name \"%s\" and sends it as "
         "SNI; mutual: the server requires a client certificate from the same CA "
         "(mutls MUTLS_CLIENT_AUTH_REQUIRED, libssl "
         "SSL_VERIFY_PEER|SSL_VERIFY_FAIL_IF_NO_PEER_CERT, CA names sent by both)\n",
         BENCH_SERVER_NAME);
  printf("tickets: full-*, bulk and memory send none (mutls mutls_config_set_tickets(0); libssl "
         "SSL_OP_NO_TICKET, num_tickets 0, session cache off); resumed-*: one stateless ticket "
         "per handshake (mutls tickets 1, libssl num_tickets 1), psk_dhe_ke, each connection "
         "offers the ticket the previous one got, and the client's reading of its next ticket "
         "counts as client time\n");
  printf("verified-chain cache (mutls): off in full-server, full-mutual, resumed-server and "
         "resumed-mutual (cold: every peer certificate parsed and verified, or for a resumed "
         "mutls server every ticket's client chain parsed and verified); on, as by default, in "
         "the *-warm scenarios (a hit re-checks time, CRLs and name; allow rules run anyway), "
         "bulk and memory; libssl has no such cache and runs the same in both; certs-parsed = "
         "peer certificates mutls ran through d2i_X509 per handshake, both sides\n");
  printf("middlebox compatibility, each library's default: mutls %s; libssl %s\n",
         middlebox(bench_mutls_sid_len), middlebox(bench_openssl_sid_len));
  printf("transport: client and server in one thread over memory; libssl through a minimal "
         "BIO on the same buffers mutls uses\n");
  printf("reading bulk data: bulk-<suite> rows copy it out (mutls_conn_read beside SSL_read); "
         "bulk-<suite>-view rows run a second mutls connection whose receiver sees each record "
         "in place and marks it read (mutls_conn_peek, mutls_conn_consume: no plaintext copy) "
         "and whose sender seals each record straight onto the wire (mutls_conn_write_into: no "
         "ciphertext copy); libssl has neither, so the openssl column of a -view row is the "
         "SSL_read run of the same repetition (the same numbers as its bulk-<suite> row); each "
         "repetition runs mutls, openssl, mutls with views, then the floor; the bulk-<suite> "
         "rows copy the ciphertext onto the wire (mutls_conn_write, then mutls_conn_send), as "
         "libssl's BIO does\n");
  printf("clocks: hs/s and MB/s are per second of this thread's CPU time "
         "(CLOCK_THREAD_CPUTIME_ID over the whole run), so time the scheduler gives to other "
         "processes counts against neither library; hs/s and cpu-total come from runs that "
         "read no clock in between; cpu-client/cpu-server (and allocs) from a second run of "
         "each, the same clock read around each side's calls (object creation and free "
         "included; each read is a system call, so client + server exceeds cpu-total by the "
         "cost of those reads); floor = the same clock; allocs = malloc+calloc+realloc calls "
         "per handshake in each side's calls%s\n",
         bench_allocs_counted() ? "" : " (not counted under AddressSanitizer)");
  printf("memory: heap bytes per connection end (mallinfo2 deltas, in-flight bytes not "
         "counted), after a mutual handshake in lockstep and 64 bytes each way; peak = the "
         "highest lockstep step; -released = idle buffers released as they empty (mutls "
         "mutls_config_set_release_buffers(cfg, 1) on both configs, libssl "
         "SSL_MODE_RELEASE_BUFFERS on both contexts)\n");
  if (total_reps && busy_reps)
    printf("note: in %d of %d timed runs the wall time exceeded the CPU time by more than "
           "10%%: other processes shared the CPU (caches too), expect more spread\n",
           busy_reps, total_reps);
  printf("floor (libcrypto alone, last repetition): X25519 keygen+derive %.1f us, ECDSA P-256 "
         "sign %.1f us, verify %.1f us",
         floor_pk_last.kex_us, floor_pk_last.sign_us, floor_pk_last.verify_us);
  for (int i = 0; i < N_SUITES; i++)
    if (floor_seal_us[i] > 0)
      printf("; %s 16 KiB seal %.1f us, open %.1f us", bench_suite_short[i], floor_seal_us[i],
             floor_open_us[i]);
  printf("\n");
  printf("certificates (libcrypto alone, no TLS): d2i_X509 of the client's P-256 leaf %.1f us, "
         "X509_verify_cert of it against the CA %.1f us (one ECDSA verification included); a "
         "cold full-mutual handshake pays both for each of its 2 peer certificates, in either "
         "library\n",
         floor_cert.parse_us, floor_cert.verify_us);
  squash(model);
  squash(ver);
  printf("bench-meta mutls=%s commit=%s openssl=%s cpu=%s nproc=%ld pinned=%d reps=%d "
         "handshakes=%ld bulk_bytes=%zu pairs=%ld quick=%d mutls_middlebox=%d "
         "openssl_middlebox=%d busy_reps=%d cert_parse_us=%.1f cert_verify_us=%.1f\n",
         MUTLS_VERSION, commit, ver, model, cpus, strncmp(pin_note, "pinned", 6) == 0, opt.reps,
         opt.handshakes, opt.bulk_bytes, opt.pairs, opt.quick, bench_mutls_sid_len > 0,
         bench_openssl_sid_len > 0, busy_reps, floor_cert.parse_us, floor_cert.verify_us);
}

/* ---- options ----------------------------------------------------------------------- */
static void usage(FILE *f) {
  fprintf(f, "usage: mutls-bench [options]   (run from the repository root)\n"
             "  -q, --quick          a smoke run (seconds): 16 handshakes, 4 MiB bulk, 24 pairs\n"
             "  -r, --reps N         repetitions of each scenario (default 5)\n"
             "  -s, --scenario LIST  comma-separated: full-server, full-mutual, resumed-server,\n"
             "                       resumed-mutual (cold: mutls's verified-chain cache off),\n"
             "                       full-server-warm, full-mutual-warm, resumed-mutual-warm\n"
             "                       (cache on, as by default), bulk (rows bulk-<suite>: write\n"
             "                       and read by copy; bulk-<suite>-view: mutls seals onto\n"
             "                       the wire with mutls_conn_write_into and reads in place\n"
             "                       with mutls_conn_peek/consume), memory (default: all)\n"
             "  -l, --lib NAME       mutls, openssl or both (default both)\n"
             "  -n, --handshakes N   handshakes per repetition (default 1000)\n"
             "  -b, --bulk-mib N     MiB per bulk direction (default 1024)\n"
             "  -p, --pairs N        connection pairs for the memory scenario (default 1000)\n"
             "  -w, --warmup N       untimed handshakes first (default handshakes/20, at least 5;\n"
             "                       2 with --quick)\n"
             "      --certs DIR      use the certificates in DIR (make_certs layout)\n"
             "      --no-pin         do not pin to one CPU\n"
             "environment: BENCH_SCALE=X multiplies handshakes, bulk bytes, pairs and floor\n"
             "iterations (after --quick); BENCH_COMMIT names the commit measured when the tree\n"
             "is not a git checkout; make bench passes BENCH_ARGS.\n");
}

static long scaled(long v, long min) {
  double x = (double)v * opt.scale;
  return x < (double)min ? min : (long)x;
}

static void parse(int argc, char **argv) {
  static const struct option longs[] = {{"quick", no_argument, 0, 'q'},
                                        {"reps", required_argument, 0, 'r'},
                                        {"scenario", required_argument, 0, 's'},
                                        {"lib", required_argument, 0, 'l'},
                                        {"handshakes", required_argument, 0, 'n'},
                                        {"bulk-mib", required_argument, 0, 'b'},
                                        {"pairs", required_argument, 0, 'p'},
                                        {"certs", required_argument, 0, 'C'},
                                        {"no-pin", no_argument, 0, 'P'},
                                        {"help", no_argument, 0, 'h'},
                                        {"warmup", required_argument, 0, 'w'},
                                        {0, 0, 0, 0}};
  long hs = -1, mib = -1, pairs = -1;
  int c;
  opt.reps = 5;
  opt.pin = 1;
  opt.warmup = -1;
  opt.use[0] = opt.use[1] = 1;
  while ((c = getopt_long(argc, argv, "qr:s:l:n:b:p:w:h", longs, NULL)) != -1) {
    switch (c) {
    case 'q': opt.quick = 1; break;
    case 'r': opt.reps = atoi(optarg); break;
    case 's':
      check_scenarios(optarg);
      opt.scenarios = optarg;
      break;
    case 'l':
      if (strcmp(optarg, "mutls") != 0 && strcmp(optarg, "openssl") != 0 &&
          strcmp(optarg, "both") != 0) {
        usage(stderr);
        exit(2);
      }
      opt.use[0] = strcmp(optarg, "openssl") != 0;
      opt.use[1] = strcmp(optarg, "mutls") != 0;
      break;
    case 'n': hs = atol(optarg); break;
    case 'b': mib = atol(optarg); break;
    case 'p': pairs = atol(optarg); break;
    case 'w': opt.warmup = atol(optarg); break;
    case 'C': opt.certs = optarg; break;
    case 'P': opt.pin = 0; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); exit(2);
    }
  }
  if (optind < argc || opt.reps < 1 || opt.reps > BENCH_MAX_REPS) {
    usage(stderr);
    exit(2);
  }
  const char *sc = getenv("BENCH_SCALE");
  opt.scale = sc && *sc ? strtod(sc, NULL) : 1.0;
  if (!(opt.scale > 0)) opt.scale = 1.0;
  /* --quick stays well under 20 s of wall time on a busy 2-CPU machine. */
  long kib = opt.quick ? 4 * 1024 : 1024 * 1024;
  if (mib > 0) kib = mib * 1024;
  opt.handshakes = scaled(hs > 0 ? hs : opt.quick ? 16 : 1000, 1);
  opt.bulk_bytes = (size_t)scaled(kib, 16) << 10;
  opt.pairs = scaled(pairs > 0 ? pairs : opt.quick ? 24 : 1000, 2);
  opt.pk_iters = scaled(opt.quick ? 20 : 400, 5);
  opt.aead_iters = scaled(opt.quick ? 64 : 4096, 5);
  if (opt.quick && opt.warmup < 0) opt.warmup = 2;
}

int main(int argc, char **argv) {
  bench_certs certs;
  parse(argc, argv);
  pin();
  if (prepare_certs(&certs) != 0) return 1;
  fprintf(stderr, "mutls-bench: %s; certificates in %s\n", pin_note, cert_dir);
  if (wanted("full-server")) run_handshakes(&certs, "full-server", 0, 0, 0);
  if (wanted("full-server-warm")) run_handshakes(&certs, "full-server-warm", 0, 0, 1);
  if (wanted("full-mutual")) run_handshakes(&certs, "full-mutual", 1, 0, 0);
  if (wanted("full-mutual-warm")) run_handshakes(&certs, "full-mutual-warm", 1, 0, 1);
  if (wanted("resumed-server")) run_handshakes(&certs, "resumed-server", 0, 1, 0);
  if (wanted("resumed-mutual")) run_handshakes(&certs, "resumed-mutual", 1, 1, 0);
  if (wanted("resumed-mutual-warm")) run_handshakes(&certs, "resumed-mutual-warm", 1, 1, 1);
  if (wanted("bulk")) run_bulk(&certs);
  if (wanted("memory")) run_memory(&certs);
  if (floor_pk_last.kex_us == 0) measure_floor_pk(); /* the header quotes it */
  if (bench_floor_cert_measure(&certs, opt.pk_iters, &floor_cert) != 0) return 1;
  report_header();
  bench_report_table();
  bench_report_lines();
  return 0;
}
