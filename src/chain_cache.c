/* chain_cache.c - verified peer chains, kept in the config: the same clients
 * reconnect all day, and parsing and verifying their certificates is most of
 * what a handshake costs beyond its public-key operations.
 *
 * An entry is keyed by the SHA-256 of the purpose and of every certificate's
 * DER, in order (so, within one config, by the trust store too: a config
 * verifies servers with one store and clients with the other, never both
 * with one). It holds the peer's identity, built once (immutable, shared by
 * reference), and what its full verification established: the span of time
 * in which every certificate of the verified path and every loaded CRL is
 * current, which CRL set it was checked against, and the settings that
 * decided it. A hit re-checks, every time:
 *   - the time (the verification time of the connection) against that span;
 *   - the CRL set: a set loaded since (mutls_config_reload_crls) means a full
 *     verification, of the already-parsed chain;
 *   - the revocation settings and the weak-key test switch;
 *   - the name, for a client: the entry may have been verified for another.
 * Anything that does not hold falls back to the full verification, which
 * gives the exact outcome and sentence. The allow rules are not cached: they
 * run on every handshake, after CertificateVerify.
 * Entries hold certificates and names, no secrets. The cache is bounded (LRU)
 * and shared by every thread using the config (one mutex). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define NIL UINT32_MAX

/* What a successful full verification established, besides the peer. */
typedef struct {
  int64_t from, until; /* [from, until): every certificate and CRL current */
  uint64_t crl_gen;    /* the config's CRL set it was checked against */
  int whole_chain, soft_fail, weak_keys;
} record;

typedef struct {
  uint8_t key[32];
  mutls_peer *peer; /* a share owned by the entry; NULL: a free slot */
  record rec;
  uint32_t prev, next; /* LRU list (most recent first), or the free list */
  uint32_t hnext;      /* bucket chain */
} entry;

struct mt_chain_cache {
  pthread_mutex_t lock;
  uint32_t max, n, nb; /* entries at most, in use; buckets (a power of 2) */
  entry *e;            /* max slots, allocated at the first insertion */
  uint32_t *bucket;
  uint32_t head, tail, free_slot;
  mt_certcache *certs;                             /* certificates parsed on misses */
  unsigned long hits, misses, reverified, evicted; /* atomic */
};

mt_chain_cache *mt_chain_cache_new(unsigned max) {
  if (max == 0) return NULL;
  mt_chain_cache *cc = calloc(1, sizeof *cc);
  if (!cc) return NULL;
  cc->max = max;
  for (cc->nb = 1; cc->nb < max; cc->nb <<= 1) {
  }
  cc->head = cc->tail = cc->free_slot = NIL;
  pthread_mutex_init(&cc->lock, NULL);
  return cc;
}

void mt_chain_cache_free(mt_chain_cache *cc) {
  if (!cc) return;
  for (uint32_t i = 0; cc->e && i < cc->max; i++)
    mt_peer_free(cc->e[i].peer);
  free(cc->e);
  free(cc->bucket);
  mt_certcache_free(cc->certs);
  pthread_mutex_destroy(&cc->lock);
  free(cc);
}

/* Under the lock: the tables, made on first use (a config that never
 * verifies a peer never pays for them). */
static int tables(mt_chain_cache *cc) {
  if (cc->e) return 0;
  entry *e = calloc(cc->max, sizeof *e);
  uint32_t *b = malloc((size_t)cc->nb * sizeof *b);
  mt_certcache *certs = mt_certcache_new((size_t)cc->max * 2);
  if (!e || !b || !certs) {
    free(e);
    free(b);
    mt_certcache_free(certs);
    return -1;
  }
  for (uint32_t i = 0; i < cc->nb; i++)
    b[i] = NIL;
  for (uint32_t i = 0; i < cc->max; i++)
    e[i].next = i + 1 < cc->max ? i + 1 : NIL;
  cc->e = e;
  cc->bucket = b;
  cc->certs = certs;
  cc->free_slot = 0;
  return 0;
}

static uint32_t bucket_of(const mt_chain_cache *cc, const uint8_t key[32]) {
  uint32_t v;
  memcpy(&v, key, sizeof v);
  return v & (cc->nb - 1);
}

static uint32_t find(const mt_chain_cache *cc, const uint8_t key[32]) {
  if (!cc->e) return NIL;
  uint32_t i = cc->bucket[bucket_of(cc, key)];
  while (i != NIL && memcmp(cc->e[i].key, key, 32) != 0)
    i = cc->e[i].hnext;
  return i;
}

static void lru_unlink(mt_chain_cache *cc, uint32_t i) {
  entry *x = &cc->e[i];
  if (x->prev != NIL)
    cc->e[x->prev].next = x->next;
  else
    cc->head = x->next;
  if (x->next != NIL)
    cc->e[x->next].prev = x->prev;
  else
    cc->tail = x->prev;
}

static void lru_front(mt_chain_cache *cc, uint32_t i) {
  entry *x = &cc->e[i];
  x->prev = NIL;
  x->next = cc->head;
  if (cc->head != NIL) cc->e[cc->head].prev = i;
  cc->head = i;
  if (cc->tail == NIL) cc->tail = i;
}

/* Takes entry i out (its peer is returned for freeing outside the lock). */
static mutls_peer *drop(mt_chain_cache *cc, uint32_t i) {
  entry *x = &cc->e[i];
  uint32_t *link = &cc->bucket[bucket_of(cc, x->key)];
  while (*link != i)
    link = &cc->e[*link].hnext;
  *link = x->hnext;
  lru_unlink(cc, i);
  mutls_peer *p = x->peer;
  memset(x, 0, sizeof *x);
  x->next = cc->free_slot;
  cc->free_slot = i;
  cc->n--;
  return p;
}

static void count(unsigned long *c) {
  __atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* A share of the cached peer for key (and its record), or NULL. */
static mutls_peer *get(mt_chain_cache *cc, const uint8_t key[32], record *rec) {
  mutls_peer *p = NULL;
  pthread_mutex_lock(&cc->lock);
  uint32_t i = find(cc, key);
  if (i != NIL && (p = mt_peer_share(cc->e[i].peer)) != NULL) {
    *rec = cc->e[i].rec;
    lru_unlink(cc, i);
    lru_front(cc, i);
  }
  pthread_mutex_unlock(&cc->lock);
  return p;
}

/* Caches peer (a share is taken) with rec under key, replacing any entry
 * for key and evicting the least recently used one when full. */
static void put(mt_chain_cache *cc, const uint8_t key[32], const mutls_peer *peer,
                const record *rec) {
  mutls_peer *share = mt_peer_share(peer), *old = NULL;
  if (!share) return;
  pthread_mutex_lock(&cc->lock);
  if (tables(cc) != 0) {
    pthread_mutex_unlock(&cc->lock);
    mt_peer_free(share);
    return;
  }
  uint32_t i = find(cc, key);
  if (i != NIL) {
    old = drop(cc, i);
  } else if (cc->n == cc->max) {
    old = drop(cc, cc->tail);
    count(&cc->evicted);
  }
  i = cc->free_slot;
  entry *x = &cc->e[i];
  cc->free_slot = x->next;
  memcpy(x->key, key, 32);
  x->peer = share;
  x->rec = *rec;
  uint32_t b = bucket_of(cc, key);
  x->hnext = cc->bucket[b];
  cc->bucket[b] = i;
  lru_front(cc, i);
  cc->n++;
  pthread_mutex_unlock(&cc->lock);
  mt_peer_free(old);
}

static void forget(mt_chain_cache *cc, const uint8_t key[32]) {
  mutls_peer *old = NULL;
  pthread_mutex_lock(&cc->lock);
  uint32_t i = find(cc, key);
  if (i != NIL) old = drop(cc, i);
  pthread_mutex_unlock(&cc->lock);
  mt_peer_free(old);
}

static mt_certcache *certs_of(mt_chain_cache *cc) {
  pthread_mutex_lock(&cc->lock);
  (void)tables(cc); /* on failure certs stays NULL: parse without it */
  mt_certcache *certs = cc->certs;
  pthread_mutex_unlock(&cc->lock);
  return certs; /* lives as long as the cache */
}

/* ---- keys and what a hit must match ----------------------------------------- */

/* hash[i] = SHA-256(der[i]); key = SHA-256(purpose, n, hash[0..n-1]). The
 * per-certificate hashes also key the parsed-certificate cache. */
static int chain_key(mt_purpose purpose, const uint8_t *const *der, const size_t *der_len, size_t n,
                     uint8_t (*hash)[32], uint8_t key[32]) {
  uint8_t buf[2 + 32 * MT_MAX_CHAIN];
  if (n == 0 || n > MT_MAX_CHAIN) return -1;
  buf[0] = (uint8_t)purpose;
  buf[1] = (uint8_t)n;
  for (size_t i = 0; i < n; i++) {
    if (mt_hash(MT_SHA256, der[i], der_len[i], hash[i]) != 0) return -1;
    memcpy(buf + 2 + 32 * i, hash[i], 32);
  }
  return mt_hash(MT_SHA256, buf, 2 + 32 * n, key);
}

static mt_purpose purpose_of(const mutls_conn *c) {
  return c->is_server ? MT_PURPOSE_CLIENT : MT_PURPOSE_SERVER;
}

static const char *name_of(const mutls_conn *c) {
  return !c->is_server ? c->server_name : NULL;
}

/* The record a verification for c made now would have, but for its span. */
static void current(mutls_conn *c, record *r) {
  mutls_config *cfg = c->cfg;
  memset(r, 0, sizeof *r);
  pthread_mutex_lock(&cfg->lock);
  r->crl_gen = cfg->crl_gen;
  pthread_mutex_unlock(&cfg->lock);
  r->whole_chain = cfg->crl_whole_chain;
  r->soft_fail = cfg->crl_soft_fail;
  r->weak_keys = mt_crypto_weak_keys_allowed();
}

static int64_t now_of(const mutls_conn *c) {
  return c->test->verify_time ? (int64_t)c->test->verify_time : (int64_t)time(NULL);
}

/* 1 if a cached outcome still stands for c, now. */
static int still_good(mutls_conn *c, const record *rec, const mt_chain *chain) {
  record cur;
  current(c, &cur);
  int64_t now = now_of(c);
  return rec->crl_gen == cur.crl_gen && rec->whole_chain == cur.whole_chain &&
         rec->soft_fail == cur.soft_fail && rec->weak_keys == cur.weak_keys && rec->from <= now &&
         now < rec->until && mt_chain_leaf_name_matches(chain, name_of(c));
}

/* Full verification for c; on success fills rec (0 if its span is unknown:
 * then it is not to be cached). */
static mt_verify_code verify_full(mutls_conn *c, const mt_chain *chain, record *rec, int *cacheable,
                                  char *why, size_t len) {
  mt_verified w;
  uint64_t gen = 0;
  mt_verify_code v = mt_verify_peer_chain_window(c, chain, &w, &gen, why, len);
  current(c, rec);
  rec->crl_gen = gen; /* the set verified against, not one loaded since */
  rec->from = w.from;
  rec->until = w.until;
  *cacheable = v == MT_VERIFY_OK && w.valid;
  return v;
}

static int cache_on(const mutls_conn *c) {
  return c->cfg->vcache && (c->is_server || c->cfg->verify_peer);
}

/* ---- the handshake's calls ------------------------------------------------------- */

int mt_peer_from_der(mutls_conn *c, const uint8_t *const *der, const size_t *der_len, size_t n,
                     mutls_peer **out, char *why, size_t len) {
  mt_chain_cache *cc = cache_on(c) ? c->cfg->vcache : NULL;
  uint8_t hash[MT_MAX_CHAIN][32], key[32];
  record rec;
  int cacheable = 0;
  *out = NULL;
  if (cc && chain_key(purpose_of(c), der, der_len, n, hash, key) != 0) cc = NULL;
  if (cc) {
    mutls_peer *hit = get(cc, key, &rec);
    if (hit && still_good(c, &rec, hit->chain)) {
      count(&cc->hits);
      *out = hit;
      return MT_VERIFY_OK;
    }
    if (hit) {
      /* Something may have changed (time, CRLs, name): verify again in
       * full, without parsing again. */
      count(&cc->reverified);
      mt_verify_code v = verify_full(c, hit->chain, &rec, &cacheable, why, len);
      if (cacheable)
        put(cc, key, hit, &rec);
      else if (v != MT_VERIFY_NAME_MISMATCH) /* only this name is refused */
        forget(cc, key);
      if (v != MT_VERIFY_OK) {
        mt_peer_free(hit);
        return v;
      }
      *out = hit;
      return MT_VERIFY_OK;
    }
    count(&cc->misses);
  }
  mt_chain *chain = mt_chain_from_der_cached(cc ? certs_of(cc) : NULL, cc ? hash : NULL, der,
                                             der_len, n, why, len);
  if (!chain) return MT_PEER_BAD_DER;
  mt_verify_code v = verify_full(c, chain, &rec, &cacheable, why, len);
  if (v != MT_VERIFY_OK) {
    mt_chain_free(chain);
    return v;
  }
  mutls_peer *peer = mt_peer_new(chain);
  if (!peer) return MT_PEER_NOMEM;
  if (cc && cacheable) put(cc, key, peer, &rec);
  *out = peer;
  return MT_VERIFY_OK;
}

int mt_peer_from_list(mutls_conn *c, mt_reader list, mutls_peer **out, char *why, size_t len) {
  const uint8_t *der[MT_MAX_CHAIN];
  size_t der_len[MT_MAX_CHAIN], n = 0;
  mt_reader cert;
  *out = NULL;
  while (mt_r_left(&list) > 0) {
    if (n == MT_MAX_CHAIN || mt_r_block(&list, 3, &cert) != 0 || cert.len == 0) {
      snprintf(why, len, "the stored chain is malformed");
      return MT_PEER_BAD_DER;
    }
    der[n] = cert.p;
    der_len[n++] = cert.len;
  }
  if (n == 0) {
    snprintf(why, len, "the stored chain holds no certificate");
    return MT_PEER_BAD_DER;
  }
  int v = mt_peer_from_der(c, der, der_len, n, out, why, len);
  if (v == MT_PEER_NOMEM) snprintf(why, len, "out of memory");
  return v;
}

void mt_chain_cache_stats(const mutls_config *cfg, mt_chain_cache_stats_t *st) {
  mt_chain_cache *cc = cfg ? cfg->vcache : NULL;
  memset(st, 0, sizeof *st);
  if (!cc) return;
  pthread_mutex_lock(&cc->lock);
  st->entries = cc->n;
  st->max = cc->max;
  pthread_mutex_unlock(&cc->lock);
  st->hits = __atomic_load_n(&cc->hits, __ATOMIC_RELAXED);
  st->misses = __atomic_load_n(&cc->misses, __ATOMIC_RELAXED);
  st->reverified = __atomic_load_n(&cc->reverified, __ATOMIC_RELAXED);
  st->evicted = __atomic_load_n(&cc->evicted, __ATOMIC_RELAXED);
}
