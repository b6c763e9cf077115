/* gen_corpus.c - writes the generated part of the seed corpus.
 *
 *   gen_corpus write DIR   writes DIR/<target>/<seed> for every target
 *   gen_corpus check DIR   exits 1 (naming them) if the generated seeds in
 *                          DIR differ from what the library produces now
 *
 * Seeds come from honest, deterministic runs of each scenario (fuzz.h): the
 * byte streams each way, for the *_recv targets, and the handshake
 * messages each side sent, for the *_msgs targets and fuzz_hello; plus a few
 * malformed inputs built from them. Seeds captured from other
 * implementations (openssl, gnutls, python) are made by make_corpus.sh.
 * Generated seeds are named gen-*; check looks only at those. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static const char *root;
static int checking, stale, written;
static int random_scenario; /* the seeds being made are not the same bytes every run */

/* seed TARGET NAME parts...: writes (or compares) one seed made of the
 * concatenated parts. */
typedef struct {
  const uint8_t *p;
  size_t len;
} part;

static void seed(const char *target, const char *name, const part *parts, size_t n) {
  fz_buf b = {0};
  char path[1024];
  for (size_t i = 0; i < n; i++) fz_buf_add(&b, parts[i].p, parts[i].len);
  snprintf(path, sizeof path, "%s/%s", root, target);
  if (!checking && mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    exit(2);
  }
  snprintf(path, sizeof path, "%s/%s/gen-%s", root, target, name);
  if (checking && random_scenario) {
    /* Only its presence can be checked. */
    FILE *f = fopen(path, "rb");
    if (!f) {
      printf("missing: %s\n", path);
      stale++;
    } else {
      fclose(f);
    }
  } else if (checking) {
    FILE *f = fopen(path, "rb");
    uint8_t *old = malloc(b.len + 1);
    size_t got = f && old ? fread(old, 1, b.len + 1, f) : 0;
    if (!f || got != b.len || (b.len && memcmp(old, b.p, b.len) != 0)) {
      printf("stale or missing: %s\n", path);
      stale++;
    }
    free(old);
    if (f) fclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
      perror(path);
      exit(2);
    }
    written++;
  }
  fz_buf_free(&b);
}

#define P(ptr, n) ((part){(const uint8_t *)(ptr), (n)})
#define SEED(target, name, ...)                                                                \
  do {                                                                                         \
    const part parts_[] = {__VA_ARGS__};                                                       \
    seed(target, name, parts_, sizeof parts_ / sizeof parts_[0]);                              \
  } while (0)

/* The message at *off in a stream of handshake messages; advances *off. */
static part next_msg(const fz_buf *msgs, size_t *off) {
  part m = {NULL, 0};
  if (msgs->len - *off < 4) return m;
  const uint8_t *p = msgs->p + *off;
  size_t n = 4 + (((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3]);
  if (n > msgs->len - *off) return m;
  m.p = p;
  m.len = n;
  *off += n;
  return m;
}

/* The first record of a stream. */
static part first_record(const fz_buf *stream) {
  part r = {stream->p, 0};
  if (stream->len >= 5) r.len = 5 + (((size_t)stream->p[3] << 8) | stream->p[4]);
  if (r.len > stream->len) r.len = stream->len;
  return r;
}

static void recv_seeds(unsigned k, const fz_scenario *s, const fz_buf *c2s, const fz_buf *s2c) {
  char name[128];
  uint8_t h = FZ_RECV_HEADER(k, 0);
  snprintf(name, sizeof name, "honest-%s", s->name);
  SEED("fuzz_server_recv", name, P(&h, 1), P(c2s->p, c2s->len));
  SEED("fuzz_client_recv", name, P(&h, 1), P(s2c->p, s2c->len));
  if (k != 0) return;
  /* Chunked: 1, 5 and 100 bytes at a time. */
  static const uint8_t chunked[] = {FZ_RECV_HEADER(0, 3), 0, 4, 99};
  SEED("fuzz_server_recv", "honest-default-chunks-1-5-100", P(chunked, 4), P(c2s->p, c2s->len));
  SEED("fuzz_client_recv", "honest-default-chunks-1-5-100", P(chunked, 4), P(s2c->p, s2c->len));

  /* Malformed client streams. */
  part ch = first_record(c2s), rest = P(c2s->p + ch.len, c2s->len - ch.len);
  size_t half = (ch.len - 5) / 2;
  uint8_t r1[5] = {CT_HANDSHAKE, 3, 1, (uint8_t)(half >> 8), (uint8_t)half};
  uint8_t r2[5] = {CT_HANDSHAKE, 3, 1, (uint8_t)((ch.len - 5 - half) >> 8),
                   (uint8_t)(ch.len - 5 - half)};
  SEED("fuzz_server_recv", "hello-in-two-records", P(&h, 1), P(r1, 5), P(ch.p + 5, half),
       P(r2, 5), P(ch.p + 5 + half, ch.len - 5 - half), rest);
  static const uint8_t ccs[] = {CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
  SEED("fuzz_server_recv", "ccs-before-hello", P(&h, 1), P(ccs, sizeof ccs), P(c2s->p, c2s->len));
  SEED("fuzz_server_recv", "hello-twice", P(&h, 1), ch, ch);
  static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  SEED("fuzz_server_recv", "http-request", P(&h, 1), P(http, sizeof http - 1));
  static const uint8_t sslv2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00,
                                  0x10, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x00, 0x00, 0x0a};
  SEED("fuzz_server_recv", "sslv2-hello", P(&h, 1), P(sslv2, sizeof sslv2));
  static const uint8_t alert[] = {CT_ALERT, 3, 3, 0, 2, 2, ALERT_HANDSHAKE_FAILURE};
  SEED("fuzz_server_recv", "fatal-alert", P(&h, 1), P(alert, sizeof alert));
  SEED("fuzz_client_recv", "fatal-alert", P(&h, 1), P(alert, sizeof alert));
  static const uint8_t big[] = {CT_HANDSHAKE, 3, 3, 0x40, 0x01, HS_CLIENT_HELLO, 0, 0x3f, 0xfd};
  SEED("fuzz_server_recv", "record-overflow", P(&h, 1), P(big, sizeof big));
  static const uint8_t empty[] = {CT_HANDSHAKE, 3, 3, 0, 0};
  SEED("fuzz_client_recv", "empty-handshake-record", P(&h, 1), P(empty, sizeof empty));
  static const uint8_t early_data[] = {CT_APPLICATION_DATA, 3, 3, 0, 4, 'd', 'a', 't', 'a'};
  SEED("fuzz_server_recv", "data-before-hello", P(&h, 1), P(early_data, sizeof early_data));
  /* A TLS 1.2 ServerHello: no supported_versions. */
  static const uint8_t sh12[] = {CT_HANDSHAKE, 3, 3, 0, 42, HS_SERVER_HELLO, 0, 0, 38, 3, 3,
                                 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
                                 0, 0xc0, 0x2f, 0};
  SEED("fuzz_client_recv", "tls12-server-hello", P(&h, 1), P(sh12, sizeof sh12));
}

/* The messages of msgs from off on, with CertificateVerify and Finished
 * replaced by the harness's oracle messages (fz_handle_messages). */
static void oracle_seed(const char *target, const char *name, uint8_t h, const fz_buf *msgs,
                        size_t off, part tail) {
  static const uint8_t cv[] = {FZ_MSG_CERT_VERIFY, 0, 0, 0}, fin[] = {FZ_MSG_FINISHED, 0, 0, 0};
  fz_buf b = {0};
  part m;
  fz_buf_add(&b, &h, 1);
  while ((m = next_msg(msgs, &off)).len) {
    if (m.p[0] == HS_CERTIFICATE_VERIFY)
      fz_buf_add(&b, cv, sizeof cv);
    else if (m.p[0] == HS_FINISHED)
      fz_buf_add(&b, fin, sizeof fin);
    else
      fz_buf_add(&b, m.p, m.len);
  }
  fz_buf_add(&b, tail.p, tail.len);
  SEED(target, name, P(b.p, b.len));
  fz_buf_free(&b);
}

static void msgs_seeds(unsigned k, const fz_scenario *s, const fz_buf *c_msgs,
                       const fz_buf *s_msgs) {
  char name[128];
  uint8_t h = (uint8_t)k;
  size_t off = 0;
  part m, first = next_msg(c_msgs, &off);
  /* The server's messages after its ServerHello (and HelloRetryRequest). */
  size_t soff = 0, after_sh = 0;
  while ((m = next_msg(s_msgs, &soff)).len)
    if (m.p[0] == HS_SERVER_HELLO) after_sh = soff;
  snprintf(name, sizeof name, "honest-%s", s->name);
  SEED("fuzz_client_msgs", name, P(&h, 1), P(s_msgs->p + after_sh, s_msgs->len - after_sh));
  /* The client's messages after its first ClientHello. */
  SEED("fuzz_server_msgs", name, P(&h, 1), P(c_msgs->p + off, c_msgs->len - off));
  snprintf(name, sizeof name, "oracle-%s", s->name);
  oracle_seed("fuzz_client_msgs", name, h, s_msgs, after_sh, P(NULL, 0));
  oracle_seed("fuzz_server_msgs", name, h, c_msgs, off, P(NULL, 0));
  if (k == 4) {
    /* Scenario 4's client offers post-handshake authentication: ask. */
    static const uint8_t pha_cr[] = {HS_CERTIFICATE_REQUEST, 0, 0, 17, 4, 'p', 'h', 'a', '1', 0,
                                     10, 0, 13, 0, 6, 0, 4, 0x08, 0x07, 0x04, 0x03};
    oracle_seed("fuzz_client_msgs", "oracle-then-post-handshake-cert-request", h, s_msgs,
                after_sh, P(pha_cr, sizeof pha_cr));
  }

  /* Every message the decoders of fuzz_hello know, on its own. */
  static const uint8_t ch_sel[] = {0}, sh_sel[] = {1};
  int n_ch = 0;
  for (off = 0, m = next_msg(c_msgs, &off); m.len; m = next_msg(c_msgs, &off))
    if (m.p[0] == HS_CLIENT_HELLO) {
      snprintf(name, sizeof name, "client-hello%d-%s", ++n_ch, s->name);
      SEED("fuzz_hello", name, P(ch_sel, 1), P(m.p + 4, m.len - 4));
    }
  for (soff = 0, m = next_msg(s_msgs, &soff); m.len; m = next_msg(s_msgs, &soff)) {
    const uint8_t *body = m.p + 4;
    size_t len = m.len - 4;
    if (m.p[0] == HS_SERVER_HELLO) {
      int hrr = len >= 34 && memcmp(body + 2, mt_hrr_random, 32) == 0;
      snprintf(name, sizeof name, "%s-%s", hrr ? "hello-retry-request" : "server-hello", s->name);
      SEED("fuzz_hello", name, P(sh_sel, 1), P(body, len));
    } else if (k == 0 && m.p[0] == HS_ENCRYPTED_EXTENSIONS) {
      static const uint8_t ee_sel[] = {2, 3}; /* 1 << 3 = M_EE */
      SEED("fuzz_hello", "extensions-ee", P(ee_sel, 2), P(body, len));
    } else if (m.p[0] == HS_CERTIFICATE && k == 0 && len > 4) {
      static const uint8_t sel[] = {0}; /* localhost, for server use */
      SEED("fuzz_peer_cert", "server-chain", P(sel, 1), P(body + 4 + body[0], len - 4 - body[0]));
    } else if (m.p[0] == HS_CERTIFICATE_REQUEST) {
      static const uint8_t cr_sel[] = {2, 5}; /* 1 << 5 = M_CR */
      SEED("fuzz_hello", "extensions-cr", P(cr_sel, 2), P(body + 1, len - 1));
    }
  }
  for (off = 0, m = next_msg(c_msgs, &off); m.len; m = next_msg(c_msgs, &off))
    if (m.p[0] == HS_CERTIFICATE && m.len > 8 && m.len > 8 + (size_t)m.p[4]) {
      static const uint8_t sel[] = {4 | 3}; /* no name, for client use */
      SEED("fuzz_peer_cert", "client-chain", P(sel, 1), P(m.p + 8 + m.p[4], m.len - 8 - m.p[4]));
    }
  if (k != 0) return;
  /* The ClientHello's extensions block alone, for each message kind. */
  off = 0;
  first = next_msg(c_msgs, &off);
  mt_client_hello ch;
  if (first.len && mt_client_hello_decode(first.p + 4, first.len - 4, &ch) == 0) {
    const uint8_t *exts = ch.compression.p + ch.compression.len;
    size_t elen = (size_t)(first.p + first.len - exts);
    for (uint8_t kind = 0; kind < 7; kind++) {
      uint8_t sel[2] = {2, kind};
      snprintf(name, sizeof name, "extensions-ch-as-kind%u", kind);
      SEED("fuzz_hello", name, P(sel, 2), P(exts, elen));
    }
  }
  static const uint8_t list[] = {3, 1, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18};
  SEED("fuzz_hello", "u16-list", P(list, sizeof list));

  /* Malformed messages in the right places. */
  static const uint8_t ee_unknown[] = {0, HS_ENCRYPTED_EXTENSIONS, 0, 0, 6, 0, 4, 0xfa, 0xfa, 0,
                                       0};
  SEED("fuzz_client_msgs", "ee-unknown-extension", P(ee_unknown, sizeof ee_unknown));
  static const uint8_t ee_then_empty_cert[] = {0, HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0,
                                               HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
  SEED("fuzz_client_msgs", "empty-certificate", P(ee_then_empty_cert, sizeof ee_then_empty_cert));
  static const uint8_t cr_no_sigalgs[] = {0, HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0,
                                          HS_CERTIFICATE_REQUEST, 0, 0, 3, 0, 0, 0};
  SEED("fuzz_client_msgs", "cert-request-without-sigalgs", P(cr_no_sigalgs, sizeof cr_no_sigalgs));
  static const uint8_t short_finished[] = {0, HS_FINISHED, 0, 0, 3, 1, 2, 3};
  SEED("fuzz_server_msgs", "short-finished", P(short_finished, sizeof short_finished));
  SEED("fuzz_server_msgs", "hello-again", P(&h, 1), first);
  /* Scenario 3 requires a client certificate. */
  static const uint8_t no_cert[] = {3, HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
  SEED("fuzz_server_msgs", "no-certificate-where-required", P(no_cert, sizeof no_cert));
}

/* A ClientHello offering the session (pre_shared_key, binder): the server
 * cannot open its ticket (it was never sealed by a server), so a full
 * handshake follows. The ticket age makes it differ from run to run. */
static void resumption_seeds(const fz_scenario *s, const fz_buf *session) {
  fz_hook h;
  fz_buf out = {0};
  mutls_conn *c = fz_client_new(s, &h, NULL);
  if (mutls_conn_set_session(c, session->p, session->len) == MUTLS_OK && fz_drain(c, &out)) {
    static const uint8_t hdr[] = {FZ_RECV_HEADER(0, 0)}, ch_sel[] = {0};
    part rec = first_record(&out);
    SEED("fuzz_server_recv", "resumption-hello", P(hdr, 1), P(out.p, out.len));
    if (rec.len > 9) SEED("fuzz_hello", "client-hello-psk", P(ch_sel, 1), P(rec.p + 9, rec.len - 9));
  }
  fz_buf_free(&out);
  mutls_conn_free(c);
}

/* One fuzz_ticket seed: flags, the plaintext of f with chain, then tail. */
static void ticket_seed(const char *name, uint8_t flags, const fz_ticket_fields *f,
                        const fz_buf *chain, part tail) {
  fz_buf pt = {0};
  fz_ticket_plaintext(&pt, f, chain->p, chain->len);
  SEED("fuzz_ticket", name, P(&flags, 1), P(pt.p, pt.len), tail);
  fz_buf_free(&pt);
}

/* fuzz_ticket: the canonical ticket (it resumes), and a variant stopping
 * at each check of the server's opening. Flags 3: the harness makes the
 * time and the PSK current (fuzz_ticket.c). */
static void ticket_seeds(void) {
  static const uint8_t junk[] = "not a certificate", pad[] = {0, 0};
  const fz_ticket_fields canon = fz_ticket_canonical;
  fz_ticket_fields f;
  size_t ca_len, server_len, client_len;
  const uint8_t *ca = fz_cert_der(FZ_CERT_CA, &ca_len);
  const uint8_t *server = fz_cert_der(FZ_CERT_SERVER, &server_len);
  const uint8_t *client = fz_cert_der(FZ_CERT_CLIENT, &client_len);
  fz_buf one = {0}, none = {0}, wrong = {0}, ca_only = {0}, two = {0}, junk_der = {0},
         padded = {0}, padded_der = {0}, too_many = {0}, pt = {0};
  fz_chain_add(&one, client, client_len);
  fz_chain_add(&wrong, server, server_len);
  fz_chain_add(&ca_only, ca, ca_len);
  fz_chain_add(&two, client, client_len);
  fz_chain_add(&two, ca, ca_len);
  fz_chain_add(&junk_der, junk, sizeof junk - 1);
  fz_buf_add(&padded, client, client_len);
  fz_buf_add(&padded, pad, sizeof pad);
  fz_chain_add(&padded_der, padded.p, padded.len);
  for (int i = 0; i <= MT_MAX_CHAIN; i++) fz_chain_add(&too_many, client, client_len);
  fz_buf_free(&padded);
  fz_chain_add(&padded, client, client_len);
  fz_buf_add(&padded, pad, sizeof pad); /* bytes after the last certificate */

  ticket_seed("resumes", 3, &canon, &one, P(NULL, 0));
  ticket_seed("resumes-single-use", 3 | 4, &canon, &one, P(NULL, 0));
  ticket_seed("resumes-with-ca-in-chain", 3, &canon, &two, P(NULL, 0));
  ticket_seed("no-client-chain", 3, &canon, &none, P(NULL, 0));
  ticket_seed("server-cert-as-client-chain", 3, &canon, &wrong, P(NULL, 0));
  ticket_seed("ca-as-client-chain", 3, &canon, &ca_only, P(NULL, 0)); /* no URI: not allowed */
  ticket_seed("chain-not-der", 3, &canon, &junk_der, P(NULL, 0));
  ticket_seed("cert-with-trailing-bytes", 3, &canon, &padded_der, P(NULL, 0));
  ticket_seed("chain-with-trailing-bytes", 3, &canon, &padded, P(NULL, 0));
  ticket_seed("chain-too-long", 3, &canon, &too_many, P(NULL, 0));
  ticket_seed("plaintext-trailing-bytes", 3, &canon, &one, P(pad, 1));
  ticket_seed("expired", 2, &canon, &one, P(NULL, 0)); /* created as written: 1970 */
  f = canon, f.lifetime = 0;
  ticket_seed("lifetime-0", 3, &f, &one, P(NULL, 0));
  f = canon, f.lifetime = 604801; /* 4.6.1: seven days at most */
  ticket_seed("lifetime-too-long", 3, &f, &one, P(NULL, 0));
  f = canon, f.created = (uint64_t)INT64_MAX - 1000;
  ticket_seed("created-in-the-future", 2, &f, &one, P(NULL, 0));
  f = canon, f.version = FZ_TICKET_VERSION + 1;
  ticket_seed("wrong-version", 3, &f, &one, P(NULL, 0));
  f = canon, f.suite = 0x0a0a;
  ticket_seed("unknown-suite", 3, &f, &one, P(NULL, 0));
  f = canon, f.suite = TLS_CHACHA20_POLY1305_SHA256;
  ticket_seed("other-suite-same-hash", 3, &f, &one, P(NULL, 0));
  f = canon, f.suite = TLS_AES_256_GCM_SHA384, f.psk_len = 48;
  ticket_seed("other-hash", 3, &f, &one, P(NULL, 0));
  f = canon, f.psk_len = 31;
  ticket_seed("psk-too-short", 3, &f, &one, P(NULL, 0));
  /* The client's PSK is the harness's; the ticket's differs: the binder
   * does not verify (fatal). */
  fz_ticket_plaintext(&pt, &canon, one.p, one.len);
  pt.p[FZ_TICKET_PSK_AT + 1] ^= 0xff;
  static const uint8_t time_only = 1, both = 3;
  SEED("fuzz_ticket", "binder-mismatch", P(&time_only, 1), P(pt.p, pt.len));
  SEED("fuzz_ticket", "truncated", P(&both, 1), P(pt.p, pt.len / 2));
  SEED("fuzz_ticket", "empty", P(&both, 1));
  fz_buf_free(&pt);
  fz_buf_free(&one);
  fz_buf_free(&wrong);
  fz_buf_free(&ca_only);
  fz_buf_free(&two);
  fz_buf_free(&junk_der);
  fz_buf_free(&padded);
  fz_buf_free(&padded_der);
  fz_buf_free(&too_many);
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "check") != 0)) {
    fprintf(stderr, "usage: %s write|check DIR\n", argv[0]);
    return 2;
  }
  checking = strcmp(argv[1], "check") == 0;
  root = argv[2];
  fz_init();
  for (unsigned k = 0; k < FZ_N_SCENARIOS; k++) {
    const fz_scenario *s = fz_scenario_at(k);
    random_scenario = k == FZ_RANDOM_SCENARIO;
    fz_buf c2s = {0}, s2c = {0}, c_msgs = {0}, s_msgs = {0}, session = {0};
    int rc = fz_honest(s, &c2s, &s2c, &c_msgs, &s_msgs, &session);
    if (rc == 0) {
      recv_seeds(k, s, &c2s, &s2c);
      msgs_seeds(k, s, &c_msgs, &s_msgs);
      /* A session carries the time it was received: never the same bytes. */
      static const uint8_t refresh[] = {1}, as_is[] = {0};
      char name[128];
      random_scenario = 1;
      snprintf(name, sizeof name, "session-%s", s->name);
      if (session.len) SEED("fuzz_session", name, P(refresh, 1), P(session.p, session.len));
      if (k == 0) {
        SEED("fuzz_session", "session-time-as-made", P(as_is, 1), P(session.p, session.len));
        resumption_seeds(s, &session);
      }
    }
    fz_buf_free(&session);
    fz_buf_free(&c2s);
    fz_buf_free(&s2c);
    fz_buf_free(&c_msgs);
    fz_buf_free(&s_msgs);
    if (rc != 0) return 1;
  }
  random_scenario = 0;
  ticket_seeds();
  if (checking) {
    if (stale) printf("%d generated seeds are stale: run tests/fuzz/make_corpus.sh\n", stale);
    return stale ? 1 : 0;
  }
  printf("wrote %d seeds under %s\n", written, root);
  return 0;
}
