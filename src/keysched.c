/* keysched.c - the transcript hash (4.4.1) and the key schedule (7.1). */
#include <pthread.h>
#include <string.h>

#include "internal.h"

int mt_transcript_add(mutls_conn *c, const uint8_t *msg, size_t len) {
  int rc;
  if (c->in_pha) { /* 4.4: the handshake's transcript plus this exchange */
    mt_w_bytes(&c->pha_buf, msg, len);
    rc = mt_w_failed(&c->pha_buf) ? -1 : 0;
  } else if (c->th) {
    rc = mt_hash_update(c->th, msg, len);
  } else {
    mt_w_bytes(&c->th_buf, msg, len);
    rc = mt_w_failed(&c->th_buf) ? -1 : 0;
  }
  /* Every caller's failure is recorded, alert and all. */
  return rc == 0 ? 0 : mt_fail(c, MUTLS_E_INTERNAL, ALERT_INTERNAL_ERROR, "hashing the transcript failed");
}

int mt_transcript_start(mutls_conn *c) {
  c->hlen = mt_hash_len(c->suite->hash);
  c->th = mt_hash_new(c->suite->hash);
  if (!c->th || mt_hash_update(c->th, c->th_buf.buf, c->th_buf.len) != 0) return -1;
  mt_w_free(&c->th_buf);
  return 0;
}

int mt_transcript_hash(mutls_conn *c, uint8_t *out) {
  if (!c->th) return -1; /* freed with the handshake: no exchange may follow */
  if (c->in_pha) return mt_hash_peek_with(c->th, c->pha_buf.buf, c->pha_buf.len, out);
  return mt_hash_peek(c->th, out);
}

int mt_transcript_hrr_rewrite(mutls_conn *c) {
  uint8_t h[MT_MAX_HASH], hdr[4] = {HS_MESSAGE_HASH, 0, 0, 0};
  if (mt_transcript_hash(c, h) != 0) return -1;
  mt_hash_free(c->th);
  c->th = mt_hash_new(c->suite->hash);
  hdr[3] = (uint8_t)c->hlen;
  if (!c->th || mt_hash_update(c->th, hdr, 4) != 0 || mt_hash_update(c->th, h, c->hlen) != 0)
    return -1;
  return 0;
}

/* 7.1: the HkdfLabel for HKDF-Expand-Label(Secret, Label, Context, Length),
 * written to info (MT_HKDF_LABEL_MAX bytes); its length, or 0 if the label
 * or the context is too long. */
#define MT_HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)
static size_t hkdf_label(uint8_t *info, const mt_label_out *o) {
  mt_writer w;
  size_t llen = strlen(o->label);
  if (llen > 255 - 6 || o->ctx_len > 255 || o->out_len > 0xffff) return 0;
  mt_w_init_fixed(&w, info, MT_HKDF_LABEL_MAX);
  mt_w_u16(&w, (uint16_t)o->out_len);
  mt_w_u8(&w, (uint8_t)(6 + llen));
  mt_w_bytes(&w, "tls13 ", 6);
  mt_w_bytes(&w, o->label, llen);
  mt_w_u8(&w, (uint8_t)o->ctx_len);
  mt_w_bytes(&w, o->ctx, o->ctx_len);
  return mt_w_failed(&w) ? 0 : w.len;
}

/* The HkdfLabels of o[0..n) into info, and the outputs that go with them. */
static int label_outs(const mt_label_out *o, size_t n, uint8_t (*info)[MT_HKDF_LABEL_MAX],
                      mt_hkdf_out *outs) {
  if (n == 0 || n > MT_MAX_LABELS) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t len = hkdf_label(info[i], &o[i]);
    if (len == 0) return -1;
    outs[i] = (mt_hkdf_out){info[i], len, o[i].out, o[i].out_len};
  }
  return 0;
}

int mt_hkdf_expand_labels(mt_hash_alg h, const uint8_t *secret, const mt_label_out *o, size_t n) {
  uint8_t info[MT_MAX_LABELS][MT_HKDF_LABEL_MAX];
  mt_hkdf_out outs[MT_MAX_LABELS];
  if (label_outs(o, n, info, outs) != 0) return -1;
  return mt_hkdf_expand_multi(h, secret, mt_hash_len(h), outs, n);
}

/* secret = HKDF-Extract(salt, ikm), then o's labels expanded from it: one
 * HMAC context keyed twice and cleared once. */
static int extract_labels(mt_hash_alg h, const uint8_t *salt, const uint8_t *ikm, size_t ikm_len,
                          uint8_t *secret, const mt_label_out *o, size_t n) {
  uint8_t info[MT_MAX_LABELS][MT_HKDF_LABEL_MAX];
  mt_hkdf_out outs[MT_MAX_LABELS];
  if (label_outs(o, n, info, outs) != 0) return -1;
  return mt_hkdf(h, salt, mt_hash_len(h), ikm, ikm_len, secret, outs, n);
}

/* 4.4.4: HMAC(HKDF-Expand-Label(base, "finished", "", Hash.length), thash),
 * for Finished and for PSK binders. */
static int finished_with(mt_hash_alg h, const uint8_t *base, const uint8_t *thash, uint8_t *out) {
  uint8_t info[MT_HKDF_LABEL_MAX];
  size_t hl = mt_hash_len(h);
  const mt_label_out o = {"finished", NULL, 0, NULL, hl};
  size_t len = hkdf_label(info, &o);
  return len ? mt_hkdf_expand_hmac(h, base, hl, info, len, thash, hl, out) : -1;
}

int mt_hkdf_expand_label(mt_hash_alg h, const uint8_t *secret, const char *label,
                         const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len) {
  const mt_label_out o = {label, ctx, ctx_len, out, out_len};
  return mt_hkdf_expand_labels(h, secret, &o, 1);
}

int mt_derive_secret(mt_hash_alg h, const uint8_t *secret, const char *label,
                     const uint8_t *thash, uint8_t *out) {
  size_t n = mt_hash_len(h);
  return mt_hkdf_expand_label(h, secret, label, thash, n, out, n);
}

/* 7.3: a traffic secret's write key and IV, keying HMAC once for both. */
int mt_ks_traffic_keys(mt_hash_alg h, const uint8_t *secret, uint8_t *key, size_t key_len,
                       uint8_t *iv) {
  const mt_label_out o[2] = {{"key", NULL, 0, key, key_len}, {"iv", NULL, 0, iv, MT_AEAD_NONCE}};
  return mt_hkdf_expand_labels(h, secret, o, 2);
}

/* Values of the schedule that depend on the hash alone, computed once per
 * process: Hash(""), which every Derive-Secret(., "derived", "") and the
 * exporter use, and, for handshakes without a PSK, the salt of the
 * handshake secret, Derive-Secret(HKDF-Extract(0, 0), "derived", "").
 * Neither is secret. */
static struct {
  uint8_t empty_hash[MT_MAX_HASH];
  uint8_t no_psk_salt[MT_MAX_HASH];
} ks_const[2]; /* by mt_hash_alg */
static int ks_const_ok;
static pthread_once_t ks_const_once = PTHREAD_ONCE_INIT;

static void ks_const_init(void) {
  static const uint8_t zero[MT_MAX_HASH];
  const mt_hash_alg algs[2] = {MT_SHA256, MT_SHA384};
  int ok = 1;
  for (size_t i = 0; i < 2; i++) {
    mt_hash_alg h = algs[i];
    size_t n = mt_hash_len(h);
    uint8_t early[MT_MAX_HASH];
    ok = ok && mt_hash(h, NULL, 0, ks_const[h].empty_hash) == 0 &&
         mt_hkdf_extract(h, zero, n, zero, n, early) == 0 &&
         mt_derive_secret(h, early, "derived", ks_const[h].empty_hash, ks_const[h].no_psk_salt) == 0;
  }
  ks_const_ok = ok;
}

static const uint8_t *empty_hash(mt_hash_alg h) {
  if (pthread_once(&ks_const_once, ks_const_init) != 0 || !ks_const_ok || mt_hash_len(h) == 0)
    return NULL;
  return ks_const[h].empty_hash;
}

/* Derive-Secret(., "derived", "") (7.1). */
static int derived(mt_hash_alg h, const uint8_t *secret, uint8_t *out) {
  const uint8_t *empty = empty_hash(h);
  return empty ? mt_derive_secret(h, secret, "derived", empty, out) : -1;
}

/* Early secret = HKDF-Extract(0, PSK), with a zero PSK when there is none;
 * out receives Derive-Secret(Early Secret, "derived", ""). */
static int handshake_salt(mutls_conn *c, uint8_t *out) {
  mt_hash_alg h = c->suite->hash;
  uint8_t zero[MT_MAX_HASH] = {0}, early[MT_MAX_HASH];
  const uint8_t *empty = empty_hash(h);
  if (empty == NULL) return -1;
  if (c->psk_len == 0) {
    memcpy(out, ks_const[h].no_psk_salt, c->hlen);
    return 0;
  }
  const mt_label_out o = {"derived", empty, c->hlen, out, c->hlen};
  int rc = extract_labels(h, zero, c->psk, c->hlen, early, &o, 1);
  mt_wipe(early, sizeof early);
  return rc;
}

int mt_ks_handshake(mutls_conn *c, const uint8_t *dhe, size_t dhe_len) {
  mt_hash_alg h = c->suite->hash;
  uint8_t salt[MT_MAX_HASH], th[MT_MAX_HASH];
  const mt_label_out o[2] = {{"c hs traffic", th, c->hlen, c->c_hs, c->hlen},
                             {"s hs traffic", th, c->hlen, c->s_hs, c->hlen}};
  int rc = -1;
  if (handshake_salt(c, salt) != 0) goto out;
  if (mt_transcript_hash(c, th) != 0) goto out;
  if (extract_labels(h, salt, dhe, dhe_len, c->secret, o, 2) != 0) goto out;
  mt_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->c_hs);
  mt_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->s_hs);
  rc = 0;
out:
  mt_wipe(salt, sizeof salt);
  return rc;
}

int mt_ks_application(mutls_conn *c) {
  mt_hash_alg h = c->suite->hash;
  uint8_t zero[MT_MAX_HASH] = {0}, salt[MT_MAX_HASH], th[MT_MAX_HASH];
  const mt_label_out o[3] = {{"c ap traffic", th, c->hlen, c->c_ap, c->hlen},
                             {"s ap traffic", th, c->hlen, c->s_ap, c->hlen},
                             {"exp master", th, c->hlen, c->exporter, c->hlen}};
  int rc = -1;
  if (derived(h, c->secret, salt) != 0) goto out;
  if (mt_transcript_hash(c, th) != 0) goto out;
  if (extract_labels(h, salt, zero, c->hlen, c->secret, o, 3) != 0) goto out;
  mt_keylog(c, "CLIENT_TRAFFIC_SECRET_0", c->c_ap);
  mt_keylog(c, "SERVER_TRAFFIC_SECRET_0", c->s_ap);
  mt_keylog(c, "EXPORTER_SECRET", c->exporter);
  rc = 0;
out:
  mt_wipe(salt, sizeof salt);
  return rc;
}

int mt_finished_mac(mutls_conn *c, const uint8_t *base, uint8_t *out) {
  uint8_t th[MT_MAX_HASH];
  if (mt_transcript_hash(c, th) != 0) return -1;
  return finished_with(c->suite->hash, base, th, out);
}

int mt_ks_resumption(mutls_conn *c) {
  uint8_t th[MT_MAX_HASH];
  if (mt_transcript_hash(c, th) != 0) return -1;
  return mt_derive_secret(c->suite->hash, c->secret, "res master", th, c->res_master);
}

int mt_ks_binder(mt_hash_alg h, const uint8_t *psk, const uint8_t *thash, uint8_t *out) {
  uint8_t zero[MT_MAX_HASH] = {0}, early[MT_MAX_HASH], bk[MT_MAX_HASH];
  const uint8_t *empty = empty_hash(h);
  size_t n = mt_hash_len(h);
  const mt_label_out o = {"res binder", empty, n, bk, n};
  int rc = -1;
  /* binder_key = Derive-Secret(Early Secret, "res binder", ""), then the
   * Finished construction of 4.4.4 over the partial transcript. */
  if (empty && extract_labels(h, zero, psk, n, early, &o, 1) == 0 &&
      finished_with(h, bk, thash, out) == 0)
    rc = 0;
  mt_wipe(early, sizeof early);
  mt_wipe(bk, sizeof bk);
  return rc;
}

int mt_ks_ticket_psk(mt_hash_alg h, const uint8_t *res_master, const uint8_t *nonce,
                     size_t nonce_len, uint8_t *out) {
  return mt_hkdf_expand_label(h, res_master, "resumption", nonce, nonce_len, out, mt_hash_len(h));
}

int mt_ks_update(mutls_conn *c, uint8_t *secret) {
  uint8_t next[MT_MAX_HASH];
  int rc = mt_hkdf_expand_label(c->suite->hash, secret, "traffic upd", NULL, 0, next, c->hlen);
  if (rc == 0) memcpy(secret, next, c->hlen);
  mt_wipe(next, sizeof next);
  return rc;
}

/* 7.5: TLS-Exporter(label, context, length). */
int mutls_conn_export(const mutls_conn *c, const char *label, const uint8_t *context,
                      size_t context_len, uint8_t *out, size_t out_len) {
  uint8_t tmp[MT_MAX_HASH], ctx_hash[MT_MAX_HASH];
  int rc = MUTLS_ERR;
  if (!c || c->state != ST_CONNECTED || !label || (!out && out_len) || out_len > 255 * c->hlen)
    return MUTLS_ERR;
  mt_hash_alg h = c->suite->hash;
  const uint8_t *empty = empty_hash(h);
  if (empty &&
      mt_derive_secret(h, c->exporter, label, empty, tmp) == 0 &&
      mt_hash(h, context, context ? context_len : 0, ctx_hash) == 0 &&
      mt_hkdf_expand_label(h, tmp, "exporter", ctx_hash, c->hlen, out, out_len) == 0)
    rc = MUTLS_OK;
  mt_wipe(tmp, sizeof tmp);
  return rc;
}
