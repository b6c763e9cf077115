/*
 * server.c - `mutls server`: a TLS 1.3 test server (echo or a small HTTP page).
 *
 * The main thread owns the listening sockets and a self-pipe and waits on
 * them with ppoll. Every accepted connection gets a detached thread: handshake,
 * serve, one log line, close_notify, close. Its socket is non-blocking and
 * every wait is a poll() with a deadline (--handshake-timeout, then
 * --idle-timeout), so a client that stalls cannot keep its thread forever.
 *
 * SIGINT, SIGTERM and SIGHUP stay blocked everywhere except inside the main
 * thread's ppoll, so they never interrupt a connection thread's I/O; the
 * handler only writes a byte to the self-pipe (write is async-signal-safe).
 *
 * SIGHUP reloads: the main thread builds a new config from the same options
 * (re-reading every file), checks it, and swaps it in for connections
 * accepted from then on. Each connection thread holds its own reference to
 * the config it started with, so live connections keep the old one, which
 * is freed when the last of them ends. A reload that fails changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "mutls_ca.h"

#define MAX_CONNECTIONS 256 /* served at once; more are refused (--max-connections) */
#define MAX_LISTENERS 8     /* addresses a --listen name may resolve to */
#define LISTEN_BACKLOG 128
#define IO_CHUNK 16384
#define HTTP_HEAD_MAX (16 * 1024)
#define HTTP_BODY_MAX 4096
#define LINGER_MS 2000  /* how long a closing connection may drain the client's input */
#define FULL_WAIT_MS 50 /* out of descriptors: try accept again after this long */
#define HANDSHAKE_TIMEOUT_S 10
#define IDLE_TIMEOUT_S 60
#define MAX_TIMEOUT_S 86400          /* a day: larger values are surely typos */
#define TIMED_OUT (-100)             /* not a mutls return value: a deadline passed */
#define SILENT (-101)                /* TIMED_OUT before the client sent a single byte */
#define MAX_TICKETS 8                /* per handshake (mutls_config_set_tickets) */
#define MAX_TICKET_LIFETIME_S 604800 /* seven days: RFC 8446 4.6.1 */
#define CERT_FILE_MAX (1024 * 1024)  /* a --cert file larger than this is not read for the log */
#define WHY_MAX 1024                 /* "<option>: <the library's sentence>" */

/* What the self-pipe carries. */
enum { WAKE_STOP = 's', WAKE_RELOAD = 'r', WAKE_ONCE_OK = 'o', WAKE_ONCE_FAILED = 'f' };

static struct {
  const char *listen, *cert, *key;
  const char *handshake_timeout, *idle_timeout, *max_connections; /* as given */
  const char *client_ca, *client_auth, *pha_path;
  const char *tickets, *ticket_lifetime, *ticket_keys; /* as given */
  cli_peer_checks checks;
  cli_tls_prefs prefs;
  int echo, http, once, single_use_tickets;
  /* Parsed by check_options; 0 seconds means no limit. */
  int handshake_s, idle_s, max_conns;
  int n_tickets, ticket_lifetime_s;
  mutls_client_auth auth;
  /* The log lines name the client and say whether it resumed: set when
   * client certificates or tickets were configured. */
  bool log_identity;
} opt = {.checks = {.crl = {.option = "--crl", .max = CLI_LIST_MAX}}};

static const cli_option options[] = {
    {.name = "--listen",
     .arg = "HOST:PORT",
     .value = &opt.listen,
     .help = "Where to listen (required). HOST is an IPv4 address, an IPv6 address in\n"
             "brackets, or a name such as localhost (then every address it has). PORT 0\n"
             "picks a free port; the 'listening on' line on stdout says which.",
     .example = "--listen 127.0.0.1:4433   or   --listen [::1]:0"},
    {.name = "--cert",
     .arg = "CHAIN.pem",
     .value = &opt.cert,
     .help = "The server's certificate chain, PEM (required): its own certificate first,\n"
             "then any intermediate CA certificates.",
     .example = "--cert server.pem"},
    {.name = "--key",
     .arg = "KEY.pem",
     .value = &opt.key,
     .help = "The private key (PEM) of the first certificate in --cert (required).",
     .example = "--key server.key"},
    {.name = "--client-ca",
     .arg = "CA.pem",
     .value = &opt.client_ca,
     .help = "The CA certificate(s), PEM, whose client certificates are accepted (mutual\n"
             "TLS). Used only to verify clients; their names are sent to clients so they\n"
             "can pick a certificate. Needs --client-auth: the server does not start\n"
             "until you choose.",
     .example = "--client-ca clients-ca.pem"},
    {.name = "--client-auth",
     .arg = "MODE",
     .value = &opt.client_auth,
     .help = "How clients are asked for a certificate: require (a client without one is\n"
             "refused: certificate_required), optional (ask; verify one if sent; serve a\n"
             "client without one too) or none (never ask). require and optional need\n"
             "--client-ca.",
     .example = "--client-auth require"},
    CLI_PEER_CHECK_OPTIONS(opt.checks, "client"),
    {.name = "--alpn",
     .arg = "LIST",
     .value = &opt.prefs.alpn,
     .help = "Application protocols to accept, comma separated, most preferred first. A\n"
             "client offering ALPN without any of them is refused (no_application_protocol\n"
             "alert); a client offering no ALPN at all is served.",
     .example = "--alpn h2,http/1.1"},
    {.name = "--echo",
     .flag = &opt.echo,
     .help = "Send every byte back until the client closes. This is the default.",
     .example = "--echo"},
    {.name = "--http",
     .flag = &opt.http,
     .help = "Read one HTTP/1.x request (head up to 16 KiB) and answer 200 with a text/plain\n"
             "page describing the connection (version, cipher suite, group, signature\n"
             "scheme, ALPN, SNI, HelloRetryRequest, resumption, and the verified client\n"
             "certificate: subject, issuer, SANs, SPIFFE ID, SHA-256), or 400 if the\n"
             "request is malformed or too big; then close.",
     .example = "--http"},
    {.name = "--pha-path",
     .arg = "PATH",
     .value = &opt.pha_path,
     .help = "With --http: a request for PATH (the query is ignored) makes the server ask\n"
             "the client for its certificate after the handshake (post-handshake auth),\n"
             "then answer with the identity it proved. A client that did not offer\n"
             "post-handshake auth gets 403 and the reason. Needs --client-ca.",
     .example = "--pha-path /admin"},
    {.name = "--once",
     .flag = &opt.once,
     .help = "Serve one connection, then exit: 0 if its handshake succeeded, 1 if not.\n"
             "The listening socket is closed once that connection is accepted.",
     .example = "--once"},
    {.name = "--handshake-timeout",
     .arg = "SECONDS",
     .value = &opt.handshake_timeout,
     .help = "Cut a connection whose handshake has not completed this many seconds after\n"
             "it was accepted (a client that sends nothing, or stalls). 0: no limit.\n"
             "Default: 10.",
     .example = "--handshake-timeout 3"},
    {.name = "--idle-timeout",
     .arg = "SECONDS",
     .value = &opt.idle_timeout,
     .help = "After the handshake, end a connection (with close_notify) when the client\n"
             "sends nothing, or takes none of what the server sends, for this many\n"
             "seconds; with --http, when its request has not arrived this many seconds\n"
             "after the handshake. 0: no limit. Default: 60.",
     .example = "--idle-timeout 300"},
    {.name = "--max-connections",
     .arg = "N",
     .value = &opt.max_connections,
     .help = "Serve at most N connections at once, 1 to 256. A client that connects while\n"
             "N are open is closed at once, and the log says so. Default: 256.",
     .example = "--max-connections 32"},
    {.name = "--tickets",
     .arg = "N",
     .value = &opt.tickets,
     .help = "Session tickets sent right after each full handshake, 0 to 8; a client\n"
             "resumes with one (mutls client --sess-out/--sess-in). 0 turns resumption\n"
             "off. A resuming client is checked again against the clock, --crl and the\n"
             "--allow-* rules; one that fails them gets a full handshake. Default: 1.",
     .example = "--tickets 2"},
    {.name = "--ticket-lifetime",
     .arg = "SECONDS",
     .value = &opt.ticket_lifetime,
     .help = "How long a ticket may be used, 1 to 604800 (seven days). Default: 7200.",
     .example = "--ticket-lifetime 3600"},
    {.name = "--ticket-keys",
     .arg = "FILE",
     .value = &opt.ticket_keys,
     .help = "Seal tickets with the keys in FILE instead of keys of our own, so that\n"
             "servers sharing FILE resume each other's clients. One key per line, 96 hex\n"
             "digits (openssl rand -hex 48); the first line seals, every line opens.\n"
             "Anyone who reads FILE can decrypt resumed traffic: protect it like a key.",
     .example = "--ticket-keys /etc/mutls/ticket.keys"},
    {.name = "--single-use-tickets",
     .flag = &opt.single_use_tickets,
     .help = "Let each ticket resume one connection only: a replayed ticket gets a full\n"
             "handshake.",
     .example = "--single-use-tickets"},
    {.name = "--keylog",
     .arg = "FILE",
     .value = &opt.prefs.keylog,
     .help = "Append every connection's secrets to FILE in the SSLKEYLOGFILE format, so\n"
             "Wireshark can decrypt the traffic. Anyone who reads FILE can too: debug only.",
     .example = "--keylog /tmp/mutls-keys.log"},
    {.name = "--ciphers",
     .arg = "LIST",
     .value = &opt.prefs.ciphers,
     .help = "TLS 1.3 cipher suites to allow, colon or comma separated; the server picks by\n"
             "this order. Names: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,\n"
             "TLS_CHACHA20_POLY1305_SHA256. Default: all three.",
     .example = "--ciphers TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"},
    {.name = "--groups",
     .arg = "LIST",
     .value = &opt.prefs.groups,
     .help = "Key exchange groups to allow, in the server's order of preference: x25519,\n"
             "secp256r1 (or P-256), secp384r1 (or P-384). A client whose key share is for\n"
             "another group it supports gets a HelloRetryRequest (hrr=yes in the log).",
     .example = "--groups secp384r1:x25519"},
    {.name = "--sigalgs",
     .arg = "LIST",
     .value = &opt.prefs.sigalgs,
     .help = "Signature schemes to allow, in order of preference: ecdsa_secp256r1_sha256,\n"
             "ecdsa_secp384r1_sha384, rsa_pss_rsae_sha256, rsa_pss_rsae_sha384,\n"
             "rsa_pss_rsae_sha512, ed25519. Keep one that fits the key in --key.",
     .example = "--sigalgs ecdsa_secp256r1_sha256"},
};

static const cli_command command = {
    .name = "server",
    .synopsis = "mutls server --listen HOST:PORT --cert CHAIN.pem --key KEY.pem\n"
                "                    [--client-ca CA.pem --client-auth require|optional|none]\n"
                "                    [--allow-uri P]... [--allow-dns P]... [--allow-cn N]...\n"
                "                    [--allow-ou N]... [--allow-pin SHA256]...\n"
                "                    [--allow-spki SHA256]... [--crl FILE]... [--crl-chain]\n"
                "                    [--crl-soft-fail] [--alpn LIST] [--echo | --http]\n"
                "                    [--pha-path PATH] [--once] [--handshake-timeout SECONDS]\n"
                "                    [--idle-timeout SECONDS] [--max-connections N]\n"
                "                    [--tickets N] [--ticket-lifetime SECONDS]\n"
                "                    [--ticket-keys FILE] [--single-use-tickets]\n"
                "                    [--keylog FILE] [--ciphers LIST] [--groups LIST]\n"
                "                    [--sigalgs LIST]",
    .description = "A TLS 1.3 test server. Serves many connections at once, each in its own\n"
                   "thread, and logs one line per connection on stderr. SIGINT or SIGTERM\n"
                   "stops it (exit 0); connections still open are then cut.\n"
                   "\n"
                   "SIGHUP reloads: the server reads --cert, --key, --client-ca, --crl and\n"
                   "--ticket-keys again (and reopens --keylog), builds a new configuration\n"
                   "from the same options, checks it, and uses it for every connection\n"
                   "accepted from then on. Connections already open keep the configuration\n"
                   "they started with until they close: none is dropped. If anything fails\n"
                   "(a corrupt or missing file, a key that does not match its certificate),\n"
                   "the server keeps serving with the previous configuration and logs why.\n"
                   "Replace files by renaming new ones into place (mv), so that a reload\n"
                   "never reads one half written.\n",
    .options = options,
    .n_options = sizeof options / sizeof options[0],
    .max_positionals = 0,
    .more_help =
        "Output:\n"
        "  stdout: one line, 'listening on HOST:PORT', once the socket listens.\n"
        "  stderr: per connection, one of\n"
        "    mutls server: PEER ok VERSION SUITE GROUP sni=NAME alpn=PROTO bytes_in=N\n"
        "                  bytes_out=N hrr=yes|no [client=ID resumed=yes|no]\n"
        "                  [http=STATUS] end=HOW\n"
        "    mutls server: PEER failed ERROR [alert_sent=A] [alert_received=A]: WHY\n"
        "    mutls server: PEER refused: N connections already open (--max-connections)\n"
        "  on SIGHUP, one of\n"
        "    mutls server: reloaded configuration (certificate SUBJECT expires DATE,\n"
        "                  in N days, sha256=HEX)\n"
        "    mutls server: reload failed, keeping the previous configuration: WHY\n"
        "  A timeout shows as ERROR or end= MUTLS_E_TIMEOUT, then which limit it was.\n"
        "  client= and resumed= appear with --client-ca or a ticket option: ID is the\n"
        "  client's SPIFFE ID, else its subject in double quotes, else - (none).\n"
        "\n"
        "Examples:\n"
        "  mutls server --listen 127.0.0.1:4433 --cert server.pem --key server.key\n"
        "  mutls server --listen localhost:0 --http --cert server.pem --key server.key\n"
        "  mutls server --listen 127.0.0.1:8443 --http --cert server.pem --key server.key \\\n"
        "               --client-ca clients-ca.pem --client-auth require \\\n"
        "               --allow-uri 'spiffe://example.org/billing/*'\n"
        "  mutls server --listen [::1]:8443 --once --groups secp256r1 \\\n"
        "               --cert server.pem --key server.key\n"
        "  Rotate the certificate of a running server without dropping a connection:\n"
        "    mv new.pem server.pem && mv new.key server.key && kill -HUP PID\n"
        "\n"
        "Exit status:\n"
        "  0  stopped by SIGINT/SIGTERM, or --once and the handshake succeeded\n"
        "  1  bad certificate/key/setting, incomplete mutual TLS setup (--client-ca\n"
        "     without --client-auth), cannot listen, or --once and the handshake failed\n"
        "  2  bad command line\n",
};

void server_help(FILE *out) {
  cli_print_help(out, &command);
}

/* ---- signals and the self-pipe ---------------------------------------------------- */

static int wake_pipe[2] = {-1, -1};

static void wake(char why) {
  /* The write end is non-blocking: if the pipe is full, a wake-up is already
   * pending and this byte is not needed. */
  if (write(wake_pipe[1], &why, 1) < 0) {
  }
}

static void on_signal(int sig) {
  int saved = errno;
  wake(sig == SIGHUP ? WAKE_RELOAD : WAKE_STOP);
  errno = saved;
}

/* Blocks SIGINT/SIGTERM/SIGHUP (threads inherit that) and returns in
 * wait_mask the mask under which the main thread's ppoll lets them in. */
static int setup_signals(sigset_t *wait_mask) {
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &handled, wait_mask) != 0) return -1;
  sigdelset(wait_mask, SIGINT);
  sigdelset(wait_mask, SIGTERM);
  sigdelset(wait_mask, SIGHUP);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
      sigaction(SIGHUP, &sa, NULL) != 0)
    return -1;
  /* A client that vanishes must cost an error return, not the process. */
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* ---- listening sockets --------------------------------------------------------------- */

typedef struct listeners {
  int fd[MAX_LISTENERS];
  size_t n;
  unsigned port; /* the real port, also when --listen asked for 0 */
} listeners;

static unsigned local_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void set_port(struct sockaddr *sa, unsigned port) {
  if (sa->sa_family == AF_INET6)
    ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
  else if (sa->sa_family == AF_INET)
    ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
}

/* One listening socket, non-blocking so that accept never blocks when a
 * client gives up between poll and accept. -1 with errno on failure. */
static int open_listener(const struct addrinfo *ai, bool v6only) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* When a name has both an IPv4 and an IPv6 address, the IPv6 socket must
   * not claim the IPv4 port as well. */
  if (v6only && ai->ai_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

static int open_listeners(const char *host, const char *port, listeners *ls) {
  struct addrinfo hints, *res;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    cli_log("cannot listen on %s: %s", opt.listen, gai_strerror(rc));
    return -1;
  }
  int err = 0;
  bool several = res->ai_next != NULL;
  for (struct addrinfo *ai = res; ai && ls->n < MAX_LISTENERS; ai = ai->ai_next) {
    /* With PORT 0, the other addresses take the port the first one got. */
    if (ls->n > 0) set_port(ai->ai_addr, ls->port);
    int fd = open_listener(ai, several);
    if (fd < 0) {
      err = errno; /* e.g. no IPv6 on this host: the other addresses may do */
      continue;
    }
    if (ls->n == 0) ls->port = local_port(fd);
    ls->fd[ls->n++] = fd;
  }
  freeaddrinfo(res);
  if (ls->n == 0) {
    cli_log("cannot listen on %s: %s", opt.listen, strerror(err));
    return -1;
  }
  return 0;
}

static void close_listeners(listeners *ls) {
  for (size_t i = 0; i < ls->n; i++)
    close(ls->fd[i]);
  ls->n = 0;
}

/* ---- counting connection threads ------------------------------------------------ */

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static int conn_count;

/* Connection threads are joinable, one slot each: the main thread joins
 * the finished ones, and all of them before it exits, so that nothing
 * (LeakSanitizer's stop-the-world among it) races a thread still exiting. */
enum { SLOT_FREE, SLOT_RUNNING, SLOT_DONE };
static struct {
  pthread_t tid;
  int state;
} slots[MAX_CONNECTIONS];

static void slot_done(int i) {
  pthread_mutex_lock(&conn_lock);
  slots[i].state = SLOT_DONE;
  pthread_mutex_unlock(&conn_lock);
}

/* Joins every finished connection thread. */
static void reap_threads(void) {
  pthread_t done[MAX_CONNECTIONS];
  int n = 0;
  pthread_mutex_lock(&conn_lock);
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    if (slots[i].state != SLOT_DONE) continue;
    done[n++] = slots[i].tid;
    slots[i].state = SLOT_FREE;
  }
  pthread_mutex_unlock(&conn_lock);
  for (int i = 0; i < n; i++) pthread_join(done[i], NULL);
}

static int slot_take(void) {
  int found = -1;
  pthread_mutex_lock(&conn_lock);
  for (int i = 0; i < MAX_CONNECTIONS && found < 0; i++)
    if (slots[i].state == SLOT_FREE) found = i;
  if (found >= 0) slots[found].state = SLOT_RUNNING;
  pthread_mutex_unlock(&conn_lock);
  return found;
}

static void conns_add(int delta) {
  pthread_mutex_lock(&conn_lock);
  conn_count += delta;
  pthread_mutex_unlock(&conn_lock);
}

static int conns_active(void) {
  pthread_mutex_lock(&conn_lock);
  int n = conn_count;
  pthread_mutex_unlock(&conn_lock);
  return n;
}

/* ---- waiting with a deadline --------------------------------------------------------- */

#define NO_DEADLINE (-1LL)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline seconds from now, or NO_DEADLINE for 0 (no limit). */
static long long deadline_in(int seconds) {
  return seconds > 0 ? now_ms() + seconds * 1000LL : NO_DEADLINE;
}

/* Waits until the socket can do what rc (MUTLS_WANT_READ or MUTLS_WANT_WRITE)
 * asks for, or can take queued ciphertext. Returns false once the deadline
 * has passed. Errors and hang-ups count as ready: the next mutls call on the
 * connection reports them. */
static bool wait_ready(const mutls_conn *c, int fd, int rc, long long deadline) {
  short events = rc == MUTLS_WANT_WRITE ? POLLOUT : POLLIN;
  if (mutls_conn_pending(c) > 0) events |= POLLOUT;
  for (;;) {
    int timeout = -1;
    if (deadline != NO_DEADLINE) {
      long long left = deadline - now_ms();
      if (left <= 0) return false;
      timeout = left < INT_MAX ? (int)left : INT_MAX;
    }
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, timeout);
    if (r > 0 || (r < 0 && errno != EINTR)) return true;
  }
}

/* ---- one connection ------------------------------------------------------------------ */

/* What happened on one connection after its handshake, for the log line. */
typedef struct session {
  mutls_conn *conn;
  int fd;
  const char *peer;
  unsigned long long bytes_in, bytes_out;
  const char *end; /* close_notify, eof, closed_by_server, or an error name */
  bool end_failed; /* end is an error: the log adds a sentence */
  bool timed_out;  /* ... MUTLS_E_TIMEOUT, whose sentence is in why */
  char why[128];
  int http_status; /* 0 if no HTTP response was sent */
} session;

/* Records how the peer's side ended, from the last mutls_read result. */
static void note_end(session *s, int rc) {
  mutls_error e = mutls_conn_error(s->conn);
  if (rc == MUTLS_CLOSED) {
    s->end = "close_notify";
  } else if (e == MUTLS_E_EOF) {
    s->end = "eof";
  } else {
    s->end = mutls_error_name(e);
    s->end_failed = true;
  }
}

/* Records that --idle-timeout ended the connection; what says how. */
static void note_timeout(session *s, const char *what) {
  s->end = mutls_error_name(MUTLS_E_TIMEOUT);
  s->end_failed = s->timed_out = true;
  snprintf(s->why, sizeof s->why, "%s %d s (--idle-timeout)", what, opt.idle_s);
}

/* mutls_read, waiting for data until the deadline: bytes read, MUTLS_CLOSED,
 * MUTLS_ERR, or TIMED_OUT. */
static int read_until(session *s, void *buf, size_t len, long long deadline) {
  for (;;) {
    int n = mutls_read(s->conn, buf, len);
    if (n != MUTLS_WANT_READ && n != MUTLS_WANT_WRITE) return n;
    if (!wait_ready(s->conn, s->fd, n, deadline)) return TIMED_OUT;
  }
}

/* Writes all of buf (mutls_write may take less than asked), waiting for room
 * until the deadline. Returns 0; else the end is noted and it returns -1. */
static int write_all_until(session *s, const void *buf, size_t len, long long deadline) {
  const uint8_t *p = buf;
  while (len > 0) {
    int n = mutls_write(s->conn, p, len);
    if (n == MUTLS_WANT_READ || n == MUTLS_WANT_WRITE) {
      if (wait_ready(s->conn, s->fd, n, deadline)) continue;
      note_timeout(s, "the client took none of what the server sent for");
      return -1;
    }
    if (n <= 0) {
      note_end(s, MUTLS_ERR);
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void serve_echo(session *s) {
  uint8_t buf[IO_CHUNK];
  for (;;) {
    int n = read_until(s, buf, sizeof buf, deadline_in(opt.idle_s));
    if (n == TIMED_OUT) {
      note_timeout(s, "the client sent nothing for");
      return;
    }
    if (n <= 0) {
      note_end(s, n);
      return;
    }
    s->bytes_in += (unsigned long long)n;
    if (write_all_until(s, buf, (size_t)n, deadline_in(opt.idle_s)) != 0) return;
    s->bytes_out += (unsigned long long)n;
  }
}

/* ---- HTTP ----------------------------------------------------------------------------- */

/* Length of the head (through its blank line) in buf, or 0 if it has not
 * ended yet. Bare LF line ends are accepted too (RFC 9112 2.2). */
static size_t http_head_length(const char *buf, size_t len) {
  const char *crlf = memmem(buf, len, "\r\n\r\n", 4);
  const char *lf = memmem(buf, len, "\n\n", 2);
  if (crlf && (!lf || crlf < lf)) return (size_t)(crlf - buf) + 4;
  return lf ? (size_t)(lf - buf) + 2 : 0;
}

/* Reads up to the end of the request head, which must arrive within
 * --idle-timeout. Returns its length; 0 if it did not end within cap bytes;
 * -1 if the connection ended or timed out first (s->end says how). */
static long read_http_head(session *s, char *buf, size_t cap) {
  long long deadline = deadline_in(opt.idle_s);
  size_t len = 0;
  while (len < cap) {
    int n = read_until(s, buf + len, cap - len, deadline);
    if (n == TIMED_OUT) {
      note_timeout(s, "the client sent no whole request within");
      return -1;
    }
    if (n <= 0) {
      note_end(s, n);
      return -1;
    }
    s->bytes_in += (unsigned long long)n;
    len += (size_t)n;
    size_t head = http_head_length(buf, len);
    if (head > 0) return (long)head;
  }
  return 0;
}

/* RFC 9110 5.6.2 token characters (method and header names). */
static bool is_token(const char *s, size_t len) {
  if (len == 0) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
    if (!alnum && !strchr("!#$%&'*+-.^_`|~", ch)) return false;
  }
  return true;
}

/* What serve_http needs from a request head. */
typedef struct http_request {
  bool is_head;
  const char *target; /* in the head buffer; not NUL-terminated */
  size_t target_len;
} http_request;

/* "METHOD TARGET HTTP/1.x". Returns NULL if well formed, else why not. */
static const char *check_request_line(const char *line, size_t len, http_request *req) {
  const char *bad = "the request line is not 'METHOD TARGET HTTP/1.x'";
  const char *sp1 = memchr(line, ' ', len);
  if (!sp1 || !is_token(line, (size_t)(sp1 - line))) return bad;
  const char *target = sp1 + 1;
  const char *sp2 = memchr(target, ' ', len - (size_t)(target - line));
  if (!sp2 || sp2 == target) return bad;
  for (const char *p = target; p < sp2; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f) return bad;
  const char *version = sp2 + 1;
  size_t version_len = len - (size_t)(version - line);
  if (version_len != 8 ||
      (memcmp(version, "HTTP/1.0", 8) != 0 && memcmp(version, "HTTP/1.1", 8) != 0))
    return "only HTTP/1.0 and HTTP/1.1 requests are served";
  req->is_head = sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
  req->target = target;
  req->target_len = (size_t)(sp2 - target);
  return NULL;
}

/* Checks the request line and that each header line is "name: value".
 * Returns NULL if the head is well formed, else why not. */
static const char *check_http_head(const char *head, size_t len, http_request *req) {
  if (memchr(head, '\0', len)) return "the request contains a NUL byte";
  const char *line = head;
  const char *end = head + len;
  for (int i = 0; line < end; i++) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    if (!nl) break;
    size_t line_len = (size_t)(nl - line);
    if (line_len > 0 && line[line_len - 1] == '\r') line_len--;
    if (line_len == 0) return i == 0 ? "the request line is empty" : NULL;
    if (i == 0) {
      const char *why = check_request_line(line, line_len, req);
      if (why) return why;
    } else {
      /* Leading whitespace (obsolete line folding) fails here too: a 400 is
       * what RFC 9112 5.2 allows for it. */
      const char *colon = memchr(line, ':', line_len);
      if (!colon || !is_token(line, (size_t)(colon - line)))
        return "a header line is not 'Name: value'";
    }
    line = nl + 1;
  }
  return "the request head does not end with a blank line";
}

/* Appends to out (holding *used bytes) as much of the formatted text as fits. */
static void append(char *out, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *out, size_t cap, size_t *used, const char *fmt, ...) {
  if (*used >= cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out + *used, cap - *used, fmt, ap);
  va_end(ap);
  if (n > 0) *used = *used + (size_t)n < cap ? *used + (size_t)n : cap - 1;
}

/* The 200 page: what was negotiated and who the client proved to be, one
 * "name: value" per line. */
static void describe_connection(const mutls_conn *c, char *out, size_t cap) {
  size_t used = 0;
  append(out, cap, &used,
         "mutls server: your TLS connection\n"
         "protocol: %s\ncipher suite: %s\ngroup: %s\nsignature scheme: %s\n"
         "alpn: %s\nsni: %s\nhello retry request: %s\nresumed: %s\n",
         cli_or_dash(mutls_conn_version(c)), cli_or_dash(mutls_conn_cipher_suite(c)),
         cli_or_dash(mutls_conn_group(c)), cli_or_dash(mutls_conn_signature_scheme(c)),
         cli_or_dash(mutls_conn_alpn(c)), cli_or_dash(mutls_conn_server_name(c)),
         mutls_conn_used_hrr(c) ? "yes" : "no", mutls_conn_resumed(c) ? "yes" : "no");
  const mutls_peer *p = mutls_conn_peer(c);
  if (!p) {
    append(out, cap, &used, "client certificate: none\n");
    return;
  }
  append(out, cap, &used,
         "client certificate: %s\nclient certificate issuer: %s\n"
         "client certificate sans: %s\nclient spiffe id: %s\n"
         "client certificate sha256: %s\nclient certificate expires: %s\n",
         cli_or_dash(mutls_peer_subject(p)), cli_or_dash(mutls_peer_issuer(p)),
         cli_or_dash(mutls_peer_sans(p)), cli_or_dash(mutls_peer_spiffe_id(p)),
         cli_or_dash(mutls_peer_fingerprint(p)), cli_or_dash(mutls_peer_not_after_text(p)));
}

static const char *http_reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 403: return "Forbidden";
  default: return "Bad Request";
  }
}

static void send_http_response(session *s, int status, const char *body, bool head_only) {
  char resp[HTTP_BODY_MAX + 256];
  size_t body_len = strlen(body);
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n%s",
                   status, http_reason(status), body_len, head_only ? "" : body);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof resp ? (size_t)n : sizeof resp - 1;
  if (write_all_until(s, resp, len, deadline_in(opt.idle_s)) != 0) return;
  s->bytes_out += len;
  s->http_status = status;
  s->end = "closed_by_server";
}

/* The request's path (the target without its query) is --pha-path. */
static bool is_pha_path(const http_request *req) {
  if (!opt.pha_path) return false;
  const char *query = memchr(req->target, '?', req->target_len);
  size_t len = query ? (size_t)(query - req->target) : req->target_len;
  return len == strlen(opt.pha_path) && memcmp(req->target, opt.pha_path, len) == 0;
}

/* --pha-path: asks the client for its certificate now (RFC 8446 4.6.2) and
 * reads until its answer has been judged; request bytes that arrive
 * meanwhile are dropped (one request per connection). Returns true if the
 * 200 page should follow; false once a 403 was sent or the connection
 * ended (s->end says how). */
static bool authenticate_after_handshake(session *s, bool head_only) {
  mutls_conn *c = s->conn;
  if (mutls_conn_request_client_cert(c) != MUTLS_OK) {
    /* Most likely the client did not offer post_handshake_auth: say so in
     * mutls's words, which it leaves in the notice (the connection itself
     * has not failed) or, for a real failure, in the explanation. */
    const char *why = mutls_conn_explain(c);
    if (!why || !*why) why = mutls_conn_notice(c);
    char body[HTTP_BODY_MAX];
    snprintf(body, sizeof body, "forbidden: %s\n", cli_or_dash(why));
    send_http_response(s, 403, body, head_only);
    return false;
  }
  long long deadline = deadline_in(opt.idle_s);
  uint8_t sink[IO_CHUNK];
  while (mutls_conn_client_cert_pending(c)) {
    int n = mutls_read(c, sink, sizeof sink);
    bool pending = mutls_conn_client_cert_pending(c) != 0;
    if (n > 0) {
      s->bytes_in += (unsigned long long)n;
    } else if (n == MUTLS_CLOSED && !pending) {
      break; /* it answered, then closed its side: it still reads ours */
    } else if (n != MUTLS_WANT_READ && n != MUTLS_WANT_WRITE) {
      note_end(s, n); /* e.g. the certificate was refused: the log has why */
      return false;
    } else if (pending && !wait_ready(c, s->fd, n, deadline)) {
      note_timeout(s, "the client did not answer the certificate request within");
      return false;
    }
  }
  /* The path needs a certificate: an empty answer is not one. */
  if (!mutls_conn_peer(c)) {
    char body[HTTP_BODY_MAX];
    snprintf(body, sizeof body,
             "forbidden: %s needs a client certificate, and the client answered the request "
             "with none\n",
             opt.pha_path);
    send_http_response(s, 403, body, head_only);
    return false;
  }
  return true;
}

static void serve_http(session *s) {
  char head[HTTP_HEAD_MAX];
  char body[HTTP_BODY_MAX];
  long len = read_http_head(s, head, sizeof head);
  if (len < 0) return; /* the client left before sending a whole request */
  http_request req = {.is_head = false};
  const char *why = len == 0 ? "the request head is larger than 16 KiB"
                             : check_http_head(head, (size_t)len, &req);
  if (why) {
    snprintf(body, sizeof body, "bad request: %s\n", why);
    send_http_response(s, 400, body, false);
    return;
  }
  if (is_pha_path(&req) && !authenticate_after_handshake(s, req.is_head)) return;
  describe_connection(s->conn, body, sizeof body);
  send_http_response(s, 200, body, req.is_head);
}

/* ---- log lines -------------------------------------------------------------------------- */

/* " client=ID resumed=yes|no": ID is the SPIFFE ID; else the subject in
 * double quotes (it has spaces), with " and \ escaped; else "-". */
static void describe_client(const mutls_conn *c, char *out, size_t cap) {
  const mutls_peer *p = mutls_conn_peer(c);
  const char *id = mutls_peer_spiffe_id(p);
  const char *subject = mutls_peer_subject(p);
  size_t used = 0;
  append(out, cap, &used, " client=");
  if (id && *id) {
    append(out, cap, &used, "%s", id);
  } else if (subject && *subject) {
    append(out, cap, &used, "\"");
    for (const char *ch = subject; *ch; ch++)
      append(out, cap, &used, "%s%c", *ch == '"' || *ch == '\\' ? "\\" : "", *ch);
    append(out, cap, &used, "\"");
  } else {
    append(out, cap, &used, "-");
  }
  append(out, cap, &used, " resumed=%s", mutls_conn_resumed(c) ? "yes" : "no");
}

static void log_session(const session *s) {
  const mutls_conn *c = s->conn;
  char http[16] = "", client[1024] = "";
  if (opt.http && s->http_status)
    snprintf(http, sizeof http, " http=%d", s->http_status);
  else if (opt.http)
    snprintf(http, sizeof http, " http=-");
  if (opt.log_identity) describe_client(c, client, sizeof client);
  const char *why = s->timed_out ? s->why : mutls_conn_explain(c);
  cli_log("%s ok %s %s %s sni=%s alpn=%s bytes_in=%llu bytes_out=%llu hrr=%s%s%s end=%s%s%s",
          s->peer, cli_or_dash(mutls_conn_version(c)), cli_or_dash(mutls_conn_cipher_suite(c)),
          cli_or_dash(mutls_conn_group(c)), cli_or_dash(mutls_conn_server_name(c)),
          cli_or_dash(mutls_conn_alpn(c)), s->bytes_in, s->bytes_out,
          mutls_conn_used_hrr(c) ? "yes" : "no", client, http, cli_or_dash(s->end),
          s->end_failed ? ": " : "", s->end_failed ? cli_or_dash(why) : "");
}

/* rc is SILENT or TIMED_OUT. The library knows nothing of our deadline: it
 * only said "wait", so the sentence is ours. */
static void log_handshake_timeout(const char *peer, int rc) {
  if (rc == SILENT)
    cli_log("%s failed %s: the client sent nothing within %d s of connecting "
            "(--handshake-timeout); is it a TLS client?",
            peer, mutls_error_name(MUTLS_E_TIMEOUT), opt.handshake_s);
  else
    cli_log("%s failed %s: the client did not complete the handshake within %d s "
            "(--handshake-timeout); it stopped sending, or stopped reading",
            peer, mutls_error_name(MUTLS_E_TIMEOUT), opt.handshake_s);
}

static void log_handshake_failure(const char *peer, const mutls_conn *c) {
  char alerts[96] = "";
  const char *sent = cli_alert(mutls_conn_alert_sent(c));
  const char *received = cli_alert(mutls_conn_alert_received(c));
  int n = sent ? snprintf(alerts, sizeof alerts, " alert_sent=%s", sent) : 0;
  if (received && n >= 0 && (size_t)n < sizeof alerts)
    snprintf(alerts + n, sizeof alerts - (size_t)n, " alert_received=%s", received);
  cli_log("%s failed %s%s: %s", peer, mutls_error_name(mutls_conn_error(c)), alerts,
          cli_or_dash(mutls_conn_explain(c)));
}

/* ---- connection threads ------------------------------------------------------------------ */

/* Defined with the config building, below. */
static mutls_config *live_config_ref(void);
static void reload(void);

typedef struct conn_job {
  mutls_config *cfg; /* the thread's own reference */
  int fd;
  int slot;
  char peer[CLI_ADDR_MAX];
} conn_job;

/* The handshake, within --handshake-timeout of the accept. Returns MUTLS_OK,
 * MUTLS_ERR, TIMED_OUT, or SILENT (not one byte came). */
static int handshake(mutls_conn *c, int fd) {
  long long deadline = deadline_in(opt.handshake_s);
  /* A server speaks second: first wait for the ClientHello to start. */
  if (!wait_ready(c, fd, MUTLS_WANT_READ, deadline)) return SILENT;
  for (;;) {
    int rc = mutls_handshake(c);
    if (rc != MUTLS_WANT_READ && rc != MUTLS_WANT_WRITE) return rc;
    if (!wait_ready(c, fd, rc, deadline)) return TIMED_OUT;
  }
}

/* Queues close_notify and gives it, with anything still queued before it,
 * up to LINGER_MS to leave. */
static void send_close_notify(session *s) {
  long long deadline = now_ms() + LINGER_MS;
  int rc = mutls_shutdown(s->conn);
  while (rc == MUTLS_WANT_WRITE && wait_ready(s->conn, s->fd, rc, deadline))
    rc = mutls_flush(s->conn);
}

/* Serves one accepted connection. Returns true if its handshake succeeded. */
static bool serve_connection(mutls_config *cfg, int fd, const char *peer) {
  mutls_conn *c = mutls_server_new(cfg);
  if (!c) {
    cli_log("%s failed MUTLS_E_NOMEM: no memory for a new connection", peer);
    return false;
  }
  int rc = mutls_conn_set_fd(c, fd);
  if (rc == MUTLS_OK) rc = handshake(c, fd);
  if (rc == TIMED_OUT || rc == SILENT) {
    log_handshake_timeout(peer, rc);
  } else if (rc != MUTLS_OK) {
    log_handshake_failure(peer, c);
  } else {
    session s = {.conn = c, .fd = fd, .peer = peer};
    if (opt.http)
      serve_http(&s);
    else
      serve_echo(&s);
    /* Log before close_notify: a client that exits when it gets close_notify
     * then always finds this line already written. */
    log_session(&s);
    /* A timeout leaves the TLS state sound: say goodbye properly. */
    if (!s.end_failed || s.timed_out) send_close_notify(&s);
  }
  mutls_conn_free(c);
  return rc == MUTLS_OK;
}

/* Closing a socket that still has unread input sends RST, and the client's
 * kernel may then drop our last records (the response, close_notify, an
 * alert) before the client reads them. So: half-close, and discard input
 * until the client closes too, for at most LINGER_MS. */
static void close_gracefully(int fd) {
  char sink[4096];
  shutdown(fd, SHUT_WR);
  long long deadline = now_ms() + LINGER_MS;
  for (;;) {
    long long left = deadline - now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    if (recv(fd, sink, sizeof sink, 0) <= 0) break;
  }
  close(fd);
}

static void *conn_thread(void *arg) {
  conn_job *job = arg;
  bool ok = serve_connection(job->cfg, job->fd, job->peer);
  close_gracefully(job->fd);
  mutls_config_free(job->cfg);
  int slot = job->slot;
  free(job);
  slot_done(slot);
  conns_add(-1);
  if (opt.once) wake(ok ? WAKE_ONCE_OK : WAKE_ONCE_FAILED);
  return NULL;
}

/* Hands fd to a new connection thread, with a reference to the config of the
 * moment: a reload later does not change it. Returns false (fd closed) if
 * it cannot. */
static bool start_connection(int fd, const struct sockaddr *peer) {
  conn_job *job = calloc(1, sizeof *job);
  if (!job) {
    cli_log("out of memory: a connection was dropped");
    close(fd);
    return false;
  }
  job->cfg = live_config_ref();
  job->fd = fd;
  cli_format_sockaddr(peer, job->peer, sizeof job->peer);

  reap_threads();
  job->slot = slot_take();
  int rc = job->slot < 0 ? EAGAIN : 0;
  conns_add(1);
  if (rc == 0) rc = pthread_create(&slots[job->slot].tid, NULL, conn_thread, job);
  if (rc == 0) return true;
  if (job->slot >= 0) {
    pthread_mutex_lock(&conn_lock);
    slots[job->slot].state = SLOT_FREE;
    pthread_mutex_unlock(&conn_lock);
  }
  conns_add(-1);
  cli_log("%s dropped: cannot start a thread: %s", job->peer, strerror(rc));
  close(fd);
  mutls_config_free(job->cfg);
  free(job);
  return false;
}

/* At --max-connections: closes fd at once rather than leave the client
 * waiting unseen in the listen queue. */
static void refuse(int fd, const struct sockaddr *peer) {
  char addr[CLI_ADDR_MAX];
  cli_format_sockaddr(peer, addr, sizeof addr);
  cli_log("%s refused: %d connections already open (--max-connections)", addr, opt.max_conns);
  close(fd);
}

static bool accept_one(int listen_fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  /* Non-blocking, so that the connection's thread can bound every wait. */
  int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    /* EAGAIN, ECONNABORTED: the client left between poll and accept. */
    if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
      cli_log("cannot accept a connection: %s", strerror(errno));
      poll(NULL, 0, FULL_WAIT_MS); /* the backlog stays readable: do not spin */
    }
    return false;
  }
  /* Only this thread starts connections: the count cannot rise meanwhile. */
  if (conns_active() >= opt.max_conns) {
    refuse(fd, (struct sockaddr *)&ss);
    return false;
  }
  int one = 1;
  /* Small echoes and HTTP answers must not wait for Nagle's algorithm. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return start_connection(fd, (struct sockaddr *)&ss);
}

/* ---- the accept loop -------------------------------------------------------------------- */

/* Drains the self-pipe. Returns the exit status it asks for, or -1. Several
 * SIGHUPs that arrived together make one reload; a stop wins over them. */
static int read_wake(void) {
  char buf[64];
  bool reload_asked = false;
  ssize_t n = read(wake_pipe[0], buf, sizeof buf);
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == WAKE_STOP) {
      cli_log("stopping on signal, %d connection(s) still open", conns_active());
      return CLI_EXIT_OK;
    }
    if (buf[i] == WAKE_ONCE_OK || buf[i] == WAKE_ONCE_FAILED)
      return buf[i] == WAKE_ONCE_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (buf[i] == WAKE_RELOAD) reload_asked = true;
  }
  if (reload_asked) reload();
  return -1;
}

static int accept_loop(listeners *ls, const sigset_t *wait_mask) {
  for (;;) {
    struct pollfd p[MAX_LISTENERS + 1];
    nfds_t n = 0;
    p[n++] = (struct pollfd){.fd = wake_pipe[0], .events = POLLIN};
    for (size_t i = 0; i < ls->n; i++)
      p[n++] = (struct pollfd){.fd = ls->fd[i], .events = POLLIN};
    int r = ppoll(p, n, NULL, wait_mask);
    if (r < 0 && errno != EINTR) {
      cli_log("poll failed: %s", strerror(errno));
      return CLI_EXIT_FAIL;
    }
    if (r <= 0) continue;
    int status = (p[0].revents & POLLIN) ? read_wake() : -1;
    if (status >= 0) return status;
    for (nfds_t i = 1; i < n; i++) {
      if ((p[i].revents & POLLIN) && accept_one(p[i].fd) && opt.once) {
        /* Later clients get "connection refused", not a silent wait. */
        close_listeners(ls);
        break;
      }
    }
  }
}

/* ---- setup ------------------------------------------------------------------------------ */

/* Parses a number option into *out (left alone when the option is absent).
 * Returns 0, or a usage error status. */
static int number_option(const char *name, const char *text, unsigned long min, unsigned long max,
                         const char *unit, int *out) {
  unsigned long n;
  if (!text) return CLI_EXIT_OK;
  if (cli_parse_uint(text, max, &n) != 0 || n < min)
    return cli_usage_error(&command, "%s '%s': give a whole number of %s from %lu to %lu", name,
                           text, unit, min, max);
  *out = (int)n;
  return CLI_EXIT_OK;
}

/* --client-auth MODE into opt.auth (left UNSET when absent: the library
 * then refuses a server with --client-ca, and says why). */
static int client_auth_option(void) {
  static const struct {
    const char *name;
    mutls_client_auth mode;
  } modes[] = {{"require", MUTLS_CLIENT_AUTH_REQUIRED},
               {"optional", MUTLS_CLIENT_AUTH_OPTIONAL},
               {"none", MUTLS_CLIENT_AUTH_NONE}};
  opt.auth = MUTLS_CLIENT_AUTH_UNSET;
  if (!opt.client_auth) return CLI_EXIT_OK;
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp(opt.client_auth, modes[i].name) == 0) opt.auth = modes[i].mode;
  if (opt.auth == MUTLS_CLIENT_AUTH_UNSET)
    return cli_usage_error(&command, "--client-auth '%s': choose require, optional or none",
                           opt.client_auth);
  return CLI_EXIT_OK;
}

static int check_pha_path(void) {
  if (!opt.pha_path) return CLI_EXIT_OK;
  if (!opt.http) return cli_usage_error(&command, "--pha-path needs --http");
  if (!opt.client_ca)
    return cli_usage_error(&command, "--pha-path needs --client-ca to verify the certificate");
  if (opt.pha_path[0] != '/' || strpbrk(opt.pha_path, "? \t\r\n"))
    return cli_usage_error(&command,
                           "--pha-path '%s': give a path such as /admin (a '/' first, "
                           "no query, no spaces)",
                           opt.pha_path);
  return CLI_EXIT_OK;
}

static int check_options(void) {
  if (!opt.listen) return cli_usage_error(&command, "--listen HOST:PORT is required");
  if (!opt.cert || !opt.key)
    return cli_usage_error(&command, "--cert CHAIN.pem and --key KEY.pem are required");
  if (opt.echo && opt.http)
    return cli_usage_error(&command, "--echo and --http cannot be used together");
  opt.handshake_s = HANDSHAKE_TIMEOUT_S;
  opt.idle_s = IDLE_TIMEOUT_S;
  opt.max_conns = MAX_CONNECTIONS;
  opt.n_tickets = -1; /* -1: not given, the library's default stays */
  opt.ticket_lifetime_s = -1;
  opt.log_identity = opt.client_ca || opt.tickets || opt.ticket_lifetime || opt.ticket_keys ||
                     opt.single_use_tickets;
  int status = number_option("--handshake-timeout", opt.handshake_timeout, 0, MAX_TIMEOUT_S,
                             "seconds", &opt.handshake_s);
  if (status == CLI_EXIT_OK)
    status =
        number_option("--idle-timeout", opt.idle_timeout, 0, MAX_TIMEOUT_S, "seconds", &opt.idle_s);
  if (status == CLI_EXIT_OK)
    status = number_option("--max-connections", opt.max_connections, 1, MAX_CONNECTIONS,
                           "connections", &opt.max_conns);
  if (status == CLI_EXIT_OK)
    status = number_option("--tickets", opt.tickets, 0, MAX_TICKETS, "tickets", &opt.n_tickets);
  if (status == CLI_EXIT_OK)
    status = number_option("--ticket-lifetime", opt.ticket_lifetime, 1, MAX_TICKET_LIFETIME_S,
                           "seconds", &opt.ticket_lifetime_s);
  if (status == CLI_EXIT_OK) status = client_auth_option();
  if (status == CLI_EXIT_OK) status = check_pha_path();
  if (status == CLI_EXIT_OK) status = cli_check_peer_checks(&command, &opt.checks);
  return status;
}

/* ---- building a config ------------------------------------------------------------------ */

/* Building a config stops at the first step that fails, and why holds
 * "<option>: <the library's sentence>". At start the server logs it and
 * exits; on SIGHUP it logs it and keeps the config it has. */
static bool config_failed(const mutls_config *cfg, const char *what, char *why, size_t cap) {
  const char *sentence = mutls_config_error(cfg);
  if (!sentence || !*sentence) sentence = mutls_error_name(mutls_config_error_code(cfg));
  snprintf(why, cap, "%s: %s", what, cli_or_dash(sentence));
  return false;
}

/* Allow rules and CRLs (what common.c's cli_apply_peer_checks does, with
 * the reason kept rather than logged). */
static bool apply_peer_checks(mutls_config *cfg, char *why, size_t cap) {
  const cli_peer_checks *checks = &opt.checks;
  for (size_t i = 0; i < checks->allow.n; i++) {
    const char *kind = checks->allow.rule[i].kind, *pattern = checks->allow.rule[i].pattern;
    /* The rule as mutls_config_allow reads it: "uri:spiffe://...". */
    size_t len = strlen(kind) + 1 + strlen(pattern) + 1;
    char *rule = malloc(len);
    if (!rule) {
      snprintf(why, cap, "out of memory");
      return false;
    }
    snprintf(rule, len, "%s:%s", kind, pattern);
    int rc = mutls_config_allow(cfg, rule);
    free(rule);
    if (rc != MUTLS_OK) {
      char what[64 + CLI_HOST_MAX];
      snprintf(what, sizeof what, "--allow-%s %.*s", kind, CLI_HOST_MAX, pattern);
      return config_failed(cfg, what, why, cap);
    }
  }
  for (size_t i = 0; i < checks->crl.n; i++)
    if (mutls_config_add_crl_file(cfg, checks->crl.item[i]) != MUTLS_OK)
      return config_failed(cfg, "--crl", why, cap);
  if ((checks->crl_chain || checks->crl_soft_fail) &&
      mutls_config_set_crl_check(cfg, checks->crl_chain, checks->crl_soft_fail) != MUTLS_OK)
    return config_failed(cfg, checks->crl_chain ? "--crl-chain" : "--crl-soft-fail", why, cap);
  return true;
}

/* Client certificates: --client-ca, --client-auth, the allow rules, CRLs. */
static bool apply_client_auth(mutls_config *cfg, char *why, size_t cap) {
  if (opt.client_ca && mutls_config_set_client_ca_file(cfg, opt.client_ca) != MUTLS_OK)
    return config_failed(cfg, "--client-ca", why, cap);
  if (opt.auth != MUTLS_CLIENT_AUTH_UNSET &&
      mutls_config_set_client_auth(cfg, opt.auth) != MUTLS_OK)
    return config_failed(cfg, "--client-auth", why, cap);
  return apply_peer_checks(cfg, why, cap);
}

/* Resumption: the ticket options. */
static bool apply_tickets(mutls_config *cfg, char *why, size_t cap) {
  if (opt.n_tickets >= 0 || opt.ticket_lifetime_s >= 0) {
    /* One call sets both: what was not given keeps mutls's default. */
    unsigned count = opt.n_tickets >= 0 ? (unsigned)opt.n_tickets : 1;
    unsigned lifetime = opt.ticket_lifetime_s >= 0 ? (unsigned)opt.ticket_lifetime_s : 7200;
    if (mutls_config_set_tickets(cfg, count, lifetime) != MUTLS_OK)
      return config_failed(cfg, opt.tickets ? "--tickets" : "--ticket-lifetime", why, cap);
  }
  if (opt.ticket_keys && mutls_config_set_ticket_key_file(cfg, opt.ticket_keys) != MUTLS_OK)
    return config_failed(cfg, "--ticket-keys", why, cap);
  if (opt.single_use_tickets && mutls_config_set_single_use_tickets(cfg, 1) != MUTLS_OK)
    return config_failed(cfg, "--single-use-tickets", why, cap);
  return true;
}

/* --alpn, --keylog, --ciphers, --groups, --sigalgs. */
static bool apply_tls_prefs(mutls_config *cfg, char *why, size_t cap) {
  const struct {
    const char *option;
    const char *value;
    int (*set)(mutls_config *, const char *);
  } steps[] = {
      {"--alpn", opt.prefs.alpn, mutls_config_set_alpn},
      {"--keylog", opt.prefs.keylog, mutls_config_set_keylog_file},
      {"--ciphers", opt.prefs.ciphers, mutls_config_set_cipher_suites},
      {"--groups", opt.prefs.groups, mutls_config_set_groups},
      {"--sigalgs", opt.prefs.sigalgs, mutls_config_set_signature_schemes},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (steps[i].value && steps[i].set(cfg, steps[i].value) != MUTLS_OK)
      return config_failed(cfg, steps[i].option, why, cap);
  return true;
}

/* A new config from the command line, every file read now, and checked as
 * a connection would check it. NULL with the reason in why; check_label
 * prefixes the reason when only that last check failed. */
static mutls_config *build_config(const char *check_label, char *why, size_t cap) {
  mutls_config *cfg = mutls_config_new();
  if (!cfg) {
    snprintf(why, cap, "out of memory");
    return NULL;
  }
  bool ok = mutls_config_set_identity_files(cfg, opt.cert, opt.key) == MUTLS_OK ||
            config_failed(cfg, "--cert/--key", why, cap);
  ok = ok && apply_client_auth(cfg, why, cap) && apply_tickets(cfg, why, cap) &&
       apply_tls_prefs(cfg, why, cap);
  /* The checks every connection would make: an incomplete config (client
   * CAs but no --client-auth) must not even start listening. */
  if (ok && mutls_config_check(cfg, 1) != MUTLS_OK) ok = config_failed(cfg, check_label, why, cap);
  if (ok) return cfg;
  mutls_config_free(cfg);
  return NULL;
}

/* ---- the config new connections get, and SIGHUP ------------------------------------------- */

/* Only the main thread swaps it and takes references from it today; the
 * lock keeps that safe should another thread ever start connections. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static mutls_config *live_cfg; /* one reference, the server's own */

/* A new reference to the current config, for one connection. */
static mutls_config *live_config_ref(void) {
  pthread_mutex_lock(&live_lock);
  mutls_config *cfg = mutls_config_ref(live_cfg);
  pthread_mutex_unlock(&live_lock);
  return cfg;
}

/* Makes cfg (its reference handed over) the config of new connections and
 * drops the server's reference to the previous one: connections still
 * holding it keep it, and the last of them frees it. NULL at exit. */
static void live_config_set(mutls_config *cfg) {
  pthread_mutex_lock(&live_lock);
  mutls_config *old = live_cfg;
  live_cfg = cfg;
  pthread_mutex_unlock(&live_lock);
  mutls_config_free(old);
}

/* The whole of a small file, NUL-terminated (malloc'ed), or NULL. */
static char *read_small_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(CERT_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, CERT_FILE_MAX + 1, f) : 0;
  bool whole = buf && !ferror(f) && n <= CERT_FILE_MAX;
  fclose(f);
  if (!whole) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* "certificate CN=localhost expires 2027-02-25 06:42:00 UTC, in 89 days,
 * sha256=HEX": the first certificate of --cert, as the new config read it
 * (the file is read once more here: replaced in between, it would be
 * described wrongly, which is why files are replaced by rename). */
static void describe_own_certificate(char *out, size_t cap) {
  char *pem = read_small_file(opt.cert);
  mutls_ca_cert_info *info = NULL;
  size_t n = 0;
  mutls_ca_status st;
  if (!pem || mutls_ca_inspect(pem, 0, &info, &n, &st) != MUTLS_OK || n == 0) {
    snprintf(out, cap, "certificate %s, which could not be read back for this line", opt.cert);
  } else {
    char date[64] = "?";
    time_t t = (time_t)info[0].not_after;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
    long long left = (long long)info[0].not_after - (long long)time(NULL);
    long long days = ((left < 0 ? -left : left) + 43200) / 86400; /* to the nearest day */
    snprintf(out, cap, "certificate %s expire%s %s, %s%lld day%s%s, sha256=%s",
             cli_or_dash(info[0].subject), left < 0 ? "d" : "s", date, left < 0 ? "" : "in ", days,
             days == 1 ? "" : "s", left < 0 ? " ago" : "", info[0].fingerprint);
  }
  mutls_ca_info_free(info, n);
  free(pem);
}

/* SIGHUP: a new config from the same options and files, swapped in only if
 * it is complete; otherwise the current one stays and the log says why. */
static void reload(void) {
  char why[WHY_MAX];
  mutls_config *cfg = build_config("the new configuration is incomplete", why, sizeof why);
  if (!cfg) {
    cli_log("reload failed, keeping the previous configuration: %s", why);
    return;
  }
  live_config_set(cfg);
  char what[WHY_MAX];
  describe_own_certificate(what, sizeof what);
  cli_log("reloaded configuration (%s)", what);
}

static int run(const char *host, const char *port) {
  sigset_t wait_mask;
  listeners ls = {.n = 0};
  if (setup_signals(&wait_mask) != 0) {
    cli_log("cannot set up signal handling: %s", strerror(errno));
    return CLI_EXIT_FAIL;
  }
  if (open_listeners(host, port, &ls) != 0) return CLI_EXIT_FAIL;
  char addr[CLI_ADDR_MAX];
  cli_format_hostport(host, ls.port, addr, sizeof addr);
  printf("listening on %s\n", addr);
  fflush(stdout);
  int status = accept_loop(&ls, &wait_mask);
  close_listeners(&ls);
  return status;
}

int server_main(int argc, char **argv) {
  const char *unused[1];
  size_t n_positionals;
  int status;
  cli_set_name("mutls server");
  if (!cli_parse(&command, argc, argv, unused, &n_positionals, &status)) return status;
  if ((status = check_options()) != CLI_EXIT_OK) return status;
  char host[CLI_HOST_MAX], port[CLI_PORT_MAX], why[CLI_ADDR_MAX + 128];
  if (cli_parse_hostport(opt.listen, true, host, sizeof host, port, sizeof port, why, sizeof why) !=
      0)
    return cli_usage_error(&command, "--listen %s", why);

  char reason[WHY_MAX];
  mutls_config *cfg = build_config("cannot start", reason, sizeof reason);
  if (!cfg) {
    cli_log("%s", reason);
    return CLI_EXIT_FAIL;
  }
  live_config_set(cfg);
  status = run(host, port);
  live_config_set(NULL);
  if (conns_active() > 0) {
    /* Threads are still inside libcrypto: exit's atexit handlers (libcrypto's
     * cleanup among them) would pull it from under them. Leave without them. */
    fflush(stdout);
    fflush(stderr);
    _exit(status);
  }
  reap_threads(); /* every thread has finished: join them all before exit */
  return status;
}
