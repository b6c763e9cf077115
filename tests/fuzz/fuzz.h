/* fuzz.h - what the fuzz targets, the replay driver and the seed generator
 * share: a few fixed scenarios (a client config and a server config that
 * meet in a known way), connections with every random value injected so
 * that a handshake is the same bytes on every run, and helpers that feed
 * bytes or handshake messages to a connection.
 *
 * Determinism is what lets a seed carry a whole encrypted flight: the
 * client's and the server's randoms and key shares are fixed (mt_test_inject)
 * and the certificates are Ed25519, whose signatures are deterministic. So
 * the server flight the generator recorded decrypts and verifies in a fresh
 * client, and a mutation of the plaintext part still reaches the parsers. */
#ifndef MUTLS_FUZZ_H
#define MUTLS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"
#include "msg/msg.h"

/* Peers are verified at this time (2030-01-01), inside the validity of the
 * checked-in certificates (2024-2124). */
#define FZ_VERIFY_TIME ((time_t)1893456000)

/* The PEMs of tests/fuzz/certs/, as C strings (fuzz.mk generates them). */
extern const char fz_ca_pem[], fz_server_pem[], fz_server_key[], fz_client_pem[], fz_client_key[];

typedef struct {
  const char *name;
  const char *server_name; /* for mutls_client_new; NULL with verification off */
  mutls_config *client, *server;
  uint16_t client_group; /* the client's first key share */
  uint16_t hrr_group;    /* the group a HelloRetryRequest asks for, 0 if none */
  uint16_t server_group; /* the group the server settles on */
} fz_scenario;

#define FZ_N_SCENARIOS 6
/* The one scenario whose server flight differs from run to run (it carries
 * real tickets): its generated seeds are not compared by gen_corpus check. */
#define FZ_RANDOM_SCENARIO 5

/* Builds the configs (once; later calls do nothing). Exits on failure. */
void fz_init(void);
/* The checked-in CA as a trust store. */
const mt_trust *fz_trust(void);
/* Scenario i modulo FZ_N_SCENARIOS. */
const fz_scenario *fz_scenario_at(unsigned i);

typedef struct {
  uint8_t *p;
  size_t len, cap;
} fz_buf;
void fz_buf_add(fz_buf *b, const void *p, size_t n);
void fz_buf_free(fz_buf *b);

/* ---- resumption with a ticket of ours (fuzz_ticket) ------------------------ */

/* A scenario outside the numbered table (seeds name those by number):
 * mutual TLS with resumption. The server requires a client certificate
 * from the fuzz CA, allows the URIs under spiffe://mutls.test/, sends one
 * ticket and keeps a verified-chain cache, as servers do by default; the
 * client (for "localhost", verifying) has the client identity. */
const fz_scenario *fz_ticket_scenario(void);
/* Gives that server an empty verified-chain cache and new ticket keys,
 * single-use or not (no connection of it may be alive), so that each input
 * starts from the same state: what one leaves in the cache or in the list
 * of used tickets does not change the next one's path. */
void fz_ticket_server_fresh(int single_use);

/* DER of a checked-in certificate (valid for the whole run). */
typedef enum { FZ_CERT_CA, FZ_CERT_SERVER, FZ_CERT_CLIENT } fz_cert;
const uint8_t *fz_cert_der(fz_cert which, size_t *len);

/* The fields of a ticket's plaintext, as src/ticket.c's ticket_plaintext
 * writes them: version, suite, created (ms, 8 bytes), lifetime (s),
 * age_add, psk<1>, chain<3> (certificates, each <3>). The psk is psk_len
 * bytes of fz_ticket_psk's pattern; chain is the block's body. */
typedef struct {
  uint8_t version;
  uint16_t suite;
  uint64_t created;
  uint32_t lifetime, age_add;
  size_t psk_len;
} fz_ticket_fields;
#define FZ_TICKET_VERSION 1
#define FZ_TICKET_CREATED_AT 3 /* where created and the psk start in a plaintext */
#define FZ_TICKET_PSK_AT 19
void fz_ticket_plaintext(fz_buf *out, const fz_ticket_fields *f, const uint8_t *chain,
                         size_t chain_len);
/* The ticket fuzz_ticket must resume, with the checked-in client
 * certificate as its chain (created: 0, for the harness to fill in). */
extern const fz_ticket_fields fz_ticket_canonical;
/* Appends one certificate (u24 length, then der) to a chain body. */
void fz_chain_add(fz_buf *chain, const uint8_t *der, size_t len);
/* The harness's known PSK: byte i of any length is fz_ticket_psk(i). */
uint8_t fz_ticket_psk(size_t i);

/* Runs the client c against the server s in memory (c speaks first) until
 * neither has anything more to say. */
void fz_converse(mutls_conn *c, mutls_conn *s);

/* The injection hook of one connection: it must outlive the connection.
 * capture (optional) receives every handshake message the connection
 * sends through mt_send_handshake, as sent. */
typedef struct {
  mutls_conn *c;
  const fz_scenario *s;
  fz_buf *capture;
} fz_hook;

/* New connections for scenario s with fixed randoms and key shares. Exit on
 * allocation failure. */
mutls_conn *fz_client_new(const fz_scenario *s, fz_hook *h, fz_buf *capture);
mutls_conn *fz_server_new(const fz_scenario *s, fz_hook *h, fz_buf *capture);

/* Takes all pending ciphertext (in pieces of varying size); appends it to
 * out if out is not NULL. Returns the number of bytes taken. */
size_t fz_drain(mutls_conn *c, fz_buf *out);

/* Feeds p to c in chunks: sizes chunks[0] + 1, chunks[1] + 1, ... cycling
 * (everything at once if n_chunks is 0). Each chunk is an exact-size heap
 * copy, so that ASan sees any read past it. Reads the application data that
 * blocks the input, and drains c's output after each chunk (into out if
 * not NULL). Returns 0 if all of p was taken, -1 if c stopped taking it. */
int fz_feed(mutls_conn *c, const uint8_t *p, size_t len, const uint8_t *chunks,
            size_t n_chunks, fz_buf *out);

/* Feeds whole records of stream p to c, one at a time, while stay(c) holds.
 * Returns how many bytes were fed. */
size_t fz_feed_records_while(mutls_conn *c, const uint8_t *p, size_t len,
                             int (*stay)(const mutls_conn *c));

/* Gives the state machine the handshake messages in p directly, as the
 * record layer would after decryption: each is type (1 byte), length (3
 * bytes, clamped to what is left) and body, in its own exact-size heap
 * copy. Post-handshake messages go to mt_post_handshake. Stops at the first
 * failure.
 *
 * Two types are not TLS's: the harness replaces them (whatever their body)
 * with the message the peer would send at that point, so that a mutated
 * EncryptedExtensions or CertificateRequest still reaches Finished and
 * what follows:
 *   FZ_MSG_FINISHED     a Finished with the right verify_data;
 *   FZ_MSG_CERT_VERIFY  an ed25519 CertificateVerify over the transcript,
 *                       signed with the checked-in key of the peer's role. */
#define FZ_MSG_FINISHED 0xf0
#define FZ_MSG_CERT_VERIFY 0xf1
void fz_handle_messages(mutls_conn *c, const uint8_t *p, size_t len);

/* Calls every getter (and, once connected, the exporter, a write and a
 * close) so that what a failure left behind is read at least once. With
 * FUZZ_VERBOSE set in the environment, first says on stderr where the
 * connection ended, and its notice if it has one (to check that seeds go
 * where they should). */
void fz_touch(mutls_conn *c);

/* An honest handshake for scenario s, then application data both ways, a
 * NewSessionTicket, a KeyUpdate from each side (each asking for the
 * other's) and close_notify both ways. Appends to each buffer that is not
 * NULL: the bytes each side sent, and each side's handshake messages
 * (those sent after the handshake included), and the client's last session
 * (mutls_conn_get_session). Returns 0 if both sides
 * completed and closed cleanly; otherwise prints why on stderr. */
int fz_honest(const fz_scenario *s, fz_buf *c2s, fz_buf *s2c, fz_buf *c_msgs, fz_buf *s_msgs,
              fz_buf *session);

/* The input of the *_recv targets: a header byte (bits 0-2: scenario,
 * modulo FZ_N_SCENARIOS; bits 3-5: how many chunk-size bytes follow), the
 * chunk sizes (see fz_feed), then the peer's bytes. */
typedef struct {
  const fz_scenario *s;
  const uint8_t *chunks;
  size_t n_chunks;
  const uint8_t *data;
  size_t len;
} fz_recv_input;
/* Returns -1 if p is too short to hold its own header. */
int fz_recv_input_parse(const uint8_t *p, size_t n, fz_recv_input *in);
#define FZ_RECV_HEADER(scenario, n_chunks) ((uint8_t)((scenario) | ((n_chunks) << 3)))

/* The post-handshake messages fz_honest sends. */
extern const uint8_t fz_nst_msg[], fz_key_update_msg[];
extern const size_t fz_nst_msg_len, fz_key_update_msg_len;

#endif
