/* report.c - series of repetitions, and the two ways results are printed:
 * a table for people, one key=value line per row for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_ROWS 128

static bench_row rows[MAX_ROWS];
static int n_rows;

void bench_series_add(bench_series *s, double v) {
  if (s->n < BENCH_MAX_REPS) s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_series_median(const bench_series *s) {
  double tmp[BENCH_MAX_REPS];
  if (s->n == 0) return 0;
  memcpy(tmp, s->v, sizeof(double) * (size_t)s->n);
  qsort(tmp, (size_t)s->n, sizeof(double), cmp_double);
  return s->n % 2 ? tmp[s->n / 2] : (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

double bench_series_min(const bench_series *s) {
  double m = s->n ? s->v[0] : 0;
  for (int i = 1; i < s->n; i++)
    if (s->v[i] < m) m = s->v[i];
  return m;
}

double bench_series_max(const bench_series *s) {
  double m = s->n ? s->v[0] : 0;
  for (int i = 1; i < s->n; i++)
    if (s->v[i] > m) m = s->v[i];
  return m;
}

bench_row *bench_row_add(const char *scenario, const char *stat, const char *unit,
                         int higher_is_better) {
  if (n_rows == MAX_ROWS) {
    bench_fail("too many result rows");
    exit(2);
  }
  bench_row *r = &rows[n_rows++];
  memset(r, 0, sizeof *r);
  snprintf(r->scenario, sizeof r->scenario, "%s", scenario);
  snprintf(r->stat, sizeof r->stat, "%s", stat);
  r->unit = unit;
  r->higher_is_better = higher_is_better;
  return r;
}

/* mutls / openssl, one value per repetition where both ran. */
static bench_series ratios(const bench_row *r) {
  bench_series s = {.n = 0};
  for (int i = 0; i < r->mutls.n && i < r->openssl.n; i++)
    if (r->openssl.v[i] > 0) bench_series_add(&s, r->mutls.v[i] / r->openssl.v[i]);
  return s;
}

/* A library's median as a fraction of the floor: 1 is the floor itself. For
 * rates that is lib / floor, for costs floor / lib. Negative: none. */
static double floor_fraction(const bench_row *r, const bench_series *lib) {
  if (!lib->n || !r->floor.n) return -1;
  double l = bench_series_median(lib), f = bench_series_median(&r->floor);
  if (l <= 0 || f <= 0) return -1;
  return r->higher_is_better ? l / f : f / l;
}

static const char *fmt_of(const char *unit) {
  return strcmp(unit, "us") == 0 || strcmp(unit, "certs") == 0 ? "%.1f" : "%.0f";
}

static void fmt_num(char *out, size_t cap, const char *unit, double v) {
  snprintf(out, cap, fmt_of(unit), v);
}

/* "median [min..max]", or "n/a". */
static void fmt_cell(char *out, size_t cap, const char *unit, const bench_series *s) {
  char a[24], b[24], c[24];
  if (!s->n) {
    snprintf(out, cap, "n/a");
    return;
  }
  fmt_num(a, sizeof a, unit, bench_series_median(s));
  fmt_num(b, sizeof b, unit, bench_series_min(s));
  fmt_num(c, sizeof c, unit, bench_series_max(s));
  snprintf(out, cap, "%s [%s..%s]", a, b, c);
}

static void fmt_fraction(char *out, size_t cap, double f) {
  if (f < 0)
    snprintf(out, cap, "-");
  else
    snprintf(out, cap, "%.2f", f);
}

void bench_report_table(void) {
  printf("\n%-28s %-16s %-6s %-24s %-24s %-20s %-9s %-7s %-7s\n", "scenario", "stat", "unit",
         "mutls med [min..max]", "openssl med [min..max]", "mutls/openssl", "floor", "m/floor",
         "o/floor");
  for (int i = 0; i < n_rows; i++) {
    const bench_row *r = &rows[i];
    bench_series q = ratios(r);
    char m[80], o[80], rt[80], fl[32], fm[16], fo[16];
    fmt_cell(m, sizeof m, r->unit, &r->mutls);
    fmt_cell(o, sizeof o, r->unit, &r->openssl);
    if (q.n)
      snprintf(rt, sizeof rt, "%.2f [%.2f..%.2f]", bench_series_median(&q), bench_series_min(&q),
               bench_series_max(&q));
    else
      snprintf(rt, sizeof rt, "n/a");
    if (r->floor.n)
      fmt_num(fl, sizeof fl, r->unit, bench_series_median(&r->floor));
    else
      snprintf(fl, sizeof fl, "-");
    fmt_fraction(fm, sizeof fm, floor_fraction(r, &r->mutls));
    fmt_fraction(fo, sizeof fo, floor_fraction(r, &r->openssl));
    printf("%-28s %-16s %-6s %-24s %-24s %-20s %-9s %-7s %-7s\n", r->scenario, r->stat, r->unit, m,
           o, rt, fl, fm, fo);
  }
  printf("\nmutls/openssl is computed per repetition (median [min..max] of the ratios).\n"
         "For hs/s and MB/s higher is better; for us (CPU microseconds per handshake), allocs\n"
         "(allocations per handshake) and bytes lower is better. m/floor and o/floor: each "
         "library's median as a fraction of\n"
         "the crypto floor (1.00 = nothing but the public-key or AEAD operations).\n");
}

/* key=value: a number, or n/a. */
static void put_kv(const char *key, const char *unit, const bench_series *s, double v) {
  char num[32];
  if (!s->n) {
    printf(" %s=n/a", key);
    return;
  }
  fmt_num(num, sizeof num, unit, v);
  printf(" %s=%s", key, num);
}

void bench_report_lines(void) {
  printf("\n");
  for (int i = 0; i < n_rows; i++) {
    const bench_row *r = &rows[i];
    bench_series q = ratios(r);
    printf("bench scenario=%s stat=%s unit=%s", r->scenario, r->stat, r->unit);
    put_kv("mutls", r->unit, &r->mutls, bench_series_median(&r->mutls));
    put_kv("openssl", r->unit, &r->openssl, bench_series_median(&r->openssl));
    if (q.n)
      printf(" ratio=%.2f", bench_series_median(&q));
    else
      printf(" ratio=n/a");
    if (r->floor.n) {
      put_kv("floor", r->unit, &r->floor, bench_series_median(&r->floor));
      double fm = floor_fraction(r, &r->mutls), fo = floor_fraction(r, &r->openssl);
      if (fm >= 0) printf(" mutls_floor_fraction=%.2f", fm);
      if (fo >= 0) printf(" openssl_floor_fraction=%.2f", fo);
    }
    put_kv("mutls_min", r->unit, &r->mutls, bench_series_min(&r->mutls));
    put_kv("mutls_max", r->unit, &r->mutls, bench_series_max(&r->mutls));
    put_kv("openssl_min", r->unit, &r->openssl, bench_series_min(&r->openssl));
    put_kv("openssl_max", r->unit, &r->openssl, bench_series_max(&r->openssl));
    if (q.n) printf(" ratio_min=%.2f ratio_max=%.2f", bench_series_min(&q), bench_series_max(&q));
    printf(" reps=%d\n", r->mutls.n > r->openssl.n ? r->mutls.n : r->openssl.n);
  }
}
