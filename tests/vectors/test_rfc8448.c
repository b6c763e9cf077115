/*
 * test_rfc8448.c - RFC 8448's traces as test vectors: section 3 (simple
 * 1-RTT), section 5 (HelloRetryRequest) and section 6 (client
 * authentication), each from both sides.
 *
 * No trace bytes live in this repository: the hex blocks are read at run
 * time from rfc8448-tls13-traces.txt (in $MUTLS_SPEC_DIR, or
 * ../shared/spec relative to the repository root, where tests run). The
 * random values, ephemeral private keys, the server's RSA key and
 * certificate, and the pieces a peer chooses freely (the client's hellos,
 * the server's extra EncryptedExtensions, its randomized RSA-PSS signature,
 * its HRR cookie) are injected through mt_test_inject; everything else our
 * code computes must then equal the trace byte for byte.
 *
 * Section 6 shows neither certificate's private key: both identities are
 * the trace's certificates beside stand-in keys, with the trace's own
 * signatures injected (see standin_identity). The peers' signatures are
 * verified with the trace's certificates as usual.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h"

/* ==== the trace file ======================================================== */

/* One "label (N octets):  hex..." block (or "label:  hex..." in section 2,
 * which gives no length), with the "{client}/{server}  step" line it
 * follows. */
typedef struct {
  int section;
  char step[160];
  char label[80];
  long declared; /* N, or -1 when the label states no length */
  uint8_t *p;
  size_t len, cap;
} block;

static block *blocks;
static size_t n_blocks;

typedef struct {
  const uint8_t *p;
  size_t len;
} vec;

static const vec no_vec = {(const uint8_t *)"", 0};

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (!f) return NULL;
  do {
    if (n + 4096 + 1 > cap) {
      char *nb = realloc(buf, cap = cap * 2 + 8192);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, 4096, f);
    n += got;
  } while (got > 0);
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static int is_blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\f') return 0;
  return 1;
}

/* Parses space-separated two-digit hex octets. Returns how many there are,
 * or -1 if s holds anything else. Appends them to b when b is not NULL. */
static long hex_octets(const char *s, block *b) {
  long n = 0;
  while (*s) {
    if (*s == ' ') {
      s++;
      continue;
    }
    int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
    if (lo < 0 || (s[2] != ' ' && s[2] != 0)) return -1;
    if (b) {
      if (b->len == b->cap) {
        uint8_t *np = realloc(b->p, b->cap = b->cap * 2 + 64);
        if (!np) return -1;
        b->p = np;
      }
      b->p[b->len++] = (uint8_t)(hi << 4 | lo);
    }
    n++;
    s += 2;
  }
  return n;
}

/* "3.  Simple 1-RTT Handshake" at column 0: returns 3; else 0. */
static int section_heading(const char *line) {
  int n = 0;
  const char *s = line;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return s > line && strncmp(s, ".  ", 3) == 0 ? n : 0;
}

/* Splits "label (N octets):  hex..." into its parts. Returns 0 if text is
 * such a line (hex may be "(empty)" when N is 0), -1 otherwise. */
static int label_line(const char *text, block *b, const char **hex) {
  const char *colon = strstr(text, ":  ");
  if (!colon || colon == text || (size_t)(colon - text) >= sizeof b->label) return -1;
  memcpy(b->label, text, (size_t)(colon - text));
  b->label[colon - text] = 0;
  b->declared = -1;
  char *paren = strrchr(b->label, '(');
  long n;
  char unit[8];
  if (paren && paren > b->label && paren[-1] == ' ' &&
      sscanf(paren, "(%ld %7[a-z])", &n, unit) == 2 &&
      (strcmp(unit, "octets") == 0 || strcmp(unit, "octet") == 0)) {
    b->declared = n;
    paren[-1] = 0;
  }
  *hex = colon + 3;
  while (**hex == ' ')
    (*hex)++;
  if (b->declared == 0 && strcmp(*hex, "(empty)") == 0) {
    *hex = "";
    return 0;
  }
  return hex_octets(*hex, NULL) > 0 ? 0 : -1;
}

static block *new_block(void) {
  block *nb = realloc(blocks, (n_blocks + 1) * sizeof *blocks);
  if (!nb) return NULL;
  blocks = nb;
  memset(&blocks[n_blocks], 0, sizeof *blocks);
  return &blocks[n_blocks++];
}

/*
 * Reads every hex block of the trace. A block starts at its label line and
 * goes on over lines of hex octets only. Page breaks (blank lines, form
 * feeds, and the running header and footer, which start at column 0) may
 * fall inside a block and are skipped; any other line ends it.
 */
static int parse_trace(char *text) {
  int section = 0;
  char step[sizeof blocks->step] = "";
  block *cur = NULL;
  for (char *line = text, *next; line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (is_blank(line)) continue;
    if (line[0] != ' ') { /* heading, or page header/footer */
      int s = section_heading(line);
      if (s) {
        section = s;
        step[0] = 0;
        cur = NULL;
      }
      continue;
    }
    const char *t = line + strspn(line, " ");
    if (cur && hex_octets(t, NULL) > 0) {
      if (hex_octets(t, cur) < 0) return -1;
      continue;
    }
    cur = NULL;
    if (t[0] == '{') {
      snprintf(step, sizeof step, "%s", t);
      continue;
    }
    block parsed;
    const char *hex;
    if (label_line(t, &parsed, &hex) != 0) continue; /* prose */
    if (!(cur = new_block())) return -1;
    cur->section = section;
    snprintf(cur->step, sizeof cur->step, "%s", step);
    memcpy(cur->label, parsed.label, sizeof cur->label);
    cur->declared = parsed.declared;
    if (hex_octets(hex, cur) < 0) return -1;
  }
  return 0;
}

static void free_trace(void) {
  for (size_t i = 0; i < n_blocks; i++)
    free(blocks[i].p);
  free(blocks);
  blocks = NULL;
  n_blocks = 0;
}

/* The nth block (from 0) of a section whose step line contains step and
 * whose label is label. */
static const block *find_block(int section, const char *step, int nth, const char *label) {
  for (size_t i = 0; i < n_blocks; i++) {
    const block *b = &blocks[i];
    if (b->section == section && strstr(b->step, step) && strcmp(b->label, label) == 0 &&
        nth-- == 0)
      return b;
  }
  return NULL;
}

static const char *trace_path(void) {
  static char path[1024];
  const char *dir = getenv("MUTLS_SPEC_DIR");
  snprintf(path, sizeof path, "%s/rfc8448-tls13-traces.txt", dir ? dir : "../shared/spec");
  return path;
}

/* Every block of a section must hold the number of octets its label says. */
static void check_block_lengths(int section) {
  size_t n = 0, bad = 0;
  for (size_t i = 0; i < n_blocks; i++) {
    const block *b = &blocks[i];
    if (b->section != section || b->declared < 0) continue;
    n++;
    if ((size_t)b->declared != b->len) {
      bad++;
      printf("  section %d, step \"%s\", \"%s\": label says %ld octets, parsed %zu\n", section,
             b->step, b->label, b->declared, b->len);
    }
  }
  char name[128];
  snprintf(name, sizeof name, "rfc8448 s%d trace: every 'label (N octets)' block holds N octets",
           section);
  CHECKF(name, n > 0 && bad == 0, "%zu of %zu blocks differ", bad, n);
}

/* ==== comparing bytes ======================================================== */

static char *to_hex(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  if (s) mt_hex(p, n, s);
  return s;
}

/* CHECK that got equals want; on mismatch print both in hex. */
static int check_bytes(const char *tag, const char *what, const uint8_t *got, size_t got_len,
                       vec want) {
  char name[256];
  if (!got) got = no_vec.p;
  if (!want.p) want = no_vec;
  int same = got_len == want.len && memcmp(got, want.p, want.len) == 0;
  size_t at = 0;
  while (at < got_len && at < want.len && got[at] == want.p[at])
    at++;
  char *g = to_hex(got, got_len), *w = to_hex(want.p, want.len);
  snprintf(name, sizeof name, "rfc8448 %s: %s", tag, what);
  CHECKF(name, same, "first difference at byte %zu\n  got  (%zu) %s\n  want (%zu) %s", at, got_len,
         g ? g : "?", want.len, w ? w : "?");
  free(g);
  free(w);
  return same;
}

static int check_vec(const char *tag, const char *what, vec got, vec want) {
  return check_bytes(tag, what, got.p, got.len, want);
}

static const char *nm(const char *tag, const char *what) {
  static char name[320];
  snprintf(name, sizeof name, "rfc8448 %s: %s", tag, what);
  return name;
}

/* ==== what each trace gives =================================================== */

/* What a section gives. Blocks a section lacks (hrr in section 3, ...) stay
 * {NULL, 0}; the code looks at their len before using them. */
typedef struct {
  const char *tag; /* "s3", "s5" */
  int section;
  uint16_t group;       /* the group of the handshake */
  uint16_t first_group; /* the group of the client's first share */
  /* Ephemeral keys: the client's first and (after HRR) second, the server's. */
  vec c_priv, c_pub, c_priv2, c_pub2, s_priv, s_pub;
  /* Handshake messages and the records that carry them. */
  vec ch, ch_rec, hrr, hrr_rec, ch2, ch2_rec, sh, sh_rec;
  vec ee, cert_msg, cv, flight_rec, cfin_rec;
  /* Key schedule (7.1) and traffic keys (7.3). */
  vec hs_secret, c_hs, s_hs, master, c_ap, s_ap, exporter, res_master;
  vec s_hs_key, s_hs_iv, c_hs_key, c_hs_iv, s_ap_key, s_ap_iv, c_ap_key, c_ap_iv;
  /* After the handshake. */
  vec nst_payload, nst_rec, c_app, c_app_rec, s_app, s_app_rec, c_alert_rec, s_alert_rec;
  /* Section 6: the server's CertificateRequest, the client's Certificate
   * and CertificateVerify; the certificates' subjects, and a time within
   * both certificates' validity. */
  vec cr, c_cert_msg, c_cv;
  const char *s_subject, *c_subject;
  time_t verify_time;
} trace;

typedef struct {
  size_t field; /* offsetof(trace, ...) */
  const char *step;
  int nth;
  const char *label;
} need;

#define F(x) offsetof(trace, x)
#define CSEND "{client}  send handshake record"
#define SSEND "{server}  send handshake record"

/* The blocks sections 3 and 5 share, by step and label. Where a step
 * repeats (records), nth counts from the first. */
static const need common_blocks[] = {
    {F(s_priv), "{server}  create an ephemeral", 0, "private key"},
    {F(s_pub), "{server}  create an ephemeral", 0, "public key"},
    {F(ch), "{client}  construct a ClientHello", 0, "ClientHello"},
    {F(ch_rec), CSEND, 0, "complete record"},
    {F(hs_secret), "{server}  extract secret \"handshake\"", 0, "secret"},
    {F(c_hs), "{server}  derive secret \"tls13 c hs traffic\"", 0, "expanded"},
    {F(s_hs), "{server}  derive secret \"tls13 s hs traffic\"", 0, "expanded"},
    {F(master), "{server}  extract secret \"master\"", 0, "secret"},
    {F(c_ap), "{server}  derive secret \"tls13 c ap traffic\"", 0, "expanded"},
    {F(s_ap), "{server}  derive secret \"tls13 s ap traffic\"", 0, "expanded"},
    {F(exporter), "{server}  derive secret \"tls13 exp master\"", 0, "expanded"},
    {F(res_master), "{client}  derive secret \"tls13 res master\"", 0, "expanded"},
    {F(s_hs_key), "{server}  derive write traffic keys for handshake", 0, "key expanded"},
    {F(s_hs_iv), "{server}  derive write traffic keys for handshake", 0, "iv expanded"},
    {F(c_hs_key), "{server}  derive read traffic keys for handshake", 0, "key expanded"},
    {F(c_hs_iv), "{server}  derive read traffic keys for handshake", 0, "iv expanded"},
    {F(s_ap_key), "{server}  derive write traffic keys for application", 0, "key expanded"},
    {F(s_ap_iv), "{server}  derive write traffic keys for application", 0, "iv expanded"},
    {F(c_ap_key), "{client}  derive write traffic keys for application", 0, "key expanded"},
    {F(c_ap_iv), "{client}  derive write traffic keys for application", 0, "iv expanded"},
    {F(ee), "{server}  construct a EncryptedExtensions", 0, "EncryptedExtensions"},
    {F(cert_msg), "{server}  construct a Certificate handshake", 0, "Certificate"},
    {F(cv), "{server}  construct a CertificateVerify", 0, "CertificateVerify"},
    {F(c_alert_rec), "{client}  send alert record", 0, "complete record"},
    {F(s_alert_rec), "{server}  send alert record", 0, "complete record"},
};

/* Section 3: one ClientHello, ServerHello; a session ticket and
 * application data after the handshake. */
static const need s3_blocks[] = {
    {F(c_priv), "{client}  create an ephemeral x25519", 0, "private key"},
    {F(c_pub), "{client}  create an ephemeral x25519", 0, "public key"},
    {F(sh), "{server}  construct a ServerHello", 0, "ServerHello"},
    {F(sh_rec), SSEND, 0, "complete record"},
    {F(flight_rec), SSEND, 1, "complete record"},
    {F(cfin_rec), CSEND, 1, "complete record"},
    {F(nst_payload), SSEND, 2, "payload"},
    {F(nst_rec), SSEND, 2, "complete record"},
    {F(c_app), "{client}  send application_data record", 0, "payload"},
    {F(c_app_rec), "{client}  send application_data record", 0, "complete record"},
    {F(s_app), "{server}  send application_data record", 0, "payload"},
    {F(s_app_rec), "{server}  send application_data record", 0, "complete record"},
};

/* Section 5: ClientHello (X25519 share), HelloRetryRequest (asks for
 * P-256, with a cookie), ClientHello (P-256 share, cookie), ServerHello. */
static const need s5_blocks[] = {
    {F(c_priv), "{client}  create an ephemeral x25519", 0, "private key"},
    {F(c_pub), "{client}  create an ephemeral x25519", 0, "public key"},
    {F(c_priv2), "{client}  create an ephemeral P-256", 0, "private key"},
    {F(c_pub2), "{client}  create an ephemeral P-256", 0, "public key"},
    {F(hrr), "{server}  construct a ServerHello", 0, "ServerHello"},
    {F(hrr_rec), SSEND, 0, "complete record"},
    {F(ch2), "{client}  construct a ClientHello", 1, "ClientHello"},
    {F(ch2_rec), CSEND, 1, "complete record"},
    {F(sh), "{server}  construct a ServerHello", 1, "ServerHello"},
    {F(sh_rec), SSEND, 1, "complete record"},
    {F(flight_rec), SSEND, 2, "complete record"},
    {F(cfin_rec), CSEND, 2, "complete record"},
};

/* Section 6: one ClientHello, ServerHello; the server asks for the
 * client's certificate; the client's flight is Certificate,
 * CertificateVerify, Finished. No ticket, no application data. */
static const need s6_blocks[] = {
    {F(c_priv), "{client}  create an ephemeral x25519", 0, "private key"},
    {F(c_pub), "{client}  create an ephemeral x25519", 0, "public key"},
    {F(sh), "{server}  construct a ServerHello", 0, "ServerHello"},
    {F(sh_rec), SSEND, 0, "complete record"},
    {F(flight_rec), SSEND, 1, "complete record"},
    {F(cfin_rec), CSEND, 1, "complete record"},
    {F(cr), "{server}  construct a CertificateRequest", 0, "CertificateRequest"},
    {F(c_cert_msg), "{client}  construct a Certificate handshake", 0, "Certificate"},
    {F(c_cv), "{client}  construct a CertificateVerify", 0, "CertificateVerify"},
};

static int load_blocks(trace *t, const need *w, size_t n) {
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    const block *b = find_block(t->section, w[i].step, w[i].nth, w[i].label);
    vec *v = (vec *)((char *)t + w[i].field);
    if (b) {
      v->p = b->p ? b->p : no_vec.p; /* "(empty)" blocks have no bytes */
      v->len = b->len;
    } else {
      printf("  section %d: no block \"%s\" #%d under a step \"%s\"\n", t->section, w[i].label,
             w[i].nth, w[i].step);
      ok = 0;
    }
  }
  return ok;
}

static int load_trace(trace *t, const need *w, size_t n) {
  int ok = load_blocks(t, common_blocks, sizeof common_blocks / sizeof common_blocks[0]);
  ok &= load_blocks(t, w, n);
  CHECKF(nm(t->tag, "trace holds every block the test needs"), ok, "see above");
  return ok;
}

/* ==== pieces of handshake messages =========================================== */

static vec slice(vec v, size_t off, size_t len) {
  if (off > v.len || len > v.len - off) return no_vec;
  vec s = {v.p + off, len};
  return s;
}

static size_t be(const uint8_t *p, int n) {
  size_t v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

/* The random of a ClientHello or ServerHello (4.1.2, 4.1.3). */
static vec hello_random(vec msg) {
  return slice(msg, 4 + 2, 32);
}

/* The body of extension type in a ServerHello or HelloRetryRequest. */
static vec server_hello_ext(vec msg, uint16_t type) {
  size_t off = 4 + 2 + 32;
  if (off >= msg.len) return no_vec;
  off += 1 + msg.p[off] + 2 + 1; /* session id, cipher suite, compression */
  if (off + 2 > msg.len) return no_vec;
  size_t end = off + 2 + be(msg.p + off, 2);
  if (end > msg.len) return no_vec;
  for (off += 2; off + 4 <= end;) {
    size_t len = be(msg.p + off + 2, 2);
    if (off + 4 + len > end) return no_vec;
    if (be(msg.p + off, 2) == type) return slice(msg, off + 4, len);
    off += 4 + len;
  }
  return no_vec;
}

/* The HelloRetryRequest's cookie (4.2.2): a u16-prefixed opaque. */
static vec hrr_cookie(vec hrr) {
  vec ext = server_hello_ext(hrr, EXT_COOKIE);
  return ext.len >= 2 && be(ext.p, 2) == ext.len - 2 ? slice(ext, 2, ext.len - 2) : no_vec;
}

/* EncryptedExtensions: the extension list without its length (4.3.1). */
static vec ee_extensions(vec ee) {
  return ee.len >= 6 && be(ee.p + 4, 2) == ee.len - 6 ? slice(ee, 6, ee.len - 6) : no_vec;
}

/* CertificateVerify: the signature scheme (4.4.3). */
static uint16_t cv_scheme(vec cv) {
  return cv.len >= 6 ? (uint16_t)be(cv.p + 4, 2) : 0;
}

/* CertificateVerify: the signature bytes (4.4.3). */
static vec cv_signature(vec cv) {
  return cv.len >= 8 && be(cv.p + 6, 2) == cv.len - 8 ? slice(cv, 8, cv.len - 8) : no_vec;
}

/* Certificate: the first certificate's DER (4.4.2). */
static vec first_cert(vec msg) {
  if (msg.len < 5) return no_vec;
  size_t off = 4 + 1 + msg.p[4] + 3;
  if (off + 3 > msg.len) return no_vec;
  return slice(msg, off + 3, be(msg.p + off, 3));
}

/* ==== the identities, as PEM files made by the openssl CLI ===================== */

static char tmpdir[256];
static const char *const tmp_names[] = {"key.cnf",       "key.der",          "key.pem",
                                        "cert.der",      "cert.pem",         "standin.pem",
                                        "s6-server.der", "s6-server.pem",    "s6-client.der",
                                        "s6-client.pem", "standin-p256.pem", "openssl.log"};

static const char *tmp_path(const char *name) {
  static char bufs[4][512];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
  return b;
}

static void remove_tmpdir(void) {
  if (!tmpdir[0]) return;
  for (size_t i = 0; i < sizeof tmp_names / sizeof tmp_names[0]; i++)
    unlink(tmp_path(tmp_names[i]));
  rmdir(tmpdir);
}

static int write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(p, 1, n, f) == n;
  if (f && fclose(f) != 0) ok = 0;
  return ok ? 0 : -1;
}

static int run(const char *cmd) {
  char full[2048];
  snprintf(full, sizeof full, "(%s) >>'%s' 2>&1", cmd, tmp_path("openssl.log"));
  if (system(full) == 0) return 0;
  snprintf(full, sizeof full, "cat '%s' >&2", tmp_path("openssl.log"));
  if (system(full) != 0) fprintf(stderr, "could not show the openssl log\n");
  return -1;
}

/* Section 2 gives the server's RSA key as its integers; asn1parse -genconf
 * encodes them as an RSAPrivateKey (PKCS #1), and openssl rsa checks the
 * key and writes it as PEM. */
static int make_key_pem(void) {
  static const struct {
    const char *field, *label;
  } ints[] = {{"n", "modulus (public)"}, {"e", "public exponent"}, {"d", "private exponent"},
              {"p", "prime1"},           {"q", "prime2"},          {"dp", "exponent1"},
              {"dq", "exponent2"},       {"qinv", "coefficient"}};
  FILE *f = fopen(tmp_path("key.cnf"), "w");
  if (!f) return -1;
  int ok = 1;
  fprintf(f, "asn1 = SEQUENCE:rsa_key\n[rsa_key]\nversion = INTEGER:0\n");
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    const block *b = find_block(2, "", 0, ints[i].label);
    if (!b || b->len == 0) {
      printf("  section 2: no block \"%s\"\n", ints[i].label);
      ok = 0;
      continue;
    }
    fprintf(f, "%s = INTEGER:0x", ints[i].field);
    for (size_t k = 0; k < b->len; k++)
      fprintf(f, "%02X", b->p[k]);
    fprintf(f, "\n");
  }
  if (fclose(f) != 0 || !ok) return -1;
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "openssl asn1parse -genconf '%s' -out '%s' -noout && "
           "openssl rsa -inform DER -in '%s' -check -out '%s'",
           tmp_path("key.cnf"), tmp_path("key.der"), tmp_path("key.der"), tmp_path("key.pem"));
  return run(cmd);
}

/* A certificate's DER (from a Certificate message) as name.der and
 * name.pem. */
static int make_cert_pem(vec der, const char *name) {
  char cmd[1024], d[64], pem[64];
  snprintf(d, sizeof d, "%s.der", name);
  snprintf(pem, sizeof pem, "%s.pem", name);
  if (der.len == 0 || write_file(tmp_path(d), der.p, der.len) != 0) return -1;
  snprintf(cmd, sizeof cmd, "openssl x509 -inform DER -in '%s' -out '%s'", tmp_path(d),
           tmp_path(pem));
  return run(cmd);
}

static int make_tmpdir(void) {
  if (tmpdir[0]) return 0;
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(tmpdir, sizeof tmpdir, "%s/mutls-rfc8448-XXXXXX", base);
  if (!mkdtemp(tmpdir)) {
    tmpdir[0] = 0;
    return -1;
  }
  atexit(remove_tmpdir);
  return 0;
}

static int make_identity(const trace *t) {
  if (make_tmpdir() != 0) return -1;
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '%s'",
           tmp_path("standin.pem"));
  if (make_key_pem() != 0 || make_cert_pem(first_cert(t->cert_msg), "cert") != 0) return -1;
  return run(cmd); /* the stand-in key: see standin_identity */
}

/* Section 6: the server's ECDSA certificate and the client's RSA one, from
 * their Certificate messages; a stand-in P-256 key for the server (the
 * client's stand-in is standin.pem, made above). */
static int make_s6_identities(const trace *t) {
  char cmd[512];
  if (make_tmpdir() != 0) return -1;
  snprintf(cmd, sizeof cmd,
           "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s'",
           tmp_path("standin-p256.pem"));
  if (make_cert_pem(first_cert(t->cert_msg), "s6-server") != 0 ||
      make_cert_pem(first_cert(t->c_cert_msg), "s6-client") != 0 || run(cmd) != 0)
    return -1;
  if (access(tmp_path("standin.pem"), R_OK) == 0) return 0;
  snprintf(cmd, sizeof cmd,
           "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '%s'",
           tmp_path("standin.pem"));
  return run(cmd);
}

/* ==== driving a connection ===================================================== */

/* What a connection sent, taken record by record. */
typedef struct {
  uint8_t buf[16384];
  size_t len, off;
} outq;

static void take_output(mutls_conn *c, outq *q) {
  size_t n;
  q->len = q->off = 0;
  while (q->len < sizeof q->buf &&
         mutls_conn_send(c, q->buf + q->len, sizeof q->buf - q->len, &n) == MUTLS_OK && n > 0)
    q->len += n;
}

static vec next_record(outq *q) {
  if (q->len - q->off < 5) return no_vec;
  size_t n = 5 + be(q->buf + q->off + 3, 2);
  if (n > q->len - q->off) return no_vec;
  vec r = {q->buf + q->off, n};
  q->off += n;
  return r;
}

static void check_no_more_output(const char *tag, outq *q, const char *after) {
  char what[160];
  snprintf(what, sizeof what, "nothing else sent after %s", after);
  CHECKF(nm(tag, what), q->off == q->len, "%zu more bytes", q->len - q->off);
}

/* Feeds one whole record; 1 if it was taken without error. */
static int feed(const char *tag, mutls_conn *c, vec rec, const char *what) {
  size_t used = 0;
  int rc = mutls_conn_recv(c, rec.p, rec.len, &used);
  int ok = rec.len > 0 && rc == MUTLS_OK && used == rec.len;
  CHECKF(nm(tag, what), ok, "recv returned %d, took %zu of %zu bytes; %s: %s", rc, used, rec.len,
         mutls_error_name(mutls_conn_error(c)), mutls_conn_explain(c));
  return ok;
}

/* The key a traffic secret gives (7.3); its IV is compared on the conn. */
static vec traffic_key(const mutls_conn *c, const uint8_t *secret, uint8_t *buf) {
  vec k = {buf, mt_aead_key_len(c->suite->aead)};
  if (mt_hkdf_expand_label(c->suite->hash, secret, "key", NULL, 0, buf, k.len) != 0) k.len = 0;
  return k;
}

static void check_secret(const char *tag, const char *what, const mutls_conn *c,
                         const uint8_t *secret, vec want) {
  check_bytes(tag, what, secret, c->hlen, want);
}

static void check_key(const char *tag, const char *what, const mutls_conn *c, const uint8_t *secret,
                      vec want) {
  uint8_t buf[MT_MAX_AEAD_KEY];
  check_vec(tag, what, traffic_key(c, secret, buf), want);
}

/* After the last handshake message: 7.1's master secret and what it gives.
 * Once the client's Finished is through, each side has derived the
 * resumption master secret and wiped the master secret: then that one is
 * checked instead. */
static void check_application_secrets(const char *tag, const mutls_conn *c, const trace *t) {
  if (c->is_server && c->state != ST_CONNECTED)
    check_secret(tag, "master secret", c, c->secret, t->master);
  else
    check_secret(tag, "resumption master secret", c, c->res_master, t->res_master);
  check_secret(tag, "client application traffic secret", c, c->c_ap, t->c_ap);
  check_secret(tag, "server application traffic secret", c, c->s_ap, t->s_ap);
  check_secret(tag, "exporter master secret", c, c->exporter, t->exporter);
  check_key(tag, "client application write key", c, c->c_ap, t->c_ap_key);
  check_key(tag, "server application write key", c, c->s_ap, t->s_ap_key);
}

static void check_handshake_traffic(const char *tag, const mutls_conn *c, const trace *t) {
  check_secret(tag, "client handshake traffic secret", c, c->c_hs, t->c_hs);
  check_secret(tag, "server handshake traffic secret", c, c->s_hs, t->s_hs);
  check_key(tag, "client handshake write key", c, c->c_hs, t->c_hs_key);
  check_key(tag, "server handshake write key", c, c->s_hs, t->s_hs_key);
}

static vec iv_of(const mt_dir *d) {
  vec v = {d->iv, MT_AEAD_NONCE};
  return v;
}

static vec kex_pub_of(const mutls_conn *c) {
  vec v = {c->kex_pub, c->kex_pub_len};
  return v;
}

static void set_kex(mt_test_inject *in, uint16_t group, vec priv) {
  in->kex_group = group;
  in->kex_priv_len = priv.len <= sizeof in->kex_priv ? priv.len : 0;
  memcpy(in->kex_priv, priv.p, in->kex_priv_len);
}

/* ==== identities and peers ====================================================== */

/*
 * Our configs refuse RSA keys under 2048 bits (crypto/sig.c): section 3's
 * server key has 1024, and section 6 shows no private key at all. Where the
 * trace's key cannot be loaded our side never signs with it (the trace's
 * signature is injected), so the trace's certificate goes in beside a
 * stand-in key of the same type, installed on the config directly since
 * mutls_config_set_identity_files would (rightly) find that the key does
 * not match the certificate. cert and key name files in tmpdir.
 */
static int standin_identity(mutls_config *cfg, const char *cert, const char *key) {
  char why[512] = "";
  mt_identity id = {0};
  mt_writer w;
  size_t der_len = 0;
  id.chain = mt_chain_load_file(tmp_path(cert), why, sizeof why);
  id.key = id.chain ? mt_pkey_load_file(tmp_path(key), why, sizeof why) : NULL;
  const uint8_t *der = id.key ? mt_chain_der(id.chain, 0, &der_len) : NULL;
  /* 4.4.2: the Certificate message, as the config would pre-encode it. */
  mt_w_init(&w, 1 << 16);
  if (der) {
    size_t msg = mt_hs_begin(&w, HS_CERTIFICATE);
    mt_w_u8(&w, 0); /* empty certificate_request_context */
    size_t list = mt_w_begin(&w, 3), entry = mt_w_begin(&w, 3);
    mt_w_bytes(&w, der, der_len);
    mt_w_end(&w, entry, 3);
    mt_w_u16(&w, 0); /* no extensions */
    mt_w_end(&w, list, 3);
    mt_hs_end(&w, msg);
  }
  if (!der || mt_w_failed(&w) || cfg->n_ids != 0) {
    printf("  stand-in identity: %s\n", why[0] ? why : "could not build it");
    mt_w_free(&w);
    mt_chain_free(id.chain);
    mt_pkey_free(id.key);
    return -1;
  }
  id.cert_msg = w.buf; /* the config frees it */
  id.cert_msg_len = w.len;
  cfg->ids[0] = id;
  cfg->n_ids = 1;
  return 0;
}

/* The peer's Certificate and CertificateVerify were accepted: it is the
 * trace's certificate, and the peer signed with the trace's scheme. */
static void check_peer(const char *tag, const char *who, const mutls_conn *c, vec cert_msg,
                       const char *subject, vec cv) {
  char what[200];
  const mutls_peer *p = mutls_conn_peer(c);
  const char *got = p ? mutls_peer_subject(p) : NULL;
  size_t len = 0;
  const uint8_t *der =
      p && mutls_peer_chain_length(p) == 1 ? mutls_peer_cert_der(p, 0, &len) : NULL;
  snprintf(what, sizeof what, "the %s's Certificate accepted: the peer is %s", who, subject);
  CHECKF(nm(tag, what), got && strcmp(got, subject) == 0, "peer %s, subject %s", p ? "set" : "NULL",
         got ? got : "-");
  snprintf(what, sizeof what, "the peer's chain is the %s's one certificate from the trace", who);
  check_bytes(tag, what, der, len, first_cert(cert_msg));
  snprintf(what, sizeof what, "the %s's CertificateVerify accepted (%s)", who,
           mt_sigscheme_name(cv_scheme(cv)));
  CHECKF(nm(tag, what), p && c->peer_scheme == cv_scheme(cv), "peer scheme 0x%04x", c->peer_scheme);
}

/* ==== client role ================================================================ */

/* Up to the ServerHello: the hellos go out as the trace's records, with
 * the key shares the injected private keys give. */
static int client_hellos(const char *tag, mutls_conn *c, mt_test_inject *in, const trace *t) {
  outq q;
  take_output(c, &q);
  check_vec(tag, "first ClientHello record", next_record(&q), t->ch_rec);
  check_no_more_output(tag, &q, "the first ClientHello");
  check_vec(tag, "first key share = trace's client public key", kex_pub_of(c), t->c_pub);
  if (t->hrr.len) {
    /* 5: the second share is the P-256 key the trace creates after HRR. */
    set_kex(in, MT_GROUP_SECP256R1, t->c_priv2);
    mt_test_inject_set(c, in);
    if (!feed(tag, c, t->hrr_rec, "accepts the trace's HelloRetryRequest record")) return -1;
    CHECK(nm(tag, "HelloRetryRequest noted"), mutls_conn_used_hrr(c) == 1);
    check_vec(tag, "HRR cookie kept", (vec){c->cookie, c->cookie_len}, hrr_cookie(t->hrr));
    take_output(c, &q);
    check_vec(tag, "second ClientHello record", next_record(&q), t->ch2_rec);
    check_no_more_output(tag, &q, "the second ClientHello");
    check_vec(tag, "second key share = trace's P-256 public key", kex_pub_of(c), t->c_pub2);
  }
  if (!feed(tag, c, t->sh_rec, "accepts the trace's ServerHello record")) return -1;
  check_secret(tag, "handshake secret", c, c->secret, t->hs_secret);
  check_handshake_traffic(tag, c, t);
  check_vec(tag, "handshake read IV (server's write IV)", iv_of(&c->rd), t->s_hs_iv);
  check_vec(tag, "handshake write IV", iv_of(&c->wr), t->c_hs_iv);
  return 0;
}

/* Section 3 only: the session ticket and application data both ways. */
static void client_after_handshake(const char *tag, mutls_conn *c, const trace *t) {
  outq q;
  uint8_t buf[256];
  /* 4.6.1: a ticket is checked, then ignored (no resumption yet). */
  feed(tag, c, t->nst_rec, "accepts the trace's NewSessionTicket record");
  if (feed(tag, c, t->s_app_rec, "accepts the trace's server application data record")) {
    int n = mutls_conn_read(c, buf, sizeof buf);
    check_bytes(tag, "server application data plaintext", buf, n > 0 ? (size_t)n : 0, t->s_app);
  }
  CHECK(nm(tag, "writes the trace's application data"),
        mutls_conn_write(c, t->c_app.p, t->c_app.len) == (int)t->c_app.len);
  take_output(c, &q);
  check_vec(tag, "application data record", next_record(&q), t->c_app_rec);
  check_no_more_output(tag, &q, "the application data");
}

static mutls_config *client_config(const char *tag, const trace *t) {
  mutls_config *cfg = mutls_config_new();
  /* The trace's server certificates expired on 2026-07-30 and name "rsa"
   * or "ecdsa256", not the "server" the hello asks for: chain checks off;
   * the CertificateVerify signature is still verified. */
  int ok = cfg && mutls_config_set_verify_peer(cfg, 0) == MUTLS_OK;
  if (ok && t->c_cert_msg.len) {
    ok = standin_identity(cfg, "s6-client.pem", "standin.pem") == 0;
    CHECK(nm(tag, "identity: the trace's client certificate with a stand-in RSA-2048 key (the "
                  "trace shows no client key, and its certificate's key has 1024 bits, below "
                  "our minimum; the signature is the trace's, injected)"),
          ok);
  }
  if (ok) return cfg;
  mutls_config_free(cfg);
  return NULL;
}

static void client_inject(mt_test_inject *in, const trace *t) {
  memset(in, 0, sizeof *in);
  in->active = 1;
  memcpy(in->random, hello_random(t->ch).p, hello_random(t->ch).len);
  set_kex(in, t->first_group, t->c_priv);
  in->client_hello[0] = t->ch.p;
  in->client_hello_len[0] = t->ch.len;
  in->client_hello[1] = t->ch2.len ? t->ch2.p : NULL;
  in->client_hello_len[1] = t->ch2.len;
  if (t->c_cv.len) { /* RSA-PSS is randomized: the trace's own signature */
    vec sig = cv_signature(t->c_cv);
    in->signature = sig.p;
    in->signature_len = sig.len;
  }
}

/* Section 6: the server's flight asked for our certificate and proved its
 * own; our answer went out. */
static void check_client_auth(const char *tag, const mutls_conn *c, const trace *t) {
  char what[160];
  CHECK(nm(tag, "the trace's CertificateRequest accepted: a certificate was asked for"),
        c->cert_requested);
  snprintf(what, sizeof what, "our identity chosen for it, to sign with %s (the trace's scheme)",
           mt_sigscheme_name(cv_scheme(t->c_cv)));
  CHECKF(nm(tag, what), c->id == 0 && c->our_scheme == cv_scheme(t->c_cv),
         "identity %d, scheme 0x%04x; %s", c->id, c->our_scheme, mutls_conn_notice(c));
  check_peer(tag, "server", c, t->cert_msg, t->s_subject, t->cv);
  CHECK(nm(tag, "our Certificate and CertificateVerify were sent"), c->cert_sent);
}

static void run_client(const trace *t) {
  char tag[32];
  outq q;
  snprintf(tag, sizeof tag, "%s client", t->tag);
  mutls_config *cfg = client_config(tag, t);
  mutls_conn *c = cfg ? mutls_client_new(cfg, "server") : NULL;
  CHECKF(nm(tag, "connection created"), c && mutls_conn_error(c) == MUTLS_E_NONE, "%s",
         c ? mutls_conn_explain(c) : "no config");
  if (!c || mutls_conn_error(c) != MUTLS_E_NONE) goto out;
  mt_test_inject in;
  client_inject(&in, t);
  mt_test_inject_set(c, &in);

  if (client_hellos(tag, c, &in, t) != 0) goto out;
  if (!feed(tag, c, t->flight_rec,
            t->cr.len ? "accepts the trace's encrypted server flight (EE, CertificateRequest, "
                        "Certificate, CertificateVerify, Finished)"
                      : "accepts the trace's encrypted server flight (EE..Finished)"))
    goto out;
  CHECK(nm(tag, "handshake complete"), mutls_conn_handshake_done(c));
  if (t->cr.len) check_client_auth(tag, c, t);
  check_application_secrets(tag, c, t);
  check_vec(tag, "application read IV (server's write IV)", iv_of(&c->rd), t->s_ap_iv);
  check_vec(tag, "application write IV", iv_of(&c->wr), t->c_ap_iv);
  take_output(c, &q);
  if (t->cr.len) {
    check_vec(tag, "Certificate, CertificateVerify and Finished record", next_record(&q),
              t->cfin_rec);
    check_no_more_output(tag, &q, "Certificate, CertificateVerify, Finished");
  } else {
    check_vec(tag, "Finished record", next_record(&q), t->cfin_rec);
    check_no_more_output(tag, &q, "Finished");
  }

  if (t->s_app_rec.len) client_after_handshake(tag, c, t);
  CHECK(nm(tag, "close_notify queued"), mutls_conn_close(c) == MUTLS_OK);
  take_output(c, &q);
  check_vec(tag, "close_notify alert record", next_record(&q), t->c_alert_rec);
  if (feed(tag, c, t->s_alert_rec, "accepts the trace's close_notify record"))
    CHECK(nm(tag, "peer's close_notify seen"), mutls_conn_read(c, q.buf, 1) == MUTLS_CLOSED);
out:
  mutls_conn_free(c);
  mutls_config_free(cfg);
}

/* ==== server role ================================================================ */

/* The trace's identity if our config takes it, else the stand-in above. */
static int server_identity(const char *tag, mutls_config *cfg, const trace *t) {
  char what[256];
  int rc = 0;
  if (t->cr.len) { /* section 6 */
    rc = standin_identity(cfg, "s6-server.pem", "standin-p256.pem");
    CHECK(nm(tag, "identity: the trace's ECDSA P-256 certificate with a stand-in P-256 key (the "
                  "trace shows no server key; the signature is the trace's, injected)"),
          rc == 0);
    return rc;
  }
  if (mutls_config_set_identity_files(cfg, tmp_path("cert.pem"), tmp_path("key.pem")) == MUTLS_OK) {
    snprintf(what, sizeof what, "identity: the trace's certificate and RSA key");
  } else {
    printf("  the trace's key is refused: %s\n", mutls_config_error(cfg));
    snprintf(what, sizeof what,
             "identity: the trace's certificate with a stand-in RSA-2048 key (the trace's "
             "1024-bit key is below our minimum; the signature is the trace's, injected)");
    rc = standin_identity(cfg, "cert.pem", "standin.pem");
  }
  CHECK(nm(tag, what), rc == 0);
  return rc;
}

/* Section 6: the server signs with ECDSA and the client with RSA-PSS, so
 * both are accepted; client certificates are required and verified
 * against the trace's client certificate, which is self-signed (its own
 * issuer: the trace names no other CA). */
static mutls_config *server_config(const char *tag, const trace *t, const char *groups) {
  mutls_config *cfg = mutls_config_new();
  int auth = t->cr.len != 0;
  if (cfg && server_identity(tag, cfg, t) == 0 &&
      mutls_config_set_cipher_suites(cfg, "TLS_AES_128_GCM_SHA256") == MUTLS_OK &&
      mutls_config_set_groups(cfg, groups) == MUTLS_OK &&
      /* The trace's own ticket is sealed by the test, to keep its bytes. */
      mutls_config_set_tickets(cfg, 0, 0) == MUTLS_OK &&
      mutls_config_set_signature_schemes(cfg, auth ? "ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"
                                                   : "rsa_pss_rsae_sha256") == MUTLS_OK &&
      (!auth || (mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_REQUIRED) == MUTLS_OK &&
                 mutls_config_set_client_ca_file(cfg, tmp_path("s6-client.pem")) == MUTLS_OK)))
    return cfg;
  if (cfg) printf("  server config: %s\n", mutls_config_error(cfg));
  mutls_config_free(cfg);
  return NULL;
}

/* Section 3 only: the client's data in, ours out. Our server sends no
 * tickets; the trace's server sent one first, so our record layer seals
 * that ticket to keep the sequence numbers of the trace. */
static void server_after_handshake(const char *tag, mutls_conn *s, const trace *t) {
  outq q;
  uint8_t buf[256];
  if (feed(tag, s, t->c_app_rec, "accepts the trace's client application data record")) {
    int n = mutls_conn_read(s, buf, sizeof buf);
    check_bytes(tag, "client application data plaintext", buf, n > 0 ? (size_t)n : 0, t->c_app);
  }
  CHECK(nm(tag, "record layer seals the trace's NewSessionTicket"),
        mt_record_write(s, CT_HANDSHAKE, t->nst_payload.p, t->nst_payload.len) == 0);
  take_output(s, &q);
  check_vec(tag, "NewSessionTicket record (sealed via mt_record_write; we send no tickets)",
            next_record(&q), t->nst_rec);
  CHECK(nm(tag, "writes the trace's application data"),
        mutls_conn_write(s, t->s_app.p, t->s_app.len) == (int)t->s_app.len);
  take_output(s, &q);
  check_vec(tag, "application data record", next_record(&q), t->s_app_rec);
  check_no_more_output(tag, &q, "the application data");
}

/* Section 6 adds the trace's CertificateRequest (ours would list our own
 * schemes and name our client CA in certificate_authorities) and a clock
 * inside the client certificate's validity. */
static void server_inject(mt_test_inject *in, const trace *t) {
  memset(in, 0, sizeof *in);
  in->active = 1;
  memcpy(in->random, hello_random(t->sh).p, hello_random(t->sh).len);
  set_kex(in, t->group, t->s_priv);
  vec cookie = hrr_cookie(t->hrr), ee = ee_extensions(t->ee), sig = cv_signature(t->cv);
  in->cookie_len = cookie.len <= sizeof in->cookie ? cookie.len : 0;
  memcpy(in->cookie, cookie.p, in->cookie_len);
  in->ee_exts = ee.p;
  in->ee_exts_len = ee.len;
  in->signature = sig.p; /* RSA-PSS and ECDSA are randomized: the trace's own signature */
  in->signature_len = sig.len;
  in->cr_msg = t->cr.len ? t->cr.p : NULL;
  in->cr_msg_len = t->cr.len;
  in->verify_time = t->verify_time;
}

static void run_server(const trace *t, const char *groups) {
  char tag[32];
  outq q;
  snprintf(tag, sizeof tag, "%s server", t->tag);
  mutls_config *cfg = server_config(tag, t, groups);
  mutls_conn *s = cfg ? mutls_server_new(cfg) : NULL;
  CHECKF(nm(tag, "connection created"), s && mutls_conn_error(s) == MUTLS_E_NONE, "%s",
         s ? mutls_conn_explain(s) : "no config");
  if (!s || mutls_conn_error(s) != MUTLS_E_NONE) goto out;
  mt_test_inject in;
  server_inject(&in, t);
  mt_test_inject_set(s, &in);

  if (!feed(tag, s, t->ch_rec, "accepts the trace's ClientHello record")) goto out;
  take_output(s, &q);
  if (t->hrr.len) {
    check_vec(tag, "HelloRetryRequest record", next_record(&q), t->hrr_rec);
    check_no_more_output(tag, &q, "HelloRetryRequest");
    if (!feed(tag, s, t->ch2_rec, "accepts the trace's second ClientHello record")) goto out;
    CHECK(nm(tag, "HelloRetryRequest noted"), mutls_conn_used_hrr(s) == 1);
    take_output(s, &q);
  }
  check_vec(tag, "key share = trace's server public key", kex_pub_of(s), t->s_pub);
  check_vec(tag, "ServerHello record", next_record(&q), t->sh_rec);
  check_vec(tag,
            t->cr.len ? "encrypted flight record (EE, CertificateRequest, Certificate, "
                        "CertificateVerify, Finished)"
                      : "encrypted flight record (EE, Certificate, CertificateVerify, Finished)",
            next_record(&q), t->flight_rec);
  check_no_more_output(tag, &q, "the server's flight");
  /* The handshake secret itself is overwritten by the master secret once
   * the flight is out; the traffic secrets derived from it remain. */
  check_handshake_traffic(tag, s, t);
  check_vec(tag, "handshake read IV (client's write IV)", iv_of(&s->rd), t->c_hs_iv);
  check_application_secrets(tag, s, t);
  check_vec(tag, "application write IV", iv_of(&s->wr), t->s_ap_iv);

  if (!feed(tag, s, t->cfin_rec,
            t->cr.len ? "accepts the trace's client Certificate, CertificateVerify and "
                        "Finished record"
                      : "accepts the trace's client Finished record"))
    goto out;
  CHECK(nm(tag, "handshake complete"), mutls_conn_handshake_done(s));
  if (t->cr.len) check_peer(tag, "client", s, t->c_cert_msg, t->c_subject, t->c_cv);
  check_vec(tag, "application read IV (client's write IV)", iv_of(&s->rd), t->c_ap_iv);
  if (t->c_app_rec.len) server_after_handshake(tag, s, t);
  CHECK(nm(tag, "close_notify queued"), mutls_conn_close(s) == MUTLS_OK);
  take_output(s, &q);
  check_vec(tag, "close_notify alert record", next_record(&q), t->s_alert_rec);
  if (feed(tag, s, t->c_alert_rec, "accepts the trace's close_notify record"))
    CHECK(nm(tag, "peer's close_notify seen"), mutls_conn_read(s, q.buf, 1) == MUTLS_CLOSED);
out:
  mutls_conn_free(s);
  mutls_config_free(cfg);
}

/* ==== section 6: our client with our server ======================================== */

/* One application_data record from one connection to the other. */
static void send_data(const char *tag, mutls_conn *from, mutls_conn *to, const char *msg,
                      const char *dir) {
  outq q;
  uint8_t buf[256];
  char what[160];
  vec want = {(const uint8_t *)msg, strlen(msg)};
  snprintf(what, sizeof what, "%s: application data written", dir);
  CHECK(nm(tag, what), mutls_conn_write(from, want.p, want.len) == (int)want.len);
  take_output(from, &q);
  vec rec = next_record(&q);
  snprintf(what, sizeof what, "%s: one application_data record", dir);
  CHECKF(nm(tag, what), rec.len > 5 && rec.p[0] == CT_APPLICATION_DATA && q.off == q.len,
         "%zu bytes out, first record %zu bytes of type %d", q.len, rec.len,
         rec.len ? rec.p[0] : -1);
  snprintf(what, sizeof what, "%s: the record is accepted", dir);
  if (!feed(tag, to, rec, what)) return;
  int n = mutls_conn_read(to, buf, sizeof buf);
  snprintf(what, sizeof what, "%s: plaintext read back", dir);
  check_bytes(tag, what, buf, n > 0 ? (size_t)n : 0, want);
}

/* close_notify from one connection to the other. */
static void send_close(const char *tag, mutls_conn *from, mutls_conn *to, const char *dir) {
  outq q;
  char what[160];
  snprintf(what, sizeof what, "%s: close_notify queued", dir);
  CHECK(nm(tag, what), mutls_conn_close(from) == MUTLS_OK);
  take_output(from, &q);
  snprintf(what, sizeof what, "%s: close_notify record accepted", dir);
  if (!feed(tag, to, next_record(&q), what)) return;
  snprintf(what, sizeof what, "%s: close_notify seen", dir);
  CHECK(nm(tag, what), mutls_conn_read(to, q.buf, 1) == MUTLS_CLOSED);
}

/*
 * Section 6 has no application data (after the handshake each side sends
 * only close_notify, checked above). So our client and our server, each
 * injected as in its own run, run the handshake with each other (each
 * record of it is the trace's, as those runs check), and then application
 * data goes both ways under the trace's application traffic keys.
 */
static void run_pair(const trace *t) {
  const char *tag = "s6 pair";
  mutls_config *ccfg = client_config(tag, t), *scfg = server_config(tag, t, "x25519");
  /* Our own tickets here: the server derives its resumption secret too. */
  if (scfg) mutls_config_set_tickets(scfg, 1, 3600);
  mutls_conn *c = ccfg ? mutls_client_new(ccfg, "server") : NULL;
  mutls_conn *s = scfg ? mutls_server_new(scfg) : NULL;
  int ok = c && s && mutls_conn_error(c) == MUTLS_E_NONE && mutls_conn_error(s) == MUTLS_E_NONE;
  CHECK(nm(tag, "client and server connections created"), ok);
  if (!ok) goto out;
  mt_test_inject ci, si;
  client_inject(&ci, t);
  server_inject(&si, t);
  mt_test_inject_set(c, &ci);
  mt_test_inject_set(s, &si);
  ok = tu_pump(c, s) == 0;
  CHECKF(nm(tag, "our client and our server complete the mutual TLS handshake"), ok,
         "client: %s; server: %s", mutls_conn_explain(c), mutls_conn_explain(s));
  if (!ok) goto out;
  check_application_secrets("s6 pair client", c, t);
  check_application_secrets("s6 pair server", s, t);
  check_peer("s6 pair client", "server", c, t->cert_msg, t->s_subject, t->cv);
  check_peer("s6 pair server", "client", s, t->c_cert_msg, t->c_subject, t->c_cv);
  send_data(tag, c, s, "GET /rfc8448-section-6 from an authenticated client", "client to server");
  send_data(tag, s, c, "200 OK, CN=client", "server to client");
  send_data(tag, c, s, "a second record, sequence number 1", "client to server, again");
  send_close(tag, c, s, "client to server");
  send_close(tag, s, c, "server to client");
out:
  mutls_conn_free(c);
  mutls_conn_free(s);
  mutls_config_free(ccfg);
  mutls_config_free(scfg);
}

/* ==== main ========================================================================= */

int main(void) {
  size_t len;
  /* The traces' certificates carry 1024-bit RSA keys, which peers may not
   * use otherwise. */
  mt_crypto_test_allow_weak_keys(1);
  char *text = read_file(trace_path(), &len);
  CHECKF("rfc8448 trace file readable", text != NULL,
         "%s (run from the repository root, or set MUTLS_SPEC_DIR)", trace_path());
  if (!text) return check_exit();
  int parsed = parse_trace(text) == 0;
  free(text);
  CHECK("rfc8448 trace file parsed", parsed);
  if (!parsed) goto out;
  check_block_lengths(3);
  check_block_lengths(5);
  check_block_lengths(6);

  /* Section 3: X25519 on both sides. */
  trace s3 = {.tag = "s3", .section = 3, .group = MT_GROUP_X25519, .first_group = MT_GROUP_X25519};
  int s3_ok = load_trace(&s3, s3_blocks, sizeof s3_blocks / sizeof s3_blocks[0]);
  /* Section 5: the client starts with X25519; the server prefers P-256. */
  trace s5 = {
      .tag = "s5", .section = 5, .group = MT_GROUP_SECP256R1, .first_group = MT_GROUP_X25519};
  int s5_ok = load_trace(&s5, s5_blocks, sizeof s5_blocks / sizeof s5_blocks[0]);
  /* Section 6: X25519; the server's certificate is ECDSA P-256 (CN=ecdsa256),
   * the client's RSA (CN=client), both valid 2016-07-30 to 2026-07-30; the
   * clock is set to 2018-09-01, the trace's date. */
  trace s6 = {.tag = "s6",
              .section = 6,
              .group = MT_GROUP_X25519,
              .first_group = MT_GROUP_X25519,
              .s_subject = "CN=ecdsa256",
              .c_subject = "CN=client",
              .verify_time = 1535760000};
  int s6_ok = load_trace(&s6, s6_blocks, sizeof s6_blocks / sizeof s6_blocks[0]);

  int identity = s3_ok && make_identity(&s3) == 0;
  CHECK("rfc8448 s2/s3: server RSA key and certificate as PEM files (openssl CLI)", identity);
  if (s3_ok) run_client(&s3);
  if (s3_ok && identity) run_server(&s3, "x25519");
  if (s5_ok) run_client(&s5);
  /* The trace's server "prefers P-256": one that also took X25519 would
   * take the client's X25519 share rather than pay a round trip. */
  if (s5_ok && identity) run_server(&s5, "secp256r1");

  int s6_identities = s6_ok && make_s6_identities(&s6) == 0;
  CHECK("rfc8448 s6: certificates as PEM files, stand-in keys (openssl CLI)", s6_identities);
  if (s6_identities) {
    run_client(&s6);
    run_server(&s6, "x25519");
    run_pair(&s6);
  }
out:
  free_trace();
  return check_exit();
}
