/*
 * bench.c - mutls bench: runs the benchmark program beside OpenSSL's libssl.
 *
 * The benchmark links libssl to compare against it; the mutls command and
 * libmutls never do. So the benchmark is its own program, mutls-bench, built
 * by `make bench` next to this binary, and `mutls bench` hands its command
 * line over to it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define BENCH_PROGRAM "mutls-bench"

/* The path of mutls-bench beside the running mutls binary. */
static int bench_path(char *out, size_t cap) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (!slash) return -1;
  slash[1] = '\0';
  int w = snprintf(out, cap, "%s%s", self, BENCH_PROGRAM);
  return w > 0 && (size_t)w < cap ? 0 : -1;
}

void bench_help(FILE *out) {
  char path[PATH_MAX];
  int found = bench_path(path, sizeof path) == 0 && access(path, X_OK) == 0;
  fprintf(out,
          "Usage: mutls bench [OPTIONS]\n\n"
          "Measures mutls beside OpenSSL's libssl in one run: full and resumed\n"
          "handshakes per second (server-auth and mutual, cold and with the\n"
          "verified-chain cache), bulk MB/s per cipher suite, heap bytes per\n"
          "connection, each against the cost of libcrypto's own operations.\n"
          "Prints a table and one 'bench ...' line per scenario and statistic.\n\n"
          "It runs the program %s, built by `make bench` beside this binary\n"
          "(it links libssl for the comparison; mutls itself never does), with\n"
          "the same options: `mutls bench --quick` is a smoke run of seconds,\n"
          "`mutls bench -s full-mutual,full-mutual-warm` two scenarios.\n"
          "Run it from the repository root (it makes its certificates with\n"
          "tests/lib.sh) or pass --certs DIR. docs/PERFORMANCE.md explains the\n"
          "numbers.\n\n",
          BENCH_PROGRAM);
  if (found)
    fprintf(out, "Found: %s. Its options: mutls bench --help.\n", path);
  else
    fprintf(out, "Not built here: run `make bench` (needs libssl-dev).\n");
  fprintf(out, "\nExit status: the benchmark's (0 when it ran; it never judges the\n"
               "numbers), 1 if it cannot be started.\n");
}

int bench_main(int argc, char **argv) {
  char path[PATH_MAX];
  if (bench_path(path, sizeof path) != 0) {
    fprintf(stderr, "mutls bench: cannot tell where this mutls binary lives\n");
    return CLI_EXIT_FAIL;
  }
  if (access(path, X_OK) != 0) {
    fprintf(stderr,
            "mutls bench: the benchmark program %s is not built; run `make bench` (it needs "
            "libssl-dev)\n",
            path);
    return CLI_EXIT_FAIL;
  }
  argv[0] = (char *)BENCH_PROGRAM;
  fflush(NULL);
  execv(path, argv);
  fprintf(stderr, "mutls bench: cannot run %s: %s\n", path, strerror(errno));
  return CLI_EXIT_FAIL;
}
