/* BM25 keyword retrieval: the top k chunks of a document for a query, deterministically. */
#ifndef MS_PROTOCOLS_BM25_H
#define MS_PROTOCOLS_BM25_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/limits.h"
#include "protocols/chunk.h"

/*
 * Tokens: maximal runs of ASCII letters, ASCII digits and bytes >= 0x80 (so UTF-8 words
 * stay whole, undecoded); ASCII letters are lowercased; every other byte separates. A small
 * English stopword list (ms_bm25_is_stopword) is dropped from the query and the chunks.
 *
 * Scoring, for each distinct query term t (repeating a term in the query adds nothing):
 *   idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))     (never negative)
 *   score(c) = sum over t of idf(t) * tf(t,c) * (k1 + 1)
 *                            / (tf(t,c) + k1 * (1 - b + b * len(c) / avglen))
 * with k1 = 1.2, b = 0.75, N the number of chunks, df the chunks holding t, tf the count
 * of t in chunk c, len(c) its tokens after stopwords and avglen their mean over all chunks.
 * Chunks may overlap (fixed windows); each is counted as given.
 *
 * Result: chunks with a score above zero, best first, ties broken by the lower chunk index;
 * at most k. Scores are computed in one fixed order, so equal inputs give bit-equal output.
 * Only the query's terms are counted in the chunks, so the "vocabulary" is the query.
 *
 * Pure and thread-safe; memory is O(chunks x query terms), freed before returning.
 */
#define MS_BM25_K1 1.2
#define MS_BM25_B 0.75

typedef struct ms_bm25_hit {
    size_t chunk; /* index into the chunk array */
    double score;
} ms_bm25_hit;

/*
 * Rank chunks[0..n_chunks) of text[0..len) for query[0..query_len). hits has room for k
 * entries; *n_hits (set to 0 on entry) is how many were written (<= k; fewer when fewer
 * chunks match, 0 when none do or every query word is a stopword).
 * Errors:
 *   MS_ERR_ARG           NULL pointers with non-zero sizes, k == 0, a chunk outside text
 *   MS_ERR_CAP_EXCEEDED  query over MS_MAX_BM25_QUERY bytes, a query term over
 *                        MS_MAX_BM25_TERM bytes, more than MS_MAX_BM25_QUERY_TERMS distinct
 *                        terms, n_chunks or k over MS_MAX_CHUNKS, len over MS_MAX_CHUNK_TEXT,
 *                        more than MS_MAX_BM25_TOKENS tokens in all chunks together
 *   MS_ERR_NOMEM
 */
MS_MUST_CHECK ms_err ms_bm25_top_k(const char *text, size_t len, const ms_chunk *chunks,
                                   size_t n_chunks, const char *query, size_t query_len, size_t k,
                                   ms_bm25_hit *hits, size_t *n_hits);

/* Is the lowercase token (len bytes) one of the stopwords? */
bool ms_bm25_is_stopword(const char *tok, size_t len);

#endif
