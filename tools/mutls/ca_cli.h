/*
 * ca_cli.h - what `mutls ca` (ca.c, ca_admin.c) and `mutls cert` (cert.c)
 * share: their entry points, the CA directory and its index (ca_store.c),
 * and how certificates and dates are shown.
 *
 * A CA directory (docs/cli/ca.md):
 *   ca.pem, ca.key                   the root CA (the key mode 0600)
 *   intermediate.pem, .key           with --intermediate: the CA that signs
 *   index.txt                        every certificate issued, one per line
 *   crlnumber                        the number the next CRL gets
 *   crl.pem                          after `mutls ca crl`
 *   issued/                          where `mutls ca issue` writes by default
 *
 * Only the public API (mutls.h, mutls_ca.h) is used, never libcrypto.
 */
#ifndef MUTLS_CLI_CA_H
#define MUTLS_CLI_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "fsutil.h"
#include "mutls_ca.h"

/* The subcommands (argv[0] is "ca" or "cert"). */
int ca_main(int argc, char **argv);
void ca_help(FILE *out);
int cert_main(int argc, char **argv);
void cert_help(FILE *out);

/* The subcommands of `mutls ca` kept in ca_admin.c (argv[0] is their name). */
int ca_revoke_main(int argc, char **argv);
void ca_revoke_help(FILE *out);
int ca_crl_main(int argc, char **argv);
void ca_crl_help(FILE *out);
int ca_list_main(int argc, char **argv);
void ca_list_help(FILE *out);

/* Parses DAYS text: a whole number from 1 to max. false if it is not. */
bool ca_parse_days(const char *text, unsigned max, unsigned *out);

/* One subcommand of a group (`mutls ca issue`); argv[0] is its name. */
typedef struct ca_sub {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
  void (*help)(FILE *out);
} ca_sub;

/* Runs `mutls GROUP SUB ...`: SUB's run, the group's help for --help, -h or
 * `help`, and a usage error (exit 2) for anything else. */
int ca_dispatch(const char *group, const ca_sub *subs, size_t n, void (*group_help)(FILE *out),
                int argc, char **argv);
/* The group's help: usage, what it is, its subcommands, then more (examples). */
void ca_group_help(FILE *out, const char *group, const char *description, const ca_sub *subs,
                   size_t n, const char *more);

/* Limits. */
#define CA_PEM_MAX (1u << 20)    /* a certificate, chain, key or CRL file */
#define CA_INDEX_MAX (64u << 20) /* index.txt */
#define CA_LEAF_DAYS 90          /* default lifetime of a leaf */
#define CA_ROOT_DAYS 3650        /* default lifetime of a CA */
#define CA_CRL_DAYS 7            /* default time to a CRL's nextUpdate */
#define CA_MAX_DAYS 36500
#define CA_MAX_CRL_DAYS 3650
#define CA_NAME_MAX 64 /* a NAME: also the subject's CN, which holds 64 */

/* snprintf for messages: a sentence too long for out is cut short. */
void ca_say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- showing things ------------------------------------------------------------------ */

/* "2025-03-01 12:00:00 UTC" */
void ca_time_text(int64_t t, char *out, size_t cap);
/* "expires in 30 days", "expires in 5 hours", "expired 2 days ago". */
void ca_expiry_text(int64_t not_after, int64_t now, char *out, size_t cap);
/* "DNS:a, IP:1.2.3.4, URI:spiffe://x/y, email:a@b", or "none". */
void ca_sans_text(const mutls_ca_cert_info *info, char *out, size_t cap);
/* "serverAuth", "clientAuth", "serverAuth, clientAuth", "none listed (any use)". */
void ca_eku_text(const mutls_ca_cert_info *info, char *out, size_t cap);
/* A library sentence about "the certificate PEM", told about path instead. */
void ca_why_for_file(const char *why, const char *path, char *out, size_t cap);
/* The key type of a certificate ("ECDSA P-256") as mutls_key_type; false if
 * it is none that mutls makes. */
bool ca_key_type_of(const char *key_type_text, mutls_key_type *type);
/* "p256" for MUTLS_KEY_P256, ... */
const char *ca_key_type_name(mutls_key_type type);

/* Reads a certificate (chain) file and inspects it: whole_chain as in
 * mutls_ca_inspect. Returns 0, or -1 with one sentence naming the file. On
 * success *pem (may be NULL) keeps the text; free it with free(). */
int ca_read_cert_file(const char *path, int whole_chain, char **pem, mutls_ca_cert_info **info,
                      size_t *n, char *why, size_t cap);

/* ---- the index --------------------------------------------------------------------------- */

typedef enum { CA_KIND_CA = 0, CA_KIND_SERVER = 1, CA_KIND_CLIENT = 2 } ca_kind;
const char *ca_kind_name(ca_kind kind); /* "ca", "server", "client" */

/* One line of index.txt. */
typedef struct ca_entry {
  char serial[MUTLS_CA_SERIAL_LEN]; /* upper-case hex */
  ca_kind kind;
  char *name;
  bool revoked;
  int64_t not_after;
  int64_t revoked_at; /* 0 when not revoked */
  char reason[32];    /* an RFC 5280 reason name, "" when not revoked */
  char *file;         /* the PEM file: relative to the CA directory if in it; "" if unknown */
} ca_entry;

typedef struct ca_index {
  ca_entry *e;
  size_t n;
} ca_index;

/* Appends a copy of e (its strings are copied). 0 or -1 (out of memory). */
int ca_index_add(ca_index *ix, const ca_entry *e);
/* The entry with this serial (hex, any case, leading zeros ignored), or NULL. */
ca_entry *ca_index_find(ca_index *ix, const char *serial);
/* The text of index.txt, malloc'ed. NULL when out of memory. */
char *ca_index_format(const ca_index *ix);
void ca_index_free(ca_index *ix);
/* Whether the entry still counts: not revoked and not expired at now. */
bool ca_entry_valid(const ca_entry *e, int64_t now);

/* ---- the CA directory --------------------------------------------------------------------- */

/* File names in a CA directory. */
#define CA_ROOT_CERT "ca.pem"
#define CA_ROOT_KEY "ca.key"
#define CA_INTER_CERT "intermediate.pem"
#define CA_INTER_KEY "intermediate.key"
#define CA_INDEX "index.txt"
#define CA_CRLNUMBER "crlnumber"
#define CA_CRL "crl.pem"
#define CA_ISSUED "issued"

/* An opened CA directory. */
typedef struct ca_dir {
  const char *path;  /* as given */
  int lock_fd;       /* -1 when not locked */
  bool intermediate; /* an intermediate CA signs */
  char *signer_pem;  /* the certificate of the CA that signs */
  char *signer_key;  /* its key (NULL unless asked for) */
  char *chain_pem;   /* appended to what it issues: the intermediate, or "" */
  char signer_subject[512];
  int64_t signer_not_after;
  ca_index index;
  uint64_t crl_number; /* the next CRL's number */
} ca_dir;

/* Opens the CA in path: locked (for the commands that change it), its
 * index read, and with need_key its signing key read and checked against
 * its certificate. Returns 0, or -1 with one sentence. */
int ca_dir_open(ca_dir *d, const char *path, bool lock, bool need_key, char *why, size_t cap);
void ca_dir_close(ca_dir *d);
/* dir "/" name, in out. -1 if it does not fit. */
int ca_path(char *out, size_t cap, const char *dir, const char *name);
/* The path to record in the index for file: relative to the CA directory
 * when it is inside it, else absolute. The file's directory must exist. */
int ca_index_path(const ca_dir *d, const char *file, char *out, size_t cap, char *why, size_t wcap);
/* The path of an index entry's file, to open from here. */
void ca_entry_path(const ca_dir *d, const ca_entry *e, char *out, size_t cap);
/* Stages index.txt with the entries of d->index. 0 or -1 with a sentence. */
int ca_stage_index(fs_txn *t, const ca_dir *d, char *why, size_t cap);

#endif
