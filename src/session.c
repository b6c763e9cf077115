/* session.c - the client's side of resumption (RFC 8446 4.6.1, 4.2.11):
 * sessions from NewSessionTicket, kept per server name, offered once with a
 * binder, and carried across processes in a serialized form. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "msg/msg.h"

#define SESSION_VERSION 1
#define MAX_TICKET_LIFETIME 604800 /* 4.6.1: seven days */

struct mt_session {
  char name[256];
  uint16_t suite;
  uint8_t psk[MT_MAX_HASH];
  size_t psk_len;
  uint8_t *ticket;
  size_t ticket_len;
  uint32_t lifetime, age_add;
  int64_t received_ms;
  uint8_t *chain; /* the server's chain: certificates, each u24-prefixed */
  size_t chain_len;
  /* The server's identity as verified, shared (not parsed again for every
   * resumption); a session read from a blob has it verified when it is set. */
  mutls_peer *peer;
};

struct mt_session_cache {
  pthread_mutex_t lock;
  mt_session **s;
  size_t n, max;
};

void mt_session_free(mt_session *s) {
  if (!s) return;
  free(s->ticket);
  free(s->chain);
  mt_peer_free(s->peer);
  mt_wipe(s, sizeof *s);
  free(s);
}

mt_session_cache *mt_session_cache_new(unsigned max) {
  mt_session_cache *sc = calloc(1, sizeof *sc);
  if (!sc || !(sc->s = calloc(max ? max : 1, sizeof *sc->s))) {
    free(sc);
    return NULL;
  }
  sc->max = max;
  pthread_mutex_init(&sc->lock, NULL);
  return sc;
}

void mt_session_cache_free(mt_session_cache *sc) {
  if (!sc) return;
  for (size_t i = 0; i < sc->n; i++) mt_session_free(sc->s[i]);
  free(sc->s);
  pthread_mutex_destroy(&sc->lock);
  free(sc);
}

static int expired(const mt_session *s) {
  /* received_ms may come from a blob (mutls_conn_set_session): a negative
   * one would overflow the subtraction, here and in the ticket age. */
  return s->received_ms < 0 || mt_now_ms() - s->received_ms > (int64_t)s->lifetime * 1000;
}

/* Keeps the newest session per name; the oldest name goes when full. */
static void cache_put(mt_session_cache *sc, mt_session *s) {
  pthread_mutex_lock(&sc->lock);
  for (size_t i = 0; i < sc->n; i++) {
    if (strcmp(sc->s[i]->name, s->name) == 0) {
      mt_session_free(sc->s[i]);
      memmove(&sc->s[i], &sc->s[i + 1], (sc->n - i - 1) * sizeof *sc->s);
      sc->n--;
      break;
    }
  }
  if (sc->n == sc->max && sc->n) {
    mt_session_free(sc->s[0]);
    memmove(&sc->s[0], &sc->s[1], (sc->n - 1) * sizeof *sc->s);
    sc->n--;
  }
  if (sc->n < sc->max)
    sc->s[sc->n++] = s;
  else
    mt_session_free(s);
  pthread_mutex_unlock(&sc->lock);
}

/* Takes the session for name out of the cache: a ticket is offered once. */
static mt_session *cache_take(mt_session_cache *sc, const char *name) {
  mt_session *found = NULL;
  pthread_mutex_lock(&sc->lock);
  for (size_t i = 0; i < sc->n && !found; i++) {
    if (strcmp(sc->s[i]->name, name) != 0) continue;
    found = sc->s[i];
    memmove(&sc->s[i], &sc->s[i + 1], (sc->n - i - 1) * sizeof *sc->s);
    sc->n--;
  }
  pthread_mutex_unlock(&sc->lock);
  return found;
}

void mt_client_pick_session(mutls_conn *c) {
  if (!c->offer && c->cfg->cache && c->server_name)
    c->offer = cache_take(c->cfg->cache, c->server_name);
  if (c->offer && expired(c->offer)) {
    mt_session_free(c->offer);
    c->offer = NULL;
  }
}

static const mt_suite *session_suite(const mt_session *s) { return mt_suite_by_id(s->suite); }

void mt_client_put_psk(mutls_conn *c, mt_writer *w) {
  mt_session *s = c->offer;
  if (!s) return;
  /* 4.1.4: after a HelloRetryRequest for another hash, the PSK cannot be
   * used: drop it. */
  if (c->hrr && session_suite(s)->hash != c->suite->hash) {
    mt_session_free(s);
    c->offer = NULL;
    return;
  }
  size_t hlen = mt_hash_len(session_suite(s)->hash);
  mt_w_u16(w, EXT_PSK_KEY_EXCHANGE_MODES);
  size_t e = mt_w_begin(w, 2), l = mt_w_begin(w, 1);
  mt_w_u8(w, 1); /* psk_dhe_ke */
  if (c->cfg->psk_ke) mt_w_u8(w, 0);
  mt_w_end(w, l, 1);
  mt_w_end(w, e, 2);
  /* 4.2.11: the last extension; the binder is filled in once the whole
   * ClientHello is written. */
  uint32_t age = (uint32_t)(mt_now_ms() - s->received_ms) + s->age_add;
  mt_w_u16(w, EXT_PRE_SHARED_KEY);
  e = mt_w_begin(w, 2);
  l = mt_w_begin(w, 2);
  size_t id = mt_w_begin(w, 2);
  mt_w_bytes(w, s->ticket, s->ticket_len);
  mt_w_end(w, id, 2);
  mt_w_u16(w, (uint16_t)(age >> 16));
  mt_w_u16(w, (uint16_t)age);
  mt_w_end(w, l, 2);
  mt_w_u16(w, (uint16_t)(hlen + 1));
  mt_w_u8(w, (uint8_t)hlen);
  uint8_t *zero = mt_w_space(w, hlen);
  if (zero) memset(zero, 0, hlen);
  mt_w_end(w, e, 2);
}

int mt_client_fill_binder(mutls_conn *c, uint8_t *msg, size_t len) {
  if (!c->offer) return 0;
  mt_hash_alg h = session_suite(c->offer)->hash;
  size_t hlen = mt_hash_len(h), partial = len - (2 + 1 + hlen);
  uint8_t th[MT_MAX_HASH];
  /* The binder covers the transcript so far (after a HelloRetryRequest:
   * message_hash and the HRR) plus this hello up to the binders. */
  int rc = c->th ? mt_hash_peek_with(c->th, msg, partial, th) : mt_hash(h, msg, partial, th);
  if (rc != 0 || mt_ks_binder(h, c->offer->psk, th, msg + len - hlen) != 0) return -1;
  return 0;
}

int mt_client_accept_psk(mutls_conn *c, mt_reader *body, uint16_t suite) {
  uint16_t selected;
  if (!c->offer)
    return mt_fail(c, MUTLS_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                   "the server selected a PSK we did not offer");
  if (mt_r_u16(body, &selected) != 0 || mt_r_done(body) != 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the server's pre_shared_key is malformed");
  /* 4.2.11: within range, and for the same hash as the ticket's suite. */
  if (selected != 0 || mt_suite_by_id(suite)->hash != session_suite(c->offer)->hash)
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the server selected a PSK that cannot be used with its cipher suite");
  memcpy(c->psk, c->offer->psk, c->offer->psk_len);
  c->psk_len = c->offer->psk_len;
  c->resumed = 1;
  return 0;
}

int mt_client_resumed_peer(mutls_conn *c) {
  /* Every session holds its server's identity: verified when the ticket
   * came, or when the session was set from a blob. */
  if (!c->offer->peer) return -1;
  return (c->peer = mt_peer_share(c->offer->peer)) ? 0 : -1;
}

static int copy_chain(mutls_conn *c, mt_session *s) {
  mt_writer w;
  mt_w_init(&w, MT_MAX_HANDSHAKE_MESSAGE);
  for (size_t i = 0; c->peer && i < mutls_peer_chain_length(c->peer); i++) {
    size_t len;
    const uint8_t *der = mutls_peer_cert_der(c->peer, i, &len);
    size_t t = mt_w_begin(&w, 3);
    mt_w_bytes(&w, der, len);
    mt_w_end(&w, t, 3);
  }
  if (mt_w_failed(&w)) {
    mt_w_free(&w);
    return -1;
  }
  s->chain = w.buf;
  s->chain_len = w.len;
  return 0;
}

static mt_session *session_copy(const mt_session *s) {
  mt_session *d = malloc(sizeof *d);
  if (!d) return NULL;
  *d = *s;
  d->ticket = malloc(s->ticket_len);
  d->chain = s->chain_len ? malloc(s->chain_len) : NULL;
  if (!d->ticket || (s->chain_len && !d->chain)) {
    free(d->ticket);
    free(d->chain);
    mt_wipe(d, sizeof *d);
    free(d);
    return NULL;
  }
  memcpy(d->ticket, s->ticket, s->ticket_len);
  if (s->chain_len) memcpy(d->chain, s->chain, s->chain_len);
  d->peer = s->peer ? mt_peer_share(s->peer) : NULL; /* NULL: parsed when resumed */
  return d;
}

static int read_u32(mt_reader *r, uint32_t *v) {
  uint16_t hi, lo;
  if (mt_r_u16(r, &hi) != 0 || mt_r_u16(r, &lo) != 0) return -1;
  *v = ((uint32_t)hi << 16) | lo;
  return 0;
}

int mt_client_recv_ticket(mutls_conn *c, const uint8_t *body, size_t len) {
  mt_reader r = mt_reader_init(body, len), nonce, ticket;
  uint32_t lifetime, age_add;
  mt_exts exts;
  if (read_u32(&r, &lifetime) != 0 || read_u32(&r, &age_add) != 0 ||
      mt_r_block(&r, 1, &nonce) != 0 || mt_r_block(&r, 2, &ticket) != 0 || ticket.len == 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                   "the server's NewSessionTicket is malformed");
  int alert = mt_exts_parse(&r, M_NST, &exts);
  if (!alert && mt_r_done(&r) != 0) alert = ALERT_DECODE_ERROR;
  if (alert)
    return mt_fail(c, alert == ALERT_DECODE_ERROR ? MUTLS_E_DECODE : MUTLS_E_ILLEGAL_PARAMETER,
                   alert, "the server's NewSessionTicket has malformed extensions");
  if (lifetime == 0 || !c->server_name) return 0; /* 4.6.1: not to be used */
  mt_session *s = calloc(1, sizeof *s);
  if (!s || !(s->ticket = malloc(ticket.len))) {
    free(s);
    return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  }
  memcpy(s->ticket, ticket.p, ticket.len);
  s->ticket_len = ticket.len;
  strcpy(s->name, c->server_name);
  s->suite = c->suite->id;
  s->lifetime = lifetime > MAX_TICKET_LIFETIME ? MAX_TICKET_LIFETIME : lifetime;
  s->age_add = age_add;
  s->received_ms = mt_now_ms();
  s->psk_len = c->hlen;
  s->peer = c->peer ? mt_peer_share(c->peer) : NULL; /* NULL: parsed when resumed */
  if (mt_ks_ticket_psk(c->suite->hash, c->res_master, nonce.p, nonce.len, s->psk) != 0 ||
      copy_chain(c, s) != 0) {
    mt_session_free(s);
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "storing a session failed");
  }
  if (c->cfg->cache) {
    mt_session *copy = session_copy(s);
    if (copy) cache_put(c->cfg->cache, copy);
  }
  mt_session_free(c->received);
  c->received = s;
  return 0;
}

/* ---- serialized sessions ------------------------------------------------------ */
int mutls_conn_get_session(const mutls_conn *c, uint8_t *out, size_t cap) {
  const mt_session *s = c ? c->received : NULL;
  mt_writer w;
  if (!s || (!out && cap)) return MUTLS_ERR;
  mt_w_init(&w, (size_t)1 << 24);
  mt_w_u8(&w, SESSION_VERSION);
  mt_w_u16(&w, s->suite);
  size_t t = mt_w_begin(&w, 1);
  mt_w_bytes(&w, s->psk, s->psk_len);
  mt_w_end(&w, t, 1);
  t = mt_w_begin(&w, 2);
  mt_w_bytes(&w, s->ticket, s->ticket_len);
  mt_w_end(&w, t, 2);
  mt_w_u16(&w, (uint16_t)(s->lifetime >> 16));
  mt_w_u16(&w, (uint16_t)s->lifetime);
  mt_w_u16(&w, (uint16_t)(s->age_add >> 16));
  mt_w_u16(&w, (uint16_t)s->age_add);
  uint64_t at = (uint64_t)s->received_ms;
  for (int shift = 48; shift >= 0; shift -= 16) mt_w_u16(&w, (uint16_t)(at >> shift));
  t = mt_w_begin(&w, 1);
  mt_w_bytes(&w, s->name, strlen(s->name));
  mt_w_end(&w, t, 1);
  t = mt_w_begin(&w, 3);
  mt_w_bytes(&w, s->chain, s->chain_len);
  mt_w_end(&w, t, 3);
  int n = mt_w_failed(&w) || w.len > INT32_MAX ? MUTLS_ERR : (int)w.len;
  if (n > 0 && (size_t)n <= cap) memcpy(out, w.buf, w.len);
  mt_w_free(&w);
  return n;
}

int mutls_conn_set_session(mutls_conn *c, const uint8_t *data, size_t len) {
  mt_reader r = mt_reader_init(data, len), psk, ticket, name, chain;
  uint8_t version;
  uint16_t suite;
  uint32_t hi, lo;
  mt_session *s;
  if (!c || c->is_server || c->state != ST_START || (!data && len)) return MUTLS_ERR;
  if (mt_r_u8(&r, &version) != 0 || version != SESSION_VERSION || mt_r_u16(&r, &suite) != 0 ||
      !mt_suite_by_id(suite) || mt_r_block(&r, 1, &psk) != 0 ||
      psk.len != mt_hash_len(mt_suite_by_id(suite)->hash) || mt_r_block(&r, 2, &ticket) != 0 ||
      ticket.len == 0 || !(s = calloc(1, sizeof *s)))
    return MUTLS_ERR;
  int ok = read_u32(&r, &s->lifetime) == 0 && read_u32(&r, &s->age_add) == 0 &&
           read_u32(&r, &hi) == 0 && read_u32(&r, &lo) == 0 && mt_r_block(&r, 1, &name) == 0 &&
           mt_r_block(&r, 3, &chain) == 0 && mt_r_done(&r) == 0 && name.len < sizeof s->name &&
           (s->ticket = malloc(ticket.len)) != NULL &&
           (!chain.len || (s->chain = malloc(chain.len)) != NULL);
  char why[400];
  /* Its server chain, judged as if the server had just sent it for this
   * connection's name (4.6.1: resume only if the new SNI value is valid for
   * the certificate of the original session). */
  if (ok && mt_peer_from_list(c, chain, &s->peer, why, sizeof why) != MT_VERIFY_OK) {
    mt_notice(c, "the session was not taken: %s", why);
    ok = 0;
  }
  if (!ok) {
    mt_session_free(s);
    return MUTLS_ERR;
  }
  s->suite = suite;
  memcpy(s->psk, psk.p, psk.len);
  s->psk_len = psk.len;
  memcpy(s->ticket, ticket.p, ticket.len);
  s->ticket_len = ticket.len;
  s->received_ms = (int64_t)(((uint64_t)hi << 32) | lo);
  memcpy(s->name, name.p, name.len);
  if (chain.len) memcpy(s->chain, chain.p, chain.len);
  s->chain_len = chain.len;
  mt_session_free(c->offer);
  c->offer = s;
  return MUTLS_OK;
}
