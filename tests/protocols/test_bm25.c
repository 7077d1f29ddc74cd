/* Tests for BM25 retrieval: a hand-computed example, tokens, stopwords, ties, caps. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "protocols/bm25.h"
#include "tests/test.h"

#define L(s) s, sizeof(s) - 1

/* Chunks from '|'-separated parts of text (the separators stay outside every chunk). */
static size_t chunks_of(const char *text, ms_chunk *c, size_t max)
{
    size_t n = 0, start = 0, len = strlen(text);
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || text[i] == '|') {
            c[n++] = (ms_chunk){.off = start, .len = i - start, .page = 0};
            start = i + 1;
        }
    }
    return n;
}

static ms_err top(const char *text, const char *query, size_t k, ms_bm25_hit *hits, size_t *n)
{
    ms_chunk c[64];
    size_t nc = chunks_of(text, c, 64);
    return ms_bm25_top_k(text, strlen(text), c, nc, query, strlen(query), k, hits, n);
}

/*
 * N = 3 chunks; after stopwords (the, on, and): c0 = cat sat mat (3), c1 = dog sat (2),
 * c2 = cats dogs (2); avglen = 7/3. Query "cat sat": df(cat) = 1, df(sat) = 2.
 *   idf(cat) = ln(1 + 2.5/1.5) = ln(8/3) = 0.980829...
 *   idf(sat) = ln(1 + 1.5/2.5) = ln(1.6)  = 0.470004...
 *   c0: K = 1.2 (0.25 + 0.75 * 3 / (7/3)) = 1.457143; each term tf = 1: 2.2 / (1 + K)
 *       = 0.895349 -> 0.980829 * 0.895349 + 0.470004 * 0.895349 = 1.299002
 *   c1: K = 1.2 (0.25 + 0.75 * 2 / (7/3)) = 1.071429; sat: 0.470004 * 2.2 / 2.071429
 *       = 0.499176
 *   c2: "cats" is not "cat" (no stemming): no hit.
 */
static void test_hand_computed(void)
{
    ms_bm25_hit h[4];
    size_t n = 99;
    CHECK_OK(top("the cat sat on the mat|the dog sat|cats and dogs", "cat sat", 4, h, &n));
    CHECK(n == 2);
    CHECK(h[0].chunk == 0 && fabs(h[0].score - 1.29900153411424) < 1e-12);
    CHECK(h[1].chunk == 1 && fabs(h[1].score - 0.499176268302368) < 1e-12);
    /* k cuts the list; repeating a query term or changing its case changes nothing. */
    CHECK_OK(top("the cat sat on the mat|the dog sat|cats and dogs", "CAT, sat? cat!", 1, h, &n));
    CHECK(n == 1 && h[0].chunk == 0 && fabs(h[0].score - 1.29900153411424) < 1e-12);
}

static void test_tokens(void)
{
    ms_bm25_hit h[4];
    size_t n = 0;
    /* Letters and digits join; punctuation splits; ASCII case folds. */
    CHECK_OK(top("error E1234 at 10.0.0.7|no such thing", "e1234", 4, h, &n));
    CHECK(n == 1 && h[0].chunk == 0);
    CHECK_OK(top("ip 10.0.0.7 seen|other", "7", 4, h, &n));
    CHECK(n == 1 && h[0].chunk == 0);
    /* UTF-8 bytes stay inside tokens and are not folded or decoded. */
    CHECK_OK(top("un caf\xc3\xa9 noir|un cafe noir|CAF\xc3\x89", "caf\xc3\xa9", 4, h, &n));
    CHECK(n == 1 && h[0].chunk == 0);
    CHECK_OK(top("na\xc3\xafve-approach|naive", "approach", 4, h, &n));
    CHECK(n == 1 && h[0].chunk == 0);
    /* Tokens longer than any query term are counted but never match. */
    char longtok[300];
    memset(longtok, 'a', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    CHECK_OK(top(longtok, "aaaa", 4, h, &n));
    CHECK(n == 0);
}

static void test_stopwords(void)
{
    static const char *const words[] = {
        "a",    "about", "an",    "and",  "are",  "as",    "at",   "be",   "been",  "but",   "by",
        "can",  "did",   "do",    "does", "for",  "from",  "had",  "has",  "have",  "he",    "her",
        "his",  "how",   "i",     "if",   "in",   "into",  "is",   "it",   "its",   "me",    "my",
        "of",   "on",    "or",    "our",  "she",  "so",    "than", "that", "the",   "their", "them",
        "then", "there", "these", "they", "this", "those", "to",   "was",  "we",    "were",  "what",
        "when", "where", "which", "who",  "whom", "why",   "will", "with", "would", "you",   "your",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!ms_bm25_is_stopword(words[i], strlen(words[i]))) {
            TEST_FAIL_("\"%s\" should be a stopword", words[i]);
        }
    }
    static const char *const not_stop[] = {"cat", "not",  "no",    "x",  "them_",
                                           "th",  "thee", "yours", "The"};
    for (size_t i = 0; i < sizeof not_stop / sizeof not_stop[0]; i++) {
        CHECK(!ms_bm25_is_stopword(not_stop[i], strlen(not_stop[i])));
    }
    CHECK(!ms_bm25_is_stopword(NULL, 0) && !ms_bm25_is_stopword("", 0));
    ms_bm25_hit h[4];
    size_t n = 9;
    /* A query of stopwords only matches nothing; stopwords do not count in chunk lengths. */
    CHECK_OK(top("the cat|a dog", "The and OF", 4, h, &n));
    CHECK(n == 0);
    ms_bm25_hit a[2], b[2];
    size_t na = 0, nb = 0;
    CHECK_OK(top("cat dog|bird fish", "cat", 2, a, &na));
    CHECK_OK(top("the cat of the dog|bird fish", "cat", 2, b, &nb));
    CHECK(na == 1 && nb == 1 && a[0].score == b[0].score);
}

/* Equal scores: lower chunk index first, whatever the input order of equal chunks. */
static void test_ties(void)
{
    ms_bm25_hit h[8];
    size_t n = 0;
    CHECK_OK(top("alpha beta|gamma|alpha beta|delta|alpha beta", "alpha", 8, h, &n));
    CHECK(n == 3 && h[0].chunk == 0 && h[1].chunk == 2 && h[2].chunk == 4);
    CHECK(h[0].score == h[1].score && h[1].score == h[2].score);
    CHECK_OK(top("alpha beta|gamma|alpha beta|delta|alpha beta", "alpha", 2, h, &n));
    CHECK(n == 2 && h[0].chunk == 0 && h[1].chunk == 2);
    /* Higher tf wins over index; the same call twice gives bit-equal results. */
    ms_bm25_hit x[8], y[8];
    size_t nx = 0, ny = 0;
    CHECK_OK(top("alpha|alpha alpha|beta alpha", "alpha beta", 8, x, &nx));
    CHECK_OK(top("alpha|alpha alpha|beta alpha", "alpha beta", 8, y, &ny));
    CHECK(nx == 3 && x[0].chunk == 2 && nx == ny && memcmp(x, y, nx * sizeof x[0]) == 0);
}

static void test_edges(void)
{
    ms_bm25_hit h[2];
    size_t n = 9;
    CHECK_OK(ms_bm25_top_k("abc", 3, NULL, 0, "abc", 3, 2, h, &n));
    CHECK(n == 0);
    ms_chunk empty[2] = {{0, 0, 0}, {3, 0, 0}};
    CHECK_OK(ms_bm25_top_k("abc", 3, empty, 2, "abc", 3, 2, h, &n));
    CHECK(n == 0);
    CHECK_OK(ms_bm25_top_k("abc", 3, empty, 2, NULL, 0, 2, h, &n));
    CHECK(n == 0);
    /* Overlapping chunks are each counted as given. */
    ms_chunk over[2] = {{0, 7, 0}, {4, 3, 0}};
    CHECK_OK(ms_bm25_top_k("abc abc", 7, over, 2, "abc", 3, 2, h, &n));
    CHECK(n == 2 && h[0].chunk == 0);
}

static void test_args(void)
{
    ms_bm25_hit h[2];
    size_t n = 0;
    ms_chunk c[1] = {{0, 3, 0}};
    CHECK_ERR(ms_bm25_top_k("abc", 3, c, 1, "abc", 3, 0, h, &n), MS_ERR_ARG);
    CHECK_ERR(ms_bm25_top_k("abc", 3, c, 1, "abc", 3, 1, NULL, &n), MS_ERR_ARG);
    CHECK_ERR(ms_bm25_top_k("abc", 3, c, 1, "abc", 3, 1, h, NULL), MS_ERR_ARG);
    CHECK_ERR(ms_bm25_top_k(NULL, 3, c, 1, "abc", 3, 1, h, &n), MS_ERR_ARG);
    CHECK_ERR(ms_bm25_top_k("abc", 3, NULL, 1, "abc", 3, 1, h, &n), MS_ERR_ARG);
    CHECK_ERR(ms_bm25_top_k("abc", 3, c, 1, NULL, 3, 1, h, &n), MS_ERR_ARG);
    ms_chunk out1[1] = {{1, 3, 0}};
    CHECK_ERR(ms_bm25_top_k("abc", 3, out1, 1, "abc", 3, 1, h, &n), MS_ERR_ARG);
    ms_chunk out2[1] = {{4, 0, 0}};
    CHECK_ERR(ms_bm25_top_k("abc", 3, out2, 1, "abc", 3, 1, h, &n), MS_ERR_ARG);
    ms_chunk wrap[1] = {{2, SIZE_MAX, 0}};
    CHECK_ERR(ms_bm25_top_k("abc", 3, wrap, 1, "abc", 3, 1, h, &n), MS_ERR_ARG);
}

/* Each cap at its limit (accepted) and one over (refused). */
static void test_caps(void)
{
    ms_bm25_hit h[4];
    size_t n = 0;
    ms_chunk c[1] = {{0, 5, 0}};
    char q[MS_MAX_BM25_QUERY + 1];
    /* Query bytes. */
    memset(q, ' ', sizeof q);
    memcpy(q, "hello", 5);
    CHECK_OK(ms_bm25_top_k("hello", 5, c, 1, q, MS_MAX_BM25_QUERY, 4, h, &n));
    CHECK(n == 1);
    CHECK_ERR(ms_bm25_top_k("hello", 5, c, 1, q, MS_MAX_BM25_QUERY + 1, 4, h, &n),
              MS_ERR_CAP_EXCEEDED);
    /* Term bytes. */
    memset(q, 'q', MS_MAX_BM25_TERM + 1);
    CHECK_OK(ms_bm25_top_k("hello", 5, c, 1, q, MS_MAX_BM25_TERM, 4, h, &n));
    CHECK_ERR(ms_bm25_top_k("hello", 5, c, 1, q, MS_MAX_BM25_TERM + 1, 4, h, &n),
              MS_ERR_CAP_EXCEEDED);
    /* Distinct terms (duplicates and stopwords do not count). */
    size_t qn = 0;
    for (unsigned i = 0; i <= MS_MAX_BM25_QUERY_TERMS; i++) {
        qn += (size_t)snprintf(q + qn, sizeof q - qn, "t%u the t0 ", i);
    }
    size_t at_cap = (size_t)(strstr(q, "t64 ") - q);
    CHECK_OK(ms_bm25_top_k("hello", 5, c, 1, q, at_cap, 4, h, &n));
    CHECK_ERR(ms_bm25_top_k("hello", 5, c, 1, q, qn, 4, h, &n), MS_ERR_CAP_EXCEEDED);
    /* Chunk count and k. */
    ms_chunk *many = calloc(MS_MAX_CHUNKS + 1, sizeof *many);
    ms_bm25_hit *hits = calloc(MS_MAX_CHUNKS + 1, sizeof *hits);
    CHECK(many != NULL && hits != NULL);
    if (many != NULL && hits != NULL) {
        for (size_t i = 0; i <= MS_MAX_CHUNKS; i++) {
            many[i] = (ms_chunk){.off = 0, .len = 5, .page = 0};
        }
        CHECK_OK(
            ms_bm25_top_k("hello", 5, many, MS_MAX_CHUNKS, "hello", 5, MS_MAX_CHUNKS, hits, &n));
        CHECK(n == MS_MAX_CHUNKS && hits[MS_MAX_CHUNKS - 1].chunk == MS_MAX_CHUNKS - 1);
        CHECK_ERR(ms_bm25_top_k("hello", 5, many, MS_MAX_CHUNKS + 1, "hello", 5, 4, hits, &n),
                  MS_ERR_CAP_EXCEEDED);
        CHECK_ERR(ms_bm25_top_k("hello", 5, many, 1, "hello", 5, MS_MAX_CHUNKS + 1, hits, &n),
                  MS_ERR_CAP_EXCEEDED);
    }
    free(many);
    free(hits);
    CHECK_ERR(ms_bm25_top_k("hello", MS_MAX_CHUNK_TEXT + 1, c, 1, "hello", 5, 4, h, &n),
              MS_ERR_CAP_EXCEEDED);
}

/* MS_MAX_BM25_TOKENS over all chunks (overlapping chunks count again, stopwords count too). */
static void test_token_cap(void)
{
    size_t per = 1u << 19; /* tokens in the text */
    size_t len = 2 * per;
    size_t nc = MS_MAX_BM25_TOKENS / per;
    char *t = malloc(len);
    ms_chunk *c = calloc(nc + 1, sizeof *c);
    CHECK(t != NULL && c != NULL && MS_MAX_BM25_TOKENS % per == 0);
    if (t != NULL && c != NULL) {
        for (size_t i = 0; i < len; i += 2) {
            t[i] = i % 4 == 0 ? 'x' : 'a';
            t[i + 1] = ' ';
        }
        for (size_t i = 0; i <= nc; i++) {
            c[i] = (ms_chunk){.off = 0, .len = len, .page = 0};
        }
        ms_bm25_hit h[2];
        size_t n = 0;
        CHECK_OK(ms_bm25_top_k(t, len, c, nc, "x", 1, 2, h, &n));
        CHECK(n == 2);
        CHECK_ERR(ms_bm25_top_k(t, len, c, nc + 1, "x", 1, 2, h, &n), MS_ERR_CAP_EXCEEDED);
        CHECK(n == 0);
    }
    free(t);
    free(c);
}

int main(void)
{
    RUN(test_hand_computed);
    RUN(test_tokens);
    RUN(test_stopwords);
    RUN(test_ties);
    RUN(test_edges);
    RUN(test_args);
    RUN(test_caps);
    RUN(test_token_cap);
    return TEST_SUMMARY();
}
