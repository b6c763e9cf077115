/* test_view.c - zero-copy reading (mutls_conn_peek, mutls_conn_consume):
 * the view shows exactly what mutls_conn_read would copy, record by record;
 * partial consumes and reads mix; KeyUpdate, close_notify and failures give
 * the same results as mutls_conn_read; consuming too much changes nothing;
 * buffers are released and plaintext wiped by the same rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h" /* to see the input buffer, its epoch and what it holds */

/* One direction of the link: ciphertext sent and not yet taken is
 * buf[off..len). */
typedef struct {
  uint8_t buf[1 << 17];
  size_t off, len;
} wire;

static wire c2s, s2c;

/* Everything from has to send goes onto w. */
static void ship(mutls_conn *from, wire *w) {
  size_t n;
  if (w->off == w->len) w->off = w->len = 0;
  do {
    if (mutls_conn_send(from, w->buf + w->len, sizeof w->buf - w->len, &n) != MUTLS_OK) return;
    w->len += n;
  } while (n > 0 && w->len < sizeof w->buf);
}

/* Offers to what waits on w; returns mutls_conn_recv's result and sets
 * *used (may be NULL). The connection takes nothing while data waits. */
static int feed(mutls_conn *to, wire *w, size_t *used) {
  size_t u = 0;
  int rc = mutls_conn_recv(to, w->buf + w->off, w->len - w->off, &u);
  w->off += u;
  if (used) *used = u;
  return rc;
}

/* from writes d[0..n); it goes over w and to takes what it can. Returns
 * mutls_conn_recv's result (MUTLS_ERR if the write failed). */
static int deliver(mutls_conn *from, mutls_conn *to, wire *w, const uint8_t *d, size_t n) {
  int wrote = mutls_conn_write(from, d, n);
  ship(from, w);
  int rc = feed(to, w, NULL);
  return wrote == (int)n ? rc : MUTLS_ERR;
}

/* n bytes of a pattern that differs per offset and per seed. */
static uint8_t *pattern(size_t n, unsigned seed) {
  uint8_t *p = malloc(n);
  if (!p) abort();
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(i * 131 + seed + (i >> 8));
  return p;
}

/* A connected pair (server authentication only), buffers released
 * automatically if release is set. */
static tu_pair pair_new(int release) {
  tu_pair p = {tu_server_config("p256"), tu_client_config(), NULL, NULL};
  mutls_config_set_release_buffers(p.sc, release);
  mutls_config_set_release_buffers(p.cc, release);
  p.s = mutls_server_new(p.sc);
  p.c = mutls_client_new(p.cc, "localhost");
  c2s.off = c2s.len = s2c.off = s2c.len = 0;
  if (tu_pump(p.c, p.s) != 0) {
    printf("FAIL handshake: server: %s; client: %s\n", mutls_conn_explain(p.s),
           mutls_conn_explain(p.c));
    exit(1);
  }
  return p;
}

/* 1 if the view is exactly want[0..n). */
static int view_is(const uint8_t *data, size_t len, const uint8_t *want, size_t n) {
  return data && len == n && memcmp(data, want, n) == 0;
}

/* Three writes, three records: each view is one record's data, a peek
 * marks nothing read, consumes advance it, and the next record is taken
 * only once the view is used up. */
static void across_records(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(600, 1);
  const uint8_t *v = NULL, *v2 = NULL;
  size_t len = 0, len2 = 0, used = 0;
  mutls_conn_write(p.c, d, 100);
  mutls_conn_write(p.c, d + 100, 200);
  mutls_conn_write(p.c, d + 300, 300);
  ship(p.c, &c2s);
  int rc = feed(p.s, &c2s, NULL);
  CHECKF("peek: the first record's 100 bytes, the other two records left on the wire",
         rc == MUTLS_OK && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d, 100) &&
             c2s.len - c2s.off == 2 * (5 + 17) + 200 + 300,
         "rc %d len %zu left %zu", rc, len, c2s.len - c2s.off);
  CHECK("peek twice: the same view, nothing read",
        mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK && v2 == v && len2 == 100);
  CHECK("recv takes nothing while a view waits", feed(p.s, &c2s, &used) == MUTLS_OK && used == 0 &&
                                                     mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK &&
                                                     v2 == v && len2 == 100);
  CHECK("consume 40: the view is the other 60", mutls_conn_consume(p.s, 40) == MUTLS_OK &&
                                                    mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK &&
                                                    v2 == v + 40 && view_is(v2, len2, d + 40, 60));
  CHECK("consume 0 changes nothing", mutls_conn_consume(p.s, 0) == MUTLS_OK &&
                                         mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK &&
                                         v2 == v + 40 && len2 == 60);
  rc = mutls_conn_consume(p.s, 60);
  int empty = mutls_conn_peek(p.s, &v2, &len2);
  CHECKF("consume the rest: MUTLS_WANT_READ with an empty view",
         rc == MUTLS_OK && empty == MUTLS_WANT_READ && v2 == NULL && len2 == 0, "rc %d peek %d", rc,
         empty);
  feed(p.s, &c2s, &used);
  CHECKF("the second record after it",
         used == 5 + 17 + 200 && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK &&
             view_is(v, len, d + 100, 200),
         "used %zu len %zu", used, len);
  mutls_conn_consume(p.s, 200);
  feed(p.s, &c2s, &used);
  CHECK("the third record after that",
        used == 5 + 17 + 300 && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK &&
            view_is(v, len, d + 300, 300) && mutls_conn_consume(p.s, 300) == MUTLS_OK &&
            mutls_conn_peek(p.s, &v, &len) == MUTLS_WANT_READ);
  free(d);
  tu_pair_free(&p);
}

/* mutls_conn_read and the view take turns on one record. */
static void mixed_with_read(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(300, 2), got[300];
  const uint8_t *v = NULL;
  size_t len = 0;
  deliver(p.s, p.c, &s2c, d, 300);
  int r1 = mutls_conn_read(p.c, got, 50);
  int pk = mutls_conn_peek(p.c, &v, &len);
  CHECKF("read 50, then the view is the other 250",
         r1 == 50 && memcmp(got, d, 50) == 0 && pk == MUTLS_OK && view_is(v, len, d + 50, 250),
         "read %d peek %d len %zu", r1, pk, len);
  int cs = mutls_conn_consume(p.c, 100);
  int r2 = mutls_conn_read(p.c, got, sizeof got);
  CHECKF("consume 100, then read gets the last 150",
         cs == MUTLS_OK && r2 == 150 && memcmp(got, d + 150, 150) == 0, "consume %d read %d", cs,
         r2);
  CHECK("then both say MUTLS_WANT_READ", mutls_conn_read(p.c, got, sizeof got) == MUTLS_WANT_READ &&
                                             mutls_conn_peek(p.c, &v, &len) == MUTLS_WANT_READ);
  free(d);
  tu_pair_free(&p);
}

/* One 40000-byte write is three records: views of 16384, 16384 and 7232
 * bytes, which put back together are the write. The view can be written
 * straight back (an echo) before it is consumed. */
static void large_write_and_echo(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(40000, 3), *got = malloc(40000);
  const uint8_t *v = NULL;
  size_t len = 0, total = 0, sizes[4] = {0};
  int views = 0, ok = got && mutls_conn_write(p.c, d, 40000) == 40000;
  ship(p.c, &c2s);
  while (ok && feed(p.s, &c2s, NULL) == MUTLS_OK && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK) {
    if (views == 4 || total + len > 40000) break;
    sizes[views++] = len;
    memcpy(got + total, v, len);
    total += len;
    ok = mutls_conn_write(p.s, v, len) == (int)len && mutls_conn_consume(p.s, len) == MUTLS_OK;
  }
  CHECKF("40000 bytes arrive as views of 16384, 16384 and 7232 bytes",
         ok && views == 3 && sizes[0] == 16384 && sizes[1] == 16384 && sizes[2] == 7232 &&
             total == 40000 && memcmp(got, d, 40000) == 0,
         "views %d: %zu %zu %zu %zu; total %zu", views, sizes[0], sizes[1], sizes[2], sizes[3],
         total);
  /* The echo, read back by the client through views too. */
  ship(p.s, &s2c);
  total = 0;
  while (feed(p.c, &s2c, NULL) == MUTLS_OK && mutls_conn_peek(p.c, &v, &len) == MUTLS_OK &&
         total + len <= 40000) {
    memcpy(got + total, v, len);
    total += len;
    mutls_conn_consume(p.c, len);
  }
  CHECKF("the views written straight back arrive whole",
         total == 40000 && memcmp(got, d, 40000) == 0 && mutls_conn_error(p.s) == MUTLS_E_NONE,
         "total %zu", total);
  free(d);
  free(got);
  tu_pair_free(&p);
}

/* A KeyUpdate (asking for one back) between two writes: it is taken only
 * once the view before it is consumed; data after it arrives under the new
 * keys, and the answer comes back with the server's next data. */
static void key_update_between(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(2000, 4);
  const uint8_t *v = NULL;
  size_t len = 0, used = 0;
  unsigned s_epoch = p.s->rd_epoch, c_epoch = p.c->rd_epoch;
  mutls_conn_write(p.c, d, 1000);
  int ku = mutls_conn_key_update(p.c, 1);
  mutls_conn_write(p.c, d + 1000, 1000);
  ship(p.c, &c2s);
  feed(p.s, &c2s, NULL);
  CHECK("before KeyUpdate: the first write, under the old keys",
        ku == MUTLS_OK && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d, 1000) &&
            p.s->rd_epoch == s_epoch);
  mutls_conn_consume(p.s, 600);
  feed(p.s, &c2s, &used);
  CHECK("a partial consume does not let the KeyUpdate in",
        used == 0 && p.s->rd_epoch == s_epoch && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK &&
            view_is(v, len, d + 600, 400));
  mutls_conn_consume(p.s, 400);
  feed(p.s, &c2s, NULL);
  CHECKF("after KeyUpdate: the second write, under the next keys",
         mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d + 1000, 1000) &&
             p.s->rd_epoch == s_epoch + 1 && p.s->key_update_reply == 1,
         "epoch %u (was %u), reply %d", p.s->rd_epoch, s_epoch, p.s->key_update_reply);
  mutls_conn_consume(p.s, 1000);
  deliver(p.s, p.c, &s2c, d, 500);
  CHECKF("the server's answer updates the client's read keys",
         mutls_conn_peek(p.c, &v, &len) == MUTLS_OK && view_is(v, len, d, 500) &&
             p.c->rd_epoch == c_epoch + 1 && mutls_conn_error(p.s) == MUTLS_E_NONE &&
             mutls_conn_error(p.c) == MUTLS_E_NONE,
         "epoch %u (was %u); server: %s; client: %s", p.c->rd_epoch, c_epoch,
         mutls_conn_explain(p.s), mutls_conn_explain(p.c));
  free(d);
  tu_pair_free(&p);
}

/* close_notify after data: the data first, then MUTLS_CLOSED, as read. */
static void close_notify(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(700, 5), b[8];
  const uint8_t *v = NULL;
  size_t len = 0;
  mutls_conn_write(p.c, d, 700);
  mutls_conn_close(p.c);
  ship(p.c, &c2s);
  feed(p.s, &c2s, NULL);
  CHECK("close_notify: the data before it is seen first",
        mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d, 700) && !p.s->got_close);
  mutls_conn_consume(p.s, 700);
  feed(p.s, &c2s, NULL);
  int pk = mutls_conn_peek(p.s, &v, &len);
  CHECKF("close_notify: then MUTLS_CLOSED with an empty view, as mutls_conn_read says",
         pk == MUTLS_CLOSED && v == NULL && len == 0 &&
             mutls_conn_read(p.s, b, sizeof b) == MUTLS_CLOSED,
         "peek %d len %zu", pk, len);
  CHECK("close_notify: consume 1 is MUTLS_ERR, consume 0 is MUTLS_OK",
        mutls_conn_consume(p.s, 1) == MUTLS_ERR && mutls_conn_consume(p.s, 0) == MUTLS_OK &&
            mutls_conn_peek(p.s, &v, &len) == MUTLS_CLOSED &&
            mutls_conn_error(p.s) == MUTLS_E_NONE);
  free(d);
  tu_pair_free(&p);
}

/* A forged record after good data: the data is seen, then the failure. */
static void failure(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(900, 6), b[8];
  const uint8_t *v = NULL;
  size_t len = 0;
  mutls_conn_write(p.c, d, 400);
  mutls_conn_write(p.c, d + 400, 500);
  ship(p.c, &c2s);
  c2s.buf[c2s.len - 1] ^= 1; /* the second record's tag */
  int rc1 = feed(p.s, &c2s, NULL);
  CHECK("failure: data before a forged record is seen",
        rc1 == MUTLS_OK && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d, 400));
  mutls_conn_consume(p.s, 400);
  int rc2 = feed(p.s, &c2s, NULL);
  int pk = mutls_conn_peek(p.s, &v, &len);
  CHECKF("failure: then MUTLS_ERR with an empty view, as mutls_conn_read says",
         rc2 == MUTLS_ERR && pk == MUTLS_ERR && v == NULL && len == 0 &&
             mutls_conn_read(p.s, b, sizeof b) == MUTLS_ERR &&
             mutls_conn_error(p.s) == MUTLS_E_BAD_RECORD_MAC && mutls_conn_alert_sent(p.s) == 20,
         "recv %d peek %d error %s", rc2, pk, mutls_error_name(mutls_conn_error(p.s)));
  free(d);
  tu_pair_free(&p);
}

/* Misuse: too much consumed, NULL arguments. Nothing changes. */
static void misuse(void) {
  tu_pair p = pair_new(0);
  uint8_t *d = pattern(100, 7);
  const uint8_t *v = NULL, *v2 = (const uint8_t *)"x";
  size_t len = 0, len2 = 7;
  CHECK("nothing waits: consume 1 is MUTLS_ERR, consume 0 is MUTLS_OK",
        mutls_conn_consume(p.s, 1) == MUTLS_ERR && mutls_conn_consume(p.s, 0) == MUTLS_OK &&
            mutls_conn_peek(p.s, &v, &len) == MUTLS_WANT_READ);
  deliver(p.c, p.s, &c2s, d, 100);
  mutls_conn_peek(p.s, &v, &len);
  mutls_conn_consume(p.s, 30);
  int rc = mutls_conn_consume(p.s, 71);
  CHECKF("consume 71 of 70: MUTLS_ERR, the view unchanged, the connection fine",
         rc == MUTLS_ERR && mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK && v2 == v + 30 &&
             view_is(v2, len2, d + 30, 70) && mutls_conn_error(p.s) == MUTLS_E_NONE &&
             strstr(mutls_conn_notice(p.s), "71 bytes where 70 wait") != NULL,
         "rc %d len %zu notice \"%s\"", rc, len2, mutls_conn_notice(p.s));
  CHECK("consume SIZE_MAX: MUTLS_ERR, nothing changes",
        mutls_conn_consume(p.s, (size_t)-1) == MUTLS_ERR && p.s->app_len == 70 &&
            mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK && v2 == v + 30 && len2 == 70);
  v2 = (const uint8_t *)"x";
  len2 = 7;
  CHECK("peek(NULL, ...) and consume(NULL, ...) are MUTLS_ERR",
        mutls_conn_peek(NULL, &v2, &len2) == MUTLS_ERR && v2 == NULL && len2 == 0 &&
            mutls_conn_consume(NULL, 0) == MUTLS_ERR);
  v2 = (const uint8_t *)"x";
  len2 = 7;
  CHECK("peek without data or len is MUTLS_ERR, the other emptied, nothing read",
        mutls_conn_peek(p.s, NULL, &len2) == MUTLS_ERR && len2 == 0 &&
            mutls_conn_peek(p.s, &v2, NULL) == MUTLS_ERR && v2 == NULL && p.s->app_len == 70 &&
            mutls_conn_peek(p.s, &v2, &len2) == MUTLS_OK && view_is(v2, len2, d + 30, 70));
  free(d);
  tu_pair_free(&p);
}

/* Automatic release: the input buffer goes when the last byte of the view
 * is consumed, not before; a release by hand keeps an unconsumed view.
 * Without it, the buffer stays, as after mutls_conn_read. */
static void buffers(void) {
  tu_pair p = pair_new(1);
  uint8_t *d = pattern(5000, 8);
  const uint8_t *v = NULL;
  size_t len = 0;
  CHECK("automatic release: no input buffer once connected", p.s->in == NULL);
  deliver(p.c, p.s, &c2s, d, 5000);
  mutls_conn_peek(p.s, &v, &len);
  mutls_conn_consume(p.s, 1000);
  mutls_conn_release_buffers(p.s);
  CHECK("a release by hand keeps the unconsumed view",
        p.s->in != NULL && mutls_conn_peek(p.s, &v, &len) == MUTLS_OK &&
            view_is(v, len, d + 1000, 4000));
  mutls_conn_consume(p.s, 3999);
  CHECK("one byte left: the buffer is held", p.s->in != NULL && p.s->app_len == 1);
  mutls_conn_consume(p.s, 1);
  CHECK("all consumed: the input buffer is wiped and freed",
        p.s->in == NULL && p.s->in_cap == 0 && p.s->in_plain == 0 &&
            mutls_conn_peek(p.s, &v, &len) == MUTLS_WANT_READ);
  deliver(p.c, p.s, &c2s, d, 5000);
  CHECK("the next record gets a new buffer",
        mutls_conn_peek(p.s, &v, &len) == MUTLS_OK && view_is(v, len, d, 5000) && p.s->in != NULL);
  mutls_conn_consume(p.s, 5000);
  tu_pair_free(&p);

  p = pair_new(0);
  deliver(p.c, p.s, &c2s, d, 5000);
  mutls_conn_peek(p.s, &v, &len);
  mutls_conn_consume(p.s, 5000);
  CHECK("default buffers: kept once consumed, its plaintext not yet wiped",
        p.s->in != NULL && p.s->in_plain == 5001 && memcmp(p.s->in, d, 5000) == 0);
  deliver(p.c, p.s, &c2s, d, 100);
  int tail_zero = p.s->in_plain == 101;
  for (size_t i = 101; i < 5001 && tail_zero; i++)
    tail_zero = p.s->in[i] == 0;
  CHECK("default buffers: a shorter record wipes what it does not overwrite", tail_zero);
  mutls_conn_consume(p.s, 100);
  mutls_conn_release_buffers(p.s);
  CHECK("default buffers: a release frees it", p.s->in == NULL);
  free(d);
  tu_pair_free(&p);
}

int main(void) {
  tu_certs();
  across_records();
  mixed_with_read();
  large_write_and_echo();
  key_update_between();
  close_notify();
  failure();
  misuse();
  buffers();
  return check_exit();
}
