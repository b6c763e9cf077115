/*
 * bytes.h - the one bounds-checked reader for untrusted bytes, and the
 * writer that fills in length prefixes itself.
 *
 * Every parser in mutls reads through mt_reader; nothing else does pointer
 * arithmetic on input. A reader never reads past its end: each getter
 * returns 0 on success and -1 (leaving the output untouched) when the bytes
 * run out.
 */
#ifndef MUTLS_BYTES_H
#define MUTLS_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define MT_MUST_CHECK __attribute__((warn_unused_result))

typedef struct {
  const uint8_t *p;
  size_t len;
} mt_reader;

static inline mt_reader mt_reader_init(const uint8_t *p, size_t len) {
  mt_reader r = {p, len};
  return r;
}
static inline size_t mt_r_left(const mt_reader *r) { return r->len; }

MT_MUST_CHECK int mt_r_u8(mt_reader *r, uint8_t *v);
MT_MUST_CHECK int mt_r_u16(mt_reader *r, uint16_t *v);
MT_MUST_CHECK int mt_r_u24(mt_reader *r, uint32_t *v);
/* Points *p at the next n bytes and skips them. */
MT_MUST_CHECK int mt_r_bytes(mt_reader *r, size_t n, const uint8_t **p);
MT_MUST_CHECK int mt_r_copy(mt_reader *r, void *out, size_t n);
/* Reads a length prefix of lenbytes (1, 2 or 3) and makes sub the block it
 * announces. */
MT_MUST_CHECK int mt_r_block(mt_reader *r, int lenbytes, mt_reader *sub);
/* 0 if every byte was consumed, else -1. */
MT_MUST_CHECK int mt_r_done(const mt_reader *r);

/*
 * Writer: a growable buffer (heap) or a fixed one (caller's memory). Errors
 * are sticky: after an overflow or allocation failure every call is a no-op
 * and mt_w_failed() says so, so a message is built with straight-line code
 * and checked once.
 */
typedef struct {
  uint8_t *buf;
  size_t len, cap;
  size_t limit; /* never grow beyond this */
  int fixed;    /* 1: buf belongs to the caller and never grows */
  int borrowed; /* 1: buf belongs to the caller until the writer outgrows it */
  int failed;
} mt_writer;

void mt_w_init(mt_writer *w, size_t limit);               /* growable */
void mt_w_init_fixed(mt_writer *w, uint8_t *buf, size_t cap);
/* Growable up to limit, starting in the caller's buf (cap bytes, usually on
 * the stack): a message that fits allocates nothing; one that does not moves
 * to the heap. mt_w_free wipes buf either way. */
void mt_w_init_borrowed(mt_writer *w, uint8_t *buf, size_t cap, size_t limit);
void mt_w_free(mt_writer *w); /* wipes and frees a growable buffer */
void mt_w_reset(mt_writer *w); /* len = 0, failed = 0, keeps the buffer */
/* Wipes and frees a growable buffer and empties the writer, which stays
 * usable (its limit kept): the buffer comes back when next written. */
void mt_w_release(mt_writer *w);
/* The same without the wipe, for a buffer that only ever holds what the
 * network sees anyway (ciphertext and unprotected records). */
void mt_w_drop(mt_writer *w);
static inline int mt_w_failed(const mt_writer *w) { return w->failed; }
/* Makes room for n more bytes and returns where they go (NULL on failure);
 * the caller writes them and they count as written. */
uint8_t *mt_w_space(mt_writer *w, size_t n);
void mt_w_u8(mt_writer *w, uint8_t v);
void mt_w_u16(mt_writer *w, uint16_t v);
void mt_w_u24(mt_writer *w, uint32_t v);
void mt_w_bytes(mt_writer *w, const void *p, size_t n);
/* Opens a block with a lenbytes-long length prefix; returns a token for
 * mt_w_end, which writes the length of what was written in between. */
size_t mt_w_begin(mt_writer *w, int lenbytes);
void mt_w_end(mt_writer *w, size_t token, int lenbytes);

/* Wipes memory in a way the compiler cannot drop. */
void mt_wipe(void *p, size_t n);
/* Lowercase hex of in into out (2*n + 1 bytes). */
void mt_hex(const uint8_t *in, size_t n, char *out);
/* Constant-time comparison: 0 if equal. */
int mt_ct_memcmp(const void *a, const void *b, size_t n);

#endif
