/*
 * client.c - `mutls client`: connect, handshake, say what was negotiated and
 * who the server proved to be, then copy stdin to the server and the
 * server's data to stdout until both sides have closed.
 *
 * The socket is non-blocking so that one poll() loop serves stdin and the
 * connection together: neither direction can stall the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define CONNECT_TIMEOUT_MS 10000
#define HANDSHAKE_TIMEOUT_MS 30000
#define CLOSE_FLUSH_MS 1000 /* how long our last close_notify may wait for the socket */
#define IO_CHUNK 16384
#define HANDSHAKE_TIMED_OUT (-100) /* not a mutls return value */
#define MAX_IDENTITIES 8           /* --cert/--key pairs (mutls_config_add_identity_files) */
#define CONFIRM_DEFAULT_MS "3000"
#define CONFIRM_MAX_MS 600000
#define SESSION_FILE_MAX (1 << 20) /* a session holds the server's chain: KiB, not MiB */
#define PHA_HOLD_MS 3000 /* --pha: how long the end of stdin may wait for a certificate request */

static struct {
  const char *servername, *cacert;
  cli_list certs, keys; /* pairs: the Nth --key goes with the Nth --cert */
  cli_peer_checks checks;
  const char *confirm, *sess_in, *sess_out; /* as given */
  cli_tls_prefs prefs;
  int insecure, quiet, pha;
  unsigned confirm_ms; /* parsed; 0 without --confirm */
} opt = {.certs = {.option = "--cert", .max = MAX_IDENTITIES},
         .keys = {.option = "--key", .max = MAX_IDENTITIES},
         .checks = {.crl = {.option = "--crl", .max = CLI_LIST_MAX}}};

static const cli_option options[] = {
    {.name = "--servername",
     .arg = "NAME",
     .value = &opt.servername,
     .help = "The name the server's certificate must match, also sent as SNI (not sent\n"
             "when NAME is an IP address). Default: HOST from HOST:PORT.",
     .example = "--servername api.internal"},
    {.name = "--cacert",
     .arg = "CA.pem",
     .value = &opt.cacert,
     .help = "The CA certificate(s), PEM, that the server's chain must lead to. There is\n"
             "no system trust store yet: give --cacert or --insecure.",
     .example = "--cacert ca.pem"},
    {.name = "--insecure",
     .flag = &opt.insecure,
     .help = "Accept any server certificate, unverified (the server must still prove it\n"
             "holds the certificate's key). For tests only: anyone in the middle can\n"
             "pose as the server.",
     .example = "--insecure"},
    {.name = "--cert",
     .arg = "CHAIN.pem",
     .add = cli_list_add,
     .ctx = &opt.certs,
     .help = "Our certificate chain, PEM (its own certificate first, then intermediates),\n"
             "sent when the server asks for one (mutual TLS). Give each with its --key;\n"
             "repeat the pair for up to 8 identities: the first one whose issuer the\n"
             "server accepts, and whose key can sign for it, is sent.",
     .example = "--cert billing.pem --key billing.key"},
    {.name = "--key",
     .arg = "KEY.pem",
     .add = cli_list_add,
     .ctx = &opt.keys,
     .help = "The private key (PEM) of the --cert given before it (the Nth --key belongs\n"
             "to the Nth --cert).",
     .example = "--key billing.key"},
    CLI_PEER_CHECK_OPTIONS(opt.checks, "server"),
    {.name = "--confirm",
     .arg = "MS",
     .value = &opt.confirm,
     .implied = CONFIRM_DEFAULT_MS,
     .help = "Report success only once the server has shown it accepted us: wait up to MS\n"
             "milliseconds (default 3000, 1 to 600000) after the handshake for its first\n"
             "message (a session ticket, data, or the alert refusing our certificate). A\n"
             "server that sends nothing costs the whole wait, then 'not confirmed'. Write\n"
             "MS joined by '=': --confirm=500.",
     .example = "--confirm   or   --confirm=500"},
    {.name = "--sess-out",
     .arg = "FILE",
     .value = &opt.sess_out,
     .help = "At the end, save the session the server sent (a ticket) to FILE, mode 0600,\n"
             "for --sess-in. It holds a secret: protect it like a private key.",
     .example = "--sess-out session.bin"},
    {.name = "--sess-in",
     .arg = "FILE",
     .value = &opt.sess_in,
     .help = "Offer the session in FILE (saved by --sess-out) to resume: no certificates\n"
             "are sent again. The 'connected to' line then says resumed=yes or no (the\n"
             "server may refuse the ticket: then a full handshake follows).",
     .example = "--sess-in session.bin"},
    {.name = "--pha",
     .flag = &opt.pha,
     .help = "Offer post-handshake authentication: let the server ask for our certificate\n"
             "after the handshake (e.g. for one path), not only during it. The end of stdin\n"
             "then holds back our close_notify until the server has asked or closed (at\n"
             "most 3 s): no certificate can follow it.",
     .example = "--pha"},
    {.name = "--alpn",
     .arg = "LIST",
     .value = &opt.prefs.alpn,
     .help = "Application protocols to offer, comma separated, most preferred first.",
     .example = "--alpn h2,http/1.1"},
    {.name = "--keylog",
     .arg = "FILE",
     .value = &opt.prefs.keylog,
     .help = "Append the connection's secrets to FILE in the SSLKEYLOGFILE format, so\n"
             "Wireshark can decrypt the traffic. Anyone who reads FILE can too: debug only.",
     .example = "--keylog /tmp/mutls-keys.log"},
    {.name = "--ciphers",
     .arg = "LIST",
     .value = &opt.prefs.ciphers,
     .help = "TLS 1.3 cipher suites to offer, colon or comma separated, most preferred\n"
             "first: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,\n"
             "TLS_CHACHA20_POLY1305_SHA256. Default: all three.",
     .example = "--ciphers TLS_CHACHA20_POLY1305_SHA256"},
    {.name = "--groups",
     .arg = "LIST",
     .value = &opt.prefs.groups,
     .help = "Key exchange groups to offer, most preferred first: x25519, secp256r1 (or\n"
             "P-256), secp384r1 (or P-384). A key share is sent for the first one only; a\n"
             "server that wants another answers with a HelloRetryRequest (hrr=yes).",
     .example = "--groups x25519:secp256r1"},
    {.name = "--sigalgs",
     .arg = "LIST",
     .value = &opt.prefs.sigalgs,
     .help = "Signature schemes to accept from the server, most preferred first:\n"
             "ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384, rsa_pss_rsae_sha256,\n"
             "rsa_pss_rsae_sha384, rsa_pss_rsae_sha512, ed25519.",
     .example = "--sigalgs ed25519:ecdsa_secp256r1_sha256"},
    {.name = "--quiet",
     .flag = &opt.quiet,
     .help = "Print only errors on stderr: not the 'connected to' and certificate lines.",
     .example = "--quiet"},
};

static const cli_command command = {
    .name = "client",
    .synopsis = "mutls client HOST:PORT [--servername NAME] [--cacert CA.pem] [--insecure]\n"
                "                    [--cert CHAIN.pem --key KEY.pem]... [--allow-uri P]...\n"
                "                    [--allow-dns P]... [--allow-cn N]... [--allow-ou N]...\n"
                "                    [--allow-pin SHA256]... [--allow-spki SHA256]...\n"
                "                    [--crl FILE]... [--crl-chain] [--crl-soft-fail]\n"
                "                    [--confirm[=MS]] [--sess-out FILE] [--sess-in FILE]\n"
                "                    [--pha] [--alpn LIST] [--keylog FILE] [--ciphers LIST]\n"
                "                    [--groups LIST] [--sigalgs LIST] [--quiet]",
    .description =
        "A TLS 1.3 client. Connects to HOST:PORT (IPv4, [IPv6] or a name), verifies the\n"
        "server, prints on stderr what was negotiated and who the server is, then sends\n"
        "stdin to the server and writes what the server sends to stdout. At the end of\n"
        "stdin it sends close_notify and waits for the server to close.\n",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
    .max_positionals = 1,
    .more_help =
        "Output (stderr):\n"
        "  mutls client: connected to ADDR (VERSION, SUITE, GROUP, SIGSCHEME, alpn=P, hrr=yes|no\n"
        "                [, resumed=yes|no with --sess-in])\n"
        "  mutls client: server certificate verified: subject=.. issuer=.. sans=.. expires=..\n"
        "                sha256=..\n"
        "  mutls client: client certificate sent: subject=.. issuer=.. sans=.. sha256=..\n"
        "    or why none was sent, when the server asked or we had one\n"
        "  mutls client: server confirmed acceptance   (--confirm; or: not confirmed: WHY)\n"
        "  mutls client: handshake failed: ERROR (alert sent: A | alert received: A): WHY\n"
        "    also when the server refuses our certificate right after the handshake\n"
        "\n"
        "Examples:\n"
        "  mutls client 127.0.0.1:4433 --cacert ca.pem --servername localhost\n"
        "  mutls client api.internal:8443 --cacert ca.pem --cert me.pem --key me.key \\\n"
        "               --confirm --allow-uri spiffe://example.org/api\n"
        "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | mutls client localhost:4433 --cacert ca.pem\n"
        "  mutls client [::1]:8443 --insecure --alpn h2 --quiet < request.bin > reply.bin\n"
        "\n"
        "Exit status:\n"
        "  0  the handshake succeeded and the connection closed normally\n"
        "  1  cannot connect, handshake failed, or the connection failed later\n"
        "  2  bad command line, or neither --cacert nor --insecure\n",
};

void client_help(FILE *out) {
  cli_print_help(out, &command);
}

/* ---- small helpers --------------------------------------------------------------------- */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll() on one descriptor: > 0 ready, 0 timed out, < 0 error. */
static int wait_fd(int fd, short events, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = events};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r;
}

/* "handshake failed: MUTLS_E_... (alert sent: x): sentence" and the like. */
static void log_failure(const mutls_conn *c, const char *what) {
  const char *sent = cli_alert(mutls_conn_alert_sent(c));
  const char *received = cli_alert(mutls_conn_alert_received(c));
  char alerts[128];
  if (sent && received)
    snprintf(alerts, sizeof alerts, "alert sent: %s, alert received: %s", sent, received);
  else if (sent || received)
    snprintf(alerts, sizeof alerts, "alert %s: %s", sent ? "sent" : "received",
             sent ? sent : received);
  else
    snprintf(alerts, sizeof alerts, "no alert");
  cli_log("%s: %s (%s): %s", what, mutls_error_name(mutls_conn_error(c)), alerts,
          cli_or_dash(mutls_conn_explain(c)));
}

/* ---- connecting ------------------------------------------------------------------------ */

/* Connects to one address within CONNECT_TIMEOUT_MS. Returns the socket
 * (non-blocking), or -1 with errno set. */
static int connect_one(const struct addrinfo *ai) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  int err = errno;
  if (err == EINPROGRESS) {
    socklen_t len = sizeof err;
    int r = wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS);
    if (r == 0)
      err = ETIMEDOUT;
    else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    if (err == 0) return fd;
  }
  close(fd);
  errno = err;
  return -1;
}

/* Tries every address of host in turn. Returns the connected socket and
 * its address in peer, or -1 after logging why. */
static int connect_to(const char *host, const char *port, const char *target, char *peer,
                      size_t peer_cap) {
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    cli_log("cannot find %s: %s", host, gai_strerror(rc));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = connect_one(ai);
    if (fd < 0)
      err = errno;
    else
      cli_format_sockaddr(ai->ai_addr, peer, peer_cap);
  }
  freeaddrinfo(res);
  if (fd < 0) {
    cli_log("cannot connect to %s: %s%s", target, strerror(err),
            err == ECONNREFUSED ? " (is the server running, on that port?)" : "");
    return -1;
  }
  int one = 1;
  /* Interactive lines must not wait for Nagle's algorithm. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* ---- the handshake --------------------------------------------------------------------- */

/* mutls_conn_notice() as it stood once our side of the handshake was done:
 * why no client certificate was sent. Giving up on --confirm replaces the
 * notice with "not confirmed ...", so the first one is kept here. */
static char cert_notice[512];

/* The handshake, within HANDSHAKE_TIMEOUT_MS. With --confirm, once our
 * Finished is out (mutls_conn_version says the keys are set) mutls waits
 * for the server's first message; it gives up by itself when called after
 * opt.confirm_ms, so our poll never waits longer than that. */
static int handshake(mutls_conn *c, int fd) {
  long long deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
  long long confirm_by = 0;
  for (;;) {
    int rc = mutls_handshake(c);
    if (rc != MUTLS_WANT_READ && rc != MUTLS_WANT_WRITE) {
      if (!confirm_by) snprintf(cert_notice, sizeof cert_notice, "%s", mutls_conn_notice(c));
      return rc;
    }
    long long until = deadline;
    if (opt.confirm_ms && mutls_conn_version(c)) {
      if (!confirm_by) {
        /* Later than mutls's own deadline, which started a moment ago. */
        confirm_by = now_ms() + opt.confirm_ms;
        snprintf(cert_notice, sizeof cert_notice, "%s", mutls_conn_notice(c));
      }
      if (confirm_by < until) until = confirm_by;
    }
    long long left = until - now_ms();
    if (left > 0 && wait_fd(fd, rc == MUTLS_WANT_READ ? POLLIN : POLLOUT, (int)left) != 0) continue;
    if (until != confirm_by) return HANDSHAKE_TIMED_OUT;
  }
}

/* ---- what we sent --------------------------------------------------------------------- */

/* Moves all pending ciphertext from one in-memory connection to another. */
static bool shuttle(mutls_conn *from, mutls_conn *to) {
  uint8_t buf[IO_CHUNK];
  while (mutls_conn_pending(from) > 0) {
    size_t n, used;
    if (mutls_conn_send(from, buf, sizeof buf, &n) != MUTLS_OK) return false;
    for (size_t off = 0; off < n; off += used)
      if (mutls_conn_recv(to, buf + off, n - off, &used) != MUTLS_OK || used == 0) return false;
  }
  return true;
}

/* "subject=.. issuer=.. sans=.. sha256=.." of our certificate, as mutls
 * writes names. mutls.h has getters for the peer's certificate only, so
 * mutls itself reads ours: an in-memory handshake in which our identity is
 * the server's and a client with verification off sees it as its peer. */
static bool describe_own_certificate(const char *chain, const char *key, char *out, size_t cap) {
  mutls_config *scfg = mutls_config_new(), *ccfg = mutls_config_new();
  mutls_conn *server = NULL, *client = NULL;
  bool ok = false;
  if (scfg && ccfg && mutls_config_set_identity_files(scfg, chain, key) == MUTLS_OK &&
      mutls_config_set_tickets(scfg, 0, 0) == MUTLS_OK &&
      mutls_config_set_verify_peer(ccfg, 0) == MUTLS_OK) {
    server = mutls_server_new(scfg);
    client = mutls_client_new(ccfg, NULL);
  }
  for (int flight = 0; server && client && flight < 4 && !mutls_conn_handshake_done(client);
       flight++) {
    if (!shuttle(client, server) || !shuttle(server, client)) break;
  }
  const mutls_peer *p =
      client && mutls_conn_handshake_done(client) ? mutls_conn_peer(client) : NULL;
  if (p) {
    snprintf(out, cap, "subject=%s issuer=%s sans=%s sha256=%s", cli_or_dash(mutls_peer_subject(p)),
             cli_or_dash(mutls_peer_issuer(p)), cli_or_dash(mutls_peer_sans(p)),
             cli_or_dash(mutls_peer_fingerprint(p)));
    ok = true;
  }
  mutls_conn_free(client);
  mutls_conn_free(server);
  mutls_config_free(ccfg);
  mutls_config_free(scfg);
  return ok;
}

/* "client certificate sent[WHEN]: subject=..": which certificate we sent. */
static void log_certificate_sent(const char *when) {
  char what[2048];
  if (opt.certs.n > 1) {
    /* mutls does not say which identity it picked: describe none rather
     * than maybe the wrong one. */
    cli_log("client certificate sent%s: one of the %zu given with --cert", when, opt.certs.n);
  } else if (describe_own_certificate(opt.certs.item[0], opt.keys.item[0], what, sizeof what)) {
    cli_log("client certificate sent%s: %s", when, what);
  } else {
    cli_log("client certificate sent%s: %s", when, opt.certs.item[0]);
  }
}

/* The client certificate line: which one we sent, or why none. Nothing
 * when we had none and the server did not ask. */
static void log_client_certificate(const mutls_conn *c) {
  if (mutls_conn_resumed(c) && opt.certs.n > 0) {
    /* mutls's notice would say the server did not ask: true, but it had no
     * need to, and that is what matters here. */
    cli_log("client certificate not sent again: the connection resumed a session, and the "
            "server keeps the identity we proved in the first handshake");
    return;
  }
  if (!mutls_conn_cert_sent(c)) {
    if (cert_notice[0]) cli_log("%s", cert_notice);
    return;
  }
  log_certificate_sent("");
}

static void log_connection(const mutls_conn *c, const char *peer) {
  const mutls_peer *p = mutls_conn_peer(c);
  char resumed[16] = "";
  if (opt.sess_in)
    snprintf(resumed, sizeof resumed, ", resumed=%s", mutls_conn_resumed(c) ? "yes" : "no");
  cli_log("connected to %s (%s, %s, %s, %s, alpn=%s, hrr=%s%s)", peer,
          cli_or_dash(mutls_conn_version(c)), cli_or_dash(mutls_conn_cipher_suite(c)),
          cli_or_dash(mutls_conn_group(c)), cli_or_dash(mutls_conn_signature_scheme(c)),
          cli_or_dash(mutls_conn_alpn(c)), mutls_conn_used_hrr(c) ? "yes" : "no", resumed);
  cli_log("server certificate %s: subject=%s issuer=%s sans=%s expires=%s sha256=%s",
          opt.insecure ? "NOT verified (--insecure)" : "verified",
          cli_or_dash(mutls_peer_subject(p)), cli_or_dash(mutls_peer_issuer(p)),
          cli_or_dash(mutls_peer_sans(p)), cli_or_dash(mutls_peer_not_after_text(p)),
          cli_or_dash(mutls_peer_fingerprint(p)));
  log_client_certificate(c);
  if (opt.confirm_ms && mutls_conn_confirmed(c))
    cli_log("server confirmed acceptance");
  else if (opt.confirm_ms)
    cli_log("%s", cli_or_dash(mutls_conn_notice(c)));
}

/* ---- stdin -> TLS, TLS -> stdout --------------------------------------------------------- */

enum { PUMP_GO_ON, PUMP_DONE, PUMP_FAILED };

typedef struct pump {
  mutls_conn *conn;
  int fd;
  bool stdin_open;       /* stdin has not reached EOF */
  bool got_data;         /* the server has sent application data */
  bool asked;            /* the server has asked for our certificate */
  long long close_due;   /* --pha: when our held-back close_notify goes anyway */
  bool close_sent;       /* our close_notify is queued or sent */
  bool write_blocked;    /* a call returned MUTLS_WANT_WRITE: wait for POLLOUT */
  uint8_t out[IO_CHUNK]; /* stdin bytes that mutls_write has not taken yet */
  size_t out_off, out_len;
} pump;

/* Queues close_notify once and gives it up to CLOSE_FLUSH_MS to leave. */
static void send_close_notify_and_flush(pump *p) {
  if (!p->close_sent) mutls_shutdown(p->conn);
  p->close_sent = true;
  long long deadline = now_ms() + CLOSE_FLUSH_MS;
  while (mutls_conn_pending(p->conn) > 0 && mutls_flush(p->conn) == MUTLS_WANT_WRITE) {
    long long left = deadline - now_ms();
    if (left <= 0 || wait_fd(p->fd, POLLOUT, (int)left) <= 0) break;
  }
}

/* The server's side has ended (mutls_read returned rc <= 0). */
static int server_side_ended(pump *p, int rc) {
  if (rc == MUTLS_CLOSED) {
    send_close_notify_and_flush(p); /* RFC 8446 6.1: answer close_notify */
    return PUMP_DONE;
  }
  if (mutls_conn_error(p->conn) == MUTLS_E_EOF) {
    if (!opt.quiet)
      cli_log("warning: the server closed TCP without close_notify; its data may be cut short");
    return PUMP_DONE;
  }
  /* In TLS 1.3 our handshake ends before the server has judged our
   * certificate: an alert before any data or ticket is its refusal, and
   * the handshake failed, whatever the lines above said. */
  bool refused = !p->got_data && mutls_conn_alert_received(p->conn) >= 0 &&
                 mutls_conn_get_session(p->conn, NULL, 0) < 0;
  log_failure(p->conn, refused ? "handshake failed" : "connection failed");
  return PUMP_FAILED;
}

/* --pha: the server asked for our certificate after the handshake; mutls
 * has answered by itself. Says what it sent, once. */
static void note_late_request(pump *p) {
  if (p->asked || !mutls_conn_cert_requested(p->conn)) return;
  p->asked = true;
  if (opt.quiet) return;
  if (mutls_conn_cert_sent(p->conn))
    log_certificate_sent(" after the handshake, at the server's request");
  else
    cli_log("%s", cli_or_dash(mutls_conn_notice(p->conn)));
}

/* Copies decrypted data to stdout until the conn needs more from the
 * network. Called on every turn of the loop, not only when the socket is
 * readable: records already received may wait decrypted inside the conn. */
static int pump_from_tls(pump *p) {
  uint8_t buf[IO_CHUNK];
  for (;;) {
    int n = mutls_read(p->conn, buf, sizeof buf);
    note_late_request(p);
    if (n == MUTLS_WANT_READ) return PUMP_GO_ON;
    if (n == MUTLS_WANT_WRITE) {
      p->write_blocked = true;
      return PUMP_GO_ON;
    }
    if (n <= 0) return server_side_ended(p, n);
    p->got_data = true;
    if (cli_write_fd(STDOUT_FILENO, buf, (size_t)n) != 0) {
      cli_log("cannot write to stdout: %s", strerror(errno));
      return PUMP_FAILED;
    }
  }
}

/* After stdin's end. With --pha, a server may still ask for our certificate
 * (e.g. once it has read a request), and after our close_notify we could
 * not answer: so close_notify waits until the server has asked, or for at
 * most PHA_HOLD_MS. A server that closes first ends the wait too. */
static bool may_close(pump *p) {
  if (!opt.pha || p->asked) return true;
  if (!p->close_due) p->close_due = now_ms() + PHA_HOLD_MS;
  return now_ms() >= p->close_due;
}

/* Offers the buffered stdin bytes to the conn; after stdin's EOF, queues
 * close_notify. On MUTLS_WANT_WRITE the same bytes are offered again once
 * the socket is writable. */
static int pump_to_tls(pump *p) {
  while (p->out_off < p->out_len) {
    int n = mutls_write(p->conn, p->out + p->out_off, p->out_len - p->out_off);
    if (n == MUTLS_WANT_WRITE || n == MUTLS_WANT_READ) {
      p->write_blocked = n == MUTLS_WANT_WRITE;
      return PUMP_GO_ON;
    }
    if (n <= 0) {
      log_failure(p->conn, "connection failed");
      return PUMP_FAILED;
    }
    p->out_off += (size_t)n;
  }
  p->out_off = p->out_len = 0;
  if (!p->stdin_open && !p->close_sent && may_close(p)) {
    int rc = mutls_shutdown(p->conn);
    p->close_sent = true;
    if (rc == MUTLS_WANT_WRITE)
      p->write_blocked = true;
    else if (rc != MUTLS_OK) {
      log_failure(p->conn, "sending close_notify failed");
      return PUMP_FAILED;
    }
  }
  return PUMP_GO_ON;
}

static int pump_read_stdin(pump *p) {
  ssize_t n = read(STDIN_FILENO, p->out, sizeof p->out);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return PUMP_GO_ON;
  if (n < 0) {
    cli_log("cannot read stdin (%s): treating it as ended", strerror(errno));
    n = 0;
  }
  if (n == 0) p->stdin_open = false;
  p->out_off = 0;
  p->out_len = (size_t)n;
  return pump_to_tls(p);
}

/* One wait for the socket (and stdin while its last bytes are delivered),
 * then whatever became possible. */
static int pump_wait(pump *p) {
  bool want_stdin = p->stdin_open && p->out_len == 0;
  bool want_out = p->write_blocked || mutls_conn_pending(p->conn) > 0;
  struct pollfd fds[2] = {
      {.fd = p->fd, .events = (short)(POLLIN | (want_out ? POLLOUT : 0))},
      {.fd = STDIN_FILENO, .events = POLLIN},
  };
  int timeout = -1;
  if (!p->close_sent && p->close_due) {
    long long left = p->close_due - now_ms();
    timeout = left > 0 ? (int)left : 0;
  }
  if (poll(fds, want_stdin ? 2 : 1, timeout) < 0) {
    if (errno == EINTR) return PUMP_GO_ON;
    cli_log("poll failed: %s", strerror(errno));
    return PUMP_FAILED;
  }
  if (fds[0].revents & POLLOUT) {
    p->write_blocked = false;
    int rc = mutls_flush(p->conn);
    if (rc != MUTLS_OK && rc != MUTLS_WANT_WRITE) {
      log_failure(p->conn, "connection failed");
      return PUMP_FAILED;
    }
  }
  if (want_stdin && fds[1].revents) return pump_read_stdin(p);
  return PUMP_GO_ON;
}

static int pump_run(mutls_conn *c, int fd) {
  static pump p; /* static: two 16 KiB buffers stay off the stack */
  memset(&p, 0, sizeof p);
  p.conn = c;
  p.fd = fd;
  p.asked = mutls_conn_cert_requested(c);
  p.stdin_open = true;
  for (;;) {
    int st = pump_from_tls(&p);
    if (st == PUMP_GO_ON) st = pump_to_tls(&p);
    if (st == PUMP_GO_ON) st = pump_wait(&p);
    if (st != PUMP_GO_ON) return st == PUMP_DONE ? CLI_EXIT_OK : CLI_EXIT_FAIL;
  }
}

/* ---- sessions (--sess-in, --sess-out) ------------------------------------------------ */

/* Reads all of path into a new buffer (at most SESSION_FILE_MAX bytes).
 * Returns its length, or -1 after logging why. */
static long read_session_file(const char *path, uint8_t **out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    cli_log("--sess-in: cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  uint8_t *buf = malloc(SESSION_FILE_MAX + 1);
  size_t len = 0;
  ssize_t n = 1;
  while (buf && len <= SESSION_FILE_MAX && n > 0) {
    n = read(fd, buf + len, SESSION_FILE_MAX + 1 - len);
    if (n > 0) len += (size_t)n;
    if (n < 0 && errno == EINTR) n = 1;
  }
  int err = errno;
  close(fd);
  if (!buf || n < 0 || len > SESSION_FILE_MAX || len == 0) {
    if (!buf)
      cli_log("out of memory");
    else if (n < 0)
      cli_log("--sess-in: cannot read %s: %s", path, strerror(err));
    else
      cli_log("--sess-in: %s is %s: not a session saved by mutls client --sess-out", path,
              len == 0 ? "empty" : "too large");
    free(buf);
    return -1;
  }
  *out = buf;
  return (long)len;
}

/* Offers the session in --sess-in. Returns 0, or -1 after logging why. */
static int offer_session(mutls_conn *c) {
  uint8_t *data;
  long len = read_session_file(opt.sess_in, &data);
  if (len < 0) return -1;
  int rc = mutls_conn_set_session(c, data, (size_t)len);
  free(data);
  if (rc != MUTLS_OK) {
    cli_log("--sess-in: %s is not a session saved by mutls client --sess-out (or by another "
            "version of mutls)",
            opt.sess_in);
    return -1;
  }
  return 0;
}

/* Writes data to path through a temporary file in the same directory,
 * created 0600 and renamed over path, so that a reader never sees half a
 * session and nobody else can read it. Returns 0, or -1 with errno set. */
static int write_private_file(const char *path, const uint8_t *data, size_t len) {
  size_t cap = strlen(path) + sizeof ".XXXXXX";
  char *tmp = malloc(cap);
  if (!tmp) return -1;
  snprintf(tmp, cap, "%s.XXXXXX", path);
  int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
  int rc = fd < 0 ? -1 : 0;
  if (rc == 0) rc = fchmod(fd, S_IRUSR | S_IWUSR);
  if (rc == 0) rc = cli_write_fd(fd, data, len);
  if (fd >= 0 && close(fd) != 0) rc = -1;
  if (rc == 0) rc = rename(tmp, path);
  int err = errno;
  if (rc != 0 && fd >= 0) unlink(tmp);
  free(tmp);
  errno = err;
  return rc;
}

/* --sess-out: saves the newest session the server sent. Returns 0, or -1
 * after logging why. */
static int save_session(const mutls_conn *c) {
  int len = mutls_conn_get_session(c, NULL, 0);
  if (len <= 0) {
    if (!opt.quiet)
      cli_log("no session saved to %s: the server sent no ticket on this connection", opt.sess_out);
    return 0;
  }
  uint8_t *data = malloc((size_t)len);
  int rc = data && mutls_conn_get_session(c, data, (size_t)len) == len ? 0 : -1;
  if (rc != 0) {
    cli_log("--sess-out: cannot serialize the session (out of memory)");
  } else if (write_private_file(opt.sess_out, data, (size_t)len) != 0) {
    cli_log("--sess-out: cannot write %s: %s", opt.sess_out, strerror(errno));
    rc = -1;
  } else if (!opt.quiet) {
    cli_log("session saved to %s", opt.sess_out);
  }
  if (data) memset(data, 0, (size_t)len); /* it holds the resumption secret */
  free(data);
  return rc;
}

/* ---- setup ------------------------------------------------------------------------------ */

static int check_identities(void) {
  for (size_t i = 0; i < opt.certs.n || i < opt.keys.n; i++) {
    if (i >= opt.keys.n)
      return cli_usage_error(&command, "--cert %s has no --key: give --cert and --key in pairs",
                             opt.certs.item[i]);
    if (i >= opt.certs.n)
      return cli_usage_error(&command, "--key %s has no --cert: give --cert and --key in pairs",
                             opt.keys.item[i]);
  }
  return CLI_EXIT_OK;
}

static int check_confirm(void) {
  unsigned long ms;
  if (!opt.confirm) return CLI_EXIT_OK;
  if (cli_parse_uint(opt.confirm, CONFIRM_MAX_MS, &ms) != 0 || ms == 0)
    return cli_usage_error(&command,
                           "--confirm=%s: give a whole number of milliseconds from 1 to %d",
                           opt.confirm, CONFIRM_MAX_MS);
  opt.confirm_ms = (unsigned)ms;
  return CLI_EXIT_OK;
}

static int check_options(size_t n_positionals) {
  if (n_positionals != 1)
    return cli_usage_error(&command, "give the server as HOST:PORT, e.g. 127.0.0.1:4433");
  if (opt.cacert && opt.insecure)
    return cli_usage_error(&command, "--cacert and --insecure contradict each other: pick one");
  if (!opt.cacert && !opt.insecure)
    return cli_usage_error(&command, "nothing to verify the server against: give --cacert CA.pem "
                                     "(there is no system trust store yet), or --insecure to test");
  int status = check_identities();
  if (status == CLI_EXIT_OK) status = check_confirm();
  if (status == CLI_EXIT_OK) status = cli_check_peer_checks(&command, &opt.checks);
  return status;
}

/* Our certificates, the checks on the server's, and the mTLS switches.
 * Returns 0, or -1 after logging which option was refused. */
static int apply_mtls_options(mutls_config *cfg) {
  for (size_t i = 0; i < opt.certs.n; i++) {
    if (mutls_config_add_identity_files(cfg, opt.certs.item[i], opt.keys.item[i]) != MUTLS_OK) {
      cli_log_config_error(cfg, "--cert/--key");
      return -1;
    }
  }
  if (cli_apply_peer_checks(cfg, &opt.checks) != 0) return -1;
  if (opt.confirm_ms && mutls_config_set_confirm(cfg, opt.confirm_ms) != MUTLS_OK) {
    cli_log_config_error(cfg, "--confirm");
    return -1;
  }
  if (opt.pha && mutls_config_set_post_handshake_auth(cfg, 1) != MUTLS_OK) {
    cli_log_config_error(cfg, "--pha");
    return -1;
  }
  return 0;
}

static mutls_config *build_config(void) {
  mutls_config *cfg = mutls_config_new();
  if (!cfg) {
    cli_log("out of memory");
    return NULL;
  }
  if (opt.cacert && mutls_config_set_trust_file(cfg, opt.cacert) != MUTLS_OK)
    cli_log_config_error(cfg, "--cacert");
  else if (opt.insecure && mutls_config_set_verify_peer(cfg, 0) != MUTLS_OK)
    cli_log_config_error(cfg, "--insecure");
  else if (apply_mtls_options(cfg) == 0 && cli_apply_tls_prefs(cfg, &opt.prefs) == 0) {
    if (mutls_config_check(cfg, 0) == MUTLS_OK) return cfg;
    cli_log_config_error(cfg, "cannot start");
  }
  mutls_config_free(cfg);
  return NULL;
}

/* Handshake, report, then copy data both ways. Returns the exit status. */
static int talk(mutls_conn *c, int fd, const char *peer) {
  if (mutls_conn_set_fd(c, fd) != MUTLS_OK) {
    log_failure(c, "cannot use the socket");
    return CLI_EXIT_FAIL;
  }
  int rc = handshake(c, fd);
  if (rc == HANDSHAKE_TIMED_OUT) {
    cli_log("handshake failed: %s (no alert): no answer from %s within %d seconds; is it a "
            "TLS server?",
            mutls_error_name(MUTLS_E_TIMEOUT), peer, HANDSHAKE_TIMEOUT_MS / 1000);
    return CLI_EXIT_FAIL;
  }
  if (rc != MUTLS_OK) {
    log_failure(c, "handshake failed");
    return CLI_EXIT_FAIL;
  }
  if (!opt.quiet) log_connection(c, peer);
  int status = pump_run(c, fd);
  if (opt.sess_out && save_session(c) != 0) status = CLI_EXIT_FAIL;
  return status;
}

int client_main(int argc, char **argv) {
  const char *positionals[1];
  size_t n_positionals;
  int status;
  cli_set_name("mutls client");
  if (!cli_parse(&command, argc, argv, positionals, &n_positionals, &status)) return status;
  if ((status = check_options(n_positionals)) != CLI_EXIT_OK) return status;
  const char *target = positionals[0];
  char host[CLI_HOST_MAX], port[CLI_PORT_MAX], why[CLI_ADDR_MAX + 128];
  if (cli_parse_hostport(target, false, host, sizeof host, port, sizeof port, why, sizeof why))
    return cli_usage_error(&command, "%s", why);

  /* A server that resets the connection must cost an error, not the process. */
  signal(SIGPIPE, SIG_IGN);
  mutls_config *cfg = build_config();
  if (!cfg) return CLI_EXIT_FAIL;
  /* The connection first: a bad --sess-in is found before we connect. */
  mutls_conn *c = mutls_client_new(cfg, opt.servername ? opt.servername : host);
  status = CLI_EXIT_FAIL;
  if (!c) {
    cli_log("out of memory");
  } else if (!opt.sess_in || offer_session(c) == 0) {
    char peer[CLI_ADDR_MAX];
    int fd = connect_to(host, port, target, peer, sizeof peer);
    if (fd >= 0) {
      status = talk(c, fd, peer);
      close(fd);
    }
  }
  mutls_conn_free(c);
  mutls_config_free(cfg);
  return status;
}
