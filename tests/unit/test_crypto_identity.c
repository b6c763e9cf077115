/*
 * test_crypto_identity.c - the identity getters of src/crypto/ (SANs by kind,
 * subject attributes, SPKI pin, validity, PEM, issuer names and the trust
 * store's subjects) against certificates made now by the openssl CLI, and
 * against a certificate whose SANs hold the bytes a policy must never see
 * (embedded NUL, control characters, malformed IP addresses).
 */
#include "common/check.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixtures ------------------------------------------------------------ */

static char tmpdir[64];

static const char *path_of(const char *file) {
  static char bufs[4][128];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, 128, "%s/%s", tmpdir, file);
  return b;
}

/* CN of multi.pem, as UTF-8: "Zoë Ω 名" (11 bytes). */
#define UTF8_CN "Zo\xc3\xab \xce\xa9 \xe5\x90\x8d"

static const char gen_script[] =
    "set -e\n"
    "cat > x.cnf <<'X'\n"
    "[req]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "string_mask = utf8only\n"
    "[dn]\n"
    "[ca]\n"
    "basicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[multi]\n"
    "basicConstraints = critical,CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = clientAuth\n"
    "subjectAltName = DNS:a.example,IP:10.0.0.1,URI:spiffe://mutls.test/ns/a,"
    "email:one@example.com,DNS:b.example,IP:2001:DB8:0:0:0:0:0:1,URI:https://x.example/p?q=1,"
    "email:two@example.com,IP:::1,DNS:c.example\n"
    "[odd]\n"
    "basicConstraints = critical,CA:FALSE\n"
    "subjectAltName = $ENV::ODD_SAN\n"
    "[dated]\n"
    "basicConstraints = critical,CA:FALSE\n"
    "subjectAltName = DNS:dated.example\n"
    /* `openssl ca` is the one way to fixed dates in OpenSSL 3.0's CLI. */
    "[ca_dated]\n"
    "database = index.txt\n"
    "serial = serial\n"
    "new_certs_dir = .\n"
    "default_md = sha256\n"
    "policy = any\n"
    "unique_subject = no\n"
    "copy_extensions = none\n"
    "[any]\n"
    "commonName = supplied\n"
    "X\n"
    "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1.key\"; }\n"
    "root() { key \"$1\"; openssl req -new -x509 -utf8 -config x.cnf -key \"$1.key\" "
    "-subj \"$2\" -extensions ca -set_serial \"$3\" -days 30 -sha256 -out \"$1.pem\"; }\n"
    "root ca1 \"/O=mutls test/CN=Identity CA One\" 1\n"
    "root ca2 \"/O=mutls test/CN=Identity CA Two\" 2\n"
    /* The same name as ca1 to X509_NAME_cmp (case, spaces), other DER. */
    "root ca1upper \"/O=MUTLS  TEST/CN=identity ca one\" 3\n"
    "key multi\n"
    "openssl req -new -x509 -utf8 -config x.cnf -key multi.key -subj \"$MULTI_SUBJ\" "
    "-extensions multi -set_serial 10 -days 30 -sha256 -CA ca1.pem -CAkey ca1.key "
    "-out multi.pem\n"
    "key odd\n"
    "openssl req -new -x509 -utf8 -config x.cnf -key odd.key "
    "-subj \"/CN=$(printf 'bad\\001cn')/CN=good cn\" -extensions odd -set_serial 11 -days 30 "
    "-sha256 -CA ca2.pem -CAkey ca2.key -out odd.pem\n"
    "key dated\n"
    "openssl req -new -config x.cnf -key dated.key -subj /CN=dated -out dated.csr\n"
    ": > index.txt; echo 20 > serial\n"
    "openssl ca -batch -config x.cnf -name ca_dated -cert ca1.pem -keyfile ca1.key "
    "-in dated.csr -out dated.pem -startdate 19600101000000Z -enddate 20510101000000Z "
    "-notext -extfile x.cnf -extensions dated\n"
    "cat multi.pem ca1.pem > multi-chain.pem\n"
    "cat ca2.pem ca1.pem > two-cas.pem\n"
    "cat ca1.pem ca1.pem ca1upper.pem > dup-cas.pem\n";

/* A DER SubjectAltName value built byte by byte: what the openssl CLI will
 * not write from text (a NUL inside a name, a 5-byte IP address). */
struct der {
  uint8_t b[512];
  size_t n;
};

static void der_put(struct der *d, uint8_t tag, const void *v, size_t n) {
  d->b[d->n++] = tag;
  d->b[d->n++] = (uint8_t)n; /* every value here is under 128 bytes */
  memcpy(d->b + d->n, v, n);
  d->n += n;
}

#define LIT(s) s, sizeof(s) - 1

/* Context tags of GeneralName (RFC 5280 4.2.1.6), IMPLICIT primitive. */
#define T_EMAIL 0x81
#define T_DNS 0x82
#define T_URI 0x86
#define T_IP 0x87

/* Only the entries marked "kept" may come out of mt_chain_leaf_san. */
static void odd_san(char *out, size_t cap) {
  struct der body = {.n = 0};
  static const uint8_t ip5[] = {1, 2, 3, 4, 5};
  static const uint8_t ip4[] = {192, 0, 2, 7};
  static const uint8_t ip16[] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  der_put(&body, T_DNS, LIT("evil.com\0.good.com"));
  der_put(&body, T_DNS, LIT("ok.example")); /* kept: DNS 0 */
  der_put(&body, T_DNS, LIT("tab\there.example"));
  der_put(&body, T_DNS, LIT(""));
  der_put(&body, T_IP, ip5, sizeof(ip5));
  der_put(&body, T_IP, ip4, sizeof(ip4)); /* kept: IP 0 */
  der_put(&body, T_URI, LIT("spiffe://mutls.test/a\nb"));
  der_put(&body, T_URI, LIT("spiffe://mutls.test/\x80"));
  der_put(&body, T_URI, LIT("spiffe://mutls.test/ok")); /* kept: URI 0 */
  der_put(&body, T_EMAIL, LIT("x\0@evil.com"));
  der_put(&body, T_EMAIL, LIT("ok@example.com")); /* kept: email 0 */
  der_put(&body, T_DNS, LIT("last.example"));     /* kept: DNS 1 */
  der_put(&body, T_IP, ip16, sizeof(ip16));       /* kept: IP 1 */
  der_put(&body, T_DNS, LIT("del\x7f.example"));
  int w = snprintf(out, cap, "DER:30%s%02zx", body.n < 128 ? "" : "81", body.n);
  for (size_t k = 0; k < body.n && w > 0 && (size_t)w + 3 <= cap; k++)
    w += snprintf(out + w, cap - (size_t)w, "%02x", body.b[k]);
}

static int make_fixtures(void) {
  char san[1200], cmd[256];
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/mutls-test-ident-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  FILE *f = fopen(path_of("gen.sh"), "w");
  if (f == NULL) return -1;
  fputs(gen_script, f);
  fclose(f);
  odd_san(san, sizeof(san));
  setenv("ODD_SAN", san, 1);
  setenv("MULTI_SUBJ", "/O=mutls/OU=alpha/OU=beta/CN=" UTF8_CN, 1);
  snprintf(cmd, sizeof(cmd), "cd %s && bash gen.sh >gen.log 2>&1", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void remove_fixtures(void) {
  char cmd[256];
  if (strncmp(tmpdir, "/tmp/mutls-test-ident-", 22) != 0) return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
}

static mt_chain *chain(const char *file) {
  char err[256] = "";
  mt_chain *c = mt_chain_load_file(path_of(file), err, sizeof(err));
  if (c == NULL) printf("# loading %s: %s\n", file, err);
  return c;
}

static mt_trust *trust(const char *file) {
  char err[256] = "";
  mt_trust *t = mt_trust_load_file(path_of(file), err, sizeof(err));
  if (t == NULL) printf("# loading %s: %s\n", file, err);
  return t;
}

/* The first line a shell command prints, without its newline. */
static int run_line(const char *cmd, char *out, size_t len) {
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int ok = fgets(out, (int)len, p) != NULL;
  if (pclose(p) != 0 || !ok) return -1;
  out[strcspn(out, "\n")] = '\0';
  return 0;
}

/* Whole file, NUL-terminated, in a malloc'd buffer. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *buf = calloc(1, 65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static void hex(const uint8_t *b, size_t n, char *out) {
  for (size_t k = 0; k < n; k++)
    sprintf(out + 2 * k, "%02x", b[k]);
  out[2 * n] = '\0';
}

/* ---- SANs ---------------------------------------------------------------- */

/* The SANs of one kind must be exactly want[0..n), in certificate order,
 * and the n-th must be absent. */
static void expect_sans(const char *name, const mt_chain *c, mt_san_type type,
                        const char *const *want, size_t n) {
  char buf[256], label[128];
  for (size_t i = 0; i <= n; i++) {
    int r = mt_chain_leaf_san(c, type, i, buf, sizeof(buf));
    snprintf(label, sizeof(label), "%s %zu", name, i);
    if (i < n)
      CHECKF(label, r == 0 && strcmp(buf, want[i]) == 0, "got %d \"%s\", want \"%s\"", r, buf,
             want[i]);
    else
      CHECKF(label, r == -1 && buf[0] == '\0', "got %d \"%s\", want none", r, buf);
  }
}

static void test_sans(void) {
  mt_chain *c = chain("multi-chain.pem");
  static const char *const dns[] = {"a.example", "b.example", "c.example"};
  static const char *const ip[] = {"10.0.0.1", "2001:db8::1", "::1"};
  static const char *const uri[] = {"spiffe://mutls.test/ns/a", "https://x.example/p?q=1"};
  static const char *const email[] = {"one@example.com", "two@example.com"};
  expect_sans("san dns", c, MT_SAN_DNS, dns, 3);
  expect_sans("san ip (v4 and v6 as text)", c, MT_SAN_IP, ip, 3);
  expect_sans("san uri (SPIFFE ID first)", c, MT_SAN_URI, uri, 2);
  expect_sans("san email", c, MT_SAN_EMAIL, email, 2);

  char buf[64];
  memset(buf, 'x', sizeof(buf));
  /* "a.example" is 9 bytes: 10 fit with the NUL, 9 must not truncate. */
  CHECK("san exact fit",
        mt_chain_leaf_san(c, MT_SAN_DNS, 0, buf, 10) == 0 && strcmp(buf, "a.example") == 0);
  memset(buf, 'x', sizeof(buf));
  CHECK("san too small: -2, empty, not truncated",
        mt_chain_leaf_san(c, MT_SAN_DNS, 0, buf, 9) == -2 && buf[0] == '\0');
  CHECK("san NULL out", mt_chain_leaf_san(c, MT_SAN_DNS, 0, NULL, 0) == -2);
  CHECK("san unknown kind", mt_chain_leaf_san(c, (mt_san_type)9, 0, buf, sizeof(buf)) == -1);
  CHECK("san NULL chain",
        mt_chain_leaf_san(NULL, MT_SAN_DNS, 0, buf, sizeof(buf)) == -1 && buf[0] == '\0');

  /* The peer's path: the same chain rebuilt from DER. */
  const uint8_t *der[2];
  size_t der_len[2];
  der[0] = mt_chain_der(c, 0, &der_len[0]);
  der[1] = mt_chain_der(c, 1, &der_len[1]);
  mt_chain *p = mt_chain_from_der(der, der_len, 2, NULL, 0);
  CHECK("san from DER chain", p && mt_chain_leaf_san(p, MT_SAN_URI, 0, buf, sizeof(buf)) == 0 &&
                                  strcmp(buf, "spiffe://mutls.test/ns/a") == 0);
  mt_chain_free(p);
  mt_chain_free(c);

  c = chain("dated.pem");
  CHECK("san: no URI in a DNS-only cert",
        c && mt_chain_leaf_san(c, MT_SAN_URI, 0, buf, sizeof(buf)) == -1);
  mt_chain_free(c);
}

static void test_hostile_sans(void) {
  mt_chain *c = chain("odd.pem");
  char line[1024];
  mt_chain_leaf_sans(c, line, sizeof(line));
  printf("# odd.pem SANs as logged: %s\n", line);
  static const char *const dns[] = {"ok.example", "last.example"};
  static const char *const ip[] = {"192.0.2.7", "fe80::1"};
  static const char *const uri[] = {"spiffe://mutls.test/ok"};
  static const char *const email[] = {"ok@example.com"};
  /* Skipped: a NUL inside, a tab, an empty name, DEL (DNS); a 5-byte
   * address (IP); a newline, a byte >= 0x80 (URI); a NUL (email). */
  expect_sans("hostile san dns", c, MT_SAN_DNS, dns, 2);
  expect_sans("hostile san ip", c, MT_SAN_IP, ip, 2);
  expect_sans("hostile san uri", c, MT_SAN_URI, uri, 1);
  expect_sans("hostile san email", c, MT_SAN_EMAIL, email, 1);
  mt_chain_free(c);
}

/* ---- subject attributes ---------------------------------------------------- */

static void test_attrs(void) {
  mt_chain *c = chain("multi.pem");
  char buf[64];
  CHECKF("attr CN utf-8",
         mt_chain_leaf_attr(c, "CN", 0, buf, sizeof(buf)) == 0 && strcmp(buf, UTF8_CN) == 0,
         "got \"%s\"", buf);
  CHECK("attr CN 1 absent",
        mt_chain_leaf_attr(c, "CN", 1, buf, sizeof(buf)) == -1 && buf[0] == '\0');
  CHECK("attr OU 0",
        mt_chain_leaf_attr(c, "OU", 0, buf, sizeof(buf)) == 0 && strcmp(buf, "alpha") == 0);
  CHECK("attr OU 1",
        mt_chain_leaf_attr(c, "OU", 1, buf, sizeof(buf)) == 0 && strcmp(buf, "beta") == 0);
  CHECK("attr OU 2 absent", mt_chain_leaf_attr(c, "OU", 2, buf, sizeof(buf)) == -1);
  CHECK("attr O",
        mt_chain_leaf_attr(c, "O", 0, buf, sizeof(buf)) == 0 && strcmp(buf, "mutls") == 0);
  CHECK(
      "attr by long name and OID",
      mt_chain_leaf_attr(c, "commonName", 0, buf, sizeof(buf)) == 0 && strcmp(buf, UTF8_CN) == 0 &&
          mt_chain_leaf_attr(c, "2.5.4.11", 1, buf, sizeof(buf)) == 0 && strcmp(buf, "beta") == 0);
  CHECK("attr absent kind", mt_chain_leaf_attr(c, "L", 0, buf, sizeof(buf)) == -1);
  CHECK("attr unknown name", mt_chain_leaf_attr(c, "no-such-attr", 0, buf, sizeof(buf)) == -1);
  CHECK("attr NULL name", mt_chain_leaf_attr(c, NULL, 0, buf, sizeof(buf)) == -1);
  CHECK("attr NULL chain", mt_chain_leaf_attr(NULL, "CN", 0, buf, sizeof(buf)) == -1);
  CHECK("attr exact fit (11 bytes + NUL)",
        mt_chain_leaf_attr(c, "CN", 0, buf, 12) == 0 && strcmp(buf, UTF8_CN) == 0);
  memset(buf, 'x', sizeof(buf));
  CHECK("attr too small: -2, empty",
        mt_chain_leaf_attr(c, "CN", 0, buf, 11) == -2 && buf[0] == '\0');
  mt_chain_free(c);

  c = chain("odd.pem");
  CHECKF("attr CN with a control character is skipped",
         mt_chain_leaf_attr(c, "CN", 0, buf, sizeof(buf)) == 0 && strcmp(buf, "good cn") == 0,
         "got \"%s\"", buf);
  CHECK("attr CN: only one clean CN", mt_chain_leaf_attr(c, "CN", 1, buf, sizeof(buf)) == -1);
  mt_chain_free(c);
}

/* ---- SPKI pin, validity, PEM ----------------------------------------------- */

static void expect_spki(const char *file) {
  char cmd[512], want[128] = "", got[65], label[64];
  uint8_t h[32];
  snprintf(cmd, sizeof(cmd),
           "openssl x509 -pubkey -noout -in %s | openssl pkey -pubin -outform DER | sha256sum",
           path_of(file));
  mt_chain *c = chain(file);
  int r = mt_chain_leaf_spki_sha256(c, h);
  hex(h, 32, got);
  snprintf(label, sizeof(label), "spki sha256 = openssl (%s)", file);
  CHECKF(label, r == 0 && run_line(cmd, want, sizeof(want)) == 0 && strncmp(want, got, 64) == 0,
         "got %s, openssl %s", got, want);
  uint8_t fp[32];
  CHECK("spki hash is not the certificate hash",
        mt_chain_leaf_fingerprint(c, fp) == 0 && memcmp(fp, h, 32) != 0);
  mt_chain_free(c);
}

static void test_spki(void) {
  uint8_t h[32];
  expect_spki("multi.pem");
  expect_spki("odd.pem");
  CHECK("spki NULL chain", mt_chain_leaf_spki_sha256(NULL, h) == -1);
}

/* Unix time of the certificate's date as GNU date reads openssl's text. */
static int64_t openssl_date(const char *file, const char *which) {
  char cmd[512], out[64];
  snprintf(cmd, sizeof(cmd), "date -u -d \"$(openssl x509 -noout -%s -in %s | cut -d= -f2)\" +%%s",
           which, path_of(file));
  if (run_line(cmd, out, sizeof(out)) != 0) return INT64_MIN;
  return strtoll(out, NULL, 10);
}

static void test_validity(void) {
  int64_t nb = 1, na = 1;
  mt_chain *c = chain("dated.pem");
  /* UTCTime 600101000000Z (before the epoch) and GeneralizedTime 2051. */
  CHECKF("validity fixed dates",
         mt_chain_leaf_validity(c, &nb, &na) == 0 && nb == -315619200 && na == 2556144000,
         "got %lld %lld", (long long)nb, (long long)na);
  CHECK("validity = openssl (dated)",
        nb == openssl_date("dated.pem", "startdate") && na == openssl_date("dated.pem", "enddate"));
  mt_chain_free(c);
  c = chain("multi.pem");
  CHECKF("validity = openssl (multi)",
         mt_chain_leaf_validity(c, &nb, &na) == 0 && nb == openssl_date("multi.pem", "startdate") &&
             na == openssl_date("multi.pem", "enddate") && na - nb == 30 * 86400,
         "got %lld %lld", (long long)nb, (long long)na);
  CHECK("validity one output",
        mt_chain_leaf_validity(c, NULL, &na) == 0 && mt_chain_leaf_validity(c, &nb, NULL) == 0);
  mt_chain_free(c);
  nb = na = 1;
  CHECK("validity NULL chain zeroes",
        mt_chain_leaf_validity(NULL, &nb, &na) == -1 && nb == 0 && na == 0);
}

static void test_pem(void) {
  mt_chain *c = chain("multi-chain.pem");
  char *leaf = slurp(path_of("multi.pem")), *ca = slurp(path_of("ca1.pem"));
  static char out[8192];
  int n = mt_chain_pem(c, 0, out, sizeof(out));
  CHECK("pem leaf = file", leaf && n > 0 && (size_t)n == strlen(leaf) && strcmp(out, leaf) == 0);
  n = mt_chain_pem(c, 1, out, sizeof(out));
  CHECK("pem CA = file", ca && n > 0 && (size_t)n == strlen(ca) && strcmp(out, ca) == 0);
  size_t want = leaf ? strlen(leaf) : 0;
  CHECK("pem exact fit", mt_chain_pem(c, 0, out, want + 1) == (int)want);
  memset(out, 'x', 16);
  CHECK("pem one byte short", mt_chain_pem(c, 0, out, want) == -1 && out[0] == '\0');
  CHECK("pem no such certificate", mt_chain_pem(c, 2, out, sizeof(out)) == -1);
  CHECK("pem NULL",
        mt_chain_pem(NULL, 0, out, sizeof(out)) == -1 && mt_chain_pem(c, 0, NULL, 100) == -1);
  /* Round trip: the PEM loads back to the same DER. */
  n = mt_chain_pem(c, 0, out, sizeof(out));
  mt_chain *back = n > 0 ? mt_chain_load_pem((const uint8_t *)out, (size_t)n, NULL, 0) : NULL;
  size_t l1 = 0, l2 = 0;
  const uint8_t *d1 = mt_chain_der(c, 0, &l1), *d2 = mt_chain_der(back, 0, &l2);
  CHECK("pem round trip", back && l1 == l2 && memcmp(d1, d2, l1) == 0);
  mt_chain_free(back);
  mt_chain_free(c);
  free(leaf);
  free(ca);
}

/* ---- issuers and trust subjects ------------------------------------------- */

static void test_issuers(void) {
  const uint8_t *const *names = NULL, *const *again = NULL;
  const size_t *lens = NULL;
  size_t n = 0;
  char text[256];
  mt_chain *multi = chain("multi-chain.pem"), *odd = chain("odd.pem"), *ca1c = chain("ca1.pem");

  mt_trust *t1 = trust("ca1.pem");
  CHECK("trust subjects one CA", mt_trust_subjects(t1, &names, &lens, &n) == 0 && n == 1);
  CHECK("trust subject text", n == 1 && mt_name_text(names[0], lens[0], text, sizeof(text)) == 0 &&
                                  strcmp(text, "CN=Identity CA One,O=mutls test") == 0);
  size_t cl = 0;
  const uint8_t *cd = mt_chain_der(ca1c, 0, &cl);
  CHECK("trust subject is the CA's subject DER",
        n == 1 && cd && memmem(cd, cl, names[0], lens[0]) != NULL);
  CHECK("trust subjects made once",
        mt_trust_subjects(t1, &again, NULL, NULL) == 0 && again == names);
  CHECK("issuer_in right CA", mt_chain_issuer_in(multi, 0, names, lens, n) == 1);
  CHECK("issuer_in self-signed CA in chain", mt_chain_issuer_in(multi, 1, names, lens, n) == 1);
  CHECK("issuer_in other CA's leaf", mt_chain_issuer_in(odd, 0, names, lens, n) == 0);
  CHECK("issuer_in no such certificate", mt_chain_issuer_in(multi, 2, names, lens, n) == 0);
  CHECK("issuer_in empty list", mt_chain_issuer_in(multi, 0, names, lens, 0) == 0 &&
                                    mt_chain_issuer_in(multi, 0, NULL, NULL, 3) == 0);

  /* Names that do not parse are skipped; the good one still matches. */
  static const uint8_t junk[] = {0x30, 0x05, 0x01};
  uint8_t trailing[512];
  size_t tl = n == 1 && lens[0] < sizeof(trailing) ? lens[0] : 0;
  if (tl) memcpy(trailing, names[0], tl);
  trailing[tl] = 0x00; /* one byte after the name */
  const uint8_t *mixed[4] = {junk, NULL, trailing, n ? names[0] : junk};
  size_t mixed_len[4] = {sizeof(junk), 4, tl + 1, n ? lens[0] : 0};
  CHECK("issuer_in skips junk, NULL, trailing bytes",
        mt_chain_issuer_in(multi, 0, mixed, mixed_len, 3) == 0 &&
            mt_chain_issuer_in(multi, 0, mixed, mixed_len, 4) == 1);
  CHECK("name_text junk",
        mt_name_text(junk, sizeof(junk), text, sizeof(text)) == -1 && text[0] == '\0');
  CHECK("name_text trailing bytes", mt_name_text(trailing, tl + 1, text, sizeof(text)) == -1);
  CHECK("name_text NULL", mt_name_text(NULL, 0, text, sizeof(text)) == -1 &&
                              mt_name_text(names[0], lens[0], NULL, 0) == 0);
  CHECK("name_text truncates for display",
        mt_name_text(names[0], lens[0], text, 8) == 0 && strcmp(text, "CN=Iden") == 0);

  mt_trust *t2 = trust("ca2.pem");
  CHECK("issuer_in wrong CA", mt_trust_subjects(t2, &names, &lens, &n) == 0 && n == 1 &&
                                  mt_chain_issuer_in(multi, 0, names, lens, n) == 0 &&
                                  mt_chain_issuer_in(odd, 0, names, lens, n) == 1);

  mt_trust *both = trust("two-cas.pem");
  char t0[256] = "", t1s[256] = "";
  CHECK("trust subjects two CAs, file order",
        mt_trust_subjects(both, &names, &lens, &n) == 0 && n == 2 &&
            mt_name_text(names[0], lens[0], t0, sizeof(t0)) == 0 &&
            mt_name_text(names[1], lens[1], t1s, sizeof(t1s)) == 0 &&
            strcmp(t0, "CN=Identity CA Two,O=mutls test") == 0 &&
            strcmp(t1s, "CN=Identity CA One,O=mutls test") == 0);
  CHECK("issuer_in either CA", mt_chain_issuer_in(multi, 0, names, lens, n) == 1 &&
                                   mt_chain_issuer_in(odd, 0, names, lens, n) == 1);

  /* ca1 twice, then a CA whose name differs from ca1's only in case and
   * spaces: the exact duplicate is listed once; X509_NAME_cmp finds the
   * look-alike equal to the leaf's issuer. */
  mt_trust *dup = trust("dup-cas.pem");
  CHECK("trust subjects drop exact duplicates",
        mt_trust_subjects(dup, &names, &lens, &n) == 0 && n == 2);
  CHECK("issuer_in X509_NAME_cmp semantics",
        n == 2 && mt_chain_issuer_in(multi, 0, names + 1, lens + 1, 1) == 1);

  mt_chain_issuer_text(multi, 0, text, sizeof(text));
  CHECK("issuer_text leaf", strcmp(text, "CN=Identity CA One,O=mutls test") == 0);
  mt_chain_issuer_text(odd, 0, text, sizeof(text));
  CHECK("issuer_text other", strcmp(text, "CN=Identity CA Two,O=mutls test") == 0);
  mt_chain_issuer_text(multi, 5, text, sizeof(text));
  CHECK("issuer_text no such certificate", text[0] == '\0');
  mt_chain_issuer_text(NULL, 0, text, sizeof(text));
  mt_chain_issuer_text(multi, 0, NULL, 10);
  CHECK("issuer_text NULL", text[0] == '\0');

  names = (const uint8_t *const *)1;
  n = 7;
  CHECK("trust_subjects NULL",
        mt_trust_subjects(NULL, &names, &lens, &n) == -1 && names == NULL && n == 0);

  mt_trust_free(t1);
  mt_trust_free(t2);
  mt_trust_free(both);
  mt_trust_free(dup);
  mt_chain_free(multi);
  mt_chain_free(odd);
  mt_chain_free(ca1c);
}

int main(void) {
  CHECK("crypto_init", mt_crypto_init() == 0);
  int fx = make_fixtures();
  CHECKF("fixtures (openssl CLI)", fx == 0, "see %s/gen.log", tmpdir);
  if (fx == 0) {
    test_sans();
    test_hostile_sans();
    test_attrs();
    test_spki();
    test_validity();
    test_pem();
    test_issuers();
  }
  if (check_exit() == 0)
    remove_fixtures();
  else
    printf("# fixtures kept in %s\n", tmpdir);
  return check_exit();
}
