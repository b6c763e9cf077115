/*
 * test_crypto_crl.c - revocation in src/crypto/: loading CRL sets (PEM with
 * one or more CRLs, DER, and the files that are not CRLs), their reference
 * count, and mt_verify_chain_rev against CRLs made now by `openssl ca`:
 * revoked leaf and intermediate, leaf-only and whole-chain checking, a
 * missing, stale, not-yet-valid or forged CRL, and soft-fail. Each case
 * asserts the exact code and the parts of the sentence a person acts on.
 */
#include "common/check.h"
#include "common/tu.h"
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- fixtures ------------------------------------------------------------ */

static char tmpdir[64];

/* A file in our own directory (rotating static buffers). */
static const char *path_of(const char *file) {
  static char bufs[8][160];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, 160, "%s/%s", tmpdir, file);
  return b;
}

/* Run in tmpdir with the make_certs directory as $1. `openssl ca` keeps a
 * database per CRL kind: revoking adds the certificate to it, -gencrl lists
 * what is revoked there. */
static const char gen_script[] =
    "set -e\n"
    "P=$1\n"
    "cat > ca.cnf <<'X'\n"
    "[c]\n"
    "database = $ENV::DB/index.txt\n"
    "crlnumber = $ENV::DB/crlnumber\n"
    "default_md = sha256\n"
    "X\n"
    "db() { mkdir -p $1; [ -f $1/index.txt ] || { : > $1/index.txt; echo 01 > $1/crlnumber; }; }\n"
    /* crl DB CA OUT ARGS...: a CRL signed by CA.pem/CA.key listing DB's revocations */
    "crl() { db $1; d=$1 ca=$2 out=$3; shift 3; DB=$d openssl ca -batch -config ca.cnf -name c "
    "-cert $ca.pem -keyfile $ca.key -gencrl -out $out \"$@\" 2>>gen.err; }\n"
    /* revoke DB CA CERT REASON */
    "revoke() { db $1; DB=$1 openssl ca -batch -config ca.cnf -name c -cert $2.pem "
    "-keyfile $2.key -revoke $3 -crl_reason $4 2>>gen.err; }\n"
    /* the revocation date of the only entry of DB, as mutls prints dates */
    "revdate() { awk -F'\\t' '{ d = $3; sub(/,.*/, \"\", d); printf \"20%s-%s-%s %s:%s:%s UTC\", "
    "substr(d, 1, 2), substr(d, 3, 2), substr(d, 5, 2), substr(d, 7, 2), substr(d, 9, 2), "
    "substr(d, 11, 2) }' $1/index.txt; }\n"
    "crl empty_root $P/ca root-empty.crl -crldays 1\n"
    "crl empty_inter $P/inter-ca inter-empty.crl -crldays 1\n"
    "revoke billing $P/ca $P/client-billing.pem keyCompromise\n"
    "crl billing $P/ca root-billing.crl -crldays 1\n"
    "revdate billing > billing.revdate\n"
    "revoke inter $P/ca $P/inter-ca.pem cACompromise\n"
    "crl inter $P/ca root-inter.crl -crldays 1\n"
    "revdate inter > inter.revdate\n"
    /* nextUpdate in the past, and lastUpdate in the future */
    "crl empty_root $P/ca root-stale.crl -crl_lastupdate 20200101000000Z "
    "-crl_nextupdate 20200201000000Z\n"
    "crl empty_root $P/ca root-future.crl -crl_lastupdate 20900101000000Z "
    "-crl_nextupdate 20900201000000Z\n"
    "openssl crl -in root-empty.crl -noout -nextupdate -dateopt iso_8601 "
    "| sed 's/^nextUpdate=//; s/Z$/ UTC/' | tr -d '\\n' > root-empty.next\n"
    /* Another CA lists the same serial: it must not revoke our certificate. */
    "revoke other $P/other-ca $P/client-billing.pem keyCompromise\n"
    "crl other $P/other-ca other-billing.crl -crldays 1\n"
    /* A CA with our CA's name but another key: its CRL does not verify. */
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out forged.key 2>>gen.err\n"
    "openssl req -new -x509 -key forged.key -subj '/CN=mutls test CA' -days 30 "
    "-out forged.pem 2>>gen.err\n"
    "revoke forged ./forged $P/client-billing.pem keyCompromise\n"
    "crl forged ./forged forged.crl -crldays 1\n"
    "cat root-billing.crl inter-empty.crl > two.pem\n"
    "openssl crl -in root-billing.crl -outform DER -out root-billing.der\n"
    "openssl x509 -in $P/ca.pem -outform DER -out ca.der\n"
    "printf 'not a CRL\\n' > text.txt\n"
    "printf -- '-----BEGIN X509 CRL-----\\nAAAA\\n-----END X509 CRL-----\\n' > corrupt.pem\n"
    "cat root-empty.crl corrupt.pem > good-then-corrupt.pem\n";

static int make_fixtures(void) {
  const char *pki = tu_certs();
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/mutls-test-crl-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  FILE *f = fopen(path_of("gen.sh"), "w");
  if (f == NULL) return -1;
  fputs(gen_script, f);
  fclose(f);
  char cmd[768];
  snprintf(cmd, sizeof(cmd), "cd '%s' && sh gen.sh '%s' >gen.log 2>&1", tmpdir, pki);
  return system(cmd) == 0 ? 0 : -1;
}

static void remove_fixtures(void) {
  char cmd[256];
  if (strncmp(tmpdir, "/tmp/mutls-test-crl-", 20) != 0) return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) printf("# could not remove %s\n", tmpdir);
}

/* The first line of one of our files, without its newline ("" if none). */
static void read_line(const char *file, char *out, size_t len) {
  out[0] = '\0';
  FILE *f = fopen(path_of(file), "r");
  if (f == NULL) return;
  if (fgets(out, (int)len, f) == NULL) out[0] = '\0';
  fclose(f);
  out[strcspn(out, "\n")] = '\0';
}

/* ---- helpers ------------------------------------------------------------- */

static mt_trust *trust(const char *file) {
  char err[256] = "";
  mt_trust *t = mt_trust_load_file(tu_path(file), err, sizeof(err));
  if (t == NULL) printf("# loading trust %s: %s\n", file, err);
  return t;
}

static mt_chain *chain(const char *file) {
  char err[256] = "";
  mt_chain *c = mt_chain_load_file(tu_path(file), err, sizeof(err));
  if (c == NULL) printf("# loading %s: %s\n", file, err);
  return c;
}

/* A set from one or two of our files (f2 may be NULL). */
static mt_crls *crls(const char *f1, const char *f2) {
  const char *paths[2] = {path_of(f1), f2 ? path_of(f2) : NULL};
  char err[512] = "";
  mt_crls *c = mt_crls_load_files(paths, f2 ? 2 : 1, err, sizeof(err));
  if (c == NULL) printf("# loading CRLs %s %s: %s\n", f1, f2 ? f2 : "", err);
  return c;
}

#define LEAF_ONLY 0
#define WHOLE 1
#define HARD 0
#define SOFT 1

/* One verification: chain file (from make_certs) against trust with the
 * given CRL set, at now (0: the current time); the code expected and up to
 * two substrings of the sentence. */
static void rcase(const char *label, mt_trust *t, const char *file, mt_purpose purpose,
                  const mt_crls *set, int whole, int soft, time_t now, mt_verify_code want,
                  const char *s1, const char *s2) {
  char why[768] = "";
  mt_chain *c = chain(file);
  mt_revocation rev = {set, whole, soft};
  int got = -1;
  if (c != NULL && t != NULL)
    got = (int)mt_verify_chain_rev(t, c, purpose, NULL, now, &rev, why, sizeof(why));
  CHECKF(label, got == (int)want && (!s1 || strstr(why, s1)) && (!s2 || strstr(why, s2)),
         "code %d (want %d), why=\"%s\"", got, (int)want, why);
  if (got == (int)want && want != MT_VERIFY_OK) printf("# %s\n", why);
  mt_chain_free(c);
}

static const mt_purpose S = MT_PURPOSE_SERVER, C = MT_PURPOSE_CLIENT;
#define BILLING "OU=ledger,OU=payments,CN=billing"

/* ---- loading ------------------------------------------------------------- */

static void test_load(void) {
  char err[512];
  const char *p[2];

  p[0] = path_of("nope.crl");
  mt_crls *c = mt_crls_load_files(p, 1, err, sizeof(err));
  CHECKF("crl file missing", c == NULL && strstr(err, p[0]) && strstr(err, "No such file"),
         "err=\"%s\"", err);
  p[0] = tu_path("ca.pem");
  c = mt_crls_load_files(p, 1, err, sizeof(err));
  CHECKF("certificate file is no CRL file",
         c == NULL && strstr(err, p[0]) && strstr(err, "holds no CRL"), "err=\"%s\"", err);
  p[0] = path_of("ca.der");
  c = mt_crls_load_files(p, 1, err, sizeof(err));
  CHECKF("DER certificate is no CRL", c == NULL && strstr(err, p[0]) && strstr(err, "holds no CRL"),
         "err=\"%s\"", err);
  p[0] = path_of("text.txt");
  c = mt_crls_load_files(p, 1, err, sizeof(err));
  CHECKF("text file is no CRL", c == NULL && strstr(err, p[0]) && strstr(err, "holds no CRL"),
         "err=\"%s\"", err);
  p[0] = path_of("good-then-corrupt.pem");
  c = mt_crls_load_files(p, 1, err, sizeof(err));
  CHECKF("corrupt second CRL refused",
         c == NULL && strstr(err, p[0]) && strstr(err, "CRL 2 in") && strstr(err, "does not parse"),
         "err=\"%s\"", err);
  /* The sentence names the file that failed, not the first one. */
  p[0] = path_of("root-empty.crl");
  p[1] = path_of("nope.crl");
  c = mt_crls_load_files(p, 2, err, sizeof(err));
  CHECKF("second file missing named", c == NULL && strstr(err, p[1]) && !strstr(err, p[0]),
         "err=\"%s\"", err);
  c = mt_crls_load_files(p, 0, err, sizeof(err));
  CHECKF("no file given", c == NULL && strstr(err, "no CRL file"), "err=\"%s\"", err);
  c = mt_crls_load_files(NULL, 1, NULL, 0);
  CHECK("NULL paths, NULL err", c == NULL);

  c = crls("root-empty.crl", NULL);
  CHECK("load one PEM CRL", c != NULL);
  mt_crls_free(c);
  c = crls("two.pem", NULL);
  CHECK("load a PEM file with two CRLs", c != NULL);
  mt_crls_free(c);
  c = crls("root-billing.der", NULL);
  CHECK("load a DER CRL", c != NULL);
  mt_crls_free(c);
  c = crls("root-billing.crl", "inter-empty.crl");
  CHECK("load two files", c != NULL);
  mt_crls_free(c);
}

static void test_refcount(void) {
  mt_trust *t = trust("ca.pem");
  mt_crls *c = crls("root-billing.crl", NULL);
  CHECK("ref returns the set", c != NULL && mt_crls_ref(c) == c);
  CHECK("ref NULL", mt_crls_ref(NULL) == NULL);
  mt_crls_free(c); /* one reference left */
  rcase("set still usable after one free", t, "client-billing.pem", C, c, LEAF_ONLY, HARD, 0,
        MT_VERIFY_REVOKED, "serial 0x15", NULL);
  mt_crls_free(c); /* the last: ASan reports a leak or a double free here */
  mt_crls_free(NULL);
  mt_trust_free(t);
}

/* ---- verification -------------------------------------------------------- */

static void test_leaf(void) {
  mt_trust *t = trust("ca.pem");
  mt_crls *empty = crls("root-empty.crl", NULL), *billing = crls("root-billing.crl", NULL);
  mt_crls *der = crls("root-billing.der", NULL), *two = crls("two.pem", NULL);
  char revdate[64], want[256];
  read_line("billing.revdate", revdate, sizeof(revdate));
  snprintf(want, sizeof(want), "(serial 0x15) was revoked on %s (keyCompromise)", revdate);
  CHECKF("revocation date read", strlen(revdate) == 23, "\"%s\"", revdate);

  rcase("not revoked", t, "client-billing.pem", C, empty, LEAF_ONLY, HARD, 0, MT_VERIFY_OK,
        "the certificate for " BILLING " is valid", NULL);
  rcase("leaf revoked", t, "client-billing.pem", C, billing, LEAF_ONLY, HARD, 0, MT_VERIFY_REVOKED,
        "the certificate for " BILLING, want);
  rcase("leaf revoked: the fix", t, "client-billing.pem", C, billing, LEAF_ONLY, HARD, 0,
        MT_VERIFY_REVOKED, "issue a new one", NULL);
  rcase("leaf revoked, whole chain", t, "client-billing.pem", C, billing, WHOLE, HARD, 0,
        MT_VERIFY_REVOKED, want, NULL);
  rcase("leaf revoked, soft-fail is no excuse", t, "client-billing.pem", C, billing, LEAF_ONLY,
        SOFT, 0, MT_VERIFY_REVOKED, want, NULL);
  rcase("leaf revoked, DER CRL", t, "client-billing.pem", C, der, LEAF_ONLY, HARD, 0,
        MT_VERIFY_REVOKED, want, NULL);
  rcase("leaf revoked, PEM with two CRLs", t, "client-billing.pem", C, two, LEAF_ONLY, HARD, 0,
        MT_VERIFY_REVOKED, want, NULL);
  rcase("another leaf of that CA is fine", t, "client.pem", C, billing, LEAF_ONLY, HARD, 0,
        MT_VERIFY_OK, NULL, NULL);

  /* No CRL at all, rev NULL, or rev without a set: no revocation checking. */
  mt_chain *c = chain("client-billing.pem");
  char why1[512] = "", why2[512] = "";
  mt_revocation none = {NULL, 1, 0};
  int a = c ? (int)mt_verify_chain(t, c, C, NULL, 0, why1, sizeof(why1)) : -1;
  int b = c ? (int)mt_verify_chain_rev(t, c, C, NULL, 0, NULL, why2, sizeof(why2)) : -1;
  CHECKF("rev NULL = mt_verify_chain", a == MT_VERIFY_OK && b == a && strcmp(why1, why2) == 0,
         "%d \"%s\" / %d \"%s\"", a, why1, b, why2);
  b = c ? (int)mt_verify_chain_rev(t, c, C, NULL, 0, &none, why2, sizeof(why2)) : -1;
  CHECKF("rev without CRLs checks nothing", b == MT_VERIFY_OK && strcmp(why1, why2) == 0,
         "%d \"%s\"", b, why2);
  /* Other errors keep their code when CRLs are checked. */
  b = c ? (int)mt_verify_chain_rev(t, c, S, NULL, 0, &(mt_revocation){empty, 0, 1}, why2,
                                   sizeof(why2))
        : -1;
  CHECKF("bad purpose still bad purpose", b == MT_VERIFY_BAD_PURPOSE, "%d \"%s\"", b, why2);
  mt_chain_free(c);
  mt_trust_free(t);
  t = trust("other-ca.pem");
  rcase("untrusted still untrusted", t, "client-billing.pem", C, billing, LEAF_ONLY, SOFT, 0,
        MT_VERIFY_UNTRUSTED, "not in the trust store", NULL);
  mt_trust_free(t);
  mt_crls_free(empty);
  mt_crls_free(billing);
  mt_crls_free(der);
  mt_crls_free(two);
}

static void test_intermediate(void) {
  mt_trust *t = trust("ca.pem");
  mt_crls *revoked = crls("inter-empty.crl", "root-inter.crl");
  mt_crls *fine = crls("inter-empty.crl", "root-empty.crl");
  mt_crls *inter_only = crls("inter-empty.crl", NULL), *root_only = crls("root-billing.crl", NULL);
  char revdate[64], want[256];
  read_line("inter.revdate", revdate, sizeof(revdate));
  snprintf(want, sizeof(want), "(serial 0x0F) was revoked on %s (cACompromise)", revdate);

  rcase("intermediate revoked, whole chain", t, "server-chain.pem", S, revoked, WHOLE, HARD, 0,
        MT_VERIFY_REVOKED, "the CA certificate CN=mutls test intermediate CA", want);
  rcase("intermediate revoked, leaf only: not checked", t, "server-chain.pem", S, revoked,
        LEAF_ONLY, HARD, 0, MT_VERIFY_OK, NULL, NULL);
  rcase("intermediate revoked, whole chain, soft-fail", t, "server-chain.pem", S, revoked, WHOLE,
        SOFT, 0, MT_VERIFY_REVOKED, want, NULL);
  rcase("chain not revoked, whole chain", t, "server-chain.pem", S, fine, WHOLE, HARD, 0,
        MT_VERIFY_OK, "valid", NULL);
  /* Leaf only needs the intermediate's CRL; the whole chain the root's too. */
  rcase("leaf only: the root's CRL is not needed", t, "server-chain.pem", S, inter_only, LEAF_ONLY,
        HARD, 0, MT_VERIFY_OK, NULL, NULL);
  rcase("whole chain: the root's CRL is missing", t, "server-chain.pem", S, inter_only, WHOLE, HARD,
        0, MT_VERIFY_CRL_MISSING, "no CRL from CN=mutls test CA was loaded",
        "revocation of CN=mutls test intermediate CA cannot be checked");
  rcase("whole chain: root's CRL missing, soft-fail", t, "server-chain.pem", S, inter_only, WHOLE,
        SOFT, 0, MT_VERIFY_OK, "no CRL from CN=mutls test CA was loaded (soft-fail)", NULL);
  rcase("leaf only: the intermediate's CRL is missing", t, "server-chain.pem", S, root_only,
        LEAF_ONLY, HARD, 0, MT_VERIFY_CRL_MISSING,
        "no CRL from CN=mutls test intermediate CA was loaded",
        "add that CA's CRL (--crl) or allow soft-fail");
  mt_trust_free(t);

  /* The anchor is never checked: a trusted intermediate needs no CRL from
   * the root (libcrypto's CRL_CHECK_ALL would ask for one). */
  t = trust("inter-ca.pem");
  rcase("whole chain: the anchor is not checked", t, "server-chain.pem", S, inter_only, WHOLE, HARD,
        0, MT_VERIFY_OK, "valid", NULL);
  rcase("whole chain: a revoked anchor is still the anchor", t, "server-chain.pem", S, revoked,
        WHOLE, HARD, 0, MT_VERIFY_OK, NULL, NULL);
  mt_trust_free(t);
  mt_crls_free(revoked);
  mt_crls_free(fine);
  mt_crls_free(inter_only);
  mt_crls_free(root_only);
}

static void test_missing_and_stale(void) {
  mt_trust *t = trust("ca.pem");
  mt_crls *inter_only = crls("inter-empty.crl", NULL), *stale = crls("root-stale.crl", NULL);
  mt_crls *empty = crls("root-empty.crl", NULL), *billing = crls("root-billing.crl", NULL);
  char next[64], want[256];
  read_line("root-empty.next", next, sizeof(next));
  time_t later = time(NULL) + 2 * 86400; /* after the 1-day CRLs' nextUpdate */

  rcase("CRL missing", t, "client-billing.pem", C, inter_only, LEAF_ONLY, HARD, 0,
        MT_VERIFY_CRL_MISSING,
        "no CRL from CN=mutls test CA was loaded, so the revocation of " BILLING
        " cannot be checked",
        "allow soft-fail");
  rcase("CRL missing, soft-fail", t, "client-billing.pem", C, inter_only, LEAF_ONLY, SOFT, 0,
        MT_VERIFY_OK, "the certificate for " BILLING " is valid",
        "no CRL from CN=mutls test CA was loaded (soft-fail)");
  rcase("CRL stale (nextUpdate 2020)", t, "client-billing.pem", C, stale, LEAF_ONLY, HARD, 0,
        MT_VERIFY_CRL_STALE,
        "the CRL from CN=mutls test CA is stale: its nextUpdate was 2020-02-01 00:00:00 UTC",
        "fetch a fresh one");
  rcase("CRL stale, soft-fail", t, "client-billing.pem", C, stale, LEAF_ONLY, SOFT, 0, MT_VERIFY_OK,
        "stale CRL from CN=mutls test CA (soft-fail)", NULL);
  snprintf(want, sizeof(want), "is stale: its nextUpdate was %s;", next);
  CHECKF("nextUpdate read", strlen(next) == 23, "\"%s\"", next);
  rcase("CRL stale at a later now", t, "client-billing.pem", C, empty, LEAF_ONLY, HARD, later,
        MT_VERIFY_CRL_STALE, want, NULL);
  rcase("CRL stale at a later now, soft-fail", t, "client-billing.pem", C, empty, LEAF_ONLY, SOFT,
        later, MT_VERIFY_OK, "(soft-fail)", NULL);
  /* A stale CRL is still read under soft-fail: what it lists is revoked. */
  rcase("stale CRL listing the leaf", t, "client-billing.pem", C, billing, LEAF_ONLY, HARD, later,
        MT_VERIFY_CRL_STALE, NULL, NULL);
  rcase("stale CRL listing the leaf, soft-fail", t, "client-billing.pem", C, billing, LEAF_ONLY,
        SOFT, later, MT_VERIFY_REVOKED, "(serial 0x15) was revoked on", NULL);
  mt_trust_free(t);
  mt_crls_free(inter_only);
  mt_crls_free(stale);
  mt_crls_free(empty);
  mt_crls_free(billing);
}

static void test_bad_crls(void) {
  mt_trust *t = trust("ca.pem");
  mt_crls *future = crls("root-future.crl", NULL), *forged = crls("forged.crl", NULL);
  mt_crls *other = crls("other-billing.crl", NULL);

  rcase("CRL not yet valid", t, "client-billing.pem", C, future, LEAF_ONLY, HARD, 0,
        MT_VERIFY_OTHER, "the CRL from CN=mutls test CA is not valid until 2090-01-01 00:00:00 UTC",
        "check the clock");
  rcase("CRL not yet valid, soft-fail does not help", t, "client-billing.pem", C, future, LEAF_ONLY,
        SOFT, 0, MT_VERIFY_OTHER, "not valid until", NULL);
  rcase("CRL signed by another key of the same name", t, "client-billing.pem", C, forged, LEAF_ONLY,
        HARD, 0, MT_VERIFY_OTHER, "the CRL from CN=mutls test CA does not verify", "replace it");
  rcase("forged CRL, soft-fail does not help", t, "client-billing.pem", C, forged, LEAF_ONLY, SOFT,
        0, MT_VERIFY_OTHER, "does not verify", NULL);
  /* Another CA's CRL lists serial 0x15 too: it is not about our certificate. */
  rcase("CRL from another CA", t, "client-billing.pem", C, other, LEAF_ONLY, HARD, 0,
        MT_VERIFY_CRL_MISSING, "no CRL from CN=mutls test CA", NULL);
  rcase("CRL from another CA, soft-fail", t, "client-billing.pem", C, other, LEAF_ONLY, SOFT, 0,
        MT_VERIFY_OK, NULL, NULL);
  mt_trust_free(t);
  mt_crls_free(future);
  mt_crls_free(forged);
  mt_crls_free(other);
}

/* ---- threads -------------------------------------------------------------- */

struct job {
  const mt_trust *t;
  mt_crls *set;
  mt_chain *revoked, *fine;
  int bad;
};

/* Verifies with one shared set, holding a reference of its own. */
static void *verify_thread(void *arg) {
  struct job *j = arg;
  mt_crls *mine = mt_crls_ref(j->set);
  mt_revocation rev = {mine, 1, 0};
  for (int i = 0; i < 50; i++) {
    char why[256];
    if (mt_verify_chain_rev(j->t, j->revoked, C, NULL, 0, &rev, why, sizeof(why)) !=
            MT_VERIFY_REVOKED ||
        mt_verify_chain_rev(j->t, j->fine, S, NULL, 0, &rev, why, sizeof(why)) != MT_VERIFY_OK)
      j->bad++;
  }
  mt_crls_free(mine);
  return NULL;
}

static void test_threads(void) {
  struct job jobs[4];
  pthread_t th[4];
  mt_trust *t = trust("ca.pem");
  mt_crls *set = crls("two.pem", NULL);
  mt_chain *revoked = chain("client-billing.pem"), *fine = chain("server-chain.pem");
  int started = 0, bad = 0;
  for (int i = 0; t && set && revoked && fine && i < 4; i++) {
    jobs[i] = (struct job){t, set, revoked, fine, 0};
    if (pthread_create(&th[i], NULL, verify_thread, &jobs[i]) == 0) started++;
  }
  for (int i = 0; i < started; i++) {
    pthread_join(th[i], NULL);
    bad += jobs[i].bad;
  }
  CHECKF("4 threads share one set", started == 4 && bad == 0, "started %d, wrong %d", started, bad);
  mt_crls_free(set);
  mt_chain_free(revoked);
  mt_chain_free(fine);
  mt_trust_free(t);
}

int main(void) {
  CHECK("crypto_init", mt_crypto_init() == 0);
  int fx = make_fixtures();
  CHECKF("fixtures (openssl ca)", fx == 0, "see %s/gen.log and gen.err", tmpdir);
  if (fx == 0) {
    test_load();
    test_refcount();
    test_leaf();
    test_intermediate();
    test_missing_and_stale();
    test_bad_crls();
    test_threads();
  }
  if (check_exit() == 0)
    remove_fixtures();
  else
    printf("# fixtures kept in %s\n", tmpdir);
  return check_exit();
}
