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

static int encode_certificate_request(mutls_config *cfg);

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
  pthread_mutex_init(&cfg->lock, NULL);
  cfg->tickets = 1;
  cfg->ticket_lifetime = 7200;
  cfg->ticket_keys = mt_ticket_keys_new();
  cfg->cache = mt_session_cache_new(256);
  cfg->vcache = mt_chain_cache_new(MT_CHAIN_CACHE_DEFAULT);
  if (!cfg->ticket_keys || !cfg->cache || !cfg->vcache ||
      encode_certificate_request(cfg) != MUTLS_OK) {
    mutls_config_free(cfg);
    return NULL;
  }
  return cfg;
}

mutls_config *mutls_config_ref(mutls_config *cfg) {
  if (cfg) __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
  return cfg;
}

static void identity_clear(mt_identity *id) {
  mt_chain_free(id->chain);
  mt_pkey_free(id->key);
  free(id->cert_msg);
  memset(id, 0, sizeof *id);
}

void mutls_config_free(mutls_config *cfg) {
  if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  for (size_t i = 0; i < cfg->n_ids; i++) identity_clear(&cfg->ids[i]);
  free(cfg->cr_msg);
  mt_trust_free(cfg->trust);
  mt_trust_free(cfg->client_trust);
  mt_policy_free(&cfg->policy);
  if (cfg->keylog) fclose(cfg->keylog);
  mt_crls_free(cfg->crls);
  for (size_t i = 0; i < cfg->n_crl_files; i++) free(cfg->crl_files[i]);
  mt_ticket_keys_free(cfg->ticket_keys);
  mt_session_cache_free(cfg->cache);
  mt_chain_cache_free(cfg->vcache);
  pthread_mutex_destroy(&cfg->keylog_lock);
  pthread_mutex_destroy(&cfg->lock);
  free(cfg);
}

const char *mutls_config_error(const mutls_config *cfg) {
  return cfg ? cfg->err : "the config is NULL; check what mutls_config_new returned";
}
mutls_error mutls_config_error_code(const mutls_config *cfg) {
  return cfg ? cfg->err_code : MUTLS_E_CONFIG;
}

/* 4.4.2: the Certificate message, built once per identity. */
static int encode_certificate(mt_identity *id) {
  mt_writer w;
  mt_w_init(&w, MT_MAX_HANDSHAKE_MESSAGE);
  size_t msg = mt_hs_begin(&w, HS_CERTIFICATE);
  mt_w_u8(&w, 0); /* certificate_request_context: empty */
  size_t list = mt_w_begin(&w, 3);
  for (size_t i = 0; i < mt_chain_count(id->chain); i++) {
    size_t len;
    const uint8_t *der = mt_chain_der(id->chain, i, &len);
    size_t t = mt_w_begin(&w, 3);
    mt_w_bytes(&w, der, len);
    mt_w_end(&w, t, 3);
    mt_w_u16(&w, 0); /* no per-certificate extensions */
  }
  mt_w_end(&w, list, 3);
  mt_hs_end(&w, msg);
  if (mt_w_failed(&w)) {
    mt_w_free(&w);
    return -1;
  }
  id->cert_msg = w.buf; /* ownership moves to the identity */
  id->cert_msg_len = w.len;
  return 0;
}

/* Loads a chain and its key into id, checking that they belong together. */
static int load_identity(mutls_config *cfg, mt_identity *id, const char *chain_pem,
                         const char *key_pem) {
  char why[400];
  if (!chain_pem || !key_pem)
    return cfg_err(cfg, MUTLS_E_CONFIG, "both a certificate chain file and a key file are needed");
  if (!(id->chain = mt_chain_load_file(chain_pem, why, sizeof why)))
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  if (!(id->key = mt_pkey_load_file(key_pem, why, sizeof why))) {
    identity_clear(id);
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  }
  if (!mt_chain_matches_key(id->chain, id->key)) {
    identity_clear(id);
    return cfg_err(cfg, MUTLS_E_CONFIG,
                   "the key in %s does not belong to the first certificate in %s; pass the key "
                   "that was made with that certificate",
                   key_pem, chain_pem);
  }
  if (encode_certificate(id) != 0) {
    identity_clear(id);
    return cfg_err(cfg, MUTLS_E_CONFIG, "the certificate chain in %s is too large", chain_pem);
  }
  return MUTLS_OK;
}

int mutls_config_add_identity_files(mutls_config *cfg, const char *chain_pem,
                                    const char *key_pem) {
  mt_identity id = {0};
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (cfg->n_ids == MT_MAX_IDENTITIES)
    return cfg_err(cfg, MUTLS_E_CONFIG, "at most %d identities fit in one config",
                   MT_MAX_IDENTITIES);
  if (load_identity(cfg, &id, chain_pem, key_pem) != MUTLS_OK) return MUTLS_ERR;
  cfg->ids[cfg->n_ids++] = id;
  return MUTLS_OK;
}

int mutls_config_set_identity_files(mutls_config *cfg, const char *chain_pem,
                                    const char *key_pem) {
  mt_identity id = {0};
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (load_identity(cfg, &id, chain_pem, key_pem) != MUTLS_OK) return MUTLS_ERR;
  for (size_t i = 0; i < cfg->n_ids; i++) identity_clear(&cfg->ids[i]);
  cfg->ids[0] = id;
  cfg->n_ids = 1;
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

/* 4.3.2: the CertificateRequest, re-encoded whenever the client CAs or the
 * signature schemes change: empty context, signature_algorithms, and
 * certificate_authorities naming the client CAs (4.2.4). */
static int encode_certificate_request(mutls_config *cfg) {
  const uint8_t *const *names = NULL;
  const size_t *lens = NULL;
  size_t n = 0;
  mt_writer w;
  if (cfg->client_trust && mt_trust_subjects(cfg->client_trust, &names, &lens, &n) != 0)
    return cfg_err(cfg, MUTLS_E_INTERNAL, "reading the client CA names failed");
  mt_w_init(&w, 4 + 65535);
  size_t t = mt_hs_begin(&w, HS_CERTIFICATE_REQUEST);
  mt_w_u8(&w, 0);
  size_t exts = mt_w_begin(&w, 2);
  mt_w_u16(&w, EXT_SIGNATURE_ALGORITHMS);
  size_t e = mt_w_begin(&w, 2), l = mt_w_begin(&w, 2);
  for (size_t i = 0; i < cfg->n_schemes; i++) mt_w_u16(&w, cfg->schemes[i]);
  mt_w_end(&w, l, 2);
  mt_w_end(&w, e, 2);
  if (n) {
    mt_w_u16(&w, EXT_CERTIFICATE_AUTHORITIES);
    e = mt_w_begin(&w, 2);
    l = mt_w_begin(&w, 2);
    for (size_t i = 0; i < n; i++) {
      size_t d = mt_w_begin(&w, 2);
      mt_w_bytes(&w, names[i], lens[i]);
      mt_w_end(&w, d, 2);
    }
    mt_w_end(&w, l, 2);
    mt_w_end(&w, e, 2);
  }
  mt_w_end(&w, exts, 2);
  mt_hs_end(&w, t);
  if (mt_w_failed(&w)) {
    mt_w_free(&w);
    return cfg_err(cfg, MUTLS_E_CONFIG,
                   "the client CA file names too many CAs to list in a CertificateRequest "
                   "(64 KiB at most)");
  }
  free(cfg->cr_msg);
  cfg->cr_msg = w.buf;
  cfg->cr_msg_len = w.len;
  return MUTLS_OK;
}

int mutls_config_set_client_ca_file(mutls_config *cfg, const char *ca_pem) {
  char why[400];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_trust *t = mt_trust_load_file(ca_pem, why, sizeof why);
  if (!t) return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  mt_trust_free(cfg->client_trust);
  cfg->client_trust = t;
  return encode_certificate_request(cfg);
}

int mutls_config_set_client_auth(mutls_config *cfg, mutls_client_auth mode) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (mode < MUTLS_CLIENT_AUTH_NONE || mode > MUTLS_CLIENT_AUTH_REQUIRED)
    return cfg_err(cfg, MUTLS_E_CONFIG, "unknown client authentication mode %d", (int)mode);
  cfg->client_auth = mode;
  return MUTLS_OK;
}

int mutls_config_allow(mutls_config *cfg, const char *rule) {
  char why[300];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (mt_policy_add(&cfg->policy, rule, why, sizeof why) != 0)
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  return MUTLS_OK;
}

/* The checks a new connection makes; also public so that a program can
 * refuse to start with an incomplete config. */
int mt_config_check(const mutls_config *cfg, int as_server, char *why, size_t len) {
  if (as_server) {
    if (!cfg->n_ids)
      snprintf(why, len, "the server has no certificate and key; set them with "
                         "mutls_config_set_identity_files (mutls server --cert --key)");
    else if (cfg->client_trust && cfg->client_auth == MUTLS_CLIENT_AUTH_UNSET)
      snprintf(why, len, "the server trusts client CAs but no client authentication mode was "
                         "chosen; choose one with mutls_config_set_client_auth (mutls server "
                         "--client-auth require|optional|none)");
    else if (!cfg->client_trust && cfg->client_auth >= MUTLS_CLIENT_AUTH_OPTIONAL)
      snprintf(why, len, "client certificates are %s but no client CA was set to verify them "
                         "with; set one with mutls_config_set_client_ca_file (mutls server "
                         "--client-ca)",
               cfg->client_auth == MUTLS_CLIENT_AUTH_REQUIRED ? "required" : "requested");
    else if (cfg->policy.n && cfg->client_auth < MUTLS_CLIENT_AUTH_OPTIONAL)
      snprintf(why, len, "allow rules are set but client certificates are not requested; use "
                         "--client-auth require (or optional)");
    else
      return 0;
    return -1;
  }
  if (cfg->verify_peer && !cfg->trust) {
    snprintf(why, len, "the client has no trust store to verify the server with; set one with "
                       "mutls_config_set_trust_file (mutls client --cacert)");
    return -1;
  }
  return 0;
}

int mutls_config_check(mutls_config *cfg, int as_server) {
  char why[400];
  if (!cfg) return MUTLS_ERR;
  if (mt_config_check(cfg, as_server, why, sizeof why) != 0)
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  return MUTLS_OK;
}

typedef int (*list_parser)(const char *, uint16_t *, size_t, char *, size_t);

/* Its callers check cfg for NULL first: their arguments name its fields. */
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
  if (!cfg) return MUTLS_ERR;
  return set_list(cfg, list, mt_parse_suites, cfg->suites, MT_MAX_SUITES, &cfg->n_suites,
                  "cipher suite");
}
int mutls_config_set_groups(mutls_config *cfg, const char *list) {
  if (!cfg) return MUTLS_ERR;
  return set_list(cfg, list, mt_parse_groups, cfg->groups, MT_MAX_GROUPS, &cfg->n_groups,
                  "group");
}
int mutls_config_set_signature_schemes(mutls_config *cfg, const char *list) {
  if (!cfg) return MUTLS_ERR;
  if (set_list(cfg, list, mt_parse_sigschemes, cfg->schemes, MT_MAX_SCHEMES, &cfg->n_schemes,
               "signature scheme") != MUTLS_OK)
    return MUTLS_ERR;
  return encode_certificate_request(cfg);
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

/* ---- revocation ------------------------------------------------------------------ */
static mt_crls *load_crls(mutls_config *cfg, const char *const *paths, size_t n) {
  char why[400];
  mt_crls *crls = mt_crls_load_files(paths, n, why, sizeof why);
  if (!crls) cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  return crls;
}

/* Setters keep the file list so that adding one more reloads them all. */
int mutls_config_add_crl_file(mutls_config *cfg, const char *path) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (!path || cfg->n_crl_files == MT_MAX_CRL_FILES)
    return cfg_err(cfg, MUTLS_E_CONFIG, "at most %d CRL files fit in one config", MT_MAX_CRL_FILES);
  char *copy = strdup(path);
  if (!copy) return cfg_err(cfg, MUTLS_E_NOMEM, "out of memory");
  cfg->crl_files[cfg->n_crl_files++] = copy;
  mt_crls *crls = load_crls(cfg, (const char *const *)cfg->crl_files, cfg->n_crl_files);
  if (!crls) {
    free(cfg->crl_files[--cfg->n_crl_files]);
    return MUTLS_ERR;
  }
  mt_crls_free(cfg->crls);
  cfg->crls = crls;
  cfg->crl_gen++;
  return MUTLS_OK;
}

int mutls_config_set_crl_check(mutls_config *cfg, int whole_chain, int soft_fail) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->crl_whole_chain = whole_chain ? 1 : 0;
  cfg->crl_soft_fail = soft_fail ? 1 : 0;
  return MUTLS_OK;
}

int mutls_config_reload_crls(mutls_config *cfg, const char *const *paths, size_t n) {
  if (!cfg || !paths || n == 0) return MUTLS_ERR;
  mt_crls *crls = load_crls(cfg, paths, n);
  if (!crls) return MUTLS_ERR;
  pthread_mutex_lock(&cfg->lock);
  mt_crls *old = cfg->crls;
  cfg->crls = crls;
  cfg->crl_gen++; /* cached verifications made with the old set no longer count */
  pthread_mutex_unlock(&cfg->lock);
  mt_crls_free(old); /* connections verifying right now hold their own reference */
  return MUTLS_OK;
}

/* ---- resumption ------------------------------------------------------------------ */
int mutls_config_set_tickets(mutls_config *cfg, unsigned count, unsigned lifetime_s) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (count > 8 || lifetime_s > 604800)
    return cfg_err(cfg, MUTLS_E_CONFIG,
                   "at most 8 tickets per handshake, each for at most 604800 s (RFC 8446 4.6.1)");
  cfg->tickets = count;
  cfg->ticket_lifetime = lifetime_s;
  return MUTLS_OK;
}

int mutls_config_set_ticket_rotation(mutls_config *cfg, unsigned rotate_s, unsigned grace_s) {
  if (!cfg || !rotate_s) return MUTLS_ERR;
  mt_ticket_keys_schedule(cfg->ticket_keys, rotate_s, grace_s);
  return MUTLS_OK;
}

int mutls_config_set_ticket_key_file(mutls_config *cfg, const char *path) {
  char why[400];
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  if (mt_ticket_keys_load(cfg->ticket_keys, path, why, sizeof why) != 0)
    return cfg_err(cfg, MUTLS_E_CONFIG, "%s", why);
  return MUTLS_OK;
}

int mutls_config_rotate_ticket_keys(mutls_config *cfg) {
  if (!cfg) return MUTLS_ERR;
  mt_ticket_keys_rotate(cfg->ticket_keys);
  return MUTLS_OK;
}

int mutls_config_set_single_use_tickets(mutls_config *cfg, int on) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_ticket_keys_single_use(cfg->ticket_keys, on);
  return MUTLS_OK;
}

int mutls_config_set_psk_ke(mutls_config *cfg, int on) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->psk_ke = on ? 1 : 0;
  return MUTLS_OK;
}

int mutls_config_set_session_cache(mutls_config *cfg, unsigned max_names) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_session_cache *sc = max_names ? mt_session_cache_new(max_names) : NULL;
  if (max_names && !sc) return cfg_err(cfg, MUTLS_E_NOMEM, "out of memory");
  mt_session_cache_free(cfg->cache);
  cfg->cache = sc;
  return MUTLS_OK;
}

int mt_config_set_chain_cache(mutls_config *cfg, unsigned max) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  mt_chain_cache *cc = max ? mt_chain_cache_new(max) : NULL;
  if (max && !cc) return cfg_err(cfg, MUTLS_E_NOMEM, "out of memory");
  mt_chain_cache_free(cfg->vcache);
  cfg->vcache = cc;
  return MUTLS_OK;
}

int mutls_config_set_post_handshake_auth(mutls_config *cfg, int on) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->post_handshake_auth = on ? 1 : 0;
  return MUTLS_OK;
}

int mutls_config_set_release_buffers(mutls_config *cfg, int on) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->release_buffers = on ? 1 : 0;
  return MUTLS_OK;
}

int mutls_config_set_confirm(mutls_config *cfg, unsigned timeout_ms) {
  if (!cfg_writable(cfg)) return MUTLS_ERR;
  cfg->confirm_ms = timeout_ms;
  return MUTLS_OK;
}
