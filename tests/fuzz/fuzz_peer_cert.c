/* fuzz_peer_cert.c - what mutls does with the certificates a peer sends,
 * once the Certificate message is framed: build the chain from DER, verify
 * it (path, validity at a fixed time, purpose, name), extract the identity
 * (subject, issuer, SANs, SPIFFE ID, fingerprints, validity) and match it
 * against allow rules of every kind. Behind the handshake this code only
 * sees certificates whose signatures check out; here it sees any DER.
 *
 * Input: a selector byte (bits 0-1: the expected name: "localhost",
 * "127.0.0.1", "::1" or none; bit 2: verify for client rather than server
 * use), then a certificate_list as in a Certificate message: entries of
 * u24 length + DER + u16 length + extensions (lengths clamped to what is
 * left; the extensions are skipped), at most MT_MAX_CHAIN. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mt_policy policy;
static volatile size_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  static const char *rules[] = {
      "uri:spiffe://mutls.test/*", "uri:spiffe://other.test/api", "dns:*.example.org",
      "dns:localhost", "cn:mutls fuzz client", "ou:fuzzers",
      "pin:0000000000000000000000000000000000000000000000000000000000000000",
      "spki:1111111111111111111111111111111111111111111111111111111111111111"};
  char why[300];
  (void)argc;
  (void)argv;
  fz_init();
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (mt_policy_add(&policy, rules[i], why, sizeof why) != 0) abort();
  return 0;
}

static void touch(const char *s) {
  if (s) sink += strlen(s);
}

static void identity(mt_chain *chain) {
  char why[1600], pem[8192];
  static const uint16_t schemes[] = {MT_SIG_ECDSA_SECP256R1_SHA256, MT_SIG_ECDSA_SECP384R1_SHA384,
                                     MT_SIG_RSA_PSS_RSAE_SHA256, MT_SIG_ED25519, 0x0401};
  static const uint8_t sig[64] = {1};
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    sink += (size_t)mt_chain_leaf_supports(chain, schemes[i]);
    sink += (size_t)mt_chain_leaf_verify(chain, schemes[i], (const uint8_t *)"msg", 3, sig,
                                         sizeof sig);
  }
  mutls_peer *p = mt_peer_new(chain); /* owns chain from here */
  if (!p) return;
  size_t len;
  for (size_t i = 0; i < mutls_peer_chain_length(p); i++)
    if (mutls_peer_cert_der(p, i, &len)) sink += len;
  if (mutls_peer_cert_pem(p, 0, pem, sizeof pem) > 0) touch(pem);
  touch(mutls_peer_subject(p));
  touch(mutls_peer_issuer(p));
  touch(mutls_peer_sans(p));
  touch(mutls_peer_spiffe_id(p));
  touch(mutls_peer_fingerprint(p));
  touch(mutls_peer_spki_fingerprint(p));
  touch(mutls_peer_not_after_text(p));
  sink += (size_t)(mutls_peer_not_before(p) ^ mutls_peer_not_after(p));
  for (int t = MUTLS_SAN_DNS; t <= MUTLS_SAN_EMAIL; t++)
    for (size_t i = 0; i < mutls_peer_san_count(p, (mutls_san_type)t); i++)
      touch(mutls_peer_san(p, (mutls_san_type)t, i));
  mt_peer_describe(p, why, sizeof why);
  touch(why);
  sink += (size_t)mt_policy_allows(&policy, p, why, sizeof why);
  touch(why);
  mt_peer_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *names[] = {"localhost", "127.0.0.1", "::1", NULL};
  const uint8_t *der[MT_MAX_CHAIN];
  uint8_t *copy[MT_MAX_CHAIN];
  size_t der_len[MT_MAX_CHAIN], n = 0;
  char why[512];
  if (size < 1) return 0;
  const char *name = names[data[0] & 3];
  mt_purpose purpose = data[0] & 4 ? MT_PURPOSE_CLIENT : MT_PURPOSE_SERVER;
  mt_reader r = mt_reader_init(data + 1, size - 1);
  while (n < MT_MAX_CHAIN && mt_r_left(&r) >= 3) {
    uint32_t l;
    uint16_t e;
    const uint8_t *p;
    if (mt_r_u24(&r, &l) != 0) break;
    if (l > mt_r_left(&r)) l = (uint32_t)mt_r_left(&r);
    if (mt_r_bytes(&r, l, &p) != 0) break;
    /* Each certificate in its own exact-size buffer, for ASan. */
    if (!(copy[n] = malloc(l ? l : 1))) break;
    memcpy(copy[n], p, l);
    der[n] = copy[n];
    der_len[n++] = l;
    if (mt_r_u16(&r, &e) != 0) break;
    if (e > mt_r_left(&r)) e = (uint16_t)mt_r_left(&r);
    if (mt_r_bytes(&r, e, &p) != 0) break;
  }
  if (n > 0) {
    mt_chain *chain = mt_chain_from_der(der, der_len, n, why, sizeof why);
    touch(why);
    if (chain) {
      sink += (size_t)mt_verify_chain(fz_trust(), chain, purpose, name, FZ_VERIFY_TIME, why,
                                      sizeof why);
      touch(why);
      identity(chain);
    }
  }
  for (size_t i = 0; i < n; i++) free(copy[i]);
  return 0;
}
