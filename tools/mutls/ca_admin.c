/*
 * ca_admin.c - `mutls ca revoke`, `mutls ca crl` and `mutls ca list`: what
 * a CA does with the certificates it has issued.
 */
#include "ca_cli.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failed(const char *why) {
  cli_log("%s", why);
  return CLI_EXIT_FAIL;
}

/* ---- ca revoke ------------------------------------------------------------------------ */

static struct { const char *reason, *serial; } revoke_opt;

static const cli_option revoke_options[] = {
    {.name = "--reason",
     .arg = "REASON",
     .value = &revoke_opt.reason,
     .help = "Why, as RFC 5280 names it: unspecified (the default; the CRL entry then\n"
             "carries no reason), keyCompromise, cACompromise, affiliationChanged,\n"
             "superseded, cessationOfOperation, certificateHold, privilegeWithdrawn or\n"
             "aACompromise (any case).",
     .example = "--reason keyCompromise"},
    {.name = "--serial",
     .arg = "HEX",
     .value = &revoke_opt.serial,
     .help = "Revoke the certificate with this serial number (as mutls ca list shows it)\n"
             "instead of naming its file: for one whose file is gone or was renewed over.",
     .example = "--serial 4F2A...(hex)"},
};

static const cli_command revoke_cmd = {
    .name = "ca revoke",
    .synopsis = "mutls ca revoke DIR CERT.pem [--reason REASON]\n"
                "       mutls ca revoke DIR --serial HEX [--reason REASON]",
    .description =
        "Marks a certificate issued by the CA in DIR as revoked in its index, with the\n"
        "time and the reason. Peers learn of it from the CRL: run mutls ca crl DIR next\n"
        "and give DIR/crl.pem to them (mutls server --crl). CA certificates cannot be\n"
        "revoked here.\n",
    .options = revoke_options,
    .n_options = sizeof revoke_options / sizeof revoke_options[0],
    .max_positionals = 2,
    .more_help = "Examples:\n"
                 "  mutls ca revoke pki pki/issued/billing.pem --reason keyCompromise\n"
                 "  mutls ca revoke pki --serial 4F2A9C0E17D3B6A85E0F1C2D3B4A5968 --reason "
                 "superseded\n"
                 "  mutls ca crl pki\n"
                 "\n"
                 "Exit status:\n"
                 "  0  revoked\n"
                 "  1  the certificate is unreadable, not in the index, already revoked, or\n"
                 "     a CA certificate; or the index cannot be written\n"
                 "  2  bad command line (an unknown --reason, ...)\n",
};

void ca_revoke_help(FILE *out) {
  cli_print_help(out, &revoke_cmd);
}

/* A serial as typed: "0x", colons and spaces dropped, upper case. */
static bool normal_serial(const char *in, char *out, size_t cap) {
  size_t n = 0;
  if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) in += 2;
  for (; *in; in++) {
    if (*in == ':' || *in == ' ') continue;
    if (!isxdigit((unsigned char)*in) || n + 1 >= cap) return false;
    out[n++] = (char)toupper((unsigned char)*in);
  }
  out[n] = '\0';
  return n > 0;
}

int ca_revoke_main(int argc, char **argv) {
  const char *pos[2];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX], serial[MUTLS_CA_SERIAL_LEN];
  mutls_crl_reason reason = MUTLS_REASON_UNSPECIFIED;
  mutls_ca_status st;
  cli_set_name("mutls ca revoke");
  if (!cli_parse(&revoke_cmd, argc, argv, pos, &np, &status)) return status;
  if (np < 1)
    return cli_usage_error(&revoke_cmd, "give the CA directory: mutls ca revoke DIR CERT.pem");
  if ((np == 2) == (revoke_opt.serial != NULL))
    return cli_usage_error(&revoke_cmd, "name the certificate by its file (CERT.pem) or by "
                                        "--serial HEX, one of the two");
  if (revoke_opt.reason && mutls_ca_reason_from_name(revoke_opt.reason, &reason, &st) != MUTLS_OK)
    return cli_usage_error(&revoke_cmd, "--reason: %s", st.why);
  if (revoke_opt.serial && !normal_serial(revoke_opt.serial, serial, sizeof serial))
    return cli_usage_error(&revoke_cmd, "--serial '%s' is not a hex serial number",
                           revoke_opt.serial);
  const char *dir = pos[0];
  if (np == 2) {
    mutls_ca_cert_info *info = NULL;
    size_t n = 0;
    if (ca_read_cert_file(pos[1], 0, NULL, &info, &n, why, sizeof why) != 0) return failed(why);
    snprintf(serial, sizeof serial, "%s", info[0].serial_hex);
    mutls_ca_info_free(info, n);
  }

  ca_dir d;
  if (ca_dir_open(&d, dir, true, false, why, sizeof why) != 0) return failed(why);
  fs_txn *t = fs_txn_new();
  status = CLI_EXIT_FAIL;
  ca_entry *e = ca_index_find(&d.index, serial);
  char when[64];
  if (e == NULL) {
    if (np == 2)
      ca_say(why, sizeof why,
             "%s (serial %s) is not in the index of the CA in %s: it was not issued there", pos[1],
             serial, dir);
    else
      ca_say(why, sizeof why,
             "serial %s is not in the index of the CA in %s: it was not issued there", serial, dir);
  } else if (e->kind == CA_KIND_CA) {
    ca_say(why, sizeof why,
           "%s is a CA certificate of %s; mutls ca revokes server and client "
           "certificates only",
           e->name, dir);
  } else if (e->revoked) {
    ca_time_text(e->revoked_at, when, sizeof when);
    ca_say(why, sizeof why, "the certificate for %s (serial %s) was already revoked on %s (%s)",
           e->name, e->serial, when, e->reason);
  } else if (t == NULL) {
    ca_say(why, sizeof why, "out of memory");
  } else {
    e->revoked = true;
    e->revoked_at = (int64_t)time(NULL);
    snprintf(e->reason, sizeof e->reason, "%s", mutls_ca_reason_name(reason));
    if (ca_stage_index(t, &d, why, sizeof why) == 0 && fs_txn_commit(t, why, sizeof why) == 0) {
      status = CLI_EXIT_OK;
      ca_time_text(e->revoked_at, when, sizeof when);
      printf("revoked the %s certificate for %s (serial %s) on %s, reason %s\n",
             ca_kind_name(e->kind), e->name, e->serial, when, e->reason);
      printf("peers refuse it once they have the new CRL: mutls ca crl %s, then give\n"
             "%s/%s to them (mutls server --crl)\n",
             dir, dir, CA_CRL);
    }
  }
  fs_txn_free(t);
  ca_dir_close(&d);
  return status == CLI_EXIT_OK ? status : failed(why);
}

/* ---- ca crl --------------------------------------------------------------------------------- */

static struct { const char *days; } crl_opt;

static const cli_option crl_options[] = {
    {.name = "--days",
     .arg = "N",
     .value = &crl_opt.days,
     .help = "Days until the CRL's nextUpdate, 1 to 3650. Past it, a peer checking CRLs\n"
             "refuses every certificate of this CA (certificate_unknown) until it gets a\n"
             "newer CRL: run mutls ca crl again well before. Default: 7.",
     .example = "--days 30"},
};

static const cli_command crl_cmd = {
    .name = "ca crl",
    .synopsis = "mutls ca crl DIR [--days N]",
    .description =
        "Writes DIR/crl.pem: a CRL (v2, PEM) listing every certificate revoked in the\n"
        "index, signed by the CA that issued them (the intermediate if DIR has one, else\n"
        "the root), with the next CRL number. Give it to every peer that verifies the\n"
        "certificates: mutls server --crl DIR/crl.pem (or nginx ssl_crl). With an\n"
        "intermediate, it covers the certificates the intermediate issued, not the\n"
        "intermediate itself (so do not use --crl-chain with it alone).\n",
    .options = crl_options,
    .n_options = sizeof crl_options / sizeof crl_options[0],
    .max_positionals = 1,
    .more_help = "Examples:\n"
                 "  mutls ca crl pki\n"
                 "  mutls ca crl pki --days 30\n"
                 "Cron, daily:\n"
                 "  mutls ca crl /etc/mutls/ca && cp /etc/mutls/ca/crl.pem /srv/www/crl.pem\n"
                 "\n"
                 "Exit status:\n"
                 "  0  written\n"
                 "  1  DIR is no CA, its key cannot be used, or the CRL cannot be written\n"
                 "  2  bad command line\n",
};

void ca_crl_help(FILE *out) {
  cli_print_help(out, &crl_cmd);
}

int ca_crl_main(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  unsigned days = CA_CRL_DAYS;
  char why[FS_WHY_MAX + PATH_MAX], p[PATH_MAX], number[32];
  cli_set_name("mutls ca crl");
  if (!cli_parse(&crl_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 1) return cli_usage_error(&crl_cmd, "give the CA directory: mutls ca crl DIR");
  if (crl_opt.days && !ca_parse_days(crl_opt.days, CA_MAX_CRL_DAYS, &days))
    return cli_usage_error(&crl_cmd, "--days '%s': give a whole number of days from 1 to %u",
                           crl_opt.days, CA_MAX_CRL_DAYS);
  ca_dir d;
  if (ca_dir_open(&d, pos[0], true, true, why, sizeof why) != 0) return failed(why);
  status = CLI_EXIT_FAIL;
  fs_txn *t = fs_txn_new();
  mutls_ca_revoked *list = calloc(d.index.n + 1, sizeof(*list));
  char *crl = NULL;
  size_t n = 0;
  ca_say(why, sizeof why, "out of memory");
  if (t != NULL && list != NULL) {
    for (size_t i = 0; i < d.index.n; i++) {
      const ca_entry *e = &d.index.e[i];
      if (!e->revoked || e->kind == CA_KIND_CA) continue;
      mutls_crl_reason reason = MUTLS_REASON_UNSPECIFIED;
      mutls_ca_reason_from_name(e->reason, &reason, NULL);
      list[n++] = (mutls_ca_revoked){e->serial, e->revoked_at, reason};
    }
    mutls_ca_status st;
    if (mutls_ca_make_crl(d.signer_pem, d.signer_key, list, n, d.crl_number, days, &crl, &st) !=
        MUTLS_OK) {
      ca_say(why, sizeof why, "cannot make the CRL: %s", st.why);
    } else {
      /* The number first: if crl.pem then failed, a number is skipped, never
       * used twice. */
      snprintf(number, sizeof number, "%llu\n", (unsigned long long)d.crl_number + 1);
      ca_path(p, sizeof p, d.path, CA_CRLNUMBER);
      if (fs_txn_stage(t, p, number, strlen(number), 0644, why, sizeof why) == 0 &&
          ca_path(p, sizeof p, d.path, CA_CRL) == 0 &&
          fs_txn_stage(t, p, crl, strlen(crl), 0644, why, sizeof why) == 0 &&
          fs_txn_commit(t, why, sizeof why) == 0)
        status = CLI_EXIT_OK;
    }
  }
  if (status == CLI_EXIT_OK) {
    char when[64];
    int64_t next = (int64_t)time(NULL) + (int64_t)days * 86400;
    ca_time_text(next, when, sizeof when);
    printf("wrote %s: CRL number %llu from %s, %zu revoked certificate%s\n", p,
           (unsigned long long)d.crl_number, d.signer_subject, n, n == 1 ? "" : "s");
    printf("next update: %s (in %u day%s): run mutls ca crl again before then, or peers\n"
           "checking it refuse every certificate of this CA\n",
           when, days, days == 1 ? "" : "s");
  }
  mutls_ca_free(crl);
  free(list);
  fs_txn_free(t);
  ca_dir_close(&d);
  return status == CLI_EXIT_OK ? status : failed(why);
}

/* ---- ca list ----------------------------------------------------------------------------------
 */

static const cli_command list_cmd = {
    .name = "ca list",
    .synopsis = "mutls ca list DIR",
    .description =
        "Lists every certificate in the index of the CA in DIR, one per line, oldest\n"
        "first: name, kind (ca, server, client), status (valid, revoked, expired), serial\n"
        "number, when it expires (\"expires in N days\", or \"expired N days ago\"), and\n"
        "for a revoked one when and why.\n",
    .options = NULL,
    .n_options = 0,
    .max_positionals = 1,
    .more_help = "Example:\n"
                 "  $ mutls ca list pki\n"
                 "  NAME       KIND    STATUS   SERIAL                            EXPIRES\n"
                 "  mutls CA   ca      valid    5C0E...                           expires in 3650 "
                 "days (...)\n"
                 "  localhost  server  valid    61D2...                           expires in 90 "
                 "days (...)\n"
                 "  billing    client  revoked  4F2A...                           expires in 90 "
                 "days (...); revoked ... (keyCompromise)\n"
                 "\n"
                 "Exit status:\n"
                 "  0  listed\n"
                 "  1  DIR is no CA, or its index is damaged\n"
                 "  2  bad command line\n",
};

void ca_list_help(FILE *out) {
  cli_print_help(out, &list_cmd);
}

int ca_list_main(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX];
  cli_set_name("mutls ca list");
  if (!cli_parse(&list_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 1) return cli_usage_error(&list_cmd, "give the CA directory: mutls ca list DIR");
  ca_dir d;
  if (ca_dir_open(&d, pos[0], false, false, why, sizeof why) != 0) return failed(why);
  int64_t now = (int64_t)time(NULL);
  int wname = 4, wserial = 6;
  for (size_t i = 0; i < d.index.n; i++) {
    int a = (int)strlen(d.index.e[i].name), b = (int)strlen(d.index.e[i].serial);
    wname = a > wname ? a : wname;
    wserial = b > wserial ? b : wserial;
  }
  printf("%-*s  %-6s  %-7s  %-*s  %s\n", wname, "NAME", "KIND", "STATUS", wserial, "SERIAL",
         "EXPIRES");
  for (size_t i = 0; i < d.index.n; i++) {
    const ca_entry *e = &d.index.e[i];
    char when[64], left[64], revoked[128] = "";
    ca_time_text(e->not_after, when, sizeof when);
    ca_expiry_text(e->not_after, now, left, sizeof left);
    if (e->revoked) {
      char rwhen[64];
      ca_time_text(e->revoked_at, rwhen, sizeof rwhen);
      snprintf(revoked, sizeof revoked, "; revoked %s (%s)", rwhen, e->reason);
    }
    const char *state = e->revoked ? "revoked" : e->not_after <= now ? "expired" : "valid";
    printf("%-*s  %-6s  %-7s  %-*s  %s (%s)%s\n", wname, e->name, ca_kind_name(e->kind), state,
           wserial, e->serial, left, when, revoked);
  }
  if (d.index.n == 0) printf("(no certificates)\n");
  ca_dir_close(&d);
  return CLI_EXIT_OK;
}
