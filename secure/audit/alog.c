/* Audit log writer: one whole line per write(2), each line chained to the last, sealed at close. */
#include "secure/audit/alog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/limits.h"
#include "common/random.h"
#include "secure/audit/alog_fmt.h"

struct ms_alog {
    pthread_mutex_t mu;
    int fd;
    char *path;
    ms_alog_key key;
    uint8_t log_id[MS_ALOG_ID_LEN];
    uint8_t head[MS_ALOG_HASH_LEN]; /* SHA-256 of the last line written */
    uint64_t seq;                   /* of the next line */
    uint64_t bytes;                 /* written so far */
    ms_err err;                     /* first I/O error: sticky */
    /* checkpoints (ms_alog_set_checkpoints) and the seal */
    pthread_cond_t cv;              /* wakes the checkpoint thread */
    pthread_t ticker;
    bool ticker_on, stop, dir_synced, sealed;
    uint32_t ck_events, ck_s;
    uint64_t pending;               /* lines not yet covered by a checkpoint */
    struct timespec pending_since;  /* CLOCK_MONOTONIC: when the first of them was written */
    ms_err seal_err;                /* what ms_alog_seal returned */
};

static const char *const KINDS[] = {"minion", "minions", "chat", "ask", "supervisor"};
/* log_start members the writer sets itself; start_data may not repeat them. */
static const char *const START_OWN[] = {"kind", "log_id", "key", "started"};

/* The longest seal line: fixed text, a 20-digit seq and events, 128 hex of signature. */
#define SEAL_LINE_MAX 400u
#define CHECKPOINT_LINE_MAX 400u /* the same with "log_checkpoint" */

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* UTC now as 2026-11-21T08:00:00.123Z. */
static ms_err now_ts(char out[static MS_ALOG_TS_LEN + 1])
{
    struct timespec t;
    struct tm tm;
    ENSURE(clock_gettime(CLOCK_REALTIME, &t) == 0, MS_ERR_INTERNAL);
    ENSURE(gmtime_r(&t.tv_sec, &tm) != NULL, MS_ERR_INTERNAL);
    ENSURE(tm.tm_year >= 70 && tm.tm_year <= 9999 - 1900, MS_ERR_INTERNAL);
    int n = snprintf(out, MS_ALOG_TS_LEN + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long)(t.tv_nsec / 1000000));
    ENSURE(n == (int)MS_ALOG_TS_LEN, MS_ERR_INTERNAL);
    return MS_OK;
}

/* Write all of (p, n) at the end of the file; short writes continue, errors stick. */
static ms_err write_all(int fd, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(w > 0, MS_ERR_IO);
        done += (size_t)w;
    }
    return MS_OK;
}

/*
 * The line {"v":1,"seq":N,"ts":"...","type":"T","prev":"HEX","data":DATA} plus '\n', built
 * in `line` (empty on entry). Caller holds the lock.
 */
static ms_err build_line(const ms_alog *l, const char *type, const char *ts, const uint8_t *data,
                         size_t data_len, ms_buf *line)
{
    char prev[MS_HEX_BUF_LEN(MS_ALOG_HASH_LEN)], head[96];
    size_t n;
    TRY(ms_hex_encode(l->head, sizeof l->head, prev, sizeof prev, &n));
    int hn = snprintf(head, sizeof head, "{\"v\":1,\"seq\":%llu,\"ts\":\"", (unsigned long long)l->seq);
    ENSURE(hn > 0 && (size_t)hn < sizeof head, MS_ERR_INTERNAL);
    TRY(ms_buf_append(line, head, (size_t)hn));
    TRY(ms_buf_append_str(line, ts));
    TRY(ms_buf_append_str(line, "\",\"type\":\""));
    TRY(ms_buf_append_str(line, type));
    TRY(ms_buf_append_str(line, "\",\"prev\":\""));
    TRY(ms_buf_append_str(line, prev));
    TRY(ms_buf_append_str(line, "\",\"data\":"));
    TRY(ms_buf_append(line, data, data_len));
    TRY(ms_buf_append_str(line, "}\n"));
    return MS_OK;
}

/*
 * Append one line (caller holds the lock). Caps first: the line itself, then the room a
 * seal needs after it, so a log that accepted an event can always still be sealed.
 */
static ms_err append_locked(ms_alog *l, const char *type, const char *ts, const uint8_t *data,
                            size_t data_len, bool seal)
{
    ms_err err = MS_OK;
    ms_buf line;
    ms_buf_init(&line, MS_ALOG_MAX_LINE + 1u);
    ENSURE(l->err == MS_OK, l->err);
    ENSURE(!l->sealed, MS_ERR_ALOG_SEALED);
    ENSURE(l->fd >= 0, MS_ERR_STATE);
    ENSURE(seal || l->seq + 2u <= MS_ALOG_MAX_EVENTS, MS_ERR_CAP_EXCEEDED);
    TRY_OUT(build_line(l, type, ts, data, data_len, &line));
    ENSURE_OUT(seal || l->bytes + line.len + SEAL_LINE_MAX <= MS_ALOG_MAX_FILE,
               MS_ERR_CAP_EXCEEDED);
    err = write_all(l->fd, line.p, line.len);
    if (err != MS_OK) {
        l->err = err; /* maybe half a line on disk: the log can only end here */
        goto out;
    }
    crypto_hash_sha256(l->head, line.p, line.len - 1u); /* without its '\n' */
    l->seq++;
    l->bytes += line.len;
    if (!seal && l->pending++ == 0) { /* the first line a checkpoint must cover */
        (void)clock_gettime(CLOCK_MONOTONIC, &l->pending_since);
        if (l->ticker_on) {
            pthread_cond_signal(&l->cv);
        }
    }
out:
    ms_buf_free(&line);
    return err;
}

/* [a-z_]{1,32}, and not log_*: that prefix is the log's own (log_start, log_seal). */
static bool type_ok(const char *type)
{
    if (type == NULL) {
        return false;
    }
    size_t n = strlen(type);
    if (n == 0 || n > MS_ALOG_MAX_TYPE) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '_')) {
            return false;
        }
    }
    return strncmp(type, "log_", 4) != 0;
}

/* Print a builder whose root must be an object; NULL prints {}. */
static ms_err print_data(const ms_json_builder *data, ms_buf *out)
{
    if (data == NULL) {
        return ms_buf_append_str(out, "{}");
    }
    TRY(ms_json_builder_print(data, out));
    ENSURE(out->len >= 2 && out->p[0] == '{', MS_ERR_ARG);
    return MS_OK;
}

static ms_err sync_dir(const char *path);

/*
 * A log_checkpoint line over the chain so far, then fsync (and, the first time, of the
 * directory, so the file's name survives a crash too). Caller holds the lock. Skipped when
 * nothing is to be covered, or when the line would take the room kept for the seal.
 */
static ms_err checkpoint_locked(ms_alog *l)
{
    uint8_t msg[MS_ALOG_CHECKPOINT_MSG_LEN], sig[crypto_sign_BYTES];
    char sig_hex[MS_HEX_BUF_LEN(crypto_sign_BYTES)], data[64 + sizeof sig_hex];
    char ts[MS_ALOG_TS_LEN + 1];
    size_t n;
    if (l->pending == 0 || l->err != MS_OK || l->sealed || l->fd < 0) {
        return MS_OK;
    }
    if (l->seq + 2u > MS_ALOG_MAX_EVENTS ||
        l->bytes + CHECKPOINT_LINE_MAX + SEAL_LINE_MAX > MS_ALOG_MAX_FILE) {
        l->pending = 0; /* the log is nearly full: only the seal may follow */
        return MS_OK;
    }
    TRY(now_ts(ts));
    ms_alog_checkpoint_message(l->log_id, l->seq, l->head, ts, msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, l->key.sk);
    TRY(ms_hex_encode(sig, sizeof sig, sig_hex, sizeof sig_hex, &n));
    int dn = snprintf(data, sizeof data, "{\"events\":%llu,\"sig\":\"%s\"}",
                      (unsigned long long)l->seq, sig_hex);
    ENSURE(dn > 0 && (size_t)dn < sizeof data, MS_ERR_INTERNAL);
    /* room was checked above, so it is written like the seal (true: no event caps) */
    TRY(append_locked(l, "log_checkpoint", ts, (const uint8_t *)data, (size_t)dn, true));
    l->pending = 0;
    if (fdatasync(l->fd) != 0 || (!l->dir_synced && sync_dir(l->path) != MS_OK)) {
        l->err = MS_ERR_ALOG_SYNC; /* the line is there, but may not survive a crash */
        return l->err;
    }
    l->dir_synced = true;
    return MS_OK;
}

/* a >= b */
static bool ts_reached(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* The time rule: a checkpoint ck_s seconds after the first line not yet covered. */
static void *ticker_main(void *arg)
{
    ms_alog *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (l->pending == 0 || l->err != MS_OK || l->sealed) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        struct timespec now, due = l->pending_since;
        due.tv_sec += (time_t)l->ck_s;
        (void)clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts_reached(&now, &due)) {
            (void)checkpoint_locked(l); /* an error sticks in l->err: the next event reports it */
        } else {
            (void)pthread_cond_timedwait(&l->cv, &l->mu, &due);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Start the time rule's thread with every signal blocked in it (they are the program's). */
static ms_err ticker_start(ms_alog *l)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&l->ticker, NULL, ticker_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    ENSURE(rc == 0, MS_ERR_INTERNAL);
    l->ticker_on = true;
    return MS_OK;
}

ms_err ms_alog_set_checkpoints(ms_alog *l, uint32_t every_events, uint32_t every_s)
{
    ENSURE(l != NULL, MS_ERR_ARG);
    ENSURE(every_events <= MS_MAX_LOG_CHECKPOINT_EVENTS && every_s <= MS_MAX_LOG_CHECKPOINT_S,
           MS_ERR_ARG);
    ms_err err = MS_OK;
    pthread_mutex_lock(&l->mu);
    l->ck_events = every_events;
    l->ck_s = every_s;
    if (every_s > 0 && !l->ticker_on && !l->sealed) {
        err = ticker_start(l);
    }
    if (l->ticker_on) {
        pthread_cond_signal(&l->cv); /* a new period applies from now */
    }
    if (err == MS_OK && every_events > 0 && l->pending >= every_events) {
        err = checkpoint_locked(l);
    }
    pthread_mutex_unlock(&l->mu);
    return err;
}

static ms_err event_locked_call(ms_alog *l, const char *type, const ms_buf *text)
{
    char ts[MS_ALOG_TS_LEN + 1];
    pthread_mutex_lock(&l->mu); /* the time is taken in file order */
    ms_err err = now_ts(ts);
    if (err == MS_OK) {
        err = append_locked(l, type, ts, text->p, text->len, false);
    }
    if (err == MS_OK && l->ck_events > 0 && l->pending >= l->ck_events) {
        err = checkpoint_locked(l); /* this event is written: only the checkpoint failed */
    }
    pthread_mutex_unlock(&l->mu);
    return err;
}

ms_err ms_alog_event(ms_alog *l, const char *type, const ms_json_builder *data)
{
    ENSURE(l != NULL && type_ok(type), MS_ERR_ARG);
    ms_buf text;
    ms_buf_init(&text, MS_ALOG_MAX_LINE);
    ms_err err = print_data(data, &text);
    if (err == MS_OK) {
        err = event_locked_call(l, type, &text);
    }
    ms_buf_free(&text);
    return err;
}

/* Copy every member of object `obj` into a new builder. */
static ms_err copy_object(ms_json_val obj, ms_json_builder **out, ms_json_wval *root)
{
    TRY(ms_json_builder_new(MS_JSON_OBJECT, out, root));
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    while (ms_json_iter_next(&it, &v, &key)) {
        ms_err err = ms_json_add_value(*root, key, v);
        if (err != MS_OK) {
            ms_json_builder_free(*out);
            *out = NULL;
            return err;
        }
    }
    return MS_OK;
}

ms_err ms_alog_event_json(ms_alog *l, const char *type, const char *json, size_t len)
{
    ENSURE(l != NULL && type_ok(type) && (json != NULL || len == 0), MS_ERR_ARG);
    ENSURE(len <= MS_ALOG_MAX_LINE, MS_ERR_CAP_EXCEEDED);
    ms_json_doc *doc = NULL;
    ms_json_builder *b = NULL;
    ms_json_wval root;
    ms_err err = ms_json_parse(json, len, &doc);
    if (err == MS_OK) {
        err = ms_json_type_of(ms_json_root(doc)) == MS_JSON_OBJECT ? MS_OK : MS_ERR_JSON_TYPE;
    }
    if (err == MS_OK) {
        err = copy_object(ms_json_root(doc), &b, &root);
    }
    if (err == MS_OK) {
        err = ms_alog_event(l, type, b);
    }
    ms_json_builder_free(b);
    ms_json_free(doc);
    return err;
}

/* log_start's data: our members, "program" (the caller's, or "unknown"), then the caller's. */
static ms_err start_data_text(const ms_alog *l, const char *kind, const char *started,
                              const ms_json_builder *extra, ms_buf *out)
{
    ms_err err = MS_OK;
    ms_json_builder *b = NULL;
    ms_json_doc *doc = NULL;
    ms_json_wval root;
    ms_json_val x = {0}, program = {0};
    char id[MS_HEX_BUF_LEN(MS_ALOG_ID_LEN)], key[8 + MS_HEX_BUF_LEN(MS_ALOG_PK_LEN)];
    size_t n;
    ms_buf text;
    ms_buf_init(&text, MS_ALOG_MAX_LINE);
    if (extra != NULL) {
        TRY_OUT(print_data(extra, &text));
        TRY_OUT(ms_json_parse((const char *)text.p, text.len, &doc));
        x = ms_json_root(doc);
        for (size_t i = 0; i < sizeof START_OWN / sizeof START_OWN[0]; i++) {
            ms_json_val v;
            ENSURE_OUT(ms_json_get(x, START_OWN[i], &v) == MS_ERR_JSON_MISSING, MS_ERR_ARG);
        }
        err = ms_json_get(x, "program", &program);
        ENSURE_OUT(err == MS_OK || err == MS_ERR_JSON_MISSING, err);
        err = MS_OK;
    }
    TRY_OUT(ms_hex_encode(l->log_id, sizeof l->log_id, id, sizeof id, &n));
    memcpy(key, "ed25519:", 8);
    TRY_OUT(ms_hex_encode(l->key.pk, sizeof l->key.pk, key + 8, sizeof key - 8, &n));
    TRY_OUT(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    TRY_OUT(ms_json_add_cstr(root, "kind", kind));
    TRY_OUT(ms_json_add_cstr(root, "log_id", id));
    TRY_OUT(ms_json_add_cstr(root, "key", key));
    if (ms_json_type_of(program) != MS_JSON_ABSENT) {
        TRY_OUT(ms_json_add_value(root, "program", program));
    } else {
        TRY_OUT(ms_json_add_cstr(root, "program", "unknown"));
    }
    TRY_OUT(ms_json_add_cstr(root, "started", started));
    ms_json_iter it = ms_json_iter_init(x);
    ms_json_val v;
    const char *k;
    while (ms_json_iter_next(&it, &v, &k)) {
        if (strcmp(k, "program") != 0) {
            TRY_OUT(ms_json_add_value(root, k, v));
        }
    }
    TRY_OUT(ms_json_builder_print(b, out));
out:
    ms_json_builder_free(b);
    ms_json_free(doc);
    ms_buf_free(&text);
    return err;
}

static void alog_free(ms_alog *l)
{
    if (l->ticker_on) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->ticker, NULL);
    }
    if (l->fd >= 0) {
        close(l->fd);
    }
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->path);
    ms_wipe(l, sizeof *l); /* the key, and the head */
    free(l);
}

static ms_err write_start(ms_alog *l, const char *kind, const ms_json_builder *start_data)
{
    char started[MS_ALOG_TS_LEN + 1];
    ms_buf data;
    ms_buf_init(&data, MS_ALOG_MAX_LINE);
    ms_err err = now_ts(started);
    if (err == MS_OK) {
        err = start_data_text(l, kind, started, start_data, &data);
    }
    if (err == MS_OK) {
        /* line 0 is written like any other line; type_ok keeps callers from forging one */
        err = append_locked(l, "log_start", started, data.p, data.len, false);
    }
    ms_buf_free(&data);
    return err;
}

ms_err ms_alog_open(ms_alog **out, const char *path, const ms_alog_key *key, const char *kind,
                    const ms_json_builder *start_data)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    *out = NULL;
    ENSURE(path != NULL && key != NULL && kind != NULL, MS_ERR_ARG);
    ENSURE(in_list(kind, KINDS, sizeof KINDS / sizeof KINDS[0]), MS_ERR_ARG);
    ENSURE(sodium_init() >= 0, MS_ERR_CRYPTO_INIT);
    ms_alog *l = calloc(1, sizeof *l);
    ENSURE(l != NULL, MS_ERR_NOMEM);
    l->fd = -1;
    pthread_condattr_t ca; /* the time rule waits on the monotonic clock */
    bool ca_ok = pthread_condattr_init(&ca) == 0;
    bool cv_ok = ca_ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                 pthread_cond_init(&l->cv, &ca) == 0;
    if (ca_ok) {
        pthread_condattr_destroy(&ca);
    }
    if (!cv_ok || pthread_mutex_init(&l->mu, NULL) != 0) {
        if (cv_ok) {
            pthread_cond_destroy(&l->cv);
        }
        free(l);
        return MS_ERR_INTERNAL;
    }
    ms_err err = MS_OK;
    l->path = strdup(path);
    ENSURE_OUT(l->path != NULL, MS_ERR_NOMEM);
    l->key = *key;
    randombytes_buf(l->log_id, sizeof l->log_id);
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    ENSURE_OUT(l->fd >= 0, MS_ERR_FILE_OPEN);
    err = write_start(l, kind, start_data);
    if (err != MS_OK) {
        unlink(path); /* ours (O_EXCL) and holds no complete log */
        goto out;
    }
    *out = l;
    return MS_OK;
out:
    alog_free(l);
    return err;
}

void ms_alog_head(const ms_alog *l, char out[65])
{
    size_t n;
    uint8_t h[MS_ALOG_HASH_LEN];
    ms_alog *m = (ms_alog *)l; /* the lock only: the log itself is not changed */
    pthread_mutex_lock(&m->mu);
    memcpy(h, l->head, sizeof h);
    pthread_mutex_unlock(&m->mu);
    if (ms_hex_encode(h, sizeof h, out, 65, &n) != MS_OK) {
        out[0] = '\0';
    }
}

const char *ms_alog_path(const ms_alog *l)
{
    return l != NULL ? l->path : NULL;
}

/* fsync the directory holding `path`, so the file's name is on disk too. */
static ms_err sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 0 : (size_t)(slash - path);
    if (slash == NULL) {
        dir[0] = '.';
        n = 1;
    } else if (n == 0) {
        dir[0] = '/';
        n = 1;
    } else {
        ENSURE(n < sizeof dir, MS_ERR_ARG);
        memcpy(dir, path, n);
    }
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_IO);
    int ok = fsync(fd) == 0;
    close(fd);
    return ok ? MS_OK : MS_ERR_IO;
}

/* The seal: {"events":N,"sig":HEX}, N being its own seq (docs/logs.md "The seal"). */
static ms_err write_seal(ms_alog *l)
{
    uint8_t msg[MS_ALOG_SEAL_MSG_LEN], sig[crypto_sign_BYTES];
    char sig_hex[MS_HEX_BUF_LEN(crypto_sign_BYTES)], data[64 + sizeof sig_hex];
    char ts[MS_ALOG_TS_LEN + 1];
    size_t n;
    TRY(now_ts(ts));
    ms_alog_seal_message(l->log_id, l->seq, l->head, ts, msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, l->key.sk);
    TRY(ms_hex_encode(sig, sizeof sig, sig_hex, sizeof sig_hex, &n));
    int dn = snprintf(data, sizeof data, "{\"events\":%llu,\"sig\":\"%s\"}",
                      (unsigned long long)l->seq, sig_hex);
    ENSURE(dn > 0 && (size_t)dn < sizeof data, MS_ERR_INTERNAL);
    return append_locked(l, "log_seal", ts, (const uint8_t *)data, (size_t)dn, true);
}

ms_err ms_alog_seal(ms_alog *l)
{
    ENSURE(l != NULL, MS_ERR_ARG);
    pthread_mutex_lock(&l->mu);
    if (l->sealed) {
        ms_err again = l->seal_err;
        pthread_mutex_unlock(&l->mu);
        return again;
    }
    ms_err err = l->err;
    if (err == MS_OK) {
        err = write_seal(l);
    }
    if (err == MS_OK) {
        err = fsync(l->fd) == 0 ? MS_OK : MS_ERR_IO;
    }
    if (l->fd >= 0 && close(l->fd) != 0 && err == MS_OK) {
        err = MS_ERR_IO;
    }
    l->fd = -1;
    if (err == MS_OK) {
        err = sync_dir(l->path);
    }
    l->sealed = true; /* after the seal line: append_locked let it through */
    l->seal_err = err;
    l->stop = true;
    if (l->ticker_on) {
        pthread_cond_signal(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return err;
}

ms_err ms_alog_close(ms_alog *l)
{
    if (l == NULL) {
        return MS_OK;
    }
    ms_err err = ms_alog_seal(l);
    alog_free(l);
    return err;
}

void ms_alog_abandon(ms_alog *l)
{
    if (l != NULL) {
        alog_free(l);
    }
}

ms_err ms_alog_new_path(const char *dir, const char *kind, char *out, size_t cap)
{
    uint8_t rnd[4];
    char hex[9], when[32];
    size_t n;
    struct tm tm;
    time_t t = time(NULL);
    ENSURE(dir != NULL && kind != NULL && out != NULL && cap > 0, MS_ERR_ARG);
    TRY(ms_random_bytes(rnd, sizeof rnd));
    TRY(ms_hex_encode(rnd, sizeof rnd, hex, sizeof hex, &n));
    ENSURE(gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm) > 0,
           MS_ERR_INTERNAL);
    int w = snprintf(out, cap, "%s/%s-%s-%s.ndjson", dir, kind, when, hex);
    return w > 0 && (size_t)w < cap ? MS_OK : MS_ERR_CONFIG;
}
