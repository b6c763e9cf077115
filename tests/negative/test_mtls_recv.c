/*
 * test_mtls_recv.c - hostile input around client authentication (RFC 8446
 * 4.3.2, 4.4.2, 4.4.2.3, 4.4.2.4, 4.4.3), in both directions:
 *   - a server fed an honest client's Certificate, CertificateVerify and
 *     Finished as rewritten on their way (the mutate hook);
 *   - a client fed an honest server's CertificateRequest, rewritten likewise;
 *   - what must still work: an empty Certificate to an optional server,
 *     unknown CertificateRequest extensions, and a client that holds its
 *     certificate back saying why (its notice).
 * The hook rewrites a message before the liar hashes it, so both transcripts
 * agree and the victim fails on the rewrite itself, not on a Finished. Each
 * failing case checks the exact alert on the wire (decrypted by the liar, who
 * is honest about its keys), the error code, the explanation and that the
 * victim is closed.
 */
#include "negative/neg.h"

#define REQ MUTLS_CLIENT_AUTH_REQUIRED
#define OPT MUTLS_CLIENT_AUTH_OPTIONAL
#define AUTH_NONE MUTLS_CLIENT_AUTH_NONE
#define BAD_CERT FAILS(ALERT_BAD_CERTIFICATE, MUTLS_E_CERT_BAD)
#define CERT_REQUIRED FAILS(ALERT_CERTIFICATE_REQUIRED, MUTLS_E_CERT_MISSING)

/* A server asking (mode) for client certificates issued by ca.pem, and a
 * client holding client.pem (P-256, issued by ca.pem). 0 or -1; free the pair
 * either way. */
static int mtls_pair(neg_pair *p, mutls_client_auth mode) {
  memset(p, 0, sizeof *p);
  p->sc = tu_server_config("p256");
  p->cc = tu_client_config();
  if (!p->sc || !p->cc || mutls_config_set_client_auth(p->sc, mode) != MUTLS_OK ||
      (mode != AUTH_NONE &&
       mutls_config_set_client_ca_file(p->sc, tu_path("ca.pem")) != MUTLS_OK) ||
      mutls_config_add_identity_files(p->cc, tu_path("client.pem"), tu_path("client.key")) !=
          MUTLS_OK)
    return -1;
  p->s = mutls_server_new(p->sc);
  p->c = mutls_client_new(p->cc, "localhost");
  return p->s && p->c && mutls_conn_error(p->s) == MUTLS_E_NONE &&
                 mutls_conn_error(p->c) == MUTLS_E_NONE
             ? 0
             : -1;
}

static const char *explain_of(const mutls_conn *c) { return c ? mutls_conn_explain(c) : "(none)"; }

/* ---- a liar with up to two rewrites -------------------------------------- */

#define LIES 2
#define LIE(t, e, a) {{(t), (e), (a), 0}}
#define LIE2(t1, e1, a1, t2, e2, a2) {{(t1), (e1), (a1), 0}, {(t2), (e2), (a2), 0}}

/* Each rewrite edits the first message of its type, in order. */
static size_t lie_hook(void *arg, uint8_t *msg, size_t len, size_t cap) {
  neg_mutation *m = arg;
  for (int i = 0; i < LIES && m[i].edit; i++) len = neg_mutate_hook(&m[i], msg, len, cap);
  return len;
}

static void lie_all(mutls_conn *liar, neg_mutation *m) {
  mt_test_inject t;
  memset(&t, 0, sizeof t);
  t.mutate = lie_hook;
  t.mutate_arg = m;
  mt_test_inject_set(liar, &t);
}

/* ---- edits ---------------------------------------------------------------- */

/* Where a Certificate's list, or a CertificateRequest's extensions, start:
 * after the header and the request context. */
static size_t after_ctx(const uint8_t *m) { return 4 + 1 + m[4]; }

/* Inserts the bytes of hex at offset at; returns the new length. Length
 * fields are the caller's. */
static size_t insert_hex(uint8_t *m, size_t len, size_t cap, size_t at, const char *hex) {
  uint8_t add[2048];
  size_t n = neg_hex(hex, add, sizeof add);
  if (n > cap - len) neg_die("more than the hook has room for", hex);
  memmove(m + at + n, m + at, len - at);
  memcpy(m + at, add, n);
  return len + n;
}

/* The message is neither sent nor hashed. */
static size_t ed_drop(uint8_t *m, size_t len, size_t cap, const char *arg) { return 0; }
/* The messages arg (whole, hex) go before / after this one. */
static size_t ed_before(uint8_t *m, size_t len, size_t cap, const char *arg) {
  return insert_hex(m, len, cap, 0, arg);
}
static size_t ed_after(uint8_t *m, size_t len, size_t cap, const char *arg) {
  return insert_hex(m, len, cap, len, arg);
}
/* The message goes out twice. */
static size_t ed_twice(uint8_t *m, size_t len, size_t cap, const char *arg) {
  if (2 * len > cap) neg_die("more than the hook has room for", "twice");
  memcpy(m + len, m, len);
  return 2 * len;
}
/* The (empty) request context becomes arg (hex, without its length byte). */
static size_t ed_ctx(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t n = insert_hex(m, len, cap, 5, arg);
  m[4] = (uint8_t)(n - len);
  neg_put_u24(m + 1, n - 4);
  return n;
}

/* Certificate: the first entry claims one byte more: its extensions'
 * length is swallowed. */
static size_t ed_entry_long(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t e = after_ctx(m) + 3;
  neg_put_u24(m + e, neg_get_u24(m + e) + 1);
  return len;
}
/* Certificate: the list claims one byte more than the message holds. */
static size_t ed_list_long(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t l = after_ctx(m);
  neg_put_u24(m + l, neg_get_u24(m + l) + 1);
  return len;
}
/* Certificate: the first entry carries the extension arg (whole, hex). */
static size_t ed_entry_ext(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t l = after_ctx(m), exts = l + 3 + 3 + neg_get_u24(m + l + 3);
  size_t n = insert_hex(m, len, cap, exts + 2, arg) - len;
  neg_put_u16(m + exts, neg_get_u16(m + exts) + n);
  neg_put_u24(m + l, neg_get_u24(m + l) + n);
  neg_put_u24(m + 1, len + n - 4);
  return len + n;
}
/* Certificate: the entries arg (whole, hex) end the list. */
static size_t ed_entries_add(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t l = after_ctx(m), n = insert_hex(m, len, cap, len, arg) - len;
  neg_put_u24(m + l, neg_get_u24(m + l) + n);
  neg_put_u24(m + 1, len + n - 4);
  return len + n;
}
/* CertificateVerify: the scheme becomes arg. */
static size_t ed_scheme(uint8_t *m, size_t len, size_t cap, const char *arg) {
  neg_hex(arg, m + 4, 2);
  return len;
}

/* CertificateRequest: the extension arg (whole, hex) ends the block. */
static size_t ed_ext_add(uint8_t *m, size_t len, size_t cap, const char *arg) {
  size_t x = after_ctx(m), n = insert_hex(m, len, cap, len, arg) - len;
  neg_put_u16(m + x, neg_get_u16(m + x) + n);
  neg_put_u24(m + 1, len + n - 4);
  return len + n;
}
/* CertificateRequest without its extension of that type (if any). */
static size_t cut_ext(uint8_t *m, size_t len, size_t type) {
  size_t x = after_ctx(m);
  for (size_t p = x + 2; p + 4 <= len; p += 4 + neg_get_u16(m + p + 2)) {
    size_t n = 4 + neg_get_u16(m + p + 2);
    if (neg_get_u16(m + p) != type) continue;
    memmove(m + p, m + p + n, len - p - n);
    neg_put_u16(m + x, neg_get_u16(m + x) - n);
    neg_put_u24(m + 1, len - n - 4);
    return len - n;
  }
  return len;
}
/* CertificateRequest: the extension arg replaces the one of its type. */
static size_t ed_ext_put(uint8_t *m, size_t len, size_t cap, const char *arg) {
  uint8_t ext[2048];
  neg_hex(arg, ext, sizeof ext);
  return ed_ext_add(m, cut_ext(m, len, neg_get_u16(ext)), cap, arg);
}

/* ---- pieces --------------------------------------------------------------- */

#define SA_P256 "000d 0004 0002 0403" /* signature_algorithms: ecdsa_secp256r1_sha256 */
/* signature_algorithms that a P-256 key cannot make: ed25519, rsa_pss_rsae_sha256. */
#define SA_NOT_P256 "000d 0006 0004 0807 0804"
/* certificate_authorities naming "CN=mutls other CA" only (the DER of the
 * name: SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } }). */
#define OTHER_CA_DN "3019 3117 3015 0603 550403 0c0e 6d75746c73206f74686572204341"
#define CA_OTHER "002f 001f 001d 001b " OTHER_CA_DN
#define TINY_ENTRY "000001 30 0000 " /* a certificate entry of one byte, no extensions */
#define TEN_TINY TINY_ENTRY TINY_ENTRY TINY_ENTRY TINY_ENTRY TINY_ENTRY \
                 TINY_ENTRY TINY_ENTRY TINY_ENTRY TINY_ENTRY TINY_ENTRY

/* Honest messages the liars move or add, as hex, learned in main() from the
 * configs a pair uses: the client's whole Certificate message and the
 * server's whole CertificateRequest. */
static char client_cert_hex[8192], server_cr_hex[8192];

static void hex_of(const uint8_t *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
  out[2 * n] = 0;
}

static int learn_messages(void) {
  neg_pair p;
  int ok = mtls_pair(&p, REQ) == 0 && p.cc->ids[0].cert_msg_len < 4000 &&
           p.sc->cr_msg_len < 4000;
  if (ok) { /* both whole messages, header included */
    hex_of(p.cc->ids[0].cert_msg, p.cc->ids[0].cert_msg_len, client_cert_hex);
    hex_of(p.sc->cr_msg, p.sc->cr_msg_len, server_cr_hex);
  }
  neg_pair_free(&p);
  return ok ? 0 : -1;
}

/* ---- cases that must fail --------------------------------------------------- */

typedef struct {
  const char *name;
  mutls_client_auth mode; /* the server's */
  neg_mutation lie[LIES]; /* what the liar rewrites */
  int alert;
  mutls_error err;
  const char *says; /* the victim's explanation names this, or NULL */
} lie_case;

/* The server is the victim: the client lies. */
static const lie_case server_cases[] = {
    /* 4.4.2, 6: lengths that do not add up -> decode_error. */
    {"server: client Certificate entry swallows its extensions' length -> decode_error (4.4.2)",
     REQ, LIE(HS_CERTIFICATE, ed_entry_long, NULL), DECODE,
     "extensions of a certificate entry"},
    {"server: client Certificate list longer than the message -> decode_error (4.4.2)", REQ,
     LIE(HS_CERTIFICATE, ed_list_long, NULL), DECODE, "Certificate is malformed"},
    {"server: client Certificate one byte short -> decode_error (4.4.2)", REQ,
     LIE(HS_CERTIFICATE, neg_ed_short, NULL), DECODE, "Certificate is malformed"},
    /* 4.4.2: opaque cert_data<1..2^24-1>. */
    {"server: client Certificate with an empty entry -> decode_error (4.4.2)", REQ,
     LIE(HS_CERTIFICATE, neg_ed_body, "00 000005 000000 0000"), DECODE,
     "entry"},
    /* 4.4.2: a client's context echoes the CertificateRequest's, which in the
     * handshake is empty (4.3.2). */
    {"server: client Certificate with a request context -> illegal_parameter (4.4.2)", REQ,
     LIE(HS_CERTIFICATE, ed_ctx, "aa"), ILLEGAL, "request context"},
    /* 4.4.2: "Extensions in the Certificate message from the client MUST
     * correspond to extensions in the CertificateRequest message"; 4.2: else
     * unsupported_extension. Our CertificateRequest asks for none. */
    {"server: client certificate entry with status_request, not requested -> "
     "unsupported_extension (4.4.2)",
     REQ, LIE(HS_CERTIFICATE, ed_entry_ext, "0005 0000"), UNSUPPORTED},
    {"server: client certificate entry with unknown extension 0x1234 -> unsupported_extension "
     "(4.4.2)",
     REQ, LIE(HS_CERTIFICATE, ed_entry_ext, "1234 0000"), UNSUPPORTED},
    /* 4.2: a known extension not allowed in Certificate -> illegal_parameter. */
    {"server: client certificate entry with key_share -> illegal_parameter (4.2)", REQ,
     LIE(HS_CERTIFICATE, ed_entry_ext, "0033 0000"), ILLEGAL, "malformed"},
    /* 6.2: bad_certificate, "a certificate was corrupt". */
    {"server: client Certificate of garbage DER -> bad_certificate (6.2)", REQ,
     LIE(HS_CERTIFICATE, neg_ed_body, "00 000009 000004 deadbeef 0000"), BAD_CERT},
    /* 4.4.2.4: an empty Certificate; the server "MAY ... abort the handshake
     * with a certificate_required alert" (ours does when it requires one). */
    {"server (required): client Certificate empty -> certificate_required (4.4.2.4)", REQ,
     LIE(HS_CERTIFICATE, neg_ed_body, "00 000000"), CERT_REQUIRED, "sent no certificate"},
    /* 4.4.2, 6.2: the leaf and ten more, beyond our limit of 10. */
    {"server: client Certificate with 11 certificates -> bad_certificate (4.4.2, 6.2)", REQ,
     LIE(HS_CERTIFICATE, ed_entries_add, TEN_TINY), BAD_CERT, "more than 10"},
    /* 4.4.3: "If the verification fails, the receiver MUST terminate the
     * handshake with a decrypt_error alert." */
    {"server: client CertificateVerify with a flipped signature byte -> decrypt_error (4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, neg_ed_flip_last, NULL),
     FAILS(ALERT_DECRYPT_ERROR, MUTLS_E_BAD_SIGNATURE), "does not verify"},
    /* 4.4.3: a client's scheme "MUST be one of those present in the
     * supported_signature_algorithms field of the signature_algorithms
     * extension in the CertificateRequest message". */
    {"server: client CertificateVerify with rsa_pkcs1_sha1, not offered -> illegal_parameter "
     "(4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, ed_scheme, "0201"), ILLEGAL, "did not offer"},
    /* 4.4.3: RSASSA-PKCS1-v1_5 "MUST NOT be used" in CertificateVerify. */
    {"server: client CertificateVerify with rsa_pkcs1_sha256, not offered -> illegal_parameter "
     "(4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, ed_scheme, "0401"), ILLEGAL, "did not offer"},
    /* 4.2.3: in TLS 1.3 the ECDSA curve is part of the scheme; 4.4.3: the
     * scheme must fit the key of the sender's end-entity certificate. */
    {"server: client CertificateVerify claims ecdsa_secp384r1_sha384 for a P-256 key -> "
     "illegal_parameter (4.2.3, 4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, ed_scheme, "0503"), ILLEGAL, "cannot produce"},
    {"server: client CertificateVerify claims ed25519 for a P-256 key -> illegal_parameter "
     "(4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, ed_scheme, "0807"), ILLEGAL, "cannot produce"},
    {"server: client CertificateVerify one byte short -> decode_error (4.4.3)", REQ,
     LIE(HS_CERTIFICATE_VERIFY, neg_ed_short, NULL), DECODE, "CertificateVerify"},
    /* 4.4.3: a client MUST send CertificateVerify with a non-empty
     * Certificate; 4: out of order -> unexpected_message. */
    {"server: client CertificateVerify missing (Finished instead) -> unexpected_message (4.4.3)",
     REQ, LIE(HS_CERTIFICATE_VERIFY, ed_drop, NULL), UNEXPECTED, "message 20"},
    /* 4.4.3: "Clients MUST send this message whenever authenticating via a
     * certificate (i.e., when the Certificate message is non-empty)": after
     * an empty one there is nothing to verify. */
    {"server (optional): CertificateVerify after an empty client Certificate -> "
     "unexpected_message (4.4.3)",
     OPT, LIE(HS_CERTIFICATE, neg_ed_body, "00 000000"), UNEXPECTED, "message 15"},
    /* 4.4.2: "The client MUST send a Certificate message if and only if the
     * server has requested client authentication via a CertificateRequest". */
    {"server (none): client Certificate nobody asked for -> unexpected_message (4.4.2)", AUTH_NONE,
     LIE(HS_FINISHED, ed_before, client_cert_hex), UNEXPECTED, "message 11"},
};

/* The client is the victim: the server lies in its CertificateRequest. */
static const lie_case client_cases[] = {
    /* 4.3.2: "The signature_algorithms extension MUST be specified"; 6.2:
     * missing_extension. */
    {"client: CertificateRequest without extensions -> missing_extension (4.3.2)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, neg_ed_body, "00 0000"), MISSING, "signature_algorithms"},
    {"client: CertificateRequest with signature_algorithms_cert only -> missing_extension "
     "(4.3.2)",
     REQ, LIE(HS_CERTIFICATE_REQUEST, neg_ed_body, "00 0008 0032 0004 0002 0403"), MISSING,
     "signature_algorithms"},
    /* 4.3.2: the context "SHALL be zero length unless used for the
     * post-handshake authentication exchanges". */
    {"client: CertificateRequest with a context in the handshake -> illegal_parameter (4.3.2)",
     REQ, LIE(HS_CERTIFICATE_REQUEST, ed_ctx, "aa"), ILLEGAL, "context"},
    /* 4.2.3: supported_signature_algorithms<2..2^16-2>, of u16 entries. */
    {"client: CertificateRequest signature_algorithms empty -> decode_error (4.2.3)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "000d 0002 0000"), DECODE, "signature_algorithms"},
    {"client: CertificateRequest signature_algorithms of odd length -> decode_error (4.2.3)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "000d 0003 0001 04"), DECODE, "signature_algorithms"},
    /* 4.2.4: DistinguishedName authorities<3..2^16-1>; each
     * DistinguishedName<1..2^16-1>. */
    {"client: certificate_authorities with an empty list -> decode_error (4.2.4)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "002f 0002 0000"), DECODE, "certificate_authorities"},
    {"client: certificate_authorities name longer than its list -> decode_error (4.2.4)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "002f 0005 0003 0005 aa"), DECODE,
     "certificate_authorities"},
    {"client: certificate_authorities with an empty name -> decode_error (4.2.4)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "002f 0004 0002 0000"), DECODE,
     "certificate_authorities"},
    {"client: certificate_authorities with a byte after its list -> decode_error (4.2.4)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, "002f 0006 0003 0001 aa bb"), DECODE,
     "certificate_authorities"},
    /* 4.2: "There MUST NOT be more than one extension of the same type in a
     * given extension block." */
    {"client: CertificateRequest with signature_algorithms twice -> illegal_parameter (4.2)",
     REQ, LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, SA_P256), ILLEGAL, "CertificateRequest"},
    {"client: CertificateRequest with certificate_authorities twice -> illegal_parameter (4.2)",
     REQ, LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, CA_OTHER), ILLEGAL, "CertificateRequest"},
    /* 4.2: "If an implementation receives an extension which it recognizes
     * and which is not specified for the message in which it appears, it
     * MUST abort the handshake with an illegal_parameter alert." */
    {"client: CertificateRequest with key_share -> illegal_parameter (4.2)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, "0033 0024 001d 0020" X25519_PUB), ILLEGAL,
     "CertificateRequest"},
    {"client: CertificateRequest with supported_versions -> illegal_parameter (4.2)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, "002b 0002 0304"), ILLEGAL, "CertificateRequest"},
    /* 4: messages in the order of 2's figure, or unexpected_message; there
     * is one CertificateRequest, right after EncryptedExtensions (4.3.2). */
    {"client: a second CertificateRequest -> unexpected_message (4, 4.3.2)", REQ,
     LIE(HS_CERTIFICATE_REQUEST, ed_twice, NULL), UNEXPECTED, "message 13"},
    {"client: CertificateRequest after the server's Certificate -> unexpected_message (4, "
     "4.3.2)",
     REQ,
     LIE2(HS_CERTIFICATE_REQUEST, ed_drop, NULL, HS_CERTIFICATE, ed_after, server_cr_hex),
     UNEXPECTED, "message 13"},
};

static void lie_one(const lie_case *k, int server_lies) {
  neg_pair p;
  neg_mutation m[LIES];
  memcpy(m, k->lie, sizeof m);
  if (mtls_pair(&p, k->mode) == 0) {
    mutls_conn *liar = server_lies ? p.s : p.c, *victim = server_lies ? p.c : p.s;
    lie_all(liar, m);
    neg_drive(&p, victim);
    /* The victim's alert is sealed under keys the liar holds: it decrypts. */
    neg_expect_fail(k->name, victim, liar, k->alert, k->err, k->says);
  } else {
    CHECKF(k->name, 0, "setup failed: %s", explain_of(p.s));
  }
  neg_pair_free(&p);
}

/* ---- rewrites that must be accepted ------------------------------------------ */

typedef struct {
  const char *name;
  mutls_client_auth mode;
  int server_lies; /* else the client does */
  neg_mutation lie[LIES];
  int want_peer; /* the server ends with a verified client */
} ok_case;

static const ok_case ok_cases[] = {
    /* 4.4.2.4: with an empty Certificate (and so no CertificateVerify) the
     * server "MAY at its discretion ... continue the handshake without
     * client authentication": ours does when the certificate is optional. */
    {"server (optional): empty client Certificate, no CertificateVerify -> served without a "
     "peer (4.4.2.4)",
     OPT, 0,
     LIE2(HS_CERTIFICATE, neg_ed_body, "00 000000", HS_CERTIFICATE_VERIFY, ed_drop, NULL), 0},
    /* 4.3.2: "Clients MUST ignore unrecognized extensions." */
    {"client: CertificateRequest with unknown extension 0x1234 -> ignored, certificate sent "
     "(4.3.2)",
     REQ, 1, LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, "1234 0003 aabbcc"), 1},
    {"client: CertificateRequest with GREASE extension 0x0a0a -> ignored, certificate sent "
     "(4.3.2, RFC 8701)",
     REQ, 1, LIE(HS_CERTIFICATE_REQUEST, ed_ext_add, "0a0a 0000"), 1},
};

static void ok_one(const ok_case *k) {
  neg_pair p;
  neg_mutation m[LIES];
  memcpy(m, k->lie, sizeof m);
  int ok = mtls_pair(&p, k->mode) == 0;
  if (ok) {
    lie_all(k->server_lies ? p.s : p.c, m);
    ok = tu_pump(p.c, p.s) == 0;
  }
  int peer = ok && mutls_conn_peer(p.s) != NULL;
  CHECKF(k->name, ok && m[0].done && peer == k->want_peer,
         "handshake %s, edited %d, peer %d; server: \"%s\"; client: \"%s\"",
         ok ? "done" : "failed", m[0].done, peer, explain_of(p.s), explain_of(p.c));
  neg_pair_free(&p);
}

/* ---- a client that holds its certificate back, and says why --------------- */

typedef struct {
  const char *name;
  mutls_client_auth mode;
  const char *ext;     /* replaces the extension of its type in the CertificateRequest */
  const char *says[2]; /* the client's notice names these */
} notice_case;

/* 4.4.2: "If the server requests client authentication but no suitable
 * certificate is available, the client MUST send a Certificate message
 * containing no certificates"; 4.4.2.3 says what suits: a scheme from
 * signature_algorithms, and (SHOULD) a chain from a listed CA. */
static const notice_case notice_cases[] = {
    {"client (optional server): signature_algorithms our key cannot make -> empty Certificate, "
     "notice says why (4.4.2, 4.4.2.3)",
     OPT, SA_NOT_P256, {"none of our keys can make a signature", "the server accepts"}},
    {"client (required server): signature_algorithms our key cannot make -> "
     "certificate_required, explained with the notice (4.4.2, 4.4.2.4)",
     REQ, SA_NOT_P256, {"none of our keys can make a signature", "the server accepts"}},
    {"client (optional server): certificate_authorities names only another CA -> empty "
     "Certificate, notice names both CAs (4.4.2.3)",
     OPT, CA_OTHER, {"issued by CN=mutls other CA", "ours is issued by CN=mutls test CA"}},
    {"client (required server): certificate_authorities names only another CA -> "
     "certificate_required, explained with the notice (4.4.2.3, 4.4.2.4)",
     REQ, CA_OTHER, {"issued by CN=mutls other CA", "ours is issued by CN=mutls test CA"}},
};

/* The optional server serves the client without an identity. */
static void served_anyway(neg_pair *p, char *why, size_t cap) {
  why[0] = 0;
  if (tu_pump(p->c, p->s) != 0)
    neg_say(why, cap, "handshake failed: server \"%s\", client \"%s\"", explain_of(p->s),
            explain_of(p->c));
  if (mutls_conn_peer(p->s)) neg_say(why, cap, "the server has a client identity");
}

/* The required server refuses with certificate_required (judged as any
 * victim), and the client's explanation carries its notice. */
static void refused(neg_pair *p, char *why, size_t cap) {
  neg_drive(p, p->s);
  neg_judge(p->s, p->c, ALERT_CERTIFICATE_REQUIRED, MUTLS_E_CERT_MISSING, why, cap);
  if (mutls_conn_error(p->c) != MUTLS_E_PEER_ALERT ||
      mutls_conn_alert_received(p->c) != ALERT_CERTIFICATE_REQUIRED)
    neg_say(why, cap, "client: %s, alert received %d", mutls_error_name(mutls_conn_error(p->c)),
            mutls_conn_alert_received(p->c));
  if (!mutls_conn_notice(p->c)[0] ||
      !strstr(mutls_conn_explain(p->c), mutls_conn_notice(p->c)))
    neg_say(why, cap, "the client's explanation lacks its notice: \"%s\"",
            mutls_conn_explain(p->c));
}

static void notice_one(const notice_case *k) {
  neg_pair p;
  neg_mutation m[LIES] = LIE(HS_CERTIFICATE_REQUEST, ed_ext_put, k->ext);
  char why[1500] = "setup failed";
  if (mtls_pair(&p, k->mode) == 0) {
    lie_all(p.s, m);
    (k->mode == REQ ? refused : served_anyway)(&p, why, sizeof why);
    if (!m[0].done) neg_say(why, sizeof why, "the CertificateRequest was not rewritten");
    if (!mutls_conn_cert_requested(p.c) || mutls_conn_cert_sent(p.c))
      neg_say(why, sizeof why, "the client was not asked, or sent a certificate");
    for (int i = 0; i < 2; i++)
      if (!strstr(mutls_conn_notice(p.c), k->says[i]))
        neg_say(why, sizeof why, "the notice lacks \"%s\"", k->says[i]);
  }
  CHECKF(k->name, !why[0], "%s; notice: \"%s\"", why, p.c ? mutls_conn_notice(p.c) : "");
  neg_pair_free(&p);
}

int main(void) {
  tu_certs();
  CHECK("setup: the client's Certificate and the server's CertificateRequest, learned",
        learn_messages() == 0);
  for (size_t i = 0; i < sizeof server_cases / sizeof server_cases[0]; i++)
    lie_one(&server_cases[i], 0);
  for (size_t i = 0; i < sizeof client_cases / sizeof client_cases[0]; i++)
    lie_one(&client_cases[i], 1);
  for (size_t i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) ok_one(&ok_cases[i]);
  for (size_t i = 0; i < sizeof notice_cases / sizeof notice_cases[0]; i++)
    notice_one(&notice_cases[i]);
  return check_exit();
}
