/*
 * ca.c - `mutls ca`: a small certificate authority for mutual TLS, kept in
 * a directory. This file: the subcommand table, `ca init`, `ca issue` and
 * `ca renew`; `ca revoke`, `ca crl` and `ca list` are in ca_admin.c.
 *
 * Every command that writes does so through one fs_txn: all its files are
 * staged as temporary files first and renamed into place at the end, so a
 * command that fails leaves the directory as it found it.
 */
#include "ca_cli.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_CA_NAME "mutls CA"
#define INTER_SUFFIX " intermediate"

/* Prints "mutls ca SUB: <why>" and returns CLI_EXIT_FAIL. */
static int failed(const char *why) {
  cli_log("%s", why);
  return CLI_EXIT_FAIL;
}

/* A key type option (NULL: dflt). Returns CLI_EXIT_OK or a usage error. */
static int key_type_option(const cli_command *cmd, const char *text, mutls_key_type dflt,
                           mutls_key_type *out) {
  mutls_ca_status st;
  *out = dflt;
  if (text == NULL) return CLI_EXIT_OK;
  if (mutls_ca_key_type_from_name(text, out, &st) != MUTLS_OK)
    return cli_usage_error(cmd, "--key-type: %s", st.why);
  return CLI_EXIT_OK;
}

static int days_option(const cli_command *cmd, const char *text, unsigned dflt, unsigned max,
                       unsigned *out) {
  *out = dflt;
  if (text != NULL && !ca_parse_days(text, max, out))
    return cli_usage_error(cmd, "--days '%s': give a whole number of days from 1 to %u", text, max);
  return CLI_EXIT_OK;
}

/* The certificate and key of one CA we made, for printing. */
static void print_ca_cert(const char *role, const char *pem) {
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  char when[64], left[64];
  if (mutls_ca_inspect(pem, 0, &info, &n, NULL) != MUTLS_OK) return;
  ca_time_text(info[0].not_after, when, sizeof when);
  ca_expiry_text(info[0].not_after, (int64_t)time(NULL), left, sizeof left);
  printf("  %-14s %s, %s, serial %s\n", role, info[0].subject, info[0].key_type,
         info[0].serial_hex);
  printf("  %-14s valid until %s (%s)\n", "", when, left);
  mutls_ca_info_free(info, n);
}

/* ---- ca init ------------------------------------------------------------------------ */

static struct {
  const char *name, *key_type, *days;
  int intermediate;
} init_opt;

static const cli_option init_options[] = {
    {.name = "--name",
     .arg = "CN",
     .value = &init_opt.name,
     .help = "The root CA's common name, up to 64 characters ('" INTER_SUFFIX "' is\n"
             "added for the intermediate). Peers show it as the issuer of what it signs.\n"
             "Default: '" DEFAULT_CA_NAME "'.",
     .example = "--name 'Example Corp internal CA'"},
    {.name = "--key-type",
     .arg = "TYPE",
     .value = &init_opt.key_type,
     .help = "The CA key(s): p256 (ECDSA P-256, the default), p384, ed25519 or rsa3072.\n"
             "Leaves have their own --key-type (default p256) whatever the CA's is.",
     .example = "--key-type p384"},
    {.name = "--days",
     .arg = "N",
     .value = &init_opt.days,
     .help = "How long the CA is valid, 1 to 36500 days. Every certificate it issues must\n"
             "expire before it does. Default: 3650 (ten years).",
     .example = "--days 1825"},
    {.name = "--intermediate",
     .flag = &init_opt.intermediate,
     .help = "Also make an intermediate CA under the root: it signs every certificate and\n"
             "CRL, and the root key can then be kept offline. Peers still trust ca.pem (the\n"
             "root); the issued chains carry the intermediate.",
     .example = "--intermediate"},
};

static const cli_command init_cmd = {
    .name = "ca init",
    .synopsis = "mutls ca init DIR [--name CN] [--key-type p256|p384|ed25519|rsa3072]\n"
                "                     [--days N] [--intermediate]",
    .description = "Creates a certificate authority in DIR (created if missing; its parent must\n"
                   "exist): the root CA certificate DIR/ca.pem that peers trust, its key\n"
                   "DIR/ca.key (mode 0600), with --intermediate also DIR/intermediate.pem and\n"
                   "DIR/intermediate.key, the index of issued certificates DIR/index.txt, the CRL\n"
                   "number DIR/crlnumber, and DIR/issued/ for what mutls ca issue writes. A DIR\n"
                   "that already holds a CA is refused. Prints what was made.\n",
    .options = init_options,
    .n_options = sizeof init_options / sizeof init_options[0],
    .max_positionals = 1,
    .more_help = "Examples:\n"
                 "  mutls ca init pki\n"
                 "  mutls ca init /etc/mutls/ca --name 'Example internal CA' --intermediate\n"
                 "  mutls ca init pki --key-type ed25519 --days 365\n"
                 "\n"
                 "Exit status:\n"
                 "  0  the CA was made\n"
                 "  1  DIR already holds a CA, cannot be created or written (nothing is left\n"
                 "     behind), or the CA could not be made\n"
                 "  2  bad command line (an unknown --key-type, a bad --days, ...)\n",
};

static void init_help(FILE *out) {
  cli_print_help(out, &init_cmd);
}

/* The files of a CA: one of them present means DIR holds a CA. */
static const char *const ca_files[] = {CA_ROOT_CERT, CA_ROOT_KEY,  CA_INTER_CERT, CA_INTER_KEY,
                                       CA_INDEX,     CA_CRLNUMBER, CA_CRL};

/* Generates a key and a CA certificate for it: self-signed when issuer_pem
 * is NULL. Returns 0, or -1 with a sentence. */
static int make_ca(const mutls_ca_profile *p, mutls_key_type kt, const char *issuer_pem,
                   const char *issuer_key, char **key, char **cert,
                   char serial[MUTLS_CA_SERIAL_LEN], char *why, size_t cap) {
  mutls_ca_status st;
  if (mutls_ca_generate_key(kt, key, &st) != MUTLS_OK ||
      mutls_ca_issue(p, *key, issuer_pem, issuer_key, cert, serial, &st) != MUTLS_OK) {
    ca_say(why, cap, "cannot make the CA certificate for %s: %s", p->common_name, st.why);
    return -1;
  }
  return 0;
}

static int add_ca_entry(ca_index *ix, const char *serial, const char *name, const char *cert,
                        const char *file) {
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  if (mutls_ca_inspect(cert, 0, &info, &n, NULL) != MUTLS_OK) return -1;
  ca_entry e = {.kind = CA_KIND_CA,
                .name = (char *)name,
                .not_after = info[0].not_after,
                .file = (char *)file};
  snprintf(e.serial, sizeof e.serial, "%s", serial);
  mutls_ca_info_free(info, n);
  return ca_index_add(ix, &e);
}

/* Stages file name of DIR with text. */
static int stage_in(fs_txn *t, const char *dir, const char *name, const char *text, mode_t mode,
                    char *why, size_t cap) {
  char p[PATH_MAX];
  if (ca_path(p, sizeof p, dir, name) != 0) {
    ca_say(why, cap, "the path %s/%s is too long", dir, name);
    return -1;
  }
  return fs_txn_stage(t, p, text, strlen(text), mode, why, cap);
}

/* Everything init makes, once the directory is ours. */
typedef struct init_state {
  char *root_key, *root_cert, *inter_key, *inter_cert;
  char root_serial[MUTLS_CA_SERIAL_LEN], inter_serial[MUTLS_CA_SERIAL_LEN];
  ca_index index;
} init_state;

static int init_make(init_state *s, const char *cn, mutls_key_type kt, unsigned days, char *why,
                     size_t cap) {
  char inter_cn[CA_NAME_MAX + sizeof INTER_SUFFIX];
  mutls_ca_profile root = {.common_name = cn, .is_ca = 1, .days = days};
  /* The root allows exactly the one level of CA below it that it has. */
  root.path_len = init_opt.intermediate ? 1 : 0;
  if (make_ca(&root, kt, NULL, NULL, &s->root_key, &s->root_cert, s->root_serial, why, cap) != 0)
    return -1;
  if (add_ca_entry(&s->index, s->root_serial, cn, s->root_cert, CA_ROOT_CERT) != 0) {
    ca_say(why, cap, "cannot read back the root certificate just made");
    return -1;
  }
  if (!init_opt.intermediate) return 0;
  /* The intermediate starts with the root and ends five minutes before it
   * (the root's notBefore is backdated that much): it never outlives it. */
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  if (mutls_ca_inspect(s->root_cert, 0, &info, &n, NULL) != MUTLS_OK) {
    ca_say(why, cap, "cannot read back the root certificate just made");
    return -1;
  }
  snprintf(inter_cn, sizeof inter_cn, "%s%s", cn, INTER_SUFFIX);
  mutls_ca_profile inter = {.common_name = inter_cn,
                            .is_ca = 1,
                            .path_len = 0,
                            .days = days,
                            .not_before = info[0].not_before};
  mutls_ca_info_free(info, n);
  if (make_ca(&inter, kt, s->root_cert, s->root_key, &s->inter_key, &s->inter_cert, s->inter_serial,
              why, cap) != 0)
    return -1;
  if (add_ca_entry(&s->index, s->inter_serial, inter_cn, s->inter_cert, CA_INTER_CERT) != 0) {
    ca_say(why, cap, "cannot read back the intermediate certificate just made");
    return -1;
  }
  return 0;
}

static int init_stage(fs_txn *t, const char *dir, init_state *s, char *why, size_t cap) {
  char p[PATH_MAX];
  ca_dir d = {.path = dir, .lock_fd = -1, .index = s->index};
  if (ca_path(p, sizeof p, dir, CA_ISSUED) != 0 || fs_txn_mkdir(t, p, 0755, why, cap) != 0 ||
      stage_in(t, dir, CA_ROOT_KEY, s->root_key, 0600, why, cap) != 0 ||
      stage_in(t, dir, CA_ROOT_CERT, s->root_cert, 0644, why, cap) != 0)
    return -1;
  if (init_opt.intermediate &&
      (stage_in(t, dir, CA_INTER_KEY, s->inter_key, 0600, why, cap) != 0 ||
       stage_in(t, dir, CA_INTER_CERT, s->inter_cert, 0644, why, cap) != 0))
    return -1;
  if (stage_in(t, dir, CA_CRLNUMBER, "1\n", 0644, why, cap) != 0) return -1;
  return ca_stage_index(t, &d, why, cap);
}

static void init_print(const char *dir, const init_state *s) {
  char p[PATH_MAX];
  printf("created a certificate authority in %s\n", dir);
  print_ca_cert("root CA:", s->root_cert);
  if (init_opt.intermediate) print_ca_cert("intermediate:", s->inter_cert);
  printf("  %-14s %s\n", "signs with:", init_opt.intermediate ? "the intermediate" : "the root");
  const struct {
    const char *name, *what;
  } files[] = {
      {CA_ROOT_CERT, "the root certificate: what peers trust (--cacert, --client-ca)"},
      {CA_ROOT_KEY, "the root key (mode 0600)"},
      {CA_INTER_CERT, "the intermediate certificate (sent in every issued chain)"},
      {CA_INTER_KEY, "the intermediate key (mode 0600)"},
      {CA_INDEX, "the index of issued certificates"},
      {CA_CRLNUMBER, "the number of the next CRL"},
      {CA_ISSUED "/", "where mutls ca issue writes by default"},
  };
  printf("  files:\n");
  int width = (int)strlen(dir) + 1 + (int)strlen(CA_INTER_CERT);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (!init_opt.intermediate && strncmp(files[i].name, "intermediate", 12) == 0) continue;
    ca_path(p, sizeof p, dir, files[i].name);
    printf("    %-*s  %s\n", width, p, files[i].what);
  }
  printf("next: mutls ca issue %s --server NAME   or   mutls ca issue %s --client NAME --uri "
         "spiffe://...\n",
         dir, dir);
}

static int init_run(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX], p[PATH_MAX];
  mutls_key_type kt;
  unsigned days;
  cli_set_name("mutls ca init");
  if (!cli_parse(&init_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 1)
    return cli_usage_error(&init_cmd, "give the directory for the CA: mutls ca init DIR");
  if ((status = key_type_option(&init_cmd, init_opt.key_type, MUTLS_KEY_P256, &kt)) != 0 ||
      (status = days_option(&init_cmd, init_opt.days, CA_ROOT_DAYS, CA_MAX_DAYS, &days)) != 0)
    return status;
  const char *dir = pos[0], *cn = init_opt.name ? init_opt.name : DEFAULT_CA_NAME;
  if (strlen(cn) > CA_NAME_MAX - (init_opt.intermediate ? strlen(INTER_SUFFIX) : 0))
    return cli_usage_error(&init_cmd, "--name: at most %zu characters%s",
                           CA_NAME_MAX - (init_opt.intermediate ? strlen(INTER_SUFFIX) : 0),
                           init_opt.intermediate ? " with --intermediate" : "");

  fs_txn *t = fs_txn_new();
  init_state s = {0};
  int lock = -1;
  status = CLI_EXIT_FAIL;
  struct stat sb;
  if (t == NULL) {
    ca_say(why, sizeof why, "out of memory");
  } else if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
    ca_say(why, sizeof why, "%s exists and is not a directory; choose a directory for the CA", dir);
  } else if (fs_txn_mkdir(t, dir, 0755, why, sizeof why) == 0 &&
             (lock = fs_lock_dir(dir, why, sizeof why)) >= 0) {
    const char *found = NULL;
    for (size_t i = 0; i < sizeof ca_files / sizeof ca_files[0] && !found; i++)
      if (ca_path(p, sizeof p, dir, ca_files[i]) == 0 && fs_exists(p)) found = ca_files[i];
    if (found)
      ca_say(why, sizeof why,
             "%s already holds a CA (%s exists); use another directory, or move the old CA "
             "away first",
             dir, found);
    else if (init_make(&s, cn, kt, days, why, sizeof why) == 0 &&
             init_stage(t, dir, &s, why, sizeof why) == 0 && fs_txn_commit(t, why, sizeof why) == 0)
      status = CLI_EXIT_OK;
  }
  fs_txn_free(t); /* undoes everything unless committed */
  fs_unlock(lock);
  if (status == CLI_EXIT_OK) init_print(dir, &s);
  mutls_ca_free(s.root_key);
  mutls_ca_free(s.inter_key);
  mutls_ca_free(s.root_cert);
  mutls_ca_free(s.inter_cert);
  ca_index_free(&s.index);
  return status == CLI_EXIT_OK ? status : failed(why);
}

/* ---- what issue and renew share ------------------------------------------------------- */

/* A NAME: what the index and the default file name use, and the CN. Letters,
 * digits, '.', '-', '_', '@'; a server's may start with "*." (a wildcard). */
static bool valid_name(const char *name, bool server) {
  size_t n = strlen(name);
  if (server && strncmp(name, "*.", 2) == 0) name += 2;
  if (n == 0 || n > CA_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '\0')
    return false;
  for (const char *c = name; *c; c++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@", *c))
      return false;
  return true;
}

static bool is_ip(const char *s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A NULL-terminated copy of the n strings of v, for a profile; the strings
 * are not copied. NULL when out of memory. */
static const char **list_of(char *const *v, size_t n) {
  const char **out = calloc(n + 1, sizeof(*out));
  for (size_t i = 0; out != NULL && i < n; i++)
    out[i] = v[i];
  return out;
}

/* The index path of a PEM; whether path may be (over)written: not a file
 * of a certificate that still counts, not a file we did not write. */
static int check_target(ca_dir *d, const char *pem, const char *key, const char *pem_ix,
                        int64_t now, char *why, size_t cap) {
  size_t ours = 0;
  for (size_t i = 0; i < d->index.n; i++) {
    const ca_entry *e = &d->index.e[i];
    if (strcmp(e->file, pem_ix) != 0) continue;
    if (ca_entry_valid(e, now)) {
      ca_say(why, cap,
             "%s holds the certificate for %s (serial %s), which is still valid; choose "
             "another --out, or renew it with mutls ca renew %s %s",
             pem, e->name, e->serial, d->path, pem);
      return -1;
    }
    ours++;
  }
  const char *other = fs_exists(pem) ? pem : fs_exists(key) ? key : NULL;
  if (other != NULL && ours == 0) {
    ca_say(why, cap,
           "%s already exists and is not a certificate this CA issued; choose another --out "
           "or move it away",
           other);
    return -1;
  }
  return 0;
}

/* "a.pem" (and "a.key") from PREFIX or PREFIX.pem. */
static int prefix_paths(const char *prefix, char *pem, char *key, size_t cap) {
  size_t n = strlen(prefix);
  if (n > 4 && strcmp(prefix + n - 4, ".pem") == 0) n -= 4;
  int a = snprintf(pem, cap, "%.*s.pem", (int)n, prefix);
  int b = snprintf(key, cap, "%.*s.key", (int)n, prefix);
  return a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap ? -1 : 0;
}

/* What issue and renew print about the certificate made. */
static void print_leaf(const char *headline, const char *cert, const char *pem, const char *key,
                       const char *key_note, bool chain) {
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  char sans[2048], eku[128], when[64], left[64];
  printf("%s\n", headline);
  if (mutls_ca_inspect(cert, 0, &info, &n, NULL) == MUTLS_OK) {
    ca_sans_text(&info[0], sans, sizeof sans);
    ca_eku_text(&info[0], eku, sizeof eku);
    ca_time_text(info[0].not_after, when, sizeof when);
    ca_expiry_text(info[0].not_after, (int64_t)time(NULL), left, sizeof left);
    printf("  subject:    %s\n", info[0].subject);
    printf("  SANs:       %s\n", sans);
    if (info[0].spiffe_id) printf("  SPIFFE ID:  %s\n", info[0].spiffe_id);
    printf("  EKU:        %s\n", eku);
    printf("  key:        %s (%s)\n", info[0].key_type, key_note);
    printf("  serial:     %s\n", info[0].serial_hex);
    printf("  issuer:     %s\n", info[0].issuer);
    printf("  expires:    %s (%s)\n", when, left);
    mutls_ca_info_free(info, n);
  }
  printf("  files:      %s (the certificate%s)\n", pem, chain ? ", then the intermediate CA" : "");
  printf("              %s (the private key, mode 0600)\n", key);
}

/* Issues the leaf for key_pem with profile p from the CA in d, and stages
 * the chain at pem, key_pem at key (unless NULL) and the index with a new
 * entry. *cert receives the certificate. 0 or -1 with a sentence. */
static int issue_and_stage(fs_txn *t, ca_dir *d, const mutls_ca_profile *p, ca_kind kind,
                           const char *name, const char *key_pem, const char *pem,
                           const char *pem_ix, const char *key, char **cert, char *why,
                           size_t cap) {
  mutls_ca_status st;
  char serial[MUTLS_CA_SERIAL_LEN];
  if (mutls_ca_issue(p, key_pem, d->signer_pem, d->signer_key, cert, serial, &st) != MUTLS_OK) {
    ca_say(why, cap, "cannot issue the certificate for %s: %s", name, st.why);
    return -1;
  }
  if (ca_index_find(&d->index, serial) != NULL) {
    /* 126 random bits: this does not happen, but the index must stay unique. */
    ca_say(why, cap, "the new serial %s is already in the index; run the command again", serial);
    return -1;
  }
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  if (mutls_ca_inspect(*cert, 0, &info, &n, &st) != MUTLS_OK) {
    ca_say(why, cap, "cannot read back the certificate just issued: %s", st.why);
    return -1;
  }
  ca_entry e = {
      .kind = kind, .name = (char *)name, .not_after = info[0].not_after, .file = (char *)pem_ix};
  snprintf(e.serial, sizeof e.serial, "%s", serial);
  mutls_ca_info_free(info, n);
  size_t len = strlen(*cert) + strlen(d->chain_pem) + 1;
  char *chain = malloc(len);
  if (chain == NULL || ca_index_add(&d->index, &e) != 0) {
    free(chain);
    ca_say(why, cap, "out of memory");
    return -1;
  }
  snprintf(chain, len, "%s%s", *cert, d->chain_pem);
  int r = (key == NULL || fs_txn_stage(t, key, key_pem, strlen(key_pem), 0600, why, cap) == 0) &&
                  fs_txn_stage(t, pem, chain, strlen(chain), 0644, why, cap) == 0 &&
                  ca_stage_index(t, d, why, cap) == 0
              ? 0
              : -1;
  free(chain);
  return r;
}

/* ---- ca issue ---------------------------------------------------------------------------- */

static struct {
  const char *server, *client, *days, *key_type, *out;
  cli_list dns, ip, uri, email;
} issue_opt = {.dns = {.option = "--dns", .max = CLI_LIST_MAX},
               .ip = {.option = "--ip", .max = CLI_LIST_MAX},
               .uri = {.option = "--uri", .max = CLI_LIST_MAX},
               .email = {.option = "--email", .max = CLI_LIST_MAX}};

static const cli_option issue_options[] = {
    {.name = "--server",
     .arg = "NAME",
     .value = &issue_opt.server,
     .help = "Issue a TLS server certificate (extended key usage serverAuth) for the host\n"
             "NAME: its CN and its first SAN (a DNS name, or an IP address if NAME is one).\n"
             "A DNS name may start with '*.' (a wildcard).",
     .example = "--server api.example.org"},
    {.name = "--client",
     .arg = "NAME",
     .value = &issue_opt.client,
     .help = "Issue a TLS client certificate (extended key usage clientAuth) whose CN is\n"
             "NAME. Its SANs come from --uri, --dns and --email: at least one is required,\n"
             "since servers match clients by SAN (mutls server --allow-uri ...).",
     .example = "--client billing"},
    {.name = "--dns",
     .arg = "NAME",
     .add = cli_list_add,
     .ctx = &issue_opt.dns,
     .help = "Another DNS name SAN (repeatable, up to 16).",
     .example = "--dns api --dns api.internal"},
    {.name = "--ip",
     .arg = "ADDRESS",
     .add = cli_list_add,
     .ctx = &issue_opt.ip,
     .help = "An IPv4 or IPv6 address SAN, for clients that connect by address\n"
             "(repeatable, up to 16; --server only).",
     .example = "--ip 127.0.0.1 --ip ::1"},
    {.name = "--uri",
     .arg = "URI",
     .add = cli_list_add,
     .ctx = &issue_opt.uri,
     .help = "A URI SAN, such as a SPIFFE ID (repeatable, up to 16; --client only). With\n"
             "exactly one spiffe:// URI the certificate is a SPIFFE X509-SVID.",
     .example = "--uri spiffe://example.org/billing/api"},
    {.name = "--email",
     .arg = "ADDRESS",
     .add = cli_list_add,
     .ctx = &issue_opt.email,
     .help = "An email address SAN (repeatable, up to 16; --client only).",
     .example = "--email alice@example.org"},
    {.name = "--days",
     .arg = "N",
     .value = &issue_opt.days,
     .help = "How long the certificate is valid, 1 to 36500 days, and no longer than the CA.\n"
             "Default: 90. Renew it before then: mutls ca renew; mutls cert expiry tells when.",
     .example = "--days 30"},
    {.name = "--key-type",
     .arg = "TYPE",
     .value = &issue_opt.key_type,
     .help = "The new key: p256 (ECDSA P-256, the default), p384, ed25519 or rsa3072.",
     .example = "--key-type ed25519"},
    {.name = "--out",
     .arg = "PREFIX",
     .value = &issue_opt.out,
     .help = "Write PREFIX.pem (the certificate, then the intermediate CA if there is one)\n"
             "and PREFIX.key (its private key, mode 0600). The directory must exist.\n"
             "Default: DIR/issued/NAME ('*.' in NAME becomes 'wildcard.').",
     .example = "--out /etc/mutls/server"},
};

static const cli_command issue_cmd = {
    .name = "ca issue",
    .synopsis = "mutls ca issue DIR --server NAME [--dns D]... [--ip A]... [--days N]\n"
                "                      [--key-type T] [--out PREFIX]\n"
                "       mutls ca issue DIR --client NAME [--uri U]... [--dns D]... [--email E]...\n"
                "                      [--days N] [--key-type T] [--out PREFIX]",
    .description =
        "Makes a key and a certificate for a TLS server or a TLS client, signed by the CA\n"
        "in DIR: basicConstraints CA:FALSE, key usage digitalSignature, the extended key\n"
        "usage for its role, its SANs, key identifiers, and a random serial number. The\n"
        "index records it. A NAME that already has a valid certificate is refused: renew\n"
        "it (mutls ca renew) or revoke it first. Prints what was made.\n"
        "NAME: letters, digits, '.', '-', '_' and '@', up to 64 characters.\n",
    .options = issue_options,
    .n_options = sizeof issue_options / sizeof issue_options[0],
    .max_positionals = 1,
    .more_help =
        "Examples:\n"
        "  mutls ca issue pki --server localhost --ip 127.0.0.1 --ip ::1\n"
        "  mutls ca issue pki --server api.example.org --dns api --days 30\n"
        "  mutls ca issue pki --client billing --uri spiffe://example.org/billing/api\n"
        "  mutls ca issue pki --client alice --email alice@example.org --out ~/alice\n"
        "Then:\n"
        "  mutls server --listen 127.0.0.1:8443 --cert pki/issued/localhost.pem \\\n"
        "               --key pki/issued/localhost.key --client-ca pki/ca.pem --client-auth "
        "require\n"
        "  mutls client localhost:8443 --cacert pki/ca.pem --cert pki/issued/billing.pem \\\n"
        "               --key pki/issued/billing.key\n"
        "\n"
        "Exit status:\n"
        "  0  the certificate was issued\n"
        "  1  DIR is no CA, NAME already has a valid certificate, the files cannot be\n"
        "     written (nothing is left behind), or the CA refused (e.g. it would expire\n"
        "     before the certificate)\n"
        "  2  bad command line\n",
};

static void issue_help(FILE *out) {
  cli_print_help(out, &issue_cmd);
}

/* The checks that need no CA. */
static int issue_check_options(size_t np) {
  const cli_command *c = &issue_cmd;
  if (np != 1) return cli_usage_error(c, "give the CA directory: mutls ca issue DIR --server NAME");
  if (!issue_opt.server == !issue_opt.client)
    return cli_usage_error(c, "give exactly one of --server NAME and --client NAME");
  bool server = issue_opt.server != NULL;
  const char *name = server ? issue_opt.server : issue_opt.client;
  if (!(server && is_ip(name)) && !valid_name(name, server))
    return cli_usage_error(c, "%s '%s': a NAME is 1 to 64 letters, digits, '.', '-', '_' or '@'%s",
                           server ? "--server" : "--client", name,
                           server ? " (or an IP address; '*.' first for a wildcard)" : "");
  if (server && (issue_opt.uri.n || issue_opt.email.n))
    return cli_usage_error(c,
                           "%s is for --client certificates; a server is named by --dns and --ip",
                           issue_opt.uri.n ? "--uri" : "--email");
  if (!server && issue_opt.ip.n)
    return cli_usage_error(c, "--ip is for --server certificates; a client is named by --uri, "
                              "--dns or --email");
  if (!server && issue_opt.uri.n + issue_opt.dns.n + issue_opt.email.n == 0)
    return cli_usage_error(c, "--client needs at least one --uri, --dns or --email: servers "
                              "match client certificates by these names");
  return CLI_EXIT_OK;
}

static int issue_run(int argc, char **argv) {
  const char *pos[1];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX], pem[PATH_MAX], key[PATH_MAX], pem_ix[PATH_MAX];
  char prefix[PATH_MAX], issued[PATH_MAX];
  mutls_key_type kt;
  unsigned days;
  cli_set_name("mutls ca issue");
  if (!cli_parse(&issue_cmd, argc, argv, pos, &np, &status)) return status;
  if ((status = issue_check_options(np)) != 0 ||
      (status = key_type_option(&issue_cmd, issue_opt.key_type, MUTLS_KEY_P256, &kt)) != 0 ||
      (status = days_option(&issue_cmd, issue_opt.days, CA_LEAF_DAYS, CA_MAX_DAYS, &days)) != 0)
    return status;
  bool server = issue_opt.server != NULL;
  const char *name = server ? issue_opt.server : issue_opt.client, *dir = pos[0];
  ca_kind kind = server ? CA_KIND_SERVER : CA_KIND_CLIENT;

  ca_dir d;
  if (ca_dir_open(&d, dir, true, true, why, sizeof why) != 0) return failed(why);
  int64_t now = (int64_t)time(NULL);
  fs_txn *t = fs_txn_new();
  char *key_pem = NULL, *cert = NULL;
  const char **dns = NULL, **ip = NULL, **uri = NULL, **email = NULL;
  status = CLI_EXIT_FAIL;
  ca_say(why, sizeof why, "out of memory");
  for (size_t i = 0; i < d.index.n; i++) {
    const ca_entry *e = &d.index.e[i];
    if (e->kind != CA_KIND_CA && strcasecmp(e->name, name) == 0 && ca_entry_valid(e, now)) {
      char when[64];
      ca_time_text(e->not_after, when, sizeof when);
      ca_say(why, sizeof why,
             "%s already has a valid %s certificate (serial %s, until %s); renew it with "
             "mutls ca renew, or revoke it first with mutls ca revoke",
             name, ca_kind_name(e->kind), e->serial, when);
      goto out;
    }
  }
  if (issue_opt.out) {
    snprintf(prefix, sizeof prefix, "%s", issue_opt.out);
  } else {
    ca_path(issued, sizeof issued, dir, CA_ISSUED);
    ca_say(prefix, sizeof prefix, "%s/%s%s", issued, strncmp(name, "*.", 2) ? "" : "wildcard",
           strncmp(name, "*.", 2) ? name : name + 1);
  }
  if (prefix_paths(prefix, pem, key, sizeof pem) != 0) {
    ca_say(why, sizeof why, "the path %s is too long", prefix);
    goto out;
  }
  if (t == NULL) goto out;
  if (!issue_opt.out && fs_txn_mkdir(t, issued, 0755, why, sizeof why) != 0) goto out;
  if (ca_index_path(&d, pem, pem_ix, sizeof pem_ix, why, sizeof why) != 0 ||
      check_target(&d, pem, key, pem_ix, now, why, sizeof why) != 0)
    goto out;

  /* The SANs: a server's NAME first. */
  const char *first[1] = {name};
  bool name_is_ip = server && is_ip(name);
  size_t n_dns = issue_opt.dns.n, n_ip = issue_opt.ip.n;
  dns = calloc(n_dns + 2, sizeof(*dns));
  ip = calloc(n_ip + 2, sizeof(*ip));
  uri = list_of((char *const *)issue_opt.uri.item, issue_opt.uri.n);
  email = list_of((char *const *)issue_opt.email.item, issue_opt.email.n);
  if (!dns || !ip || !uri || !email) goto out;
  size_t nd = 0, ni = 0;
  if (server) {
    if (name_is_ip)
      ip[ni++] = first[0];
    else
      dns[nd++] = first[0];
  }
  for (size_t i = 0; i < n_dns; i++)
    if (!(server && strcasecmp(issue_opt.dns.item[i], name) == 0))
      dns[nd++] = issue_opt.dns.item[i];
  for (size_t i = 0; i < n_ip; i++)
    if (!(name_is_ip && strcmp(issue_opt.ip.item[i], name) == 0)) ip[ni++] = issue_opt.ip.item[i];
  mutls_ca_profile p = {.common_name = name,
                        .server_auth = server,
                        .client_auth = !server,
                        .dns = dns,
                        .ip = ip,
                        .uri = uri,
                        .email = email,
                        .days = days};
  mutls_ca_status st;
  if (mutls_ca_generate_key(kt, &key_pem, &st) != MUTLS_OK) {
    ca_say(why, sizeof why, "%s", st.why);
    goto out;
  }
  if (issue_and_stage(t, &d, &p, kind, name, key_pem, pem, pem_ix, key, &cert, why, sizeof why) !=
          0 ||
      fs_txn_commit(t, why, sizeof why) != 0)
    goto out;
  status = CLI_EXIT_OK;
  char headline[256];
  snprintf(headline, sizeof headline, "issued a %s certificate for %s", ca_kind_name(kind), name);
  print_leaf(headline, cert, pem, key, "new", d.intermediate);
out:
  fs_txn_free(t);
  ca_dir_close(&d);
  mutls_ca_free(key_pem);
  mutls_ca_free(cert);
  free(dns);
  free(ip);
  free(uri);
  free(email);
  return status == CLI_EXIT_OK ? status : failed(why);
}

/* ---- ca renew ------------------------------------------------------------------------------ */

static struct {
  const char *days, *key, *key_type;
  int rekey;
} renew_opt;

static const cli_option renew_options[] = {
    {.name = "--days",
     .arg = "N",
     .value = &renew_opt.days,
     .help = "How long the new certificate is valid, 1 to 36500 days, and no longer than\n"
             "the CA. Default: 90.",
     .example = "--days 30"},
    {.name = "--rekey",
     .flag = &renew_opt.rekey,
     .help = "Make a new key too, and write it over the key file. Without it the new\n"
             "certificate is for the same key, which must be in the key file.",
     .example = "--rekey"},
    {.name = "--key",
     .arg = "KEY.pem",
     .value = &renew_opt.key,
     .help = "The key file of CERT.pem. Default: CERT.pem with .pem changed to .key, as\n"
             "mutls ca issue writes it.",
     .example = "--key /etc/mutls/server.key"},
    {.name = "--key-type",
     .arg = "TYPE",
     .value = &renew_opt.key_type,
     .help = "With --rekey: the new key's type, p256, p384, ed25519 or rsa3072. Default:\n"
             "the type of the old key.",
     .example = "--key-type p384"},
};

static const cli_command renew_cmd = {
    .name = "ca renew",
    .synopsis = "mutls ca renew DIR CERT.pem [--days N] [--rekey] [--key KEY.pem]\n"
                "                      [--key-type T]",
    .description =
        "Issues a new certificate with the names, extended key usage and subject of\n"
        "CERT.pem (issued by the CA in DIR, not revoked), a new serial number and a new\n"
        "validity, for the same key unless --rekey. The new chain is written over\n"
        "CERT.pem (and the new key over the key file with --rekey); the index gets a new\n"
        "entry. The old certificate stays valid until it expires, so that peers still\n"
        "using it keep working: revoke it (mutls ca revoke DIR --serial S) if it must\n"
        "stop sooner.\n",
    .options = renew_options,
    .n_options = sizeof renew_options / sizeof renew_options[0],
    .max_positionals = 2,
    .more_help = "Examples:\n"
                 "  mutls ca renew pki pki/issued/localhost.pem\n"
                 "  mutls ca renew pki pki/issued/billing.pem --rekey --days 30\n"
                 "  mutls ca renew pki /etc/mutls/server.pem --key /etc/mutls/server.key\n"
                 "Cron, renewing what expires within 30 days:\n"
                 "  mutls cert expiry pki/issued/app.pem --within 30d --quiet ||\n"
                 "    mutls ca renew pki pki/issued/app.pem\n"
                 "\n"
                 "Exit status:\n"
                 "  0  renewed\n"
                 "  1  CERT.pem is unreadable, not in the index or revoked, the key does not\n"
                 "     match it, or the files cannot be written (nothing is left behind)\n"
                 "  2  bad command line\n",
};

static void renew_help(FILE *out) {
  cli_print_help(out, &renew_cmd);
}

static int renew_run(int argc, char **argv) {
  const char *pos[2];
  size_t np;
  int status;
  char why[FS_WHY_MAX + PATH_MAX], key[PATH_MAX], pem_ix[PATH_MAX];
  unsigned days;
  cli_set_name("mutls ca renew");
  if (!cli_parse(&renew_cmd, argc, argv, pos, &np, &status)) return status;
  if (np != 2)
    return cli_usage_error(&renew_cmd, "give the CA directory and the certificate: mutls ca renew "
                                       "DIR CERT.pem");
  if (renew_opt.key_type && !renew_opt.rekey)
    return cli_usage_error(&renew_cmd, "--key-type needs --rekey (without it the key stays)");
  mutls_key_type kt = MUTLS_KEY_P256;
  if ((status = key_type_option(&renew_cmd, renew_opt.key_type, MUTLS_KEY_P256, &kt)) != 0 ||
      (status = days_option(&renew_cmd, renew_opt.days, CA_LEAF_DAYS, CA_MAX_DAYS, &days)) != 0)
    return status;
  const char *dir = pos[0], *pem = pos[1];
  if (renew_opt.key) {
    snprintf(key, sizeof key, "%s", renew_opt.key);
  } else {
    char unused[PATH_MAX];
    if (prefix_paths(pem, unused, key, sizeof key) != 0)
      return failed("the certificate path is too long");
  }

  /* The certificate first: a corrupt file needs no CA to be told. */
  char *old_pem = NULL, *key_pem = NULL, *cert = NULL;
  mutls_ca_cert_info *info = NULL;
  size_t n_info = 0;
  if (ca_read_cert_file(pem, 0, &old_pem, &info, &n_info, why, sizeof why) != 0) return failed(why);
  ca_dir d;
  if (ca_dir_open(&d, dir, true, true, why, sizeof why) != 0) {
    free(old_pem);
    mutls_ca_info_free(info, n_info);
    return failed(why);
  }
  fs_txn *t = fs_txn_new();
  const char **dns = NULL, **ip = NULL, **uri = NULL, **email = NULL;
  const mutls_ca_cert_info *old = &info[0];
  char name[CA_NAME_MAX * 4 + 1], old_serial[MUTLS_CA_SERIAL_LEN], old_until[64];
  status = CLI_EXIT_FAIL;
  ca_say(why, sizeof why, "out of memory");
  ca_entry *e = ca_index_find(&d.index, old->serial_hex);
  if (e == NULL) {
    ca_say(why, sizeof why,
           "%s (serial %s, %s) was not issued by the CA in %s: it is not in its index", pem,
           old->serial_hex, old->subject, dir);
    goto out;
  }
  if (e->kind == CA_KIND_CA || e->revoked) {
    ca_say(why, sizeof why, "%s is %s; %s", pem, e->revoked ? "revoked" : "a CA certificate",
           e->revoked ? "issue a new certificate with mutls ca issue instead"
                      : "mutls ca renews server and client certificates only");
    goto out;
  }
  ca_kind kind = e->kind;
  snprintf(name, sizeof name, "%s", e->name);
  snprintf(old_serial, sizeof old_serial, "%s", e->serial);
  ca_time_text(e->not_after, old_until, sizeof old_until);
  mutls_ca_status st;
  if (renew_opt.rekey) {
    if (!renew_opt.key_type && !ca_key_type_of(old->key_type, &kt)) kt = MUTLS_KEY_P256;
    if (mutls_ca_generate_key(kt, &key_pem, &st) != MUTLS_OK) {
      ca_say(why, sizeof why, "%s", st.why);
      goto out;
    }
  } else {
    if (fs_read_text(key, CA_PEM_MAX, &key_pem, NULL, why, sizeof why) != 0) goto out;
    if (mutls_ca_key_matches(old_pem, key_pem, &st) != MUTLS_OK) {
      ca_say(why, sizeof why, "%s: %s (or renew with --rekey for a new key)", key, st.why);
      goto out;
    }
  }
  if (t == NULL || ca_index_path(&d, pem, pem_ix, sizeof pem_ix, why, sizeof why) != 0) goto out;
  dns = list_of(old->dns.v, old->dns.n);
  ip = list_of(old->ip.v, old->ip.n);
  uri = list_of(old->uri.v, old->uri.n);
  email = list_of(old->email.v, old->email.n);
  if (!dns || !ip || !uri || !email) goto out;
  mutls_ca_profile p = {.common_name = old->common_name[0] ? old->common_name : name,
                        .server_auth = old->has_eku ? old->server_auth : kind == CA_KIND_SERVER,
                        .client_auth = old->has_eku ? old->client_auth : kind == CA_KIND_CLIENT,
                        .dns = dns,
                        .ip = ip,
                        .uri = uri,
                        .email = email,
                        .days = days};
  if (issue_and_stage(t, &d, &p, kind, name, key_pem, pem, pem_ix, renew_opt.rekey ? key : NULL,
                      &cert, why, sizeof why) != 0 ||
      fs_txn_commit(t, why, sizeof why) != 0)
    goto out;
  status = CLI_EXIT_OK;
  char headline[256];
  ca_say(headline, sizeof headline, "renewed the %s certificate for %s", ca_kind_name(kind), name);
  print_leaf(headline, cert, pem, key, renew_opt.rekey ? "new" : "the same key as before",
             d.intermediate);
  printf("the old certificate (serial %s) stays valid until %s;\n"
         "revoke it once nothing uses it: mutls ca revoke %s --serial %s --reason superseded\n",
         old_serial, old_until, dir, old_serial);
out:
  fs_txn_free(t);
  ca_dir_close(&d);
  free(old_pem);
  mutls_ca_info_free(info, n_info);
  if (renew_opt.rekey)
    mutls_ca_free(key_pem);
  else
    fs_free_secret(key_pem);
  mutls_ca_free(cert);
  free(dns);
  free(ip);
  free(uri);
  free(email);
  return status == CLI_EXIT_OK ? status : failed(why);
}

/* ---- the group ---------------------------------------------------------------------------- */

static const ca_sub ca_subs[] = {
    {"init", "create a CA in a directory: root (and intermediate) CA, index", init_run, init_help},
    {"issue", "issue a server or client certificate and its key", issue_run, issue_help},
    {"renew", "issue a certificate again: same names, new validity (and key)", renew_run,
     renew_help},
    {"revoke", "mark a certificate revoked in the index", ca_revoke_main, ca_revoke_help},
    {"crl", "write the CRL (crl.pem) of the revoked certificates", ca_crl_main, ca_crl_help},
    {"list", "every certificate issued: name, serial, status, expiry", ca_list_main, ca_list_help},
};
#define N_CA_SUBS (sizeof ca_subs / sizeof ca_subs[0])

void ca_help(FILE *out) {
  ca_group_help(out, "ca",
                "A small certificate authority for mutual TLS, kept in one directory: it makes\n"
                "keys and certificates with the profiles TLS servers and clients expect, records\n"
                "them in an index, renews and revokes them, and writes CRLs. Peers trust one\n"
                "file, DIR/ca.pem. See docs/cli/ca.md.\n",
                ca_subs, N_CA_SUBS,
                "Examples:\n"
                "  mutls ca init pki --name 'Example CA'\n"
                "  mutls ca issue pki --server localhost --ip 127.0.0.1\n"
                "  mutls ca issue pki --client billing --uri spiffe://example.org/billing\n"
                "  mutls ca list pki\n"
                "  mutls ca revoke pki pki/issued/billing.pem --reason keyCompromise\n"
                "  mutls ca crl pki\n"
                "\n"
                "Exit status: 0 success, 1 failure (one sentence on stderr; nothing is left\n"
                "half-written), 2 bad command line.\n");
}

int ca_main(int argc, char **argv) {
  return ca_dispatch("ca", ca_subs, N_CA_SUBS, ca_help, argc, argv);
}
