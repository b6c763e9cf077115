/* auth.h - who the peer is (its verified identity) and whether our allow
 * rules accept it. */
#ifndef MUTLS_AUTH_H
#define MUTLS_AUTH_H

#include <stdint.h>

#include "crypto/crypto.h"
#include "mutls.h"

#define MT_MAX_SANS 64

typedef struct {
  mutls_san_type type;
  char *value;
} mt_san;

struct mutls_peer {
  mt_chain *chain; /* owned */
  /* The strings live in text, one allocation sized to them; none is NULL. */
  const char *subject, *issuer;
  const char *sans_line;
  mt_san *sans; /* n_sans entries, their values in text too */
  size_t n_sans;
  const char *spiffe; /* points into sans, or NULL */
  const char *fp, *spki_fp;
  int64_t not_before, not_after;
  const char *not_after_text;
  char *text;
  /* Sharing (the verified-chain cache, resumed sessions): a peer is
   * immutable once built. A share is a copy of the fields above whose
   * pointers (chain, sans, text) belong to base, which it holds a reference
   * to. These two stay last: a share copies everything before base. */
  mutls_peer *base; /* NULL: owns chain, sans and text */
  int refs;         /* atomic; owners of base and every share of it */
};

/* Builds the identity view of a chain, taking ownership of it (freed on
 * failure too). NULL when out of memory. */
mutls_peer *mt_peer_new(mt_chain *chain);
/* A new peer object with p's identity (another pointer, for another
 * connection or session), sharing p's chain and strings. NULL when out of
 * memory. Thread safe. */
mutls_peer *mt_peer_share(const mutls_peer *p);
void mt_peer_free(mutls_peer *p); /* the object, or one share; NULL ok */
/* "CN=x (URI:spiffe://a/b, DNS:c)": how sentences name a peer. */
void mt_peer_describe(const mutls_peer *p, char *out, size_t len);

typedef enum { RULE_URI, RULE_DNS, RULE_CN, RULE_OU, RULE_PIN, RULE_SPKI } mt_rule_kind;

typedef struct {
  mt_rule_kind kind;
  char *pattern; /* as given, after the "kind:" prefix; pins lowercased, colons dropped */
} mt_rule;

typedef struct {
  mt_rule *rules;
  size_t n;
} mt_policy;

/* Parses one rule, e.g. "uri:spiffe://example.org/api"; 0, or -1 with a
 * sentence in err. */
int mt_policy_add(mt_policy *p, const char *rule, char *err, size_t err_len);
void mt_policy_free(mt_policy *p);
/* 1 if the policy has no rules or one matches; else 0 and a sentence naming
 * the identity and the rules in why. */
int mt_policy_allows(const mt_policy *p, const mutls_peer *peer, char *why, size_t why_len);

#endif
