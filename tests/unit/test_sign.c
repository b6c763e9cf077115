/* test_sign.c - CertificateVerify signatures (sig.c) through the signing
 * contexts a key prepares when it is loaded: every key type the config
 * accepts, every scheme it can produce, verified by us and by the openssl
 * CLI, and one key shared by several threads signing at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/tu.h"
#include "crypto/crypto.h"

/* What a server's CertificateVerify signs (RFC 8446 4.4.3), with a made-up
 * transcript hash. */
static uint8_t content[64 + 34 + 32];

static void make_content(void) {
  static const char label[] = "TLS 1.3, server CertificateVerify";
  memset(content, 0x20, 64);
  memcpy(content + 64, label, sizeof label);
  for (size_t i = 0; i < 32; i++) content[64 + sizeof label + i] = (uint8_t)(i * 7 + 1);
}

struct leaf {
  const char *name;
  uint16_t schemes[3];
  size_t n;
  const char *dgst; /* openssl dgst option for schemes[0]; NULL: Ed25519 */
};

static const struct leaf leaves[] = {
    {"p256", {MT_SIG_ECDSA_SECP256R1_SHA256}, 1, "-sha256"},
    {"p384", {MT_SIG_ECDSA_SECP384R1_SHA384}, 1, "-sha384"},
    {"rsa",
     {MT_SIG_RSA_PSS_RSAE_SHA256, MT_SIG_RSA_PSS_RSAE_SHA384, MT_SIG_RSA_PSS_RSAE_SHA512},
     3,
     "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256"},
    {"ed25519", {MT_SIG_ED25519}, 1, NULL},
};

static mt_pkey *load_key(const struct leaf *l) {
  char file[64], err[256] = "";
  snprintf(file, sizeof file, "server-%s.key", l->name);
  mt_pkey *k = mt_pkey_load_file(tu_path(file), err, sizeof err);
  if (!k) printf("# %s: %s\n", file, err);
  return k;
}

static mt_chain *load_chain(const struct leaf *l) {
  char file[64], err[256] = "";
  snprintf(file, sizeof file, "server-%s.pem", l->name);
  mt_chain *c = mt_chain_load_file(tu_path(file), err, sizeof err);
  if (!c) printf("# %s: %s\n", file, err);
  return c;
}

/* Signs content with k under scheme and verifies the result with c's leaf. */
static int sign_verifies(mt_pkey *k, const mt_chain *c, uint16_t scheme) {
  uint8_t sig[MT_MAX_SIGNATURE];
  size_t len = sizeof sig;
  return mt_sign(k, scheme, content, sizeof content, sig, &len) == 0 &&
         mt_chain_leaf_verify(c, scheme, content, sizeof content, sig, len) == 0;
}

/* The openssl CLI verifies one of our signatures: the scheme on the wire is
 * the one RFC 8446 4.2.3 names (for ECDSA, over the scheme's hash of the
 * content; for RSA-PSS, salt = hash length; Ed25519 over the content). */
static int openssl_verifies(const struct leaf *l, mt_pkey *k) {
  uint8_t sig[MT_MAX_SIGNATURE];
  size_t len = sizeof sig;
  char msg[256], sigf[256], pub[256], cmd[1200];
  snprintf(msg, sizeof msg, "%s", tu_path("sign-content.bin"));
  snprintf(sigf, sizeof sigf, "%s.%s.sig", tu_path("sign"), l->name);
  snprintf(pub, sizeof pub, "%s.%s.pub", tu_path("sign"), l->name);
  FILE *m = fopen(msg, "wb"), *s = fopen(sigf, "wb");
  int ok = m && s && mt_sign(k, l->schemes[0], content, sizeof content, sig, &len) == 0 &&
           fwrite(content, 1, sizeof content, m) == sizeof content && fwrite(sig, 1, len, s) == len;
  if (m) fclose(m);
  if (s) fclose(s);
  if (!ok) return 0;
  char leaf_file[64];
  snprintf(leaf_file, sizeof leaf_file, "server-%s.pem", l->name);
  if (l->dgst)
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in %s -pubkey -noout > %s && openssl dgst %s -verify %s "
             "-signature %s %s >/dev/null 2>&1",
             tu_path(leaf_file), pub, l->dgst, pub, sigf, msg);
  else
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in %s -pubkey -noout > %s && openssl pkeyutl -verify -pubin -inkey "
             "%s -rawin -in %s -sigfile %s >/dev/null 2>&1",
             tu_path(leaf_file), pub, pub, msg, sigf);
  return system(cmd) == 0;
}

static void every_key_type(void) {
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    const struct leaf *l = &leaves[i];
    mt_pkey *k = load_key(l);
    mt_chain *c = load_chain(l);
    char name[128];
    for (size_t j = 0; j < l->n; j++) {
      int ok = k && c;
      /* Twice: the prepared context is duplicated per use, never used up. */
      for (int rep = 0; rep < 2 && ok; rep++) ok = sign_verifies(k, c, l->schemes[j]);
      snprintf(name, sizeof name, "%s key signs 0x%04x (twice) and the leaf verifies it", l->name,
               l->schemes[j]);
      CHECK(name, ok);
    }
    snprintf(name, sizeof name, "%s: openssl verifies our 0x%04x signature", l->name,
             l->schemes[0]);
    CHECK(name, k && openssl_verifies(l, k));
    mt_pkey_free(k);
    mt_chain_free(c);
  }
}

struct job {
  mt_pkey *k;
  const mt_chain *c;
  const struct leaf *l;
  int ok;
};

static void *signer(void *arg) {
  struct job *j = arg;
  j->ok = 1;
  for (int i = 0; i < 12 && j->ok; i++) j->ok = sign_verifies(j->k, j->c, j->l->schemes[i % j->l->n]);
  return NULL;
}

/* A config is shared by connections on many threads: so is each identity's
 * key and its prepared contexts. */
static void shared_by_threads(void) {
  for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
    const struct leaf *l = &leaves[i];
    mt_pkey *k = load_key(l);
    mt_chain *c = load_chain(l);
    struct job jobs[4];
    pthread_t t[4];
    int started = 0, ok = k && c;
    for (int n = 0; n < 4 && ok; n++) {
      jobs[n] = (struct job){k, c, l, 0};
      if (pthread_create(&t[n], NULL, signer, &jobs[n]) == 0) started++;
    }
    for (int n = 0; n < started; n++) {
      pthread_join(t[n], NULL);
      ok = ok && jobs[n].ok;
    }
    char name[96];
    snprintf(name, sizeof name, "one %s key signing from 4 threads at once", l->name);
    CHECK(name, ok && started == 4);
    mt_pkey_free(k);
    mt_chain_free(c);
  }
}

/* What mt_sign refuses stays refused. */
static void refusals(void) {
  mt_pkey *k = load_key(&leaves[0]);
  uint8_t sig[MT_MAX_SIGNATURE];
  size_t len = sizeof sig, small = 8;
  CHECK("a P-256 key does not sign RSA-PSS",
        k && mt_sign(k, MT_SIG_RSA_PSS_RSAE_SHA256, content, sizeof content, sig, &len) == -2);
  CHECK("a signature that does not fit the buffer fails",
        k && mt_sign(k, MT_SIG_ECDSA_SECP256R1_SHA256, content, sizeof content, sig, &small) == -1);
  len = sizeof sig;
  CHECK("no key, no signature",
        mt_sign(NULL, MT_SIG_ECDSA_SECP256R1_SHA256, content, sizeof content, sig, &len) == -1);
  mt_pkey_free(k);
}

int main(void) {
  if (!tu_certs()) {
    CHECK("test certificates", 0);
    return check_exit();
  }
  make_content();
  every_key_type();
  shared_by_threads();
  refusals();
  return check_exit();
}
