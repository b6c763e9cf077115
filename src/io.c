/* io.c - socket helpers on top of the sans-I/O core: blocking and
 * non-blocking descriptors, want-read / want-write results. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

int mutls_conn_set_fd(mutls_conn *c, int fd) {
  if (!c) return MUTLS_ERR;
  c->fd = fd;
  return MUTLS_OK;
}

static int io_fail(mutls_conn *c, mutls_error code, const char *what) {
  mt_fail(c, code, -1, "%s", what);
  return MUTLS_ERR;
}

static int nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & O_NONBLOCK);
}

/* EAGAIN on a blocking descriptor means its SO_RCVTIMEO / SO_SNDTIMEO
 * passed: a timeout, not a want. */
static int would_block(mutls_conn *c, int want) {
  char msg[160];
  if (nonblocking(c->fd)) return want;
  snprintf(msg, sizeof msg, "the peer %s nothing before the socket's %s timeout passed",
           want == MUTLS_WANT_READ ? "sent" : "accepted",
           want == MUTLS_WANT_READ ? "receive" : "send");
  return io_fail(c, MUTLS_E_TIMEOUT, msg);
}

int mutls_flush(mutls_conn *c) {
  if (!c) return MUTLS_ERR;
  if (c->fd < 0) return io_fail(c, MUTLS_E_STATE, "no descriptor set (mutls_conn_set_fd)");
  if (c->state == ST_START && !c->is_server) (void)mutls_conn_pending(c);
  while (c->out_off < c->out.len) {
    ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return would_block(c, MUTLS_WANT_WRITE);
    if (n < 0) {
      char msg[160];
      snprintf(msg, sizeof msg, "writing to the socket failed: %s", strerror(errno));
      c->out.len = c->out_off = 0;
      return c->state == ST_FAILED ? MUTLS_ERR : io_fail(c, MUTLS_E_IO, msg);
    }
    c->out_off += (size_t)n;
  }
  c->out.len = c->out_off = 0;
  if (c->release_auto) mt_w_drop(&c->out);
  return MUTLS_OK;
}

/* Reads at most what the record layer wants, straight into its buffer, and
 * processes it. */
static int fill(mutls_conn *c) {
  size_t want;
  uint8_t *room = mt_record_room(c, &want);
  if (c->state == ST_FAILED) return MUTLS_ERR;
  if (c->got_close) return MUTLS_CLOSED;
  if (!room) return MUTLS_OK; /* application data waits to be read */
  ssize_t n;
  do {
    n = recv(c->fd, room, want, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return would_block(c, MUTLS_WANT_READ);
  if (n < 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "reading from the socket failed: %s", strerror(errno));
    return io_fail(c, MUTLS_E_IO, msg);
  }
  if (n == 0)
    return io_fail(c, MUTLS_E_EOF,
                   c->state == ST_CONNECTED
                       ? "the peer closed the connection without close_notify"
                       : "the peer closed the connection during the handshake without an "
                         "alert (it may not speak TLS 1.3, or it refused us silently)");
  mt_record_filled(c, (size_t)n);
  size_t used;
  return mt_record_recv(c, NULL, 0, &used) == 0 ? MUTLS_OK : MUTLS_ERR;
}

/* Sends what is queued; after a failure, sends the alert and reports it. */
static int flush_then(mutls_conn *c, int rc) {
  if (c->state == ST_FAILED) {
    if (c->fd >= 0 && c->out_off < c->out.len) (void)mutls_flush(c);
    return MUTLS_ERR;
  }
  return rc;
}

/* Confirmation (mutls_config_set_confirm): 1 when there is input to read
 * before the deadline; 0 once the wait is given up. */
static int confirm_wait(mutls_conn *c) {
  for (;;) {
    int64_t left = c->confirm_deadline - mt_now_ms();
    if (left <= 0) break;
    if (nonblocking(c->fd)) return 1; /* the caller polls; we check the clock on return */
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, (int)left);
    if (r > 0) return 1;
    if (r == 0 || errno != EINTR) break;
  }
  mutls_conn_skip_confirm(c);
  return 0;
}

int mutls_handshake(mutls_conn *c) {
  if (!c) return MUTLS_ERR;
  for (;;) {
    if (c->state == ST_FAILED) return flush_then(c, MUTLS_ERR);
    int rc = mutls_flush(c);
    if (rc != MUTLS_OK) return flush_then(c, rc);
    if (c->state == ST_CONNECTED) return MUTLS_OK;
    if (c->state == ST_C_WAIT_CONFIRM && !confirm_wait(c)) continue;
    rc = fill(c);
    if (rc != MUTLS_OK) return flush_then(c, rc);
  }
}

int mutls_read(mutls_conn *c, void *buf, size_t len) {
  if (!c || (!buf && len)) return MUTLS_ERR; /* see mutls_conn_read */
  if (c->state != ST_CONNECTED && c->state != ST_FAILED) {
    int rc = mutls_handshake(c);
    if (rc != MUTLS_OK) return rc;
  }
  for (;;) {
    int n = mutls_conn_read(c, buf, len);
    if (n != MUTLS_WANT_READ) return n;
    /* A KeyUpdate answer may be waiting. */
    int rc = mutls_flush(c);
    if (rc != MUTLS_OK && rc != MUTLS_WANT_WRITE) return flush_then(c, rc);
    rc = fill(c);
    if (rc != MUTLS_OK) return flush_then(c, rc);
  }
}

/* Writes all of buf on a blocking descriptor; on a non-blocking one as much
 * as the socket takes (a count), or MUTLS_WANT_WRITE if nothing. */
int mutls_write(mutls_conn *c, const void *buf, size_t len) {
  if (!c || (!buf && len)) return MUTLS_ERR; /* see mutls_conn_write */
  if (c->state != ST_CONNECTED && c->state != ST_FAILED) {
    int rc = mutls_handshake(c);
    if (rc != MUTLS_OK) return rc;
  }
  if (len > INT32_MAX) len = INT32_MAX;
  size_t done = 0;
  do {
    int rc = mutls_flush(c);
    if (rc == MUTLS_WANT_WRITE) return done ? (int)done : rc;
    if (rc != MUTLS_OK) return flush_then(c, rc);
    int n = mutls_conn_write(c, (const uint8_t *)buf + done, len - done);
    if (n == MUTLS_WANT_WRITE) continue; /* flush, then try again */
    if (n < 0) return flush_then(c, n);
    done += (size_t)n;
  } while (done < len);
  int rc = mutls_flush(c);
  if (rc != MUTLS_OK && rc != MUTLS_WANT_WRITE) return flush_then(c, rc);
  return (int)done;
}

int mutls_shutdown(mutls_conn *c) {
  if (mutls_conn_close(c) != MUTLS_OK) return MUTLS_ERR; /* also for a NULL c */
  return mutls_flush(c);
}
