/*
 * cert.c - `mutls cert`: look at certificates. `inspect` shows what one
 * says, `check` tells whether a mutls peer would accept it (and if not, in
 * the handshake's own words), `expiry` tells which are due for renewal.
 */
#include "ca_cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failed(const char *why) {
  cli_log("%s", why);
  return CLI_EXIT_FAIL;
}

/* ---- cert inspect ---------------------------------------------------------------------- */

static const cli_command inspect_cmd = {
    .name = "cert inspect",
    .synopsis = "mutls cert inspect FILE",
    .description =
        "Shows every certificate of a PEM file (a chain: the leaf first), each with its\n"
        "subject, issuer, serial number, key type, whether it is a CA, extended key\n"
        "usage, SANs, SPIFFE ID, validity (\"expires in N days\") and the SHA-256 of\n"
        "the certificate and of its public key, as --allow-pin and --allow-spki take them.\n",
    .options = NULL,
    .n_options = 0,
    .max_positionals = 1,
    .more_help = "Examples:\n"
                 "  mutls cert inspect pki/issued/billing.pem\n"
                 "  mutls cert inspect /etc/ssl/certs/ISRG_Root_X1.pem\n"
                 "\n"
                 "Exit status:\n"
                 "  0  shown\n"
                 "  1  FILE cannot be read, or is not a PEM certificate (one sentence says why)\n"
                 "  2  bad command line\n",
};

static void inspect_help(FILE *out) {
  cli_print_help(out, &inspect_cmd);
}

static void print_info(const mutls_ca_cert_info *c, int64_t now) {
  char sans[4096], eku[128], from[64], until[64], left[64];
  ca_sans_text(c, sans, sizeof sans);
  ca_eku_text(c, eku, sizeof eku);
  ca_time_text(c->not_before, from, sizeof from);
  ca_time_text(c->not_after, until, sizeof until);
  ca_expiry_text(c->not_after, now, left, sizeof left);
  printf("  subject:      %s\n", c->subject);
  printf("  issuer:       %s%s\n", c->issuer,
         strcmp(c->subject, c->issuer) == 0 ? " (self-issued)" : "");
  printf("  serial:       %s\n", c->serial_hex);
  printf("  key:          %s\n", c->key_type);
  if (c->is_ca && c->path_len >= 0)
    printf("  CA:           yes, path length %d\n", c->path_len);
  else
    printf("  CA:           %s\n", c->is_ca ? "yes, no path length limit" : "no");
  printf("  EKU:          %s\n", eku);
  printf("  SANs:         %s\n", sans);
  printf("  SPIFFE ID:    %s\n", c->spiffe_id ? c->spiffe_id : "none");
  printf("  not before:   %s%s\n", from, c->not_before > now ? " (not valid yet)" : "");
  printf("  not after:    %s (%s)\n", until, left);
  printf("  sha256:       %s\n", c->fingerprint);
  printf("  spki sha256:  %s\n", c->spki_fingerprint);
}

static int inspect_run(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX];
  cli_set_name("mutls cert inspect");
  if (!cli_parse(&inspect_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 1)
    return cli_usage_error(&inspect_cmd, "give the certificate file: mutls cert inspect FILE");
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  if (ca_read_cert_file(pos[0], 1, NULL, &info, &n, why, sizeof why) != 0) return failed(why);
  int64_t now = (int64_t)time(NULL);
  for (size_t i = 0; i < n; i++) {
    printf("%scertificate %zu of %zu in %s%s\n", i ? "\n" : "", i + 1, n, pos[0],
           n > 1 ? (i == 0 ? " (the leaf)" : " (a CA of its chain)") : "");
    print_info(&info[i], now);
  }
  mutls_ca_info_free(info, n);
  return CLI_EXIT_OK;
}

/* ---- cert check ------------------------------------------------------------------------- */

static struct {
  const char *ca, *purpose, *name;
  cli_list crl;
} check_opt = {.crl = {.option = "--crl", .max = CLI_LIST_MAX}};

static const cli_option check_options[] = {
    {.name = "--ca",
     .arg = "CA.pem",
     .value = &check_opt.ca,
     .help = "The CA certificate(s) the peer trusts (required): what mutls client --cacert\n"
             "or mutls server --client-ca would be given.",
     .example = "--ca pki/ca.pem"},
    {.name = "--purpose",
     .arg = "ROLE",
     .value = &check_opt.purpose,
     .help = "server: check FILE as a TLS server's chain (serverAuth), as a client would;\n"
             "client: as a client's chain (clientAuth), as a server would. Required.",
     .example = "--purpose client"},
    {.name = "--name",
     .arg = "NAME",
     .value = &check_opt.name,
     .help = "The host name or IP address the certificate must match, as a client checks\n"
             "the server it connects to (mutls client --servername).",
     .example = "--name api.example.org"},
    {.name = "--crl",
     .arg = "FILE",
     .add = cli_list_add,
     .ctx = &check_opt.crl,
     .help = "A CRL (PEM or DER) to check the certificate against, as mutls server --crl\n"
             "does: a revoked certificate is refused, and so is one whose issuer has no CRL\n"
             "here or whose CRL is past its nextUpdate. Repeatable.",
     .example = "--crl pki/crl.pem"},
};

static const cli_command check_cmd = {
    .name = "cert check",
    .synopsis = "mutls cert check FILE --ca CA.pem --purpose client|server [--name NAME]\n"
                "                        [--crl FILE]...",
    .description =
        "Would a mutls peer accept the chain in FILE (the leaf first, then its\n"
        "intermediates) now? It is verified by the code a handshake uses, with the same\n"
        "defaults. Prints \"ok: a mutls peer would accept it\", or \"refused:\" followed by\n"
        "the error, the alert and the sentence the handshake would give (the ones\n"
        "mutls server logs and mutls client prints).\n",
    .options = check_options,
    .n_options = sizeof check_options / sizeof check_options[0],
    .max_positionals = 1,
    .more_help = "Output (stdout), one line:\n"
                 "  ok: a mutls peer would accept it (the certificate for CN=... is valid)\n"
                 "  refused: MUTLS_E_CERT_REVOKED (alert certificate_revoked): <why>\n"
                 "\n"
                 "Examples:\n"
                 "  mutls cert check pki/issued/localhost.pem --ca pki/ca.pem --purpose server \\\n"
                 "                   --name localhost\n"
                 "  mutls cert check pki/issued/billing.pem --ca pki/ca.pem --purpose client \\\n"
                 "                   --crl pki/crl.pem\n"
                 "\n"
                 "Exit status:\n"
                 "  0  a mutls peer would accept it\n"
                 "  1  it would be refused, or a file cannot be read (one sentence on stderr)\n"
                 "  2  bad command line\n",
};

static void check_help(FILE *out) {
  cli_print_help(out, &check_cmd);
}

static int check_run(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX + MUTLS_CA_WHY_LEN];
  mutls_ca_purpose purpose;
  cli_set_name("mutls cert check");
  if (!cli_parse(&check_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 1)
    return cli_usage_error(&check_cmd, "give the certificate file: mutls cert check FILE --ca "
                                       "CA.pem --purpose client|server");
  if (!check_opt.ca) return cli_usage_error(&check_cmd, "--ca CA.pem is required");
  if (!check_opt.purpose) return cli_usage_error(&check_cmd, "--purpose client|server is required");
  if (strcmp(check_opt.purpose, "server") == 0)
    purpose = MUTLS_CA_PURPOSE_SERVER;
  else if (strcmp(check_opt.purpose, "client") == 0)
    purpose = MUTLS_CA_PURPOSE_CLIENT;
  else
    return cli_usage_error(&check_cmd, "--purpose '%s': choose client or server",
                           check_opt.purpose);

  char *pem = NULL;
  if (fs_read_text(pos[0], CA_PEM_MAX, &pem, NULL, why, sizeof why) != 0) return failed(why);
  const char *crls[CLI_LIST_MAX + 1] = {NULL};
  for (size_t i = 0; i < check_opt.crl.n; i++)
    crls[i] = check_opt.crl.item[i];
  mutls_ca_status st;
  int r = mutls_ca_check(pem, check_opt.ca, purpose, check_opt.name, check_opt.crl.n ? crls : NULL,
                         &st);
  free(pem);
  if (r == MUTLS_OK) {
    printf("ok: a mutls peer would accept it (%s)\n", st.why);
    return CLI_EXIT_OK;
  }
  if (st.alert < 0) {
    /* Not a verdict: a file could not be used. */
    ca_why_for_file(st.why, pos[0], why, sizeof why);
    return failed(strstr(st.why, "the certificate PEM") ? why : st.why);
  }
  printf("refused: %s (alert %s): %s\n", cli_or_dash(mutls_error_name(st.code)),
         cli_or_dash(cli_alert(st.alert)), st.why);
  return CLI_EXIT_FAIL;
}

/* ---- cert expiry -------------------------------------------------------------------------- */

#define EXPIRY_MAX_FILES 256

static struct {
  const char *within;
  int quiet;
} expiry_opt;

static const cli_option expiry_options[] = {
    {.name = "--within",
     .arg = "TIME",
     .value = &expiry_opt.within,
     .help = "A certificate is due when it expires within TIME from now (or has expired):\n"
             "a whole number with h (hours), d (days) or w (weeks); a bare number is days.\n"
             "Default: 30d.",
     .example = "--within 30d   or   --within 12h   or   --within 2w"},
    {.name = "--quiet",
     .flag = &expiry_opt.quiet,
     .help = "Print only the certificates that are due (for cron, which mails any output).",
     .example = "--quiet"},
};

static const cli_command expiry_cmd = {
    .name = "cert expiry",
    .synopsis = "mutls cert expiry FILE... [--within TIME] [--quiet]",
    .description =
        "Checks when the certificates in the PEM files expire (every certificate of a\n"
        "chain file: an intermediate that expires breaks the chain too) and prints one\n"
        "line for each: \"due:\" when it expires within TIME or has expired, else \"ok:\".\n"
        "The exit status says whether any is due, for cron and monitoring. Up to 256\n"
        "files.\n",
    .options = expiry_options,
    .n_options = sizeof expiry_options / sizeof expiry_options[0],
    .max_positionals = EXPIRY_MAX_FILES,
    .more_help = "Output (stdout), one line per certificate:\n"
                 "  due: FILE: CN=api expires in 12 days (2025-03-01 12:00:00 UTC)\n"
                 "  ok: FILE: CN=api expires in 80 days (2025-05-08 12:00:00 UTC)\n"
                 "  (FILE#2 for the second certificate of a chain file)\n"
                 "\n"
                 "Examples:\n"
                 "  mutls cert expiry pki/issued/*.pem --within 30d\n"
                 "  mutls cert expiry /etc/mutls/server.pem --within 2w --quiet || "
                 "renew-and-reload\n"
                 "\n"
                 "Exit status:\n"
                 "  0  none is due\n"
                 "  1  at least one is due, or a file cannot be read as certificates\n"
                 "  2  bad command line\n",
};

static void expiry_help(FILE *out) {
  cli_print_help(out, &expiry_cmd);
}

/* "30d", "12h", "2w", "30" (days) to seconds. */
static bool parse_within(const char *text, int64_t *out) {
  char digits[16];
  size_t n = strlen(text);
  int64_t unit = 86400;
  if (n == 0 || n >= sizeof digits) return false;
  char last = text[n - 1];
  if (last == 'h' || last == 'd' || last == 'w') {
    unit = last == 'h' ? 3600 : last == 'd' ? 86400 : 7 * 86400;
    n--;
  }
  memcpy(digits, text, n);
  digits[n] = '\0';
  unsigned long v;
  /* Up to 100 years, whatever the unit. */
  if (cli_parse_uint(digits, 36500UL * 24, &v) != 0 || (int64_t)v * unit > INT64_C(36500) * 86400)
    return false;
  *out = (int64_t)v * unit;
  return true;
}

static int expiry_run(int argc, char **argv) {
  static const char *pos[EXPIRY_MAX_FILES];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX];
  int64_t within = 30 * 86400;
  cli_set_name("mutls cert expiry");
  if (!cli_parse(&expiry_cmd, argc, argv, pos, &np, &status)) return status;
  if (np == 0)
    return cli_usage_error(&expiry_cmd, "give one or more certificate files: mutls cert expiry "
                                        "FILE... --within 30d");
  if (expiry_opt.within && !parse_within(expiry_opt.within, &within))
    return cli_usage_error(&expiry_cmd,
                           "--within '%s': give a whole number with h, d or w (12h, 30d, 2w), "
                           "up to 100 years",
                           expiry_opt.within);
  int64_t now = (int64_t)time(NULL);
  size_t due = 0, unreadable = 0;
  for (size_t f = 0; f < np; f++) {
    mutls_ca_cert_info *info = NULL;
    size_t n = 0;
    if (ca_read_cert_file(pos[f], 1, NULL, &info, &n, why, sizeof why) != 0) {
      cli_log("%s", why);
      unreadable++;
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      char when[64], left[64], which[PATH_MAX + 16];
      bool is_due = info[i].not_after - now <= within;
      due += is_due;
      if (!is_due && expiry_opt.quiet) continue;
      ca_time_text(info[i].not_after, when, sizeof when);
      ca_expiry_text(info[i].not_after, now, left, sizeof left);
      if (i == 0)
        snprintf(which, sizeof which, "%s", pos[f]);
      else
        snprintf(which, sizeof which, "%s#%zu", pos[f], i + 1);
      printf("%s %s: %s %s (%s)\n", is_due ? "due:" : "ok:", which, info[i].subject, left, when);
    }
    mutls_ca_info_free(info, n);
  }
  return due || unreadable ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- the group ---------------------------------------------------------------------------------
 */

static const ca_sub cert_subs[] = {
    {"inspect", "show what a certificate (chain) says: names, SPIFFE ID, EKU, expiry", inspect_run,
     inspect_help},
    {"check", "would a mutls peer accept it? if not, the handshake's reason", check_run,
     check_help},
    {"expiry", "which certificates expire soon (exit 1 if any: for cron)", expiry_run, expiry_help},
};
#define N_CERT_SUBS (sizeof cert_subs / sizeof cert_subs[0])

void cert_help(FILE *out) {
  ca_group_help(out, "cert",
                "Looks at certificates: what they say, whether a mutls peer would accept\n"
                "them, and when they expire. See docs/cli/cert.md.\n",
                cert_subs, N_CERT_SUBS,
                "Examples:\n"
                "  mutls cert inspect pki/issued/billing.pem\n"
                "  mutls cert check pki/issued/billing.pem --ca pki/ca.pem --purpose client\n"
                "  mutls cert expiry pki/issued/*.pem --within 30d\n"
                "\n"
                "Exit status: 0 success, 1 failure (or refused, or due), 2 bad command line.\n");
}

int cert_main(int argc, char **argv) {
  return ca_dispatch("cert", cert_subs, N_CERT_SUBS, cert_help, argc, argv);
}
