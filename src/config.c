/* config.c - reference-counted configs, frozen once a connection uses them.
 * The expensive work happens here, once: keys parsed, the Certificate
 * message pre-encoded. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int cfg_err(mutls_config *cfg, mutls_error code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfg_err(mutls_config *cfg, mutls_error code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cfg->err, sizeof cfg->err, fmt, ap);
  va_end(ap);
  cfg->err_code = code;
  return MUTLS_ERR;
}

/* Setters call this first: a shared config never changes under a
 * connection. */
static int cfg_writable(mutls_config *cfg) {
  if (!cfg) return 0;
  if (__atomic_load_n(&cfg->frozen, __ATOMIC_ACQUIRE)) {
    cfg_err(cfg, MUTLS_E_CONFIG_FROZEN,
            "this config is already used by a connection and cannot change; build a new "
            "config and use it for new connections");
    return 0;
  }
  cfg->err[0] = 0;
  cfg->err_code = MUTLS_E_NONE;
  return 1;
}

void mt_config_freeze(mutls_config *cfg) {
  __atomic_store_n(&cfg->frozen, 1, __ATOMIC_RELEASE);
}

mutls_config *mutls_config_new(void) {
  if (mt_crypto_init() != 0) return NULL;
  mutls_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg) return NULL;
  cfg->refs = 1;
  cfg->verify_peer = 1;
  static const uint16_t suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                    TLS_CHACHA20_POLY1305_SHA256};
  static const uint16_t groups[] = {MT_GROUP_X25519, MT_GROUP_SECP256R1, MT_GROUP_SECP384R1};
  static const uint16_t schemes[] = {MT_SIG_ECDSA_SECP256R1_SHA256, MT_SIG_ED25519,
                                     MT_SIG_ECDSA_SECP384R1_SHA384, MT_SIG_RSA_PSS_RSAE_SHA256,
                                     MT_SIG_RSA_PSS_RSAE_SHA384, MT_SIG_RSA_PSS_RSAE_SHA512};
  memcpy(cfg->suites, suites, sizeof suites);
  cfg->n_suites = 3;
  memcpy(cfg->groups, groups, sizeof groups);
  cfg->n_groups = 3;
  memcpy(cfg->schemes, schemes, sizeof schemes);
  cfg->n_schemes = 6;
  pthread_mutex_init(&cfg->keylog_lock, NULL);
  return cfg;
}

mutls_config *mutls_config_ref(mutls_config *cfg) {
  if (cfg) __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
  return cfg;
}

void mutls_config_free(mutls_config *cfg) {
  if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  mt_chain_free(cfg->chain);
  mt_pkey_free(cfg->key);
  free(cfg->cert_msg);
  mt_trust_free(cfg->trust);
  if (cfg->keylog) fclose(cfg->keylog);
  pthread_mutex_destroy(&cfg->keylog_lock);
  free(cfg);
}

const char *mutls_config_error(const mutls_config *cfg) { return cfg ? cfg->err : ""; }
mutls_error mutls_config_error_code(const mutls_config *cfg) {
  return cfg ? cfg->err_code : MUTLS_E_CONFIG;
}

/* 4.4.2: the Certificate message body, built once per config. */
static int encode_certificate(mutls_config *cfg) {
  mt_writer w;
  mt_w_init(&w, MT_MAX_HANDSHAKE_MESSAGE);
  mt_w_u8(&w, 0); /* certificate_request_context: empty */
  size_t list = mt_w_begin(&w, 3);
  for (size_t i = 0; i < mt_chain_count(cfg->chain); i++) {
    size_t len;
    const uint8_t *der = mt_chain_der(cfg->chain, i, &len);
    size_t t = mt_w_begin(&w, 3);
    mt_w_bytes(&w, der, len);
    mt_w_end(&w, t, 3);
    mt_w_u16(&w, 0); /* no per-certificate extensions */
  }
  mt_w_end(&w, list, 3);
  if (mt_w_failed(&w)) {
    mt_w_free(&w);
    return -1;
  }
  free(cfg->cert_msg);
  cfg->cert_msg = w.buf; /* ownership moves to the config */
  cfg->cert_msg_len = w.len;
  return 0;
}

int mutls_config_set_identity_files(mutls_config *cfg, const char *chain_pem,
                                    const char *key_pem) {
  char why[400];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (!chain_pem || !key_pem)
    return cfg_err(cfg, MUTLS_E_CONFIG, "both a certificate chain file and a key file are needed");
  mt_chain *chain = mt_chain_load_file(chain_pem, why, sizeof why);
  if (!chain) return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  mt_pkey *key = mt_pkey_load_file(key_pem, why, sizeof why);
  if (!key) {
    mt_chain_free(chain);
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  }
  if (!mt_chain_matches_key(chain, key)) {
    mt_chain_free(chain);
    mt_pkey_free(key);
    return cfg_err(cfg, MUTLS_E_CONFIG,
                   "the key in %s does not belong to the first certificate in %s; pass the key "
                   "that was made with that certificate",
                   key_pem, chain_pem);
  }
  mt_chain_free(cfg->chain);
  mt_pkey_free(cfg->key);
  cfg->chain = chain;
  cfg->key = key;
  if (encode_certificate(cfg) != 0)
    return cfg_err(cfg, MUTLS_E_CONFIG, "the certificate chain in %s is too large", chain_pem);
  return MUTLS_OK;
}

int mutls_config_set_trust_file(mutls_config *cfg, const char *ca_pem) {
  char why[400];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_trust *t = mt_trust_load_file(ca_pem, why, sizeof why);
  if (!t) return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  mt_trust_free(cfg->trust);
  cfg->trust = t;
  return MUTLS_OK;
}

int mutls_config_set_verify_peer(mutls_config *cfg, int on) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->verify_peer = on ? 1 : 0;
  return MUTLS_OK;
}

typedef int (*list_parser)(const char *, uint16_t *, size_t, char *, size_t);

static int set_list(mutls_config *cfg, const char *list, list_parser parse, uint16_t *dst,
                    size_t max, size_t *n, const char *what) {
  uint16_t tmp[8];
  char bad[64];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  int k = parse(list, tmp, max, bad, sizeof bad);
  if (k <= 0)
    return cfg_err(cfg, MUTLS_E_CONFIG, "unknown %s \"%s\"; see mutls.h for the names", what,
                   bad);
  memcpy(dst, tmp, (size_t)k * sizeof tmp[0]);
  *n = (size_t)k;
  return MUTLS_OK;
}

int mutls_config_set_cipher_suites(mutls_config *cfg, const char *list) {
  return set_list(cfg, list, mt_parse_suites, cfg->suites, MT_MAX_SUITES, &cfg->n_suites,
                  "cipher suite");
}
int mutls_config_set_groups(mutls_config *cfg, const char *list) {
  return set_list(cfg, list, mt_parse_groups, cfg->groups, MT_MAX_GROUPS, &cfg->n_groups,
                  "group");
}
int mutls_config_set_signature_schemes(mutls_config *cfg, const char *list) {
  return set_list(cfg, list, mt_parse_sigschemes, cfg->schemes, MT_MAX_SCHEMES, &cfg->n_schemes,
                  "signature scheme");
}

int mutls_config_set_alpn(mutls_config *cfg, const char *list) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_writer w;
  mt_w_init_fixed(&w, cfg->alpn, sizeof cfg->alpn);
  const char *p = list ? list : "";
  while (*p) {
    size_t len = strcspn(p, ",");
    if (len == 0 || len > 255) {
      cfg->alpn_len = 0;
      return cfg_err(cfg, MUTLS_E_CONFIG, "ALPN names must be 1 to 255 bytes, comma separated");
    }
    mt_w_u8(&w, (uint8_t)len);
    mt_w_bytes(&w, p, len);
    p += len;
    if (*p) p++;
  }
  if (mt_w_failed(&w) || w.len > MT_MAX_ALPN) {
    cfg->alpn_len = 0;
    return cfg_err(cfg, MUTLS_E_CONFIG, "the ALPN list is too long (at most 255 bytes encoded)");
  }
  cfg->alpn_len = w.len;
  return MUTLS_OK;
}

int mutls_config_set_keylog_file(mutls_config *cfg, const char *path) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  /* Key logs decrypt traffic: create them readable by the owner only. */
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
  if (!f) {
    if (fd >= 0) close(fd);
    return cfg_err(cfg, MUTLS_E_CONFIG, "cannot open the key log file %s for appending", path);
  }
  if (cfg->keylog) fclose(cfg->keylog);
  cfg->keylog = f;
  return MUTLS_OK;
}
