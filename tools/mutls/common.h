/*
 * common.h - helpers shared by the mutls subcommands: option parsing and
 * help text from one table, HOST:PORT parsing, address formatting, logging,
 * and the TLS preference options that client and server share.
 *
 * Only the public API (mutls.h) is used here and in every subcommand.
 */
#ifndef MUTLS_CLI_COMMON_H
#define MUTLS_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "mutls.h"

/* Exit statuses of every subcommand (listed in docs/cli/). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* Buffer sizes for a host name, a port and "[host]:port" (with the NUL). */
#define CLI_HOST_MAX 256
#define CLI_PORT_MAX 8
#define CLI_ADDR_MAX (CLI_HOST_MAX + CLI_PORT_MAX + 4)

/*
 * One command-line option. Exactly one of flag, value, add is set:
 *   flag   a switch without a value; set to 1 when present
 *   value  an option given at most once; points at the caller's string
 *   add    an option that may repeat (e.g. --allow-uri); called once per use
 *          with ctx; returns 0, or -1 after printing why the value is bad
 * The table is also the help text: every option has a help and an example.
 */
typedef struct cli_option {
  const char *name; /* "--listen" */
  const char *arg;  /* "HOST:PORT" in help; NULL for a flag */
  int *flag;
  const char **value;
  int (*add)(void *ctx, const char *value);
  void *ctx;
  const char *help;    /* one or more lines, no trailing newline */
  const char *example; /* "--listen 127.0.0.1:4433" */
} cli_option;

/* A subcommand's command line: its options, positionals and help text. */
typedef struct cli_command {
  const char *name;        /* "server": used in messages ("mutls server: ...") */
  const char *synopsis;    /* "mutls server --listen HOST:PORT ..." */
  const char *description; /* a paragraph, lines ending in \n */
  const cli_option *options;
  size_t n_options;
  size_t max_positionals; /* how many non-option arguments are allowed */
  const char *more_help;  /* examples, exit statuses: printed last */
} cli_command;

/*
 * Parses argv (argv[0] is the subcommand name). Non-option arguments go to
 * positionals (up to cmd->max_positionals), their count to *n_positionals.
 * Returns true if the caller should run; false if it should exit with
 * *status: 0 after --help (printed to stdout), 2 after a usage error (one
 * sentence and "see mutls NAME --help" on stderr).
 */
bool cli_parse(const cli_command *cmd, int argc, char **argv, const char **positionals,
               size_t *n_positionals, int *status);
void cli_print_help(FILE *out, const cli_command *cmd);
/* Prints "mutls NAME: <message>; see mutls NAME --help" on stderr and returns
 * CLI_EXIT_USAGE, for usage errors found after parsing. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Splits "host:port", "[v6-literal]:port" into host (brackets removed) and
 * port. The port must be a decimal number up to 65535; 0 only if allow_zero.
 * On failure writes one sentence to why and returns -1.
 */
int cli_parse_hostport(const char *text, bool allow_zero, char *host, size_t host_cap, char *port,
                       size_t port_cap, char *why, size_t why_cap);
/* Parses a whole decimal number from 0 to max (digits only, no sign, no
 * spaces). Returns 0, or -1 if text is anything else. */
int cli_parse_uint(const char *text, unsigned long max, unsigned long *out);

/* "127.0.0.1:443" or "[::1]:443" (the form cli_parse_hostport reads back). */
void cli_format_hostport(const char *host, unsigned port, char *out, size_t cap);
void cli_format_sockaddr(const struct sockaddr *sa, char *out, size_t cap);

/*
 * Logging: each call writes one whole line, "mutls NAME: message", to stderr
 * in one stdio call, so lines from connection threads never interleave.
 * cli_set_name is called once, before any thread starts.
 */
void cli_set_name(const char *name);
void cli_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s, or "-" when s is NULL or empty: log fields are never blank. */
const char *cli_or_dash(const char *s);
/* The alert name for an alert code, or NULL for -1 (no alert). */
const char *cli_alert(int alert);

/* TLS preferences both client and server accept (--alpn, --keylog, ...). */
typedef struct cli_tls_prefs {
  const char *alpn;
  const char *keylog;
  const char *ciphers;
  const char *groups;
  const char *sigalgs;
} cli_tls_prefs;

/* Applies every preference that is set. On failure logs the option and
 * mutls_config_error's sentence and returns -1. */
int cli_apply_tls_prefs(mutls_config *cfg, const cli_tls_prefs *prefs);
/* Logs "<what>: <mutls_config_error sentence>". */
void cli_log_config_error(const mutls_config *cfg, const char *what);

/* Writes all of buf to a descriptor, retrying short writes and EINTR.
 * Returns 0 or -1 with errno set. */
int cli_write_fd(int fd, const void *buf, size_t len);
/* Opens /dev/null on any of descriptors 0, 1, 2 that is closed, so that a
 * socket can never land on them and be read as stdin or written as stdout. */
void cli_keep_std_fds_open(void);

/* The subcommands, one file each; argv[0] is the subcommand name. */
int server_main(int argc, char **argv);
void server_help(FILE *out);
int client_main(int argc, char **argv);
void client_help(FILE *out);

#endif
