/*
 * main.c - the mutls command: dispatches to one subcommand per file.
 *
 *   mutls --help | --version | help [SUBCOMMAND] | SUBCOMMAND [OPTIONS]
 */
#include <stdio.h>
#include <string.h>

#include "ca_cli.h"
#include "common.h"

typedef struct subcommand {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
  void (*help)(FILE *out);
} subcommand;

static const subcommand subcommands[] = {
    {"server", "a TLS 1.3 test server: echo or a small HTTP page", server_main, server_help},
    {"client", "a TLS 1.3 client: connects, verifies, pipes stdin/stdout", client_main,
     client_help},
    {"ca", "a small CA for mutual TLS: issue, renew, revoke certificates, CRLs", ca_main, ca_help},
    {"cert", "inspect certificates, check them as a peer would, watch expiry", cert_main,
     cert_help},
    {"bench", "mutls beside OpenSSL's libssl: handshakes, bulk, memory", bench_main,
     bench_help},
};
#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

/* Named in DESIGN.md but not written yet: say so instead of "unknown". */
static const char *const planned[] = {"tunnel"};

static void usage(FILE *out) {
  fprintf(out, "Usage: mutls SUBCOMMAND [OPTIONS]\n"
               "       mutls help SUBCOMMAND\n"
               "       mutls --help | --version\n\n"
               "TLS 1.3 and mutual TLS, made easy to set up, run and debug.\n\n"
               "Subcommands:\n");
  for (size_t i = 0; i < N_SUBCOMMANDS; i++)
    fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf(out, "\nEvery subcommand takes --help. Exit status: 0 success, 1 failure,\n"
               "2 bad command line.\n");
}

static const subcommand *find_subcommand(const char *name) {
  for (size_t i = 0; i < N_SUBCOMMANDS; i++)
    if (strcmp(subcommands[i].name, name) == 0) return &subcommands[i];
  return NULL;
}

/* One sentence, like every other usage error: a typo should not bury the
 * terminal under the whole usage text. */
static int unknown_subcommand(const char *name) {
  bool is_planned = false;
  for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++)
    is_planned = is_planned || strcmp(planned[i], name) == 0;
  char names[128] = "";
  for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", i == 0 ? "" : ", ", subcommands[i].name);
  }
  fprintf(stderr, "mutls: %s '%s' (the subcommands are: %s); see mutls --help\n",
          is_planned ? "not implemented yet:" : "unknown subcommand", name, names);
  return CLI_EXIT_USAGE;
}

/* mutls help [SUBCOMMAND] */
static int help_main(int argc, char **argv) {
  if (argc < 2) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (argc > 2) {
    fprintf(stderr, "mutls help: takes one subcommand name; see mutls --help\n");
    return CLI_EXIT_USAGE;
  }
  const subcommand *sc = find_subcommand(argv[1]);
  if (!sc) return unknown_subcommand(argv[1]);
  sc->help(stdout);
  return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
  cli_keep_std_fds_open();
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(name, "--version") == 0) {
    printf("mutls %s\n", MUTLS_VERSION);
    return CLI_EXIT_OK;
  }
  if (strcmp(name, "help") == 0) return help_main(argc - 1, argv + 1);
  const subcommand *sc = find_subcommand(name);
  if (!sc) return unknown_subcommand(name);
  return sc->run(argc - 1, argv + 1);
}
