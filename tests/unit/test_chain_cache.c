/*
 * test_chain_cache.c - the verified-chain cache (src/chain_cache.c): a hit
 * skips parsing and verification, and every hit still re-checks what can
 * change: the time (an identity expired since is refused at hit time), the
 * CRLs (a reload means a full verification), the name (another server name
 * is checked again), while the allow rules run on every handshake. Entries
 * are not shared between configs (trust stores), the bound holds, the
 * client's resumed sessions do not parse the server's chain again, and four
 * threads share one cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h"

/* ---- fixtures ------------------------------------------------------------- */

static mutls_config *server_cfg(const char *leaf, int mutual) {
  mutls_config *cfg = tu_server_config(leaf);
  if (!cfg) exit(2);
  mutls_config_set_tickets(cfg, 0, 7200);
  if (mutual) {
    mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_REQUIRED);
    mutls_config_set_client_ca_file(cfg, tu_path("ca.pem"));
  } else {
    mutls_config_set_client_auth(cfg, MUTLS_CLIENT_AUTH_NONE);
  }
  return cfg;
}

/* A client trusting ca (a file in the test PKI), with identity id (or none). */
static mutls_config *client_cfg(const char *ca, const char *id) {
  mutls_config *cfg = mutls_config_new();
  if (!cfg || mutls_config_set_trust_file(cfg, tu_path(ca)) != MUTLS_OK) exit(2);
  if (id) {
    char pem[64], key[64];
    snprintf(pem, sizeof pem, "%s.pem", id);
    snprintf(key, sizeof key, "%s.key", id);
    if (mutls_config_add_identity_files(cfg, tu_path(pem), tu_path(key)) != MUTLS_OK) {
      fprintf(stderr, "identity %s: %s\n", id, mutls_config_error(cfg));
      exit(2);
    }
  }
  return cfg;
}

typedef struct {
  mutls_error client, server; /* MUTLS_E_NONE when that side completed */
  unsigned long parsed;       /* certificates run through d2i_X509 meanwhile */
  char subject[256];          /* the client's view of the server */
  const void *client_peer;    /* mutls_conn_peer(client), compared, never used */
} outcome;

/* One connection, both sides; verify_time (0: now) for the client. */
static outcome connect_at(mutls_config *sc, mutls_config *cc, const char *name, time_t when) {
  outcome o;
  memset(&o, 0, sizeof o);
  unsigned long before = mt_x509_parse_count();
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, name);
  if (when) {
    mt_test_inject t;
    memset(&t, 0, sizeof t);
    t.verify_time = when;
    mt_test_inject_set(c, &t);
  }
  tu_pump(c, s);
  char buf[16];
  tu_move(s, c); /* a refusal by the server reaches the client */
  mutls_conn_read(c, buf, sizeof buf);
  o.client = mutls_conn_handshake_done(c) && mutls_conn_error(c) == MUTLS_E_NONE
                 ? MUTLS_E_NONE
                 : mutls_conn_error(c);
  o.server = mutls_conn_handshake_done(s) && mutls_conn_error(s) == MUTLS_E_NONE
                 ? MUTLS_E_NONE
                 : mutls_conn_error(s);
  o.parsed = mt_x509_parse_count() - before;
  const mutls_peer *p = mutls_conn_peer(c);
  snprintf(o.subject, sizeof o.subject, "%s", p ? mutls_peer_subject(p) : "");
  o.client_peer = p;
  mutls_conn_free(c);
  mutls_conn_free(s);
  return o;
}

static outcome connect_once(mutls_config *sc, mutls_config *cc, const char *name) {
  return connect_at(sc, cc, name, 0);
}

static mt_chain_cache_stats_t stats(const mutls_config *cfg) {
  mt_chain_cache_stats_t st;
  mt_chain_cache_stats(cfg, &st);
  return st;
}

static const char *ename(mutls_error e) {
  return mutls_error_name(e);
}

/* ---- a hit skips parsing ------------------------------------------------------ */
static void hits(void) {
  mutls_config *sc = server_cfg("p256", 1), *cc = client_cfg("ca.pem", "client");
  outcome a = connect_once(sc, cc, "localhost");
  CHECKF("first mutual handshake: both chains parsed",
         a.client == MUTLS_E_NONE && a.server == MUTLS_E_NONE && a.parsed == 2,
         "client %s server %s parsed %lu", ename(a.client), ename(a.server), a.parsed);
  mt_chain_cache_stats_t s1 = stats(sc), c1 = stats(cc);
  CHECKF("first handshake: a miss on each side, one entry each",
         s1.misses == 1 && c1.misses == 1 && s1.hits == 0 && c1.hits == 0 && s1.entries == 1 &&
             c1.entries == 1,
         "server %lu/%lu client %lu/%lu", s1.hits, s1.misses, c1.hits, c1.misses);
  outcome b = connect_once(sc, cc, "localhost");
  mt_chain_cache_stats_t s2 = stats(sc), c2 = stats(cc);
  CHECKF("second handshake: a hit on each side, nothing parsed",
         b.client == MUTLS_E_NONE && b.server == MUTLS_E_NONE && b.parsed == 0 && s2.hits == 1 &&
             c2.hits == 1 && s2.misses == 1 && c2.misses == 1,
         "client %s server %s parsed %lu hits %lu/%lu", ename(b.client), ename(b.server), b.parsed,
         s2.hits, c2.hits);
  CHECKF("a hit gives the same identity",
         strcmp(a.subject, b.subject) == 0 && strcmp(b.subject, "CN=localhost") == 0, "%s / %s",
         a.subject, b.subject);

  /* Turned off: every handshake parses again, and nothing is counted. */
  mutls_config *sc0 = server_cfg("p256", 1), *cc0 = client_cfg("ca.pem", "client");
  mt_config_set_chain_cache(sc0, 0);
  mt_config_set_chain_cache(cc0, 0);
  connect_once(sc0, cc0, "localhost");
  outcome d = connect_once(sc0, cc0, "localhost");
  mt_chain_cache_stats_t z = stats(cc0);
  CHECKF("cache off: every handshake parses both chains",
         d.client == MUTLS_E_NONE && d.parsed == 2 && z.hits == 0 && z.misses == 0, "parsed %lu",
         d.parsed);
  mutls_config_free(sc0);
  mutls_config_free(cc0);
  CHECK("the cache cannot be changed once a config is in use",
        mt_config_set_chain_cache(sc, 8) == MUTLS_ERR);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- time ------------------------------------------------------------------------ */
static void expiry(void) {
  mutls_config *sc = server_cfg("p256", 0), *cc = client_cfg("ca.pem", NULL);
  time_t now = time(NULL);
  connect_once(sc, cc, "localhost");
  outcome hit = connect_once(sc, cc, "localhost");
  CHECKF("cached: the second connection hits", hit.client == MUTLS_E_NONE && stats(cc).hits == 1,
         "%s", ename(hit.client));
  /* The leaf is valid for 30 days: 40 days on, the cached entry is
   * refused at hit time, as a full verification would refuse it. */
  outcome late = connect_at(sc, cc, "localhost", now + 40 * 86400);
  mt_chain_cache_stats_t st = stats(cc);
  CHECKF("expired since it was cached: refused at hit time (certificate expired)",
         late.client == MUTLS_E_CERT_EXPIRED && st.hits == 1 && st.reverified == 1,
         "%s, hits %lu reverified %lu", ename(late.client), st.hits, st.reverified);
  CHECKF("a refused entry leaves the cache", st.entries == 0, "%zu entries", st.entries);
  outcome early = connect_at(sc, cc, "localhost", now - 86400);
  CHECKF("before notBefore: not yet valid", early.client == MUTLS_E_CERT_NOT_YET_VALID, "%s",
         ename(early.client));
  outcome again = connect_once(sc, cc, "localhost");
  st = stats(cc);
  CHECKF("now again: a miss, verified in full and cached anew",
         again.client == MUTLS_E_NONE && st.misses == 3 && st.entries == 1, "%s misses %lu",
         ename(again.client), st.misses);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- CRLs -------------------------------------------------------------------------- */
static char crl_dir[128];

static const char *crl_path(const char *file) {
  static char bufs[4][256];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, 256, "%s/%s", crl_dir, file);
  return b;
}

static void crl_cleanup(void) {
  char cmd[300];
  if (!crl_dir[0]) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", crl_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", crl_dir);
}

/* empty.crl: the root CA's, listing nothing; client.crl: listing client.pem. */
static int make_crls(void) {
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(crl_dir, sizeof crl_dir, "%s/mutls-cc-XXXXXX", tmp);
  if (!mkdtemp(crl_dir)) return -1;
  atexit(crl_cleanup);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && P='%s' && {\n"
           "printf '[c]\\ndatabase = $ENV::DB/index.txt\\ncrlnumber = $ENV::DB/crlnumber\\n"
           "default_md = sha256\\n' > ca.cnf\n"
           "for d in empty revoked; do mkdir -p $d; : > $d/index.txt; echo 01 > $d/crlnumber; "
           "done\n"
           "DB=empty openssl ca -batch -config ca.cnf -name c -cert $P/ca.pem -keyfile $P/ca.key "
           "-gencrl -crldays 1 -out empty.crl\n"
           "DB=revoked openssl ca -batch -config ca.cnf -name c -cert $P/ca.pem -keyfile "
           "$P/ca.key -revoke $P/client.pem -crl_reason keyCompromise\n"
           "DB=revoked openssl ca -batch -config ca.cnf -name c -cert $P/ca.pem -keyfile "
           "$P/ca.key -gencrl -crldays 1 -out client.crl\n"
           "} > gen.log 2>&1",
           crl_dir, tu_certs());
  return system(cmd) == 0 ? 0 : -1;
}

static void crls(void) {
  if (make_crls() != 0) {
    CHECK("CRLs for the test could be made (openssl ca)", 0);
    return;
  }
  mutls_config *sc = server_cfg("p256", 1), *cc = client_cfg("ca.pem", "client");
  if (mutls_config_add_crl_file(sc, crl_path("empty.crl")) != MUTLS_OK) {
    CHECKF("the empty CRL loads", 0, "%s", mutls_config_error(sc));
    return;
  }
  connect_once(sc, cc, "localhost");
  outcome hit = connect_once(sc, cc, "localhost");
  CHECKF("with a CRL loaded: the client's chain is a hit",
         hit.server == MUTLS_E_NONE && stats(sc).hits == 1, "%s", ename(hit.server));
  const char *revoked[] = {crl_path("client.crl")};
  CHECK("reloading a CRL set that revokes the client",
        mutls_config_reload_crls(sc, revoked, 1) == MUTLS_OK);
  outcome r = connect_once(sc, cc, "localhost");
  mt_chain_cache_stats_t st = stats(sc);
  CHECKF("after the reload the cached chain is verified again: revoked",
         r.server == MUTLS_E_CERT_REVOKED && st.hits == 1 && st.reverified == 1 && r.parsed == 0,
         "%s, hits %lu reverified %lu parsed %lu", ename(r.server), st.hits, st.reverified,
         r.parsed);
  outcome r2 = connect_once(sc, cc, "localhost");
  CHECKF("and stays revoked", r2.server == MUTLS_E_CERT_REVOKED && stats(sc).hits == 1, "%s",
         ename(r2.server));
  const char *empty[] = {crl_path("empty.crl")};
  mutls_config_reload_crls(sc, empty, 1);
  outcome ok = connect_once(sc, cc, "localhost");
  outcome ok2 = connect_once(sc, cc, "localhost");
  CHECKF("a set that no longer revokes it: accepted again, then a hit",
         ok.server == MUTLS_E_NONE && ok2.server == MUTLS_E_NONE && stats(sc).hits == 2,
         "%s %s hits %lu", ename(ok.server), ename(ok2.server), stats(sc).hits);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- names ------------------------------------------------------------------------- */
static void names(void) {
  mutls_config *sc = server_cfg("p256", 0), *cc = client_cfg("ca.pem", NULL);
  connect_once(sc, cc, "localhost");
  outcome ip = connect_once(sc, cc, "127.0.0.1");
  CHECKF("another name the leaf lists (IP 127.0.0.1): a hit, the name checked",
         ip.client == MUTLS_E_NONE && stats(cc).hits == 1, "%s", ename(ip.client));
  outcome dot = connect_once(sc, cc, "localhost.");
  CHECKF("the absolute name localhost.: a hit", dot.client == MUTLS_E_NONE && stats(cc).hits == 2,
         "%s", ename(dot.client));
  outcome wrong = connect_once(sc, cc, "wrong.example");
  mt_chain_cache_stats_t st = stats(cc);
  CHECKF("a name the leaf does not list: refused (name mismatch), not a hit",
         wrong.client == MUTLS_E_CERT_NAME_MISMATCH && st.hits == 2 && st.reverified == 1,
         "%s hits %lu", ename(wrong.client), st.hits);
  outcome sub = connect_once(sc, cc, "a.localhost");
  CHECKF("nor a name below it", sub.client == MUTLS_E_CERT_NAME_MISMATCH, "%s", ename(sub.client));
  outcome back = connect_once(sc, cc, "localhost");
  CHECKF("the entry stays for the names it fits",
         back.client == MUTLS_E_NONE && back.parsed == 0 && stats(cc).hits == 3, "%s",
         ename(back.client));
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- allow rules run on every hit --------------------------------------------------- */
static void rules(void) {
  mutls_config *sc = server_cfg("p256", 1), *cc = client_cfg("ca.pem", "client");
  mutls_config_allow(sc, "uri:spiffe://mutls.test/billing/*");
  outcome a = connect_once(sc, cc, "localhost");
  outcome b = connect_once(sc, cc, "localhost");
  CHECKF("an identity the allow rules refuse is refused on a hit too",
         a.server == MUTLS_E_ACCESS_DENIED && b.server == MUTLS_E_ACCESS_DENIED &&
             stats(sc).hits == 1,
         "%s %s hits %lu", ename(a.server), ename(b.server), stats(sc).hits);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- configs do not share entries ---------------------------------------------------- */
static void stores(void) {
  mutls_config *sc = server_cfg("p256", 0);
  mutls_config *a = client_cfg("ca.pem", NULL), *b = client_cfg("other-ca.pem", NULL),
               *c = client_cfg("ca.pem", NULL);
  connect_once(sc, a, "localhost");
  connect_once(sc, a, "localhost");
  outcome ob = connect_once(sc, b, "localhost");
  CHECKF("a config trusting another CA does not take the cached chain: untrusted",
         ob.client == MUTLS_E_CERT_UNTRUSTED && stats(b).hits == 0 && stats(b).misses == 1, "%s",
         ename(ob.client));
  outcome oc = connect_once(sc, c, "localhost");
  CHECKF("a config trusting the same CA verifies on its own (a miss)",
         oc.client == MUTLS_E_NONE && stats(c).misses == 1 && stats(c).hits == 0 && oc.parsed == 1,
         "%s", ename(oc.client));
  CHECK("the first config kept its entry", stats(a).hits == 1 && stats(a).entries == 1);
  mutls_config_free(sc);
  mutls_config_free(a);
  mutls_config_free(b);
  mutls_config_free(c);
}

/* ---- the bound ------------------------------------------------------------------------ */
static const char *const leaves[] = {"p256", "p384", "rsa", "ed25519", "chain"};

static void bound(void) {
  mutls_config *sv[5], *cc = client_cfg("ca.pem", NULL);
  mt_config_set_chain_cache(cc, 2);
  for (int i = 0; i < 5; i++)
    sv[i] = server_cfg(leaves[i], 0);
  int ok = 1;
  for (int i = 0; i < 5; i++)
    ok &= connect_once(sv[i], cc, "localhost").client == MUTLS_E_NONE;
  mt_chain_cache_stats_t st = stats(cc);
  CHECKF("five chains through a cache of two: two entries, three evicted",
         ok && st.entries == 2 && st.max == 2 && st.evicted == 3 && st.misses == 5,
         "entries %zu evicted %lu misses %lu", st.entries, st.evicted, st.misses);
  outcome recent = connect_once(sv[4], cc, "localhost");
  outcome old = connect_once(sv[0], cc, "localhost");
  st = stats(cc);
  CHECKF("the most recent is a hit, the oldest was evicted (LRU)",
         recent.parsed == 0 && old.client == MUTLS_E_NONE && st.hits == 1 && st.misses == 6 &&
             st.entries == 2 && st.evicted == 4,
         "parsed %lu hits %lu misses %lu", recent.parsed, st.hits, st.misses);
  for (int i = 0; i < 5; i++)
    mutls_config_free(sv[i]);
  mutls_config_free(cc);
}

/* ---- the parsed-certificate cache ---------------------------------------------------- */
static int read_der(const char *name, uint8_t *out, size_t cap, size_t *len) {
  char err[256];
  mt_chain *ch = mt_chain_load_file(tu_path(name), err, sizeof err);
  size_t n = 0;
  const uint8_t *d = ch ? mt_chain_der(ch, 0, &n) : NULL;
  int ok = d && n <= cap;
  if (ok) memcpy(out, d, n);
  *len = n;
  mt_chain_free(ch);
  return ok ? 0 : -1;
}

static void certs(void) {
  uint8_t a[4096], b[4096], ha[1][32], hb[1][32];
  size_t la, lb;
  char err[256];
  if (read_der("client.pem", a, sizeof a, &la) || read_der("server-p256.pem", b, sizeof b, &lb)) {
    CHECK("test certificates load", 0);
    return;
  }
  mt_hash(MT_SHA256, a, la, ha[0]);
  mt_hash(MT_SHA256, b, lb, hb[0]);
  const uint8_t *da[1] = {a}, *db[1] = {b};
  mt_certcache *cc = mt_certcache_new(1);
  unsigned long n0 = mt_x509_parse_count();
  mt_chain *c1 = mt_chain_from_der_cached(cc, ha, da, &la, 1, err, sizeof err);
  mt_chain *c2 = mt_chain_from_der_cached(cc, ha, da, &la, 1, err, sizeof err);
  unsigned long n1 = mt_x509_parse_count();
  mt_chain *c3 = mt_chain_from_der_cached(cc, hb, db, &lb, 1, err, sizeof err);
  mt_chain *c4 = mt_chain_from_der_cached(cc, ha, da, &la, 1, err, sizeof err);
  unsigned long n2 = mt_x509_parse_count();
  size_t l2 = 0;
  const uint8_t *d2 = c2 ? mt_chain_der(c2, 0, &l2) : NULL;
  CHECKF("parsed-certificate cache: the same DER is parsed once, and gives the same certificate",
         c1 && c2 && n1 - n0 == 1 && d2 && l2 == la && memcmp(d2, a, la) == 0, "parsed %lu",
         n1 - n0);
  CHECKF("parsed-certificate cache of one slot: another certificate takes the slot",
         c3 && c4 && n2 - n1 == 2, "parsed %lu", n2 - n1);
  /* A cached certificate is still checked for bytes after its end. */
  uint8_t longer[4097];
  size_t ll = la + 1;
  memcpy(longer, a, la);
  longer[la] = 0;
  uint8_t hl[1][32];
  const uint8_t *dl[1] = {longer};
  mt_hash(MT_SHA256, longer, ll, hl[0]);
  mt_chain *c5 = mt_chain_from_der_cached(cc, hl, dl, &ll, 1, err, sizeof err);
  memcpy(hl[0], ha[0], 32); /* even under the cached certificate's hash */
  mt_chain *c6 = mt_chain_from_der_cached(cc, hl, dl, &ll, 1, err, sizeof err);
  CHECKF("a cached certificate followed by a byte is refused", !c5 && !c6, "%s", err);
  mt_chain_free(c6);
  mt_chain_free(c1);
  mt_chain_free(c2);
  mt_chain_free(c3);
  mt_chain_free(c4);
  mt_chain_free(c5);
  mt_certcache_free(cc);
}

/* ---- resumption ------------------------------------------------------------------------- */
static void resumption(void) {
  mutls_config *sc = server_cfg("p256", 0), *cc = client_cfg("ca.pem", NULL);
  mutls_config_set_tickets(sc, 1, 7200);
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "localhost");
  tu_pump(c, s);
  tu_move(s, c); /* the ticket */
  char buf[16];
  mutls_conn_read(c, buf, sizeof buf);
  uint8_t blob[8192];
  int n = mutls_conn_get_session(c, blob, sizeof blob);
  mutls_conn_free(c);
  mutls_conn_free(s);
  unsigned long before = mt_x509_parse_count();
  s = mutls_server_new(sc);
  c = mutls_client_new(cc, "localhost");
  tu_pump(c, s);
  const mutls_peer *p = mutls_conn_peer(c);
  CHECKF("a resumed client keeps the server's parsed identity: nothing parsed",
         mutls_conn_resumed(c) && p && strcmp(mutls_peer_subject(p), "CN=localhost") == 0 &&
             mutls_peer_chain_length(p) == 1 && mt_x509_parse_count() == before,
         "resumed %d parsed %lu", mutls_conn_resumed(c), mt_x509_parse_count() - before);
  mutls_conn_free(c);
  mutls_conn_free(s);
  /* A session from a blob carries DER only: judged when it is set, here
   * from the cache of the config that verified the chain before; in a fresh
   * config (another process, say) it is parsed once. */
  mutls_config *cc2 = client_cfg("ca.pem", NULL);
  for (int fresh = 0; fresh < 2; fresh++) {
    before = mt_x509_parse_count();
    s = mutls_server_new(sc);
    c = mutls_client_new(fresh ? cc2 : cc, "localhost");
    mutls_conn_set_session(c, blob, (size_t)n);
    tu_pump(c, s);
    p = mutls_conn_peer(c);
    CHECKF(fresh ? "a session from a blob, fresh config: resumed, the chain parsed once"
                 : "a session from a blob, same config: resumed, its chain a cache hit",
           n > 0 && mutls_conn_resumed(c) && p &&
               strcmp(mutls_peer_subject(p), "CN=localhost") == 0 &&
               mt_x509_parse_count() - before == (unsigned long)fresh,
           "resumed %d parsed %lu", mutls_conn_resumed(c), mt_x509_parse_count() - before);
    mutls_conn_free(c);
    mutls_conn_free(s);
  }
  mutls_config_free(cc2);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

/* ---- threads ------------------------------------------------------------------------------ */
#define THREADS 4
#define PER_THREAD 12

typedef struct {
  mutls_config *sc, *cc;
  int ok;
} job;

static void *worker(void *arg) {
  job *j = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    outcome o = connect_once(j->sc, j->cc, "localhost");
    if (o.client == MUTLS_E_NONE && o.server == MUTLS_E_NONE &&
        strcmp(o.subject, "CN=localhost") == 0)
      j->ok++;
  }
  return NULL;
}

static void threads(void) {
  mutls_config *sc = server_cfg("p256", 1), *cc = client_cfg("ca.pem", "client");
  job jobs[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){sc, cc, 0};
    pthread_create(&t[i], NULL, worker, &jobs[i]);
  }
  int ok = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ok += jobs[i].ok;
  }
  mt_chain_cache_stats_t s = stats(sc), c = stats(cc);
  CHECKF("4 threads, one pair of configs: every handshake succeeds", ok == THREADS * PER_THREAD,
         "%d of %d", ok, THREADS * PER_THREAD);
  CHECKF("4 threads: every chain a hit or a miss, one entry per side",
         s.hits + s.misses == THREADS * PER_THREAD && c.hits + c.misses == THREADS * PER_THREAD &&
             s.entries == 1 && c.entries == 1 && s.hits >= THREADS * PER_THREAD - THREADS,
         "server %lu/%lu client %lu/%lu", s.hits, s.misses, c.hits, c.misses);
  mutls_config_free(sc);
  mutls_config_free(cc);

  /* Eviction under contention: four servers, a cache of two. */
  mutls_config *sv[THREADS];
  cc = client_cfg("ca.pem", NULL);
  mt_config_set_chain_cache(cc, 2);
  for (int i = 0; i < THREADS; i++) {
    sv[i] = server_cfg(leaves[i], 0);
    jobs[i] = (job){sv[i], cc, 0};
    pthread_create(&t[i], NULL, worker, &jobs[i]);
  }
  ok = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ok += jobs[i].ok;
  }
  c = stats(cc);
  CHECKF("4 threads, 4 chains, a cache of two: all succeed, the bound holds",
         ok == THREADS * PER_THREAD && c.entries <= 2 && c.hits + c.misses == THREADS * PER_THREAD,
         "%d ok, %zu entries, %lu/%lu", ok, c.entries, c.hits, c.misses);
  for (int i = 0; i < THREADS; i++)
    mutls_config_free(sv[i]);
  mutls_config_free(cc);
}

int main(void) {
  tu_certs();
  hits();
  expiry();
  crls();
  names();
  rules();
  stores();
  bound();
  certs();
  resumption();
  threads();
  return check_exit();
}
