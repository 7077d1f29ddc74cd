/*
 * The streamed endpoint: the HTTP connection's thread drives the engine call itself. When
 * libmicrohttpd asks for bytes and none are sealed, the reader steps the engine transfer
 * (ms_bridge_stream_step: a poll, then libcurl reads what arrived) until a piece, the end or
 * an error came; every piece that arrived in that step joins one STREAM_DATA record
 * (docs/protocol.md §12.3: what arrived while the reader was away goes out as one record).
 * No engine thread, no hand-over per piece: one wake-up a token, not three.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/limits.h"
#include "common/log.h"
#include "secure/stream.h"
#include "secure/supervisor/internal.h"

#define QUEUE_CAP (4u << 20) /* sealed bytes not yet read: at most what one step brings */
/* The longest wait of one step; libcurl's timers (the engine's timeouts) cut it short. */
#define STEP_WAIT_MS 1000

/* Only ever used by the connection's thread: libmicrohttpd calls the reader, and the free
   callback after the last read, on that thread (thread per connection). */
struct ms_sup_stream {
    ms_sup *sup;
    ms_session *s;
    ms_stream_tx tx;
    ms_bridge_stream *bs;
    ms_buf final; /* the FINAL's JSON once the engine call ended */
    ms_buf q;     /* sealed bytes not yet read */
    size_t off;   /* read position in q */
    ms_buf pend;  /* the engine's text not yet sealed: one STREAM_DATA record when taken */
    int done;     /* the engine call ended: FINAL sealed, or none (the stream ends short,
                     which the client reports as a broken stream) */
};

/* Seal one stream record straight into the queue: no record buffer, no copy. */
static ms_err seal(ms_sup_stream *st, const uint8_t *p, size_t n, int final)
{
    pthread_mutex_lock(&st->s->lock);
    ms_err err = ms_stream_tx_seal(&st->tx, st->s->chan, p, n, final, &st->q);
    st->s->records_out += err == MS_OK;
    st->s->bytes_out += err == MS_OK ? n : 0;
    pthread_mutex_unlock(&st->s->lock);
    return err;
}

/* The waiting pieces as one STREAM_DATA record; the text is wiped either way. */
static ms_err take_pend(ms_sup_stream *st)
{
    ms_err err = st->pend.len > 0 ? seal(st, st->pend.p, st->pend.len, 0) : MS_OK;
    ms_buf_clear(&st->pend); /* wipes: it was the answer's text */
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

/* A piece joins the waiting text; a full MS_STREAM_COALESCE_MAX is sealed here. Called from
   inside a step, on the connection's thread. */
static ms_err on_piece(void *ctx, const char *text, size_t len)
{
    ms_sup_stream *st = ctx;
    const uint8_t *p = (const uint8_t *)text;
    while (len > 0) {
        size_t room = MS_STREAM_COALESCE_MAX - st->pend.len;
        if (len > room && st->pend.len > 0) { /* the piece goes whole into the next record */
            TRY(take_pend(st));
            continue;
        }
        size_t n = len <= room ? len : utf8_cut(p, room);
        TRY(ms_buf_append(&st->pend, p, n));
        p += n;
        len -= n;
        if (st->pend.len == MS_STREAM_COALESCE_MAX) {
            TRY(take_pend(st));
        }
    }
    return MS_OK;
}

/* The engine call ended with e (its FINAL's JSON in st->final): the waiting text, then the
   FINAL record; anything else breaks the stream (no FINAL: never a short answer that looks
   complete). */
static void finish(ms_sup_stream *st, ms_err e)
{
    st->done = 1;
    if (e == MS_OK || e == MS_ERR_PAYLOAD) {
        e = take_pend(st);
        e = e ? e : seal(st, st->final.p, st->final.len, 1);
    }
    if (e != MS_OK) {
        ms_buf_clear(&st->pend);
        if (e != MS_ERR_IO) {
            ms_log(MS_LOG_WARN, "supervisor", "stream ended without FINAL: %s", ms_err_name(e));
        }
    }
    ms_buf_clear(&st->final);
}

/* Step the engine until something is sealed or the call ended. */
static void pump(ms_sup_stream *st)
{
    while (!st->done && st->q.len == st->off) {
        bool ended = false;
        ms_err e = ms_bridge_stream_step(st->bs, STEP_WAIT_MS, &ended, &st->final);
        if (ended || e != MS_OK) { /* an error always ends the call */
            finish(st, e);
        } else if (st->pend.len > 0 && take_pend(st) != MS_OK) {
            finish(st, MS_ERR_INTERNAL); /* a seal that fails ends the stream short */
        }
    }
}

static ms_sup_stream *stream_new(ms_sup *sup, ms_session *s)
{
    ms_sup_stream *st = calloc(1, sizeof *st);
    if (!st) {
        return NULL;
    }
    st->sup = sup;
    st->s = s;
    ms_buf_init(&st->final, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&st->q, QUEUE_CAP);
    ms_buf_init(&st->pend, MS_STREAM_COALESCE_MAX);
    return st;
}

void ms_sup_stream_start(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN],
                         const uint8_t *body, size_t len, ms_sup_reply *r, ms_sup_stream **out)
{
    ms_record_info info;
    ms_buf req;
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
    ms_buf_init(&req, MS_MAX_RECORD_PLAINTEXT);
    pthread_mutex_lock(&s->lock);
    ms_err e = ms_sup_open_body(s, body, len, MS_REC_MSG, &info, &req);
    if (e == MS_OK) {
        e = ms_stream_tx_init(&st->tx, info.msg_id);
    }
    if (e != MS_OK) {
        ms_sup_reject(sup, s, r, e);
    }
    s->requests += e == MS_OK;
    pthread_mutex_unlock(&s->lock);
    if (e == MS_OK) {
        /* The engine's request is sent now; the reader takes the answer as it comes. */
        e = ms_bridge_stream_open(sup->bridge, req.p, req.len, on_piece, st, &st->final, &st->bs);
        if (e != MS_OK) {
            ms_sup_fail(r, 500, e);
        }
    }
    ms_buf_free(&req); /* wipes: the user's turn */
    if (e != MS_OK) {
        ms_sup_stream_free(st);
        return;
    }
    r->status = 200;
    r->content_type = "application/octet-stream";
    *out = st;
}

size_t ms_sup_stream_read(ms_sup_stream *st, uint8_t *buf, size_t max)
{
    pump(st);
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
    return n;
}

void ms_sup_stream_free(ms_sup_stream *st)
{
    if (!st) {
        return;
    }
    ms_bridge_stream_close(st->bs); /* not done: the client went away, the engine call ends */
    ms_sessions_release(st->sup->sessions, st->s);
    ms_buf_free(&st->final);
    ms_buf_free(&st->q);
    ms_buf_free(&st->pend);
    free(st);
}
