/*
 * ca_store.c - what `mutls ca` and `mutls cert` share (ca_cli.h): the
 * subcommand groups, showing certificates and dates, the index of a CA
 * directory, and opening a CA directory.
 */
#include "ca_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* ---- subcommand groups ---------------------------------------------------------- */

void ca_group_help(FILE *out, const char *group, const char *description, const ca_sub *subs,
                   size_t n, const char *more) {
  fprintf(out, "Usage: mutls %s SUBCOMMAND [ARGS] [OPTIONS]\n\n%s\nSubcommands:\n", group,
          description);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].summary);
  fprintf(out, "\nEvery subcommand takes --help (mutls %s %s --help).\n", group, subs[0].name);
  if (more) fprintf(out, "\n%s", more);
}

int ca_dispatch(const char *group, const ca_sub *subs, size_t n, void (*group_help)(FILE *out),
                int argc, char **argv) {
  char names[256] = "";
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", i == 0 ? "" : ", ", subs[i].name);
  }
  if (argc < 2) {
    fprintf(stderr, "mutls %s: give a subcommand (%s); see mutls %s --help\n", group, names, group);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  bool help_word = strcmp(name, "help") == 0;
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || (help_word && argc == 2)) {
    group_help(stdout);
    return CLI_EXIT_OK;
  }
  /* `mutls ca help issue` is `mutls ca issue --help`. */
  if (help_word && argc > 3) {
    fprintf(stderr, "mutls %s help: takes one subcommand name; see mutls %s --help\n", group,
            group);
    return CLI_EXIT_USAGE;
  }
  if (help_word) name = argv[2];
  for (size_t i = 0; i < n; i++) {
    if (strcmp(subs[i].name, name) != 0) continue;
    if (help_word) {
      subs[i].help(stdout);
      return CLI_EXIT_OK;
    }
    return subs[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr,
          "mutls %s: unknown subcommand '%s' (the subcommands are: %s); see mutls %s --help\n",
          group, name, names, group);
  return CLI_EXIT_USAGE;
}

void ca_say(char *out, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, cap, fmt, ap);
  va_end(ap);
}

/* ---- showing things ------------------------------------------------------------------ */

void ca_time_text(int64_t t, char *out, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    snprintf(out, cap, "(unreadable date)");
}

/* "30 days", "1 day", "5 hours", "12 minutes", rounded to the nearest unit:
 * days from 23.5 hours on (so a day less a few seconds is "1 day", not "24
 * hours"), hours from 59.5 minutes on. */
static void span_text(int64_t s, char *out, size_t cap) {
  int64_t n;
  const char *unit;
  if (s >= 84600) {
    n = (s + 43200) / 86400;
    unit = "day";
  } else if (s >= 3570) {
    n = (s + 1800) / 3600;
    unit = "hour";
  } else {
    n = (s + 30) / 60;
    unit = "minute";
  }
  if (n < 1) n = 1;
  snprintf(out, cap, "%lld %s%s", (long long)n, unit, n == 1 ? "" : "s");
}

void ca_expiry_text(int64_t not_after, int64_t now, char *out, size_t cap) {
  char span[64];
  if (not_after > now) {
    span_text(not_after - now, span, sizeof span);
    snprintf(out, cap, "expires in %s", span);
  } else {
    span_text(now - not_after, span, sizeof span);
    snprintf(out, cap, "expired %s ago", span);
  }
}

static void append(char *out, size_t cap, const char *prefix, const char *s) {
  size_t used = strlen(out);
  if (used < cap) snprintf(out + used, cap - used, "%s%s%s", used ? ", " : "", prefix, s);
}

void ca_sans_text(const mutls_ca_cert_info *info, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < info->dns.n; i++)
    append(out, cap, "DNS:", info->dns.v[i]);
  for (size_t i = 0; i < info->ip.n; i++)
    append(out, cap, "IP:", info->ip.v[i]);
  for (size_t i = 0; i < info->uri.n; i++)
    append(out, cap, "URI:", info->uri.v[i]);
  for (size_t i = 0; i < info->email.n; i++)
    append(out, cap, "email:", info->email.v[i]);
  if (out[0] == '\0') snprintf(out, cap, "none");
}

void ca_eku_text(const mutls_ca_cert_info *info, char *out, size_t cap) {
  out[0] = '\0';
  if (!info->has_eku) {
    snprintf(out, cap, "none listed (any use)");
    return;
  }
  if (info->server_auth) append(out, cap, "", "serverAuth");
  if (info->client_auth) append(out, cap, "", "clientAuth");
  if (out[0] == '\0') snprintf(out, cap, "neither serverAuth nor clientAuth (not for TLS)");
}

void ca_why_for_file(const char *why, const char *path, char *out, size_t cap) {
  static const char label[] = "the certificate PEM";
  const char *at = strstr(why, label);
  if (at == NULL)
    snprintf(out, cap, "%s: %s", path, why);
  else
    snprintf(out, cap, "%.*s%s%s", (int)(at - why), why, path, at + strlen(label));
}

static const struct {
  mutls_key_type type;
  const char *name, *text;
} key_types[] = {
    {MUTLS_KEY_P256, "p256", "ECDSA P-256"},
    {MUTLS_KEY_P384, "p384", "ECDSA P-384"},
    {MUTLS_KEY_ED25519, "ed25519", "Ed25519"},
    {MUTLS_KEY_RSA3072, "rsa3072", "RSA 3072"},
};

bool ca_key_type_of(const char *text, mutls_key_type *type) {
  for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++) {
    if (strcmp(text, key_types[i].text) == 0) {
      *type = key_types[i].type;
      return true;
    }
  }
  return false;
}

const char *ca_key_type_name(mutls_key_type type) {
  for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++)
    if (key_types[i].type == type) return key_types[i].name;
  return "?";
}

int ca_read_cert_file(const char *path, int whole_chain, char **pem, mutls_ca_cert_info **info,
                      size_t *n, char *why, size_t cap) {
  char *text = NULL;
  mutls_ca_status st;
  *info = NULL;
  *n = 0;
  if (pem != NULL) *pem = NULL;
  if (fs_read_text(path, CA_PEM_MAX, &text, NULL, why, cap) != 0) return -1;
  if (mutls_ca_inspect(text, whole_chain, info, n, &st) != MUTLS_OK) {
    ca_why_for_file(st.why, path, why, cap);
    free(text);
    return -1;
  }
  if (pem != NULL)
    *pem = text;
  else
    free(text);
  return 0;
}

/* ---- the index --------------------------------------------------------------------------- */

static const char *const kind_names[] = {"ca", "server", "client"};

const char *ca_kind_name(ca_kind kind) {
  return (unsigned)kind < 3 ? kind_names[kind] : "?";
}

bool ca_entry_valid(const ca_entry *e, int64_t now) {
  return !e->revoked && e->not_after > now;
}

int ca_index_add(ca_index *ix, const ca_entry *e) {
  ca_entry *v = realloc(ix->e, (ix->n + 1) * sizeof(*v));
  if (v == NULL) return -1;
  ix->e = v;
  ca_entry *c = &v[ix->n];
  *c = *e;
  c->name = strdup(e->name);
  c->file = strdup(e->file ? e->file : "");
  if (c->name == NULL || c->file == NULL) {
    free(c->name);
    free(c->file);
    return -1;
  }
  ix->n++;
  return 0;
}

/* Serial numbers compare as numbers: case and leading zeros do not count. */
static bool same_serial(const char *a, const char *b) {
  while (*a == '0' && a[1] != '\0')
    a++;
  while (*b == '0' && b[1] != '\0')
    b++;
  return strcasecmp(a, b) == 0;
}

ca_entry *ca_index_find(ca_index *ix, const char *serial) {
  for (size_t i = 0; i < ix->n; i++)
    if (same_serial(ix->e[i].serial, serial)) return &ix->e[i];
  return NULL;
}

void ca_index_free(ca_index *ix) {
  for (size_t i = 0; i < ix->n; i++) {
    free(ix->e[i].name);
    free(ix->e[i].file);
  }
  free(ix->e);
  ix->e = NULL;
  ix->n = 0;
}

static void index_time(int64_t t, char *out, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(out, cap, "-");
}

static int parse_index_time(const char *s, int64_t *out) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == NULL || *end != '\0') return -1;
  *out = (int64_t)timegm(&tm);
  return 0;
}

static const char index_header[] =
    "# mutls CA index (written by mutls ca; see docs/cli/ca.md). One line per\n"
    "# certificate, fields separated by one tab, times in UTC:\n"
    "# serial\tkind\tname\tstatus\tnotAfter\trevokedAt\treason\tfile\n";

char *ca_index_format(const ca_index *ix) {
  size_t cap = sizeof index_header + 1;
  for (size_t i = 0; i < ix->n; i++)
    cap += strlen(ix->e[i].serial) + strlen(ix->e[i].name) + strlen(ix->e[i].file) + 128;
  char *out = malloc(cap);
  if (out == NULL) return NULL;
  size_t used = (size_t)snprintf(out, cap, "%s", index_header);
  for (size_t i = 0; i < ix->n; i++) {
    const ca_entry *e = &ix->e[i];
    char after[32], revoked[32] = "-";
    index_time(e->not_after, after, sizeof after);
    if (e->revoked) index_time(e->revoked_at, revoked, sizeof revoked);
    used +=
        (size_t)snprintf(out + used, cap - used, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->serial,
                         ca_kind_name(e->kind), e->name, e->revoked ? "revoked" : "valid", after,
                         revoked, e->revoked ? e->reason : "-", e->file[0] ? e->file : "-");
  }
  return out;
}

/* Splits line (modified) into at most n tab-separated fields; the last takes
 * the rest of the line. Returns how many there were. */
static size_t split_tabs(char *line, char **f, size_t n) {
  size_t k = 0;
  f[k++] = line;
  while (k < n) {
    char *tab = strchr(f[k - 1], '\t');
    if (tab == NULL) break;
    *tab = '\0';
    f[k++] = tab + 1;
  }
  return k;
}

static bool is_hex(const char *s) {
  return s[0] != '\0' && strspn(s, "0123456789ABCDEFabcdef") == strlen(s) &&
         strlen(s) < MUTLS_CA_SERIAL_LEN;
}

/* One line into e (strings pointing into line). NULL, or what is wrong. */
static const char *parse_line(char *line, ca_entry *e) {
  char *f[8];
  if (split_tabs(line, f, 8) != 8) return "it does not have the 8 tab-separated fields";
  memset(e, 0, sizeof *e);
  if (!is_hex(f[0])) return "the serial number is not hex";
  snprintf(e->serial, sizeof e->serial, "%s", f[0]);
  bool kind_ok = false;
  for (int k = 0; k < 3; k++)
    if (strcmp(f[1], kind_names[k]) == 0) {
      e->kind = (ca_kind)k;
      kind_ok = true;
    }
  if (!kind_ok) return "the kind is not ca, server or client";
  if (f[2][0] == '\0') return "the name is empty";
  e->name = f[2];
  if (strcmp(f[3], "valid") != 0 && strcmp(f[3], "revoked") != 0)
    return "the status is not valid or revoked";
  e->revoked = strcmp(f[3], "revoked") == 0;
  if (parse_index_time(f[4], &e->not_after) != 0) return "notAfter is not YYYY-MM-DDTHH:MM:SSZ";
  if (e->revoked) {
    mutls_crl_reason reason;
    if (parse_index_time(f[5], &e->revoked_at) != 0)
      return "the revocation time is not YYYY-MM-DDTHH:MM:SSZ";
    if (mutls_ca_reason_from_name(f[6], &reason, NULL) != MUTLS_OK)
      return "the revocation reason is not an RFC 5280 reason name";
    snprintf(e->reason, sizeof e->reason, "%s", mutls_ca_reason_name(reason));
  } else if (strcmp(f[5], "-") != 0 || strcmp(f[6], "-") != 0) {
    return "a valid certificate has a revocation time or reason (write - for none)";
  }
  e->file = strcmp(f[7], "-") == 0 ? "" : f[7];
  return NULL;
}

static int parse_index(char *text, const char *path, ca_index *ix, char *why, size_t cap) {
  unsigned line_no = 0;
  char *save = NULL;
  /* strtok_r skips empty lines, which the index never has anyway. */
  for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    line_no++;
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
    if (line[0] == '#' || len == 0) continue;
    ca_entry e;
    const char *bad = parse_line(line, &e);
    if (bad != NULL) {
      ca_say(why, cap, "%s line %u is damaged: %s; repair or remove that line", path, line_no, bad);
      return -1;
    }
    if (ca_index_find(ix, e.serial) != NULL) {
      ca_say(why, cap, "%s line %u lists serial %s a second time; remove one of them", path,
             line_no, e.serial);
      return -1;
    }
    if (ca_index_add(ix, &e) != 0) {
      ca_say(why, cap, "out of memory reading %s", path);
      return -1;
    }
  }
  return 0;
}

/* ---- the CA directory --------------------------------------------------------------------- */

int ca_path(char *out, size_t cap, const char *dir, const char *name) {
  size_t dl = strlen(dir);
  bool slash = dl > 0 && dir[dl - 1] == '/';
  int n = snprintf(out, cap, "%s%s%s", dir, slash ? "" : "/", name);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int read_crl_number(const char *path, uint64_t *out, char *why, size_t cap) {
  char *text = NULL;
  if (fs_read_text(path, 64, &text, NULL, why, cap) != 0) return -1;
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(text, &end, 10);
  bool ok = text[0] >= '0' && text[0] <= '9' && errno == 0 && end != NULL &&
            (*end == '\0' || strcmp(end, "\n") == 0) && n >= 1 && n < UINT64_MAX;
  free(text);
  if (!ok) {
    ca_say(why, cap, "%s does not hold a CRL number (one decimal number, 1 or more)", path);
    return -1;
  }
  *out = n;
  return 0;
}

int ca_dir_open(ca_dir *d, const char *path, bool lock, bool need_key, char *why, size_t cap) {
  char p[PATH_MAX];
  struct stat sb;
  memset(d, 0, sizeof *d);
  d->path = path;
  d->lock_fd = -1;
  if (stat(path, &sb) != 0) {
    if (errno == ENOENT)
      ca_say(why, cap, "%s does not exist; create a CA there with mutls ca init %s", path, path);
    else
      ca_say(why, cap, "cannot open the CA directory %s: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(sb.st_mode)) {
    ca_say(why, cap, "%s is not a directory (give the directory of a CA made by mutls ca init)",
           path);
    return -1;
  }
  if (ca_path(p, sizeof p, path, CA_INDEX) != 0 || !fs_exists(p)) {
    ca_say(why, cap, "%s holds no CA (there is no %s); create one with mutls ca init %s", path,
           CA_INDEX, path);
    return -1;
  }
  if (lock && (d->lock_fd = fs_lock_dir(path, why, cap)) < 0) return -1;

  /* The signing CA: the intermediate if there is one, else the root. */
  ca_path(p, sizeof p, path, CA_INTER_CERT);
  d->intermediate = fs_exists(p);
  if (!d->intermediate) ca_path(p, sizeof p, path, CA_ROOT_CERT);
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  if (ca_read_cert_file(p, 0, &d->signer_pem, &info, &n, why, cap) != 0) goto fail;
  snprintf(d->signer_subject, sizeof d->signer_subject, "%s", info[0].subject);
  d->signer_not_after = info[0].not_after;
  bool is_ca = info[0].is_ca;
  mutls_ca_info_free(info, n);
  if (!is_ca) {
    ca_say(why, cap, "%s is not a CA certificate (basicConstraints CA:TRUE)", p);
    goto fail;
  }
  d->chain_pem = strdup(d->intermediate ? d->signer_pem : "");
  if (d->chain_pem == NULL) {
    ca_say(why, cap, "out of memory");
    goto fail;
  }
  if (need_key) {
    ca_path(p, sizeof p, path, d->intermediate ? CA_INTER_KEY : CA_ROOT_KEY);
    if (fs_read_text(p, CA_PEM_MAX, &d->signer_key, NULL, why, cap) != 0) goto fail;
    mutls_ca_status st;
    if (mutls_ca_key_matches(d->signer_pem, d->signer_key, &st) != MUTLS_OK) {
      ca_say(why, cap, "%s: %s", p, st.why);
      goto fail;
    }
  }

  ca_path(p, sizeof p, path, CA_CRLNUMBER);
  if (read_crl_number(p, &d->crl_number, why, cap) != 0) goto fail;
  ca_path(p, sizeof p, path, CA_INDEX);
  char *text = NULL;
  if (fs_read_text(p, CA_INDEX_MAX, &text, NULL, why, cap) != 0) goto fail;
  int r = parse_index(text, p, &d->index, why, cap);
  free(text);
  if (r != 0) goto fail;
  return 0;
fail:
  ca_dir_close(d);
  return -1;
}

void ca_dir_close(ca_dir *d) {
  free(d->signer_pem);
  fs_free_secret(d->signer_key);
  free(d->chain_pem);
  ca_index_free(&d->index);
  fs_unlock(d->lock_fd);
  d->signer_pem = d->signer_key = d->chain_pem = NULL;
  d->lock_fd = -1;
}

int ca_index_path(const ca_dir *d, const char *file, char *out, size_t cap, char *why,
                  size_t wcap) {
  char dir[PATH_MAX], real_ca[PATH_MAX], real_dir[PATH_MAX];
  const char *slash = strrchr(file, '/');
  const char *base = slash ? slash + 1 : file;
  if (slash == NULL)
    snprintf(dir, sizeof dir, ".");
  else if (slash == file)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
  if (realpath(d->path, real_ca) == NULL || realpath(dir, real_dir) == NULL) {
    ca_say(why, wcap, "cannot write %s: its directory %s cannot be used: %s", file, dir,
           strerror(errno));
    return -1;
  }
  size_t cl = strlen(real_ca);
  int n;
  if (strcmp(real_dir, real_ca) == 0)
    n = snprintf(out, cap, "%s", base);
  else if (strncmp(real_dir, real_ca, cl) == 0 && (real_dir[cl] == '/' || cl == 1))
    n = snprintf(out, cap, "%s/%s", real_dir + cl + (cl == 1 ? 0 : 1), base);
  else
    n = snprintf(out, cap, "%s/%s", strcmp(real_dir, "/") == 0 ? "" : real_dir, base);
  if (n < 0 || (size_t)n >= cap) {
    ca_say(why, wcap, "the path %s is too long", file);
    return -1;
  }
  if (strpbrk(out, "\t\n\r") != NULL) {
    ca_say(why, wcap, "the path %s holds a tab or a line break, which the index cannot hold", file);
    return -1;
  }
  return 0;
}

void ca_entry_path(const ca_dir *d, const ca_entry *e, char *out, size_t cap) {
  if (e->file[0] == '/')
    snprintf(out, cap, "%s", e->file);
  else if (ca_path(out, cap, d->path, e->file) != 0)
    snprintf(out, cap, "%s", e->file);
}

int ca_stage_index(fs_txn *t, const ca_dir *d, char *why, size_t cap) {
  char p[PATH_MAX];
  char *text = ca_index_format(&d->index);
  if (text == NULL) {
    ca_say(why, cap, "out of memory");
    return -1;
  }
  ca_path(p, sizeof p, d->path, CA_INDEX);
  int r = fs_txn_stage(t, p, text, strlen(text), 0644, why, cap);
  free(text);
  return r;
}

bool ca_parse_days(const char *text, unsigned max, unsigned *out) {
  unsigned long n;
  if (cli_parse_uint(text, max, &n) != 0 || n < 1) return false;
  *out = (unsigned)n;
  return true;
}
