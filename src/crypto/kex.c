/* kex.c - (EC)DHE for TLS 1.3 key_share: X25519, secp256r1, secp384r1.
 *
 * OpenSSL 3.0 has no call that takes a pre-fetched EVP_KEYMGMT/EVP_KEYEXCH.
 * Each thread keeps, per group, a key-generation context (keygen_init done,
 * group set) and a context that imports peers' public keys (fromdata_init
 * done), so that a handshake fetches no key manager by name; the derivation
 * context is built from the new key itself, once per key. */
#include "crypto/internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

struct mt_kex {
  uint16_t group;
  EVP_PKEY *pkey;
};

/* What each group looks like on the wire (RFC 8446 4.2.8.2). */
struct group_info {
  uint16_t group;
  const char *keytype; /* EVP key type */
  const char *curve;   /* group name for EC, NULL for X25519 */
  int nid;
  size_t pub_len;    /* key_share length */
  size_t secret_len; /* shared secret length */
  size_t priv_len;   /* raw private scalar length */
};

static const struct group_info groups[] = {
    {MT_GROUP_X25519, "X25519", NULL, NID_X25519, 32, 32, 32},
    {MT_GROUP_SECP256R1, "EC", "P-256", NID_X9_62_prime256v1, 65, 32, 32},
    {MT_GROUP_SECP384R1, "EC", "P-384", NID_secp384r1, 97, 48, 48},
};

_Static_assert(sizeof(groups) / sizeof(groups[0]) == MT_KEX_GROUPS,
               "mt_thread_state holds a context per group");

static const struct group_info *group_find(uint16_t group) {
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
    if (groups[i].group == group) return &groups[i];
  return NULL;
}

/* Writes the key_share encoding of k's public key. */
static int export_pub(const struct group_info *g, EVP_PKEY *pk, uint8_t *pub, size_t *pub_len) {
  uint8_t buf[MT_MAX_KEX_PUB];
  size_t n = 0;
  /* For EC keys the encoded form is the uncompressed point by default. */
  if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf),
                                      &n) != 1 ||
      n != g->pub_len)
    return -1;
  memcpy(pub, buf, n);
  *pub_len = n;
  return 0;
}

static int wrap(const struct group_info *g, EVP_PKEY *pk, mt_kex **out, uint8_t *pub,
                size_t *pub_len) {
  mt_kex *k = NULL;
  if (pk == NULL || export_pub(g, pk, pub, pub_len) != 0 || (k = calloc(1, sizeof(*k))) == NULL) {
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return -1;
  }
  k->group = g->group;
  k->pkey = pk;
  *out = k;
  return 0;
}

/* This thread's context for g in slots (keygen or peer_import of
 * mt_thread_state), made on first use by new_ctx; NULL if it cannot be. */
static EVP_PKEY_CTX *thread_ctx(const struct group_info *g, EVP_PKEY_CTX **slots,
                                EVP_PKEY_CTX *(*new_ctx)(const struct group_info *)) {
  EVP_PKEY_CTX **slot = &slots[g - groups];
  if (*slot == NULL) *slot = new_ctx(g);
  return *slot;
}

static EVP_PKEY_CTX *new_keygen_ctx(const struct group_info *g) {
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
  if (pc == NULL || EVP_PKEY_keygen_init(pc) != 1 ||
      (g->curve && EVP_PKEY_CTX_set_group_name(pc, g->curve) != 1)) {
    EVP_PKEY_CTX_free(pc);
    return NULL;
  }
  return pc;
}

static EVP_PKEY_CTX *new_import_ctx(const struct group_info *g) {
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
  if (pc == NULL || EVP_PKEY_fromdata_init(pc) != 1) {
    EVP_PKEY_CTX_free(pc);
    return NULL;
  }
  return pc;
}

int mt_kex_generate(uint16_t group, mt_kex **out, uint8_t *pub, size_t *pub_len) {
  const struct group_info *g = group_find(group);
  struct mt_thread_state *t;
  if (out == NULL || g == NULL || mt_crypto_init() != 0 || (t = mt_thread_state()) == NULL)
    return -1;
  *out = NULL;
  EVP_PKEY *pk = NULL;
  EVP_PKEY_CTX *pc = thread_ctx(g, t->keygen, new_keygen_ctx);
  if (pc != NULL && EVP_PKEY_generate(pc, &pk) != 1) {
    pk = NULL;
    /* A context in an unknown state is not kept. */
    EVP_PKEY_CTX_free(pc);
    t->keygen[g - groups] = NULL;
  }
  return wrap(g, pk, out, pub, pub_len);
}

/* An EC key from its private scalar: the public point is computed here,
 * since a key imported without one cannot export its key_share. */
static EVP_PKEY *ec_from_private(const struct group_info *g, const uint8_t *priv) {
  EVP_PKEY *pk = NULL;
  EVP_PKEY_CTX *pc = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  OSSL_PARAM *params = NULL;
  EC_POINT *pt = NULL;
  uint8_t pub[MT_MAX_KEX_PUB];
  BIGNUM *d = BN_secure_new();
  EC_GROUP *grp = EC_GROUP_new_by_curve_name_ex(NULL, NULL, g->nid);
  if (d == NULL || grp == NULL || BN_bin2bn(priv, (int)g->priv_len, d) == NULL || BN_is_zero(d) ||
      BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0)
    goto done;
  if ((pt = EC_POINT_new(grp)) == NULL || EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) != 1 ||
      EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) !=
          g->pub_len)
    goto done;
  if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->curve, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, g->pub_len) != 1 ||
      (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
    goto done;
  if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
      EVP_PKEY_fromdata_init(pc) != 1 || EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_KEYPAIR, params) != 1)
    pk = NULL;
done:
  EVP_PKEY_CTX_free(pc);
  OSSL_PARAM_free(params); /* clears the secure block holding the scalar */
  OSSL_PARAM_BLD_free(bld);
  EC_POINT_free(pt);
  EC_GROUP_free(grp);
  BN_clear_free(d);
  return pk;
}

int mt_kex_from_private(uint16_t group, const uint8_t *priv, size_t priv_len, mt_kex **out,
                        uint8_t *pub, size_t *pub_len) {
  const struct group_info *g = group_find(group);
  if (out == NULL || g == NULL || priv == NULL || priv_len != g->priv_len || mt_crypto_init() != 0)
    return -1;
  *out = NULL;
  EVP_PKEY *pk;
  if (g->curve == NULL)
    pk = EVP_PKEY_new_raw_private_key_ex(NULL, g->keytype, NULL, priv, priv_len);
  else
    pk = ec_from_private(g, priv);
  return wrap(g, pk, out, pub, pub_len);
}

/* The peer's key_share as a public key, or NULL if it is malformed. The
 * on-curve check for EC happens in the import (EC_POINT_oct2point) and
 * again in EVP_PKEY_derive_set_peer_ex(..., validate = 1). */
static EVP_PKEY *peer_key(const struct group_info *g, const uint8_t *peer, size_t peer_len) {
  struct mt_thread_state *t = mt_thread_state();
  if (t == NULL || peer == NULL || peer_len != g->pub_len) return NULL;
  /* RFC 8446 4.2.8.2: only the uncompressed form (legacy_form = 4). */
  if (g->curve && peer[0] != POINT_CONVERSION_UNCOMPRESSED) return NULL;
  EVP_PKEY_CTX *pc = thread_ctx(g, t->peer_import, new_import_ctx);
  EVP_PKEY *pk = NULL;
  OSSL_PARAM params[3];
  size_t n = 0;
  if (g->curve)
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->curve, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, peer_len);
  params[n] = OSSL_PARAM_construct_end();
  /* A refused key leaves the context as it was: it makes a new key each time. */
  if (pc == NULL || EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) pk = NULL;
  return pk;
}

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= p[i];
  return acc == 0;
}

int mt_kex_derive(mt_kex *k, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                  size_t *secret_len) {
  const struct group_info *g = k ? group_find(k->group) : NULL;
  if (g == NULL || secret == NULL || secret_len == NULL) return -2;
  EVP_PKEY *pp = peer_key(g, peer, peer_len);
  if (pp == NULL) {
    ERR_clear_error();
    return -1;
  }
  uint8_t buf[MT_MAX_KEX_SECRET];
  size_t n = sizeof(buf);
  int rc = -2;
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
  if (pc == NULL || EVP_PKEY_derive_init(pc) != 1) goto done;
  /* RFC 7748 5: every 32 bytes are an X25519 public key (libcrypto's check
   * of one only asks that it be there); the low-order ones show as an
   * all-zero secret, refused below. An EC point is checked on the curve. */
  if (EVP_PKEY_derive_set_peer_ex(pc, pp, g->curve != NULL) != 1) {
    rc = -1; /* not a valid public key for this group */
    goto done;
  }
  if (EVP_PKEY_derive(pc, buf, &n) != 1) {
    /* libcrypto's X25519 itself refuses an all-zero result (a low-order
     * peer point), which is the peer's fault: RFC 8446 7.4.2. */
    rc = g->curve == NULL ? -1 : -2;
    goto done;
  }
  if (n != g->secret_len) goto done;
  if (g->curve == NULL && all_zero(buf, n)) { /* RFC 7748 6.1, RFC 8446 7.4.2 */
    rc = -1;
    goto done;
  }
  memcpy(secret, buf, n);
  *secret_len = n;
  rc = 0;
done:
  OPENSSL_cleanse(buf, sizeof(buf));
  EVP_PKEY_CTX_free(pc);
  EVP_PKEY_free(pp);
  if (rc != 0) ERR_clear_error();
  return rc;
}

void mt_kex_free(mt_kex *k) {
  if (k == NULL) return;
  EVP_PKEY_free(k->pkey); /* the key managers clear private scalars */
  free(k);
}
