/* Supervisor audit log: log_start, one session_end per session, supervisor_stop, the seal. */
#include "secure/supervisor/audit.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/log.h"
#include "common/version.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"

#define PROGRAM "minions-supervisor " MS_VERSION

struct ms_sup_audit {
    ms_alog *log;
    pthread_mutex_t mu;
    uint64_t sessions;   /* session_end lines written */
    uint64_t unfinished; /* handshakes without a ClientFinish */
    uint64_t failed;     /* session_end lines that could not be written */
    uint8_t pk[MS_ALOG_PK_LEN];
    int key_created;
};

ms_err ms_sup_audit_url(const char *url, char *out, size_t cap)
{
    ENSURE(url != NULL && out != NULL && cap > 0, MS_ERR_ARG);
    out[0] = '\0';
    const char *sep = strstr(url, "://");
    ENSURE(sep != NULL, MS_ERR_HTTP_URL);
    const char *auth = sep + 3;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host = auth;
    for (size_t i = 0; i < auth_len; i++) {
        if (auth[i] == '@') {
            host = auth + i + 1; /* the last '@' ends the userinfo */
        }
    }
    const char *path = auth + auth_len;
    size_t path_len = strcspn(path, "?#");
    /*
     * An '@' after the authority means a user:password holding '/', '?' or '#' unescaped
     * ("http://u:pa/ss@host"): where it ends is unclear, so nothing past the scheme is kept.
     */
    int hidden = strchr(path, '@') != NULL;
    int n = hidden ? snprintf(out, cap, "%.*s(not shown: '@' after the host)", (int)(auth - url), url)
                   : snprintf(out, cap, "%.*s%.*s%.*s", (int)(auth - url), url,
                              (int)(path - host), host, (int)path_len, path);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return MS_ERR_CAP_EXCEEDED;
    }
    return MS_OK;
}

ms_err ms_sup_audit_default_key(const char *dev_key_path, char *out, size_t cap)
{
    ENSURE(dev_key_path != NULL && out != NULL && cap > 0, MS_ERR_ARG);
    const char *slash = strrchr(dev_key_path, '/');
    int n = slash ? snprintf(out, cap, "%.*s/%s", (int)(slash - dev_key_path), dev_key_path,
                             MS_SUP_AUDIT_KEY_NAME)
                  : snprintf(out, cap, "%s", MS_SUP_AUDIT_KEY_NAME);
    ENSURE(n > 0 && (size_t)n < cap, MS_ERR_CAP_EXCEEDED);
    return MS_OK;
}

/* The file to create: `path` itself when nothing is there, a new name when it is a directory. */
static ms_err log_path(const char *path, char out[static PATH_MAX])
{
    struct stat st;
    if (stat(path, &st) == 0) {
        ENSURE(S_ISDIR(st.st_mode), MS_ERR_CONFIG); /* never reopened, appended or overwritten */
        return ms_alog_new_path(path, "supervisor", out, PATH_MAX);
    }
    ENSURE(errno == ENOENT, MS_ERR_FILE_OPEN);
    int w = snprintf(out, PATH_MAX, "%s", path);
    return w > 0 && w < PATH_MAX ? MS_OK : MS_ERR_CONFIG;
}

/* log_start's data: program, listen, evidence, backend, mode. */
static ms_err start_data(const ms_sup_audit_cfg *cfg, ms_json_builder **b)
{
    ms_json_wval root, ev;
    char url[512];
    TRY(ms_sup_audit_url(cfg->backend_url ? cfg->backend_url : "", url, sizeof url));
    TRY(ms_json_builder_new(MS_JSON_OBJECT, b, &root));
    ms_err err = ms_json_add_cstr(root, "program", PROGRAM);
    if (err == MS_OK) {
        err = ms_json_add_cstr(root, "listen", cfg->listen ? cfg->listen : "");
    }
    if (err == MS_OK && (err = ms_json_add_arr(root, "evidence", &ev)) == MS_OK) {
        err = ms_json_add_cstr(ev, NULL, cfg->evidence ? cfg->evidence : "");
    }
    if (err == MS_OK) {
        err = ms_json_add_cstr(root, "backend", url);
    }
    if (err == MS_OK) {
        err = ms_json_add_cstr(root, "mode", cfg->development ? "development" : "attested");
    }
    if (err != MS_OK) {
        ms_json_builder_free(*b);
        *b = NULL;
    }
    return err;
}

ms_err ms_sup_audit_open(ms_sup_audit **out, const ms_sup_audit_cfg *cfg,
                         enum ms_sup_audit_part *part)
{
    ms_err err = MS_OK;
    char path[PATH_MAX];
    ms_alog_key key;
    bool created;
    ms_json_builder *b = NULL;
    ENSURE(out != NULL && part != NULL, MS_ERR_ARG);
    *out = NULL;
    *part = MS_SUP_AUDIT_PART_LOG;
    ENSURE(cfg != NULL && cfg->path != NULL && cfg->key_path != NULL, MS_ERR_ARG);
    memset(&key, 0, sizeof key);
    TRY(log_path(cfg->path, path));
    ms_sup_audit *a = calloc(1, sizeof *a);
    ENSURE(a != NULL, MS_ERR_NOMEM);
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        free(a);
        return MS_ERR_NOMEM;
    }
    *part = MS_SUP_AUDIT_PART_KEY;
    TRY_OUT(ms_alog_key_load_or_create(cfg->key_path, &key, &created));
    *part = MS_SUP_AUDIT_PART_LOG;
    memcpy(a->pk, key.pk, sizeof a->pk);
    a->key_created = created;
    TRY_OUT(start_data(cfg, &b));
    TRY_OUT(ms_alog_open(&a->log, path, &key, "supervisor", b));
    err = ms_alog_set_checkpoints(a->log, cfg->checkpoint_events, cfg->checkpoint_s);
    if (err != MS_OK) {
        ms_alog_abandon(a->log); /* only log_start: verifies as incomplete */
        goto out;
    }
    *out = a;
    a = NULL;
out:
    ms_alog_key_wipe(&key);
    ms_json_builder_free(b);
    if (a != NULL) {
        pthread_mutex_destroy(&a->mu);
        free(a);
    }
    return err;
}

const char *ms_sup_audit_path(const ms_sup_audit *a)
{
    return a ? ms_alog_path(a->log) : "";
}

int ms_sup_audit_key(const ms_sup_audit *a, char fp[static MS_FINGERPRINT_LEN])
{
    _Static_assert(MS_ALOG_PK_LEN == MS_SIGN_PK_LEN, "the log key is an Ed25519 key");
    ms_devkey_fingerprint(a->pk, fp);
    return a->key_created;
}

static const char *outcome_name(enum ms_session_end end)
{
    switch (end) {
    case MS_SESSION_END_CLOSED: return "closed";
    case MS_SESSION_END_EXPIRED: return "expired";
    case MS_SESSION_END_EVICTED: return "evicted";
    case MS_SESSION_END_SHUTDOWN: return "shutdown";
    default: return NULL;
    }
}

static ms_err add_hex(ms_json_wval o, const char *key, const uint8_t *p, size_t len)
{
    char hex[2 * 32 + 1];
    size_t n;
    TRY(ms_hex_encode(p, len, hex, sizeof hex, &n));
    return ms_json_add_cstr(o, key, hex);
}

/* The identities of a session_end: ids, the client's key, the evidence. */
static ms_err add_ids(ms_json_wval o, const ms_session *s)
{
    char fp[MS_FINGERPRINT_LEN];
    _Static_assert(MS_SESSION_ID_LEN <= 32, "session id fits the hex buffer");
    TRY(add_hex(o, "session_id", s->sid, MS_SESSION_ID_LEN));
    if (s->has_client_id) {
        ms_devkey_fingerprint(s->client_id_pk, fp);
        TRY(ms_json_add_cstr(o, "client_key_fp", fp));
    } else {
        TRY(ms_json_add_null(o, "client_key_fp"));
    }
    TRY(add_hex(o, "evidence_id", s->meta.evidence_sha256, sizeof s->meta.evidence_sha256));
    return ms_json_add_cstr(o, "mode", s->meta.mode == MS_MODE_STRICT ? "strict" : "fast");
}

static ms_err session_data(ms_json_wval o, const ms_session *s, uint64_t now_ms)
{
    const char *outcome = outcome_name(s->end);
    ENSURE(outcome != NULL, MS_ERR_INTERNAL);
    TRY(add_ids(o, s));
    TRY(ms_json_add_u64(o, "requests", s->requests));
    TRY(ms_json_add_u64(o, "records_in", s->records_in));
    TRY(ms_json_add_u64(o, "records_out", s->records_out));
    TRY(ms_json_add_u64(o, "bytes_in", s->bytes_in));
    TRY(ms_json_add_u64(o, "bytes_out", s->bytes_out));
    TRY(ms_json_add_u64(o, "started", s->meta.started_s));
    uint64_t ms = now_ms >= s->created_ms ? now_ms - s->created_ms : 0;
    TRY(ms_json_add_double(o, "duration_s", (double)ms / 1000.0));
    return ms_json_add_cstr(o, "outcome", outcome);
}

void ms_sup_audit_session_end(void *ctx, const ms_session *s, uint64_t now_ms)
{
    ms_sup_audit *a = ctx;
    ms_json_builder *b = NULL;
    ms_json_wval root;
    if (s->state != MS_SESSION_OPEN && s->end != MS_SESSION_END_EVICTED) {
        pthread_mutex_lock(&a->mu);
        a->unfinished++;
        pthread_mutex_unlock(&a->mu);
        return;
    }
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err == MS_OK) {
        err = session_data(root, s, now_ms);
    }
    if (err == MS_OK) {
        err = ms_alog_event(a->log, "session_end", b);
    }
    ms_json_builder_free(b);
    pthread_mutex_lock(&a->mu);
    if (err == MS_OK) {
        a->sessions++;
    } else if (a->failed++ == 0) {
        /* Once: the log is then unsealable (I/O) or short of an event; both show on close. */
        ms_log(MS_LOG_ERROR, "audit", "cannot write to the audit log %s: %s",
               ms_alog_path(a->log), ms_err_name(err));
    }
    pthread_mutex_unlock(&a->mu);
}

/* Write one event; a failure is counted like a lost session_end. */
static void write_event(ms_sup_audit *a, const char *type, ms_json_builder *b, ms_err err)
{
    if (err == MS_OK) {
        err = ms_alog_event(a->log, type, b);
    }
    ms_json_builder_free(b);
    if (err != MS_OK) {
        pthread_mutex_lock(&a->mu);
        if (a->failed++ == 0) {
            ms_log(MS_LOG_ERROR, "audit", "cannot write to the audit log %s: %s",
                   ms_alog_path(a->log), ms_err_name(err));
        }
        pthread_mutex_unlock(&a->mu);
    }
}

void ms_sup_audit_client_refused(ms_sup_audit *a, const uint8_t *pk, ms_err why,
                                 const char *stage)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    char fp[MS_FINGERPRINT_LEN];
    if (a == NULL) {
        return;
    }
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err == MS_OK && pk) {
        ms_devkey_fingerprint(pk, fp);
        err = ms_json_add_cstr(root, "client_key_fp", fp);
    } else if (err == MS_OK) {
        err = ms_json_add_null(root, "client_key_fp");
    }
    if (err == MS_OK) {
        err = ms_json_add_cstr(root, "reason", ms_err_name(why));
    }
    if (err == MS_OK) {
        err = ms_json_add_cstr(root, "stage", stage);
    }
    write_event(a, "client_refused", b, err);
}

void ms_sup_audit_allowed_clients(ms_sup_audit *a, ms_err e, size_t line_no, size_t count,
                                  const uint8_t file_sha256[static 32])
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    if (a == NULL) {
        return;
    }
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err == MS_OK && e == MS_OK) {
        err = ms_json_add_u64(root, "keys", count);
        if (err == MS_OK) {
            err = add_hex(root, "file_sha256", file_sha256, 32);
        }
    } else if (err == MS_OK) {
        err = ms_json_add_cstr(root, "reload_failed", ms_err_name(e));
        if (err == MS_OK) {
            err = ms_json_add_u64(root, "line", line_no);
        }
    }
    write_event(a, "allowed_clients", b, err);
}

ms_err ms_sup_audit_close(ms_sup_audit *a)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    if (a == NULL) {
        return MS_OK;
    }
    pthread_mutex_lock(&a->mu);
    uint64_t sessions = a->sessions, unfinished = a->unfinished, failed = a->failed;
    pthread_mutex_unlock(&a->mu);
    ms_err err = ms_json_builder_new(MS_JSON_OBJECT, &b, &root);
    if (err == MS_OK) {
        err = ms_json_add_u64(root, "sessions_total", sessions);
    }
    if (err == MS_OK) {
        err = ms_json_add_u64(root, "handshakes_unfinished", unfinished);
    }
    if (err == MS_OK) {
        err = ms_json_add_u64(root, "events_failed", failed);
    }
    if (err == MS_OK) {
        err = ms_alog_event(a->log, "supervisor_stop", b);
    }
    ms_json_builder_free(b);
    /* Sealed even when an event was lost for want of memory; an I/O error leaves it unsealed. */
    ms_err closed = ms_alog_close(a->log);
    pthread_mutex_destroy(&a->mu);
    free(a);
    return closed != MS_OK ? closed : err;
}
