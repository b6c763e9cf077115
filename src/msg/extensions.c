/* extensions.c - the extension table of RFC 8446 4.2 and the generic
 * extensions-block parser every message uses. */
#include "msg/msg.h"

typedef struct {
  uint16_t type;
  unsigned allowed;
} ext_rule;

/* RFC 8446 4.2: where each extension may appear. */
static const ext_rule rules[] = {
    {EXT_SERVER_NAME, M_CH | M_EE},
    {EXT_MAX_FRAGMENT_LENGTH, M_CH | M_EE},
    {EXT_STATUS_REQUEST, M_CH | M_CR | M_CT},
    {EXT_SUPPORTED_GROUPS, M_CH | M_EE},
    {EXT_SIGNATURE_ALGORITHMS, M_CH | M_CR},
    {EXT_USE_SRTP, M_CH | M_EE},
    {EXT_HEARTBEAT, M_CH | M_EE},
    {EXT_ALPN, M_CH | M_EE},
    {EXT_SCT, M_CH | M_CR | M_CT},
    {EXT_CLIENT_CERT_TYPE, M_CH | M_EE},
    {EXT_SERVER_CERT_TYPE, M_CH | M_EE},
    {EXT_PADDING, M_CH},
    {EXT_PRE_SHARED_KEY, M_CH | M_SH},
    {EXT_EARLY_DATA, M_CH | M_EE | M_NST},
    {EXT_SUPPORTED_VERSIONS, M_CH | M_SH | M_HRR},
    {EXT_COOKIE, M_CH | M_HRR},
    {EXT_PSK_KEY_EXCHANGE_MODES, M_CH},
    {EXT_CERTIFICATE_AUTHORITIES, M_CH | M_CR},
    {EXT_OID_FILTERS, M_CR},
    {EXT_POST_HANDSHAKE_AUTH, M_CH},
    {EXT_SIGNATURE_ALGORITHMS_CERT, M_CH | M_CR},
    {EXT_KEY_SHARE, M_CH | M_SH | M_HRR},
};

int mt_ext_known(uint16_t type) {
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (rules[i].type == type) return (int)i;
  return -1;
}

int mt_exts_parse(mt_reader *r, unsigned msg, mt_exts *out) {
  mt_reader list;
  out->n = 0;
  if (mt_r_block(r, 2, &list) != 0) return ALERT_DECODE_ERROR;
  while (mt_r_left(&list) > 0) {
    uint16_t type;
    mt_reader body;
    if (mt_r_u16(&list, &type) != 0 || mt_r_block(&list, 2, &body) != 0)
      return ALERT_DECODE_ERROR;
    if (out->n == MT_MAX_EXTENSIONS) return ALERT_DECODE_ERROR;
    /* 4.2: "There MUST NOT be more than one extension of the same type". */
    for (size_t i = 0; i < out->n; i++)
      if (out->e[i].type == type) return ALERT_ILLEGAL_PARAMETER;
    /* 4.2: a recognised extension in a message that may not carry it. */
    int k = mt_ext_known(type);
    if (k >= 0 && !(rules[k].allowed & msg)) return ALERT_ILLEGAL_PARAMETER;
    out->e[out->n].type = type;
    out->e[out->n].body = body;
    out->n++;
  }
  return 0;
}

mt_ext *mt_exts_find(mt_exts *x, uint16_t type) {
  for (size_t i = 0; i < x->n; i++)
    if (x->e[i].type == type) return &x->e[i];
  return NULL;
}

int mt_u16_list_check(mt_reader list, int lenbytes) {
  mt_reader l;
  if (mt_r_block(&list, lenbytes, &l) != 0 || mt_r_done(&list) != 0) return -1;
  if (l.len == 0 || l.len % 2) return -1;
  return 0;
}

int mt_u16_list_has(mt_reader list, uint16_t v) {
  uint16_t x;
  while (mt_r_u16(&list, &x) == 0)
    if (x == v) return 1;
  return 0;
}
