/* The streamed endpoint: the engine runs in its own thread; sealed records queue for HTTP. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/log.h"
#include "secure/stream.h"
#include "secure/supervisor/internal.h"

#define QUEUE_HIGH (1u << 20) /* the engine waits while this much is unread */
#define QUEUE_CAP (4u << 20)

struct ms_sup_stream {
    ms_sup *sup;
    ms_session *s;
    ms_stream_tx tx;
    ms_buf req;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ms_buf q;   /* sealed bytes not yet read */
    size_t off; /* read position in q */
    int done;
    int cancel;
};

/*
 * Seal one stream record straight into the queue (waiting first while the reader lags):
 * no record buffer per piece, no copy. Locks: the queue's, then the session's for the seal
 * (nothing takes them the other way round).
 */
static ms_err push(ms_sup_stream *st, const uint8_t *p, size_t n, int final)
{
    ms_err err = MS_ERR_IO;
    pthread_mutex_lock(&st->mu);
    while (!st->cancel && st->q.len - st->off > QUEUE_HIGH) {
        pthread_cond_wait(&st->cv, &st->mu);
    }
    if (!st->cancel) {
        pthread_mutex_lock(&st->s->lock);
        err = ms_stream_tx_seal(&st->tx, st->s->chan, p, n, final, &st->q);
        st->s->records_out += err == MS_OK;
        st->s->bytes_out += err == MS_OK ? n : 0;
        pthread_mutex_unlock(&st->s->lock);
    }
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    ms_sup_stream *st = ctx;
    /* Long pieces are split so every record stays under its cap. */
    while (len > 0) {
        size_t n = len < MS_MAX_RECORD_PLAINTEXT ? len : MS_MAX_RECORD_PLAINTEXT;
        TRY(push(st, (const uint8_t *)text, n, 0));
        text += n;
        len -= n;
    }
    return MS_OK;
}

static void *run(void *arg)
{
    ms_sup_stream *st = arg;
    ms_buf final;
    ms_buf_init(&final, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_bridge_turn(st->sup->bridge, st->req.p, st->req.len, 1, on_piece, st, &final);
    if (e == MS_OK || e == MS_ERR_PAYLOAD) {
        e = push(st, final.p, final.len, 1);
    }
    if (e != MS_OK && e != MS_ERR_IO) {
        ms_log(MS_LOG_WARN, "supervisor", "stream ended without FINAL: %s", ms_err_name(e));
    }
    ms_buf_free(&final);
    pthread_mutex_lock(&st->mu);
    st->done = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static ms_sup_stream *stream_new(ms_sup *sup, ms_session *s)
{
    ms_sup_stream *st = calloc(1, sizeof *st);
    if (!st) {
        return NULL;
    }
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        return NULL;
    }
    if (pthread_cond_init(&st->cv, NULL) != 0) {
        pthread_mutex_destroy(&st->mu);
        free(st);
        return NULL;
    }
    st->sup = sup;
    st->s = s;
    ms_buf_init(&st->req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&st->q, QUEUE_CAP);
    return st;
}

void ms_sup_stream_start(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                         const uint8_t *body, size_t len, ms_sup_reply *r, ms_sup_stream **out)
{
    ms_record_info info;
    *out = NULL;
    ms_session *s = ms_sup_session(sup, sid, r);
    if (!s) {
        return;
    }
    ms_sup_stream *st = stream_new(sup, s);
    if (!st) {
        ms_sup_fail(r, 500, MS_ERR_NOMEM);
        ms_sessions_release(sup->sessions, s);
        return;
    }
    pthread_mutex_lock(&s->lock);
    ms_err e = ms_sup_open_body(s, body, len, MS_REC_MSG, &info, &st->req);
    if (e == MS_OK) {
        e = ms_stream_tx_init(&st->tx, info.msg_id);
    }
    if (e != MS_OK) {
        ms_sup_reject(sup, s, r, e);
    }
    s->requests += e == MS_OK;
    pthread_mutex_unlock(&s->lock);
    if (e == MS_OK && pthread_create(&st->thread, NULL, run, st) != 0) {
        e = MS_ERR_NOMEM;
        ms_sup_fail(r, 500, e);
    }
    if (e != MS_OK) {
        ms_sup_stream_free(st);
        return;
    }
    st->started = 1;
    r->status = 200;
    r->content_type = "application/octet-stream";
    *out = st;
}

size_t ms_sup_stream_read(ms_sup_stream *st, uint8_t *buf, size_t max)
{
    pthread_mutex_lock(&st->mu);
    while (st->q.len == st->off && !st->done) {
        pthread_cond_wait(&st->cv, &st->mu);
    }
    size_t n = st->q.len - st->off;
    n = n < max ? n : max;
    if (n > 0) {
        memcpy(buf, st->q.p + st->off, n);
        st->off += n;
    }
    if (st->off == st->q.len) {
        ms_buf_clear(&st->q);
        st->off = 0;
    }
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return n;
}

void ms_sup_stream_free(ms_sup_stream *st)
{
    if (!st) {
        return;
    }
    pthread_mutex_lock(&st->mu);
    st->cancel = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->started) {
        pthread_join(st->thread, NULL);
    }
    ms_sessions_release(st->sup->sessions, st->s);
    ms_buf_free(&st->req);
    ms_buf_free(&st->q);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}
