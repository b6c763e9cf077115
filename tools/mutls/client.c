/*
 * client.c - `mutls client`: connect, handshake, say what was negotiated and
 * who the server proved to be, then copy stdin to the server and the
 * server's data to stdout until both sides have closed.
 *
 * The socket is non-blocking so that one poll() loop serves stdin and the
 * connection together: neither direction can stall the other.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define CONNECT_TIMEOUT_MS 10000
#define HANDSHAKE_TIMEOUT_MS 30000
#define CLOSE_FLUSH_MS 1000 /* how long our last close_notify may wait for the socket */
#define IO_CHUNK 16384
#define HANDSHAKE_TIMED_OUT (-100) /* not a mutls return value */

static struct {
  const char *servername, *cacert;
  cli_tls_prefs prefs;
  int insecure, quiet;
} opt;

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
                "                    [--alpn LIST] [--keylog FILE] [--ciphers LIST]\n"
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
        "  mutls client: connected to ADDR (VERSION, SUITE, GROUP, SIGSCHEME, alpn=P, hrr=yes|no)\n"
        "  mutls client: server certificate verified: subject=.. issuer=.. sans=.. expires=..\n"
        "                sha256=..\n"
        "  mutls client: handshake failed: ERROR (alert sent: A | alert received: A): WHY\n"
        "\n"
        "Examples:\n"
        "  mutls client 127.0.0.1:4433 --cacert ca.pem --servername localhost\n"
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

static int handshake(mutls_conn *c, int fd) {
  long long deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
  for (;;) {
    int rc = mutls_handshake(c);
    if (rc != MUTLS_WANT_READ && rc != MUTLS_WANT_WRITE) return rc;
    long long left = deadline - now_ms();
    if (left <= 0 || wait_fd(fd, rc == MUTLS_WANT_READ ? POLLIN : POLLOUT, (int)left) == 0)
      return HANDSHAKE_TIMED_OUT;
  }
}

static void log_connection(const mutls_conn *c, const char *peer) {
  cli_log("connected to %s (%s, %s, %s, %s, alpn=%s, hrr=%s)", peer,
          cli_or_dash(mutls_conn_version(c)), cli_or_dash(mutls_conn_cipher_suite(c)),
          cli_or_dash(mutls_conn_group(c)), cli_or_dash(mutls_conn_signature_scheme(c)),
          cli_or_dash(mutls_conn_alpn(c)), mutls_conn_used_hrr(c) ? "yes" : "no");
  cli_log("server certificate %s: subject=%s issuer=%s sans=%s expires=%s sha256=%s",
          opt.insecure ? "NOT verified (--insecure)" : "verified",
          cli_or_dash(mutls_peer_subject(mutls_conn_peer(c))), cli_or_dash(mutls_peer_issuer(mutls_conn_peer(c))),
          cli_or_dash(mutls_peer_sans(mutls_conn_peer(c))), cli_or_dash(mutls_peer_not_after_text(mutls_conn_peer(c))),
          cli_or_dash(mutls_peer_fingerprint(mutls_conn_peer(c))));
}

/* ---- stdin -> TLS, TLS -> stdout --------------------------------------------------------- */

enum { PUMP_GO_ON, PUMP_DONE, PUMP_FAILED };

typedef struct pump {
  mutls_conn *conn;
  int fd;
  bool stdin_open;       /* stdin has not reached EOF */
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
  log_failure(p->conn, "connection failed");
  return PUMP_FAILED;
}

/* Copies decrypted data to stdout until the conn needs more from the
 * network. Called on every turn of the loop, not only when the socket is
 * readable: records already received may wait decrypted inside the conn. */
static int pump_from_tls(pump *p) {
  uint8_t buf[IO_CHUNK];
  for (;;) {
    int n = mutls_read(p->conn, buf, sizeof buf);
    if (n == MUTLS_WANT_READ) return PUMP_GO_ON;
    if (n == MUTLS_WANT_WRITE) {
      p->write_blocked = true;
      return PUMP_GO_ON;
    }
    if (n <= 0) return server_side_ended(p, n);
    if (cli_write_fd(STDOUT_FILENO, buf, (size_t)n) != 0) {
      cli_log("cannot write to stdout: %s", strerror(errno));
      return PUMP_FAILED;
    }
  }
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
  if (!p->stdin_open && !p->close_sent) {
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
  if (poll(fds, want_stdin ? 2 : 1, -1) < 0) {
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
  p.stdin_open = true;
  for (;;) {
    int st = pump_from_tls(&p);
    if (st == PUMP_GO_ON) st = pump_to_tls(&p);
    if (st == PUMP_GO_ON) st = pump_wait(&p);
    if (st != PUMP_GO_ON) return st == PUMP_DONE ? CLI_EXIT_OK : CLI_EXIT_FAIL;
  }
}

/* ---- setup ------------------------------------------------------------------------------ */

static int check_options(size_t n_positionals) {
  if (n_positionals != 1)
    return cli_usage_error(&command, "give the server as HOST:PORT, e.g. 127.0.0.1:4433");
  if (opt.cacert && opt.insecure)
    return cli_usage_error(&command, "--cacert and --insecure contradict each other: pick one");
  if (!opt.cacert && !opt.insecure)
    return cli_usage_error(&command, "nothing to verify the server against: give --cacert CA.pem "
                                     "(there is no system trust store yet), or --insecure to test");
  return CLI_EXIT_OK;
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
  else if (cli_apply_tls_prefs(cfg, &opt.prefs) == 0)
    return cfg;
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
  return pump_run(c, fd);
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
  char peer[CLI_ADDR_MAX];
  int fd = connect_to(host, port, target, peer, sizeof peer);
  status = CLI_EXIT_FAIL;
  if (fd >= 0) {
    mutls_conn *c = mutls_client_new(cfg, opt.servername ? opt.servername : host);
    if (c)
      status = talk(c, fd, peer);
    else
      cli_log("out of memory");
    mutls_conn_free(c);
    close(fd);
  }
  mutls_config_free(cfg);
  return status;
}
