/*
 * The streamed endpoint: the engine runs in its own thread; sealed records queue for HTTP.
 * Pieces the engine sends while the HTTP side is still busy with earlier records wait in
 * `pend` and go out as one record when the reader comes back (docs/protocol.md §12.3): no
 * timer, and a reader that waits is woken by the first piece.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
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
    ms_buf q;    /* sealed bytes not yet read */
    size_t off;  /* read position in q */
    ms_buf pend; /* the engine's text not yet sealed: one STREAM_DATA record when taken */
    int done;
    int cancel;
};

/* Seal one stream record straight into the queue (st->mu held): no record buffer, no copy.
   Locks: the queue's, then the session's for the seal (nothing takes them the other way). */
static ms_err seal_locked(ms_sup_stream *st, const uint8_t *p, size_t n, int final)
{
    pthread_mutex_lock(&st->s->lock);
    ms_err err = ms_stream_tx_seal(&st->tx, st->s->chan, p, n, final, &st->q);
    st->s->records_out += err == MS_OK;
    st->s->bytes_out += err == MS_OK ? n : 0;
    pthread_mutex_unlock(&st->s->lock);
    return err;
}

/* The waiting pieces as one STREAM_DATA record (st->mu held); a failure ends the stream. */
static ms_err take_pend_locked(ms_sup_stream *st)
{
    ms_err err = st->pend.len > 0 ? seal_locked(st, st->pend.p, st->pend.len, 0) : MS_OK;
    ms_buf_clear(&st->pend); /* wipes: it was the answer's text */
    if (err != MS_OK) {
        st->cancel = 1;
    }
    return err;
}

/* How many of p's first n (< its length) bytes end on a whole UTF-8 character. */
static size_t utf8_cut(const uint8_t *p, size_t n)
{
    size_t k = n;
    while (k > 0 && (p[k] & 0xc0) == 0x80) {
        k--;
    }
    return k > 0 ? k : n; /* no lead byte in reach: not UTF-8 text, cut anywhere */
}

/* Wait while the reader lags (st->mu held): the queue and the waiting text together. */
static void wait_room_locked(ms_sup_stream *st)
{
    while (!st->cancel && st->q.len - st->off + st->pend.len > QUEUE_HIGH) {
        pthread_cond_wait(&st->cv, &st->mu);
    }
}

/* A piece joins the waiting text; a full MS_STREAM_COALESCE_MAX is sealed here. */
static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    ms_sup_stream *st = ctx;
    const uint8_t *p = (const uint8_t *)text;
    ms_err err = MS_OK;
    pthread_mutex_lock(&st->mu);
    wait_room_locked(st);
    ENSURE_OUT(!st->cancel, MS_ERR_IO);
    while (len > 0) {
        size_t room = MS_STREAM_COALESCE_MAX - st->pend.len;
        if (len > room && st->pend.len > 0) { /* the piece goes whole into the next record */
            TRY_OUT(take_pend_locked(st));
            continue;
        }
        size_t n = len <= room ? len : utf8_cut(p, room);
        TRY_OUT(ms_buf_append(&st->pend, p, n));
        p += n;
        len -= n;
        if (st->pend.len == MS_STREAM_COALESCE_MAX) {
            TRY_OUT(take_pend_locked(st));
        }
    }
out:
    pthread_cond_broadcast(&st->cv); /* a waiting reader takes it now */
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* The waiting text, then the FINAL record. */
static ms_err push_final(ms_sup_stream *st, const uint8_t *p, size_t n)
{
    ms_err err = MS_OK;
    pthread_mutex_lock(&st->mu);
    wait_room_locked(st);
    ENSURE_OUT(!st->cancel, MS_ERR_IO);
    TRY_OUT(take_pend_locked(st));
    TRY_OUT(seal_locked(st, p, n, 1));
out:
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return err;
}

static void *run(void *arg)
{
    ms_sup_stream *st = arg;
    ms_buf final;
    ms_buf_init(&final, MS_MAX_RECORD_PLAINTEXT);
    ms_err e = ms_bridge_turn(st->sup->bridge, st->req.p, st->req.len, 1, on_piece, st, &final);
    if (e == MS_OK || e == MS_ERR_PAYLOAD) {
        e = push_final(st, final.p, final.len);
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
    ms_buf_init(&st->pend, MS_STREAM_COALESCE_MAX);
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
    while (st->q.len == st->off && st->pend.len == 0 && !st->done) {
        pthread_cond_wait(&st->cv, &st->mu);
    }
    if (st->q.len == st->off && st->pend.len > 0) {
        ms_err e = take_pend_locked(st); /* every piece that came while we were away */
        (void)e;                         /* a failure cancels: the stream ends without FINAL */
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
    ms_buf_free(&st->pend);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}
