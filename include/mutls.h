/*
 * mutls.h - TLS 1.3 and mutual TLS. The one public header.
 *
 * A config holds what is expensive and shared: identity (certificate chain
 * and private key), trust anchors, preferences. It is reference counted and
 * becomes immutable the moment a connection uses it: setters then fail with
 * MUTLS_E_CONFIG_FROZEN. Set a config up completely before the first
 * connection: setters are not synchronised with connections being created
 * in other threads. (The calls marked "works on a config in use" are.)
 *
 * A connection is sans-I/O at its core: feed it ciphertext with
 * mutls_conn_recv(), take ciphertext from it with mutls_conn_send(). The
 * socket helpers (mutls_conn_set_fd, mutls_handshake, mutls_read,
 * mutls_write, mutls_shutdown) sit on top, for blocking and non-blocking
 * descriptors.
 *
 * Every failure has a stable code (mutls_error), the TLS alert sent or
 * received, and one sentence naming the cause and the fix
 * (mutls_conn_explain).
 *
 * Ownership: strings returned by getters belong to the object they came
 * from and live as long as it. Pointers passed in are copied unless stated.
 *
 * NULL objects: every function accepts NULL for its config, connection or
 * peer, and then does nothing: calls that return a status give MUTLS_ERR,
 * getters what means "none" (NULL, 0, or -1 where -1 means none),
 * mutls_client_new and mutls_server_new NULL, and the free functions
 * nothing, like free(). The few other results are noted where declared.
 * A NULL data buffer with a non-zero length (recv, send, read, write,
 * write_into, get_session, set_session, export, mutls_read, mutls_write)
 * is refused the same way, with MUTLS_ERR, and changes nothing; with
 * length 0, NULL is fine.
 */
#ifndef MUTLS_H
#define MUTLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MUTLS_API __attribute__((visibility("default")))
#else
#define MUTLS_API
#endif

#define MUTLS_VERSION "0.1.0"

/* Return values of calls that move a connection forward. */
#define MUTLS_OK 0
#define MUTLS_ERR (-1)        /* failed: see mutls_conn_error/explain */
#define MUTLS_WANT_READ (-2)  /* needs more input from the peer */
#define MUTLS_WANT_WRITE (-3) /* output is waiting: socket not writable */
#define MUTLS_CLOSED (-4)     /* the peer sent close_notify */

/* Stable error codes. Numbers never change meaning. */
typedef enum {
  MUTLS_E_NONE = 0,
  MUTLS_E_INTERNAL = 1,           /* a bug or libcrypto failure */
  MUTLS_E_NOMEM = 2,
  MUTLS_E_CONFIG = 3,             /* the config is incomplete or a setting is invalid */
  MUTLS_E_CONFIG_FROZEN = 4,      /* setter called after a connection used the config */
  MUTLS_E_STATE = 5,              /* call not valid in this state (or on a NULL conn) */
  MUTLS_E_IO = 6,                 /* the socket failed (errno in the sentence) */
  MUTLS_E_EOF = 7,                /* TCP closed without close_notify */
  MUTLS_E_DECODE = 10,            /* malformed message            -> decode_error */
  MUTLS_E_UNEXPECTED_MESSAGE = 11,/* message not valid here       -> unexpected_message */
  MUTLS_E_ILLEGAL_PARAMETER = 12, /* field with a forbidden value -> illegal_parameter */
  MUTLS_E_PROTOCOL_VERSION = 13,  /* peer does not speak TLS 1.3  -> protocol_version */
  MUTLS_E_NO_SHARED_CIPHER = 14,  /* -> handshake_failure */
  MUTLS_E_NO_SHARED_GROUP = 15,   /* -> handshake_failure */
  MUTLS_E_NO_SHARED_SIGALG = 16,  /* -> handshake_failure */
  MUTLS_E_MISSING_EXTENSION = 17, /* -> missing_extension */
  MUTLS_E_UNSUPPORTED_EXTENSION = 18, /* -> unsupported_extension */
  MUTLS_E_NO_APPLICATION_PROTOCOL = 19, /* ALPN mismatch -> no_application_protocol */
  MUTLS_E_BAD_RECORD_MAC = 20,    /* record failed to decrypt     -> bad_record_mac */
  MUTLS_E_RECORD_OVERFLOW = 21,   /* record too long              -> record_overflow */
  MUTLS_E_BAD_FINISHED = 22,      /* Finished did not verify      -> decrypt_error */
  MUTLS_E_BAD_SIGNATURE = 23,     /* CertificateVerify wrong      -> decrypt_error */
  MUTLS_E_CERT_UNTRUSTED = 30,    /* no path to a trusted CA      -> unknown_ca */
  MUTLS_E_CERT_EXPIRED = 31,      /* -> certificate_expired */
  MUTLS_E_CERT_NOT_YET_VALID = 32,/* -> certificate_expired */
  MUTLS_E_CERT_NAME_MISMATCH = 33,/* host name not in certificate -> bad_certificate */
  MUTLS_E_CERT_BAD = 34,          /* unparsable or bad signature  -> bad_certificate */
  MUTLS_E_CERT_UNSUPPORTED = 35,  /* wrong key usage / EKU / key  -> unsupported_certificate */
  MUTLS_E_CERT_MISSING = 36,      /* peer sent no certificate     -> certificate_required */
  MUTLS_E_ACCESS_DENIED = 37,     /* verified, but refused by the allow rules -> access_denied */
  MUTLS_E_CERT_REVOKED = 38,      /* listed in a loaded CRL       -> certificate_revoked */
  MUTLS_E_CRL_MISSING = 39,       /* no CRL for an issuer         -> certificate_unknown */
  MUTLS_E_CRL_STALE = 42,         /* a CRL past its nextUpdate    -> certificate_unknown */
  MUTLS_E_PEER_ALERT = 40,        /* the peer sent a fatal alert (see alert_received) */
  MUTLS_E_TIMEOUT = 41            /* a bounded wait expired */
} mutls_error;

/* Names: "MUTLS_E_CERT_EXPIRED"; alert names: "certificate_expired". */
MUTLS_API const char *mutls_error_name(mutls_error e);
MUTLS_API const char *mutls_alert_name(int alert);

/* ---- configs ------------------------------------------------------------- */
typedef struct mutls_config mutls_config;

/* A new config with one reference. Defaults: TLS 1.3, every supported cipher
 * suite (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), groups X25519,
 * secp256r1, secp384r1, every supported signature scheme, peer verified
 * (clients check the server's chain and name). */
MUTLS_API mutls_config *mutls_config_new(void);
MUTLS_API mutls_config *mutls_config_ref(mutls_config *cfg);
MUTLS_API void mutls_config_free(mutls_config *cfg); /* drops one reference; NULL ok */

/* Each setter returns MUTLS_OK or MUTLS_ERR; mutls_config_error() then says
 * why in one sentence. For a NULL cfg: a sentence saying so, and
 * MUTLS_E_CONFIG. */
MUTLS_API const char *mutls_config_error(const mutls_config *cfg);
MUTLS_API mutls_error mutls_config_error_code(const mutls_config *cfg);

/* Our certificate chain (PEM, leaf first, then intermediates) and its key. */
MUTLS_API int mutls_config_set_identity_files(mutls_config *cfg, const char *chain_pem,
                                              const char *key_pem);
/* Trust anchors (PEM) used to verify the peer. */
MUTLS_API int mutls_config_set_trust_file(mutls_config *cfg, const char *ca_pem);
/* 1 (default): verify the peer's chain and (clients) its name. 0: accept any
 * server certificate (testing only; the CertificateVerify is still checked). */
MUTLS_API int mutls_config_set_verify_peer(mutls_config *cfg, int on);
/* Preference lists, colon or comma separated, most preferred first:
 *   cipher suites: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 *                  TLS_CHACHA20_POLY1305_SHA256
 *   groups:        x25519, secp256r1 (or P-256), secp384r1 (or P-384)
 *   signature schemes: ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384,
 *                  rsa_pss_rsae_sha256, rsa_pss_rsae_sha384,
 *                  rsa_pss_rsae_sha512, ed25519
 * A server picks by its own order. A client sends a key share for the first
 * group only; the server may ask for another (HelloRetryRequest). */
MUTLS_API int mutls_config_set_cipher_suites(mutls_config *cfg, const char *list);
MUTLS_API int mutls_config_set_groups(mutls_config *cfg, const char *list);
MUTLS_API int mutls_config_set_signature_schemes(mutls_config *cfg, const char *list);
/* ALPN protocols, comma separated ("h2,http/1.1"). A server with ALPN
 * configured refuses a client whose list shares none
 * (no_application_protocol); a client without ALPN is served anyway. */
MUTLS_API int mutls_config_set_alpn(mutls_config *cfg, const char *list);
/* Appends the secrets of every connection to path in the SSLKEYLOGFILE
 * format (for Wireshark). Anyone who reads that file can decrypt traffic. */
MUTLS_API int mutls_config_set_keylog_file(mutls_config *cfg, const char *path);

/* ---- mutual TLS ------------------------------------------------------------ */
/* How a server treats client certificates. A server config that trusts
 * client CAs must choose explicitly: until it does, connections using it fail
 * with MUTLS_E_CONFIG (fail closed). */
typedef enum {
  MUTLS_CLIENT_AUTH_UNSET = 0,
  MUTLS_CLIENT_AUTH_NONE = 1,     /* never ask for a client certificate */
  MUTLS_CLIENT_AUTH_OPTIONAL = 2, /* ask; verify one if sent; serve clients without one */
  MUTLS_CLIENT_AUTH_REQUIRED = 3  /* ask; refuse clients without one (certificate_required) */
} mutls_client_auth;
MUTLS_API int mutls_config_set_client_auth(mutls_config *cfg, mutls_client_auth mode);
/* Server: the CAs whose client certificates it accepts (PEM). Used only to
 * verify clients, never for anything else; their subjects are listed in the
 * CertificateRequest so that clients can pick the right certificate. */
MUTLS_API int mutls_config_set_client_ca_file(mutls_config *cfg, const char *ca_pem);
/* Adds another identity (chain + key), up to 8. A server uses the first; a
 * client answering a CertificateRequest picks the first whose chain a CA in
 * the server's list issued and whose key can sign a scheme the server
 * accepts. mutls_config_set_identity_files replaces them all with one. */
MUTLS_API int mutls_config_add_identity_files(mutls_config *cfg, const char *chain_pem,
                                              const char *key_pem);
// Allow rules for the verified peer (clients on a server, the server on a
// client); OR-ed; with none, any verified peer is allowed. A peer that
// matches none is refused with access_denied. Syntax (the CLI's --allow-*
// options take the same patterns):
//   uri:spiffe://example.org/billing/api   exact URI SAN (a SPIFFE ID)
//   uri:spiffe://example.org/billing/*     any URI below that path
//   dns:api.example.org   dns:*.example.org   DNS SAN, exact or one left label
//   cn:NAME     subject common name, exact
//   ou:NAME     one of the subject's organizational units, exact
//   pin:HEX     SHA-256 of the leaf certificate (DER), 64 hex digits
//   spki:HEX    SHA-256 of the leaf's public key (SubjectPublicKeyInfo DER)
MUTLS_API int mutls_config_allow(mutls_config *cfg, const char *rule);
/* Checks that the config is complete for a server (as_server = 1) or a
 * client: the same checks a new connection makes. MUTLS_OK, or MUTLS_ERR
 * with the reason in mutls_config_error(). */
MUTLS_API int mutls_config_check(mutls_config *cfg, int as_server);

/* ---- revocation -------------------------------------------------------------- */
/* CRL files (PEM or DER) checked when verifying the peer's chain. By default
 * only the leaf is checked and a missing or stale CRL is an error (hard
 * fail); mutls_config_set_crl_check changes both. */
MUTLS_API int mutls_config_add_crl_file(mutls_config *cfg, const char *path);
MUTLS_API int mutls_config_set_crl_check(mutls_config *cfg, int whole_chain, int soft_fail);
/* Replaces the CRLs of a config, even one in use: connections that verify a
 * peer after this call use the new set. All files load first; on any error
 * nothing changes. */
MUTLS_API int mutls_config_reload_crls(mutls_config *cfg, const char *const *paths, size_t n);

/* ---- resumption (RFC 8446 2.2, 4.6.1) ------------------------------------------ */
/* Server: tickets sent right after each full handshake (default 1; 0 turns
 * resumption off) and their lifetime in seconds (default 7200, at most
 * 604800). A resumed client is re-checked against the current time, CRLs and
 * allow rules; if it no longer passes, a full handshake follows. */
MUTLS_API int mutls_config_set_tickets(mutls_config *cfg, unsigned count, unsigned lifetime_s);
/* Server: ticket keys rotate every rotate_s seconds (default 43200); the
 * previous key still opens tickets for grace_s more (default 7200). */
MUTLS_API int mutls_config_set_ticket_rotation(mutls_config *cfg, unsigned rotate_s,
                                               unsigned grace_s);
/* Server: ticket keys shared by several servers, from a file of lines of 96
 * hex digits (a 16-byte key name, then a 32-byte key): the first line seals,
 * every line opens (`openssl rand -hex 48 > ticket.keys`). No automatic
 * rotation then: rotate by adding a line on top and reloading. */
MUTLS_API int mutls_config_set_ticket_key_file(mutls_config *cfg, const char *path);
/* Server: rotate now (works on a config in use). */
MUTLS_API int mutls_config_rotate_ticket_keys(mutls_config *cfg);
/* Server: each ticket resumes at most once. */
MUTLS_API int mutls_config_set_single_use_tickets(mutls_config *cfg, int on);
/* Both: also allow psk_ke, resumption without a fresh key exchange (no
 * forward secrecy for the resumed connection). Off by default. */
MUTLS_API int mutls_config_set_psk_ke(mutls_config *cfg, int on);
/* Client: remember tickets per server name in the config (default 256
 * names; 0 turns the cache off). A ticket is offered once, then dropped. */
MUTLS_API int mutls_config_set_session_cache(mutls_config *cfg, unsigned max_names);

/* ---- post-handshake client authentication (RFC 8446 4.6.2) --------------------- */
/* Client: offer post_handshake_auth, so a server may ask for our
 * certificate after the handshake. Off by default. */
MUTLS_API int mutls_config_set_post_handshake_auth(mutls_config *cfg, int on);

/* ---- confirmation of acceptance ------------------------------------------------- */
/* Client: in TLS 1.3 the client finishes before the server has judged its
 * certificate, so a refused client learns it on its first read. With a
 * timeout, the handshake completes only once the server's first flight
 * after it arrives (a ticket, data, or the refusing alert), waiting at most
 * timeout_ms; against a server that sends nothing it then completes
 * unconfirmed (mutls_conn_confirmed() == 0, and a notice says so). 0 (the
 * default) turns it off. */
MUTLS_API int mutls_config_set_confirm(mutls_config *cfg, unsigned timeout_ms);

/* ---- memory ------------------------------------------------------------------ */
/* Connections free each buffer as soon as it holds nothing (the record
 * input once read, the ciphertext output once sent, handshake buffers
 * between flights), wiped first, and allocate it again when needed: the
 * least memory per idle connection, for a malloc and a free per record.
 * Like OpenSSL's SSL_MODE_RELEASE_BUFFERS. Off by default: buffers then
 * keep the size of the largest record seen (the handshake's are freed when
 * it completes). See also mutls_conn_release_buffers. */
MUTLS_API int mutls_config_set_release_buffers(mutls_config *cfg, int on);

/* ---- connections ---------------------------------------------------------- */
typedef struct mutls_conn mutls_conn;

/* server_name: the host name (or IP literal) the server's certificate must
 * match; also sent as SNI unless it is an IP literal. NULL skips the name
 * check (only allowed with verification off). The conn holds a reference to
 * cfg. NULL on allocation failure. */
MUTLS_API mutls_conn *mutls_client_new(mutls_config *cfg, const char *server_name);
MUTLS_API mutls_conn *mutls_server_new(mutls_config *cfg);
/* Wipes secrets and frees; does not close the descriptor. NULL ok. */
MUTLS_API void mutls_conn_free(mutls_conn *c);

/* -- sans-I/O core -- */
/* Consumes ciphertext from the peer. *used says how much was taken: the
 * connection stops taking input while decrypted application data waits to be
 * read. Returns MUTLS_OK or MUTLS_ERR (an alert for the peer is then queued:
 * send it). */
MUTLS_API int mutls_conn_recv(mutls_conn *c, const uint8_t *in, size_t len, size_t *used);
/* Copies up to cap bytes of pending ciphertext into out. */
MUTLS_API int mutls_conn_send(mutls_conn *c, uint8_t *out, size_t cap, size_t *produced);
/* Bytes of ciphertext waiting to be sent. */
MUTLS_API size_t mutls_conn_pending(const mutls_conn *c);
/* 1 once the handshake has completed on this side. */
MUTLS_API int mutls_conn_handshake_done(const mutls_conn *c);
/* Decrypted application data: returns bytes read (> 0; 0 when len is 0),
 * MUTLS_WANT_READ, MUTLS_CLOSED or MUTLS_ERR. */
MUTLS_API int mutls_conn_read(mutls_conn *c, void *buf, size_t len);
/* Zero-copy reading: the same data as mutls_conn_read, without the copy.
 * mutls_conn_peek points *data at the decrypted application data waiting in
 * the connection (the rest of one record, at most 16384 bytes) and sets *len
 * (> 0); it returns MUTLS_OK, or what mutls_conn_read would (MUTLS_WANT_READ,
 * MUTLS_CLOSED, MUTLS_ERR) with *data = NULL and *len = 0. It marks nothing
 * read: peeking twice gives the same view. MUTLS_ERR if an argument is NULL.
 * The view belongs to the connection: read it, never write or free it. It
 * stays valid, unchanged, until the next mutls_conn_consume, mutls_conn_read,
 * mutls_conn_recv, mutls_conn_release_buffers, socket helper or
 * mutls_conn_free on c. Other calls leave it valid: mutls_conn_write (so the
 * view can be written straight back), mutls_conn_send, mutls_conn_close,
 * mutls_conn_key_update and the getters. Once consumed, the bytes are
 * not wiped at once: like data read with mutls_conn_read, they stay in the
 * connection's buffer until its next record overwrites them, a release or
 * mutls_conn_free. */
MUTLS_API int mutls_conn_peek(mutls_conn *c, const uint8_t **data, size_t *len);
/* Marks the first n bytes of the view read, as mutls_conn_read of n bytes
 * would: the next peek starts after them, and once all is consumed the
 * connection takes input again (and, with mutls_config_set_release_buffers,
 * frees its input buffer). Returns MUTLS_OK; MUTLS_ERR for a NULL c or for n
 * beyond what peek gives, which changes nothing (mutls_conn_notice says
 * why). n = 0 does nothing. */
MUTLS_API int mutls_conn_consume(mutls_conn *c, size_t n);
/* Encrypts application data into the output queue. Returns the bytes taken:
 * len, or fewer when the queue nears its bound (1 MiB of ciphertext not yet
 * sent); MUTLS_WANT_WRITE when it is full (send first); MUTLS_ERR before
 * the handshake completes, after mutls_conn_close (mutls_conn_notice says
 * why; nothing is torn down) or once the connection failed. */
MUTLS_API int mutls_conn_write(mutls_conn *c, const void *buf, size_t len);
/* Zero-copy sending: encrypts application data straight into out, as
 * mutls_conn_write followed by mutls_conn_send would, without the copy of
 * the ciphertext from the output queue. Same preconditions and errors as
 * mutls_conn_write: only after the handshake and before mutls_conn_close
 * (else MUTLS_ERR, mutls_conn_notice says why, nothing is torn down), and
 * MUTLS_ERR once the connection failed.
 * Order is kept. First, what is already queued (a KeyUpdate from
 * mutls_conn_key_update, or one due by itself as for mutls_conn_write, a
 * post-handshake message, data from mutls_conn_write) is copied into out.
 * If it does not all fit, nothing of buf is taken: 0 is returned and
 * *produced says how much of the queue was copied; send that, call again.
 * Then buf is sealed into the rest of out in whole records of up to 16384
 * bytes (each 22 bytes longer than its content: header, content type,
 * tag), as many bytes as fit; the last record may be shorter, and when
 * fewer than 23 bytes are left (not even a 1-byte record) none is made. No
 * partial record is ever left in out. Never MUTLS_WANT_WRITE: too little
 * room takes less, or 0.
 * Returns the bytes of buf taken (0 to len, at most INT32_MAX per call) and
 * sets *produced to the bytes written to out, which must go to the peer in
 * order and in full before anything mutls_conn_send gives later. len = 0
 * only copies the queue. MUTLS_ERR, with nothing written or torn down, if c
 * or produced is NULL, out is NULL with cap > 0, or buf is NULL with
 * len > 0. If sealing fails, the connection fails (MUTLS_E_INTERNAL):
 * MUTLS_ERR, with *produced counting the whole records already in out; send
 * them, then the alert mutls_conn_send gives. buf and out must not overlap;
 * both stay the caller's: buf is only read, neither is kept. */
MUTLS_API int mutls_conn_write_into(mutls_conn *c, const void *buf, size_t len, uint8_t *out,
                                    size_t cap, size_t *produced);
/* Queues close_notify. */
MUTLS_API int mutls_conn_close(mutls_conn *c);
/* Queues a KeyUpdate (4.6.3) and moves to new sending keys; request_peer
 * asks the peer to update too. mutls also updates by itself long before an
 * AEAD's usage limit. */
MUTLS_API int mutls_conn_key_update(mutls_conn *c, int request_peer);
/* Server: asks the client for its certificate now (post-handshake). If it
 * cannot (the client did not offer post_handshake_auth, no client CA, a
 * request already pending), returns MUTLS_ERR with the reason in
 * mutls_conn_notice(); the connection stays usable. The answer arrives with
 * later input; then mutls_conn_peer() holds the client's identity (NULL if
 * it answered with none). */
MUTLS_API int mutls_conn_request_client_cert(mutls_conn *c);
/* 1 while a post-handshake certificate request waits for its answer. */
MUTLS_API int mutls_conn_client_cert_pending(const mutls_conn *c);
/* Client with confirmation on: gives up waiting (the socket helpers call it
 * when the timeout passes); the connection completes, unconfirmed. */
MUTLS_API int mutls_conn_skip_confirm(mutls_conn *c);
/* Wipes and frees the buffers that hold nothing now, e.g. before a
 * connection goes idle for long; a half-received record, unread data and
 * unsent ciphertext keep theirs. Buffers come back on demand. Returns
 * MUTLS_OK (MUTLS_ERR for NULL). */
MUTLS_API int mutls_conn_release_buffers(mutls_conn *c);
/* Sessions: the newest one received on this connection, serialized (it
 * holds a secret: store it like a private key). Returns its length, or
 * MUTLS_ERR if none; if cap is too small nothing is written. */
MUTLS_API int mutls_conn_get_session(const mutls_conn *c, uint8_t *out, size_t cap);
/* Client, before the handshake: the session to offer (overrides the cache).
 * Its server chain is judged now, as if the server had just sent it for
 * this connection's name (RFC 8446 4.6.1: resume only where the original
 * certificate is valid for the new name). Returns MUTLS_OK, or MUTLS_ERR for
 * a malformed blob or a chain that does not pass (mutls_conn_notice says
 * why); then the connection makes a full handshake. */
MUTLS_API int mutls_conn_set_session(mutls_conn *c, const uint8_t *data, size_t len);

/* -- sockets -- */
/* The descriptor is not owned: the caller closes it after mutls_conn_free. */
MUTLS_API int mutls_conn_set_fd(mutls_conn *c, int fd);
/* Each returns MUTLS_OK (or a byte count), MUTLS_WANT_READ / MUTLS_WANT_WRITE
 * on a non-blocking descriptor, MUTLS_CLOSED, or MUTLS_ERR. A blocking
 * descriptor never sees the WANT values. */
MUTLS_API int mutls_handshake(mutls_conn *c);
MUTLS_API int mutls_read(mutls_conn *c, void *buf, size_t len);
MUTLS_API int mutls_write(mutls_conn *c, const void *buf, size_t len);
/* Sends close_notify and flushes it (does not wait for the peer's). */
MUTLS_API int mutls_shutdown(mutls_conn *c);
/* Flushes pending output to the descriptor. */
MUTLS_API int mutls_flush(mutls_conn *c);

/* ---- what was negotiated --------------------------------------------------- */
MUTLS_API const char *mutls_conn_version(const mutls_conn *c);      /* "TLSv1.3" or NULL */
MUTLS_API const char *mutls_conn_cipher_suite(const mutls_conn *c); /* "TLS_AES_128_GCM_SHA256" */
MUTLS_API const char *mutls_conn_group(const mutls_conn *c);        /* "x25519" */
/* The scheme the server signed with in its CertificateVerify. */
MUTLS_API const char *mutls_conn_signature_scheme(const mutls_conn *c);
MUTLS_API const char *mutls_conn_alpn(const mutls_conn *c);         /* NULL if none */
MUTLS_API const char *mutls_conn_server_name(const mutls_conn *c);  /* SNI; NULL if none */
MUTLS_API int mutls_conn_used_hrr(const mutls_conn *c);             /* 1 if HelloRetryRequest */
MUTLS_API int mutls_conn_resumed(const mutls_conn *c);              /* 1 if resumed from a ticket */
MUTLS_API int mutls_conn_confirmed(const mutls_conn *c);            /* see mutls_config_set_confirm */
MUTLS_API int mutls_conn_is_server(const mutls_conn *c);

/* Client side: 1 if the server asked for a client certificate, and 1 if we
 * sent one. */
MUTLS_API int mutls_conn_cert_requested(const mutls_conn *c);
MUTLS_API int mutls_conn_cert_sent(const mutls_conn *c);
/* Which identity of the config this side presented (the index in the order
 * they were added), or -1 for none. */
MUTLS_API int mutls_conn_identity(const mutls_conn *c);
/* One sentence about a choice that did not fail the handshake but may
 * surprise: why no client certificate was sent, or that the server never
 * asked for it. "" if none. For a NULL c, mutls_conn_explain's sentence:
 * calls refused without failing the connection say why here. */
MUTLS_API const char *mutls_conn_notice(const mutls_conn *c);

/* ---- the peer's identity ------------------------------------------------------ */
/* The peer's certificate chain, verified (unless verification is off), leaf
 * first; NULL if the peer sent none. Lives as long as the connection. */
typedef struct mutls_peer mutls_peer;
MUTLS_API const mutls_peer *mutls_conn_peer(const mutls_conn *c);
MUTLS_API size_t mutls_peer_chain_length(const mutls_peer *p);
/* Certificate i as DER; NULL with *len = 0 if there is none. */
MUTLS_API const uint8_t *mutls_peer_cert_der(const mutls_peer *p, size_t i, size_t *len);
/* Certificate i as PEM into out (NUL-terminated): the length, or MUTLS_ERR
 * if out is too small. */
MUTLS_API int mutls_peer_cert_pem(const mutls_peer *p, size_t i, char *out, size_t cap);
MUTLS_API const char *mutls_peer_subject(const mutls_peer *p); /* "CN=api,O=Example" */
MUTLS_API const char *mutls_peer_issuer(const mutls_peer *p);
typedef enum {
  MUTLS_SAN_DNS = 1,
  MUTLS_SAN_IP = 2,
  MUTLS_SAN_URI = 3,
  MUTLS_SAN_EMAIL = 4
} mutls_san_type;
MUTLS_API size_t mutls_peer_san_count(const mutls_peer *p, mutls_san_type type);
MUTLS_API const char *mutls_peer_san(const mutls_peer *p, mutls_san_type type, size_t i);
/* All SANs on one line: "DNS:a.example, IP:127.0.0.1, URI:spiffe://x/y". */
MUTLS_API const char *mutls_peer_sans(const mutls_peer *p);
/* The URI SAN if it is the leaf's only URI SAN and a spiffe:// one. */
MUTLS_API const char *mutls_peer_spiffe_id(const mutls_peer *p);
/* SHA-256 (hex) of the leaf certificate, and of its public key (for pins). */
MUTLS_API const char *mutls_peer_fingerprint(const mutls_peer *p);
MUTLS_API const char *mutls_peer_spki_fingerprint(const mutls_peer *p);
/* Validity of the leaf, Unix time, and as "2026-11-20 12:00:00 UTC". */
MUTLS_API int64_t mutls_peer_not_before(const mutls_peer *p);
MUTLS_API int64_t mutls_peer_not_after(const mutls_peer *p);
MUTLS_API const char *mutls_peer_not_after_text(const mutls_peer *p);

/* RFC 8446 7.5 exporter. context may be NULL (then an empty context). */
MUTLS_API int mutls_conn_export(const mutls_conn *c, const char *label,
                                const uint8_t *context, size_t context_len,
                                uint8_t *out, size_t out_len);

/* ---- why it failed ----------------------------------------------------------- */
/* MUTLS_E_NONE while nothing failed; MUTLS_E_STATE for a NULL c (no code
 * means "no connection", and MUTLS_E_NONE would say all is well). */
MUTLS_API mutls_error mutls_conn_error(const mutls_conn *c);
/* TLS alert codes, or -1 if none. */
MUTLS_API int mutls_conn_alert_sent(const mutls_conn *c);
MUTLS_API int mutls_conn_alert_received(const mutls_conn *c);
/* One sentence: the cause and, where one exists, the fix. "" if no error;
 * for a NULL c, a sentence saying so. */
MUTLS_API const char *mutls_conn_explain(const mutls_conn *c);

#ifdef __cplusplus
}
#endif
#endif
