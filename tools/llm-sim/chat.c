/* llm-sim chat turns: decode, match the script, wait, then answer whole or as a paced stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/random.h"
#include "tools/llm-sim/http.h"
#include "tools/llm-sim/pace.h"
#include "tools/llm-sim/tokens.h"

#define NS_PER_MS 1000000ull
#define STREAM_BLOCK 4096u

typedef enum phase {
    PHASE_OPEN,   /* the format's opening event (OpenAI's role chunk) */
    PHASE_TOKENS, /* one event per piece, paced */
    PHASE_CLOSE,  /* the final event(s) */
    PHASE_DONE,
} phase;

/* A streamed reply in progress; owned by its MHD response (freed by stream_free). */
typedef struct stream {
    const struct llmsim_server *s;
    const llmsim_format *f;
    llmsim_turn turn;
    const char *text; /* borrowed from the script, which outlives the server */
    size_t len;
    size_t off;       /* start of the next piece */
    uint64_t sent;    /* pieces sent */
    bool cut;
    uint32_t cut_after;
    uint64_t t0, gen_start;
    phase ph;
    ms_buf out;       /* the current event, handed to MHD from out_off on */
    size_t out_off;
} stream;

static uint64_t at_least_1(uint64_t v)
{
    return v > 0 ? v : 1;
}

static ms_err turn_init(const struct llmsim_server *s, const llmsim_request *req,
                        const llmsim_plan *plan, llmsim_turn *t, size_t *text_len)
{
    uint8_t rnd[16];
    char hex[MS_HEX_BUF_LEN(sizeof rnd)];
    size_t n;
    memset(t, 0, sizeof *t);
    snprintf(t->model, sizeof t->model, "%s", req->model != NULL ? req->model : s->cfg->model);
    TRY(ms_random_bytes(rnd, sizeof rnd));
    TRY(ms_hex_encode(rnd, sizeof rnd, hex, sizeof hex, &n));
    snprintf(t->id, sizeof t->id, "chatcmpl-%s", hex);
    t->created = llmsim_unix_now();
    t->prompt_tokens = llmsim_request_prompt_tokens(req);
    t->include_usage = req->include_usage;
    t->finish = LLMSIM_FINISH_STOP;
    t->completion_tokens = llmsim_tokens_count(plan->text, plan->len);
    *text_len = plan->len;
    if (req->max_tokens > 0 && t->completion_tokens > req->max_tokens) {
        *text_len = llmsim_tokens_prefix(plan->text, plan->len, req->max_tokens);
        t->completion_tokens = req->max_tokens;
        t->finish = LLMSIM_FINISH_LENGTH;
    }
    if (plan->length) {
        t->finish = LLMSIM_FINISH_LENGTH;
    }
    t->quirks = plan->quirks;
    return MS_OK;
}

static enum MHD_Result answer_whole(struct llmsim_server *s, struct MHD_Connection *c,
                                    const llmsim_format *f, llmsim_turn *t, const char *text,
                                    size_t len, uint64_t t0)
{
    uint64_t gen_start = llmsim_now_ns();
    uint64_t pace = llmsim_tokens_ns(t->completion_tokens, s->cfg->tokens_per_sec);
    if (!llmsim_sleep_ns(pace, &s->stopping)) {
        return MHD_NO;
    }
    uint64_t now = llmsim_now_ns();
    if (t->finish != LLMSIM_FINISH_LOAD) {
        t->eval_ns = t->completion_tokens > 0 ? at_least_1(now - gen_start) : 0;
        t->total_ns = at_least_1(now - t0);
    }
    ms_buf out;
    ms_buf_init(&out, LLMSIM_MAX_ANSWER);
    ms_err e = f->reply(t, text, len, &out);
    enum MHD_Result ok = e == MS_OK ? llmsim_http_send(c, 200, f->json_type, out.p, out.len)
                                    : llmsim_http_error(c, f, 500, ms_err_str(e));
    ms_buf_free(&out);
    return ok;
}

static ssize_t formatted(ms_err e)
{
    return e == MS_OK ? 0 : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The next piece's event; a cut stream ends with an error instead of its final event. */
static ssize_t next_token(stream *st)
{
    size_t off = st->off, n;
    if (st->cut && st->sent == st->cut_after) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (!llmsim_tokens_next(st->text, st->len, &off, &n)) {
        if (st->cut) {
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        st->ph = PHASE_CLOSE;
        return 0;
    }
    uint64_t pace = llmsim_tokens_ns(1, st->s->cfg->tokens_per_sec);
    if (!llmsim_sleep_ns(pace, &st->s->stopping)) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    ms_err e = st->f->stream_piece(&st->turn, st->text + st->off, n, &st->out);
    st->off = off;
    st->sent++;
    return formatted(e);
}

/* Fill st->out with the next event(s); 0, or an MHD end code. */
static ssize_t next_event(stream *st)
{
    uint64_t now;
    if (atomic_load(&st->s->stopping)) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    switch (st->ph) {
    case PHASE_OPEN:
        st->ph = PHASE_TOKENS;
        st->gen_start = llmsim_now_ns();
        return formatted(st->f->stream_open(&st->turn, &st->out));
    case PHASE_TOKENS:
        return next_token(st);
    case PHASE_CLOSE:
        st->ph = PHASE_DONE;
        now = llmsim_now_ns();
        st->turn.eval_ns = st->turn.completion_tokens > 0 ? at_least_1(now - st->gen_start) : 0;
        st->turn.total_ns = at_least_1(now - st->t0);
        return formatted(st->f->stream_close(&st->turn, &st->out));
    default:
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
}

/* MHD's content reader, on the connection's thread: it may sleep between pieces. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *st = cls;
    (void)pos;
    while (st->out_off == st->out.len) {
        ms_buf_clear(&st->out);
        st->out_off = 0;
        ssize_t r = next_event(st);
        if (r < 0) {
            return r;
        }
    }
    size_t n = st->out.len - st->out_off;
    n = n < max ? n : max;
    memcpy(buf, st->out.p + st->out_off, n);
    st->out_off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream *st = cls;
    ms_buf_free(&st->out);
    free(st);
}

static enum MHD_Result answer_stream(struct llmsim_server *s, struct MHD_Connection *c,
                                     const llmsim_format *f, const llmsim_turn *t,
                                     const llmsim_plan *plan, size_t text_len, uint64_t t0)
{
    stream *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return MHD_NO;
    }
    *st = (stream){.s = s, .f = f, .turn = *t, .text = plan->text, .len = text_len,
                   .cut = plan->cut, .cut_after = plan->cut_after, .t0 = t0,
                   .ph = PHASE_OPEN};
    ms_buf_init(&st->out, LLMSIM_MAX_ANSWER);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
    if (resp == NULL) {
        stream_free(st);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 f->stream_type);
    if (ok == MHD_YES) {
        ok = MHD_queue_response(c, 200, resp);
    }
    MHD_destroy_response(resp); /* frees st once MHD is done with it */
    return ok;
}

enum MHD_Result llmsim_chat(struct llmsim_server *s, struct MHD_Connection *c, llmsim_api api,
                            const uint8_t *body, size_t len)
{
    const llmsim_format *f = api == LLMSIM_API_OLLAMA ? &llmsim_ollama : &llmsim_openai;
    uint64_t t0 = llmsim_now_ns();
    llmsim_request req;
    llmsim_plan plan;
    llmsim_turn turn;
    size_t text_len = 0;
    char why[LLMSIM_WHY_LEN];
    ms_err e = llmsim_request_decode(api, (const char *)body, len, &req, why, sizeof why);
    if (e != MS_OK) {
        return llmsim_http_error(c, f, e == MS_ERR_NOMEM ? 500 : 400, why);
    }
    llmsim_script_match(s->script, req.msgs, req.n_msgs, &plan);
    e = turn_init(s, &req, &plan, &turn, &text_len);
    bool streamed = req.stream;
    /* Ollama answers a chat without messages by loading the model: done_reason "load". */
    bool load = api == LLMSIM_API_OLLAMA && req.n_msgs == 0;
    llmsim_request_free(&req);
    if (e != MS_OK) {
        return llmsim_http_error(c, f, 500, ms_err_str(e));
    }
    uint64_t decoded = llmsim_now_ns();
    turn.prompt_eval_ns = turn.prompt_tokens > 0 ? at_least_1(decoded - t0) : 0;
    uint64_t wait_ms = (uint64_t)s->cfg->latency_ms + plan.delay_ms;
    if (!llmsim_sleep_ns(wait_ms * NS_PER_MS, &s->stopping)) {
        return MHD_NO;
    }
    turn.load_ns = at_least_1(llmsim_now_ns() - decoded);
    if (plan.status != 0) {
        return llmsim_http_error_after(c, f, plan.status, plan.text, plan.retry_after);
    }
    if (load) {
        llmsim_turn loaded = {.created = turn.created, .finish = LLMSIM_FINISH_LOAD};
        memcpy(loaded.model, turn.model, sizeof loaded.model);
        return answer_whole(s, c, f, &loaded, "", 0, t0);
    }
    return streamed ? answer_stream(s, c, f, &turn, &plan, text_len, t0)
                    : answer_whole(s, c, f, &turn, plan.text, text_len, t0);
}
