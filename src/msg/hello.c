/* hello.c - ClientHello (4.1.2), ServerHello and HelloRetryRequest (4.1.3). */
#include "msg/msg.h"

/* SHA-256 of "HelloRetryRequest" (4.1.3). */
const uint8_t mt_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

int mt_client_hello_decode(const uint8_t *body, size_t len, mt_client_hello *ch) {
  mt_reader r = mt_reader_init(body, len), sid;
  if (mt_r_u16(&r, &ch->legacy_version) != 0 || mt_r_bytes(&r, 32, &ch->random) != 0 ||
      mt_r_block(&r, 1, &sid) != 0 || sid.len > 32 || mt_r_block(&r, 2, &ch->suites) != 0 ||
      mt_r_block(&r, 1, &ch->compression) != 0)
    return ALERT_DECODE_ERROR;
  ch->session_id = sid.p;
  ch->session_id_len = sid.len;
  if (ch->suites.len == 0 || ch->suites.len % 2 || ch->compression.len == 0)
    return ALERT_DECODE_ERROR;
  if (mt_r_left(&r) == 0) {
    /* No extensions at all: a TLS 1.2-or-older hello (4.1.2). */
    ch->exts.n = 0;
    return 0;
  }
  int alert = mt_exts_parse(&r, M_CH, &ch->exts);
  if (alert) return alert;
  if (mt_r_done(&r) != 0) return ALERT_DECODE_ERROR;
  /* 4.2.11: pre_shared_key MUST be the last extension in the ClientHello. */
  for (size_t i = 0; i + 1 < ch->exts.n; i++)
    if (ch->exts.e[i].type == EXT_PRE_SHARED_KEY) return ALERT_ILLEGAL_PARAMETER;
  return 0;
}

int mt_server_hello_decode(const uint8_t *body, size_t len, mt_server_hello *sh) {
  mt_reader r = mt_reader_init(body, len), sid;
  if (mt_r_u16(&r, &sh->legacy_version) != 0 || mt_r_bytes(&r, 32, &sh->random) != 0 ||
      mt_r_block(&r, 1, &sid) != 0 || sid.len > 32 || mt_r_u16(&r, &sh->suite) != 0 ||
      mt_r_u8(&r, &sh->compression) != 0)
    return ALERT_DECODE_ERROR;
  sh->session_id = sid.p;
  sh->session_id_len = sid.len;
  sh->is_hrr = 1;
  for (int i = 0; i < 32; i++)
    if (sh->random[i] != mt_hrr_random[i]) sh->is_hrr = 0;
  if (mt_r_left(&r) == 0) {
    sh->exts.n = 0; /* a TLS 1.2 ServerHello may omit extensions */
    return 0;
  }
  int alert = mt_exts_parse(&r, sh->is_hrr ? M_HRR : M_SH, &sh->exts);
  if (alert) return alert;
  return mt_r_done(&r) == 0 ? 0 : ALERT_DECODE_ERROR;
}
