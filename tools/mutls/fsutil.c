/*
 * fsutil.c - reading small files, and all-or-nothing writes of several
 * files through temporary files and rename (see fsutil.h).
 */
#include "fsutil.h"

#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading ------------------------------------------------------------------ */

int fs_read_text(const char *path, size_t max, char **out, size_t *len, char *why, size_t cap) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(why, cap, "cannot read %s: %s", path,
             S_ISDIR(sb.st_mode) ? "it is a directory" : "it is not a regular file");
    close(fd);
    return -1;
  }
  if ((size_t)sb.st_size > max) {
    snprintf(why, cap, "%s is %lld bytes, more than the %zu a file of this kind can hold", path,
             (long long)sb.st_size, max);
    close(fd);
    return -1;
  }
  /* The size may change while we read: read up to max + 1 bytes, whatever
   * fstat said, and refuse more than max. */
  char *buf = malloc(max + 2);
  size_t n = 0;
  while (buf != NULL && n <= max) {
    ssize_t r = read(fd, buf + n, max + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
      free(buf);
      close(fd);
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (buf == NULL) {
    snprintf(why, cap, "cannot read %s: out of memory", path);
    return -1;
  }
  if (n > max) {
    snprintf(why, cap, "%s grew past %zu bytes while being read", path, max);
    fs_free_secret(buf);
    return -1;
  }
  buf[n] = '\0';
  if (memchr(buf, '\0', n) != NULL) {
    snprintf(why, cap, "%s holds NUL bytes: it is not a PEM file (DER or binary?)", path);
    fs_free_secret(buf);
    return -1;
  }
  *out = buf;
  if (len != NULL) *len = n;
  return 0;
}

void fs_free_secret(char *text) {
  if (text == NULL) return;
  explicit_bzero(text, strlen(text));
  free(text);
}

bool fs_exists(const char *path) {
  struct stat sb;
  return lstat(path, &sb) == 0;
}

/* ---- transactions ------------------------------------------------------------------ */

typedef struct fs_entry {
  char *final;  /* where the file goes */
  char *temp;   /* where it is staged; NULL once renamed */
  char *backup; /* a hard link to the file final replaced, NULL if none */
  bool renamed;
} fs_entry;

struct fs_txn {
  fs_entry *e;
  size_t n;
  char **dirs; /* directories created here, in order */
  size_t n_dirs;
  bool committed;
};

fs_txn *fs_txn_new(void) {
  return calloc(1, sizeof(fs_txn));
}

/* The directory part of path ("." for a bare name) and its last component. */
static void split_path(const char *path, char *dir, size_t dir_cap, const char **base) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, dir_cap, ".");
    *base = path;
  } else if (slash == path) {
    snprintf(dir, dir_cap, "/");
    *base = slash + 1;
  } else {
    snprintf(dir, dir_cap, "%.*s", (int)(slash - path), path);
    *base = slash + 1;
  }
}

static mode_t current_umask(void) {
  mode_t m = umask(022);
  umask(m);
  return m;
}

int fs_txn_mkdir(fs_txn *t, const char *path, mode_t mode, char *why, size_t cap) {
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return 0;
  char **dirs = realloc(t->dirs, (t->n_dirs + 1) * sizeof(*dirs));
  if (dirs == NULL) {
    snprintf(why, cap, "out of memory");
    return -1;
  }
  t->dirs = dirs;
  if (mkdir(path, mode) != 0) {
    snprintf(why, cap, "cannot create the directory %s: %s", path, strerror(errno));
    return -1;
  }
  if ((t->dirs[t->n_dirs] = strdup(path)) == NULL) {
    rmdir(path);
    snprintf(why, cap, "out of memory");
    return -1;
  }
  t->n_dirs++;
  return 0;
}

int fs_txn_stage(fs_txn *t, const char *path, const void *data, size_t len, mode_t mode, char *why,
                 size_t cap) {
  char dir[4096];
  const char *base;
  split_path(path, dir, sizeof dir, &base);
  fs_entry *e = realloc(t->e, (t->n + 1) * sizeof(*e));
  if (e == NULL) {
    snprintf(why, cap, "out of memory");
    return -1;
  }
  t->e = e;
  e = &t->e[t->n];
  memset(e, 0, sizeof *e);
  /* ".NAME.tmp.XXXXXX" beside the final name: the same file system, so the
   * rename is atomic; hidden, and named after what it will be. */
  size_t tlen = strlen(dir) + strlen(base) + 32;
  e->temp = malloc(tlen);
  e->final = strdup(path);
  if (e->temp == NULL || e->final == NULL) {
    free(e->temp);
    free(e->final);
    snprintf(why, cap, "out of memory");
    return -1;
  }
  snprintf(e->temp, tlen, "%s/.%.200s.tmp.XXXXXX", dir, base);
  /* mkostemp creates the file with mode 0600 (O_EXCL): a key staged here is
   * never readable by anyone else, not even before fchmod. */
  int fd = mkostemp(e->temp, O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
    free(e->temp);
    free(e->final);
    return -1;
  }
  t->n++; /* from here on, fs_txn_free removes the temporary file */
  mode_t want = mode & ~current_umask() & 0777;
  if ((want != 0600 && fchmod(fd, want) != 0) || cli_write_fd(fd, data, len) != 0 || fsync(fd) != 0) {
    snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (close(fd) != 0) {
    snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* A hard link to the file at e->final, so that it can be put back. */
static int make_backup(fs_entry *e) {
  char dir[4096];
  const char *base;
  split_path(e->final, dir, sizeof dir, &base);
  size_t blen = strlen(dir) + strlen(base) + 64;
  if ((e->backup = malloc(blen)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  for (unsigned i = 0; i < 1000; i++) {
    snprintf(e->backup, blen, "%s/.%.200s.old.%ld.%u", dir, base, (long)getpid(), i);
    if (link(e->final, e->backup) == 0) return 0;
    if (errno != EEXIST) break;
  }
  int saved = errno;
  free(e->backup);
  e->backup = NULL;
  errno = saved;
  return -1;
}

static void sync_dir_of(const char *path) {
  char dir[4096];
  const char *base;
  split_path(path, dir, sizeof dir, &base);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  if (fsync(fd) != 0) {
    /* Best effort: the files themselves were synced. */
  }
  close(fd);
}

/* Undoes the renames done so far, newest first. */
static void roll_back(fs_txn *t) {
  for (size_t i = t->n; i-- > 0;) {
    fs_entry *e = &t->e[i];
    if (!e->renamed) continue;
    if (e->backup != NULL) {
      if (rename(e->backup, e->final) == 0) {
        free(e->backup);
        e->backup = NULL;
      }
    } else {
      unlink(e->final);
    }
    e->renamed = false;
  }
}

int fs_txn_commit(fs_txn *t, char *why, size_t cap) {
  for (size_t i = 0; i < t->n; i++) {
    fs_entry *e = &t->e[i];
    struct stat sb;
    if (lstat(e->final, &sb) == 0 && !S_ISDIR(sb.st_mode) && make_backup(e) != 0) {
      snprintf(why, cap, "cannot replace %s: %s", e->final, strerror(errno));
      roll_back(t);
      return -1;
    }
    if (rename(e->temp, e->final) != 0) {
      snprintf(why, cap, "cannot write %s: %s", e->final, strerror(errno));
      if (e->backup != NULL) {
        unlink(e->backup);
        free(e->backup);
        e->backup = NULL;
      }
      roll_back(t);
      return -1;
    }
    e->renamed = true;
    free(e->temp);
    e->temp = NULL;
  }
  t->committed = true;
  for (size_t i = 0; i < t->n; i++) {
    if (t->e[i].backup != NULL) unlink(t->e[i].backup);
    sync_dir_of(t->e[i].final);
  }
  return 0;
}

void fs_txn_free(fs_txn *t) {
  if (t == NULL) return;
  if (!t->committed) {
    roll_back(t);
    for (size_t i = 0; i < t->n; i++)
      if (t->e[i].temp != NULL) unlink(t->e[i].temp);
    for (size_t i = t->n_dirs; i-- > 0;)
      rmdir(t->dirs[i]);
  }
  for (size_t i = 0; i < t->n; i++) {
    free(t->e[i].final);
    free(t->e[i].temp);
    free(t->e[i].backup);
  }
  for (size_t i = 0; i < t->n_dirs; i++)
    free(t->dirs[i]);
  free(t->e);
  free(t->dirs);
  free(t);
}

/* ---- locking ------------------------------------------------------------------------- */

int fs_lock_dir(const char *path, char *why, size_t cap) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, cap, "cannot open the directory %s: %s", path, strerror(errno));
    return -1;
  }
  int r;
  do {
    r = flock(fd, LOCK_EX);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    snprintf(why, cap, "cannot lock the directory %s: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

void fs_unlock(int fd) {
  if (fd >= 0) close(fd); /* closing releases the flock */
}
