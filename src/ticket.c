/* ticket.c - the server's side of resumption (RFC 8446 4.6.1, 4.2.11):
 * stateless tickets sealed with keys the config holds (rotated, or shared
 * through a file), and the checks a ticket passes before it resumes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "msg/msg.h"

#define KEY_NAME 16
#define KEY_LEN 32
#define MAX_KEYS 8
#define TICKET_VERSION 1
#define TICKET_OVERHEAD (KEY_NAME + MT_AEAD_NONCE + MT_AEAD_TAG)
#define USED_MAX 4096
#define MAX_LIFETIME 604800  /* 4.6.1: seven days at most */
#define CLOCK_SKEW_MS 300000 /* between servers that share a ticket key file */

typedef struct {
  uint8_t name[KEY_NAME];
  mt_aead *aead;
  int64_t retired; /* 0 while it seals; then when it stopped */
} tkey;

typedef struct {
  uint8_t id[MT_AEAD_NONCE];
  int64_t expires;
} used_ticket;

struct mt_ticket_keys {
  pthread_mutex_t lock;
  tkey keys[MAX_KEYS]; /* keys[0] seals */
  size_t n;
  int64_t sealing_since;
  int from_file;
  unsigned rotate_s, grace_s;
  int single_use;
  used_ticket *used;
  size_t n_used;
};

static void key_clear(tkey *k) {
  mt_aead_free(k->aead);
  memset(k, 0, sizeof *k);
}

static int key_set(tkey *k, const uint8_t *name, const uint8_t *key) {
  memcpy(k->name, name, KEY_NAME);
  k->retired = 0;
  k->aead = mt_aead_new(MT_AES_256_GCM, key, 1);
  return k->aead ? 0 : -1;
}

static int key_random(tkey *k) {
  uint8_t material[KEY_NAME + KEY_LEN];
  int rc = mt_random(material, sizeof material) == 0 ? key_set(k, material, material + KEY_NAME) : -1;
  mt_wipe(material, sizeof material);
  return rc;
}

mt_ticket_keys *mt_ticket_keys_new(void) {
  mt_ticket_keys *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  pthread_mutex_init(&k->lock, NULL);
  k->rotate_s = 43200;
  k->grace_s = 7200;
  if (key_random(&k->keys[0]) != 0) {
    mt_ticket_keys_free(k);
    return NULL;
  }
  k->n = 1;
  k->sealing_since = mt_now_ms();
  return k;
}

void mt_ticket_keys_free(mt_ticket_keys *k) {
  if (!k) return;
  for (size_t i = 0; i < k->n; i++) key_clear(&k->keys[i]);
  free(k->used);
  pthread_mutex_destroy(&k->lock);
  free(k);
}

void mt_ticket_keys_schedule(mt_ticket_keys *k, unsigned rotate_s, unsigned grace_s) {
  pthread_mutex_lock(&k->lock);
  k->rotate_s = rotate_s;
  k->grace_s = grace_s;
  pthread_mutex_unlock(&k->lock);
}

void mt_ticket_keys_single_use(mt_ticket_keys *k, int on) {
  pthread_mutex_lock(&k->lock);
  k->single_use = on;
  pthread_mutex_unlock(&k->lock);
}

/* Drops retired keys past their grace; under lock. */
static void expire_keys(mt_ticket_keys *k, int64_t now) {
  size_t j = 1;
  for (size_t i = 1; i < k->n; i++) {
    if (!k->from_file && now - k->keys[i].retired > (int64_t)k->grace_s * 1000)
      key_clear(&k->keys[i]);
    else
      k->keys[j++] = k->keys[i];
  }
  for (size_t i = j; i < k->n; i++) memset(&k->keys[i], 0, sizeof k->keys[i]);
  k->n = j;
}

static void rotate_locked(mt_ticket_keys *k, int64_t now) {
  tkey fresh;
  if (k->from_file || key_random(&fresh) != 0) return;
  memmove(&k->keys[1], &k->keys[0], k->n * sizeof k->keys[0]);
  k->keys[1].retired = now;
  k->keys[0] = fresh;
  k->n++;
  k->sealing_since = now;
  /* Only the previous key keeps opening tickets, for its grace period. */
  while (k->n > 2) key_clear(&k->keys[--k->n]);
  expire_keys(k, now);
}

void mt_ticket_keys_rotate(mt_ticket_keys *k) {
  pthread_mutex_lock(&k->lock);
  rotate_locked(k, mt_now_ms());
  pthread_mutex_unlock(&k->lock);
}

int mt_ticket_keys_load(mt_ticket_keys *k, const char *path, char *err, size_t err_len) {
  FILE *f = fopen(path, "r");
  char line[256];
  tkey loaded[MAX_KEYS];
  size_t n = 0;
  if (!f) {
    snprintf(err, err_len, "cannot open the ticket key file %s", path);
    return -1;
  }
  while (fgets(line, sizeof line, f) && n < MAX_KEYS) {
    uint8_t raw[KEY_NAME + KEY_LEN];
    size_t len = strcspn(line, "\r\n"), i;
    if (len == 0 || line[0] == '#') continue;
    for (i = 0; i < sizeof raw && 2 * i + 1 < len; i++)
      if (sscanf(line + 2 * i, "%2hhx", &raw[i]) != 1) break;
    if (len != 2 * sizeof raw || i != sizeof raw || key_set(&loaded[n], raw, raw + KEY_NAME) != 0) {
      mt_wipe(raw, sizeof raw);
      mt_wipe(line, sizeof line);
      fclose(f);
      for (size_t j = 0; j < n; j++) key_clear(&loaded[j]);
      snprintf(err, err_len,
               "the ticket key file %s has a line that is not 96 hex digits (make one with "
               "`openssl rand -hex 48`)",
               path);
      return -1;
    }
    mt_wipe(raw, sizeof raw);
    n++;
  }
  mt_wipe(line, sizeof line);
  fclose(f);
  if (n == 0) {
    snprintf(err, err_len, "the ticket key file %s holds no key", path);
    return -1;
  }
  pthread_mutex_lock(&k->lock);
  for (size_t i = 0; i < k->n; i++) key_clear(&k->keys[i]);
  memcpy(k->keys, loaded, n * sizeof loaded[0]);
  k->n = n;
  k->from_file = 1;
  pthread_mutex_unlock(&k->lock);
  return 0;
}

/* name || nonce || AEAD(plaintext) with the name as additional data. */
static int seal(mt_ticket_keys *k, const uint8_t *pt, size_t len, mt_writer *out) {
  uint8_t *dst = mt_w_space(out, len + TICKET_OVERHEAD);
  int rc = -1;
  if (!dst) return -1;
  pthread_mutex_lock(&k->lock);
  int64_t now = mt_now_ms();
  if (!k->from_file && now - k->sealing_since >= (int64_t)k->rotate_s * 1000)
    rotate_locked(k, now);
  memcpy(dst, k->keys[0].name, KEY_NAME);
  if (mt_random(dst + KEY_NAME, MT_AEAD_NONCE) == 0 &&
      mt_aead_seal(k->keys[0].aead, dst + KEY_NAME, dst, KEY_NAME, pt, len,
                   dst + KEY_NAME + MT_AEAD_NONCE) == 0)
    rc = 0;
  pthread_mutex_unlock(&k->lock);
  return rc;
}

int mt_ticket_seal(mutls_config *cfg, const uint8_t *pt, size_t len, mt_writer *out) {
  return cfg->ticket_keys ? seal(cfg->ticket_keys, pt, len, out) : -1;
}

/* Opens a ticket into pt (len - TICKET_OVERHEAD bytes). */
static int open_ticket(mt_ticket_keys *k, const uint8_t *t, size_t len, uint8_t *pt) {
  int rc = -1;
  if (len < TICKET_OVERHEAD) return -1;
  pthread_mutex_lock(&k->lock);
  expire_keys(k, mt_now_ms());
  for (size_t i = 0; i < k->n && rc != 0; i++)
    if (memcmp(k->keys[i].name, t, KEY_NAME) == 0)
      rc = mt_aead_open(k->keys[i].aead, t + KEY_NAME, t, KEY_NAME, t + KEY_NAME + MT_AEAD_NONCE,
                        len - KEY_NAME - MT_AEAD_NONCE, pt);
  pthread_mutex_unlock(&k->lock);
  return rc;
}

/* Single use: 0 the first time a ticket (by its nonce) is seen, -1 after. */
static int use_once(mt_ticket_keys *k, const uint8_t *id, int64_t expires) {
  int rc = 0;
  int64_t now = mt_now_ms();
  pthread_mutex_lock(&k->lock);
  if (k->single_use) {
    size_t j = 0;
    for (size_t i = 0; i < k->n_used; i++) {
      if (k->used[i].expires < now) continue; /* expired tickets no longer need a place */
      if (memcmp(k->used[i].id, id, MT_AEAD_NONCE) == 0) rc = -1;
      k->used[j++] = k->used[i];
    }
    k->n_used = j;
    if (rc == 0) {
      if (!k->used) k->used = calloc(USED_MAX, sizeof *k->used);
      if (!k->used || k->n_used == USED_MAX) {
        rc = -1; /* full: refuse resumption rather than risk a replay */
      } else {
        memcpy(k->used[k->n_used].id, id, MT_AEAD_NONCE);
        k->used[k->n_used++].expires = expires;
      }
    }
  }
  pthread_mutex_unlock(&k->lock);
  return rc;
}

static void put_u64(mt_writer *w, uint64_t v) {
  mt_w_u16(w, (uint16_t)(v >> 48));
  mt_w_u16(w, (uint16_t)(v >> 32));
  mt_w_u16(w, (uint16_t)(v >> 16));
  mt_w_u16(w, (uint16_t)v);
}

/* Our ticket's plaintext: version, suite, issue time, lifetime, age_add,
 * PSK, and the client's chain when it authenticated (so that resumption can
 * re-check it). */
static int ticket_plaintext(mutls_conn *c, mt_writer *w, const uint8_t *psk, uint32_t age_add) {
  mt_w_u8(w, TICKET_VERSION);
  mt_w_u16(w, c->suite->id);
  put_u64(w, (uint64_t)mt_now_ms());
  mt_w_u16(w, (uint16_t)(c->cfg->ticket_lifetime >> 16));
  mt_w_u16(w, (uint16_t)c->cfg->ticket_lifetime);
  mt_w_u16(w, (uint16_t)(age_add >> 16));
  mt_w_u16(w, (uint16_t)age_add);
  size_t p = mt_w_begin(w, 1);
  mt_w_bytes(w, psk, c->hlen);
  mt_w_end(w, p, 1);
  size_t list = mt_w_begin(w, 3);
  for (size_t i = 0; c->peer && i < mutls_peer_chain_length(c->peer); i++) {
    size_t len;
    const uint8_t *der = mutls_peer_cert_der(c->peer, i, &len);
    size_t t = mt_w_begin(w, 3);
    mt_w_bytes(w, der, len);
    mt_w_end(w, t, 3);
  }
  mt_w_end(w, list, 3);
  return mt_w_failed(w) ? -1 : 0;
}

/* A ticket is opaque ticket<1..2^16-1> (4.6.1). */
#define TICKET_MAX 0xFFFF

/* 0 sent, -1 failed, 1 not sent: the plaintext would not fit in a ticket
 * (a client chain of more than about 64 KB; *pt_len says how much). */
static int send_ticket(mutls_conn *c, size_t *pt_len) {
  uint8_t nonce = (uint8_t)c->tickets_sent, psk[MT_MAX_HASH], rnd[4];
  mt_writer pt, msg;
  /* What a ticket holds without a client chain fits; a chain may spill. */
  uint8_t pt_stack[1024], msg_stack[1024];
  int rc = -1;
  /* Room for any chain a Certificate message can carry, and the fields
   * before it, so that too large is told apart from failing. */
  mt_w_init_borrowed(&pt, pt_stack, sizeof pt_stack, MT_MAX_HANDSHAKE_MESSAGE + 256);
  mt_w_init_borrowed(&msg, msg_stack, sizeof msg_stack, MT_MAX_HANDSHAKE_MESSAGE);
  if (mt_ks_ticket_psk(c->suite->hash, c->res_master, &nonce, 1, psk) != 0 ||
      mt_random(rnd, 4) != 0)
    goto out;
  uint32_t age_add = ((uint32_t)rnd[0] << 24) | ((uint32_t)rnd[1] << 16) | (rnd[2] << 8) | rnd[3];
  if (ticket_plaintext(c, &pt, psk, age_add) != 0) goto out;
  *pt_len = pt.len;
  if (pt.len > TICKET_MAX - TICKET_OVERHEAD) {
    rc = 1;
    goto out;
  }
  size_t t = mt_hs_begin(&msg, HS_NEW_SESSION_TICKET);
  mt_w_u16(&msg, (uint16_t)(c->cfg->ticket_lifetime >> 16));
  mt_w_u16(&msg, (uint16_t)c->cfg->ticket_lifetime);
  mt_w_bytes(&msg, rnd, 4);
  mt_w_u8(&msg, 1);
  mt_w_u8(&msg, nonce);
  size_t tk = mt_w_begin(&msg, 2);
  if (seal(c->cfg->ticket_keys, pt.buf, pt.len, &msg) != 0) goto out;
  mt_w_end(&msg, tk, 2);
  mt_w_u16(&msg, 0); /* no extensions (no early data) */
  mt_hs_end(&msg, t);
  /* Post-handshake messages are not part of the transcript. */
  if (!mt_w_failed(&msg) && mt_record_write(c, CT_HANDSHAKE, msg.buf, msg.len) == 0) rc = 0;
  c->tickets_sent++;
out:
  mt_wipe(psk, sizeof psk);
  mt_w_free(&pt);
  mt_w_free(&msg);
  return rc;
}

int mt_server_send_tickets(mutls_conn *c) {
  if (!c->cfg->tickets || !c->cfg->ticket_keys) return 0;
  if (mt_ks_resumption(c) != 0)
    return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "deriving the resumption secret failed");
  for (unsigned i = 0; i < c->cfg->tickets; i++) {
    size_t pt_len = 0;
    int rc = send_ticket(c, &pt_len);
    if (rc > 0) {
      /* Sending none is allowed (4.6.1); the connection goes on. */
      mt_notice(c,
                "no session ticket was sent: with the client's certificate chain it would "
                "hold %zu bytes, more than a ticket's %d; this client makes full handshakes",
                pt_len + TICKET_OVERHEAD, TICKET_MAX);
      break;
    }
    if (rc != 0)
      return mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "sealing a ticket failed");
  }
  return 0;
}

/* What a ticket carried, decoded. */
typedef struct {
  uint16_t suite;
  uint64_t created;
  uint32_t lifetime;
  mt_reader psk, chain;
} ticket_body;

static int read_u32(mt_reader *r, uint32_t *v) {
  uint16_t hi, lo;
  if (mt_r_u16(r, &hi) != 0 || mt_r_u16(r, &lo) != 0) return -1;
  *v = ((uint32_t)hi << 16) | lo;
  return 0;
}

static int decode_ticket(const uint8_t *pt, size_t len, ticket_body *t) {
  mt_reader r = mt_reader_init(pt, len);
  uint8_t version;
  uint32_t hi, lo, age_add;
  if (mt_r_u8(&r, &version) != 0 || version != TICKET_VERSION || mt_r_u16(&r, &t->suite) != 0 ||
      read_u32(&r, &hi) != 0 || read_u32(&r, &lo) != 0 || read_u32(&r, &t->lifetime) != 0 ||
      read_u32(&r, &age_add) != 0 || mt_r_block(&r, 1, &t->psk) != 0 ||
      mt_r_block(&r, 3, &t->chain) != 0 || mt_r_done(&r) != 0)
    return -1;
  t->created = ((uint64_t)hi << 32) | lo;
  return 0;
}

/* 1 if a ticket issued at created (ms) for lifetime (s) is still good at
 * now. One created in the future (beyond the clocks of servers sharing
 * keys) or living longer than 4.6.1 allows is not one we issued: judging
 * it by its age would accept it for ever, and its expiry would overflow. */
static int ticket_current(uint64_t created, uint32_t lifetime, int64_t now) {
  if (lifetime > MAX_LIFETIME || created > (uint64_t)now + CLOCK_SKEW_MS) return 0;
  return now - (int64_t)created <= (int64_t)lifetime * 1000;
}

/* The client identity a ticket remembers, judged again now: time, CRLs,
 * allow rules. Returns 0 and sets c->peer, or -1 with a sentence in why. */
static int recheck_identity(mutls_conn *c, mt_reader chain, char *why, size_t len) {
  if (!chain.len) {
    if (c->cfg->client_auth != MUTLS_CLIENT_AUTH_REQUIRED) return 0;
    snprintf(why, len, "the ticket holds no client identity and this server requires one");
    return -1;
  }
  /* As a handshake's Certificate: from the verified-chain cache when it
   * holds the chain and what it established still stands. */
  mutls_peer *peer = NULL;
  if (mt_peer_from_list(c, chain, &peer, why, len) != MT_VERIFY_OK) return -1;
  if (!mt_policy_allows(&c->cfg->policy, peer, why, len)) {
    mt_peer_free(peer);
    return -1;
  }
  c->peer = peer;
  return 0;
}

/* Reads pre_shared_key's identities and binders (4.2.11). */
static int read_offer(mutls_conn *c, mt_ext *e, const uint8_t *msg, size_t mlen,
                      mt_reader *ticket, mt_reader *binder) {
  mt_reader ids, binders, id;
  uint32_t age;
  size_t n_ids = 0, n_binders = 0;
  if (mt_r_block(&e->body, 2, &ids) != 0 || mt_r_block(&e->body, 2, &binders) != 0 ||
      mt_r_done(&e->body) != 0 || ids.len == 0 || binders.len == 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the client's pre_shared_key is malformed");
  /* We consider the first identity only (selected_identity 0). */
  for (mt_reader l = ids; mt_r_left(&l); n_ids++) {
    if (mt_r_block(&l, 2, &id) != 0 || id.len == 0 || read_u32(&l, &age) != 0)
      return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR,
                     "the client's PSK identities are malformed");
    if (n_ids == 0) *ticket = id;
  }
  for (mt_reader l = binders; mt_r_left(&l); n_binders++) {
    if (mt_r_block(&l, 1, &id) != 0 || id.len < 32)
      return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "the client's PSK binders are malformed");
    if (n_binders == 0) *binder = id;
  }
  /* 4.2.11: one binder per identity; the binders end the ClientHello. */
  if (n_ids != n_binders || binders.p + binders.len != msg + mlen)
    return mt_fail(c, MUTLS_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                   "the client's PSK binders do not match its identities");
  return 0;
}

int mt_server_try_psk(mutls_conn *c, const void *client_hello, const uint8_t *msg, size_t mlen) {
  mt_client_hello *ch = (mt_client_hello *)client_hello;
  mt_ext *psk = mt_exts_find(&ch->exts, EXT_PRE_SHARED_KEY);
  mt_ext *modes = mt_exts_find(&ch->exts, EXT_PSK_KEY_EXCHANGE_MODES);
  mt_reader ticket = {NULL, 0}, binder = {NULL, 0}, m;
  if (!psk) return 0;
  /* 4.2.9: a PSK offer without modes is refused. */
  if (!modes)
    return mt_fail(c, MUTLS_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                   "the client offers a PSK without psk_key_exchange_modes");
  if (mt_r_block(&modes->body, 1, &m) != 0 || mt_r_done(&modes->body) != 0 || m.len == 0)
    return mt_fail(c, MUTLS_E_DECODE, ALERT_DECODE_ERROR, "psk_key_exchange_modes is malformed");
  if (read_offer(c, psk, msg, mlen, &ticket, &binder) != 0) return -1;
  /* We resume with psk_dhe_ke (1) only: forward secrecy for every connection. */
  if (!memchr(m.p, 1, m.len) || !c->cfg->tickets || !c->cfg->ticket_keys) return 0;

  uint8_t *pt = malloc(ticket.len);
  ticket_body t;
  char why[400];
  int rc = 0;
  if (!pt) return mt_fail(c, MUTLS_E_NOMEM, ALERT_INTERNAL_ERROR, "out of memory");
  /* A ticket we cannot open, or for another hash, or too old, simply does
   * not resume (4.6.1): a full handshake follows. */
  if (open_ticket(c->cfg->ticket_keys, ticket.p, ticket.len, pt) != 0 ||
      decode_ticket(pt, ticket.len - TICKET_OVERHEAD, &t) != 0 || !mt_suite_by_id(t.suite) ||
      mt_suite_by_id(t.suite)->hash != c->suite->hash || t.psk.len != c->hlen ||
      !ticket_current(t.created, t.lifetime, mt_now_ms()))
    goto out;
  uint8_t th[MT_MAX_HASH], expect[MT_MAX_HASH];
  /* 4.2.11.2: the binder covers the ClientHello up to the binders list (its
   * u16 length, then the first binder's u8 length precede binder.p). */
  size_t partial = (size_t)(binder.p - 3 - msg);
  if (mt_hash_peek_with(c->th, msg, partial, th) != 0 ||
      mt_ks_binder(c->suite->hash, t.psk.p, th, expect) != 0) {
    rc = mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "computing the PSK binder failed");
    goto out;
  }
  if (binder.len != c->hlen || mt_ct_memcmp(expect, binder.p, c->hlen) != 0) {
    rc = mt_fail(c, MUTLS_E_BAD_FINISHED, ALERT_DECRYPT_ERROR,
                 "the client's PSK binder does not verify: the ClientHello was altered or the "
                 "client holds a different secret for this ticket");
    goto out;
  }
  if (use_once(c->cfg->ticket_keys, ticket.p + KEY_NAME,
               (int64_t)t.created + (int64_t)t.lifetime * 1000) != 0) {
    mt_notice(c,
             "a ticket was offered again and tickets are single-use here; a full handshake "
             "followed");
    goto out;
  }
  if (recheck_identity(c, t.chain, why, sizeof why) != 0) {
    mt_notice(c, "the client's ticket did not resume (%.380s)", why);
    goto out;
  }
  memcpy(c->psk, t.psk.p, c->hlen);
  c->psk_len = c->hlen;
  c->resumed = 1;
  rc = 1;
out:
  mt_wipe(pt, ticket.len);
  free(pt);
  return rc;
}
