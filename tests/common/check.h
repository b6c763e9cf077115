/*
 * check.h - the assertion protocol of every C test in tests/.
 *
 * Each check prints one line, "PASS <name>" or "FAIL <name>: <why>", and
 * tests/run.sh counts those lines. A test program exits with
 * check_exit(), non-zero if any check failed.
 */
#ifndef MUTLS_TEST_CHECK_H
#define MUTLS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures_;

#define CHECK(name, cond)                                                                   \
  do {                                                                                      \
    if (cond) {                                                                             \
      printf("PASS %s\n", (name));                                                          \
    } else {                                                                                \
      printf("FAIL %s: %s (%s:%d)\n", (name), #cond, __FILE__, __LINE__);                   \
      check_failures_++;                                                                    \
    }                                                                                       \
    fflush(stdout);                                                                         \
  } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(name, cond, ...)                                                             \
  do {                                                                                      \
    if (cond) {                                                                             \
      printf("PASS %s\n", (name));                                                          \
    } else {                                                                                \
      printf("FAIL %s: ", (name));                                                          \
      printf(__VA_ARGS__);                                                                  \
      printf(" (%s:%d)\n", __FILE__, __LINE__);                                             \
      check_failures_++;                                                                    \
    }                                                                                       \
    fflush(stdout);                                                                         \
  } while (0)

static inline int check_exit(void) { return check_failures_ ? 1 : 0; }

#endif
