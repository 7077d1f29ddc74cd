/* The installation's log key: one Ed25519 key file (PEM, like the dev key) and its .pub. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"

_Static_assert(MS_ALOG_PK_LEN == MS_SIGN_PK_LEN, "log key is an Ed25519 key");
_Static_assert(MS_ALOG_SK_LEN == MS_SIGN_SK_LEN, "log key is an Ed25519 key");

void ms_alog_key_wipe(ms_alog_key *k)
{
    if (k != NULL) {
        ms_wipe(k, sizeof *k);
    }
}

/* Copy the parent directory of `path` into dir (empty when path has no '/'). */
static ms_err parent_of(const char *path, char dir[static PATH_MAX])
{
    size_t n = strlen(path);
    ENSURE(n > 0 && n < PATH_MAX, MS_ERR_ARG);
    while (n > 0 && path[n - 1] != '/') {
        n--;
    }
    while (n > 1 && path[n - 1] == '/') {
        n--; /* "a//key" -> "a"; "/key" keeps "/" */
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    return MS_OK;
}

/*
 * mkdir -p with mode 0700 for every directory we create; existing ones are left as they
 * are (the user's ~/.config is theirs). The key file's own mode is what we enforce.
 */
static ms_err make_dirs(const char *dir)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    ENSURE(n < sizeof p, MS_ERR_ARG);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') {
            continue;
        }
        char saved = p[i];
        p[i] = '\0';
        struct stat st;
        if (stat(p, &st) != 0) {
            ENSURE(errno == ENOENT, MS_ERR_FILE_OPEN);
            ENSURE(mkdir(p, 0700) == 0 || errno == EEXIST, MS_ERR_FILE_OPEN);
            ENSURE(chmod(p, 0700) == 0, MS_ERR_FILE_OPEN); /* whatever the umask */
        } else {
            ENSURE(S_ISDIR(st.st_mode), MS_ERR_FILE_OPEN);
        }
        p[i] = saved;
    }
    return MS_OK;
}

/* Write path.pub unless it already holds exactly this public key. */
static ms_err sync_public(const char *path, const uint8_t pk[static MS_ALOG_PK_LEN])
{
    char pub[PATH_MAX];
    int n = snprintf(pub, sizeof pub, "%s.pub", path);
    ENSURE(n > 0 && (size_t)n < sizeof pub, MS_ERR_ARG);
    uint8_t have[MS_SIGN_PK_LEN];
    if (ms_devkey_read_public(pub, have) == MS_OK && ms_ct_equal(have, pk, MS_SIGN_PK_LEN)) {
        return MS_OK;
    }
    return ms_devkey_write_public(pub, pk);
}

ms_err ms_alog_key_load_or_create(const char *path, ms_alog_key *out, bool *created)
{
    ms_err err = MS_OK;
    ms_devkey dk;
    char dir[PATH_MAX];
    int made = 0;
    memset(out, 0, sizeof *out);
    memset(&dk, 0, sizeof dk);
    if (created != NULL) {
        *created = false;
    }
    ENSURE(path != NULL && path[0] != '\0', MS_ERR_ARG);
    TRY(parent_of(path, dir));
    if (dir[0] != '\0') {
        TRY(make_dirs(dir));
    }
    /* 0600 + O_EXCL on create; on load the same descriptor is checked (0600/0400, ours). */
    TRY_OUT(ms_devkey_load_or_create(path, &dk, &made));
    memcpy(out->pk, dk.pk, MS_ALOG_PK_LEN);
    memcpy(out->sk, dk.sk, MS_ALOG_SK_LEN);
    TRY_OUT(sync_public(path, out->pk));
    if (created != NULL) {
        *created = made != 0;
    }
out:
    ms_devkey_wipe(&dk);
    if (err != MS_OK) {
        ms_alog_key_wipe(out);
    }
    return err;
}

/* Non-empty value of an environment variable, or NULL. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

ms_err ms_alog_default_key_path(char *out, size_t cap)
{
    ENSURE(out != NULL && cap > 0, MS_ERR_ARG);
    out[0] = '\0';
    const char *v;
    int n;
    if ((v = env("MINIONS_LOG_KEY")) != NULL) {
        n = snprintf(out, cap, "%s", v);
    } else if ((v = env("XDG_CONFIG_HOME")) != NULL && v[0] == '/') {
        n = snprintf(out, cap, "%s/minions-secure/log-key", v);
    } else if ((v = env("HOME")) != NULL) {
        n = snprintf(out, cap, "%s/.config/minions-secure/log-key", v);
    } else {
        return MS_ERR_CONFIG;
    }
    if (n <= 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return MS_ERR_OUT_SPACE;
    }
    return MS_OK;
}
