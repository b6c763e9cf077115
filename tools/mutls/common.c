/*
 * common.c - option parsing, HOST:PORT, logging and shared TLS options for
 * the mutls subcommands.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- option parsing -------------------------------------------------------- */

static const cli_option *find_option(const cli_command *cmd, const char *name, size_t name_len) {
  for (size_t i = 0; i < cmd->n_options; i++) {
    const cli_option *o = &cmd->options[i];
    if (strlen(o->name) == name_len && memcmp(o->name, name, name_len) == 0) return o;
  }
  return NULL;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "mutls %s: %s; see mutls %s --help\n", cmd->name, msg, cmd->name);
  return CLI_EXIT_USAGE;
}

static const char *log_name = "mutls";

int cli_value_error(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s: %s; see %s --help\n", log_name, msg, log_name);
  return -1;
}

/* Stores one option's value. Returns 0, or a usage error status. */
static int take_option(const cli_command *cmd, const cli_option *o, const char *value) {
  if (o->flag) {
    if (value) return cli_usage_error(cmd, "%s takes no value", o->name);
    *o->flag = 1;
    return 0;
  }
  if (!value) return cli_usage_error(cmd, "%s needs a value (%s)", o->name, o->arg);
  /* `--alpn "$UNSET"` is a script's mistake, not a request for nothing. */
  if (!*value)
    return cli_usage_error(cmd, "%s needs a value (%s), not an empty one", o->name, o->arg);
  if (o->value) {
    /* A single-valued option given twice is almost always a mistake in a
     * script; say so rather than silently keep one of them. */
    if (*o->value) return cli_usage_error(cmd, "%s was given twice", o->name);
    *o->value = value;
    return 0;
  }
  if (o->add(o->ctx, value) != 0) return CLI_EXIT_USAGE;
  return 0;
}

/* Handles argv[*i], an argument starting with "--"; may consume argv[*i + 1]. */
static int parse_long(const cli_command *cmd, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const char *eq = strchr(arg, '=');
  size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
  const cli_option *o = find_option(cmd, arg, name_len);
  if (!o) return cli_usage_error(cmd, "unknown option '%.*s'", (int)name_len, arg);
  const char *value = eq ? eq + 1 : NULL;
  if (!value && o->implied) {
    value = o->implied;
  } else if (!value && !o->flag && *i + 1 < argc) {
    /* "--opt value": the next argument is the value, whatever it looks
     * like, so a value may start with "-". */
    value = argv[++*i];
  }
  return take_option(cmd, o, value);
}

static bool is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_parse(const cli_command *cmd, int argc, char **argv, const char **positionals,
               size_t *n_positionals, int *status) {
  bool options_done = false;
  *n_positionals = 0;
  *status = CLI_EXIT_OK;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!options_done && is_help(arg)) {
      cli_print_help(stdout, cmd);
      return false;
    }
    if (!options_done && strcmp(arg, "--") == 0) {
      options_done = true;
    } else if (!options_done && strncmp(arg, "--", 2) == 0) {
      *status = parse_long(cmd, argc, argv, &i);
      if (*status != CLI_EXIT_OK) return false;
    } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
      *status = cli_usage_error(cmd, "unknown option '%s'", arg);
      return false;
    } else if (*n_positionals < cmd->max_positionals) {
      positionals[(*n_positionals)++] = arg;
    } else {
      *status = cli_usage_error(cmd, "unexpected argument '%s'", arg);
      return false;
    }
  }
  return true;
}

/* Prints text with each line indented by indent spaces. */
static void print_indented(FILE *out, const char *text, int indent) {
  while (*text) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) : strlen(text);
    fprintf(out, "%*s%.*s\n", indent, "", (int)len, text);
    text += len + (nl ? 1 : 0);
  }
}

void cli_print_help(FILE *out, const cli_command *cmd) {
  fprintf(out, "Usage: %s\n\n%s\nOptions:\n", cmd->synopsis, cmd->description);
  for (size_t i = 0; i < cmd->n_options; i++) {
    const cli_option *o = &cmd->options[i];
    if (o->implied)
      fprintf(out, "  %s[=%s]\n", o->name, o->arg);
    else
      fprintf(out, "  %s%s%s\n", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    print_indented(out, o->help, 6);
    fprintf(out, "      Example: %s\n", o->example);
  }
  fprintf(out, "  -h, --help\n      Show this help on stdout and exit 0.\n");
  if (cmd->more_help) fprintf(out, "\n%s", cmd->more_help);
}

/* ---- addresses ----------------------------------------------------------------- */

/* Parses a decimal port. Returns -1 unless it is 1..65535 (or 0 if allowed). */
static long parse_port(const char *s, bool allow_zero) {
  if (*s == '\0' || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s)) return -1;
  long port = strtol(s, NULL, 10);
  if (port > 65535 || (port == 0 && !allow_zero)) return -1;
  return port;
}

int cli_parse_uint(const char *text, unsigned long max, unsigned long *out) {
  size_t len = strlen(text);
  /* Ten digits are enough for every max we use and cannot overflow. */
  if (len == 0 || len > 10 || strspn(text, "0123456789") != len) return -1;
  unsigned long long n = strtoull(text, NULL, 10);
  if (n > max) return -1;
  *out = (unsigned long)n;
  return 0;
}

/* Splits text into host and port text without checking either. */
static int split_hostport(const char *text, const char **host, size_t *host_len, const char **port,
                          char *why, size_t why_cap) {
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (!close || close[1] != ':') {
      snprintf(why, why_cap, "'%s' is not [IPv6]:PORT", text);
      return -1;
    }
    *host = text + 1;
    *host_len = (size_t)(close - text - 1);
    *port = close + 2;
    return 0;
  }
  const char *colon = strrchr(text, ':');
  if (!colon) {
    snprintf(why, why_cap, "'%s' has no port: write HOST:PORT, e.g. 127.0.0.1:4433", text);
    return -1;
  }
  if (memchr(text, ':', (size_t)(colon - text))) {
    /* "::1:443" is ambiguous: is 443 the port or part of the address? */
    snprintf(why, why_cap, "'%s': put an IPv6 address in brackets, e.g. [::1]:4433", text);
    return -1;
  }
  *host = text;
  *host_len = (size_t)(colon - text);
  *port = colon + 1;
  return 0;
}

int cli_parse_hostport(const char *text, bool allow_zero, char *host, size_t host_cap, char *port,
                       size_t port_cap, char *why, size_t why_cap) {
  const char *h, *p;
  size_t h_len;
  if (split_hostport(text, &h, &h_len, &p, why, why_cap) != 0) return -1;
  if (h_len == 0 || h_len >= host_cap) {
    snprintf(why, why_cap, "'%s': the host is %s", text, h_len ? "too long" : "missing");
    return -1;
  }
  long n = parse_port(p, allow_zero);
  if (n < 0) {
    snprintf(why, why_cap, "'%s': the port must be a number from %d to 65535", text,
             allow_zero ? 0 : 1);
    return -1;
  }
  memcpy(host, h, h_len);
  host[h_len] = '\0';
  snprintf(port, port_cap, "%ld", n);
  return 0;
}

void cli_format_hostport(const char *host, unsigned port, char *out, size_t cap) {
  if (strchr(host, ':'))
    snprintf(out, cap, "[%s]:%u", host, port);
  else
    snprintf(out, cap, "%s:%u", host, port);
}

void cli_format_sockaddr(const struct sockaddr *sa, char *out, size_t cap) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  cli_format_hostport(host, port, out, cap);
}

/* ---- logging ---------------------------------------------------------------------- */

void cli_set_name(const char *name) {
  log_name = name;
}

void cli_log(const char *fmt, ...) {
  char line[4096];
  int prefix = snprintf(line, sizeof line, "%s: ", log_name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + prefix, sizeof line - (size_t)prefix - 1, fmt, ap);
  va_end(ap);
  strcat(line, "\n");
  fputs(line, stderr);
}

const char *cli_or_dash(const char *s) {
  return s && *s ? s : "-";
}

const char *cli_alert(int alert) {
  return alert < 0 ? NULL : cli_or_dash(mutls_alert_name(alert));
}

/* ---- TLS preferences ------------------------------------------------------------ */

void cli_log_config_error(const mutls_config *cfg, const char *what) {
  const char *why = mutls_config_error(cfg);
  if (!why || !*why) why = mutls_error_name(mutls_config_error_code(cfg));
  cli_log("%s: %s", what, cli_or_dash(why));
}

int cli_apply_tls_prefs(mutls_config *cfg, const cli_tls_prefs *prefs) {
  const struct {
    const char *option;
    const char *value;
    int (*set)(mutls_config *, const char *);
  } steps[] = {
      {"--alpn", prefs->alpn, mutls_config_set_alpn},
      {"--keylog", prefs->keylog, mutls_config_set_keylog_file},
      {"--ciphers", prefs->ciphers, mutls_config_set_cipher_suites},
      {"--groups", prefs->groups, mutls_config_set_groups},
      {"--sigalgs", prefs->sigalgs, mutls_config_set_signature_schemes},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (steps[i].value && steps[i].set(cfg, steps[i].value) != MUTLS_OK) {
      cli_log_config_error(cfg, steps[i].option);
      return -1;
    }
  }
  return 0;
}

/* ---- repeatable options ---------------------------------------------------------- */

int cli_list_add(void *ctx, const char *value) {
  cli_list *list = ctx;
  if (list->n == list->max)
    return cli_value_error("%s may be given at most %zu times", list->option, list->max);
  list->item[list->n++] = value;
  return 0;
}

static int allow(cli_rules *rules, const char *kind, const char *pattern) {
  if (rules->n == CLI_RULES_MAX)
    return cli_value_error("at most %d --allow-* rules may be given", CLI_RULES_MAX);
  rules->rule[rules->n].kind = kind;
  rules->rule[rules->n++].pattern = pattern;
  return 0;
}

int cli_allow_uri(void *rules, const char *pattern) {
  return allow(rules, "uri", pattern);
}
int cli_allow_dns(void *rules, const char *pattern) {
  return allow(rules, "dns", pattern);
}
int cli_allow_cn(void *rules, const char *pattern) {
  return allow(rules, "cn", pattern);
}
int cli_allow_ou(void *rules, const char *pattern) {
  return allow(rules, "ou", pattern);
}
int cli_allow_pin(void *rules, const char *pattern) {
  return allow(rules, "pin", pattern);
}
int cli_allow_spki(void *rules, const char *pattern) {
  return allow(rules, "spki", pattern);
}

int cli_check_peer_checks(const cli_command *cmd, const cli_peer_checks *checks) {
  if (checks->crl.n == 0 && (checks->crl_chain || checks->crl_soft_fail))
    return cli_usage_error(cmd, "%s needs at least one --crl FILE",
                           checks->crl_chain ? "--crl-chain" : "--crl-soft-fail");
  return CLI_EXIT_OK;
}

int cli_apply_peer_checks(mutls_config *cfg, const cli_peer_checks *checks) {
  for (size_t i = 0; i < checks->allow.n; i++) {
    const char *kind = checks->allow.rule[i].kind, *pattern = checks->allow.rule[i].pattern;
    /* The rule as mutls_config_allow reads it: "uri:spiffe://...". */
    size_t len = strlen(kind) + 1 + strlen(pattern) + 1;
    char *rule = malloc(len);
    if (!rule) {
      cli_log("out of memory");
      return -1;
    }
    snprintf(rule, len, "%s:%s", kind, pattern);
    int rc = mutls_config_allow(cfg, rule);
    free(rule);
    if (rc != MUTLS_OK) {
      char what[64 + CLI_HOST_MAX];
      snprintf(what, sizeof what, "--allow-%s %.*s", kind, CLI_HOST_MAX, pattern);
      cli_log_config_error(cfg, what);
      return -1;
    }
  }
  for (size_t i = 0; i < checks->crl.n; i++) {
    if (mutls_config_add_crl_file(cfg, checks->crl.item[i]) != MUTLS_OK) {
      cli_log_config_error(cfg, "--crl");
      return -1;
    }
  }
  if ((checks->crl_chain || checks->crl_soft_fail) &&
      mutls_config_set_crl_check(cfg, checks->crl_chain, checks->crl_soft_fail) != MUTLS_OK) {
    cli_log_config_error(cfg, checks->crl_chain ? "--crl-chain" : "--crl-soft-fail");
    return -1;
  }
  return 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */

int cli_write_fd(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void cli_keep_std_fds_open(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    /* open returns the lowest free descriptor: this one. */
    if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0) return;
  }
}
