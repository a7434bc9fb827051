/*
 * deliver.h - getting secret values to where an application reads them.
 *
 * Three groups of primitives, shared by the `deliver` Lua module and the
 * `exec` and `provider` commands so each behaviour exists once:
 *
 *   encoders   (deliver_format.c) quote a value for one target syntax
 *   files      (deliver_file.c)   atomic secret files, memory directories
 *   processes  (deliver_exec.c)   PATH lookup, execve, supervision
 *
 * None of them calls Lua, so none can raise: they fill an az_error and
 * return -1.  Buffers they fill are az_buf, which wipe what they held.
 */
#ifndef AZ_DELIVER_H
#define AZ_DELIVER_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "error.h"

/* ---- encoders ----------------------------------------------------------- */

/*
 * Each appends the encoded form of v[0..n) to out and returns 0, or fills
 * err (exit code 1, code "bad_input") and returns -1 when the target
 * cannot hold the value: a NUL byte for shell words and dotenv, bytes that
 * are not UTF-8 for JSON, YAML and properties.  Messages never quote the
 * value; callers prefix the name it belongs to.
 */
int az_enc_base64(az_buf *out, const unsigned char *v, size_t n, az_error *err);
int az_enc_json(az_buf *out, const unsigned char *v, size_t n, az_error *err);
int az_enc_urlencode(az_buf *out, const unsigned char *v, size_t n,
                     az_error *err);
int az_enc_shell(az_buf *out, const unsigned char *v, size_t n, az_error *err);
int az_enc_dotenv(az_buf *out, const unsigned char *v, size_t n, az_error *err);
int az_enc_yaml(az_buf *out, const unsigned char *v, size_t n, az_error *err);
int az_enc_properties(az_buf *out, const unsigned char *v, size_t n, int is_key,
                      az_error *err);

/* The whole-document formats of deliver.format(). */
enum az_format {
    AZ_FORMAT_DOTENV,
    AZ_FORMAT_JSON,
    AZ_FORMAT_YAML,
    AZ_FORMAT_PROPERTIES,
    AZ_FORMAT_SHELL
};

/* -1 when the name is not one of "dotenv", "json", ... */
int az_format_from_name(const char *name);

/* The formats in az_format order, for messages. */
#define AZ_FORMAT_NAMES "dotenv, json, yaml, properties, shell"

/*
 * Documents are written entry by entry, names in the order given (callers
 * sort them): begin, then one entry per name, then end.  An entry checks
 * the name against the format (environment-variable names for dotenv and
 * shell) and fills err naming it.
 */
int az_format_begin(az_buf *out, int format, az_error *err);
int az_format_entry(az_buf *out, int format, int first, const char *name,
                    size_t namelen, const unsigned char *v, size_t n,
                    az_error *err);
int az_format_end(az_buf *out, int format, int empty, az_error *err);

/* 1 when s[0..n) is a portable environment variable name. */
int az_env_name_ok(const char *s, size_t n);

/* ---- files -------------------------------------------------------------- */

typedef struct az_file_opts {
    int mode;    /* permission bits; -1 for 0600 */
    uid_t owner; /* (uid_t)-1 to leave as is */
    gid_t group; /* (gid_t)-1 to leave as is */
} az_file_opts;

/*
 * Write data to path atomically: a temporary file in the same directory
 * (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), mode and owner set, fsync, rename,
 * fsync of the directory.  A symbolic link or a non-regular file at path
 * is refused.  When path already holds exactly these bytes (compared in
 * constant time) with the asked mode and owner, nothing is written and
 * *wrote is 0.  Returns 0 or -1 with err filled.
 */
int az_file_write(const char *path, const unsigned char *data, size_t len,
                  const az_file_opts *opts, int *wrote, az_error *err);

/*
 * Create a private (0700) directory for temporary secret files on a
 * memory file system: /dev/shm when it is a writable directory, else
 * $XDG_RUNTIME_DIR, else $TMPDIR or /tmp.  The path goes to out.
 */
int az_memdir_create(char *out, size_t cap, az_error *err);

/* Remove the regular files in dir, then dir itself.  Best effort. */
void az_memdir_remove(const char *dir);

/* ---- processes ---------------------------------------------------------- */

/* 1 for the variables a child must never inherit (DESIGN §6.5). */
int az_env_scrubbed(const char *name, size_t n);

/*
 * Resolve a command name to a file: a name with a '/' is taken as it is,
 * anything else is looked up in the directories of path_env (the empty
 * entry, meaning the current directory, is skipped).  Fills err with exit
 * code 127 when nothing is found and 126 when only non-executable files
 * are.
 */
int az_exec_resolve(const char *name, const char *path_env, char *out,
                    size_t cap, az_error *err);

/*
 * Replace this process with path (execve).  Returns only on failure, with
 * err filled (126 or 127).
 */
int az_exec_replace(const char *path, char *const argv[], char *const envp[],
                    az_error *err);

/*
 * Run path as a child and wait for it, forwarding SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 sent to us.  *status gets its exit status,
 * or 128+N when it died of signal N.  Returns -1 with err filled (126 or
 * 127) when it could not be started.
 */
int az_exec_supervise(const char *path, char *const argv[], char *const envp[],
                      int *status, az_error *err);

#endif
