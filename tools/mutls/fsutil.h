/*
 * fsutil.h - files for the subcommands that write them (mutls ca): read a
 * small file whole, and write a set of files all or nothing.
 *
 * A transaction (fs_txn) writes every file to a temporary file in the
 * directory of its final name first (created with mode 0600, so a key is
 * never readable by others, not even for a moment), then renames them into
 * place one after the other. If anything fails before the last rename, the
 * files already renamed are put back as they were (removed, or the old
 * version restored), the temporary files are removed, and so are the
 * directories the transaction created: a failed command leaves nothing
 * half-written behind.
 */
#ifndef MUTLS_CLI_FSUTIL_H
#define MUTLS_CLI_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Longest error sentence the helpers write. */
#define FS_WHY_MAX 512

/* Reads the regular file path (at most max bytes) into *out, NUL-terminated;
 * its length without the NUL in *len (may be NULL). Returns 0, or -1 with one
 * sentence in why ("cannot read PATH: No such file or directory"). */
int fs_read_text(const char *path, size_t max, char **out, size_t *len, char *why, size_t cap);
/* Wipes and frees text that held a secret (a key PEM). NULL ok. */
void fs_free_secret(char *text);

/* true if path exists (as anything, a dangling symlink included). */
bool fs_exists(const char *path);

typedef struct fs_txn fs_txn;

fs_txn *fs_txn_new(void); /* NULL when out of memory */
/* Creates the directory path now (its parent must exist). A directory that
 * already exists is fine and is left alone; one created here is removed if
 * the transaction does not commit. Returns 0 or -1 with a sentence. */
int fs_txn_mkdir(fs_txn *t, const char *path, mode_t mode, char *why, size_t cap);
/* Writes data to a new temporary file next to path, with mode (masked by
 * the umask; 0600 for a secret), flushed to disk. Nothing is visible under
 * path until fs_txn_commit. Returns 0 or -1 with a sentence. */
int fs_txn_stage(fs_txn *t, const char *path, const void *data, size_t len, mode_t mode, char *why,
                 size_t cap);
/* Renames every staged file into place, in the order staged. Returns 0, or
 * -1 with a sentence after undoing what it did. */
int fs_txn_commit(fs_txn *t, char *why, size_t cap);
/* Frees t; a transaction not committed is undone first (temporary files and
 * created directories removed). NULL ok. */
void fs_txn_free(fs_txn *t);

/* Takes an exclusive lock on the directory path (flock on the directory
 * itself, so no lock file is left behind), waiting for another command
 * holding it. Returns a descriptor to pass to fs_unlock, or -1 with a
 * sentence. */
int fs_lock_dir(const char *path, char *why, size_t cap);
void fs_unlock(int fd); /* -1 ok */

#endif
