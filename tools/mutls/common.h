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
 *          (cli_value_error)
 * A value option with implied set may be given without its value: then
 * *value = implied. Its value must then be joined with '=' (--confirm=500):
 * the next argument is never taken, so `--confirm HOST:PORT` stays readable.
 * The table is also the help text: every option has a help and an example.
 */
typedef struct cli_option {
  const char *name; /* "--listen" */
  const char *arg;  /* "HOST:PORT" in help; NULL for a flag */
  int *flag;
  const char **value;
  int (*add)(void *ctx, const char *value);
  void *ctx;
  const char *implied; /* value options only: the value when none is given */
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
/* The same line, from an add callback (which has no cli_command; the name
 * comes from cli_set_name). Returns -1, what the callback returns. */
int cli_value_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

/* ---- repeatable options ---------------------------------------------------------- */

#define CLI_LIST_MAX 16 /* uses of one repeatable option (--crl, --cert) */
#define CLI_RULES_MAX 64

/* The values of one repeatable option, in command-line order. Set option
 * and max (at most CLI_LIST_MAX); pass the list as ctx of cli_list_add. */
typedef struct cli_list {
  const char *option; /* "--crl": named when it is given too often */
  size_t max;
  const char *item[CLI_LIST_MAX];
  size_t n;
} cli_list;
int cli_list_add(void *list, const char *value);

/* Allow rules for the verified peer, in command-line order: kind is the
 * rule's prefix in mutls_config_allow ("uri", "dns", "cn", "ou", "pin",
 * "spki"), so the CLI and the library share one syntax. */
typedef struct cli_rules {
  struct {
    const char *kind;
    const char *pattern;
  } rule[CLI_RULES_MAX];
  size_t n;
} cli_rules;
int cli_allow_uri(void *rules, const char *pattern);
int cli_allow_dns(void *rules, const char *pattern);
int cli_allow_cn(void *rules, const char *pattern);
int cli_allow_ou(void *rules, const char *pattern);
int cli_allow_pin(void *rules, const char *pattern);
int cli_allow_spki(void *rules, const char *pattern);

/* What both roles check in the peer's certificate beyond its chain: allow
 * rules and revocation. */
typedef struct cli_peer_checks {
  cli_rules allow;
  cli_list crl; /* set .option = "--crl", .max = CLI_LIST_MAX */
  int crl_chain, crl_soft_fail;
} cli_peer_checks;

/* The option table rows for cli_peer_checks C; PEER ("client" or "server")
 * is the side being checked, in the help text. */
// clang-format off
#define CLI_PEER_CHECK_OPTIONS(C, PEER)                                                       \
  {.name = "--allow-uri",                                                                     \
   .arg = "PATTERN",                                                                          \
   .add = cli_allow_uri,                                                                      \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow a " PEER " whose certificate has this URI SAN (a SPIFFE ID): exact, or\n"   \
           "ending in /* for any URI below that path. Every --allow-* option may repeat;\n"   \
           "a " PEER " matching any one rule is allowed, one matching none is refused\n"      \
           "(access_denied). Without rules, any verified " PEER " is allowed.",               \
   .example = "--allow-uri 'spiffe://example.org/billing/*'"},                                \
  {.name = "--allow-dns",                                                                     \
   .arg = "PATTERN",                                                                          \
   .add = cli_allow_dns,                                                                      \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow a " PEER " whose certificate has this DNS SAN: exact, or *.DOMAIN for\n"    \
           "any name one label below DOMAIN.",                                                \
   .example = "--allow-dns '*.billing.example.org'"},                                         \
  {.name = "--allow-cn",                                                                      \
   .arg = "NAME",                                                                             \
   .add = cli_allow_cn,                                                                       \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow a " PEER " whose certificate's subject common name is exactly NAME.",       \
   .example = "--allow-cn billing"},                                                          \
  {.name = "--allow-ou",                                                                      \
   .arg = "NAME",                                                                             \
   .add = cli_allow_ou,                                                                       \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow a " PEER " whose certificate's subject has an organizational unit\n"        \
           "(OU) exactly NAME.",                                                              \
   .example = "--allow-ou payments"},                                                         \
  {.name = "--allow-pin",                                                                     \
   .arg = "SHA256",                                                                           \
   .add = cli_allow_pin,                                                                      \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow the " PEER " whose certificate (DER) has this SHA-256: 64 hex digits,\n"    \
           "colons allowed (openssl x509 -noout -fingerprint -sha256 -in CERT.pem).",         \
   .example = "--allow-pin 5f22c029...(64 hex digits)"},                                      \
  {.name = "--allow-spki",                                                                    \
   .arg = "SHA256",                                                                           \
   .add = cli_allow_spki,                                                                     \
   .ctx = &(C).allow,                                                                         \
   .help = "Allow a " PEER " whose public key (SubjectPublicKeyInfo, DER) has this\n"         \
           "SHA-256: a pin that survives renewing the certificate with the same key.",        \
   .example = "--allow-spki 9a0b...(64 hex digits)"},                                         \
  {.name = "--crl",                                                                           \
   .arg = "FILE",                                                                             \
   .add = cli_list_add,                                                                       \
   .ctx = &(C).crl,                                                                           \
   .help = "A certificate revocation list (PEM or DER) to check the " PEER "'s\n"             \
           "certificate against; repeat for each issuer. A revoked certificate is refused\n"  \
           "(certificate_revoked); so is one whose issuer has no CRL here, or a CRL\n"        \
           "past its nextUpdate (certificate_unknown), unless --crl-soft-fail.",              \
   .example = "--crl ca.crl --crl intermediate.crl"},                                         \
  {.name = "--crl-chain",                                                                     \
   .flag = &(C).crl_chain,                                                                    \
   .help = "Check every certificate of the " PEER "'s chain against the CRLs, not only\n"     \
           "its own (the leaf). Needs --crl.",                                                \
   .example = "--crl-chain"},                                                                 \
  {.name = "--crl-soft-fail",                                                                 \
   .flag = &(C).crl_soft_fail,                                                                \
   .help = "Accept a certificate whose issuer has no CRL, or whose CRL is past its\n"         \
           "nextUpdate (a revoked one is still refused). Needs --crl.",                       \
   .example = "--crl-soft-fail"}
// clang-format on

/* Checks the combinations parsing cannot (--crl-chain without --crl).
 * Returns CLI_EXIT_OK or a usage error status. */
int cli_check_peer_checks(const cli_command *cmd, const cli_peer_checks *checks);
/* Applies the rules and CRLs to cfg. On failure logs the option, its value
 * and mutls_config_error's sentence, and returns -1. */
int cli_apply_peer_checks(mutls_config *cfg, const cli_peer_checks *checks);

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
int bench_main(int argc, char **argv);
void bench_help(FILE *out);

#endif
