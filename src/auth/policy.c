/* policy.c - allow rules for the verified peer: one syntax for the library
 * and the CLI, rules OR-ed, checked during the handshake. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"

static const struct {
  const char *prefix;
  mt_rule_kind kind;
} kinds[] = {
    {"uri:", RULE_URI}, {"dns:", RULE_DNS}, {"cn:", RULE_CN},
    {"ou:", RULE_OU},   {"pin:", RULE_PIN}, {"spki:", RULE_SPKI},
};

/* Pins: 64 hex digits, colons allowed between bytes; stored lowercase. */
static char *parse_pin(const char *s) {
  char *out = malloc(65);
  size_t n = 0;
  if (!out) return NULL;
  for (; *s; s++) {
    if (*s == ':') continue;
    if (!isxdigit((unsigned char)*s) || n == 64) {
      free(out);
      return NULL;
    }
    out[n++] = (char)tolower((unsigned char)*s);
  }
  out[n] = 0;
  if (n != 64) {
    free(out);
    return NULL;
  }
  return out;
}

/* A star may only end a URI pattern (after a slash) or start a DNS one
 * (before a dot). */
static int pattern_ok(mt_rule_kind kind, const char *v) {
  const char *star = strchr(v, '*');
  size_t n = strlen(v);
  if (!*v) return 0;
  if (!star) return 1;
  if (kind == RULE_URI) return star == v + n - 1 && n >= 2 && v[n - 2] == '/';
  if (kind == RULE_DNS) return star == v && v[1] == '.' && v[2] && !strchr(v + 1, '*');
  return 1; /* cn:/ou: match literally */
}

int mt_policy_add(mt_policy *p, const char *rule, char *err, size_t err_len) {
  for (size_t k = 0; rule && k < sizeof kinds / sizeof kinds[0]; k++) {
    size_t plen = strlen(kinds[k].prefix);
    if (strncasecmp(rule, kinds[k].prefix, plen) != 0) continue;
    const char *v = rule + plen;
    mt_rule_kind kind = kinds[k].kind;
    char *pat = kind == RULE_PIN || kind == RULE_SPKI ? parse_pin(v) : strdup(v);
    if (!pat || (kind != RULE_PIN && kind != RULE_SPKI && !pattern_ok(kind, v))) {
      free(pat);
      snprintf(err, err_len,
               "the allow rule \"%s\" is malformed: %s", rule,
               kind == RULE_PIN || kind == RULE_SPKI
                   ? "a pin is 64 hex digits (a SHA-256), colons allowed"
                   : "a '*' may only end a uri: pattern as \"/*\" or start a dns: pattern as "
                     "\"*.\", and the pattern may not be empty");
      return -1;
    }
    mt_rule *r = realloc(p->rules, (p->n + 1) * sizeof *r);
    if (!r) {
      free(pat);
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    p->rules = r;
    r[p->n].kind = kind;
    r[p->n++].pattern = pat;
    return 0;
  }
  snprintf(err, err_len,
           "unknown allow rule \"%s\"; rules start with uri:, dns:, cn:, ou:, pin: or spki:",
           rule ? rule : "(null)");
  return -1;
}

void mt_policy_free(mt_policy *p) {
  for (size_t i = 0; i < p->n; i++) free(p->rules[i].pattern);
  free(p->rules);
  p->rules = NULL;
  p->n = 0;
}

static int uri_matches(const char *pat, const char *v) {
  size_t n = strlen(pat);
  if (pat[n - 1] == '*') /* a prefix pattern: something must follow it */
    return strncmp(v, pat, n - 1) == 0 && v[n - 1] != 0;
  return strcmp(pat, v) == 0;
}

static int dns_matches(const char *pat, const char *v) {
  if (pat[0] == '*') { /* "*.example.org": exactly one label more */
    const char *dot = strchr(v, '.');
    return dot && dot != v && strcasecmp(dot, pat + 1) == 0;
  }
  return strcasecmp(pat, v) == 0;
}

static int any_san(const mutls_peer *peer, mutls_san_type type, const char *pat,
                   int (*match)(const char *, const char *)) {
  for (size_t i = 0; i < peer->n_sans; i++)
    if (peer->sans[i].type == type && match(pat, peer->sans[i].value)) return 1;
  return 0;
}

static int any_attr(const mutls_peer *peer, const char *attr, const char *pat) {
  char v[256];
  for (size_t i = 0; mt_chain_leaf_attr(peer->chain, attr, i, v, sizeof v) == 0; i++)
    if (strcmp(v, pat) == 0) return 1;
  return 0;
}

static int rule_matches(const mt_rule *r, const mutls_peer *peer) {
  switch (r->kind) {
  case RULE_URI: return any_san(peer, MUTLS_SAN_URI, r->pattern, uri_matches);
  case RULE_DNS: return any_san(peer, MUTLS_SAN_DNS, r->pattern, dns_matches);
  case RULE_CN: return any_attr(peer, "CN", r->pattern);
  case RULE_OU: return any_attr(peer, "OU", r->pattern);
  case RULE_PIN: return strcmp(r->pattern, peer->fp) == 0;
  case RULE_SPKI: return strcmp(r->pattern, peer->spki_fp) == 0;
  }
  return 0;
}

int mt_policy_allows(const mt_policy *p, const mutls_peer *peer, char *why, size_t why_len) {
  static const char *names[] = {"uri", "dns", "cn", "ou", "pin", "spki"};
  if (p->n == 0) return 1;
  for (size_t i = 0; i < p->n; i++)
    if (rule_matches(&p->rules[i], peer)) return 1;
  char who[1200], rules[600] = "";
  size_t used = 0;
  mt_peer_describe(peer, who, sizeof who);
  for (size_t i = 0; i < p->n && used < sizeof rules; i++) {
    int n = snprintf(rules + used, sizeof rules - used, "%s%s:%s", i ? ", " : "",
                     names[p->rules[i].kind], p->rules[i].pattern);
    if (n < 0) break;
    used += (size_t)n;
  }
  snprintf(why, why_len,
           "the peer %s is not allowed: it matches none of the %zu allow rule%s (%s); allow it "
           "with a rule that matches it, or issue it a certificate that one of these matches",
           who, p->n, p->n == 1 ? "" : "s", rules);
  return 0;
}
