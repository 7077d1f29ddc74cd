/* The allow-list in force: read the whole file, parse it, swap under the lock. */
#include "secure/supervisor/allow.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"

/* Parse the file into *l; rep says where it failed or what it holds. */
static ms_err load(const char *path, ms_idkey_list *l, ms_allow_report *rep)
{
    ms_buf text;
    ms_buf_init(&text, MS_MAX_ALLOW_FILE);
    memset(rep, 0, sizeof *rep);
    ms_err err = ms_file_read(path, MS_MAX_ALLOW_FILE, &text);
    if (err == MS_OK) {
        err = ms_idkey_list_parse(text.p, text.len, l, &rep->line_no);
    }
    if (err == MS_OK) {
        rep->count = l->n;
        crypto_hash_sha256(rep->file_sha256, text.p, text.len);
    }
    ms_buf_free(&text);
    return err;
}

ms_err ms_allow_open(ms_allow *a, const char *path, ms_allow_report *rep)
{
    memset(a, 0, sizeof *a);
    TRY(sodium_init() >= 0 ? MS_OK : MS_ERR_CRYPTO_INIT);
    TRY(load(path, &a->list, rep));
    a->path = strdup(path);
    if (!a->path || pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a->path);
        ms_idkey_list_free(&a->list);
        memset(a, 0, sizeof *a);
        return MS_ERR_NOMEM;
    }
    memcpy(a->file_sha256, rep->file_sha256, sizeof a->file_sha256);
    return MS_OK;
}

ms_err ms_allow_reload(ms_allow *a, ms_allow_report *rep)
{
    ms_idkey_list fresh, old;
    TRY(load(a->path, &fresh, rep));
    pthread_mutex_lock(&a->lock);
    old = a->list;
    a->list = fresh;
    memcpy(a->file_sha256, rep->file_sha256, sizeof a->file_sha256);
    pthread_mutex_unlock(&a->lock);
    ms_idkey_list_free(&old);
    return MS_OK;
}

int ms_allow_has(ms_allow *a, const uint8_t pk[static MS_SIGN_PK_LEN])
{
    pthread_mutex_lock(&a->lock);
    int ok = ms_idkey_list_has(&a->list, pk);
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void ms_allow_close(ms_allow *a)
{
    if (a && a->path) {
        ms_idkey_list_free(&a->list);
        free(a->path);
        pthread_mutex_destroy(&a->lock);
        memset(a, 0, sizeof *a);
    }
}
