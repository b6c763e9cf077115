/*
 * test_client_recv.c - a client fed a hostile server (RFC 8446 4.1.3, 4.1.4,
 * 4.2, 4.3.1, 4.4): ServerHellos and HelloRetryRequests built by hand after
 * its ClientHello; then an honest server whose encrypted messages are
 * rewritten on their way (mutate hook) so that the client gets well-sealed
 * but malformed or unexpected messages; then certificates that must not
 * verify. Each case checks the exact alert on the wire (decrypted by the
 * server once sealed), the error code and that the client is closed.
 */
#include "negative/neg.h"

/* ---- ServerHello and HelloRetryRequest by hand ---------------------------- */

#define SH_SV "002b 0002 0304"                     /* supported_versions: TLS 1.3 */
#define SH_KS "0033 0024 001d 0020" X25519_PUB     /* key_share: x25519 */
#define HRR_KS(group) "0033 0002 " group           /* key_share: the group asked for */
#define HRR_COOKIE "002c 0006 0004 c0c0c0c0"
#define HRR_RANDOM "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

/* A ServerHello as hex pieces; NULL pieces take the defaults. */
typedef struct {
  const char *random;  /* 32 bytes: ordinary, or HRR_RANDOM */
  const char *sid;     /* legacy_session_id_echo with its length: empty, as we sent */
  const char *suite;   /* cipher_suite: TLS_AES_128_GCM_SHA256 */
  const char *comp;    /* legacy_compression_method: 0 */
  const char *exts[6]; /* whole extensions, up to the first NULL */
  int no_exts;         /* no extensions block (a TLS 1.2 ServerHello may omit it) */
} sh_spec;

static size_t sh_record(const sh_spec *s, uint8_t *rec) {
  static uint8_t body[NEG_MAX];
  size_t n = neg_hex("0303", body, NEG_MAX);
  n += neg_hex(s->random ? s->random : "77*32", body + n, NEG_MAX - n);
  n += neg_hex(s->sid ? s->sid : "00", body + n, NEG_MAX - n);
  n += neg_hex(s->suite ? s->suite : "1301", body + n, NEG_MAX - n);
  n += neg_hex(s->comp ? s->comp : "00", body + n, NEG_MAX - n);
  if (!s->no_exts) {
    size_t at = n;
    n += 2;
    for (size_t i = 0; i < 6 && s->exts[i]; i++) n += neg_hex(s->exts[i], body + n, NEG_MAX - n);
    neg_put_u16(body + at, n - at - 2);
  }
  return neg_hs_record(HS_SERVER_HELLO, body, n, rec);
}

/* Gives the client (its ClientHello taken) the hello s; returns what the
 * client said back, in out. */
static size_t client_hears(mutls_conn *c, const sh_spec *s, uint8_t *out) {
  static uint8_t rec[NEG_MAX];
  neg_feed(c, rec, sh_record(s, rec));
  return mutls_conn_error(c) == MUTLS_E_NONE ? neg_take(c, out, NEG_MAX) : 0;
}

typedef struct {
  const char *name;
  sh_spec sh;
  int alert;
  mutls_error err;
  const char *says;
} sh_case;

static const sh_case sh_cases[] = {
    /* 4.2.1: no supported_versions: the server negotiated TLS 1.2 or older. */
    {"SH: no supported_versions (a TLS 1.2 server) -> protocol_version (4.2.1)",
     {.exts = {SH_KS}}, FAILS(ALERT_PROTOCOL_VERSION, MUTLS_E_PROTOCOL_VERSION), .says = "TLS 1.3"},
    {"SH: no extensions at all -> protocol_version (4.2.1)", {.no_exts = 1},
     FAILS(ALERT_PROTOCOL_VERSION, MUTLS_E_PROTOCOL_VERSION)},
    /* 4.2.1: a version we did not offer, or before TLS 1.3 -> illegal_parameter. */
    {"SH: supported_versions selecting 0x0303 -> illegal_parameter (4.2.1)",
     {.exts = {"002b 0002 0303", SH_KS}}, ILLEGAL},
    /* 4.1.3: a cipher suite we did not offer -> illegal_parameter. */
    {"SH: cipher suite not offered (0x1304) -> illegal_parameter (4.1.3)",
     {.suite = "1304", .exts = {SH_SV, SH_KS}}, ILLEGAL},
    {"SH: compression method 1 -> illegal_parameter (4.1.3)",
     {.comp = "01", .exts = {SH_SV, SH_KS}}, ILLEGAL},
    /* 4.1.3: "A client which receives a legacy_session_id_echo field that does
     * not match what it sent ... illegal_parameter". */
    {"SH: session id not echoed -> illegal_parameter (4.1.3)",
     {.sid = "20 11*32", .exts = {SH_SV, SH_KS}}, ILLEGAL},
    /* 4.2: ALPN may not appear in ServerHello (it belongs in EE). */
    {"SH: carries ALPN -> illegal_parameter (4.2)",
     {.exts = {SH_SV, SH_KS, "0010 0005 0003 02 6832"}}, ILLEGAL},
    {"SH: duplicate key_share -> illegal_parameter (4.2)",
     {.exts = {SH_SV, SH_KS, SH_KS}}, ILLEGAL},
    /* 4.2: "an extension response which was not offered ... unsupported_extension". */
    {"SH: unknown extension 0x1234 -> unsupported_extension (4.2)",
     {.exts = {SH_SV, SH_KS, "1234 0000"}}, UNSUPPORTED},
    /* 4.2.8: the share must be for the group we sent a share for. */
    {"SH: key_share for x448 (not offered) -> illegal_parameter (4.2.8)",
     {.exts = {SH_SV, "0033 0024 001e 0020" X25519_PUB}}, ILLEGAL},
    {"SH: key_share for secp256r1 (offered, no share sent) -> illegal_parameter (4.2.8)",
     {.exts = {SH_SV, "0033 0024 0017 0020" X25519_PUB}}, ILLEGAL},
    {"SH: no key_share without a PSK -> missing_extension (9.2)", {.exts = {SH_SV}},
     FAILS(ALERT_MISSING_EXTENSION, MUTLS_E_MISSING_EXTENSION)},
    /* 4.2.8.2: an X25519 share is 32 bytes. */
    {"SH: X25519 share of 31 bytes -> illegal_parameter (4.2.8.2)",
     {.exts = {SH_SV, "0033 0023 001d 001f 09 00*30"}}, ILLEGAL},
    /* 4.1.4: an HRR that would not change the ClientHello -> illegal_parameter. */
    {"HRR: changes nothing -> illegal_parameter (4.1.4)",
     {.random = HRR_RANDOM, .exts = {SH_SV}}, ILLEGAL},
    /* 4.2.8: the group asked for must be offered and not already shared. */
    {"HRR: asks for x25519, already shared -> illegal_parameter (4.2.8)",
     {.random = HRR_RANDOM, .exts = {SH_SV, HRR_KS("001d")}}, ILLEGAL},
    {"HRR: asks for x448, not offered -> illegal_parameter (4.2.8)",
     {.random = HRR_RANDOM, .exts = {SH_SV, HRR_KS("001e")}}, ILLEGAL},
    /* 4.2.2: cookie<1..2^16-1>. */
    {"HRR: empty cookie -> decode_error (4.2.2)",
     {.random = HRR_RANDOM, .exts = {SH_SV, HRR_KS("0017"), "002c 0002 0000"}}, DECODE},
    {"HRR: cipher suite not offered -> illegal_parameter (4.1.4)",
     {.random = HRR_RANDOM, .suite = "1304", .exts = {SH_SV, HRR_KS("0017")}}, ILLEGAL},
};

static void sh_one(const sh_case *k) {
  static uint8_t out[NEG_MAX];
  neg_pair p;
  if (neg_pair_new(&p, NULL) == 0 && neg_take(p.c, out, NEG_MAX) > 0) {
    neg_feed(p.c, out, sh_record(&k->sh, out));
    neg_expect_fail(k->name, p.c, NULL, k->alert, k->err, k->says);
  } else {
    CHECK(k->name, 0);
  }
  neg_pair_free(&p);
}

/* What a client that answered a HelloRetryRequest (for secp256r1, with a
 * cookie) must refuse next. */
static const sh_case after_hrr_cases[] = {
    /* 4.1.4: "If a client receives a second HelloRetryRequest in the same
     * connection ..., it MUST abort the handshake with an unexpected_message". */
    {"after HRR: a second HelloRetryRequest -> unexpected_message (4.1.4)",
     {.random = HRR_RANDOM, .exts = {SH_SV, HRR_KS("0017"), HRR_COOKIE}}, UNEXPECTED},
    /* 4.1.4: the ServerHello keeps the HelloRetryRequest's cipher suite. */
    {"after HRR: ServerHello changes the cipher suite -> illegal_parameter (4.1.4)",
     {.suite = "1302", .exts = {SH_SV, "0033 0045 0017 0041 04 11*64"}}, ILLEGAL},
    /* 4.2.8: and answers in the group it asked for. */
    {"after HRR: ServerHello shares another group -> illegal_parameter (4.2.8)",
     {.exts = {SH_SV, SH_KS}}, ILLEGAL},
};

static void after_hrr_one(const sh_case *k) {
  static const sh_spec hrr = {.random = HRR_RANDOM, .exts = {SH_SV, HRR_KS("0017"), HRR_COOKIE}};
  static uint8_t out[NEG_MAX];
  neg_pair p;
  /* The HelloRetryRequest is answered with a second ClientHello. */
  if (neg_pair_new(&p, NULL) == 0 && neg_take(p.c, out, NEG_MAX) > 0 &&
      client_hears(p.c, &hrr, out) > 0) {
    client_hears(p.c, &k->sh, out);
    neg_expect_fail(k->name, p.c, NULL, k->alert, k->err, NULL);
  } else {
    CHECKF(k->name, 0, "the HelloRetryRequest got no second ClientHello: %s",
           p.c ? mutls_conn_explain(p.c) : "");
  }
  neg_pair_free(&p);
}

/* ---- the honest server's encrypted messages, rewritten ------------------- */

/* EncryptedExtensions: the extensions become arg (hex, whole extensions). */
static size_t ed_ee(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t n = neg_hex(arg, m + 6, cap - 6);
  neg_put_u16(m + 4, n);
  neg_put_u24(m + 1, n + 2);
  return n + 6;
}
/* Certificate: the first entry claims one byte more than the list holds. */
#define FIRST_ENTRY (4 + 1 + 3) /* after the header, an empty context, the list length */
static size_t ed_cert_len(uint8_t *m, size_t len, size_t cap, const char *arg) {
  neg_put_u24(m + FIRST_ENTRY, neg_get_u24(m + FIRST_ENTRY) + 1);
  return len;
}
/* Certificate: the first entry carries the extension arg (whole, hex). */
static size_t ed_cert_ext(uint8_t *m, size_t len, size_t cap, const char *arg) {
  uint8_t ext[64];
  size_t n = neg_hex(arg, ext, sizeof ext);
  size_t exts = FIRST_ENTRY + 3 + neg_get_u24(m + FIRST_ENTRY); /* the entry's extensions */
  memmove(m + exts + 2 + n, m + exts + 2, len - exts - 2);
  memcpy(m + exts + 2, ext, n);
  neg_put_u16(m + exts, neg_get_u16(m + exts) + n);
  neg_put_u24(m + 5, neg_get_u24(m + 5) + n);
  neg_put_u24(m + 1, len - 4 + n);
  return len + n;
}
/* CertificateVerify: the scheme becomes arg. */
static size_t ed_scheme(uint8_t *m, size_t len, size_t cap, const char *arg) {
  neg_hex(arg, m + 4, 2);
  return len;
}

typedef struct {
  const char *name;
  uint8_t type; /* the server message to rewrite */
  neg_edit_fn edit;
  const char *arg;
  int alert;
  mutls_error err;
  const char *c_alpn; /* the client's ALPN, or NULL */
} mut_case;

static const mut_case mut_cases[] = {
    /* 4.2: one extension of each type; only those 4.2's table allows in EE. */
    {"EE: duplicate supported_groups -> illegal_parameter (4.2)", HS_ENCRYPTED_EXTENSIONS, ed_ee,
     "000a 0004 0002 001d  000a 0004 0002 001d", ILLEGAL},
    {"EE: carries key_share -> illegal_parameter (4.2)", HS_ENCRYPTED_EXTENSIONS, ed_ee,
     "0033 0024 001d 0020" X25519_PUB, ILLEGAL},
    {"EE: carries supported_versions -> illegal_parameter (4.2)", HS_ENCRYPTED_EXTENSIONS, ed_ee,
     "002b 0002 0304", ILLEGAL},
    /* 4.2: a response to nothing we offered -> unsupported_extension. */
    {"EE: unknown extension 0x1234 -> unsupported_extension (4.2)", HS_ENCRYPTED_EXTENSIONS,
     ed_ee, "1234 0000", UNSUPPORTED},
    {"EE: ALPN when the client offered none -> unsupported_extension (4.2)",
     HS_ENCRYPTED_EXTENSIONS, ed_ee, "0010 0005 0003 02 6832", UNSUPPORTED},
    /* RFC 7301 3.1: the server's protocol must be one the client offered. */
    {"EE: ALPN naming a protocol not offered -> illegal_parameter (RFC 7301 3.1)",
     HS_ENCRYPTED_EXTENSIONS, ed_ee, "0010 0005 0003 02 6833", ILLEGAL, .c_alpn = "h2"},
    {"EE: ALPN naming two protocols -> decode_error (RFC 7301 3.1)", HS_ENCRYPTED_EXTENSIONS,
     ed_ee, "0010 0008 0006 02 6832 02 6833", DECODE, .c_alpn = "h2,h3"},
    {"EE: extensions length past the end -> decode_error (4.3.1)", HS_ENCRYPTED_EXTENSIONS,
     neg_ed_body, "0010 0000", DECODE},
    /* 4.4.2: Certificate framing. */
    {"Certificate: entry longer than its list -> decode_error (4.4.2)", HS_CERTIFICATE,
     ed_cert_len, NULL, DECODE},
    /* 4.4.2.4: "If the server supplies an empty Certificate message, the client
     * MUST abort the handshake with a decode_error alert." */
    {"Certificate: empty list -> decode_error (4.4.2.4)", HS_CERTIFICATE, neg_ed_body,
     "00 000000", DECODE},
    {"Certificate: garbage DER -> bad_certificate (4.4.2.4)", HS_CERTIFICATE, neg_ed_body,
     "00 000009 000004 deadbeef 0000", FAILS(ALERT_BAD_CERTIFICATE, MUTLS_E_CERT_BAD)},
    /* 4.4.2: entry extensions must answer ones we sent (we sent none). */
    {"Certificate: entry carries status_request unasked -> unsupported_extension (4.4.2)",
     HS_CERTIFICATE, ed_cert_ext, "0005 0000", UNSUPPORTED},
    {"Certificate: entry carries key_share -> illegal_parameter (4.2)", HS_CERTIFICATE,
     ed_cert_ext, "0033 0000", ILLEGAL},
    {"Certificate: server sends a request context -> illegal_parameter (4.4.2)", HS_CERTIFICATE,
     neg_ed_body, "01 aa 000009 000004 deadbeef 0000", ILLEGAL},
    /* 4.4.3: the signature must verify -> decrypt_error otherwise. */
    {"CertificateVerify: flipped signature byte -> decrypt_error (4.4.3)",
     HS_CERTIFICATE_VERIFY, neg_ed_flip_last, NULL,
     FAILS(ALERT_DECRYPT_ERROR, MUTLS_E_BAD_SIGNATURE)},
    /* 4.4.3: the scheme must be one the client offered. */
    {"CertificateVerify: scheme not offered (rsa_pkcs1_sha1) -> illegal_parameter (4.4.3)",
     HS_CERTIFICATE_VERIFY, ed_scheme, "0201", ILLEGAL},
    {"CertificateVerify: ed25519 claimed for a P-256 key -> illegal_parameter (4.4.3)",
     HS_CERTIFICATE_VERIFY, ed_scheme, "0807", ILLEGAL},
    {"CertificateVerify: one byte short -> decode_error (4.4.3)", HS_CERTIFICATE_VERIFY,
     neg_ed_short, NULL, DECODE},
    /* 4.4.4: a wrong verify_data -> decrypt_error. */
    {"Finished: flipped byte -> decrypt_error (4.4.4)", HS_FINISHED, neg_ed_flip_last, NULL,
     FAILS(ALERT_DECRYPT_ERROR, MUTLS_E_BAD_FINISHED)},
    {"Finished: one byte short -> decode_error (4.4.4)", HS_FINISHED, neg_ed_short, NULL, DECODE},
    /* 4: messages in the order of 2's figure, or unexpected_message. */
    {"order: CertificateVerify arriving as Finished -> unexpected_message (4)",
     HS_CERTIFICATE_VERIFY, neg_ed_type, "14", UNEXPECTED},
    {"order: EncryptedExtensions arriving as Certificate -> unexpected_message (4)",
     HS_ENCRYPTED_EXTENSIONS, neg_ed_type, "0b", UNEXPECTED},
    {"order: Certificate arriving as a second ServerHello -> unexpected_message (4)",
     HS_CERTIFICATE, neg_ed_type, "02", UNEXPECTED},
    {"order: Finished arriving as KeyUpdate -> unexpected_message (4.6.3)", HS_FINISHED,
     neg_ed_type, "18", UNEXPECTED},
};

static void mut_one(const mut_case *k) {
  neg_opts o = {.c_alpn = k->c_alpn};
  neg_mutation m = {k->type, k->edit, k->arg, 0};
  neg_pair p;
  if (neg_pair_new(&p, &o) == 0) {
    neg_lie(p.s, &m);
    neg_drive(&p, p.c);
    /* The client's alert is sealed with its handshake key, which the
     * server holds: the server decrypts it. */
    neg_expect_fail(k->name, p.c, p.s, k->alert, k->err, NULL);
  } else {
    CHECK(k->name, 0);
  }
  neg_pair_free(&p);
}

/* ---- certificates the client must refuse (4.4.2.4, 6.2) ------------------ */

typedef struct {
  const char *name;
  const char *leaf; /* tests/lib.sh make_certs: server-<leaf>.pem */
  int alert;
  mutls_error err;
  const char *says[2]; /* the explanation names these specifics */
} cert_case;

static const cert_case cert_cases[] = {
    {"cert: wrong host name -> bad_certificate, names both names (RFC 6125)", "wrong",
     FAILS(ALERT_BAD_CERTIFICATE, MUTLS_E_CERT_NAME_MISMATCH), {"localhost", "wrong.example"}},
    {"cert: expired -> certificate_expired, names the date (6.2)", "expired",
     FAILS(ALERT_CERTIFICATE_EXPIRED, MUTLS_E_CERT_EXPIRED), {"expired", "2020-02-01"}},
    {"cert: untrusted CA -> unknown_ca, names the issuer (6.2)", "other",
     FAILS(ALERT_UNKNOWN_CA, MUTLS_E_CERT_UNTRUSTED), {"mutls other CA", "trust"}},
};

static void cert_one(const cert_case *k) {
  neg_opts o = {.leaf = k->leaf};
  neg_pair p;
  char why[1024] = "setup failed";
  if (neg_pair_new(&p, &o) == 0) {
    neg_drive(&p, p.c);
    neg_judge(p.c, p.s, k->alert, k->err, why, sizeof why);
    for (int i = 0; i < 2; i++)
      if (!strstr(mutls_conn_explain(p.c), k->says[i]))
        neg_say(why, sizeof why, "the explanation lacks \"%s\"", k->says[i]);
  }
  CHECKF(k->name, !why[0], "%s; explain: \"%s\"", why, p.c ? mutls_conn_explain(p.c) : "");
  neg_pair_free(&p);
}

/* The positive control: a leaf from an intermediate, sent with it, verifies. */
static void chain_verifies(void) {
  neg_opts o = {.leaf = "chain"};
  neg_pair p;
  int ok = neg_pair_connected(&p, &o) == 0;
  const char *issuer = ok ? mutls_peer_issuer(mutls_conn_peer(p.c)) : NULL;
  CHECKF("cert: a chain through an intermediate verifies (control)",
         ok && issuer && strstr(issuer, "intermediate"), "%s",
         p.c ? mutls_conn_explain(p.c) : "setup failed");
  neg_pair_free(&p);
}

int main(void) {
  tu_certs();
  for (size_t i = 0; i < sizeof sh_cases / sizeof sh_cases[0]; i++) sh_one(&sh_cases[i]);
  for (size_t i = 0; i < sizeof after_hrr_cases / sizeof after_hrr_cases[0]; i++)
    after_hrr_one(&after_hrr_cases[i]);
  for (size_t i = 0; i < sizeof mut_cases / sizeof mut_cases[0]; i++) mut_one(&mut_cases[i]);
  for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) cert_one(&cert_cases[i]);
  chain_verifies();
  return check_exit();
}
