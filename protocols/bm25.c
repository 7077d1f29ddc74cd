/* BM25 over chunk spans: query terms, per-chunk counts of those terms, scores, ranking. */
#include "protocols/bm25.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"

_Static_assert(MS_MAX_BM25_TOKENS <= UINT32_MAX, "token counts are kept in 32 bits");
_Static_assert(MS_MAX_CHUNKS <= SIZE_MAX / MS_MAX_BM25_QUERY_TERMS / sizeof(uint32_t),
               "count matrix size overflows");

/* Sorted (strcmp order) for bsearch; the tests check that every word is found. */
static const char *const stopwords[] = {
    "a",    "about", "an",    "and",  "are",  "as",    "at",   "be",   "been",  "but",   "by",
    "can",  "did",   "do",    "does", "for",  "from",  "had",  "has",  "have",  "he",    "her",
    "his",  "how",   "i",     "if",   "in",   "into",  "is",   "it",   "its",   "me",    "my",
    "of",   "on",    "or",    "our",  "she",  "so",    "than", "that", "the",   "their", "them",
    "then", "there", "these", "they", "this", "those", "to",   "was",  "we",    "were",  "what",
    "when", "where", "which", "who",  "whom", "why",   "will", "with", "would", "you",   "your",
};
#define STOPWORD_MAX 5u

struct key {
    const char *s;
    size_t n;
};

static int stop_cmp(const void *a, const void *b)
{
    const struct key *k = a;
    const char *w = *(const char *const *)b;
    size_t wn = strlen(w);
    int c = strncmp(k->s, w, k->n < wn ? k->n : wn);
    return c != 0 ? c : (k->n > wn) - (k->n < wn);
}

bool ms_bm25_is_stopword(const char *tok, size_t len)
{
    if (tok == NULL || len == 0 || len > STOPWORD_MAX) {
        return false;
    }
    struct key k = {tok, len};
    return bsearch(&k, stopwords, sizeof stopwords / sizeof stopwords[0], sizeof stopwords[0],
                   stop_cmp) != NULL;
}

/* ---- Tokens ----------------------------------------------------------------------------- */

static bool tok_byte(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* The next token in p[*i..e): its start and length; false when there is none. */
static bool next_token(const uint8_t *p, size_t *i, size_t e, size_t *ts, size_t *tn)
{
    size_t k = *i;
    while (k < e && !tok_byte(p[k])) {
        k++;
    }
    size_t s = k;
    while (k < e && tok_byte(p[k])) {
        k++;
    }
    *i = k;
    *ts = s;
    *tn = k - s;
    return k > s;
}

/* Lowercase copy into out (n <= cap is the caller's check). */
static void lower_copy(char *out, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        out[k] = (char)lower(p[k]);
    }
}

/* ---- One table for query terms and stopwords (built per call: no shared state) ---------- */

#define N_STOP (sizeof stopwords / sizeof stopwords[0])
#define ENTRIES (MS_MAX_BM25_QUERY_TERMS + N_STOP)
#define SLOTS 512u /* a power of two, at least twice ENTRIES: probes stay short and end */
_Static_assert(SLOTS >= 2 * ENTRIES, "the table must stay at most half full");

struct entry {
    const char *s; /* lowercase bytes */
    size_t n;
    int term; /* query term index, or -1 for a stopword */
};

struct terms {
    char text[MS_MAX_BM25_QUERY_TERMS][MS_MAX_BM25_TERM];
    struct entry e[ENTRIES];
    size_t n_entries;
    size_t count;        /* query terms */
    int16_t slot[SLOTS]; /* entry index, -1 empty */
};

/* FNV-1a over the lowercased bytes. */
static uint32_t hash_lower(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < n; k++) {
        h = (h ^ lower(p[k])) * 16777619u;
    }
    return h;
}

static bool same_lower(const struct entry *e, const uint8_t *p, size_t n)
{
    if (e->n != n) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        if ((uint8_t)e->s[k] != lower(p[k])) {
            return false;
        }
    }
    return true;
}

/* The token's entry, or NULL with *slot where it would go. */
static const struct entry *lookup(const struct terms *t, const uint8_t *p, size_t n, uint32_t *slot)
{
    uint32_t h = hash_lower(p, n) & (SLOTS - 1);
    while (t->slot[h] >= 0) {
        const struct entry *e = &t->e[t->slot[h]];
        if (same_lower(e, p, n)) {
            *slot = h;
            return e;
        }
        h = (h + 1) & (SLOTS - 1);
    }
    *slot = h;
    return NULL;
}

static void insert(struct terms *t, uint32_t slot, const char *s, size_t n, int term)
{
    t->e[t->n_entries] = (struct entry){.s = s, .n = n, .term = term};
    t->slot[slot] = (int16_t)t->n_entries;
    t->n_entries++;
}

static ms_err parse_query(const uint8_t *q, size_t qn, struct terms *t)
{
    memset(t->slot, 0xFF, sizeof t->slot);
    t->n_entries = 0;
    t->count = 0;
    uint32_t slot = 0;
    for (size_t k = 0; k < N_STOP; k++) {
        size_t n = strlen(stopwords[k]);
        if (lookup(t, (const uint8_t *)stopwords[k], n, &slot) == NULL) {
            insert(t, slot, stopwords[k], n, -1);
        }
    }
    size_t i = 0, ts = 0, tn = 0;
    while (next_token(q, &i, qn, &ts, &tn)) {
        ENSURE(tn <= MS_MAX_BM25_TERM, MS_ERR_CAP_EXCEEDED);
        if (lookup(t, q + ts, tn, &slot) != NULL) {
            continue; /* a stopword, or a term already there */
        }
        ENSURE(t->count < MS_MAX_BM25_QUERY_TERMS, MS_ERR_CAP_EXCEEDED);
        lower_copy(t->text[t->count], q + ts, tn);
        insert(t, slot, t->text[t->count], tn, (int)t->count);
        t->count++;
    }
    return MS_OK;
}

/* ---- Counting and scoring --------------------------------------------------------------- */

struct counts {
    uint32_t *tf; /* n_chunks x terms */
    uint32_t *dl; /* tokens per chunk, stopwords excluded */
    size_t *df;   /* chunks per term */
    uint64_t total_dl;
};

static ms_err count_chunk(const uint8_t *p, const ms_chunk *c, size_t ci, const struct terms *t,
                          struct counts *k, size_t *budget)
{
    size_t i = c->off, e = c->off + c->len, ts = 0, tn = 0;
    uint32_t *row = k->tf + ci * t->count;
    while (next_token(p, &i, e, &ts, &tn)) {
        ENSURE(*budget > 0, MS_ERR_CAP_EXCEEDED);
        (*budget)--;
        uint32_t slot = 0;
        const struct entry *en = tn <= MS_MAX_BM25_TERM ? lookup(t, p + ts, tn, &slot) : NULL;
        if (en != NULL && en->term < 0) {
            continue; /* stopword */
        }
        k->dl[ci]++;
        if (en != NULL) {
            k->df[en->term] += row[en->term] == 0;
            row[en->term]++;
        }
    }
    k->total_dl += k->dl[ci];
    return MS_OK;
}

static int hit_cmp(const void *a, const void *b)
{
    const ms_bm25_hit *x = a, *y = b;
    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    return (x->chunk > y->chunk) - (x->chunk < y->chunk);
}

/* Scores above zero into all[], sorted; returns how many. */
static size_t score_all(const struct terms *t, const struct counts *k, size_t n_chunks,
                        ms_bm25_hit *all)
{
    double idf[MS_MAX_BM25_QUERY_TERMS];
    double avg = (double)k->total_dl / (double)n_chunks;
    for (size_t j = 0; j < t->count; j++) {
        idf[j] = log(1.0 + ((double)n_chunks - (double)k->df[j] + 0.5) / ((double)k->df[j] + 0.5));
    }
    size_t n = 0;
    for (size_t c = 0; c < n_chunks && avg > 0; c++) {
        double norm = MS_BM25_K1 * (1.0 - MS_BM25_B + MS_BM25_B * (double)k->dl[c] / avg);
        double s = 0;
        for (size_t j = 0; j < t->count; j++) {
            double tf = k->tf[c * t->count + j];
            s += tf > 0 ? idf[j] * tf * (MS_BM25_K1 + 1.0) / (tf + norm) : 0.0;
        }
        if (s > 0) {
            all[n++] = (ms_bm25_hit){.chunk = c, .score = s};
        }
    }
    qsort(all, n, sizeof *all, hit_cmp);
    return n;
}

static ms_err check_args(const char *text, size_t len, const ms_chunk *chunks, size_t n_chunks,
                         const char *query, size_t query_len, size_t k, const ms_bm25_hit *hits)
{
    ENSURE(k > 0 && hits != NULL, MS_ERR_ARG);
    ENSURE((text != NULL || len == 0) && (chunks != NULL || n_chunks == 0), MS_ERR_ARG);
    ENSURE(query != NULL || query_len == 0, MS_ERR_ARG);
    ENSURE(query_len <= MS_MAX_BM25_QUERY && len <= MS_MAX_CHUNK_TEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(n_chunks <= MS_MAX_CHUNKS && k <= MS_MAX_CHUNKS, MS_ERR_CAP_EXCEEDED);
    for (size_t c = 0; c < n_chunks; c++) {
        ENSURE(chunks[c].off <= len && chunks[c].len <= len - chunks[c].off, MS_ERR_ARG);
    }
    return MS_OK;
}

ms_err ms_bm25_top_k(const char *text, size_t len, const ms_chunk *chunks, size_t n_chunks,
                     const char *query, size_t query_len, size_t k, ms_bm25_hit *hits,
                     size_t *n_hits)
{
    ENSURE(n_hits != NULL, MS_ERR_ARG);
    *n_hits = 0;
    TRY(check_args(text, len, chunks, n_chunks, query, query_len, k, hits));
    struct terms *t = calloc(1, sizeof *t);
    ENSURE(t != NULL, MS_ERR_NOMEM);
    ms_err err = parse_query((const uint8_t *)query, query_len, t);
    if (err != MS_OK || t->count == 0 || n_chunks == 0) {
        free(t);
        return err;
    }
    struct counts cnt = {
        .tf = calloc(n_chunks * t->count, sizeof(uint32_t)),
        .dl = calloc(n_chunks, sizeof(uint32_t)),
        .df = calloc(t->count, sizeof(size_t)),
    };
    ms_bm25_hit *all = calloc(n_chunks, sizeof *all);
    ENSURE_OUT(cnt.tf != NULL && cnt.dl != NULL && cnt.df != NULL && all != NULL, MS_ERR_NOMEM);
    size_t budget = MS_MAX_BM25_TOKENS;
    for (size_t c = 0; c < n_chunks; c++) {
        TRY_OUT(count_chunk((const uint8_t *)text, &chunks[c], c, t, &cnt, &budget));
    }
    size_t n = score_all(t, &cnt, n_chunks, all);
    n = n < k ? n : k;
    memcpy(hits, all, n * sizeof *all);
    *n_hits = n;
out:
    free(all);
    free(cnt.df);
    free(cnt.dl);
    free(cnt.tf);
    free(t);
    return err;
}
