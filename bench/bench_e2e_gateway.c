/*
 * bench-e2e's gateway figures (docs/serve.md): the same turn through minions-secure serve's
 * gateway (in this process, one session, an HTTP POST to it) and through ask's library path
 * (on a client of its own: the request built from the prompt, ms_client_turn, the reply read
 * for its text, as cmd_ask.c does each turn), ABBA rounds in one run; then a long streamed
 * reply through the gateway's SSE and through ms_client_turn_stream, tokens per second.
 *
 * The turn's HTTP client is what a tool on libcurl does: one easy handle, its options set
 * once, the connection kept alive (TCP_NODELAY, libcurl's default), one perform a request.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench/bench_e2e.h"
#include "common/http.h"
#include "common/limits.h"
#include "gateway/gateway.h"
#include "secure/client/client.h"
#include "secure/client/payload.h"

typedef struct gw_ctx {
    ms_client *c;
    ms_http_client *http; /* the long streams */
    CURL *curl;           /* the turns */
    struct curl_slist *headers;
    const char *prompt;
    ms_buf req, reply, resp;
    char url[96], key[MS_GW_TOKEN_LEN + 1], body[512], auth[32 + MS_GW_TOKEN_LEN];
    size_t body_len, streamed;
} gw_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    return ms_buf_append(ctx, p, size * n) == MS_OK ? size * n : 0;
}

/* The turns' client: the POST of x->body to x->url with the token, set up once. */
static ms_err curl_open(gw_ctx *x)
{
    CURL *k = x->curl = curl_easy_init();
    snprintf(x->auth, sizeof x->auth, "Authorization: Bearer %s", x->key);
    struct curl_slist *h = curl_slist_append(NULL, x->auth);
    h = h ? curl_slist_append(h, "Content-Type: application/json") : NULL;
    x->headers = h;
    if (!k || !h || curl_easy_setopt(k, CURLOPT_URL, x->url) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 120000L) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)x->body_len) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, x->body) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(k, CURLOPT_WRITEDATA, &x->resp) != CURLE_OK) {
        return MS_ERR_INTERNAL;
    }
    return MS_OK;
}

static ms_err via_gateway(gw_ctx *x, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        long status = 0;
        ms_buf_clear(&x->resp);
        CURLcode rc = curl_easy_perform(x->curl);
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            return rc != CURLE_OK ? MS_ERR_IO : MS_ERR_HTTP_STATUS;
        }
    }
    return MS_OK;
}

/* ask's turn (cmd_ask.c): the request built from the prompt, the turn, the reply's text. */
static ms_err via_ask(gw_ctx *x, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        ms_client_reply rep;
        ms_buf_clear(&x->req);
        ms_err e = ms_client_request_build(NULL, x->prompt, 0, -1.0, &x->req);
        if (e == MS_OK) {
            e = bench_secure_turns(x->c, &x->req, &x->reply, 1);
        }
        if (e == MS_OK && (e = ms_client_reply_parse(x->reply.p, x->reply.len, 0, &rep)) == MS_OK) {
            e = rep.ok && rep.content_len > 0 ? MS_OK : MS_ERR_BACKEND_REMOTE;
            ms_client_reply_free(&rep);
        }
        if (e != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

static ms_err count_piece(void *ctx, const char *p, size_t n)
{
    (void)p;
    ((gw_ctx *)ctx)->streamed += n;
    return MS_OK;
}

static ms_err count_chunk(void *ctx, const uint8_t *p, size_t n)
{
    (void)p;
    ((gw_ctx *)ctx)->streamed += n;
    return MS_OK;
}

/* One long streamed reply each way: seconds it took. */
static ms_err stream_gateway(gw_ctx *x, const char *body, double *secs)
{
    long status = 0;
    double t0 = now_s();
    ms_err e = ms_http_post_stream(x->http, x->url, x->key, body, strlen(body), &status,
                                   count_chunk, x, NULL);
    *secs = now_s() - t0;
    return e != MS_OK ? e : status == 200 ? MS_OK : MS_ERR_HTTP_STATUS;
}

static ms_err stream_direct(gw_ctx *x, const ms_buf *req, double *secs)
{
    ms_buf fin;
    ms_buf_init(&fin, MS_MAX_RECORD_PLAINTEXT);
    double t0 = now_s();
    ms_err e = ms_client_turn_stream(x->c, req->p, req->len, count_piece, x, &fin, NULL);
    *secs = now_s() - t0;
    ms_buf_free(&fin);
    return e;
}

/* The gateway in this process on its own session, a client of ask's path, the two bodies. */
typedef struct gw_world {
    gw_ctx x;
    ms_gw *gw;
    ms_buf long_req;
    char stream_body[512];
} gw_world;

static void gw_close(gw_world *w)
{
    ms_gw_stop(w->gw);
    ms_client_free(w->x.c);
    ms_http_client_free(w->x.http);
    if (w->x.curl) {
        curl_easy_cleanup(w->x.curl);
    }
    curl_slist_free_all(w->x.headers);
    ms_buf_free(&w->x.req);
    ms_buf_free(&w->x.reply);
    ms_buf_free(&w->x.resp);
    ms_buf_free(&w->long_req);
}

static ms_err gw_open(gw_world *w, const char *url, const char *ca, const unsigned char *pk,
                      const char *prompt, const char *long_prompt)
{
    gw_ctx *x = &w->x;
    ms_client *first = NULL;
    uint16_t port;
    ms_err e;
    memset(w, 0, sizeof *w);
    x->prompt = prompt;
    ms_buf_init(&x->req, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&x->reply, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&x->resp, MS_MAX_HTTP_BODY);
    ms_buf_init(&w->long_req, MS_MAX_RECORD_PLAINTEXT);
    ms_client_cfg cc = {.url = url, .cacert = ca, .pinned_dev_pk = pk};
    ms_http_opts ho = {.connect_timeout_ms = 10000, .total_timeout_ms = 120000};
    if ((e = ms_gw_new_token(x->key)) != MS_OK || (e = ms_client_new(&first, &cc)) != MS_OK ||
        (e = ms_client_connect(first)) != MS_OK) {
        ms_client_free(first);
        return e;
    }
    ms_gw_cfg gc = {.listen = "127.0.0.1:0", .api_key = x->key, .client = &cc, .first = first,
                    .sessions = 1, .quiet = 1}; /* first is the gateway's, even on failure */
    if ((e = ms_gw_start(&gc, &w->gw, &port)) != MS_OK ||
        (e = ms_client_new(&x->c, &cc)) != MS_OK ||
        (e = ms_http_client_new(&ho, &x->http)) != MS_OK ||
        (e = ms_client_request_build(NULL, prompt, 0, -1.0, &x->req)) != MS_OK ||
        (e = ms_client_request_build(NULL, long_prompt, 0, -1.0, &w->long_req)) != MS_OK) {
        return e;
    }
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%u/v1/chat/completions", (unsigned)port);
    x->body_len = (size_t)snprintf(x->body, sizeof x->body,
                                   "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                                   "\"content\":\"%s\"}]}",
                                   prompt);
    snprintf(w->stream_body, sizeof w->stream_body,
             "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
             "\"%s\"}]}",
             long_prompt);
    return curl_open(x);
}

int bench_gateway(const bench_opts *o, const char *url, const char *ca, const unsigned char *pk,
                  const char *prompt, const char *long_prompt, bench_gw_res *r)
{
    gw_world w;
    gw_ctx *x = &w.x;
    ms_err e;
    int rc = -1;
    if ((e = gw_open(&w, url, ca, pk, prompt, long_prompt)) != MS_OK) {
        goto out;
    }
    if ((e = via_gateway(x, 20)) != MS_OK || (e = via_ask(x, 20)) != MS_OK) {
        goto out;
    }
    double t0 = now_s();
    if ((e = via_gateway(x, 10)) != MS_OK || (e = via_ask(x, 10)) != MS_OK) {
        goto out;
    }
    double per = (now_s() - t0) / 10;
    r->iters = (unsigned)(o->turn_round_s / (per > 1e-6 ? per : 1e-6));
    r->iters = r->iters < 5 ? 5 : r->iters;
    if (!r->turns_only) { /* a long stream takes a few ms: a round streams as long as it turns */
        double secs = 0, s1;
        for (int i = 0; i < 2; i++) {
            if ((e = stream_gateway(x, w.stream_body, &s1)) != MS_OK) {
                goto out;
            }
            secs += s1;
            if ((e = stream_direct(x, &w.long_req, &s1)) != MS_OK) {
                goto out;
            }
            secs += s1;
        }
        per = secs / 2; /* a stream each way, as `per` of the turns is a turn each way */
        r->stream_iters = (unsigned)(o->turn_round_s / (per > 1e-6 ? per : 1e-6));
        r->stream_iters = r->stream_iters < 1 ? 1 : r->stream_iters;
    }
    for (unsigned k = 0; k < o->rounds; k++) {
        for (int side = 0; side < 2; side++) {
            int gwside = (side == 0) == (k % 2 == 1); /* ABBA */
            double s0 = now_s();
            e = gwside ? via_gateway(x, r->iters) : via_ask(x, r->iters);
            double dt = (now_s() - s0) / r->iters;
            if (e != MS_OK) {
                goto out;
            }
            *(gwside ? &r->gw_s[k] : &r->ask_s[k]) = dt;
        }
        for (int side = 0; side < 2 && !r->turns_only; side++) {
            int gwside = (side == 0) == (k % 2 == 1);
            double secs = 0, s1;
            for (unsigned i = 0; i < r->stream_iters; i++) {
                x->streamed = 0;
                e = gwside ? stream_gateway(x, w.stream_body, &s1)
                           : stream_direct(x, &w.long_req, &s1);
                if (e != MS_OK) {
                    goto out;
                }
                secs += s1;
            }
            if (!gwside) {
                r->stream_bytes = x->streamed;
            }
            *(gwside ? &r->stream_gw_s[k] : &r->stream_direct_s[k]) = secs / r->stream_iters;
        }
    }
    r->done = 1;
    rc = 0;
out:
    if (rc != 0) {
        fprintf(stderr, "bench-e2e: the gateway run failed: %s\n", ms_err_str(e));
    }
    gw_close(&w);
    return rc;
}

int bench_gateway_profile(const bench_opts *o, const char *url, const char *ca,
                          const unsigned char *pk, const char *prompt, const char *long_prompt)
{
    gw_world w;
    double secs;
    ms_err e = gw_open(&w, url, ca, pk, prompt, long_prompt);
    for (unsigned i = 0; e == MS_OK && i < o->profile_turns; i++) {
        int gw = o->profile_gateway == 1;
        e = o->profile_stream ? (gw ? stream_gateway(&w.x, w.stream_body, &secs)
                                    : stream_direct(&w.x, &w.long_req, &secs))
                              : (gw ? via_gateway(&w.x, 1) : via_ask(&w.x, 1));
    }
    if (e != MS_OK) {
        fprintf(stderr, "bench-e2e: the gateway profile run failed: %s\n", ms_err_str(e));
    }
    gw_close(&w);
    return e == MS_OK ? 0 : -1;
}

void bench_print_gateway(FILE *f, const bench_opts *o, const bench_gw_res *r)
{
    double gw = bench_median(r->gw_s, o->rounds), ask = bench_median(r->ask_s, o->rounds);
    double sg = bench_median(r->stream_gw_s, o->rounds);
    double sd = bench_median(r->stream_direct_s, o->rounds);
    fprintf(f, "gateway_turn_vs_ask %.4f %s (paired %.4f; serve %.1f us, ask %.1f us per turn, "
               "%u turns a round)\n",
            gw / ask, bench_placement_names[r->placement], bench_paired(r->gw_s, r->ask_s, o->rounds),
            gw * 1e6, ask * 1e6, r->iters);
    if (!r->turns_only) {
        fprintf(f,
                "gateway_stream_tokens_per_s_vs_direct %.4f (paired %.4f; %.2f ms vs %.2f ms, "
                "%u streams a side a round)\n",
                sd / sg, bench_paired(r->stream_direct_s, r->stream_gw_s, o->rounds), sg * 1e3,
                sd * 1e3, r->stream_iters);
    }
    fprintf(f, "rounds:");
    for (unsigned k = 0; k < o->rounds; k++) {
        fprintf(f, " %.3f", r->gw_s[k] / r->ask_s[k]);
    }
    fputc('\n', f);
}
