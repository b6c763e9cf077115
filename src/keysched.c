/* keysched.c - the transcript hash (4.4.1) and the key schedule (7.1). */
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

/* 7.1: HKDF-Expand-Label(Secret, Label, Context, Length). */
int mt_hkdf_expand_label(mt_hash_alg h, const uint8_t *secret, const char *label,
                         const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len) {
  uint8_t info[2 + 1 + 255 + 1 + 255];
  mt_writer w;
  size_t llen = strlen(label);
  if (llen > 255 - 6 || ctx_len > 255) return -1;
  mt_w_init_fixed(&w, info, sizeof info);
  mt_w_u16(&w, (uint16_t)out_len);
  mt_w_u8(&w, (uint8_t)(6 + llen));
  mt_w_bytes(&w, "tls13 ", 6);
  mt_w_bytes(&w, label, llen);
  mt_w_u8(&w, (uint8_t)ctx_len);
  mt_w_bytes(&w, ctx, ctx_len);
  if (mt_w_failed(&w)) return -1;
  return mt_hkdf_expand(h, secret, mt_hash_len(h), info, w.len, out, out_len);
}

int mt_derive_secret(mt_hash_alg h, const uint8_t *secret, const char *label,
                     const uint8_t *thash, uint8_t *out) {
  size_t n = mt_hash_len(h);
  return mt_hkdf_expand_label(h, secret, label, thash, n, out, n);
}

/* Derive-Secret(., "derived", "") needs Hash(""): computed per use, cheap. */
static int derived(mt_hash_alg h, const uint8_t *secret, uint8_t *out) {
  uint8_t empty[MT_MAX_HASH];
  if (mt_hash(h, NULL, 0, empty) != 0) return -1;
  return mt_derive_secret(h, secret, "derived", empty, out);
}

int mt_ks_handshake(mutls_conn *c, const uint8_t *dhe, size_t dhe_len) {
  mt_hash_alg h = c->suite->hash;
  uint8_t zero[MT_MAX_HASH] = {0}, early[MT_MAX_HASH], salt[MT_MAX_HASH], th[MT_MAX_HASH];
  int rc = -1;
  /* Early secret = HKDF-Extract(0, PSK), with a zero PSK when there is none. */
  if (mt_hkdf_extract(h, zero, c->hlen, c->psk_len ? c->psk : zero, c->hlen, early) != 0)
    goto out;
  if (derived(h, early, salt) != 0) goto out;
  if (mt_hkdf_extract(h, salt, c->hlen, dhe, dhe_len, c->secret) != 0) goto out;
  if (mt_transcript_hash(c, th) != 0) goto out;
  if (mt_derive_secret(h, c->secret, "c hs traffic", th, c->c_hs) != 0 ||
      mt_derive_secret(h, c->secret, "s hs traffic", th, c->s_hs) != 0)
    goto out;
  mt_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->c_hs);
  mt_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->s_hs);
  rc = 0;
out:
  mt_wipe(early, sizeof early);
  mt_wipe(salt, sizeof salt);
  return rc;
}

int mt_ks_application(mutls_conn *c) {
  mt_hash_alg h = c->suite->hash;
  uint8_t zero[MT_MAX_HASH] = {0}, salt[MT_MAX_HASH], th[MT_MAX_HASH];
  int rc = -1;
  if (derived(h, c->secret, salt) != 0) goto out;
  if (mt_hkdf_extract(h, salt, c->hlen, zero, c->hlen, c->secret) != 0) goto out;
  if (mt_transcript_hash(c, th) != 0) goto out;
  if (mt_derive_secret(h, c->secret, "c ap traffic", th, c->c_ap) != 0 ||
      mt_derive_secret(h, c->secret, "s ap traffic", th, c->s_ap) != 0 ||
      mt_derive_secret(h, c->secret, "exp master", th, c->exporter) != 0)
    goto out;
  mt_keylog(c, "CLIENT_TRAFFIC_SECRET_0", c->c_ap);
  mt_keylog(c, "SERVER_TRAFFIC_SECRET_0", c->s_ap);
  mt_keylog(c, "EXPORTER_SECRET", c->exporter);
  rc = 0;
out:
  mt_wipe(salt, sizeof salt);
  return rc;
}

int mt_finished_mac(mutls_conn *c, const uint8_t *base, uint8_t *out) {
  uint8_t key[MT_MAX_HASH], th[MT_MAX_HASH];
  int rc = -1;
  if (mt_hkdf_expand_label(c->suite->hash, base, "finished", NULL, 0, key, c->hlen) == 0 &&
      mt_transcript_hash(c, th) == 0 && mt_hmac(c->suite->hash, key, c->hlen, th, c->hlen, out) == 0)
    rc = 0;
  mt_wipe(key, sizeof key);
  return rc;
}

int mt_ks_resumption(mutls_conn *c) {
  uint8_t th[MT_MAX_HASH];
  if (mt_transcript_hash(c, th) != 0) return -1;
  return mt_derive_secret(c->suite->hash, c->secret, "res master", th, c->res_master);
}

int mt_ks_binder(mt_hash_alg h, const uint8_t *psk, const uint8_t *thash, uint8_t *out) {
  uint8_t zero[MT_MAX_HASH] = {0}, early[MT_MAX_HASH], empty[MT_MAX_HASH], bk[MT_MAX_HASH],
                                    fk[MT_MAX_HASH];
  size_t n = mt_hash_len(h);
  int rc = -1;
  /* binder_key = Derive-Secret(Early Secret, "res binder", ""), then the
   * Finished construction of 4.4.4 over the partial transcript. */
  if (mt_hkdf_extract(h, zero, n, psk, n, early) == 0 && mt_hash(h, NULL, 0, empty) == 0 &&
      mt_derive_secret(h, early, "res binder", empty, bk) == 0 &&
      mt_hkdf_expand_label(h, bk, "finished", NULL, 0, fk, n) == 0 &&
      mt_hmac(h, fk, n, thash, n, out) == 0)
    rc = 0;
  mt_wipe(early, sizeof early);
  mt_wipe(bk, sizeof bk);
  mt_wipe(fk, sizeof fk);
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
  uint8_t tmp[MT_MAX_HASH], ctx_hash[MT_MAX_HASH], empty[MT_MAX_HASH];
  int rc = MUTLS_ERR;
  if (!c || c->state != ST_CONNECTED || !label || out_len > 255 * c->hlen) return MUTLS_ERR;
  mt_hash_alg h = c->suite->hash;
  if (mt_hash(h, NULL, 0, empty) == 0 &&
      mt_derive_secret(h, c->exporter, label, empty, tmp) == 0 &&
      mt_hash(h, context, context ? context_len : 0, ctx_hash) == 0 &&
      mt_hkdf_expand_label(h, tmp, "exporter", ctx_hash, c->hlen, out, out_len) == 0)
    rc = MUTLS_OK;
  mt_wipe(tmp, sizeof tmp);
  return rc;
}
