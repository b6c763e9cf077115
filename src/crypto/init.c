/* init.c - fetching algorithm objects once per process; randomness; helpers. */
#include "crypto/internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rand.h>

struct mt_algs mt_algs_;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;

static EVP_MAC_CTX *hmac_template(const char *digest) {
  EVP_MAC_CTX *c = EVP_MAC_CTX_new(mt_algs_.hmac);
  OSSL_PARAM params[2];
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  if (c == NULL || EVP_MAC_CTX_set_params(c, params) != 1) {
    EVP_MAC_CTX_free(c);
    return NULL;
  }
  return c;
}

/* Bumped in a child process right after fork(): a thread's random pool
 * drawn in the parent is never used in a child (nor in two children). */
static unsigned long fork_gen;
static void after_fork_in_child(void) { __atomic_add_fetch(&fork_gen, 1, __ATOMIC_SEQ_CST); }

static void fetch_all(void) {
  struct mt_algs *a = &mt_algs_;
  if (pthread_atfork(NULL, NULL, after_fork_in_child) != 0) return; /* init_result stays -1 */
  a->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  a->sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
  a->sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
  a->aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  a->aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  a->chacha20poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  a->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (a->hmac != NULL) {
    a->hmac_tmpl[MT_SHA256] = hmac_template("SHA2-256");
    a->hmac_tmpl[MT_SHA384] = hmac_template("SHA2-384");
  }
  int ok = a->sha256 && a->sha384 && a->sha512 && a->aes128gcm && a->aes256gcm &&
           a->chacha20poly1305 && a->hmac && a->hmac_tmpl[0] && a->hmac_tmpl[1];
  /* The objects live until exit: libcrypto frees its own stores then, and a
   * half-torn-down process must not see dangling pointers here. */
  if (ok) mt_peer_parse_init();
  ERR_clear_error();
  init_result = ok ? 0 : -1;
}

int mt_crypto_init(void) {
  if (pthread_once(&init_once, fetch_all) != 0) return -1;
  return init_result;
}

const EVP_MD *mt_md_of(mt_hash_alg alg) {
  switch (alg) {
  case MT_SHA256: return mt_algs_.sha256;
  case MT_SHA384: return mt_algs_.sha384;
  }
  return NULL;
}

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static int thread_key_ok;
static __thread struct mt_thread_state *thread_state;

static void thread_state_free(void *p) {
  struct mt_thread_state *t = p;
  for (size_t i = 0; i < 2; i++) EVP_MAC_CTX_free(t->hmac[i]);
  for (size_t i = 0; i < MT_KEX_GROUPS; i++) {
    EVP_PKEY_CTX_free(t->keygen[i]);
    EVP_PKEY_CTX_free(t->peer_import[i]);
  }
  for (size_t i = 0; i < MT_VERIFY_SLOTS; i++) EVP_PKEY_CTX_free(t->verify[i].ctx);
  OPENSSL_cleanse(t, sizeof(*t)); /* the random pool */
  free(t);
}

static void thread_key_init(void) {
  thread_key_ok = pthread_key_create(&thread_key, thread_state_free) == 0;
}

struct mt_thread_state *mt_thread_state(void) {
  if (thread_state != NULL) return thread_state;
  struct mt_thread_state *t;
  if (pthread_once(&thread_key_once, thread_key_init) != 0 || !thread_key_ok ||
      (t = calloc(1, sizeof(*t))) == NULL)
    return NULL;
  /* The key's destructor frees it when the thread exits. */
  if (pthread_setspecific(thread_key, t) != 0) {
    free(t);
    return NULL;
  }
  thread_state = t;
  return t;
}

static int rand_bytes(uint8_t *out, size_t len) {
  while (len > 0) {
    int n = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(out, n) != 1) {
      ERR_clear_error();
      return -1;
    }
    out += n;
    len -= (size_t)n;
  }
  return 0;
}

/* RAND_bytes costs about 2 us on OpenSSL 3.0 whatever the length (its
 * CTR-DRBG re-keys AES at every call), and a handshake asks for 32 bytes
 * (the hello random), a resumption up to 48 (with a ticket's nonce and
 * age_add). So requests of up to MT_RAND_SMALL bytes are served from a
 * per-thread pool that one call fills: every byte is handed out once and
 * wiped from the pool as it goes; a pool from before a fork() is thrown
 * away in the child. Key material (longer requests: ticket keys, ...) is
 * drawn directly. */
#define MT_RAND_SMALL 32

int mt_random(uint8_t *out, size_t len) {
  if (mt_crypto_init() != 0) return -1;
  struct mt_thread_state *t = len <= MT_RAND_SMALL ? mt_thread_state() : NULL;
  if (t == NULL) return rand_bytes(out, len);
  unsigned long gen = __atomic_load_n(&fork_gen, __ATOMIC_SEQ_CST);
  if (t->rand_gen != gen || t->rand_left < len) {
    OPENSSL_cleanse(t->rand_pool, sizeof t->rand_pool);
    t->rand_left = 0;
    if (rand_bytes(t->rand_pool, sizeof t->rand_pool) != 0) return -1;
    t->rand_left = sizeof t->rand_pool;
    t->rand_gen = gen;
  }
  t->rand_left -= len;
  memcpy(out, t->rand_pool + t->rand_left, len);
  OPENSSL_cleanse(t->rand_pool + t->rand_left, len);
  return 0;
}

void mt_errf(char *err, size_t err_len, const char *fmt, ...) {
  if (err == NULL || err_len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/* Key, chain and trust files are small; anything larger is a mistake. */
#define MT_MAX_PEM_FILE (4u << 20)

uint8_t *mt_read_small_file(const char *what, const char *path, size_t *len, char *err,
                            size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    mt_errf(err, err_len, "cannot open %s %s: %s", what, path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    mt_errf(err, err_len, "cannot read %s %s: it is not a regular file", what, path);
    fclose(f);
    return NULL;
  }
  if ((uintmax_t)st.st_size > MT_MAX_PEM_FILE) {
    mt_errf(err, err_len, "%s %s is too large (%jd bytes; the limit is %u)", what, path,
            (intmax_t)st.st_size, MT_MAX_PEM_FILE);
    fclose(f);
    return NULL;
  }
  size_t cap = (size_t)st.st_size + 1;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    mt_errf(err, err_len, "out of memory reading %s %s", what, path);
    fclose(f);
    return NULL;
  }
  size_t n = fread(buf, 1, cap, f);
  int failed = ferror(f);
  fclose(f);
  if (failed || n >= cap) { /* n >= cap: the file grew while we read it */
    mt_errf(err, err_len, "cannot read %s %s: %s", what, path,
            failed ? "read error" : "the file changed while being read");
    OPENSSL_cleanse(buf, cap);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}
