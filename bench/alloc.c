/* alloc.c - counts heap allocations, for the allocations-per-handshake rows.
 *
 * malloc, calloc and realloc are replaced for the whole process (glibc's
 * manual allows it: "Replacing malloc") by thin wrappers around glibc's own
 * allocator, so that libcrypto, libssl and mutls are counted alike and
 * mallinfo2 still sees every byte. AddressSanitizer replaces them itself:
 * under it nothing is counted and the allocation rows are left out. */
#include <stddef.h>

#include "bench.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_NO_ALLOC_COUNT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_NO_ALLOC_COUNT 1
#endif
#endif

#ifdef BENCH_NO_ALLOC_COUNT
int bench_allocs_counted(void) {
  return 0;
}
unsigned long bench_allocs(void) {
  return 0;
}
#else
#define PUBLIC __attribute__((visibility("default")))

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* One thread does all the work; the counter needs no atomics. */
static unsigned long count;

PUBLIC void *malloc(size_t n) {
  count++;
  return __libc_malloc(n);
}

PUBLIC void *calloc(size_t n, size_t size) {
  count++;
  return __libc_calloc(n, size);
}

/* Growing a block is an allocation as far as cost goes; count every call. */
PUBLIC void *realloc(void *p, size_t n) {
  count++;
  return __libc_realloc(p, n);
}

PUBLIC void free(void *p) {
  __libc_free(p);
}

int bench_allocs_counted(void) {
  return 1;
}
unsigned long bench_allocs(void) {
  return count;
}
#endif
