/* run_openssl.c - the same scenarios through OpenSSL's libssl, the
 * comparison. Same libcrypto, certificates and settings as run_mutls.c; the
 * ciphertext moves over the same bench_wires, through a small BIO of ours so
 * that bytes in flight live outside the connections (as they do for mutls)
 * and each side's work happens inside its own SSL_* calls. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct {
  SSL_CTX *server, *client;
  bench_setup s;
} olib;

/* ---- the wire BIO: reads from and writes to one bench_wire ---------------------- */
static BIO_METHOD *wire_method;

static int wire_write(BIO *b, const char *data, int len) {
  bench_wire *w = BIO_get_data(b);
  size_t room = w->cap - w->len, n = (size_t)len < room ? (size_t)len : room;
  BIO_clear_retry_flags(b);
  if (n == 0) {
    BIO_set_retry_write(b);
    return -1;
  }
  memcpy(w->buf + w->len, data, n);
  w->len += n;
  return (int)n;
}

static int wire_read(BIO *b, char *out, int len) {
  bench_wire *w = BIO_get_data(b);
  size_t avail = w->len - w->off, n = (size_t)len < avail ? (size_t)len : avail;
  BIO_clear_retry_flags(b);
  if (n == 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  memcpy(out, w->buf + w->off, n);
  w->off += n;
  bench_wire_compact(w);
  return (int)n;
}

static long wire_ctrl(BIO *b, int cmd, long num, void *ptr) {
  bench_wire *w = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH: return 1;
  case BIO_CTRL_PENDING: return w ? (long)(w->len - w->off) : 0;
  default: return 0;
  }
}

static int wire_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static BIO *wire_bio(bench_wire *w) {
  if (!wire_method) {
    wire_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench wire");
    if (!wire_method || !BIO_meth_set_write(wire_method, wire_write) ||
        !BIO_meth_set_read(wire_method, wire_read) || !BIO_meth_set_ctrl(wire_method, wire_ctrl) ||
        !BIO_meth_set_create(wire_method, wire_create))
      return NULL;
  }
  BIO *b = BIO_new(wire_method);
  if (b) BIO_set_data(b, w);
  return b;
}

/* ---- contexts ------------------------------------------------------------------- */
static int ssl_fail(const char *what) {
  ERR_print_errors_fp(stderr);
  return bench_fail("libssl: %s failed", what);
}

/* What both sides share: TLS 1.3 only, one suite, X25519, leaf-only chains,
 * no tickets and no session cache (mutls has no resumption yet). Middlebox
 * compatibility stays at libssl's default. */
static SSL_CTX *ctx_new(int server, const bench_setup *s) {
  static const unsigned char sid_ctx[] = "mutls-bench";
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  long mode = SSL_MODE_NO_AUTO_CHAIN | (s->release_buffers ? SSL_MODE_RELEASE_BUFFERS : 0);
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(ctx, bench_suite_iana[s->suite]) ||
      !SSL_CTX_set1_groups_list(ctx, "X25519") ||
      !SSL_CTX_set_num_tickets(ctx, s->resume ? 1 : 0) ||
      !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1)) {
    ssl_fail("SSL_CTX setup");
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* Resumed: stateless tickets (the default without SSL_OP_NO_TICKET); the
   * client keeps the session itself, so neither side needs a cache. */
  if (!s->resume) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, mode);
  return ctx;
}

static int use_identity(SSL_CTX *ctx, const char *cert, const char *key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1)
    return ssl_fail("loading an identity");
  return 0;
}

static void o_teardown(void *p) {
  olib *o = p;
  if (!o) return;
  SSL_CTX_free(o->server);
  SSL_CTX_free(o->client);
  free(o);
}

static void *o_setup(const bench_certs *k, const bench_setup *s) {
  olib *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->s = *s;
  o->server = ctx_new(1, s);
  o->client = ctx_new(0, s);
  int bad = !o->server || !o->client;
  bad = bad || use_identity(o->server, k->server_cert, k->server_key) != 0;
  if (!bad && s->mutual) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(k->ca);
    bad = !names || SSL_CTX_load_verify_locations(o->server, k->ca, NULL) != 1;
    if (names) SSL_CTX_set_client_CA_list(o->server, names); /* takes names */
    SSL_CTX_set_verify(o->server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    bad = bad || use_identity(o->client, k->client_cert, k->client_key) != 0;
  }
  if (!bad) {
    bad = SSL_CTX_load_verify_locations(o->client, k->ca, NULL) != 1;
    SSL_CTX_set_verify(o->client, SSL_VERIFY_PEER, NULL);
  }
  if (bad) {
    ssl_fail("setup");
    o_teardown(o);
    return NULL;
  }
  return o;
}

/* ---- connections ------------------------------------------------------------------- */
typedef struct {
  SSL *cl, *sv;
} opair;

/* A connection reading from in and writing to out. Clients check the server
 * name and send it as SNI, as mutls clients do. */
static SSL *conn_new(SSL_CTX *ctx, int server, bench_wire *in, bench_wire *out) {
  SSL *ssl = SSL_new(ctx);
  BIO *r = wire_bio(in), *w = wire_bio(out);
  if (!ssl || !r || !w) {
    BIO_free(r);
    BIO_free(w);
    SSL_free(ssl);
    return NULL;
  }
  SSL_set_bio(ssl, r, w);
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!SSL_set_tlsext_host_name(ssl, BENCH_SERVER_NAME) ||
        !SSL_set1_host(ssl, BENCH_SERVER_NAME)) {
      SSL_free(ssl);
      return NULL;
    }
  }
  return ssl;
}

static int pair_new(const olib *o, opair *p, bench_wire *c2s, bench_wire *s2c, bench_cost *cc,
                    bench_cost *cs) {
  bench_cost t = bench_mark(cc);
  p->cl = conn_new(o->client, 0, s2c, c2s);
  bench_charge(cc, t);
  t = bench_mark(cs);
  p->sv = conn_new(o->server, 1, c2s, s2c);
  bench_charge(cs, t);
  return p->cl && p->sv ? 0 : ssl_fail("SSL_new");
}

static void pair_free(opair *p, bench_cost *cc, bench_cost *cs) {
  bench_cost t = bench_mark(cc);
  SSL_free(p->cl);
  bench_charge(cc, t);
  t = bench_mark(cs);
  SSL_free(p->sv);
  bench_charge(cs, t);
  p->cl = p->sv = NULL;
}

/* One side's turn: SSL_do_handshake reads what the peer sent and writes its
 * answer onto the other wire. */
static int act(SSL *ssl) {
  int rc = SSL_do_handshake(ssl);
  if (rc == 1) return 0;
  int e = SSL_get_error(ssl, rc);
  if (e == SSL_ERROR_WANT_READ) return 0;
  ERR_print_errors_fp(stderr);
  return bench_fail("libssl %s: SSL_do_handshake failed (SSL_get_error %d; verify: %s)",
                    SSL_is_server(ssl) ? "server" : "client", e,
                    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
}

static int handshake(opair *p, bench_wire *c2s, bench_cost *cc, bench_cost *cs) {
  for (int turn = 0; turn < 8; turn++) {
    int rc = 0;
    if (!SSL_is_init_finished(p->cl)) {
      bench_cost t0 = bench_mark(cc);
      rc = act(p->cl);
      bench_charge(cc, t0);
      if (bench_openssl_sid_len < 0) bench_openssl_sid_len = bench_hello_session_id_len(c2s);
    }
    if (rc == 0 && !SSL_is_init_finished(p->sv)) {
      bench_cost t0 = bench_mark(cs);
      rc = act(p->sv);
      bench_charge(cs, t0);
    }
    if (rc != 0) return -1;
    if (SSL_is_init_finished(p->cl) && SSL_is_init_finished(p->sv)) return 0;
  }
  return bench_fail("libssl: the handshake did not complete in 8 turns");
}

static int check(const olib *o, const opair *p) {
  const SSL_CIPHER *c = SSL_get_current_cipher(p->cl);
  const char *suite = c ? SSL_CIPHER_standard_name(c) : NULL;
  if (!suite || strcmp(suite, bench_suite_iana[o->s.suite]) != 0)
    return bench_fail("libssl negotiated %s, not %s", suite ? suite : "nothing",
                      bench_suite_iana[o->s.suite]);
  if (SSL_get_negotiated_group(p->cl) != NID_X25519)
    return bench_fail("libssl did not negotiate X25519");
  if (SSL_get_verify_result(p->cl) != X509_V_OK || !SSL_get0_peer_certificate(p->cl))
    return bench_fail("libssl client has no verified server certificate");
  if (o->s.mutual &&
      (SSL_get_verify_result(p->sv) != X509_V_OK || !SSL_get0_peer_certificate(p->sv)))
    return bench_fail("libssl server has no verified client certificate");
  return 0;
}

static int o_handshakes(void *lib, long n, int split, bench_hs_result *out) {
  olib *o = lib;
  bench_wire c2s, s2c;
  int rc = 0;
  memset(out, 0, sizeof *out);
  bench_cost *cc = split ? &out->client : NULL, *cs = split ? &out->server : NULL;
  if (bench_wire_init(&c2s, 1 << 16) != 0) return -1;
  if (bench_wire_init(&s2c, 1 << 16) != 0) {
    bench_wire_free(&c2s);
    return -1;
  }
  double start = bench_now(), start_cpu = bench_thread_cpu();
  for (long i = 0; i < n && rc == 0; i++) {
    opair p = {0};
    c2s.len = c2s.off = s2c.len = s2c.off = 0;
    rc = pair_new(o, &p, &c2s, &s2c, cc, cs);
    if (rc == 0) rc = handshake(&p, &c2s, cc, cs);
    if (rc == 0 && i == 0) rc = check(o, &p);
    pair_free(&p, cc, cs);
    out->n = i + 1;
  }
  out->cpu = bench_thread_cpu() - start_cpu;
  out->wall = bench_now() - start;
  bench_wire_free(&c2s);
  bench_wire_free(&s2c);
  return rc;
}

/* One connection that resumes *sess (or, for the first, gets a session):
 * the handshake, then the client reads the server's new ticket and keeps
 * the session that holds it. */
static int resumption(const olib *o, bench_wire *c2s, bench_wire *s2c, bench_cost *cc,
                      bench_cost *cs, int expect_resumed, SSL_SESSION **sess) {
  opair p = {0};
  unsigned char b;
  c2s->len = c2s->off = s2c->len = s2c->off = 0;
  int rc = pair_new(o, &p, c2s, s2c, cc, cs);
  if (rc == 0 && *sess) {
    bench_cost t = bench_mark(cc);
    if (SSL_set_session(p.cl, *sess) != 1) rc = ssl_fail("SSL_set_session");
    bench_charge(cc, t);
  }
  if (rc == 0) rc = handshake(&p, c2s, cc, cs);
  if (rc == 0) {
    bench_cost t = bench_mark(cc);
    int r = SSL_read(p.cl, &b, 1);
    if (r > 0 || SSL_get_error(p.cl, r) != SSL_ERROR_WANT_READ) rc = ssl_fail("reading the ticket");
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(p.cl);
    /* Freeing a connection that did not shut down marks its session not
     * resumable; say it did (no close_notify: mutls sends none here either). */
    SSL_set_shutdown(p.cl, SSL_SENT_SHUTDOWN);
    bench_charge(cc, t);
    if (rc == 0 && (!*sess || !SSL_SESSION_is_resumable(*sess)))
      rc = bench_fail("libssl: no resumable session after the handshake");
  }
  if (rc == 0 && expect_resumed && !(SSL_session_reused(p.cl) && SSL_session_reused(p.sv)))
    rc = bench_fail("libssl: the connection did not resume (client %d, server %d)",
                    SSL_session_reused(p.cl), SSL_session_reused(p.sv));
  pair_free(&p, cc, cs);
  return rc;
}

static int o_resumed(void *lib, long n, int split, bench_hs_result *out) {
  olib *o = lib;
  bench_wire c2s, s2c;
  SSL_SESSION *sess = NULL;
  memset(out, 0, sizeof *out);
  if (bench_wire_init(&c2s, 1 << 16) != 0) return -1;
  if (bench_wire_init(&s2c, 1 << 16) != 0) {
    bench_wire_free(&c2s);
    return -1;
  }
  int rc = resumption(o, &c2s, &s2c, NULL, NULL, 0, &sess);
  double start = bench_now(), start_cpu = bench_thread_cpu();
  for (long i = 0; i < n && rc == 0; i++) {
    rc = resumption(o, &c2s, &s2c, split ? &out->client : NULL, split ? &out->server : NULL, 1,
                    &sess);
    out->n = i + 1;
  }
  out->cpu = bench_thread_cpu() - start_cpu;
  out->wall = bench_now() - start;
  SSL_SESSION_free(sess);
  bench_wire_free(&c2s);
  bench_wire_free(&s2c);
  return rc;
}

static int o_bulk(void *lib, size_t total, size_t chunk, int s2c_dir, double *cpu, double *wall) {
  olib *o = lib;
  bench_wire c2s = {0}, s2c = {0};
  opair p = {0};
  unsigned char *data = malloc(chunk), *rbuf = malloc(chunk);
  int rc = !data || !rbuf ? bench_fail("out of memory") : 0;
  if (rc == 0) rc = bench_wire_init(&c2s, 2 * chunk + 4096);
  if (rc == 0) rc = bench_wire_init(&s2c, 2 * chunk + 4096);
  if (rc == 0) rc = pair_new(o, &p, &c2s, &s2c, NULL, NULL);
  if (rc == 0) rc = handshake(&p, &c2s, NULL, NULL);
  if (rc == 0) {
    SSL *tx = s2c_dir ? p.sv : p.cl, *rx = s2c_dir ? p.cl : p.sv;
    size_t sent = 0, got = 0;
    for (size_t i = 0; i < chunk; i++)
      data[i] = (unsigned char)(i * 131 + 7);
    double start = bench_now(), start_cpu = bench_thread_cpu();
    while (rc == 0 && sent < total) {
      size_t n = total - sent < chunk ? total - sent : chunk;
      if (SSL_write(tx, data, (int)n) != (int)n) rc = ssl_fail("SSL_write");
      for (int r; rc == 0 && (r = SSL_read(rx, rbuf, (int)chunk)) != 0;) {
        if (r > 0) {
          got += (size_t)r;
        } else if (SSL_get_error(rx, r) == SSL_ERROR_WANT_READ) {
          break;
        } else {
          rc = ssl_fail("SSL_read");
        }
      }
      if (rc == 0 && sent == 0 && memcmp(rbuf, data, n) != 0)
        rc = bench_fail("libssl: the first chunk arrived altered");
      sent += n;
    }
    *cpu = bench_thread_cpu() - start_cpu;
    *wall = bench_now() - start;
    if (rc == 0 && got != total) rc = bench_fail("libssl: sent %zu bytes, %zu arrived", total, got);
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

static int lockstep(opair *p, size_t pairs, double base, double *peak) {
  for (int turn = 0; turn < 4; turn++) {
    for (size_t i = 0; i < pairs; i++)
      if (!SSL_is_init_finished(p[i].cl) && act(p[i].cl) != 0) return -1;
    mem_sample(base, 2 * pairs, peak);
    for (size_t i = 0; i < pairs; i++)
      if (!SSL_is_init_finished(p[i].sv) && act(p[i].sv) != 0) return -1;
    mem_sample(base, 2 * pairs, peak);
  }
  for (size_t i = 0; i < pairs; i++)
    if (!SSL_is_init_finished(p[i].cl) || !SSL_is_init_finished(p[i].sv))
      return bench_fail("libssl: pair %zu did not complete its handshake in lockstep", i);
  return 0;
}

static int exchange(opair *p, size_t pairs) {
  unsigned char msg[64], got[64];
  memset(msg, 'x', sizeof msg);
  for (size_t i = 0; i < pairs; i++) {
    if (SSL_write(p[i].cl, msg, sizeof msg) != (int)sizeof msg ||
        SSL_read(p[i].sv, got, sizeof got) != (int)sizeof got)
      return ssl_fail("the client's 64 bytes");
    if (SSL_write(p[i].sv, msg, sizeof msg) != (int)sizeof msg ||
        SSL_read(p[i].cl, got, sizeof got) != (int)sizeof got)
      return ssl_fail("the server's 64 bytes");
  }
  return 0;
}

static int o_memory(void *lib, size_t pairs, bench_mem_result *out) {
  olib *o = lib;
  opair *p = calloc(pairs, sizeof *p);
  bench_wire *w = calloc(2 * pairs, sizeof *w);
  int rc = !p || !w ? bench_fail("out of memory") : 0;
  for (size_t i = 0; rc == 0 && i < 2 * pairs; i++)
    rc = bench_wire_init(&w[i], 16384);
  /* The BIO method is made once, on first use: make it before the baseline. */
  if (rc == 0) BIO_free(wire_bio(&w[0]));
  double base = bench_heap_bytes(), peak = 0;
  for (size_t i = 0; rc == 0 && i < pairs; i++)
    rc = pair_new(o, &p[i], &w[2 * i], &w[2 * i + 1], NULL, NULL);
  if (rc == 0) {
    mem_sample(base, 2 * pairs, &peak);
    rc = lockstep(p, pairs, base, &peak);
  }
  if (rc == 0) rc = exchange(p, pairs);
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

const bench_lib bench_openssl = {
    .name = "openssl",
    .setup = o_setup,
    .teardown = o_teardown,
    .handshakes = o_handshakes,
    .resumed = o_resumed,
    .bulk = o_bulk,
    .memory = o_memory,
};
