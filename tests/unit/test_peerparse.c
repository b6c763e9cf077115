/* test_peerparse.c - peers' certificates parsed in mutls's own library
 * context (crypto/peerparse.c) give what plain d2i_X509 gives: the same
 * verdict from path validation for good, untrusted, expired, misnamed and
 * damaged chains; the same key, which checks CertificateVerify signatures
 * and refuses damaged ones; and a certificate whose key type that context
 * does not carry (DSA) still parses and verifies, the plain way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "crypto/crypto.h"

static const char *const mode_name[2] = {"fast", "plain"};

/* The chain in file, parsed again from its DER as a peer's would be, in
 * the current mode. */
static mt_chain *as_peer(const char *file, int damage_leaf_signature) {
  char err[256] = "";
  mt_chain *loaded = mt_chain_load_file(tu_path(file), err, sizeof err);
  if (!loaded) {
    printf("# %s: %s\n", file, err);
    return NULL;
  }
  size_t n = mt_chain_count(loaded), len[8];
  uint8_t *copy[8] = {0};
  const uint8_t *der[8];
  for (size_t i = 0; i < n && i < 8; i++) {
    const uint8_t *d = mt_chain_der(loaded, i, &len[i]);
    copy[i] = malloc(len[i]);
    if (copy[i]) memcpy(copy[i], d, len[i]);
    der[i] = copy[i];
  }
  /* The last byte of a certificate is the last byte of its signature. */
  if (damage_leaf_signature && copy[0]) copy[0][len[0] - 1] ^= 0x01;
  mt_chain *c = n <= 8 ? mt_chain_from_der(der, len, n, err, sizeof err) : NULL;
  if (!c) printf("# %s as a peer's: %s\n", file, err);
  for (size_t i = 0; i < n && i < 8; i++) free(copy[i]);
  mt_chain_free(loaded);
  return c;
}

static mt_verify_code verdict(const char *trust_file, const char *file, const char *name,
                              int damage) {
  char err[256] = "", why[256] = "";
  mt_trust *t = mt_trust_load_file(tu_path(trust_file), err, sizeof err);
  mt_chain *c = as_peer(file, damage);
  mt_verify_code v = t && c ? mt_verify_chain(t, c, MT_PURPOSE_SERVER, name, 0, why, sizeof why)
                            : (mt_verify_code)-1;
  mt_chain_free(c);
  mt_trust_free(t);
  return v;
}

static void start_up_test_passed(void) {
  CHECK("peers' certificates are parsed in mutls's own context on this libcrypto",
        mt_peer_parse_fast() == 1);
}

static void same_verdicts(void) {
  static const struct {
    const char *what, *trust, *file, *name;
    int damage;
    mt_verify_code want;
  } cases[] = {
      {"P-256 leaf", "ca.pem", "server-p256.pem", "localhost", 0, MT_VERIFY_OK},
      {"P-384 leaf", "ca.pem", "server-p384.pem", "localhost", 0, MT_VERIFY_OK},
      {"RSA leaf", "ca.pem", "server-rsa.pem", "localhost", 0, MT_VERIFY_OK},
      {"Ed25519 leaf", "ca.pem", "server-ed25519.pem", "localhost", 0, MT_VERIFY_OK},
      {"leaf and intermediate", "ca.pem", "server-chain.pem", "localhost", 0, MT_VERIFY_OK},
      {"another CA's leaf", "ca.pem", "server-other.pem", "localhost", 0, MT_VERIFY_UNTRUSTED},
      {"expired leaf", "ca.pem", "server-expired.pem", "localhost", 0, MT_VERIFY_EXPIRED},
      {"leaf for another name", "ca.pem", "server-wrong.pem", "localhost", 0,
       MT_VERIFY_NAME_MISMATCH},
      {"damaged leaf signature", "ca.pem", "server-p256.pem", "localhost", 1,
       MT_VERIFY_BAD_SIGNATURE},
      {"damaged RSA leaf signature", "ca.pem", "server-rsa.pem", "localhost", 1,
       MT_VERIFY_BAD_SIGNATURE},
      {"damaged leaf under an intermediate", "ca.pem", "server-chain.pem", "localhost", 1,
       MT_VERIFY_BAD_SIGNATURE},
  };
  for (int mode = 0; mode < 2; mode++) {
    mt_peer_parse_test_plain(mode);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char name[160];
      snprintf(name, sizeof name, "%s (%s): verdict %d", cases[i].what, mode_name[mode],
               (int)cases[i].want);
      mt_verify_code v = verdict(cases[i].trust, cases[i].file, cases[i].name, cases[i].damage);
      CHECKF(name, v == cases[i].want, "got %d", (int)v);
    }
  }
  mt_peer_parse_test_plain(0);
}

/* A server's CertificateVerify content, transcript hash made up. */
static void make_content(uint8_t *content, size_t len) {
  memset(content, 0x20, 64);
  memcpy(content + 64, "TLS 1.3, server CertificateVerify", 34);
  for (size_t i = 98; i < len; i++) content[i] = (uint8_t)(i * 13 + 5);
}

static void same_keys(void) {
  static const struct {
    const char *leaf;
    uint16_t scheme;
  } keys[] = {
      {"p256", MT_SIG_ECDSA_SECP256R1_SHA256},
      {"p384", MT_SIG_ECDSA_SECP384R1_SHA384},
      {"rsa", MT_SIG_RSA_PSS_RSAE_SHA256},
      {"ed25519", MT_SIG_ED25519},
  };
  uint8_t content[64 + 34 + 32];
  make_content(content, sizeof content);
  for (int mode = 0; mode < 2; mode++) {
    mt_peer_parse_test_plain(mode);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      char pem[64], key[64], name[160], err[256] = "";
      snprintf(pem, sizeof pem, "server-%s.pem", keys[i].leaf);
      snprintf(key, sizeof key, "server-%s.key", keys[i].leaf);
      mt_pkey *k = mt_pkey_load_file(tu_path(key), err, sizeof err);
      mt_chain *c = as_peer(pem, 0);
      uint8_t sig[MT_MAX_SIGNATURE];
      size_t len = sizeof sig;
      int signed_ok = k && mt_sign(k, keys[i].scheme, content, sizeof content, sig, &len) == 0;
      snprintf(name, sizeof name, "%s leaf (%s) checks a CertificateVerify and matches its key",
               keys[i].leaf, mode_name[mode]);
      CHECK(name, signed_ok && c && mt_chain_leaf_supports(c, keys[i].scheme) &&
                      mt_chain_leaf_verify(c, keys[i].scheme, content, sizeof content, sig,
                                           len) == 0 &&
                      mt_chain_matches_key(c, k));
      if (signed_ok) sig[len / 2] ^= 0x10;
      snprintf(name, sizeof name, "%s leaf (%s) refuses a damaged signature", keys[i].leaf,
               mode_name[mode]);
      CHECK(name, signed_ok && c &&
                      mt_chain_leaf_verify(c, keys[i].scheme, content, sizeof content, sig,
                                           len) == -1);
      mt_chain_free(c);
      mt_pkey_free(k);
    }
  }
  mt_peer_parse_test_plain(0);
}

/* DSA is not among the key types of mutls's context: such a certificate
 * is parsed again the plain way, and verifies exactly as it would there. */
static void key_type_it_lacks(void) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd %s && openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 "
           "-out dsa-params.pem 2>/dev/null && openssl genpkey -paramfile dsa-params.pem "
           "-out dsa.key 2>/dev/null && openssl req -new -x509 -key dsa.key -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost -days 2 -sha256 -out dsa.pem 2>/dev/null",
           tu_certs());
  int made = system(cmd) == 0;
  CHECK("a self-signed DSA certificate is made", made);
  if (!made) return;
  mt_verify_code got[2];
  for (int mode = 0; mode < 2; mode++) {
    mt_peer_parse_test_plain(mode);
    got[mode] = verdict("dsa.pem", "dsa.pem", "localhost", 0);
  }
  mt_peer_parse_test_plain(0);
  CHECKF("a DSA certificate verifies against itself as trust, both ways", got[0] == MT_VERIFY_OK &&
         got[1] == MT_VERIFY_OK, "fast %d, plain %d", (int)got[0], (int)got[1]);
}

int main(void) {
  if (!tu_certs()) {
    CHECK("test certificates", 0);
    return check_exit();
  }
  start_up_test_passed();
  same_verdicts();
  same_keys();
  key_type_it_lacks();
  return check_exit();
}
