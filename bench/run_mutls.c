/* run_mutls.c - the scenarios through mutls's sans-I/O API: client and server
 * connections in one process, ciphertext moved between them by
 * mutls_conn_send (the -view bulk rows: mutls_conn_write_into) and
 * mutls_conn_recv over two bench_wires. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "internal.h" /* mt_config_set_chain_cache, mt_chain_cache_stats */
#include "mutls.h"

typedef struct {
  mutls_config *server, *client;
  bench_setup s;
} mlib;

static int cfg_step(mutls_config *cfg, int rc, const char *what) {
  if (rc == MUTLS_OK) return 0;
  return bench_fail("mutls %s: %s", what, mutls_config_error(cfg));
}

static int conn_fail(mutls_conn *c, const char *what) {
  return bench_fail("mutls %s, %s: %s: %s", mutls_conn_is_server(c) ? "server" : "client", what,
                    mutls_error_name(mutls_conn_error(c)), mutls_conn_explain(c));
}

static void m_teardown(void *p) {
  mlib *m = p;
  if (!m) return;
  mutls_config_free(m->server);
  mutls_config_free(m->client);
  free(m);
}

static void *m_setup(const bench_certs *k, const bench_setup *s) {
  mlib *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->s = *s;
  m->server = mutls_config_new();
  m->client = mutls_config_new();
  const char *suite = bench_suite_iana[s->suite];
  mutls_config *sv = m->server, *cl = m->client;
  int bad = !sv || !cl;
  /* Cold: no verified-chain cache (nor the parsed certificates it keeps). */
  if (!s->chain_cache) {
    bad = bad || cfg_step(sv, mt_config_set_chain_cache(sv, 0), "server chain cache");
    bad = bad || cfg_step(cl, mt_config_set_chain_cache(cl, 0), "client chain cache");
  }
  bad = bad || cfg_step(sv, mutls_config_set_identity_files(sv, k->server_cert, k->server_key),
                        "server identity");
  bad = bad || cfg_step(sv, mutls_config_set_cipher_suites(sv, suite), "server suites");
  bad = bad || cfg_step(sv, mutls_config_set_groups(sv, "x25519"), "server groups");
  if (s->mutual) {
    bad = bad ||
          cfg_step(sv, mutls_config_set_client_auth(sv, MUTLS_CLIENT_AUTH_REQUIRED), "client auth");
    bad = bad || cfg_step(sv, mutls_config_set_client_ca_file(sv, k->ca), "client CA");
    bad = bad || cfg_step(cl, mutls_config_add_identity_files(cl, k->client_cert, k->client_key),
                          "client identity");
  } else {
    bad = bad ||
          cfg_step(sv, mutls_config_set_client_auth(sv, MUTLS_CLIENT_AUTH_NONE), "client auth");
  }
  if (s->release_buffers) {
    bad = bad || cfg_step(sv, mutls_config_set_release_buffers(sv, 1), "server release buffers");
    bad = bad || cfg_step(cl, mutls_config_set_release_buffers(cl, 1), "client release buffers");
  }
  /* Full handshakes: no tickets, as for libssl. Resumed: one per handshake. */
  bad = bad || cfg_step(sv, mutls_config_set_tickets(sv, s->resume ? 1 : 0, 7200), "tickets");
  bad = bad || cfg_step(cl, mutls_config_set_trust_file(cl, k->ca), "client trust");
  bad = bad || cfg_step(cl, mutls_config_set_cipher_suites(cl, suite), "client suites");
  bad = bad || cfg_step(cl, mutls_config_set_groups(cl, "x25519"), "client groups");
  bad = bad || cfg_step(sv, mutls_config_check(sv, 1), "server config");
  bad = bad || cfg_step(cl, mutls_config_check(cl, 0), "client config");
  if (bad) {
    m_teardown(m);
    return NULL;
  }
  return m;
}

/* One side's turn: take everything the peer sent (application data that
 * turns up is read and dropped), then put out everything this side has to
 * say. */
static int act(mutls_conn *c, bench_wire *in, bench_wire *out) {
  uint8_t sink[512];
  while (in->off < in->len) {
    size_t used = 0;
    if (mutls_conn_recv(c, in->buf + in->off, in->len - in->off, &used) != MUTLS_OK)
      return conn_fail(c, "recv");
    in->off += used;
    if (used == 0 && mutls_conn_read(c, sink, sizeof sink) <= 0) return conn_fail(c, "read");
  }
  bench_wire_compact(in);
  for (;;) {
    size_t n = 0;
    if (out->len == out->cap)
      return mutls_conn_pending(c) ? bench_fail("mutls: a wire of %zu bytes is full", out->cap) : 0;
    if (mutls_conn_send(c, out->buf + out->len, out->cap - out->len, &n) != MUTLS_OK)
      return conn_fail(c, "send");
    if (n == 0) return 0;
    out->len += n;
  }
}

/* Turns until both sides are done; each side's turns are timed on its own
 * CPU clock and allocation count (cc, cs may be NULL). */
static int handshake(mutls_conn *cl, mutls_conn *sv, bench_wire *c2s, bench_wire *s2c,
                     bench_cost *cc, bench_cost *cs) {
  for (int turn = 0; turn < 8; turn++) {
    int rc = 0;
    if (!mutls_conn_handshake_done(cl)) {
      bench_cost t0 = bench_mark(cc);
      rc = act(cl, s2c, c2s);
      bench_charge(cc, t0);
      if (bench_mutls_sid_len < 0) bench_mutls_sid_len = bench_hello_session_id_len(c2s);
    }
    if (rc == 0 && !mutls_conn_handshake_done(sv)) {
      bench_cost t0 = bench_mark(cs);
      rc = act(sv, c2s, s2c);
      bench_charge(cs, t0);
    }
    if (rc != 0) return -1;
    if (mutls_conn_handshake_done(cl) && mutls_conn_handshake_done(sv)) return 0;
  }
  return bench_fail("mutls: the handshake did not complete in 8 turns");
}

/* The first handshake of a run: did we measure what we think we measure? */
static int check(const mlib *m, mutls_conn *cl, mutls_conn *sv) {
  const char *suite = mutls_conn_cipher_suite(cl), *group = mutls_conn_group(cl);
  if (!suite || strcmp(suite, bench_suite_iana[m->s.suite]) != 0)
    return bench_fail("mutls negotiated %s, not %s", suite ? suite : "nothing",
                      bench_suite_iana[m->s.suite]);
  if (!group || strcmp(group, "x25519") != 0 || mutls_conn_used_hrr(cl))
    return bench_fail("mutls negotiated group %s (HRR %d), not x25519 at once",
                      group ? group : "none", mutls_conn_used_hrr(cl));
  if (!mutls_conn_peer(cl)) return bench_fail("mutls client has no verified server chain");
  if (m->s.mutual && (!mutls_conn_peer(sv) || !mutls_conn_cert_sent(cl)))
    return bench_fail("mutls server has no verified client certificate");
  return 0;
}

typedef struct {
  mutls_conn *cl, *sv;
} mpair;

static int pair_new(const mlib *m, mpair *p, bench_cost *cc, bench_cost *cs) {
  bench_cost t = bench_mark(cc);
  p->cl = mutls_client_new(m->client, BENCH_SERVER_NAME);
  bench_charge(cc, t);
  t = bench_mark(cs);
  p->sv = mutls_server_new(m->server);
  bench_charge(cs, t);
  return p->cl && p->sv ? 0 : bench_fail("mutls: out of memory for a connection");
}

static void pair_free(mpair *p, bench_cost *cc, bench_cost *cs) {
  bench_cost t = bench_mark(cc);
  mutls_conn_free(p->cl);
  bench_charge(cc, t);
  t = bench_mark(cs);
  mutls_conn_free(p->sv);
  bench_charge(cs, t);
  p->cl = p->sv = NULL;
}

/* Hits of both configs' verified-chain caches; *empty: both hold nothing. */
static unsigned long cache_hits(const mlib *m, int *empty) {
  mt_chain_cache_stats_t a, b;
  mt_chain_cache_stats(m->server, &a);
  mt_chain_cache_stats(m->client, &b);
  if (empty) *empty = a.entries + b.entries == 0;
  return a.hits + b.hits;
}

/* Warm runs must be served by the cache: one hit per verified chain, but
 * for the first handshake of all. */
static int check_warm(const mlib *m, unsigned long hits_before, int was_empty, long n) {
  unsigned long want = (unsigned long)(n - was_empty) * (m->s.mutual ? 2 : 1);
  unsigned long got = cache_hits(m, NULL) - hits_before;
  if (m->s.resume) want = m->s.mutual ? (unsigned long)n : 0; /* the server's ticket check */
  if (m->s.chain_cache && got < want)
    return bench_fail("mutls: %lu verified-chain cache hits in %ld warm handshakes (want %lu)",
                      got, n, want);
  return 0;
}

static int m_handshakes(void *lib, long n, int split, bench_hs_result *out) {
  mlib *m = lib;
  bench_wire c2s, s2c;
  int rc = 0;
  memset(out, 0, sizeof *out);
  bench_cost *cc = split ? &out->client : NULL, *cs = split ? &out->server : NULL;
  int empty;
  unsigned long hits = cache_hits(m, &empty), parsed = mt_x509_parse_count();
  if (bench_wire_init(&c2s, 1 << 16) != 0) return -1;
  if (bench_wire_init(&s2c, 1 << 16) != 0) {
    bench_wire_free(&c2s);
    return -1;
  }
  double start = bench_now(), start_cpu = bench_thread_cpu();
  for (long i = 0; i < n && rc == 0; i++) {
    mpair p = {0};
    c2s.len = c2s.off = s2c.len = s2c.off = 0;
    rc = pair_new(m, &p, cc, cs);
    if (rc == 0) rc = handshake(p.cl, p.sv, &c2s, &s2c, cc, cs);
    if (rc == 0 && i == 0) rc = check(m, p.cl, p.sv);
    pair_free(&p, cc, cs);
    out->n = i + 1;
  }
  out->cpu = bench_thread_cpu() - start_cpu;
  out->wall = bench_now() - start;
  out->parsed = (long)(mt_x509_parse_count() - parsed);
  bench_wire_free(&c2s);
  bench_wire_free(&s2c);
  return rc == 0 ? check_warm(m, hits, empty, n) : rc;
}

/* One connection that resumes (or, for the first, gets) a ticket: the
 * handshake, then the client takes in the server's new ticket. */
static int resumption(const mlib *m, bench_wire *c2s, bench_wire *s2c, bench_cost *cc,
                      bench_cost *cs, int expect_resumed) {
  mpair p = {0};
  c2s->len = c2s->off = s2c->len = s2c->off = 0;
  int rc = pair_new(m, &p, cc, cs);
  if (rc == 0) rc = handshake(p.cl, p.sv, c2s, s2c, cc, cs);
  if (rc == 0) {
    bench_cost t = bench_mark(cc);
    rc = act(p.cl, s2c, c2s);
    bench_charge(cc, t);
  }
  if (rc == 0 && expect_resumed && !(mutls_conn_resumed(p.cl) && mutls_conn_resumed(p.sv)))
    rc = bench_fail("mutls: the connection did not resume");
  pair_free(&p, cc, cs);
  return rc;
}

static int m_resumed(void *lib, long n, int split, bench_hs_result *out) {
  mlib *m = lib;
  bench_wire c2s, s2c;
  memset(out, 0, sizeof *out);
  if (bench_wire_init(&c2s, 1 << 16) != 0) return -1;
  if (bench_wire_init(&s2c, 1 << 16) != 0) {
    bench_wire_free(&c2s);
    return -1;
  }
  int rc = resumption(m, &c2s, &s2c, NULL, NULL, 0);
  int empty;
  unsigned long hits = cache_hits(m, &empty), parsed = mt_x509_parse_count();
  double start = bench_now(), start_cpu = bench_thread_cpu();
  for (long i = 0; i < n && rc == 0; i++) {
    rc = resumption(m, &c2s, &s2c, split ? &out->client : NULL, split ? &out->server : NULL, 1);
    out->n = i + 1;
  }
  out->cpu = bench_thread_cpu() - start_cpu;
  out->wall = bench_now() - start;
  out->parsed = (long)(mt_x509_parse_count() - parsed);
  bench_wire_free(&c2s);
  bench_wire_free(&s2c);
  return rc == 0 ? check_warm(m, hits, empty, n) : rc;
}

/* Takes all the application data rx has decrypted and adds its length to
 * *got: copied into buf (cap bytes) by mutls_conn_read or, with view, seen in
 * place through mutls_conn_peek and marked read by mutls_conn_consume. The
 * first view is copied into buf too, so the caller can check the first
 * chunk. */
static int take(mutls_conn *rx, uint8_t *buf, size_t cap, int view, size_t *got) {
  for (;;) {
    const uint8_t *v;
    size_t n;
    if (!view) {
      int r = mutls_conn_read(rx, buf, cap);
      if (r == MUTLS_WANT_READ) return 0;
      if (r <= 0) return conn_fail(rx, "read");
      *got += (size_t)r;
      continue;
    }
    int r = mutls_conn_peek(rx, &v, &n);
    if (r == MUTLS_WANT_READ) return 0;
    if (r != MUTLS_OK) return conn_fail(rx, "peek");
    if (*got == 0) memcpy(buf, v, n < cap ? n : cap);
    if (mutls_conn_consume(rx, n) != MUTLS_OK) return conn_fail(rx, "consume");
    *got += n;
  }
}

/* rx takes all that waits on w (take()), adding what it read to *got; w
 * is empty afterwards. */
static int receive(mutls_conn *rx, bench_wire *w, uint8_t *buf, size_t cap, int view,
                   size_t *got) {
  while (w->off < w->len) {
    size_t used = 0;
    if (mutls_conn_recv(rx, w->buf + w->off, w->len - w->off, &used) != MUTLS_OK)
      return conn_fail(rx, "recv");
    w->off += used;
    size_t before = *got;
    if (take(rx, buf, cap, view, got) != 0) return -1;
    if (used == 0 && *got == before) return bench_fail("mutls: the receiver took nothing");
  }
  bench_wire_compact(w);
  return 0;
}

/* Moves what tx has queued onto w (mutls_conn_send: a copy of the
 * ciphertext) and lets rx take all of it, reading with mutls_conn_read.
 * Adds what was read to *got. */
static int deliver(mutls_conn *tx, mutls_conn *rx, bench_wire *w, uint8_t *buf, size_t cap,
                   size_t *got) {
  size_t n;
  do {
    if (mutls_conn_send(tx, w->buf + w->len, w->cap - w->len, &n) != MUTLS_OK)
      return conn_fail(tx, "send");
    w->len += n;
  } while (n > 0 && w->len < w->cap);
  if (receive(rx, w, buf, cap, 0, got) != 0) return -1;
  return mutls_conn_pending(tx) ? deliver(tx, rx, w, buf, cap, got) : 0;
}

/* Seals data[0..n) straight onto w (mutls_conn_write_into: no copy of the
 * ciphertext) and lets rx take it through views, as often as the wire's
 * room needs. Adds what was read to *got. */
static int deliver_into(mutls_conn *tx, mutls_conn *rx, bench_wire *w, const uint8_t *data,
                        size_t n, uint8_t *buf, size_t cap, size_t *got) {
  size_t done = 0;
  while (done < n) {
    size_t produced = 0;
    int r = mutls_conn_write_into(tx, data + done, n - done, w->buf + w->len, w->cap - w->len,
                                  &produced);
    if (r < 0) return conn_fail(tx, "write_into");
    if (r == 0 && produced == 0) return bench_fail("mutls: a wire of %zu bytes has no room for a record", w->cap);
    w->len += produced;
    done += (size_t)r;
    if (receive(rx, w, buf, cap, 1, got) != 0) return -1;
  }
  return 0;
}

static int m_bulk(void *lib, size_t total, size_t chunk, int s2c_dir, double *cpu, double *wall) {
  mlib *m = lib;
  bench_wire c2s = {0}, s2c = {0};
  mpair p = {0};
  uint8_t *data = malloc(chunk), *rbuf = malloc(chunk);
  int rc = !data || !rbuf ? bench_fail("out of memory") : 0;
  if (rc == 0) rc = bench_wire_init(&c2s, 2 * chunk + 4096);
  if (rc == 0) rc = bench_wire_init(&s2c, 2 * chunk + 4096);
  if (rc == 0) rc = pair_new(m, &p, NULL, NULL);
  if (rc == 0) rc = handshake(p.cl, p.sv, &c2s, &s2c, NULL, NULL);
  if (rc == 0) {
    mutls_conn *tx = s2c_dir ? p.sv : p.cl, *rx = s2c_dir ? p.cl : p.sv;
    bench_wire *w = s2c_dir ? &s2c : &c2s;
    size_t sent = 0, got = 0;
    for (size_t i = 0; i < chunk; i++)
      data[i] = (uint8_t)(i * 131 + 7);
    double start = bench_now(), start_cpu = bench_thread_cpu();
    while (rc == 0 && sent < total) {
      size_t n = total - sent < chunk ? total - sent : chunk;
      if (m->s.zero_copy_read)
        rc = deliver_into(tx, rx, w, data, n, rbuf, chunk, &got);
      else if (mutls_conn_write(tx, data, n) != (int)n)
        rc = conn_fail(tx, "write");
      else
        rc = deliver(tx, rx, w, rbuf, chunk, &got);
      if (rc == 0 && sent == 0 && memcmp(rbuf, data, n) != 0)
        rc = bench_fail("mutls: the first chunk arrived altered");
      sent += n;
    }
    *cpu = bench_thread_cpu() - start_cpu;
    *wall = bench_now() - start;
    if (rc == 0 && got != total) rc = bench_fail("mutls: sent %zu bytes, %zu arrived", total, got);
  }
  pair_free(&p, NULL, NULL);
  bench_wire_free(&c2s);
  bench_wire_free(&s2c);
  free(data);
  free(rbuf);
  return rc;
}

static void mem_sample(double base, size_t ends, double *peak) {
  double per_end = (bench_heap_bytes() - base) / (double)ends;
  if (per_end > *peak) *peak = per_end;
}

/* Every pair one step at a time: all clients take a turn, then all servers,
 * until every handshake is done; the heap is sampled after each step. */
static int lockstep(mpair *p, bench_wire *w, size_t pairs, double base, double *peak) {
  for (int turn = 0; turn < 4; turn++) {
    for (size_t i = 0; i < pairs; i++)
      if (!mutls_conn_handshake_done(p[i].cl) && act(p[i].cl, &w[2 * i + 1], &w[2 * i]) != 0)
        return -1;
    mem_sample(base, 2 * pairs, peak);
    for (size_t i = 0; i < pairs; i++)
      if (!mutls_conn_handshake_done(p[i].sv) && act(p[i].sv, &w[2 * i], &w[2 * i + 1]) != 0)
        return -1;
    mem_sample(base, 2 * pairs, peak);
  }
  for (size_t i = 0; i < pairs; i++)
    if (!mutls_conn_handshake_done(p[i].cl) || !mutls_conn_handshake_done(p[i].sv))
      return bench_fail("mutls: pair %zu did not complete its handshake in lockstep", i);
  return 0;
}

/* 64 bytes each way on every pair, read on arrival. */
static int exchange(mpair *p, bench_wire *w, size_t pairs) {
  uint8_t msg[64], got[64];
  memset(msg, 'x', sizeof msg);
  for (size_t i = 0; i < pairs; i++) {
    bench_wire *c2s = &w[2 * i], *s2c = &w[2 * i + 1];
    if (mutls_conn_write(p[i].cl, msg, sizeof msg) != (int)sizeof msg ||
        act(p[i].cl, s2c, c2s) != 0 || act(p[i].sv, c2s, s2c) != 0 ||
        mutls_conn_read(p[i].sv, got, sizeof got) != (int)sizeof got)
      return bench_fail("mutls: pair %zu: the client's 64 bytes did not arrive", i);
    if (mutls_conn_write(p[i].sv, msg, sizeof msg) != (int)sizeof msg ||
        act(p[i].sv, c2s, s2c) != 0 || act(p[i].cl, s2c, c2s) != 0 ||
        mutls_conn_read(p[i].cl, got, sizeof got) != (int)sizeof got)
      return bench_fail("mutls: pair %zu: the server's 64 bytes did not arrive", i);
  }
  return 0;
}

static int m_memory(void *lib, size_t pairs, bench_mem_result *out) {
  mlib *m = lib;
  /* Wires belong to the benchmark: made before the baseline, so they are
   * not counted. w[2i] carries pair i's client-to-server bytes. */
  mpair *p = calloc(pairs, sizeof *p);
  bench_wire *w = calloc(2 * pairs, sizeof *w);
  int rc = !p || !w ? bench_fail("out of memory") : 0;
  for (size_t i = 0; rc == 0 && i < 2 * pairs; i++)
    rc = bench_wire_init(&w[i], 16384);
  double base = bench_heap_bytes(), peak = 0;
  for (size_t i = 0; rc == 0 && i < pairs; i++)
    rc = pair_new(m, &p[i], NULL, NULL);
  if (rc == 0) {
    mem_sample(base, 2 * pairs, &peak);
    rc = lockstep(p, w, pairs, base, &peak);
  }
  if (rc == 0) rc = exchange(p, w, pairs);
  if (rc == 0) {
    out->steady = (bench_heap_bytes() - base) / (double)(2 * pairs);
    out->peak = peak > out->steady ? peak : out->steady;
  }
  for (size_t i = 0; p && i < pairs; i++)
    pair_free(&p[i], NULL, NULL);
  for (size_t i = 0; w && i < 2 * pairs; i++)
    bench_wire_free(&w[i]);
  free(p);
  free(w);
  return rc;
}

const bench_lib bench_mutls = {
    .name = "mutls",
    .setup = m_setup,
    .teardown = m_teardown,
    .handshakes = m_handshakes,
    .resumed = m_resumed,
    .bulk = m_bulk,
    .memory = m_memory,
};
