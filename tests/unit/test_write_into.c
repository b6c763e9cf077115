/* test_write_into.c - zero-copy sending (mutls_conn_write_into): records
 * sealed straight into the caller's buffer read back exactly as written,
 * are cut to the room given (whole records only, 22 bytes of overhead
 * each), come after whatever was queued (KeyUpdates included, manual or
 * automatic), mix with mutls_conn_write in stream order, and misuse changes
 * nothing. Sizes are checked to the byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "internal.h" /* sequence numbers, epochs, the test limit for KeyUpdate */

/* What protection adds to a record: header 5, inner type 1, tag 16. */
#define OVER 22

/* Ciphertext from one side to the other: bytes [off, len) not yet taken. */
typedef struct {
  uint8_t buf[1 << 18];
  size_t off, len;
} link;

static link wire;

/* from seals d[0..n) onto the wire, with room for at most cap more bytes.
 * Returns mutls_conn_write_into's result; *produced as it said. */
static int into(mutls_conn *from, const uint8_t *d, size_t n, size_t cap, size_t *produced) {
  if (cap > sizeof wire.buf - wire.len) cap = sizeof wire.buf - wire.len;
  int r = mutls_conn_write_into(from, d, n, wire.buf + wire.len, cap, produced);
  wire.len += *produced;
  return r;
}

/* Everything from has queued goes onto the wire (mutls_conn_send). */
static void queue_out(mutls_conn *from) {
  size_t n = 0;
  mutls_conn_send(from, wire.buf + wire.len, sizeof wire.buf - wire.len, &n);
  wire.len += n;
}

/* to takes all the wire holds, reading the data into got (cap bytes) with
 * mutls_conn_read. Returns the bytes read, or -1 if to failed or took
 * nothing. The wire is empty afterwards. */
static long arrive(mutls_conn *to, uint8_t *got, size_t cap) {
  size_t total = 0;
  while (wire.off < wire.len) {
    size_t used = 0;
    if (mutls_conn_recv(to, wire.buf + wire.off, wire.len - wire.off, &used) != MUTLS_OK) return -1;
    wire.off += used;
    int r, read_any = 0;
    while (total < cap && (r = mutls_conn_read(to, got + total, cap - total)) > 0) {
      total += (size_t)r;
      read_any = 1;
    }
    if (used == 0 && !read_any) return -1;
  }
  wire.off = wire.len = 0;
  return (long)total;
}

/* n bytes that differ per offset and per seed. */
static uint8_t *pattern(size_t n, unsigned seed) {
  uint8_t *p = malloc(n ? n : 1);
  if (!p) abort();
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(i * 151 + seed * 7 + (i >> 9));
  return p;
}

/* A connected pair (server authentication only) with nothing pending. */
static tu_pair connected(void) {
  tu_pair p = {tu_server_config("p256"), tu_client_config(), NULL, NULL};
  p.s = mutls_server_new(p.sc);
  p.c = mutls_client_new(p.cc, "localhost");
  wire.off = wire.len = 0;
  if (tu_pump(p.c, p.s) != 0 || mutls_conn_pending(p.c) || mutls_conn_pending(p.s)) {
    printf("FAIL handshake: server: %s; client: %s\n", mutls_conn_explain(p.s),
           mutls_conn_explain(p.c));
    exit(1);
  }
  return p;
}

/* The length field of the record header at h. */
static size_t rec_len(const uint8_t *h) {
  return ((size_t)h[3] << 8) | h[4];
}

/* Whole buffers in one call: 1, 16384, 16385 and 100000 bytes are 1, 1, 2
 * and 7 records, each one sequence number, read back byte for byte. */
static void round_trip(void) {
  static const size_t sizes[] = {1, 16384, 16385, 100000};
  static const size_t want_out[] = {1 + OVER, 16384 + OVER, 16384 + 1 + 2 * OVER,
                                    100000 + 7 * OVER};
  static const uint64_t want_recs[] = {1, 1, 2, 7};
  tu_pair p = connected();
  uint8_t *got = malloc(100000);
  for (int i = 0; i < 4; i++) {
    uint8_t *d = pattern(sizes[i], (unsigned)i);
    size_t produced = 0;
    uint64_t seq = p.c->wr.seq;
    int r = into(p.c, d, sizes[i], sizeof wire.buf, &produced);
    uint64_t recs = p.c->wr.seq - seq;
    long n = arrive(p.s, got, 100000);
    char name[80];
    snprintf(name, sizeof name, "round trip of %zu bytes", sizes[i]);
    CHECKF(name,
           r == (int)sizes[i] && produced == want_out[i] && recs == want_recs[i] &&
               mutls_conn_pending(p.c) == 0 && n == (long)sizes[i] && memcmp(got, d, sizes[i]) == 0,
           "returned %d, produced %zu (want %zu), %llu records, read %ld", r, produced, want_out[i],
           (unsigned long long)recs, n);
    free(d);
  }
  CHECK("round trips: neither side failed",
        mutls_conn_error(p.c) == MUTLS_E_NONE && mutls_conn_error(p.s) == MUTLS_E_NONE);
  free(got);
  tu_pair_free(&p);
}

/* 40000 bytes of room for 100000: two full records and a third that fills
 * the room exactly (7166 bytes); the rest in a second call. */
static void partial(void) {
  tu_pair p = connected();
  uint8_t *d = pattern(100000, 9), *got = malloc(100000);
  size_t produced = 0, produced2 = 0;
  int r = into(p.c, d, 100000, 40000, &produced);
  size_t third = rec_len(wire.buf + 2 * (16384 + OVER));
  CHECKF("room for 40000: 2 * 16384 + 7166 bytes taken, 40000 written",
         r == 2 * 16384 + 7166 && produced == 40000 && third == 7166 + 1 + 16,
         "returned %d, produced %zu, third record %zu", r, produced, third);
  int r2 = into(p.c, d + r, 100000 - (size_t)r, sizeof wire.buf, &produced2);
  long n = arrive(p.s, got, 100000);
  CHECKF("the rest: 60066 bytes in 4 records; all 100000 arrive in order",
         r2 == 60066 && produced2 == 60066 + 4 * OVER && n == 100000 && memcmp(got, d, 100000) == 0,
         "returned %d, produced %zu, read %ld", r2, produced2, n);
  free(d);
  free(got);
  tu_pair_free(&p);
}

/* Less room than a 1-byte record needs: nothing is sealed. 23 bytes: one. */
static void tiny(void) {
  tu_pair p = connected();
  uint8_t d[4] = {0xde, 0xad, 0xbe, 0xef}, got[4];
  size_t produced = 99;
  uint64_t seq = p.c->wr.seq;
  int r = into(p.c, d, 4, OVER, &produced);
  CHECKF("room for 22 bytes: returns 0, writes nothing, uses no sequence number",
         r == 0 && produced == 0 && p.c->wr.seq == seq && wire.len == 0 &&
             mutls_conn_pending(p.c) == 0,
         "returned %d, produced %zu", r, produced);
  produced = 99;
  r = mutls_conn_write_into(p.c, d, 4, NULL, 0, &produced);
  CHECK("no room at all (out NULL, cap 0): returns 0, produced 0", r == 0 && produced == 0);
  r = into(p.c, d, 4, OVER + 1, &produced);
  long n = arrive(p.s, got, sizeof got);
  CHECKF("room for 23 bytes: one 1-byte record",
         r == 1 && produced == 23 && n == 1 && got[0] == 0xde,
         "returned %d, produced %zu, read %ld", r, produced, n);
  tu_pair_free(&p);
}

/* A KeyUpdate asking for one back goes out before the data; the peer
 * takes both, and its answer goes out before its own next data. */
static void queued_key_update(void) {
  tu_pair p = connected();
  uint8_t *d = pattern(1000, 3), got[1000];
  size_t produced = 0;
  unsigned s_epoch = p.s->rd_epoch, c_epoch = p.c->rd_epoch;
  int ku = mutls_conn_key_update(p.c, 1);
  size_t queued = mutls_conn_pending(p.c);
  int r = into(p.c, d, 1000, sizeof wire.buf, &produced);
  /* KeyUpdate: a 5-byte message, so a 5 + 5 + 1 + 16 = 27-byte record. */
  size_t first = rec_len(wire.buf), second = rec_len(wire.buf + 27);
  CHECKF("KeyUpdate queued: its 27-byte record, then the data's",
         ku == MUTLS_OK && queued == 27 && r == 1000 && produced == 27 + 1000 + OVER &&
             first == 22 && second == 1000 + 17 && mutls_conn_pending(p.c) == 0,
         "queued %zu, returned %d, produced %zu, records %zu %zu", queued, r, produced, first,
         second);
  long n = arrive(p.s, got, sizeof got);
  CHECKF("the peer takes the KeyUpdate, then the data under the next keys",
         n == 1000 && memcmp(got, d, 1000) == 0 && p.s->rd_epoch == s_epoch + 1 &&
             p.s->key_update_reply == 1,
         "read %ld, epoch %u (was %u), reply %d: %s", n, p.s->rd_epoch, s_epoch,
         p.s->key_update_reply, mutls_conn_explain(p.s));
  r = into(p.s, d, 500, sizeof wire.buf, &produced);
  CHECKF("the answer: the server's KeyUpdate record before its data",
         r == 500 && produced == 27 + 500 + OVER && p.s->key_update_reply == 0 &&
             rec_len(wire.buf) == 22,
         "returned %d, produced %zu", r, produced);
  n = arrive(p.c, got, sizeof got);
  CHECKF("the client takes the answer and the data",
         n == 500 && memcmp(got, d, 500) == 0 && p.c->rd_epoch == c_epoch + 1 &&
             mutls_conn_error(p.c) == MUTLS_E_NONE && mutls_conn_error(p.s) == MUTLS_E_NONE,
         "read %ld, epoch %u (was %u): %s", n, p.c->rd_epoch, c_epoch, mutls_conn_explain(p.c));
  free(d);
  tu_pair_free(&p);
}

/* The queue does not fit: what fits of it is copied, none of the data is
 * taken; the next call finishes the queue, then seals. */
static void queue_too_big(void) {
  tu_pair p = connected();
  uint8_t *d = pattern(100, 4), got[100];
  size_t produced = 0;
  unsigned epoch = p.s->rd_epoch;
  mutls_conn_key_update(p.c, 0);
  uint64_t seq = p.c->wr.seq;
  int r = into(p.c, d, 100, 10, &produced);
  CHECKF("room for 10 of a 27-byte queue: 0 taken, 10 copied, 17 left",
         r == 0 && produced == 10 && mutls_conn_pending(p.c) == 17 && p.c->wr.seq == seq,
         "returned %d, produced %zu, pending %zu", r, produced, mutls_conn_pending(p.c));
  r = into(p.c, d, 100, sizeof wire.buf, &produced);
  long n = arrive(p.s, got, sizeof got);
  CHECKF("then the 17 left and the data; the peer takes both",
         r == 100 && produced == 17 + 100 + OVER && n == 100 && memcmp(got, d, 100) == 0 &&
             p.s->rd_epoch == epoch + 1,
         "returned %d, produced %zu, read %ld: %s", r, produced, n, mutls_conn_explain(p.s));
  free(d);
  tu_pair_free(&p);
}

/* The automatic KeyUpdate (here after 3 records) precedes the data too. */
static void automatic_key_update(void) {
  tu_pair p = connected();
  mt_test_inject t = {0};
  t.key_update_after = 3;
  mt_test_inject_set(p.c, &t);
  uint8_t *d = pattern(40, 5), got[40];
  size_t produced = 0, sizes[4];
  unsigned epoch = p.s->rd_epoch;
  uint64_t seq0 = p.c->wr.seq;
  for (int i = 0; i < 4; i++) {
    into(p.c, d + 10 * i, 10, sizeof wire.buf, &produced);
    sizes[i] = produced;
  }
  long n = arrive(p.s, got, sizeof got);
  CHECKF("three 32-byte records, then a KeyUpdate and the fourth (27 + 32)",
         seq0 == 0 && sizes[0] == 32 && sizes[1] == 32 && sizes[2] == 32 && sizes[3] == 27 + 32 &&
             p.c->wr.seq == 1,
         "seq before %llu, produced %zu %zu %zu %zu, seq after %llu", (unsigned long long)seq0,
         sizes[0], sizes[1], sizes[2], sizes[3], (unsigned long long)p.c->wr.seq);
  CHECKF("the peer reads all 40 bytes in order under the next keys",
         n == 40 && memcmp(got, d, 40) == 0 && p.s->rd_epoch == epoch + 1, "read %ld: %s", n,
         mutls_conn_explain(p.s));
  free(d);
  tu_pair_free(&p);
}

/* mutls_conn_write, a partial mutls_conn_send, and mutls_conn_write_into
 * in turns: the stream keeps the order of the calls. */
static void interleaved(void) {
  tu_pair p = connected();
  uint8_t *d = pattern(60306, 6), *got = malloc(60306);
  size_t produced[3] = {0}, sent = 0;
  int w1 = mutls_conn_write(p.c, d, 300);
  int i1 = into(p.c, d + 300, 20000, sizeof wire.buf, &produced[0]);
  int w2 = mutls_conn_write(p.c, d + 20300, 5);
  int i2 = into(p.c, d + 20305, 1, sizeof wire.buf, &produced[1]);
  int w3 = mutls_conn_write(p.c, d + 20306, 40000);
  mutls_conn_send(p.c, wire.buf + wire.len, 1000, &sent); /* part of that write's records */
  wire.len += sent;
  size_t left = mutls_conn_pending(p.c);
  int i3 = into(p.c, d, 0, sizeof wire.buf, &produced[2]);
  CHECKF("calls: each write taken whole; the queue ahead of each write_into",
         w1 == 300 && i1 == 20000 && produced[0] == 300 + OVER + 20000 + 2 * OVER && w2 == 5 &&
             i2 == 1 && produced[1] == 5 + OVER + 1 + OVER && w3 == 40000 && sent == 1000 &&
             left == 40000 + 3 * OVER - 1000 && i3 == 0 && produced[2] == left &&
             mutls_conn_pending(p.c) == 0,
         "%d %d/%zu %d %d/%zu %d sent %zu left %zu, %d/%zu", w1, i1, produced[0], w2, i2,
         produced[1], w3, sent, left, i3, produced[2]);
  long n = arrive(p.s, got, 60306);
  CHECKF("the peer reads write, write_into, write, write_into, write: in that order",
         n == 60306 && memcmp(got, d, 60306) == 0, "read %ld: %s", n, mutls_conn_explain(p.s));
  free(d);
  free(got);
  tu_pair_free(&p);
}

/* Before the handshake, with NULL arguments, after close: MUTLS_ERR,
 * nothing written, nothing torn down. */
static void misuse(void) {
  uint8_t d[16] = {1, 2, 3}, out[256], got[16];
  size_t produced = 7;
  tu_pair p = {tu_server_config("p256"), tu_client_config(), NULL, NULL};
  p.s = mutls_server_new(p.sc);
  p.c = mutls_client_new(p.cc, "localhost");
  int r = mutls_conn_write_into(p.c, d, 16, out, sizeof out, &produced);
  CHECKF("before the handshake: MUTLS_ERR, nothing written, a notice, no failure",
         r == MUTLS_ERR && produced == 0 && p.c->out.len == 0 &&
             mutls_conn_error(p.c) == MUTLS_E_NONE &&
             strcmp(mutls_conn_notice(p.c), "mutls_conn_write_into was called before the "
                                            "handshake completed; nothing was written") == 0,
         "returned %d, produced %zu, notice \"%s\"", r, produced, mutls_conn_notice(p.c));
  CHECK("before the handshake: the handshake still completes", tu_pump(p.c, p.s) == 0);

  uint64_t seq = p.c->wr.seq;
  produced = 7;
  CHECK("NULL connection: MUTLS_ERR",
        mutls_conn_write_into(NULL, d, 16, out, sizeof out, &produced) == MUTLS_ERR &&
            produced == 0);
  r = mutls_conn_write_into(p.c, d, 16, NULL, sizeof out, &produced);
  CHECKF("NULL out with room: MUTLS_ERR and a notice",
         r == MUTLS_ERR && produced == 0 &&
             strcmp(mutls_conn_notice(p.c),
                    "mutls_conn_write_into was given a NULL buffer of 256 bytes; nothing was "
                    "done") == 0,
         "returned %d, notice \"%s\"", r, mutls_conn_notice(p.c));
  CHECK("NULL produced, NULL buf with len: MUTLS_ERR",
        mutls_conn_write_into(p.c, d, 16, out, sizeof out, NULL) == MUTLS_ERR &&
            mutls_conn_write_into(p.c, NULL, 16, out, sizeof out, &produced) == MUTLS_ERR &&
            produced == 0);
  CHECK("NULL arguments: no sequence number used, nothing queued, no failure",
        p.c->wr.seq == seq && mutls_conn_pending(p.c) == 0 &&
            mutls_conn_error(p.c) == MUTLS_E_NONE);
  r = mutls_conn_write_into(p.c, NULL, 0, out, sizeof out, &produced);
  CHECK("len 0 with NULL buf and nothing queued: returns 0, produced 0", r == 0 && produced == 0);

  mutls_conn_close(p.c);
  size_t close_len = mutls_conn_pending(p.c);
  produced = 7;
  r = mutls_conn_write_into(p.c, d, 16, out, sizeof out, &produced);
  CHECKF("after close: MUTLS_ERR, the close_notify still queued, a notice",
         r == MUTLS_ERR && produced == 0 && close_len == 24 && mutls_conn_pending(p.c) == 24 &&
             mutls_conn_error(p.c) == MUTLS_E_NONE &&
             strcmp(mutls_conn_notice(p.c),
                    "mutls_conn_write_into was called after close; nothing was written") == 0,
         "returned %d, produced %zu, pending %zu, notice \"%s\"", r, produced,
         mutls_conn_pending(p.c), mutls_conn_notice(p.c));
  wire.off = wire.len = 0;
  queue_out(p.c);
  arrive(p.s, got, sizeof got);
  CHECK("after close: the peer gets the close_notify",
        mutls_conn_read(p.s, got, sizeof got) == MUTLS_CLOSED);
  tu_pair_free(&p);
}

/* A connection failed by the peer's forged record: MUTLS_ERR, nothing
 * written; the alert stays queued for mutls_conn_send. */
static void failed(void) {
  tu_pair p = connected();
  uint8_t d[16] = {4, 5, 6}, out[256];
  size_t produced = 0, used = 0;
  mutls_conn_write(p.s, d, 16);
  queue_out(p.s);
  wire.buf[wire.len - 1] ^= 1; /* the record's tag */
  int rc = mutls_conn_recv(p.c, wire.buf, wire.len, &used);
  size_t alert = mutls_conn_pending(p.c);
  produced = 7;
  int r = mutls_conn_write_into(p.c, d, 16, out, sizeof out, &produced);
  CHECKF("failed: MUTLS_ERR, nothing written, the alert left for mutls_conn_send",
         rc == MUTLS_ERR && r == MUTLS_ERR && produced == 0 &&
             mutls_conn_error(p.c) == MUTLS_E_BAD_RECORD_MAC && alert == 24 &&
             mutls_conn_pending(p.c) == alert,
         "recv %d, returned %d, produced %zu, error %s, pending %zu", rc, r, produced,
         mutls_error_name(mutls_conn_error(p.c)), alert);
  tu_pair_free(&p);
}

/* Sealing fails on the second record (the sequence number would wrap):
 * the first stays, whole, and is counted; nothing of the second is in out;
 * the connection fails. */
static void seal_failure(void) {
  tu_pair p = connected();
  mt_test_inject t = {0};
  t.key_update_after = UINT64_MAX; /* no KeyUpdate to rescue it */
  mt_test_inject_set(p.c, &t);
  p.c->wr.seq = UINT64_MAX - 1;
  static uint8_t out[40000];
  memset(out, 0xaa, sizeof out);
  uint8_t *d = pattern(20000, 8);
  size_t produced = 7;
  int r = mutls_conn_write_into(p.c, d, 20000, out, sizeof out, &produced);
  int untouched = 1;
  for (size_t i = 16384 + OVER; i < sizeof out && untouched; i++)
    untouched = out[i] == 0xaa;
  CHECKF("a failing second record: MUTLS_ERR, the first record counted, nothing after it",
         r == MUTLS_ERR && produced == 16384 + OVER && rec_len(out) == 16384 + 17 && untouched &&
             mutls_conn_error(p.c) == MUTLS_E_INTERNAL && p.c->wr.seq == UINT64_MAX,
         "returned %d, produced %zu, untouched %d, error %s", r, produced, untouched,
         mutls_error_name(mutls_conn_error(p.c)));
  produced = 7;
  CHECK("then: MUTLS_ERR, nothing written",
        mutls_conn_write_into(p.c, d, 10, out, sizeof out, &produced) == MUTLS_ERR &&
            produced == 0);
  free(d);
  tu_pair_free(&p);
}

int main(void) {
  tu_certs();
  round_trip();
  partial();
  tiny();
  queued_key_update();
  queue_too_big();
  automatic_key_update();
  interleaved();
  misuse();
  failed();
  seal_failure();
  return check_exit();
}
