/* test_bytes.c - the writer of bytes.c that starts in the caller's buffer
 * and moves to the heap only when a message outgrows it. */
#include <string.h>

#include "bytes.h"
#include "common/check.h"

static int all(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

static void fits(void) {
  uint8_t stack[64];
  mt_writer w;
  mt_w_init_borrowed(&w, stack, sizeof stack, 1000);
  size_t t = mt_w_begin(&w, 2);
  mt_w_bytes(&w, "hello", 5);
  mt_w_end(&w, t, 2);
  CHECK("a message that fits stays in the caller's buffer",
        !mt_w_failed(&w) && w.buf == stack && w.len == 7 && memcmp(stack, "\0\5hello", 7) == 0);
  mt_w_free(&w);
  CHECK("freeing it wipes the caller's buffer", all(stack, sizeof stack, 0) && w.buf == NULL);
}

static void outgrows(void) {
  uint8_t stack[16], big[100];
  memset(big, 0x5a, sizeof big);
  mt_writer w;
  mt_w_init_borrowed(&w, stack, sizeof stack, 1000);
  mt_w_bytes(&w, big, 10);
  mt_w_bytes(&w, big, 90);
  CHECK("a message that outgrows it moves to the heap, bytes kept",
        !mt_w_failed(&w) && w.buf != stack && w.len == 100 && all(w.buf, 100, 0x5a));
  CHECK("the caller's buffer is wiped when left", all(stack, sizeof stack, 0));
  mt_w_free(&w); /* frees the heap copy (LeakSanitizer would tell) */
  mt_w_init_borrowed(&w, stack, sizeof stack, 50);
  mt_w_bytes(&w, big, 51);
  CHECK("the limit holds", mt_w_failed(&w));
  mt_w_free(&w);
  mt_w_init_borrowed(&w, stack, sizeof stack, 8);
  mt_w_bytes(&w, big, 9);
  CHECK("a limit below the buffer's size holds too", mt_w_failed(&w));
  mt_w_free(&w);
}

int main(void) {
  fits();
  outgrows();
  return check_exit();
}
