/* test_io.c - the socket helpers over a socketpair: non-blocking descriptors
 * report MUTLS_WANT_READ and make progress when called again; blocking ones
 * complete; close_notify and EOF are told apart. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/check.h"
#include "common/tu.h"

/* A client and a server over a non-blocking socketpair, handshaking by
 * turns; *wants counts the turns that reported MUTLS_WANT_READ. */
typedef struct {
  int sv[2];
  mutls_config *sc, *cc;
  mutls_conn *s, *c;
} nb_pair;

static int nb_handshake(nb_pair *p, int release, int *wants) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv);
  fcntl(p->sv[0], F_SETFL, O_NONBLOCK);
  fcntl(p->sv[1], F_SETFL, O_NONBLOCK);
  p->sc = tu_server_config("p256");
  p->cc = tu_client_config();
  mutls_config_set_release_buffers(p->sc, release);
  mutls_config_set_release_buffers(p->cc, release);
  p->s = mutls_server_new(p->sc);
  p->c = mutls_client_new(p->cc, "localhost");
  mutls_conn_set_fd(p->c, p->sv[0]);
  mutls_conn_set_fd(p->s, p->sv[1]);
  int rc_c = MUTLS_WANT_READ, rc_s = MUTLS_WANT_READ;
  *wants = 0;
  for (int i = 0; i < 100 && (rc_c != MUTLS_OK || rc_s != MUTLS_OK); i++) {
    if (rc_c != MUTLS_OK) rc_c = mutls_handshake(p->c);
    if (rc_s != MUTLS_OK) rc_s = mutls_handshake(p->s);
    *wants += rc_c == MUTLS_WANT_READ || rc_s == MUTLS_WANT_READ;
  }
  return rc_c == MUTLS_OK && rc_s == MUTLS_OK ? 0 : -1;
}

static void nb_free(nb_pair *p) {
  mutls_conn_free(p->c);
  mutls_conn_free(p->s);
  close(p->sv[0]);
  close(p->sv[1]);
  mutls_config_free(p->sc);
  mutls_config_free(p->cc);
}

static void nonblocking(void) {
  nb_pair p;
  int wants;
  CHECK("non-blocking handshake completes", nb_handshake(&p, 0, &wants) == 0);
  CHECK("non-blocking handshake reported WANT_READ", wants > 0);
  mutls_conn *s = p.s, *c = p.c;
  char buf[64];
  CHECK("read with nothing sent: WANT_READ", mutls_read(s, buf, sizeof buf) == MUTLS_WANT_READ);
  CHECK("write", mutls_write(c, "hello", 5) == 5);
  int n = mutls_read(s, buf, sizeof buf);
  CHECK("read what was written", n == 5 && memcmp(buf, "hello", 5) == 0);
  CHECK("shutdown sends close_notify", mutls_shutdown(c) == MUTLS_OK);
  CHECK("peer sees MUTLS_CLOSED", mutls_read(s, buf, sizeof buf) == MUTLS_CLOSED);
  nb_free(&p);
}

/* With buffers released as they go idle, fill() reads each record straight
 * into a buffer made for it: a handshake and 40000 bytes (three records,
 * one partial) over non-blocking sockets. */
static void released_buffers(void) {
  nb_pair p;
  int wants;
  CHECK("released buffers: non-blocking handshake completes", nb_handshake(&p, 1, &wants) == 0);
  static uint8_t out[40000], in[40000];
  for (size_t i = 0; i < sizeof out; i++) out[i] = (uint8_t)(i * 7 + (i >> 9));
  int w = mutls_write(p.c, out, sizeof out);
  size_t got = 0;
  for (int i = 0; i < 1000 && got < sizeof in; i++) {
    int n = mutls_read(p.s, in + got, 1500); /* records read in several pieces */
    if (n > 0) got += (size_t)n;
    else if (n != MUTLS_WANT_READ) break;
  }
  CHECKF("released buffers: 40000 bytes arrive whole",
         w == (int)sizeof out && got == sizeof in && memcmp(in, out, sizeof in) == 0,
         "wrote %d, read %zu: %s", w, got, mutls_conn_explain(p.s));
  nb_free(&p);
}

static void *serve(void *arg) {
  mutls_conn *s = arg;
  char buf[64];
  if (mutls_handshake(s) == MUTLS_OK) {
    int n = mutls_read(s, buf, sizeof buf);
    if (n > 0) mutls_write(s, buf, (size_t)n);
  }
  return NULL;
}

static void blocking_and_eof(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  mutls_config *sc = tu_server_config("ed25519"), *cc = tu_client_config();
  mutls_conn *s = mutls_server_new(sc), *c = mutls_client_new(cc, "localhost");
  mutls_conn_set_fd(c, sv[0]);
  mutls_conn_set_fd(s, sv[1]);
  pthread_t t;
  pthread_create(&t, NULL, serve, s);
  char buf[64];
  CHECK("blocking handshake", mutls_handshake(c) == MUTLS_OK);
  CHECK("blocking echo", mutls_write(c, "abc", 3) == 3 && mutls_read(c, buf, sizeof buf) == 3 &&
                             memcmp(buf, "abc", 3) == 0);
  pthread_join(t, NULL);
  close(sv[1]); /* the server vanishes without close_notify */
  CHECK("EOF without close_notify is an error",
        mutls_read(c, buf, sizeof buf) == MUTLS_ERR && mutls_conn_error(c) == MUTLS_E_EOF);
  mutls_conn_free(c);
  mutls_conn_free(s);
  close(sv[0]);
  mutls_config_free(sc);
  mutls_config_free(cc);
}

static void eof_during_handshake(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  close(sv[1]);
  mutls_config *cc = tu_client_config();
  mutls_conn *c = mutls_client_new(cc, "localhost");
  mutls_conn_set_fd(c, sv[0]);
  CHECK("EOF during the handshake", mutls_handshake(c) == MUTLS_ERR &&
                                        (mutls_conn_error(c) == MUTLS_E_EOF ||
                                         mutls_conn_error(c) == MUTLS_E_IO) &&
                                        strlen(mutls_conn_explain(c)) > 20);
  mutls_conn_free(c);
  close(sv[0]);
  mutls_config_free(cc);
}

/* A close_notify before the handshake ends it: an error, never a spin. */
static void close_during_handshake(void) {
  static const unsigned char close_notify[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  mutls_config *sc = tu_server_config("p256");
  mutls_conn *s = mutls_server_new(sc);
  mutls_conn_set_fd(s, sv[1]);
  if (write(sv[0], close_notify, sizeof close_notify) != (ssize_t)sizeof close_notify) return;
  CHECK("close_notify before the handshake: MUTLS_E_EOF, no spin",
        mutls_handshake(s) == MUTLS_ERR && mutls_conn_error(s) == MUTLS_E_EOF &&
            mutls_handshake(s) == MUTLS_ERR);
  mutls_conn_free(s);
  close(sv[0]);
  close(sv[1]);
  mutls_config_free(sc);
}

int main(void) {
  tu_certs();
  released_buffers();
  close_during_handshake();
  nonblocking();
  blocking_and_eof();
  eof_during_handshake();
  return check_exit();
}
