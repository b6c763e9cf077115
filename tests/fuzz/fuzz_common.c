/* fuzz_common.c - see fuzz.h. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fz_scenario scenarios[FZ_N_SCENARIOS], ticket_scenario;
static int ready;
static mt_pkey *server_key, *client_key; /* for the oracle messages */
static mt_trust *ca_trust;
static mt_chain *certs[3]; /* fz_cert's order */

static void die(const char *what, const char *why) {
  fprintf(stderr, "fuzz setup: %s: %s\n", what, why);
  exit(2);
}

void fz_buf_add(fz_buf *b, const void *p, size_t n) {
  if (!n) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n) cap *= 2;
    uint8_t *np = realloc(b->p, cap);
    if (!np) die("fz_buf_add", "out of memory");
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

void fz_buf_free(fz_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- configs ------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text, char *path,
                       size_t path_len) {
  snprintf(path, path_len, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) die(path, "cannot write");
}

static void check(mutls_config *cfg, int rc, const char *what) {
  if (rc != MUTLS_OK) die(what, mutls_config_error(cfg));
}

/* Settings a config takes, NULL or 0 meaning the default. */
typedef struct {
  int server;      /* a server (with the server identity) */
  int verify;      /* client: verify the server */
  int identity;    /* client: has the client identity */
  int client_auth; /* server: a mutls_client_auth mode, with the fuzz CA as client CA */
  int tickets;     /* server: tickets after the handshake (random bytes: off by default) */
  int pha;         /* client: offer post-handshake authentication */
  unsigned chain_cache; /* entries of the verified-chain cache (off by default) */
  const char *suites, *groups, *alpn, *allow;
} settings;

typedef struct {
  char ca[320], cert[320], key[320], ccert[320], ckey[320];
} pem_files;

static mutls_config *make_config(const settings *st, const pem_files *f) {
  mutls_config *cfg = mutls_config_new();
  if (!cfg) die("mutls_config_new", "failed");
  if (st->server) {
    check(cfg, mutls_config_set_identity_files(cfg, f->cert, f->key), "server identity");
    if (st->client_auth) {
      check(cfg, mutls_config_set_client_ca_file(cfg, f->ca), "client CA");
      check(cfg, mutls_config_set_client_auth(cfg, (mutls_client_auth)st->client_auth),
            "client auth");
    }
    /* A ticket is sealed with a random key and the time: it would make the
     * server's flight differ from run to run. */
    check(cfg, mutls_config_set_tickets(cfg, (unsigned)st->tickets, 7200), "tickets");
  } else {
    check(cfg, mutls_config_set_trust_file(cfg, f->ca), "trust");
    check(cfg, mutls_config_set_verify_peer(cfg, st->verify), "verify");
    if (st->identity)
      check(cfg, mutls_config_set_identity_files(cfg, f->ccert, f->ckey), "client identity");
    /* No session cache: a ticket one input left behind would change the
     * next input's ClientHello (and so every transcript). */
    check(cfg, mutls_config_set_session_cache(cfg, 0), "session cache");
    check(cfg, mutls_config_set_post_handshake_auth(cfg, st->pha), "post-handshake auth");
  }
  /* No verified-chain cache either: one input's chain must not make the
   * next one's verification take another path (unless the target empties
   * it for each input: fz_ticket_server_fresh). */
  check(cfg, mt_config_set_chain_cache(cfg, st->chain_cache), "chain cache");
  if (st->suites) check(cfg, mutls_config_set_cipher_suites(cfg, st->suites), st->suites);
  if (st->groups) check(cfg, mutls_config_set_groups(cfg, st->groups), st->groups);
  if (st->alpn) check(cfg, mutls_config_set_alpn(cfg, st->alpn), st->alpn);
  if (st->allow) check(cfg, mutls_config_allow(cfg, st->allow), st->allow);
  return cfg;
}

#define X25519 MT_GROUP_X25519
#define P256 MT_GROUP_SECP256R1
#define P384 MT_GROUP_SECP384R1
#define CHACHA_FIRST "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

typedef struct {
  const char *name, *server_name;
  settings client, server;
  uint16_t client_group, hrr_group, server_group;
} scenario_def;

/* The scenarios. Add at the end only: seeds name theirs by number. */
static const scenario_def table[FZ_N_SCENARIOS] = {
    /* Server authentication only, everything by default. */
    {"default", "localhost", {.verify = 1}, {.server = 1}, X25519, 0, X25519},
    /* ChaCha20 (the server's first choice) and ALPN (h2: the server's). */
    {"alpn-chacha", "localhost", {.verify = 1, .suites = CHACHA_FIRST, .alpn = "http/1.1,h2"},
     {.server = 1, .suites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384", .alpn = "h2"},
     X25519, 0, X25519},
    /* HelloRetryRequest to P-256, SHA-384, a client that verifies nothing. */
    {"hrr-aes256-noverify", NULL, {.groups = "x25519:secp256r1"},
     {.server = 1, .suites = "TLS_AES_256_GCM_SHA384", .groups = "secp256r1"}, X25519, P256, P256},
    /* Mutual TLS: a client certificate required and checked by an allow rule. */
    {"mtls-p384", "localhost", {.verify = 1, .identity = 1, .groups = "secp384r1"},
     {.server = 1, .client_auth = MUTLS_CLIENT_AUTH_REQUIRED, .allow = "uri:spiffe://mutls.test/*"},
     P384, 0, P384},
    /* A server name that is an IP address (no SNI), P-256; the client
     * accepts a CertificateRequest after the handshake. */
    {"ip-p256-pha", "127.0.0.1",
     {.verify = 1, .identity = 1, .pha = 1, .suites = "TLS_AES_256_GCM_SHA384",
      .groups = "secp256r1"},
     {.server = 1, .groups = "secp256r1:x25519"}, P256, 0, P256},
    /* A client certificate asked for, none sent (an empty Certificate); the
     * server sends two (real) tickets, so this scenario's server flight is
     * not the same bytes from run to run (FZ_RANDOM_SCENARIO). */
    {"mtls-optional-anonymous-tickets", "localhost", {.verify = 1, .suites = CHACHA_FIRST},
     {.server = 1, .client_auth = MUTLS_CLIENT_AUTH_OPTIONAL, .tickets = 2}, X25519, 0, X25519},
};

/* fz_ticket_scenario's: like mtls-p384, but resumable, and with the
 * verified-chain cache a server has by default (recheck_identity goes
 * through it). */
#define TICKET_CHAIN_CACHE 8
static const scenario_def ticket_def = {
    "mtls-tickets", "localhost", {.verify = 1, .identity = 1},
    {.server = 1, .client_auth = MUTLS_CLIENT_AUTH_REQUIRED, .allow = "uri:spiffe://mutls.test/*",
     .tickets = 1, .chain_cache = TICKET_CHAIN_CACHE},
    X25519, 0, X25519};

static void build(fz_scenario *s, const scenario_def *d, const pem_files *f) {
  s->name = d->name;
  s->server_name = d->server_name;
  s->client = make_config(&d->client, f);
  s->server = make_config(&d->server, f);
  s->client_group = d->client_group;
  s->hrr_group = d->hrr_group;
  s->server_group = d->server_group;
}

static mt_chain *load_cert(const char *pem) {
  char why[200];
  mt_chain *c = mt_chain_load_pem((const uint8_t *)pem, strlen(pem), why, sizeof why);
  if (!c) die("a checked-in certificate", why);
  return c;
}

void fz_init(void) {
  if (ready) return;
  char dir[256];
  pem_files f;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(dir, sizeof dir, "%s/mutls-fuzz-XXXXXX", tmp);
  if (!mkdtemp(dir)) die(dir, "mkdtemp failed");
  write_file(dir, "ca.pem", fz_ca_pem, f.ca, sizeof f.ca);
  write_file(dir, "server.pem", fz_server_pem, f.cert, sizeof f.cert);
  write_file(dir, "server.key", fz_server_key, f.key, sizeof f.key);
  write_file(dir, "client.pem", fz_client_pem, f.ccert, sizeof f.ccert);
  write_file(dir, "client.key", fz_client_key, f.ckey, sizeof f.ckey);
  for (size_t i = 0; i < FZ_N_SCENARIOS; i++) build(&scenarios[i], &table[i], &f);
  build(&ticket_scenario, &ticket_def, &f);
  certs[FZ_CERT_CA] = load_cert(fz_ca_pem);
  certs[FZ_CERT_SERVER] = load_cert(fz_server_pem);
  certs[FZ_CERT_CLIENT] = load_cert(fz_client_pem);
  char why[200];
  server_key = mt_pkey_load_pem((const uint8_t *)fz_server_key, strlen(fz_server_key), why,
                                sizeof why);
  client_key = mt_pkey_load_pem((const uint8_t *)fz_client_key, strlen(fz_client_key), why,
                                sizeof why);
  if (!server_key || !client_key) die("the checked-in keys", why);
  if (!(ca_trust = mt_trust_load_file(f.ca, why, sizeof why))) die("the checked-in CA", why);
  unlink(f.ca);
  unlink(f.cert);
  unlink(f.key);
  unlink(f.ccert);
  unlink(f.ckey);
  rmdir(dir);
  ready = 1;
}

const mt_trust *fz_trust(void) { return ca_trust; }

const fz_scenario *fz_scenario_at(unsigned i) { return &scenarios[i % FZ_N_SCENARIOS]; }

const fz_scenario *fz_ticket_scenario(void) { return &ticket_scenario; }

void fz_ticket_server_fresh(int single_use) {
  /* No connection of the config is alive: nothing else holds these. */
  mutls_config *cfg = ticket_scenario.server;
  mt_chain_cache_free(cfg->vcache);
  mt_ticket_keys_free(cfg->ticket_keys);
  cfg->vcache = mt_chain_cache_new(TICKET_CHAIN_CACHE);
  cfg->ticket_keys = mt_ticket_keys_new();
  if (!cfg->vcache || !cfg->ticket_keys) die("fz_ticket_server_fresh", "out of memory");
  mt_ticket_keys_single_use(cfg->ticket_keys, single_use);
}

const uint8_t *fz_cert_der(fz_cert which, size_t *len) {
  return mt_chain_der(certs[which], 0, len);
}

/* ---- ticket plaintexts ------------------------------------------------------ */

uint8_t fz_ticket_psk(size_t i) { return (uint8_t)(0x70 + i); }

const fz_ticket_fields fz_ticket_canonical = {
    FZ_TICKET_VERSION, TLS_AES_128_GCM_SHA256, 0, 7200, 0x5eed1e55, 32};

void fz_ticket_plaintext(fz_buf *out, const fz_ticket_fields *f, const uint8_t *chain,
                         size_t chain_len) {
  mt_writer w;
  mt_w_init(&w, (size_t)1 << 25);
  mt_w_u8(&w, f->version);
  mt_w_u16(&w, f->suite);
  for (int shift = 48; shift >= 0; shift -= 16) mt_w_u16(&w, (uint16_t)(f->created >> shift));
  mt_w_u16(&w, (uint16_t)(f->lifetime >> 16));
  mt_w_u16(&w, (uint16_t)f->lifetime);
  mt_w_u16(&w, (uint16_t)(f->age_add >> 16));
  mt_w_u16(&w, (uint16_t)f->age_add);
  size_t t = mt_w_begin(&w, 1);
  for (size_t i = 0; i < f->psk_len; i++) mt_w_u8(&w, fz_ticket_psk(i));
  mt_w_end(&w, t, 1);
  t = mt_w_begin(&w, 3);
  mt_w_bytes(&w, chain, chain_len);
  mt_w_end(&w, t, 3);
  if (mt_w_failed(&w)) die("fz_ticket_plaintext", "too big");
  fz_buf_add(out, w.buf, w.len);
  mt_w_free(&w);
}

void fz_chain_add(fz_buf *chain, const uint8_t *der, size_t len) {
  uint8_t n[3] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  fz_buf_add(chain, n, 3);
  fz_buf_add(chain, der, len);
}

/* ---- injection ------------------------------------------------------------ */

/* Fixed private keys: the byte pattern start, start + 1, ... */
static void set_kex(mt_test_inject *t, uint16_t group, int server) {
  size_t n = group == MT_GROUP_SECP384R1 ? 48 : 32;
  uint8_t start = (uint8_t)((server ? 0x40 : 0x01) + (group == MT_GROUP_X25519 ? 0x80 : 0));
  t->kex_group = group;
  t->kex_priv_len = n;
  for (size_t i = 0; i < n; i++) t->kex_priv[i] = (uint8_t)(start + i);
}

static size_t hook(void *arg, uint8_t *msg, size_t len, size_t cap) {
  fz_hook *h = arg;
  mutls_conn *c = h->c;
  /* The client's next key share (after a HelloRetryRequest) is fixed too. */
  if (!c->is_server && msg[0] == HS_CLIENT_HELLO && h->s->hrr_group) {
    mt_test_inject t = *c->test;
    set_kex(&t, h->s->hrr_group, 0);
    mt_test_inject_set(c, &t);
  }
  if (h->capture) fz_buf_add(h->capture, msg, len);
  return len;
}

static mutls_conn *inject(mutls_conn *c, const fz_scenario *s, fz_hook *h, fz_buf *capture) {
  mt_test_inject t;
  if (!c) die("connection", "allocation failed");
  memset(&t, 0, sizeof t);
  t.active = 1;
  for (size_t i = 0; i < 32; i++) t.random[i] = (uint8_t)((c->is_server ? 0xa0 : 0x20) + i);
  set_kex(&t, c->is_server ? s->server_group : s->client_group, c->is_server);
  t.verify_time = FZ_VERIFY_TIME;
  memcpy(t.cookie, "mutls fuzz cookie, 32 bytes long", 32);
  t.cookie_len = 32;
  t.mutate = hook;
  t.mutate_arg = h;
  h->c = c;
  h->s = s;
  h->capture = capture;
  mt_test_inject_set(c, &t);
  return c;
}

mutls_conn *fz_client_new(const fz_scenario *s, fz_hook *h, fz_buf *capture) {
  return inject(mutls_client_new(s->client, s->server_name), s, h, capture);
}

mutls_conn *fz_server_new(const fz_scenario *s, fz_hook *h, fz_buf *capture) {
  return inject(mutls_server_new(s->server), s, h, capture);
}

/* ---- moving bytes --------------------------------------------------------- */

size_t fz_drain(mutls_conn *c, fz_buf *out) {
  static const size_t caps[] = {4096, 5, 1000, 16384};
  uint8_t buf[16384];
  size_t total = 0, n;
  for (unsigned i = 0;; i++) {
    mutls_conn_send(c, buf, caps[i % 4], &n);
    if (n == 0) break;
    if (out) fz_buf_add(out, buf, n);
    total += n;
  }
  return total;
}

int fz_feed(mutls_conn *c, const uint8_t *p, size_t len, const uint8_t *chunks,
            size_t n_chunks, fz_buf *out) {
  size_t off = 0, k = 0;
  while (off < len) {
    size_t n = n_chunks ? (size_t)chunks[k++ % n_chunks] + 1 : len - off;
    if (n > len - off) n = len - off;
    uint8_t *chunk = malloc(n);
    if (!chunk) die("fz_feed", "out of memory");
    memcpy(chunk, p + off, n);
    size_t done = 0;
    int rc = 0;
    while (done < n) {
      size_t used = 0;
      if (mutls_conn_recv(c, chunk + done, n - done, &used) != MUTLS_OK) {
        rc = -1;
        break;
      }
      done += used;
      if (used == 0) {
        /* Application data blocks the input: read it (in small pieces). */
        uint8_t sink[300];
        if (mutls_conn_read(c, sink, sizeof sink) <= 0) {
          rc = -1;
          break;
        }
      }
    }
    free(chunk);
    fz_drain(c, out);
    if (rc != 0) return -1;
    off += n;
  }
  return 0;
}

size_t fz_feed_records_while(mutls_conn *c, const uint8_t *p, size_t len,
                             int (*stay)(const mutls_conn *c)) {
  size_t off = 0;
  while (len - off >= MT_RECORD_HEADER && stay(c)) {
    size_t n = MT_RECORD_HEADER + (((size_t)p[off + 3] << 8) | p[off + 4]);
    if (n > len - off || fz_feed(c, p + off, n, NULL, 0, NULL) != 0) break;
    off += n;
  }
  return off;
}

/* What FZ_MSG_FINISHED and FZ_MSG_CERT_VERIFY stand for: the message the
 * peer would send now, computed from c's own secrets and transcript and the
 * peer role's checked-in key. Returns the new message (4 + *n bytes). */
static uint8_t *oracle(mutls_conn *c, uint8_t type, size_t *n) {
  uint8_t body[4 + MT_MAX_SIGNATURE], content[64 + 34 + MT_MAX_HASH];
  size_t len = 0, sig_len = MT_MAX_SIGNATURE, k;
  if (type == FZ_MSG_FINISHED) {
    if (mt_finished_mac(c, c->is_server ? c->c_hs : c->s_hs, body) != 0) return NULL;
    len = c->hlen;
    type = HS_FINISHED;
  } else {
    mt_pkey *key = c->is_server ? client_key : server_key;
    if ((k = mt_cv_content(c, !c->is_server, content)) == 0 ||
        mt_sign(key, MT_SIG_ED25519, content, k, body + 4, &sig_len) != 0)
      return NULL;
    body[0] = MT_SIG_ED25519 >> 8;
    body[1] = MT_SIG_ED25519 & 0xff;
    body[2] = (uint8_t)(sig_len >> 8);
    body[3] = (uint8_t)sig_len;
    len = 4 + sig_len;
    type = HS_CERTIFICATE_VERIFY;
  }
  uint8_t *m = malloc(4 + len);
  if (!m) die("oracle", "out of memory");
  m[0] = type;
  m[1] = 0;
  m[2] = (uint8_t)(len >> 8);
  m[3] = (uint8_t)len;
  memcpy(m + 4, body, len);
  *n = len;
  return m;
}

void fz_handle_messages(mutls_conn *c, const uint8_t *p, size_t len) {
  while (len >= 4 && c->state != ST_FAILED) {
    size_t n = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3], in_n;
    if (n > len - 4) n = len - 4;
    in_n = n;
    uint8_t *m = NULL;
    if ((p[0] == FZ_MSG_FINISHED || p[0] == FZ_MSG_CERT_VERIFY) && c->suite && c->th) {
      if (!(m = oracle(c, p[0], &n))) break;
    } else {
      m = malloc(4 + n);
      if (!m) die("fz_handle_messages", "out of memory");
      m[0] = p[0];
      m[1] = (uint8_t)(n >> 16);
      m[2] = (uint8_t)(n >> 8);
      m[3] = (uint8_t)n;
      memcpy(m + 4, p + 4, n);
    }
    int rc;
    if (c->state == ST_CONNECTED)
      rc = mt_post_handshake(c, m[0], m + 4, n, m, 4 + n);
    else if (c->is_server)
      rc = mt_server_handle(c, m[0], m + 4, n, m, 4 + n);
    else
      rc = mt_client_handle(c, m[0], m + 4, n, m, 4 + n);
    free(m);
    /* As the record layer does after each record. */
    if (rc != 0 || mt_flush_handshake(c) != 0) break;
    p += 4 + in_n;
    len -= 4 + in_n;
  }
}

int fz_recv_input_parse(const uint8_t *p, size_t n, fz_recv_input *in) {
  if (n < 1) return -1;
  in->s = fz_scenario_at(p[0] & 7);
  in->n_chunks = (p[0] >> 3) & 7;
  if (n < 1 + in->n_chunks) return -1;
  in->chunks = p + 1;
  in->data = p + 1 + in->n_chunks;
  in->len = n - 1 - in->n_chunks;
  return 0;
}

static volatile size_t sink;

static void touch_str(const char *s) {
  if (s) sink += strlen(s);
}

void fz_touch(mutls_conn *c) {
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf(stderr, "%s: state %d, %s%s%s%s\n", c->is_server ? "server" : "client",
            (int)c->state, c->established ? "established, " : "",
            mutls_conn_resumed(c) ? "resumed, " : "", mutls_error_name(mutls_conn_error(c)),
            c->why ? ": " : "");
  if (verbose && c->why) fprintf(stderr, "  %s\n", c->why);
  const char *notice = mutls_conn_notice(c);
  if (verbose && notice && notice[0]) fprintf(stderr, "  notice: %s\n", notice);
  touch_str(mutls_conn_version(c));
  touch_str(mutls_conn_cipher_suite(c));
  touch_str(mutls_conn_group(c));
  touch_str(mutls_conn_signature_scheme(c));
  touch_str(mutls_conn_alpn(c));
  touch_str(mutls_conn_server_name(c));
  touch_str(mutls_conn_notice(c));
  touch_str(mutls_conn_explain(c));
  sink += (size_t)mutls_conn_cert_requested(c) + (size_t)mutls_conn_cert_sent(c);
  const mutls_peer *p = mutls_conn_peer(c);
  if (p) {
    size_t n = mutls_peer_chain_length(p), len;
    char pem[4096];
    for (size_t i = 0; i < n; i++)
      if (mutls_peer_cert_der(p, i, &len)) sink += len;
    if (n && mutls_peer_cert_pem(p, 0, pem, sizeof pem) > 0) sink += strlen(pem);
    touch_str(mutls_peer_subject(p));
    touch_str(mutls_peer_issuer(p));
    touch_str(mutls_peer_sans(p));
    touch_str(mutls_peer_spiffe_id(p));
    touch_str(mutls_peer_fingerprint(p));
    touch_str(mutls_peer_spki_fingerprint(p));
    touch_str(mutls_peer_not_after_text(p));
    sink += (size_t)(mutls_peer_not_before(p) + mutls_peer_not_after(p));
    for (int t = MUTLS_SAN_DNS; t <= MUTLS_SAN_EMAIL; t++)
      for (size_t i = 0; i < mutls_peer_san_count(p, (mutls_san_type)t); i++)
        touch_str(mutls_peer_san(p, (mutls_san_type)t, i));
  }
  touch_str(mutls_error_name(mutls_conn_error(c)));
  touch_str(mutls_alert_name(mutls_conn_alert_sent(c)));
  touch_str(mutls_alert_name(mutls_conn_alert_received(c)));
  sink += (size_t)mutls_conn_used_hrr(c) + (size_t)mutls_conn_is_server(c) +
          mutls_conn_pending(c);
  if (mutls_conn_handshake_done(c)) {
    uint8_t out[64], buf[300];
    if (mutls_conn_export(c, "EXPORTER-mutls-fuzz", (const uint8_t *)"ctx", 3, out, sizeof out) ==
        MUTLS_OK)
      sink += out[0];
    while (mutls_conn_read(c, buf, sizeof buf) > 0) {
    }
    mutls_conn_write(c, "bye", 3);
    mutls_conn_close(c);
  }
  fz_drain(c, NULL);
}

/* ---- an honest run -------------------------------------------------------- */

const uint8_t fz_nst_msg[] = {HS_NEW_SESSION_TICKET, 0, 0, 31,
                              0, 0, 0x1c, 0x20,          /* ticket_lifetime: 7200 s */
                              0x12, 0x34, 0x56, 0x78,    /* ticket_age_add */
                              2, 0, 1,                   /* ticket_nonce */
                              0, 16, 'm', 'u', 't', 'l', 's', ' ', 'f', 'u', 'z', 'z', ' ', 't',
                              'i', 'c', 'k', 't',        /* ticket */
                              0, 0};                     /* no extensions */
const size_t fz_nst_msg_len = sizeof fz_nst_msg;
/* KeyUpdate(update_requested). */
const uint8_t fz_key_update_msg[] = {HS_KEY_UPDATE, 0, 0, 1, 1};
const size_t fz_key_update_msg_len = sizeof fz_key_update_msg;

/* Moves bytes both ways until neither side has anything to say. */
static void pump(mutls_conn *c, mutls_conn *s, fz_buf *c_out, fz_buf *s_out, fz_buf *c2s,
                 fz_buf *s2c) {
  for (int round = 0; round < 20; round++) {
    fz_buf cb = *c_out, sb;
    memset(c_out, 0, sizeof *c_out);
    if (cb.len) {
      if (c2s) fz_buf_add(c2s, cb.p, cb.len);
      fz_feed(s, cb.p, cb.len, NULL, 0, s_out);
    }
    sb = *s_out;
    memset(s_out, 0, sizeof *s_out);
    if (sb.len) {
      if (s2c) fz_buf_add(s2c, sb.p, sb.len);
      fz_feed(c, sb.p, sb.len, NULL, 0, c_out);
    }
    int moved = cb.len || sb.len;
    fz_buf_free(&cb);
    fz_buf_free(&sb);
    if (!moved) break;
  }
}

/* Sends a KeyUpdate asking for the peer's, and moves to our next keys. */
static int key_update(mutls_conn *c, fz_buf *msgs) {
  uint8_t *secret = c->is_server ? c->s_ap : c->c_ap;
  if (msgs) fz_buf_add(msgs, fz_key_update_msg, fz_key_update_msg_len);
  if (mt_record_write(c, CT_HANDSHAKE, fz_key_update_msg, fz_key_update_msg_len) != 0 ||
      mt_ks_update(c, secret) != 0 || mt_set_write_key(c, secret) != 0)
    return -1;
  return 0;
}

void fz_converse(mutls_conn *c, mutls_conn *s) {
  fz_buf c_out = {0}, s_out = {0};
  fz_drain(c, &c_out);
  pump(c, s, &c_out, &s_out, NULL, NULL);
  fz_buf_free(&c_out);
  fz_buf_free(&s_out);
}

static void say(mutls_conn *c, const char *text) {
  mutls_conn_write(c, text, strlen(text));
}

int fz_honest(const fz_scenario *s, fz_buf *c2s, fz_buf *s2c, fz_buf *c_msgs, fz_buf *s_msgs,
              fz_buf *session) {
  fz_hook ch, sh;
  fz_buf c_out = {0}, s_out = {0};
  mutls_conn *c = fz_client_new(s, &ch, c_msgs), *sv = fz_server_new(s, &sh, s_msgs);
  int rc = -1;
  fz_drain(c, &c_out);
  pump(c, sv, &c_out, &s_out, c2s, s2c);
  if (!mutls_conn_handshake_done(c) || !mutls_conn_handshake_done(sv)) goto out;

  say(c, "GET /fuzz HTTP/1.0\r\n\r\n");
  fz_drain(c, &c_out);
  say(sv, "hello from the fuzz server\n");
  if (s_msgs) fz_buf_add(s_msgs, fz_nst_msg, fz_nst_msg_len);
  if (mt_record_write(sv, CT_HANDSHAKE, fz_nst_msg, fz_nst_msg_len) != 0 ||
      key_update(sv, s_msgs) != 0)
    goto out;
  say(sv, "after the server's key update\n");
  fz_drain(sv, &s_out);
  pump(c, sv, &c_out, &s_out, c2s, s2c);
  if (key_update(c, c_msgs) != 0) goto out;
  say(c, "after the client's key update\n");
  fz_drain(c, &c_out);
  pump(c, sv, &c_out, &s_out, c2s, s2c);
  mutls_conn_close(c);
  fz_drain(c, &c_out);
  pump(c, sv, &c_out, &s_out, c2s, s2c);
  mutls_conn_close(sv);
  fz_drain(sv, &s_out);
  pump(c, sv, &c_out, &s_out, c2s, s2c);
  if (c->got_close && sv->got_close && c->err == MUTLS_E_NONE && sv->err == MUTLS_E_NONE) rc = 0;
  int n = session ? mutls_conn_get_session(c, NULL, 0) : 0;
  if (n > 0) {
    uint8_t *blob = malloc((size_t)n);
    if (blob && mutls_conn_get_session(c, blob, (size_t)n) == n) fz_buf_add(session, blob, (size_t)n);
    free(blob);
  }
out:
  if (rc != 0)
    fprintf(stderr, "fz_honest %s: client: %s %s; server: %s %s\n", s->name,
            mutls_error_name(mutls_conn_error(c)), mutls_conn_explain(c),
            mutls_error_name(mutls_conn_error(sv)), mutls_conn_explain(sv));
  fz_buf_free(&c_out);
  fz_buf_free(&s_out);
  mutls_conn_free(c);
  mutls_conn_free(sv);
  return rc;
}
