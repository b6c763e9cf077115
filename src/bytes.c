/* bytes.c - the bounds-checked reader and the length-prefixing writer. */
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

int mt_r_u8(mt_reader *r, uint8_t *v) {
  if (r->len < 1) return -1;
  *v = r->p[0];
  r->p++;
  r->len--;
  return 0;
}

int mt_r_u16(mt_reader *r, uint16_t *v) {
  if (r->len < 2) return -1;
  *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
  r->p += 2;
  r->len -= 2;
  return 0;
}

int mt_r_u24(mt_reader *r, uint32_t *v) {
  if (r->len < 3) return -1;
  *v = ((uint32_t)r->p[0] << 16) | ((uint32_t)r->p[1] << 8) | r->p[2];
  r->p += 3;
  r->len -= 3;
  return 0;
}

int mt_r_bytes(mt_reader *r, size_t n, const uint8_t **p) {
  if (r->len < n) return -1;
  *p = r->p;
  r->p += n;
  r->len -= n;
  return 0;
}

int mt_r_copy(mt_reader *r, void *out, size_t n) {
  const uint8_t *p;
  if (mt_r_bytes(r, n, &p) != 0) return -1;
  if (n) memcpy(out, p, n);
  return 0;
}

int mt_r_block(mt_reader *r, int lenbytes, mt_reader *sub) {
  mt_reader save = *r;
  size_t n;
  uint8_t u8;
  uint16_t u16;
  uint32_t u24;
  int rc;
  switch (lenbytes) {
  case 1: rc = mt_r_u8(r, &u8); n = u8; break;
  case 2: rc = mt_r_u16(r, &u16); n = u16; break;
  case 3: rc = mt_r_u24(r, &u24); n = u24; break;
  default: return -1;
  }
  const uint8_t *p;
  if (rc != 0 || mt_r_bytes(r, n, &p) != 0) {
    *r = save;
    return -1;
  }
  sub->p = p;
  sub->len = n;
  return 0;
}

int mt_r_done(const mt_reader *r) { return r->len == 0 ? 0 : -1; }

void mt_w_init(mt_writer *w, size_t limit) {
  memset(w, 0, sizeof *w);
  w->limit = limit;
}

void mt_w_init_fixed(mt_writer *w, uint8_t *buf, size_t cap) {
  memset(w, 0, sizeof *w);
  w->buf = buf;
  w->cap = cap;
  w->limit = cap;
  w->fixed = 1;
}

void mt_w_init_borrowed(mt_writer *w, uint8_t *buf, size_t cap, size_t limit) {
  memset(w, 0, sizeof *w);
  w->buf = buf;
  w->cap = cap < limit ? cap : limit;
  w->limit = limit;
  w->borrowed = 1;
}

void mt_w_free(mt_writer *w) {
  if (!w->fixed && w->buf) {
    mt_wipe(w->buf, w->cap);
    if (!w->borrowed) free(w->buf);
  }
  memset(w, 0, sizeof *w);
}

void mt_w_drop(mt_writer *w) {
  if (w->fixed) return;
  free(w->buf);
  w->buf = NULL;
  w->len = w->cap = 0;
  w->failed = 0;
}

void mt_w_release(mt_writer *w) {
  if (!w->fixed) mt_wipe(w->buf, w->cap);
  mt_w_drop(w);
}

void mt_w_reset(mt_writer *w) {
  w->len = 0;
  w->failed = 0;
}

uint8_t *mt_w_space(mt_writer *w, size_t n) {
  if (w->failed) return NULL;
  if (n > w->limit - w->len || w->len > w->limit) {
    w->failed = 1;
    return NULL;
  }
  if (w->len + n > w->cap) {
    if (w->fixed) {
      w->failed = 1;
      return NULL;
    }
    size_t ncap = w->cap ? w->cap : 256;
    while (ncap < w->len + n) ncap *= 2;
    if (ncap > w->limit) ncap = w->limit;
    /* Grow by copy so that the old bytes can be wiped: buffers hold
     * handshake secrets and plaintext. */
    uint8_t *nb = malloc(ncap);
    if (!nb) {
      w->failed = 1;
      return NULL;
    }
    if (w->buf) {
      memcpy(nb, w->buf, w->len);
      mt_wipe(w->buf, w->cap);
      if (!w->borrowed) free(w->buf);
    }
    w->buf = nb;
    w->cap = ncap;
    w->borrowed = 0;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

void mt_w_u8(mt_writer *w, uint8_t v) {
  uint8_t *p = mt_w_space(w, 1);
  if (p) p[0] = v;
}

void mt_w_u16(mt_writer *w, uint16_t v) {
  uint8_t *p = mt_w_space(w, 2);
  if (p) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
  }
}

void mt_w_u24(mt_writer *w, uint32_t v) {
  uint8_t *p = mt_w_space(w, 3);
  if (p) {
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
  }
}

void mt_w_bytes(mt_writer *w, const void *src, size_t n) {
  uint8_t *p = mt_w_space(w, n);
  if (p && n) memcpy(p, src, n);
}

size_t mt_w_begin(mt_writer *w, int lenbytes) {
  size_t at = w->len;
  (void)mt_w_space(w, (size_t)lenbytes);
  return at;
}

void mt_w_end(mt_writer *w, size_t token, int lenbytes) {
  if (w->failed) return;
  size_t n = w->len - token - (size_t)lenbytes;
  size_t max = lenbytes == 1 ? 0xff : lenbytes == 2 ? 0xffff : 0xffffff;
  if (n > max) {
    w->failed = 1;
    return;
  }
  uint8_t *p = w->buf + token;
  for (int i = lenbytes - 1; i >= 0; i--) {
    p[i] = (uint8_t)n;
    n >>= 8;
  }
}

void mt_wipe(void *p, size_t n) {
  if (p && n) explicit_bzero(p, n);
}

void mt_hex(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

int mt_ct_memcmp(const void *a, const void *b, size_t n) {
  const volatile uint8_t *x = a, *y = b;
  uint8_t d = 0;
  for (size_t i = 0; i < n; i++) d |= (uint8_t)(x[i] ^ y[i]);
  return d != 0;
}
