/* internal.h - the config and connection objects, shared by the engine's files. */
#ifndef MUTLS_INTERNAL_H
#define MUTLS_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "auth/auth.h"
#include "bytes.h"
#include "crypto/crypto.h"
#include "mutls.h"
#include "tls.h"

#define MT_MAX_SUITES 3
#define MT_MAX_GROUPS 3
#define MT_MAX_SCHEMES 6
#define MT_MAX_IDENTITIES 8
#define MT_MAX_CRL_FILES 16

typedef struct mt_ticket_keys mt_ticket_keys; /* ticket.c */
typedef struct mt_session mt_session;         /* session.c */
typedef struct mt_session_cache mt_session_cache;
typedef struct mt_chain_cache mt_chain_cache; /* chain_cache.c */

/* A certificate chain, its key, and the whole Certificate message (4.4.2:
 * handshake header, empty request context, no per-certificate extensions)
 * encoded once, so that a handshake sends it without building it. */
typedef struct {
  mt_chain *chain;
  mt_pkey *key;
  uint8_t *cert_msg;
  size_t cert_msg_len;
} mt_identity;

struct mutls_config {
  int refs;   /* atomic */
  int frozen; /* atomic: set by the first connection */
  mt_identity ids[MT_MAX_IDENTITIES];
  size_t n_ids;
  mt_trust *trust;        /* verifies servers (on a client) */
  mt_trust *client_trust; /* verifies clients (on a server), and nothing else */
  mutls_client_auth client_auth;
  /* The CertificateRequest message, encoded when its inputs change. */
  uint8_t *cr_msg;
  size_t cr_msg_len;
  mt_policy policy;
  /* Revocation: the CRL set may be swapped while the config is in use, so
   * it is read and replaced under lock (each verification takes a ref). */
  pthread_mutex_t lock;
  mt_crls *crls;
  uint64_t crl_gen; /* bumped whenever crls is replaced (under lock once in use) */
  /* Verified peer chains (chain_cache.c); NULL when off. Guards itself. */
  mt_chain_cache *vcache;
  char *crl_files[MT_MAX_CRL_FILES];
  size_t n_crl_files;
  int crl_whole_chain, crl_soft_fail;
  /* Resumption. The ticket keys and the session cache change while the
   * config is in use; each guards itself. */
  unsigned tickets, ticket_lifetime;
  int psk_ke;
  mt_ticket_keys *ticket_keys;
  mt_session_cache *cache;
  int post_handshake_auth;
  int release_buffers; /* mutls_config_set_release_buffers */
  unsigned confirm_ms;
  int verify_peer;
  uint16_t suites[MT_MAX_SUITES];
  size_t n_suites;
  uint16_t groups[MT_MAX_GROUPS];
  size_t n_groups;
  uint16_t schemes[MT_MAX_SCHEMES];
  size_t n_schemes;
  uint8_t alpn[MT_MAX_ALPN + 2]; /* ProtocolNameList body, as on the wire */
  size_t alpn_len;
  FILE *keylog;
  pthread_mutex_t keylog_lock;
  mutls_error err_code;
  char err[512];
};

/* One direction of record protection (5.2, 5.3). */
typedef struct {
  mt_aead *aead;
  uint8_t iv[MT_AEAD_NONCE];
  uint64_t seq;
} mt_dir;

/* Handshake states, one per step of RFC 8446 2 / 4. */
typedef enum {
  ST_START = 0,
  /* client */
  ST_C_WAIT_SH,
  ST_C_WAIT_EE,
  ST_C_WAIT_CERT_CR,
  ST_C_WAIT_CERT,
  ST_C_WAIT_CV,
  ST_C_WAIT_FINISHED,
  ST_C_WAIT_CONFIRM, /* finished; waiting for the server's first flight after it */
  /* server */
  ST_S_WAIT_CH,
  ST_S_WAIT_CH2,
  ST_S_WAIT_CERT,
  ST_S_WAIT_CV,
  ST_S_WAIT_FINISHED,
  /* both */
  ST_CONNECTED,
  ST_FAILED
} mt_state;

/* Values a test injects to reproduce a published trace (RFC 8448). */
typedef struct {
  int active;
  uint8_t random[32];
  uint16_t kex_group;
  uint8_t kex_priv[64];
  size_t kex_priv_len;
  uint8_t cookie[512];
  size_t cookie_len;
  time_t verify_time;
  /* Replace what we would build with these bytes (whole messages for the
   * ClientHellos, the extensions block body for EncryptedExtensions, the
   * signature for CertificateVerify). */
  const uint8_t *client_hello[2];
  size_t client_hello_len[2];
  const uint8_t *ee_exts;
  size_t ee_exts_len;
  const uint8_t *cr_msg; /* the server's whole CertificateRequest message */
  size_t cr_msg_len;
  const uint8_t *signature;
  size_t signature_len;
  /* Called on each outgoing handshake message before it is sent; may
   * rewrite it in place (up to cap bytes) and returns the new length. */
  size_t (*mutate)(void *arg, uint8_t *msg, size_t len, size_t cap);
  void *mutate_arg;
  uint64_t key_update_after; /* records before an automatic KeyUpdate */
} mt_test_inject;

/* 5.5: AES-GCM may protect 2^24.5 full records per key; we update long
 * before, whatever the suite. */
#define MT_KEY_UPDATE_AFTER ((uint64_t)1 << 23)
/* 5.2: what protection adds to a record's content: the header, the inner
 * content type (we never pad) and the AEAD tag. */
#define MT_RECORD_OVERHEAD (MT_RECORD_HEADER + 1 + MT_AEAD_TAG)
/* Ciphertext a connection queues before writes become partial. */
#define MT_OUT_HIGH ((size_t)1 << 20)

struct mutls_conn {
  mutls_config *cfg;
  int is_server;
  mt_state state;
  int fd;

  /* Input: one record at a time. Its header collects in hdr, its body in
   * `in`, allocated when the header says how long the record is (grown,
   * never shrunk, until released: mt_release_idle) and decrypted in place.
   * Application data waits in it (app_off/app_len) until read (copied out
   * by mutls_conn_read, or seen in place through mutls_conn_peek and marked
   * read by mutls_conn_consume). */
  uint8_t hdr[MT_RECORD_HEADER];
  size_t hdr_len;
  uint8_t *in;
  size_t in_cap, in_len;
  size_t app_off, app_len;
  /* Plaintext in `in` is wiped when the buffer is released or freed, and
   * beyond what the next record overwrites (in_plain: how far any reaches),
   * not as it is read: the next record overwrites it anyway. */
  size_t in_plain;
  /* Handshake bytes not yet forming a whole message. */
  mt_writer hs_in;
  /* Ciphertext waiting to go out; out_off is how much was taken. */
  mt_writer out;
  size_t out_off;
  /* Handshake messages of the current flight, sealed into as few records as
   * possible when the flight ends or the write keys change. */
  mt_writer hs_out;

  mt_dir rd, wr;
  int rd_encrypted, wr_encrypted;
  unsigned rd_epoch; /* bumped at every change of read keys */

  /* Transcript: bytes are buffered until the hash is known. */
  mt_writer th_buf;
  mt_hash_ctx *th;

  /* Key schedule (7.1). */
  const mt_suite *suite;
  size_t hlen;
  uint8_t secret[MT_MAX_HASH]; /* handshake secret, then master secret */
  uint8_t c_hs[MT_MAX_HASH], s_hs[MT_MAX_HASH];
  uint8_t c_ap[MT_MAX_HASH], s_ap[MT_MAX_HASH];
  uint8_t exporter[MT_MAX_HASH];
  uint8_t res_master[MT_MAX_HASH];
  /* Resumption: the PSK in use (psk_len 0 for a full handshake). */
  uint8_t psk[MT_MAX_HASH];
  size_t psk_len;
  int resumed;
  mt_session *offer;    /* client: the session offered (owned) */
  mt_session *received; /* client: the newest session received (owned) */
  unsigned tickets_sent;
  int pha_offered;  /* server: the client offered post_handshake_auth */
  int pha_pending;  /* server: a post-handshake CertificateRequest awaits its answer */
  int in_pha;       /* a post-handshake authentication exchange is under way */
  int pha_step;     /* server: 0 Certificate, 1 CertificateVerify, 2 Finished expected */
  mt_writer pha_buf; /* its messages, after the handshake's transcript (4.4) */
  int confirmed;
  int key_update_reply; /* the peer asked for a KeyUpdate: send one before our next data */
  int64_t confirm_deadline; /* ms, CLOCK_REALTIME */

  uint8_t client_random[32];
  uint8_t session_id[32];
  size_t session_id_len;
  uint16_t group;
  mt_kex *kex;
  uint8_t kex_pub[MT_MAX_KEX_PUB];
  size_t kex_pub_len;
  uint16_t peer_scheme;
  uint16_t our_scheme;
  int hrr;
  uint8_t *cookie;
  size_t cookie_len;
  int cert_requested; /* the CertificateRequest was sent (server) or received (client) */
  int cert_sent;      /* client: we sent a non-empty Certificate */
  int id;             /* our identity in cfg->ids, -1 for none */
  uint8_t *cr_context;
  size_t cr_context_len;
  char *notice; /* NULL: none (mt_notice) */
  int ccs_seen;
  int established; /* the handshake completed (stays set after close or failure) */
  int sent_close, got_close;

  /* Sized to their content; NULL when absent. */
  char *server_name;
  char *alpn;

  mutls_peer *peer;

  mutls_error err;
  int alert_sent, alert_received;
  char *why; /* the failure's sentence (mt_fail); NULL before one */

  int release_auto; /* cfg->release_buffers: free each buffer when it goes idle */
  int hs_trimmed;   /* the handshake's own state was freed (mt_after_record) */

  /* &mt_test_none, unless a test injected values (mt_test_inject_set). */
  const mt_test_inject *test;
};

/* ---- config.c ------------------------------------------------------------ */
void mt_config_freeze(mutls_config *cfg);
int mt_config_check(const mutls_config *cfg, int as_server, char *why, size_t len);

/* Test and benchmark hook: the verified-chain cache holds at most max
 * entries (0 turns it off; the default is MT_CHAIN_CACHE_DEFAULT). Like the
 * setters, only before the config's first connection. */
#define MT_CHAIN_CACHE_DEFAULT 1024
int mt_config_set_chain_cache(mutls_config *cfg, unsigned max);

/* ---- chain_cache.c --------------------------------------------------------- */
mt_chain_cache *mt_chain_cache_new(unsigned max); /* NULL for max 0 */
void mt_chain_cache_free(mt_chain_cache *cc);
/* mt_peer_from_der's failures besides mt_verify_code's (all > 0). */
#define MT_PEER_BAD_DER (-1) /* a certificate does not parse: why says which */
#define MT_PEER_NOMEM (-2)
/* The peer's certificates (as received) parsed and verified for c, from
 * the config's verified-chain cache when it holds them and what it
 * established still stands (see chain_cache.c). Returns MT_VERIFY_OK and
 * sets *out (owned by the caller), or a verification code, or one of the
 * two above, with a sentence in why. */
int mt_peer_from_der(mutls_conn *c, const uint8_t *const *der, const size_t *der_len, size_t n,
                     mutls_peer **out, char *why, size_t len);
/* The same for a chain we stored ourselves (a ticket's, a session's):
 * certificates, each u24-prefixed, none empty, 1 to MT_MAX_CHAIN, nothing
 * after them; anything else is MT_PEER_BAD_DER ("the stored chain is
 * malformed", "... holds no certificate"), never cut down to what parses. */
int mt_peer_from_list(mutls_conn *c, mt_reader list, mutls_peer **out, char *why, size_t len);
typedef struct {
  unsigned long hits;       /* outcomes reused as they were */
  unsigned long misses;     /* chains not in the cache: verified in full */
  unsigned long reverified; /* found, but something changed: verified again, not parsed */
  unsigned long evicted;    /* entries pushed out by newer ones */
  size_t entries, max;
} mt_chain_cache_stats_t;
/* Counters since the config was made (all zero when the cache is off). */
void mt_chain_cache_stats(const mutls_config *cfg, mt_chain_cache_stats_t *st);

/* ---- conn.c -------------------------------------------------------------- */
int64_t mt_now_ms(void);
/* Records the first failure (later ones keep the first cause), queues the
 * alert (if alert >= 0) and moves the connection to ST_FAILED. Returns -1 so
 * callers can `return mt_fail(...)`. */
int mt_fail(mutls_conn *c, mutls_error code, int alert, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets the connection's notice (mutls_conn_notice), replacing any older one. */
void mt_notice(mutls_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* *dst = a NUL-terminated copy of n bytes (the old string freed); -1 when
 * out of memory (then *dst is NULL). */
int mt_set_str(char **dst, const void *p, size_t n);
/* The longest notice or failure sentence kept. */
#define MT_MAX_SENTENCE 768
/* Queues a whole handshake message (header included) for sending and adds
 * it to the transcript. Messages are built with mt_hs_begin/mt_hs_end. */
int mt_send_handshake(mutls_conn *c, const uint8_t *msg, size_t len);
size_t mt_hs_begin(mt_writer *w, uint8_t type);
void mt_hs_end(mt_writer *w, size_t token);
int mt_send_ccs(mutls_conn *c);
/* Seals the pending handshake messages into records. */
int mt_flush_handshake(mutls_conn *c);
void mt_keylog(mutls_conn *c, const char *label, const uint8_t *secret);

/* ---- transcript (keysched.c) ---------------------------------------------- */
int mt_transcript_add(mutls_conn *c, const uint8_t *msg, size_t len);
/* Fixes the hash once the suite is known, hashing what was buffered. */
int mt_transcript_start(mutls_conn *c);
int mt_transcript_hash(mutls_conn *c, uint8_t *out);
/* 4.4.1: replaces ClientHello1 with message_hash(Hash(ClientHello1)). */
int mt_transcript_hrr_rewrite(mutls_conn *c);

/* ---- key schedule (keysched.c) -------------------------------------------- */
int mt_hkdf_expand_label(mt_hash_alg h, const uint8_t *secret, const char *label,
                         const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);
/* Several HKDF-Expand-Label outputs of one secret (up to MT_MAX_LABELS),
 * keying HMAC once: each out is what mt_hkdf_expand_label gives it. */
#define MT_MAX_LABELS 4
typedef struct {
  const char *label;
  const uint8_t *ctx;
  size_t ctx_len;
  uint8_t *out;
  size_t out_len;
} mt_label_out;
int mt_hkdf_expand_labels(mt_hash_alg h, const uint8_t *secret, const mt_label_out *o, size_t n);
/* 7.3: write key (key_len bytes) and IV (MT_AEAD_NONCE) of a traffic secret. */
int mt_ks_traffic_keys(mt_hash_alg h, const uint8_t *secret, uint8_t *key, size_t key_len,
                       uint8_t *iv);
int mt_derive_secret(mt_hash_alg h, const uint8_t *secret, const char *label,
                     const uint8_t *thash, uint8_t *out);
/* Early -> handshake secret from the (EC)DHE shared secret; derives and logs
 * c_hs/s_hs over the transcript through ServerHello. */
int mt_ks_handshake(mutls_conn *c, const uint8_t *dhe, size_t dhe_len);
/* Handshake -> master secret; c_ap/s_ap/exporter over the transcript
 * through server Finished. */
int mt_ks_application(mutls_conn *c);
/* Finished verify_data from a base key (4.4.4). */
int mt_finished_mac(mutls_conn *c, const uint8_t *base, uint8_t *out);
/* 7.2: next generation of an application traffic secret. */
int mt_ks_update(mutls_conn *c, uint8_t *secret);
/* 7.1: resumption_master_secret over the transcript so far. */
int mt_ks_resumption(mutls_conn *c);
/* 4.2.11.2: the binder for a PSK over a transcript hash. */
int mt_ks_binder(mt_hash_alg h, const uint8_t *psk, const uint8_t *thash, uint8_t *out);
/* 4.6.1: PSK = HKDF-Expand-Label(res_master, "resumption", nonce, Hash.length) */
int mt_ks_ticket_psk(mt_hash_alg h, const uint8_t *res_master, const uint8_t *nonce,
                     size_t nonce_len, uint8_t *out);

/* ---- record.c ------------------------------------------------------------- */
int mt_dir_set(mutls_conn *c, mt_dir *d, const uint8_t *secret, int encrypt);
void mt_dir_clear(mt_dir *d);
/* Switch a direction to keys derived from a traffic secret. */
int mt_set_read_key(mutls_conn *c, const uint8_t *secret);
int mt_set_write_key(mutls_conn *c, const uint8_t *secret);
/* Seals (or, before keys, frames) one record of type ct into c->out. */
int mt_record_write(mutls_conn *c, uint8_t ct, const uint8_t *data, size_t len);
/* Seals application data straight into out[*produced..cap): whole records
 * of up to MT_MAX_PLAINTEXT bytes each, as many bytes as fit, *produced
 * advanced past each. Returns the bytes of data taken, or -1 when sealing
 * failed (then *produced covers only the whole records before). Only with
 * write keys set and *produced <= cap. */
long mt_record_seal_into(mutls_conn *c, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                         size_t *produced);
/* Processes as much input as it can: see mutls_conn_recv. */
int mt_record_recv(mutls_conn *c, const uint8_t *in, size_t len, size_t *used);
/* How many more bytes the record layer can take now (0 while application
 * data waits to be read, or once closed or failed). */
size_t mt_record_want(const mutls_conn *c);
/* Where the next *want (> 0) bytes of the record being assembled go, for a
 * caller that reads them straight in (io.c): they count once reported with
 * mt_record_filled. NULL after a failure (bad header, out of memory). */
uint8_t *mt_record_room(mutls_conn *c, size_t *want);
void mt_record_filled(mutls_conn *c, size_t n);

/* ---- buffers (conn.c) ------------------------------------------------------ */
/* Wipes and frees every buffer that holds nothing now (a half-received
 * record, unread data or unsent bytes keep theirs); each comes back on
 * demand. */
void mt_release_idle(mutls_conn *c);
/* After a record was processed: the first time the handshake is found
 * complete, frees what only the handshake needed; in automatic mode,
 * releases the buffers that went idle. */
void mt_after_record(mutls_conn *c);

/* ---- tickets (ticket.c, server) and sessions (session.c, client) ---------- */
mt_ticket_keys *mt_ticket_keys_new(void);
void mt_ticket_keys_free(mt_ticket_keys *k);
int mt_ticket_keys_load(mt_ticket_keys *k, const char *path, char *err, size_t err_len);
void mt_ticket_keys_rotate(mt_ticket_keys *k);
void mt_ticket_keys_schedule(mt_ticket_keys *k, unsigned rotate_s, unsigned grace_s);
void mt_ticket_keys_single_use(mt_ticket_keys *k, int on);
/* For tests and fuzzers only: appends to out a ticket holding plaintext pt
 * (the format ticket_plaintext writes), sealed with cfg's current ticket
 * key, as mt_server_send_tickets would. A fuzzer cannot forge a sealed
 * ticket, so without this the opening (decode, binder, identity recheck)
 * would be out of its reach. 0, or -1 if sealing failed. */
int mt_ticket_seal(mutls_config *cfg, const uint8_t *pt, size_t len, mt_writer *out);
/* After the client's Finished: sends cfg->tickets NewSessionTickets. */
int mt_server_send_tickets(mutls_conn *c);
/* Looks at the ClientHello's pre_shared_key: 1 when a ticket is accepted
 * (c->psk, c->resumed and the stored client identity are set), 0 when a
 * full handshake follows, -1 on a fatal error (bad binder...). */
struct mt_client_hello_s;
int mt_server_try_psk(mutls_conn *c, const void *client_hello, const uint8_t *msg, size_t mlen);

mt_session_cache *mt_session_cache_new(unsigned max);
void mt_session_cache_free(mt_session_cache *sc);
void mt_session_free(mt_session *s);
/* Client start: the session to offer, from mutls_conn_set_session or the
 * cache (taken out of it: a ticket is offered once). */
void mt_client_pick_session(mutls_conn *c);
/* Appends psk_key_exchange_modes and pre_shared_key (binder zeroed) when a
 * session is offered; they must be the last extensions. */
void mt_client_put_psk(mutls_conn *c, mt_writer *w);
/* Computes the binder over the finished ClientHello msg in place. */
int mt_client_fill_binder(mutls_conn *c, uint8_t *msg, size_t len);
/* ServerHello's pre_shared_key: accepts the offered session. */
int mt_client_accept_psk(mutls_conn *c, mt_reader *body, uint16_t suite);
int mt_client_recv_ticket(mutls_conn *c, const uint8_t *body, size_t len);
/* The chain stored with a session, as the peer of a resumed connection. */
int mt_client_resumed_peer(mutls_conn *c);

/* ---- handshake dispatch (client.c, server.c) ------------------------------ */
int mt_client_start(mutls_conn *c);
int mt_client_handle(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                     const uint8_t *msg, size_t msg_len);
int mt_server_handle(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                     const uint8_t *msg, size_t msg_len);
/* Post-handshake messages (4.6), both sides. */
int mt_post_handshake(mutls_conn *c, uint8_t type, const uint8_t *body, size_t len,
                      const uint8_t *msg, size_t mlen);
int mt_send_key_update(mutls_conn *c, int request_peer);
/* client.c: a CertificateRequest (in the handshake, or after it with
 * post_handshake_auth): parses it and picks our identity. */
int mt_client_certificate_request(mutls_conn *c, const uint8_t *body, size_t len, int post);
/* client.c: Certificate, CertificateVerify (if we have an identity). */
int mt_client_send_identity(mutls_conn *c);

/* ---- shared handshake steps (handshake.c) ---------------------------------- */
int mt_send_finished(mutls_conn *c);
int mt_recv_finished(mutls_conn *c, const uint8_t *body, size_t len);
/* The content a CertificateVerify signs (4.4.3). out holds 64 + 34 + hlen. */
size_t mt_cv_content(mutls_conn *c, int by_server, uint8_t *out);
int mt_send_certificate(mutls_conn *c);
int mt_send_certificate_verify(mutls_conn *c);
int mt_recv_certificate_verify(mutls_conn *c, const uint8_t *body, size_t len);
int mt_recv_certificate(mutls_conn *c, const uint8_t *body, size_t len);
/* The full verification, never from the cache: w (may be NULL) receives
 * what it established, crl_gen (may be NULL) the CRL set it used. */
mt_verify_code mt_verify_peer_chain_window(mutls_conn *c, const mt_chain *chain, mt_verified *w,
                                           uint64_t *crl_gen, char *why, size_t len);
int mt_random_bytes(mutls_conn *c, uint8_t *out, size_t len);
int mt_kex_new(mutls_conn *c, uint16_t group);
/* Explains a received fatal alert as its likely cause. */
const char *mt_alert_cause(int alert, int we_are_server);

/* Test-only hooks (tests/ includes this file). */
void mt_test_inject_set(mutls_conn *c, const mt_test_inject *t);

#endif
