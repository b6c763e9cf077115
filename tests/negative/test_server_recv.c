/*
 * test_server_recv.c - a server fed hostile ClientHellos (RFC 8446 4.1.2,
 * 4.2), a hostile second ClientHello after HelloRetryRequest (4.1.4), and a
 * client whose Finished lies (4.4.4). ClientHellos are built by hand from hex
 * pieces; the Finished is rewritten through the mutate hook. Each case checks
 * the exact alert on the wire, the error code and that the server is closed.
 */
#include "negative/neg.h"

/* Extensions of a ClientHello, whole (type, length, body). */
#define SV "002b 0003 02 0304"                  /* supported_versions: TLS 1.3 */
#define SV12 "002b 0003 02 0303"                /* supported_versions: TLS 1.2 only */
#define SG "000a 0004 0002 001d"                /* supported_groups: x25519 */
#define SG2 "000a 0006 0004 001d 0017"          /* supported_groups: x25519, secp256r1 */
#define SG256 "000a 0004 0002 0017"             /* supported_groups: secp256r1 */
#define SA "000d 0004 0002 0403"                /* signature_algorithms: ecdsa_secp256r1_sha256 */
#define KS "0033 0026 0024 001d 0020" X25519_PUB /* key_share: x25519 */
#define P256_X "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
#define P256_Y "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define P256_Y_OFF "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f4"
#define KS256 "0033 0047 0045 0017 0041 04" P256_X P256_Y /* key_share: the P-256 generator */
#define STD SV, SG, SA, KS

/* A ClientHello as hex pieces; NULL pieces take the defaults. */
typedef struct {
  const char *sid;     /* legacy_session_id with its length: 32 bytes */
  const char *suites;  /* cipher_suites with their length: TLS_AES_128_GCM_SHA256 */
  const char *comp;    /* legacy_compression_methods with their length: null */
  const char *exts[8]; /* whole extensions, up to the first NULL */
  int no_exts;         /* no extensions block at all (a TLS 1.2-style hello) */
} ch_spec;

#define CH_RANDOM "a5*32"
#define CH_SID "20 5a*32"
#define CH_SUITES "0002 1301"
#define CH_COMP "01 00"

/* The ClientHello body of s, then raw_len bytes of raw as one more
 * extension; returns its length. */
static size_t ch_body(const ch_spec *s, const uint8_t *raw, size_t raw_len, uint8_t *out) {
  size_t n = neg_hex("0303" CH_RANDOM, out, NEG_MAX);
  n += neg_hex(s->sid ? s->sid : CH_SID, out + n, NEG_MAX - n);
  n += neg_hex(s->suites ? s->suites : CH_SUITES, out + n, NEG_MAX - n);
  n += neg_hex(s->comp ? s->comp : CH_COMP, out + n, NEG_MAX - n);
  if (s->no_exts) return n;
  size_t at = n;
  n += 2;
  for (size_t i = 0; i < 8 && s->exts[i]; i++) n += neg_hex(s->exts[i], out + n, NEG_MAX - n);
  if (raw_len) memcpy(out + n, raw, raw_len);
  n += raw_len;
  neg_put_u16(out + at, n - at - 2);
  return n;
}

/* Sends the ClientHello s (plus raw) to srv. */
static void send_ch(mutls_conn *srv, const ch_spec *s, const uint8_t *raw, size_t raw_len) {
  static uint8_t body[NEG_MAX], rec[NEG_MAX];
  neg_feed(srv, rec, neg_hs_record(HS_CLIENT_HELLO, body, ch_body(s, raw, raw_len, body), rec));
}

static mutls_conn *server_new(const char *alpn, mutls_config **cfg) {
  *cfg = tu_server_config("p256");
  if (*cfg && alpn && mutls_config_set_alpn(*cfg, alpn) != MUTLS_OK) return NULL;
  return *cfg ? mutls_server_new(*cfg) : NULL;
}

/* ---- one ClientHello, one verdict ---------------------------------------- */

typedef struct {
  const char *name;
  ch_spec ch;
  int alert;
  mutls_error err;
  const char *says;   /* the explanation names this, if set */
  const char *s_alpn; /* the server's ALPN, or NULL */
} ch_case;

static const ch_case ch_cases[] = {
    /* 4.1.2: legacy_session_id<0..32>. */
    {"CH: session id of 33 bytes -> decode_error (4.1.2)", {.sid = "21 5a*33", .exts = {STD}}, DECODE},
    /* 4.1.2: cipher_suites<2..2^16-2> holds two-byte values. */
    {"CH: odd cipher suites length -> decode_error (4.1.2)",
     {.suites = "0003 1301 13", .exts = {STD}}, DECODE},
    {"CH: empty cipher suites -> decode_error (4.1.2)", {.suites = "0000", .exts = {STD}}, DECODE},
    {"CH: empty compression methods -> decode_error (4.1.2)", {.comp = "00", .exts = {STD}}, DECODE},
    /* 4.2: an extension's length may not run past the block. */
    {"CH: extension length past the end -> decode_error (4.2)",
     {.exts = {SV, SG, SA, "0033 00ff 0024 001d 0020" X25519_PUB}}, DECODE},
    {"CH: supported_versions with an odd list -> decode_error (4.2.1)",
     {.exts = {"002b 0004 03 0304 03", SG, SA, KS}}, DECODE},
    /* 4.2.1: without supported_versions the client speaks TLS 1.2 at most. */
    {"CH: TLS 1.2 hello without extensions -> protocol_version (4.2.1)", {.no_exts = 1}, VERSION,
     .says = "TLS 1.3"},
    {"CH: extensions but no supported_versions -> protocol_version (4.2.1)",
     {.exts = {SG, SA, KS}}, VERSION},
    {"CH: supported_versions without 0x0304 -> protocol_version (4.2.1)",
     {.exts = {SV12, SG, SA, KS}}, VERSION},
    /* 4.1.2: "any other value in this field ... illegal_parameter". */
    {"CH: compression methods [1] -> illegal_parameter (4.1.2)", {.comp = "01 01", .exts = {STD}},
     ILLEGAL},
    {"CH: compression methods [0, 1] -> illegal_parameter (4.1.2)",
     {.comp = "02 00 01", .exts = {STD}}, ILLEGAL},
    /* 4.2: "There MUST NOT be more than one extension of the same type". */
    {"CH: duplicate supported_groups -> illegal_parameter (4.2)",
     {.exts = {SV, SG, SG, SA, KS}}, ILLEGAL},
    /* 4.2.11: pre_shared_key MUST be the last extension. */
    {"CH: pre_shared_key not last -> illegal_parameter (4.2.11)",
     {.exts = {SV, "0029 0004 0000 0000", SG, SA, KS}}, ILLEGAL},
    /* 9.2: without a PSK these three are mandatory. */
    {"CH: no signature_algorithms -> missing_extension (9.2)", {.exts = {SV, SG, KS}}, MISSING,
     .says = "signature_algorithms"},
    {"CH: no supported_groups -> missing_extension (9.2)", {.exts = {SV, SA, KS}}, MISSING,
     .says = "supported_groups"},
    {"CH: no key_share -> missing_extension (9.2)", {.exts = {SV, SG, SA}}, MISSING, .says = "key_share"},
    /* 4.2.8: each share must be for a group in supported_groups. */
    {"CH: key_share for a group not in supported_groups -> illegal_parameter (4.2.8)",
     {.exts = {SV, SG, SA, KS256}}, ILLEGAL},
    {"CH: key_share repeating a group -> illegal_parameter (4.2.8)",
     {.exts = {SV, SG, SA, "0033 004a 0048 001d 0020" X25519_PUB " 001d 0020" X25519_PUB}},
     ILLEGAL},
    /* 4.2.8.2: X25519 shares are 32 bytes; NIST shares are points on the curve. */
    {"CH: X25519 share of 31 bytes -> illegal_parameter (4.2.8.2)",
     {.exts = {SV, SG, SA, "0033 0025 0023 001d 001f 09 00*30"}}, ILLEGAL},
    {"CH: P-256 share off the curve -> illegal_parameter (4.2.8.2)",
     {.exts = {SV, SG256, SA, "0033 0047 0045 0017 0041 04" P256_X P256_Y_OFF}}, ILLEGAL},
    {"CH: P-256 share in compressed form -> illegal_parameter (4.2.8.2)",
     {.exts = {SV, SG256, SA, "0033 0027 0025 0017 0021 02" P256_X}}, ILLEGAL},
    /* 4.1.1: nothing in common -> handshake_failure. */
    {"CH: no common cipher suite -> handshake_failure (4.1.1)",
     {.suites = "0004 1304 1305", .exts = {STD}},
     FAILS(ALERT_HANDSHAKE_FAILURE, MUTLS_E_NO_SHARED_CIPHER), .says = "cipher suite"},
    {"CH: no common group -> handshake_failure (4.1.1)",
     {.exts = {SV, "000a 0004 0002 001e", SA, "0033 0026 0024 001e 0020 09 00*31"}},
     FAILS(ALERT_HANDSHAKE_FAILURE, MUTLS_E_NO_SHARED_GROUP)},
    {"CH: no common signature scheme -> handshake_failure (4.1.1, 4.2.3)",
     {.exts = {SV, SG, "000d 0004 0002 0807", KS}},
     FAILS(ALERT_HANDSHAKE_FAILURE, MUTLS_E_NO_SHARED_SIGALG)},
    /* RFC 7301 3.2: a server with ALPN and no overlap -> no_application_protocol. */
    {"CH: ALPN with no protocol the server speaks -> no_application_protocol (RFC 7301 3.2)",
     {.exts = {STD, "0010 000b 0009 08 687474702f312e31"}},
     FAILS(ALERT_NO_APPLICATION_PROTOCOL, MUTLS_E_NO_APPLICATION_PROTOCOL), .says = "ALPN",
     .s_alpn = "h2"},
    {"CH: ALPN with an empty protocol name -> decode_error (RFC 7301 3.1)",
     {.exts = {STD, "0010 0006 0004 02 6832 00"}}, DECODE, .s_alpn = "h2"},
};

static void ch_cases_run(void) {
  for (size_t i = 0; i < sizeof ch_cases / sizeof ch_cases[0]; i++) {
    const ch_case *k = &ch_cases[i];
    mutls_config *cfg;
    mutls_conn *srv = server_new(k->s_alpn, &cfg);
    if (srv) {
      send_ch(srv, &k->ch, NULL, 0);
      neg_expect_fail(k->name, srv, NULL, k->alert, k->err, k->says);
    } else {
      CHECK(k->name, 0);
    }
    mutls_conn_free(srv);
    mutls_config_free(cfg);
  }
}

/* The baseline hello is answered: what the cases change is what fails. */
static void baseline(void) {
  static const ch_spec ok = {.exts = {STD}};
  mutls_config *cfg;
  mutls_conn *srv = server_new(NULL, &cfg);
  if (srv) send_ch(srv, &ok, NULL, 0);
  CHECK("CH: the baseline hello gets a ServerHello (control)",
        srv && mutls_conn_error(srv) == MUTLS_E_NONE && mutls_conn_pending(srv) > 0);
  mutls_conn_free(srv);
  mutls_config_free(cfg);
}

/* 4.1.2: the baseline cut short inside each field, with the handshake
 * length telling the truth -> decode_error. */
static void truncations(void) {
  static const ch_spec base = {.exts = {STD}};
  static uint8_t body[NEG_MAX], rec[NEG_MAX];
  size_t len = ch_body(&base, NULL, 0, body), sid = 34, suites = sid + 33, comp = suites + 4,
         exts = comp + 2;
  /* Every field boundary and a point inside each field, but not `exts`
   * itself (that is a TLS 1.2-style hello, tested above). */
  const struct {
    size_t at;
    const char *where;
  } cuts[] = {
      {0, "empty"},                          {1, "inside legacy_version"},
      {2, "before random"},                  {20, "inside random"},
      {sid, "before legacy_session_id"},     {sid + 1, "inside legacy_session_id"},
      {sid + 9, "inside legacy_session_id"}, {suites, "before cipher_suites"},
      {suites + 1, "inside cipher_suites"},  {suites + 3, "inside cipher_suites"},
      {comp, "before compression"},          {comp + 1, "inside compression"},
      {exts + 1, "inside extensions length"}, {exts + 2, "before the first extension"},
      {exts + 3, "inside an extension type"}, {exts + 6, "inside an extension body"},
      {len - 1, "one byte short"},
  };
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    char name[128];
    mutls_config *cfg;
    mutls_conn *srv = server_new(NULL, &cfg);
    snprintf(name, sizeof name, "CH: truncated %s (%zu of %zu bytes) -> decode_error (4.1.2)",
             cuts[i].where, cuts[i].at, len);
    if (srv) neg_feed(srv, rec, neg_hs_record(HS_CLIENT_HELLO, body, cuts[i].at, rec));
    if (srv) neg_expect_fail(name, srv, NULL, ALERT_DECODE_ERROR, MUTLS_E_DECODE, NULL);
    else CHECK(name, 0);
    mutls_conn_free(srv);
    mutls_config_free(cfg);
  }
}

/* 4: a server starts with a ClientHello and nothing else. */
static void finished_first(void) {
  mutls_config *cfg;
  mutls_conn *srv = server_new(NULL, &cfg);
  const char *name = "CH: Finished before any ClientHello -> unexpected_message (4)";
  if (srv) {
    neg_feed_hex(srv, "16 0303 0024 14 000020 00*32");
    neg_expect_fail(name, srv, NULL, ALERT_UNEXPECTED_MESSAGE, MUTLS_E_UNEXPECTED_MESSAGE, NULL);
  } else {
    CHECK(name, 0);
  }
  mutls_conn_free(srv);
  mutls_config_free(cfg);
}

/* ---- the second ClientHello (4.1.2, 4.1.4) ------------------------------ */

/* The first hello offers x25519 and secp256r1 but shares neither (an empty
 * client_shares, 4.2.8): the server answers with a HelloRetryRequest for
 * x25519, its first choice. (A share for secp256r1 would be taken as it
 * is, without a round trip.) */
static const ch_spec ch1 = {.exts = {SV, SG2, SA, "0033 0002 0000"}};

/* Copies the cookie extension (whole) of the HelloRetryRequest in rec. */
static size_t hrr_cookie(const uint8_t *rec, size_t n, uint8_t *out) {
  mt_reader r = mt_reader_init(rec, n), exts, body;
  const uint8_t *skip;
  uint16_t type;
  /* record header, message header, version, random, session id, suite, compression */
  if (mt_r_bytes(&r, 5 + 4 + 2 + 32 + 33 + 2 + 1, &skip) != 0 || mt_r_block(&r, 2, &exts) != 0)
    return 0;
  while (mt_r_u16(&exts, &type) == 0 && mt_r_block(&exts, 2, &body) == 0) {
    if (type != EXT_COOKIE || body.len > 512) continue;
    neg_put_u16(out, EXT_COOKIE);
    neg_put_u16(out + 2, body.len);
    memcpy(out + 4, body.p, body.len);
    return body.len + 4;
  }
  return 0;
}

typedef struct {
  const char *name;
  const char *share; /* the key_share extension of the second hello */
  int cookie;        /* 0: dropped, 1: echoed, 2: echoed with its last byte changed */
  int alert;         /* -1: the server must answer with its flight */
  mutls_error err;
} ch2_case;

static const ch2_case ch2_cases[] = {
    {"CH2: right cookie and an x25519 share -> ServerHello (control)", KS, 1, -1, MUTLS_E_NONE},
    /* 4.2.2: the cookie must come back unchanged. */
    {"CH2: a different cookie -> illegal_parameter (4.1.2, 4.2.2)", KS, 2, ILLEGAL},
    /* 4.1.4: the new hello must share the group asked for. */
    {"CH2: no share for the group asked for -> illegal_parameter (4.1.4)", KS256, 1, ILLEGAL},
    {"CH2: cookie dropped -> missing_extension (4.1.2)", KS, 0, MISSING},
};

static void ch2_one(const ch2_case *k) {
  static uint8_t hrr[NEG_MAX];
  uint8_t cookie[4 + 512];
  mutls_config *cfg;
  mutls_conn *srv = server_new(NULL, &cfg);
  size_t n = 0, clen = 0;
  if (srv) {
    send_ch(srv, &ch1, NULL, 0);
    n = neg_take(srv, hrr, sizeof hrr);
    clen = hrr_cookie(hrr, n, cookie);
  }
  if (clen > 4 && mutls_conn_used_hrr(srv)) {
    ch_spec ch2 = {.exts = {SV, SG2, SA, k->share}};
    if (k->cookie == 2) cookie[clen - 1] ^= 0x01;
    send_ch(srv, &ch2, cookie, k->cookie ? clen : 0);
    if (k->alert < 0)
      CHECK(k->name, mutls_conn_error(srv) == MUTLS_E_NONE && mutls_conn_pending(srv) > 0);
    else
      neg_expect_fail(k->name, srv, NULL, k->alert, k->err, NULL);
  } else {
    CHECKF(k->name, 0, "no HelloRetryRequest with a cookie (%zu bytes out)", n);
  }
  mutls_conn_free(srv);
  mutls_config_free(cfg);
}

/* ---- the client's Finished, rewritten on its way (4.4.4) ----------------- */

typedef struct {
  const char *name;
  neg_edit_fn edit;
  const char *arg;
  int alert;
  mutls_error err;
} fin_case;

static const fin_case fin_cases[] = {
    /* 4.4.4: "MUST ... abort the handshake with a decrypt_error alert". */
    {"client Finished with a flipped byte -> decrypt_error (4.4.4)", neg_ed_flip_last, NULL,
     FAILS(ALERT_DECRYPT_ERROR, MUTLS_E_BAD_FINISHED)},
    {"client Finished one byte short -> decode_error (4.4.4)", neg_ed_short, NULL, DECODE},
    {"client Finished arriving as a Certificate -> unexpected_message (4)", neg_ed_type, "0b",
     UNEXPECTED},
};

static void fin_one(const fin_case *k) {
  neg_pair p;
  neg_mutation m = {HS_FINISHED, k->edit, k->arg, 0};
  if (neg_pair_new(&p, NULL) == 0) {
    neg_lie(p.c, &m);
    neg_drive(&p, p.s);
    /* The server's alert is sealed with its traffic key; the client,
     * which finished, decrypts it. */
    neg_expect_fail(k->name, p.s, p.c, k->alert, k->err, NULL);
  } else {
    CHECK(k->name, 0);
  }
  neg_pair_free(&p);
}

int main(void) {
  tu_certs();
  baseline();
  ch_cases_run();
  truncations();
  finished_first();
  for (size_t i = 0; i < sizeof ch2_cases / sizeof ch2_cases[0]; i++) ch2_one(&ch2_cases[i]);
  for (size_t i = 0; i < sizeof fin_cases / sizeof fin_cases[0]; i++) fin_one(&fin_cases[i]);
  return check_exit();
}
