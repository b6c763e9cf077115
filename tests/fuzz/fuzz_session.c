/* fuzz_session.c - a serialized session given to mutls_conn_set_session
 * (applications keep them in files and shared caches, so they may come back
 * damaged), then the resumption it leads to.
 *
 * A client of scenario 0 takes the blob, sends its ClientHello (with
 * pre_shared_key and binder), and is given, straight to mt_client_handle, a
 * ServerHello that accepts the PSK (the blob's cipher suite, a fixed X25519
 * share), an empty EncryptedExtensions (now the client takes the server's
 * identity from the session's chain) and a correct Finished (the harness's
 * oracle); then a NewSessionTicket, whose session is serialized with
 * mutls_conn_get_session and must be accepted by a fresh client.
 *
 * Input: a flags byte (bit 0: first overwrite the blob's receive time with
 * the current time, so that an old seed is not expired), then the blob
 * (session format 1: version, suite, psk<1>, ticket<2>, lifetime,
 * age_add, received_ms (8 bytes), name<1>, chain<3>). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t server_share[32];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  uint8_t priv[32];
  mt_kex *k = NULL;
  size_t n = sizeof server_share;
  (void)argc;
  (void)argv;
  fz_init();
  for (size_t i = 0; i < 32; i++) priv[i] = (uint8_t)(0x55 + i);
  if (mt_kex_from_private(MT_GROUP_X25519, priv, 32, &k, server_share, &n) != 0) abort();
  mt_kex_free(k);
  return 0;
}

/* Where format 1 keeps received_ms, or 0 if the blob is too short. */
static size_t received_at(const uint8_t *p, size_t n) {
  size_t off = 3;
  if (n < off + 1 || p[0] != 1) return 0;
  off += 1 + p[off];
  if (n < off + 2) return 0;
  off += 2 + ((size_t)p[off] << 8 | p[off + 1]);
  off += 8; /* lifetime, age_add */
  return n >= off + 8 ? off : 0;
}

/* ServerHello accepting PSK 0 with suite, as a handshake message. */
static size_t server_hello(uint16_t suite, uint8_t *m) {
  mt_writer w;
  mt_w_init_fixed(&w, m, 256);
  size_t t = mt_hs_begin(&w, HS_SERVER_HELLO);
  mt_w_u16(&w, TLS12);
  for (int i = 0; i < 32; i++) mt_w_u8(&w, (uint8_t)(0xa0 + i));
  mt_w_u8(&w, 0); /* legacy_session_id_echo */
  mt_w_u16(&w, suite);
  mt_w_u8(&w, 0);
  size_t exts = mt_w_begin(&w, 2);
  mt_w_u16(&w, EXT_SUPPORTED_VERSIONS);
  mt_w_u16(&w, 2);
  mt_w_u16(&w, TLS13);
  mt_w_u16(&w, EXT_KEY_SHARE);
  mt_w_u16(&w, 2 + 2 + 32);
  mt_w_u16(&w, MT_GROUP_X25519);
  mt_w_u16(&w, 32);
  mt_w_bytes(&w, server_share, 32);
  mt_w_u16(&w, EXT_PRE_SHARED_KEY);
  mt_w_u16(&w, 2);
  mt_w_u16(&w, 0);
  mt_w_end(&w, exts, 2);
  mt_hs_end(&w, t);
  return mt_w_failed(&w) ? 0 : w.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t ee_fin[] = {HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0,
                                   FZ_MSG_FINISHED,         0, 0, 0};
  fz_hook h;
  uint8_t sh[256];
  if (size < 1) return 0;
  size_t n = size - 1;
  uint8_t *blob = malloc(n ? n : 1);
  if (!blob) return 0;
  memcpy(blob, data + 1, n);
  size_t at = data[0] & 1 ? received_at(blob, n) : 0;
  if (at) {
    uint64_t now = (uint64_t)mt_now_ms() - 1000;
    for (int i = 0; i < 8; i++) blob[at + (size_t)i] = (uint8_t)(now >> (56 - 8 * i));
  }
  mutls_conn *c = fz_client_new(fz_scenario_at(0), &h, NULL);
  if (mutls_conn_set_session(c, blob, n) == MUTLS_OK) {
    fz_drain(c, NULL);
    size_t sh_len = n >= 3 ? server_hello((uint16_t)(blob[1] << 8 | blob[2]), sh) : 0;
    if (c->state == ST_C_WAIT_SH && sh_len) {
      fz_handle_messages(c, sh, sh_len);
      fz_handle_messages(c, ee_fin, sizeof ee_fin);
      fz_handle_messages(c, fz_nst_msg, fz_nst_msg_len);
    }
    int len = mutls_conn_get_session(c, NULL, 0);
    if (len > 0) {
      /* What get_session writes, set_session must take back. */
      uint8_t *again = malloc((size_t)len);
      fz_hook h2;
      mutls_conn *c2 = fz_client_new(fz_scenario_at(0), &h2, NULL);
      if (!again || mutls_conn_get_session(c, again, (size_t)len) != len ||
          mutls_conn_set_session(c2, again, (size_t)len) != MUTLS_OK) {
        fprintf(stderr, "fuzz_session: a session from get_session was refused\n");
        abort();
      }
      free(again);
      mutls_conn_free(c2);
    }
  }
  free(blob);
  fz_touch(c);
  mutls_conn_free(c);
  return 0;
}
