/* peer.c - the verified peer's identity, extracted once after verification
 * and kept for the life of the connection. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "bytes.h"

/* The strings of a peer, gathered as offsets into one growing block and
 * pointed at once the block has its final size. */
typedef struct {
  mt_writer w;
  size_t subject, issuer, sans_line, fp, spki_fp, not_after_text;
  mutls_san_type type[MT_MAX_SANS];
  size_t value[MT_MAX_SANS];
  size_t n_sans;
} peer_text;

static size_t put(peer_text *t, const char *s) {
  size_t at = t->w.len;
  mt_w_bytes(&t->w, s, strlen(s) + 1);
  return at;
}

static void add_sans(peer_text *t, const mt_chain *chain, mutls_san_type type) {
  char buf[1024];
  for (size_t i = 0; t->n_sans < MT_MAX_SANS; i++) {
    if (mt_chain_leaf_san(chain, (mt_san_type)type, i, buf, sizeof buf) != 0) return;
    t->type[t->n_sans] = type;
    t->value[t->n_sans++] = put(t, buf);
  }
}

static void gather(peer_text *t, const mt_chain *chain) {
  char buf[1024];
  uint8_t h[32];
  char hex[65] = "";
  buf[0] = 0;
  mt_chain_leaf_subject(chain, buf, 512);
  t->subject = put(t, buf);
  buf[0] = 0;
  mt_chain_leaf_issuer(chain, buf, 512);
  t->issuer = put(t, buf);
  buf[0] = 0;
  mt_chain_leaf_sans(chain, buf, sizeof buf);
  t->sans_line = put(t, buf);
  buf[0] = 0;
  mt_chain_leaf_not_after(chain, buf, 40);
  t->not_after_text = put(t, buf);
  if (mt_chain_leaf_fingerprint(chain, h) == 0) mt_hex(h, 32, hex);
  t->fp = put(t, hex);
  hex[0] = 0;
  if (mt_chain_leaf_spki_sha256(chain, h) == 0) mt_hex(h, 32, hex);
  t->spki_fp = put(t, hex);
  add_sans(t, chain, MUTLS_SAN_DNS);
  add_sans(t, chain, MUTLS_SAN_IP);
  add_sans(t, chain, MUTLS_SAN_URI);
  add_sans(t, chain, MUTLS_SAN_EMAIL);
}

/* SPIFFE (X509-SVID 2): exactly one URI SAN, and it is a spiffe:// one. */
static void find_spiffe(mutls_peer *p) {
  const char *uri = NULL;
  int uris = 0;
  for (size_t i = 0; i < p->n_sans; i++)
    if (p->sans[i].type == MUTLS_SAN_URI) {
      uri = p->sans[i].value;
      uris++;
    }
  if (uris == 1 && strncmp(uri, "spiffe://", 9) == 0) p->spiffe = uri;
}

mutls_peer *mt_peer_new(mt_chain *chain) {
  mutls_peer *p = calloc(1, sizeof *p);
  peer_text t;
  memset(&t, 0, sizeof t);
  mt_w_init(&t.w, (size_t)1 << 20);
  gather(&t, chain);
  /* One block of exactly the strings' size (the writer grew by doubling). */
  char *text = !mt_w_failed(&t.w) ? malloc(t.w.len) : NULL;
  if (p && text && t.n_sans) p->sans = calloc(t.n_sans, sizeof *p->sans);
  if (!p || !text || (t.n_sans && !p->sans)) {
    mt_w_free(&t.w);
    free(text);
    free(p);
    mt_chain_free(chain);
    return NULL;
  }
  memcpy(text, t.w.buf, t.w.len);
  p->chain = chain;
  p->refs = 1;
  p->text = text;
  p->subject = text + t.subject;
  p->issuer = text + t.issuer;
  p->sans_line = text + t.sans_line;
  p->not_after_text = text + t.not_after_text;
  p->fp = text + t.fp;
  p->spki_fp = text + t.spki_fp;
  for (size_t i = 0; i < t.n_sans; i++) {
    p->sans[i].type = t.type[i];
    p->sans[i].value = text + t.value[i];
  }
  p->n_sans = t.n_sans;
  mt_chain_leaf_validity(chain, &p->not_before, &p->not_after);
  find_spiffe(p);
  mt_w_free(&t.w);
  return p;
}

mutls_peer *mt_peer_share(const mutls_peer *p) {
  mutls_peer *base = p && p->base ? p->base : (mutls_peer *)p;
  mutls_peer *s = base ? malloc(sizeof *s) : NULL;
  if (!s) return NULL;
  memcpy(s, base, offsetof(mutls_peer, base)); /* never refs: others change it */
  s->base = base;
  s->refs = 1;
  __atomic_add_fetch(&base->refs, 1, __ATOMIC_RELAXED);
  return s;
}

void mt_peer_free(mutls_peer *p) {
  if (!p) return;
  if (p->base) {
    mutls_peer *base = p->base;
    free(p);
    p = base;
  }
  if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  free(p->sans);
  free(p->text);
  mt_chain_free(p->chain);
  free(p);
}

void mt_peer_describe(const mutls_peer *p, char *out, size_t len) {
  if (p->sans_line[0])
    snprintf(out, len, "%s (%s)", p->subject[0] ? p->subject : "(empty subject)", p->sans_line);
  else
    snprintf(out, len, "%s", p->subject[0] ? p->subject : "(empty subject, no SAN)");
}

/* ---- public getters ------------------------------------------------------------ */
size_t mutls_peer_chain_length(const mutls_peer *p) { return p ? mt_chain_count(p->chain) : 0; }

const uint8_t *mutls_peer_cert_der(const mutls_peer *p, size_t i, size_t *len) {
  return mt_chain_der(p ? p->chain : NULL, i, len); /* NULL and *len = 0 if none */
}

int mutls_peer_cert_pem(const mutls_peer *p, size_t i, char *out, size_t cap) {
  if (!p || i >= mt_chain_count(p->chain)) return MUTLS_ERR;
  int n = mt_chain_pem(p->chain, i, out, cap);
  return n < 0 ? MUTLS_ERR : n;
}

const char *mutls_peer_subject(const mutls_peer *p) { return p ? p->subject : NULL; }
const char *mutls_peer_issuer(const mutls_peer *p) { return p ? p->issuer : NULL; }
const char *mutls_peer_sans(const mutls_peer *p) { return p ? p->sans_line : NULL; }
const char *mutls_peer_spiffe_id(const mutls_peer *p) { return p ? p->spiffe : NULL; }
const char *mutls_peer_fingerprint(const mutls_peer *p) { return p ? p->fp : NULL; }
const char *mutls_peer_spki_fingerprint(const mutls_peer *p) { return p ? p->spki_fp : NULL; }
int64_t mutls_peer_not_before(const mutls_peer *p) { return p ? p->not_before : 0; }
int64_t mutls_peer_not_after(const mutls_peer *p) { return p ? p->not_after : 0; }
const char *mutls_peer_not_after_text(const mutls_peer *p) { return p ? p->not_after_text : NULL; }

size_t mutls_peer_san_count(const mutls_peer *p, mutls_san_type type) {
  size_t n = 0;
  for (size_t i = 0; p && i < p->n_sans; i++) n += p->sans[i].type == type;
  return n;
}

const char *mutls_peer_san(const mutls_peer *p, mutls_san_type type, size_t i) {
  for (size_t k = 0; p && k < p->n_sans; k++)
    if (p->sans[k].type == type && i-- == 0) return p->sans[k].value;
  return NULL;
}
