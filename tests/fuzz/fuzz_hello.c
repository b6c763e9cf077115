/* fuzz_hello.c - the message decoders on their own: ClientHello,
 * ServerHello / HelloRetryRequest, and the extensions block of each kind of
 * message. Cheap, so it runs fast and goes deep into the framing.
 *
 * Input: a selector byte (modulo 4):
 *   0  mt_client_hello_decode(rest)
 *   1  mt_server_hello_decode(rest)
 *   2  mt_exts_parse(rest after a second byte that picks the message kind)
 *   3  mt_u16_list_check(rest, 1 or 2 by a second byte), mt_u16_list_has
 * The rest is copied to an exact-size buffer so ASan sees any over-read;
 * everything a decoder points at is read back. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void touch(const uint8_t *p, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  sink += s;
}

static void touch_exts(mt_exts *x) {
  for (size_t i = 0; i < x->n; i++) {
    touch(x->e[i].body.p, x->e[i].body.len);
    sink += mt_exts_find(x, x->e[i].type) == &x->e[i];
    sink += (unsigned)mt_ext_known(x->e[i].type);
    /* The shapes the state machines read first. */
    mt_reader b = x->e[i].body, l;
    if (mt_r_block(&b, 2, &l) == 0) sink += (unsigned)mt_u16_list_has(l, TLS13);
  }
}

static void client_hello(const uint8_t *p, size_t n) {
  mt_client_hello ch;
  if (mt_client_hello_decode(p, n, &ch) != 0) return;
  touch(ch.random, 32);
  touch(ch.session_id, ch.session_id_len);
  touch(ch.suites.p, ch.suites.len);
  touch(ch.compression.p, ch.compression.len);
  sink += (unsigned)mt_u16_list_has(ch.suites, TLS_AES_128_GCM_SHA256);
  touch_exts(&ch.exts);
}

static void server_hello(const uint8_t *p, size_t n) {
  mt_server_hello sh;
  if (mt_server_hello_decode(p, n, &sh) != 0) return;
  touch(sh.random, 32);
  touch(sh.session_id, sh.session_id_len);
  sink += sh.suite + sh.compression + (unsigned)sh.is_hrr;
  touch_exts(&sh.exts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  unsigned what = data[0] % 4, arg = data[1];
  size_t skip = what >= 2 ? 2 : 1, n = size - skip;
  uint8_t *p = malloc(n ? n : 1);
  if (!p) return 0;
  memcpy(p, data + skip, n);
  if (what == 0) {
    client_hello(p, n);
  } else if (what == 1) {
    server_hello(p, n);
  } else if (what == 2) {
    mt_reader r = mt_reader_init(p, n);
    mt_exts x;
    if (mt_exts_parse(&r, 1u << (arg % 7), &x) == 0) {
      touch_exts(&x);
      touch(r.p, r.len);
    }
  } else {
    mt_reader r = mt_reader_init(p, n);
    if (mt_u16_list_check(r, arg % 2 ? 2 : 1) == 0) sink += (unsigned)mt_u16_list_has(r, 0x1d);
  }
  free(p);
  return 0;
}
