/* The gateway's life: start (pool, auth, listener), stop; the API key file; random tokens. */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/random.h"
#include "gateway/internal.h"

ms_err ms_gw_new_token(char out[static MS_GW_TOKEN_LEN + 1])
{
    uint8_t raw[32];
    size_t n;
    memcpy(out, "ms-", 3);
    ms_err err = ms_random_bytes(raw, sizeof raw);
    if (err == MS_OK) {
        err = ms_hex_encode(raw, sizeof raw, out + 3, MS_GW_TOKEN_LEN + 1 - 3, &n);
    }
    ms_wipe(raw, sizeof raw);
    return err;
}

/* The token in a file's text: 32..MS_GW_MAX_KEY_LEN printable ASCII characters, one final
   newline allowed. */
static ms_err token_of(const char *text, size_t len, char out[static MS_GW_MAX_KEY_LEN + 1])
{
    if (len > 0 && text[len - 1] == '\n') {
        len--;
    }
    ENSURE(len >= 32 && len <= MS_GW_MAX_KEY_LEN, MS_ERR_GW_KEY_FILE);
    for (size_t i = 0; i < len; i++) {
        ENSURE(text[i] > 0x20 && text[i] < 0x7f, MS_ERR_GW_KEY_FILE);
    }
    memcpy(out, text, len);
    out[len] = 0;
    return MS_OK;
}

static ms_err read_key(const char *path, char out[static MS_GW_MAX_KEY_LEN + 1])
{
    ms_err err = MS_OK;
    char text[MS_GW_MAX_TOKEN_FILE];
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ENSURE(fd >= 0, errno == ELOOP ? MS_ERR_GW_KEY_FILE : MS_ERR_FILE_OPEN);
    /* the descriptor we read is the one we checked: no swap in between */
    ENSURE_OUT(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), MS_ERR_GW_KEY_FILE);
    ENSURE_OUT((st.st_mode & 077) == 0 && st.st_uid == geteuid(), MS_ERR_GW_KEY_FILE);
    ssize_t n = read(fd, text, sizeof text);
    ENSURE_OUT(n >= 0, MS_ERR_IO);
    ENSURE_OUT((size_t)n < sizeof text, MS_ERR_GW_KEY_FILE);
    TRY_OUT(token_of(text, (size_t)n, out));
out:
    ms_wipe(text, sizeof text);
    close(fd);
    return err;
}

/* The folder of path, made 0700 when missing (one level: its parent must exist). */
static void make_folder(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        (void)mkdir(dir, 0700);
    }
}

ms_err ms_gw_key_file(const char *path, char out[static MS_GW_MAX_KEY_LEN + 1], int *created)
{
    ms_err err = MS_OK;
    char tok[MS_GW_TOKEN_LEN + 2];
    *created = 0;
    out[0] = 0;
    err = read_key(path, out);
    if (err != MS_ERR_FILE_OPEN || access(path, F_OK) == 0 || errno != ENOENT) {
        return err;
    }
    make_folder(path);
    TRY_OUT(ms_gw_new_token(tok));
    tok[MS_GW_TOKEN_LEN] = '\n';
    TRY_OUT(ms_file_write_new(path, tok, MS_GW_TOKEN_LEN + 1, 0600));
    tok[MS_GW_TOKEN_LEN] = 0;
    memcpy(out, tok, MS_GW_TOKEN_LEN + 1);
    *created = 1;
out:
    ms_wipe(tok, sizeof tok);
    return err;
}

ms_err ms_gw_start(const ms_gw_cfg *cfg, ms_gw **out, uint16_t *port)
{
    ms_err err = MS_OK;
    int is_unix = 0;
    *out = NULL;
    *port = 0;
    ms_gw *gw = calloc(1, sizeof *gw);
    if (!gw || !cfg->listen || !cfg->api_key || !cfg->client || cfg->sessions < 1 ||
        cfg->sessions > MS_GW_MAX_SESSIONS) {
        ms_gw_pool_drop(cfg->first);
        free(gw);
        return gw ? MS_ERR_CONFIG : MS_ERR_NOMEM;
    }
    pthread_mutex_init(&gw->mu, NULL);
    pthread_cond_init(&gw->cv, NULL);
    gw->quiet = cfg->quiet;
    gw->runner = cfg->runner;
    gw->created = (uint64_t)time(NULL);
    snprintf(gw->model, sizeof gw->model, "%s", cfg->model ? cfg->model : "minions-secure");
    snprintf(gw->supervisor_url, sizeof gw->supervisor_url, "%s",
             cfg->supervisor_url ? cfg->supervisor_url : "");
    TRY_OUT(ms_gw_pool_new(cfg->client, cfg->sessions, cfg->first, &gw->pool));
    if (cfg->verified_json) {
        TRY_OUT(ms_json_parse(cfg->verified_json, cfg->verified_len, &gw->verified));
    }
    TRY_OUT(ms_gw_server_start(gw, cfg->listen, cfg->allow_remote, port, &is_unix));
    /* the Host names need the bound port; requests before this are answered 503 */
    TRY_OUT(ms_gw_auth_init(&gw->auth, cfg->api_key, cfg->login_code, cfg->listen, *port,
                            is_unix));
    atomic_store(&gw->ready, 1);
    *out = gw;
    gw = NULL;
out:
    if (gw) {
        ms_gw_server_stop(gw);
        ms_gw_pool_free(gw->pool);
        ms_json_free(gw->verified);
        pthread_cond_destroy(&gw->cv);
        pthread_mutex_destroy(&gw->mu);
        free(gw);
    }
    return err;
}

void ms_gw_stop(ms_gw *gw)
{
    if (!gw) {
        return;
    }
    ms_gw_server_stop(gw);
    pthread_mutex_lock(&gw->mu);
    while (gw->producers > 0) { /* streamed replies still running a turn */
        pthread_cond_wait(&gw->cv, &gw->mu);
    }
    pthread_mutex_unlock(&gw->mu);
    ms_gw_pool_free(gw->pool);
    ms_gw_auth_free(&gw->auth);
    ms_json_free(gw->verified);
    pthread_cond_destroy(&gw->cv);
    pthread_mutex_destroy(&gw->mu);
    free(gw);
}
