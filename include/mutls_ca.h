/*
 * mutls_ca.h - experimental: a small certificate authority for mutual TLS.
 *
 * What `mutls ca` and `mutls cert` are built on: make keys, issue
 * certificates with correct server and client profiles, make CRLs, read a
 * certificate back, and ask "would a mutls peer accept this chain?" with the
 * very code and sentence a handshake would give. Certificates are built and
 * parsed with libcrypto's X.509 code.
 *
 * Experimental: names and structs here may still change between releases;
 * mutls.h does not.
 *
 * Conventions:
 *  - PEM inputs are NUL-terminated text. A certificate input may hold a
 *    chain: its first certificate is the one used.
 *  - Lists of strings are NULL-terminated arrays; a NULL list is empty.
 *  - Every call returns MUTLS_OK or MUTLS_ERR. On MUTLS_ERR, *st (when st is
 *    not NULL) holds a code and one sentence naming the cause and the fix;
 *    outputs are then left NULL / empty.
 *  - PEM outputs are malloc'ed NUL-terminated text owned by the caller, who
 *    releases them with mutls_ca_free() (which wipes them: key PEMs are
 *    secrets).
 */
#ifndef MUTLS_CA_H
#define MUTLS_CA_H

#include <stddef.h>
#include <stdint.h>

#include "mutls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As long as a connection's sentence (mutls_conn_explain), so that
 * mutls_ca_check never cuts one short that a handshake would give whole. */
#define MUTLS_CA_WHY_LEN 768
/* A serial number as hex: up to 20 bytes (RFC 5280 4.1.2.2), with room for
 * the longer ones found in the wild. */
#define MUTLS_CA_SERIAL_LEN 80

/* The outcome of a call, filled by every call that takes one. */
typedef struct {
  mutls_error code;           /* MUTLS_E_NONE after success */
  int alert;                  /* mutls_ca_check: the alert a mutls peer would send; else -1 */
  char why[MUTLS_CA_WHY_LEN]; /* one sentence; "" after success (see mutls_ca_check) */
} mutls_ca_status;

/* Frees a PEM returned by this header's calls, wiping it first. NULL ok. */
MUTLS_API void mutls_ca_free(char *pem);

/* ---- keys ---------------------------------------------------------------- */
typedef enum {
  MUTLS_KEY_P256 = 1, /* ECDSA on P-256 */
  MUTLS_KEY_P384 = 2, /* ECDSA on P-384 */
  MUTLS_KEY_ED25519 = 3,
  MUTLS_KEY_RSA3072 = 4 /* rsaEncryption, 3072 bits */
} mutls_key_type;

/* "p256", "p384", "ed25519", "rsa3072" (any case) to a type. */
MUTLS_API int mutls_ca_key_type_from_name(const char *name, mutls_key_type *type,
                                          mutls_ca_status *st);
/* A new private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----",
 * unencrypted) in *key_pem: the caller stores it with mode 0600 and frees
 * it with mutls_ca_free. */
MUTLS_API int mutls_ca_generate_key(mutls_key_type type, char **key_pem, mutls_ca_status *st);

/* ---- certificates -------------------------------------------------------- */
/* What to put in a certificate. Zero it, then fill in what applies. */
typedef struct {
  const char *common_name;         /* required: the subject's CN, UTF-8, up to 64 characters */
  const char *const *organization; /* O values, in order */
  const char *const *org_unit;     /* OU values, in order */
  /* A CA: basicConstraints critical CA:TRUE, keyUsage critical keyCertSign
   * and cRLSign. path_len: how many intermediate CAs may sit below it; 0
   * (the zeroed default) allows none, -1 sets no limit. */
  int is_ca;
  int path_len;
  /* Extended key usage. A leaf (not a CA) needs at least one. On a CA it
   * limits what the CA may issue; leave both 0 for no limit. */
  int server_auth, client_auth;
  /* Subject alternative names: host names (a "*." wildcard as the whole
   * left-most label is allowed), IPv4/IPv6 addresses as text, URIs (a
   * SPIFFE ID is one spiffe:// URI), email addresses. A leaf needs at least
   * one: TLS clients match names against SANs only. */
  const char *const *dns;
  const char *const *ip;
  const char *const *uri;
  const char *const *email;
  /* Validity: from not_before (Unix time), for days (1 to 36500) counted
   * from it. not_before 0: now minus 5 minutes, to absorb clock skew
   * between machines, with days counted from now. */
  int64_t not_before;
  unsigned days;
} mutls_ca_profile;

/* Issues a certificate for the key in subject_key_pem (a private key PEM,
 * or a "PUBLIC KEY" PEM) as profile p says, signed by the CA whose
 * certificate and private key are issuer_cert_pem and issuer_key_pem. With
 * issuer_cert_pem NULL it is self-signed: subject_key_pem must then be a
 * private key and issuer_key_pem NULL.
 *
 * Leaves get basicConstraints critical CA:FALSE, keyUsage critical
 * digitalSignature (plus keyEncipherment for RSA keys), the extended key
 * usage asked for and the SANs; every certificate gets a subject key
 * identifier and an authority key identifier (key id). The serial number is
 * 16 random bytes, positive. Signed with ECDSA-SHA256 (P-256 issuer key),
 * ECDSA-SHA384 (P-384), Ed25519, or RSA PKCS#1 v1.5 with SHA-256.
 *
 * Refused: a leaf without SAN or extended key usage, an issuer that is not
 * a CA (or whose path length allows no CA below it, when issuing one), an
 * issuer key that does not belong to the issuer certificate, a certificate
 * that would outlive its issuer.
 *
 * *cert_pem receives the certificate PEM (free with mutls_ca_free);
 * serial_hex (may be NULL) its serial number as upper-case hex, as
 * `openssl x509 -serial` prints it. */
MUTLS_API int mutls_ca_issue(const mutls_ca_profile *p, const char *subject_key_pem,
                             const char *issuer_cert_pem, const char *issuer_key_pem,
                             char **cert_pem, char serial_hex[MUTLS_CA_SERIAL_LEN],
                             mutls_ca_status *st);

/* ---- revocation (RFC 5280 5.3.1) ----------------------------------------- */
typedef enum {
  MUTLS_REASON_UNSPECIFIED = 0,
  MUTLS_REASON_KEY_COMPROMISE = 1,
  MUTLS_REASON_CA_COMPROMISE = 2,
  MUTLS_REASON_AFFILIATION_CHANGED = 3,
  MUTLS_REASON_SUPERSEDED = 4,
  MUTLS_REASON_CESSATION_OF_OPERATION = 5,
  MUTLS_REASON_CERTIFICATE_HOLD = 6,
  MUTLS_REASON_PRIVILEGE_WITHDRAWN = 9,
  MUTLS_REASON_AA_COMPROMISE = 10
} mutls_crl_reason;

/* RFC 5280 names, "keyCompromise" (any case), to a reason and back
 * (mutls_ca_reason_name: NULL for a value not listed above). */
MUTLS_API int mutls_ca_reason_from_name(const char *name, mutls_crl_reason *reason,
                                        mutls_ca_status *st);
MUTLS_API const char *mutls_ca_reason_name(mutls_crl_reason reason);

/* One revoked certificate. */
typedef struct {
  const char *serial_hex;  /* as mutls_ca_issue gave it; "0x" and colons are accepted */
  int64_t revoked_at;      /* Unix time; 0: now */
  mutls_crl_reason reason; /* UNSPECIFIED: no reason code in the entry (RFC 5280 5.3.1) */
} mutls_ca_revoked;

/* A v2 CRL signed by the issuer (its certificate needs cRLSign): the n
 * entries of list, lastUpdate now, nextUpdate days (1 to 3650) later, the
 * CRL number crl_number (which must grow with each CRL), and an authority
 * key identifier. n may be 0 (an empty CRL). *crl_pem receives the CRL PEM
 * (free with mutls_ca_free). */
MUTLS_API int mutls_ca_make_crl(const char *issuer_cert_pem, const char *issuer_key_pem,
                                const mutls_ca_revoked *list, size_t n, uint64_t crl_number,
                                unsigned days, char **crl_pem, mutls_ca_status *st);

/* ---- reading certificates -------------------------------------------------- */
typedef struct {
  char **v; /* n NUL-terminated strings */
  size_t n;
} mutls_ca_strings;

/* One certificate, read. Strings are printable: bytes a name cannot hold
 * safely are shown as '?' in subject and issuer, and a SAN holding them is
 * left out (as mutls_peer_san does). */
typedef struct {
  char subject[512]; /* one line, most specific first: "CN=api,O=Example" */
  char issuer[512];
  char common_name[256];                /* the subject's first CN, "" if none */
  char serial_hex[MUTLS_CA_SERIAL_LEN]; /* upper-case hex, "-" first if negative */
  int64_t not_before, not_after;        /* Unix time */
  char key_type[48]; /* "ECDSA P-256", "ECDSA P-384", "Ed25519", "RSA 3072", ... */
  int is_ca;         /* basicConstraints CA:TRUE */
  int path_len;      /* a CA's path length constraint, -1 if none */
  int has_eku;       /* 0: no extended key usage extension (any use) */
  int server_auth;   /* the extended key usage lists serverAuth */
  int client_auth;   /* ... clientAuth */
  mutls_ca_strings dns, ip, uri, email; /* SANs by kind, in certificate order */
  const char *spiffe_id;     /* the URI SAN if it is the only one and spiffe://; else NULL */
  char fingerprint[65];      /* SHA-256 of the certificate (DER), lower-case hex */
  char spki_fingerprint[65]; /* SHA-256 of its SubjectPublicKeyInfo (DER) */
} mutls_ca_cert_info;

/* Reads the first certificate of pem (whole_chain 0) or every one, in
 * order (whole_chain 1). *info receives an array of *n entries, owned by
 * the caller: free it with mutls_ca_info_free(*info, *n). */
MUTLS_API int mutls_ca_inspect(const char *pem, int whole_chain, mutls_ca_cert_info **info,
                               size_t *n, mutls_ca_status *st);
MUTLS_API void mutls_ca_info_free(mutls_ca_cert_info *info, size_t n); /* NULL ok */

/* ---- checks ------------------------------------------------------------------ */
typedef enum { MUTLS_CA_PURPOSE_SERVER = 0, MUTLS_CA_PURPOSE_CLIENT = 1 } mutls_ca_purpose;

/* Would a mutls peer accept this chain (PEM, leaf first, then
 * intermediates) now? Verified as a connection verifies it: against the
 * CAs of the PEM file ca_file, for TLS server or client authentication,
 * against name when not NULL (a host name or IP address, as a client
 * checks a server), and against the CRL files crl_files (NULL: no
 * revocation check) with a connection's defaults: the leaf only, and a
 * missing or stale CRL is an error. MUTLS_OK, or MUTLS_ERR with
 * st->code, st->alert and st->why as a handshake refusing this chain would
 * set mutls_conn_error, mutls_conn_alert_sent and mutls_conn_explain. On
 * success st->why says it is valid. A chain, CA file or CRL that cannot
 * be read fails with MUTLS_E_CERT_BAD or MUTLS_E_CONFIG and alert -1. */
MUTLS_API int mutls_ca_check(const char *chain_pem, const char *ca_file, mutls_ca_purpose purpose,
                             const char *name, const char *const *crl_files, mutls_ca_status *st);

/* MUTLS_OK if the private key in key_pem belongs to the first certificate
 * of cert_pem; MUTLS_ERR with MUTLS_E_CONFIG if it does not (or the key
 * does not parse), MUTLS_E_CERT_BAD if the certificate does not parse. */
MUTLS_API int mutls_ca_key_matches(const char *cert_pem, const char *key_pem, mutls_ca_status *st);

#ifdef __cplusplus
}
#endif
#endif
