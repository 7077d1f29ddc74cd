/* libFuzzer harness: a stream reader fed dropped, duplicated, reordered and foreign records. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "secure/record.h"
#include "secure/stream.h"
#include "secure/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a program. data[0] configures the run:
 *   bit 0     delivery: 0 = ms_channel_open + ms_stream_rx_add per record,
 *                       1 = ms_stream_rx_open over the concatenated batch
 *   bit 1     the reader expects msg_id 1 (0) or 2 (1)
 *   bit 2     cap: 0 = MS_MAX_STREAM_BYTES, 1 = (bits 3..7) * 8 bytes
 * Each following byte is one operation: low 3 bits the opcode, high 5 bits `arg`.
 *   0 DATA   seal STREAM_DATA: next byte p gives msg_id p & 3, chunk p >> 2; arg = length
 *   1 FINAL  seal STREAM_FINAL, same operands
 *   2 MSG    seal MSG: next byte p gives msg_id; arg = length
 *   3 DROP   remove pending record arg % n
 *   4 DUP    append a copy of pending record arg % n
 *   5 SWAP   swap pending records arg % n and (next byte) % n
 *   6 SEND   deliver the first arg % 8 + 1 pending records
 *   7 TX     arg & 3: 0 next chunk of the expected stream via ms_stream_tx (length arg >> 2),
 *            1 the same as its FINAL, 2 ms_channel_rekey, 3 seal a CLOSE
 * The supervisor seals, the client opens. At the end every pending record is delivered.
 */

#define MAX_PT 31u
#define MAX_REC (MS_REC_OVERHEAD + MAX_PT)
#define MAX_PENDING 32u
#define MAX_QUEUED 512u /* records ever queued (sealed or duplicated) per run */

static const uint8_t k_c2s[MS_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
static const uint8_t k_s2c[MS_KEY_LEN] = {
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40};
static const uint8_t session_id[MS_SESSION_ID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                                      0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
                                                      0xac, 0xad, 0xae, 0xaf};

/* A sealed record and what it was sealed from. */
typedef struct rec {
    uint8_t bytes[MAX_REC];
    size_t len;
    uint8_t type;
    uint32_t msg_id;
    uint32_t chunk;
    uint8_t pt[MAX_PT];
    size_t pt_len;
} rec;

/* What was delivered (per-record mode: what the channel accepted), in order. */
typedef struct entry {
    uint8_t type;
    uint32_t msg_id;
    uint32_t chunk;
    size_t pt_off;
    size_t pt_len;
} entry;

typedef struct run {
    const uint8_t *p;
    size_t n, off;
    int batch;
    uint32_t expect;
    size_t cap;
    struct ms_channel *srv, *cli;
    ms_stream_tx tx;
    ms_stream_rx rx;
    ms_buf scratch;
    rec pending[MAX_PENDING];
    size_t n_pending;
    size_t n_queued;
    unsigned n_sealed;
    entry log[MAX_QUEUED];
    size_t n_log;
    uint8_t delivered[MAX_QUEUED * MAX_PT];
    size_t delivered_len;
    uint8_t batch_buf[MAX_PENDING * MAX_REC];
    uint8_t pt[MAX_PT];
} run;

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static int next_byte(run *r, uint8_t *b)
{
    if (r->off >= r->n) {
        return 0;
    }
    *b = r->p[r->off++];
    return 1;
}

static void fill_pattern(uint8_t *pt, size_t len, unsigned salt)
{
    for (size_t i = 0; i < len; i++) {
        pt[i] = (uint8_t)(salt * 37u + i * 11u + 1u);
    }
}

static rec *queue_slot(run *r)
{
    if (r->n_pending >= MAX_PENDING || r->n_queued >= MAX_QUEUED) {
        return NULL;
    }
    return &r->pending[r->n_pending];
}

static void queue_commit(run *r)
{
    r->n_pending++;
    r->n_queued++;
}

/* Seal with the channel directly: the fields are the program's choice, right or wrong. */
static void op_seal(run *r, uint8_t type, uint32_t msg_id, uint32_t chunk, size_t len)
{
    rec *q = queue_slot(r);
    if (!q) {
        return;
    }
    fill_pattern(q->pt, len, r->n_sealed++);
    if (ms_channel_seal(r->srv, type, msg_id, chunk, q->pt, len, q->bytes, sizeof q->bytes,
                        &q->len) != MS_OK) {
        require(q->len == 0);
        return;
    }
    require(q->len == ms_record_size(len));
    q->type = type;
    q->msg_id = msg_id;
    q->chunk = chunk;
    q->pt_len = len;
    queue_commit(r);
}

/* Seal the next chunk of the expected stream with the stream sender. */
static void op_tx(run *r, size_t len, int final)
{
    rec *q = queue_slot(r);
    if (!q) {
        return;
    }
    uint32_t chunk = r->tx.next_chunk;
    fill_pattern(q->pt, len, r->n_sealed++);
    ms_buf_clear(&r->scratch);
    if (ms_stream_tx_seal(&r->tx, r->srv, q->pt, len, final, &r->scratch) != MS_OK) {
        require(r->scratch.len == 0 && r->tx.next_chunk == chunk);
        return;
    }
    require(r->scratch.len == ms_record_size(len) && r->tx.next_chunk == chunk + 1);
    memcpy(q->bytes, r->scratch.p, r->scratch.len);
    q->len = r->scratch.len;
    q->type = final ? MS_REC_STREAM_FINAL : MS_REC_STREAM_DATA;
    q->msg_id = r->expect;
    q->chunk = chunk;
    q->pt_len = len;
    queue_commit(r);
}

static void log_record(run *r, const rec *q)
{
    entry *e = &r->log[r->n_log++];
    e->type = q->type;
    e->msg_id = q->msg_id;
    e->chunk = q->chunk;
    e->pt_off = r->delivered_len;
    e->pt_len = q->pt_len;
    memcpy(r->delivered + r->delivered_len, q->pt, q->pt_len);
    r->delivered_len += q->pt_len;
}

/* Per-record delivery: the channel filters replays and stale epochs; the stream sees the rest. */
static void deliver_one(run *r, const rec *q)
{
    ms_record_info info;
    int fin = 0;
    if (ms_channel_open(r->cli, q->bytes, q->len, &info, r->pt, sizeof r->pt) != MS_OK) {
        return;
    }
    require(info.type == q->type && info.msg_id == q->msg_id && info.chunk == q->chunk &&
            info.pt_len == q->pt_len && info.rec_len == q->len);
    require(q->pt_len == 0 || memcmp(r->pt, q->pt, q->pt_len) == 0);
    log_record(r, q);
    if (ms_stream_rx_add(&r->rx, &info, r->pt, &fin) == MS_OK) {
        require(fin == (q->type == MS_REC_STREAM_FINAL));
    } else {
        require(fin == 0);
    }
}

static void deliver_batch(run *r, size_t k)
{
    size_t len = 0, used = 0;
    for (size_t i = 0; i < k; i++) {
        memcpy(r->batch_buf + len, r->pending[i].bytes, r->pending[i].len);
        len += r->pending[i].len;
        log_record(r, &r->pending[i]);
    }
    if (ms_stream_rx_open(&r->rx, r->cli, r->batch_buf, len, &used) == MS_OK) {
        require(used == len);
    }
}

static void op_send(run *r, size_t k)
{
    k = k < r->n_pending ? k : r->n_pending;
    if (r->batch) {
        deliver_batch(r, k);
    } else {
        for (size_t i = 0; i < k; i++) {
            deliver_one(r, &r->pending[i]);
        }
    }
    memmove(r->pending, r->pending + k, (r->n_pending - k) * sizeof r->pending[0]);
    r->n_pending -= k;
}

static void op_drop(run *r, unsigned arg)
{
    if (r->n_pending == 0) {
        return;
    }
    size_t i = arg % r->n_pending;
    memmove(r->pending + i, r->pending + i + 1, (r->n_pending - i - 1) * sizeof r->pending[0]);
    r->n_pending--;
}

static void op_dup(run *r, unsigned arg)
{
    rec *q = queue_slot(r);
    if (!q || r->n_pending == 0) {
        return;
    }
    *q = r->pending[arg % r->n_pending];
    queue_commit(r);
}

static void op_swap(run *r, unsigned arg, uint8_t other)
{
    if (r->n_pending == 0) {
        return;
    }
    size_t i = arg % r->n_pending, j = other % r->n_pending;
    rec t = r->pending[i];
    r->pending[i] = r->pending[j];
    r->pending[j] = t;
}

static void op_misc(run *r, unsigned arg)
{
    switch (arg & 3u) {
    case 0:
    case 1:
        op_tx(r, (arg >> 2) % (MAX_PT + 1), (arg & 1u) != 0);
        break;
    case 2: {
        ms_err e = ms_channel_rekey(r->srv);
        require(e == MS_OK || e == MS_ERR_CHANNEL_CLOSED);
        break;
    }
    default:
        op_seal(r, MS_REC_CLOSE, 0, 0, 0);
        break;
    }
}

/* One operation; 0 when the program ends (no more bytes). */
static int step(run *r)
{
    uint8_t b, p;
    if (!next_byte(r, &b)) {
        return 0;
    }
    unsigned arg = b >> 3;
    switch (b & 7u) {
    case 0:
    case 1:
        if (!next_byte(r, &p)) {
            return 0;
        }
        op_seal(r, (b & 7u) ? MS_REC_STREAM_FINAL : MS_REC_STREAM_DATA, p & 3u, p >> 2, arg);
        return 1;
    case 2:
        if (!next_byte(r, &p)) {
            return 0;
        }
        op_seal(r, MS_REC_MSG, p & 3u, 0, arg);
        return 1;
    case 3:
        op_drop(r, arg);
        return 1;
    case 4:
        op_dup(r, arg);
        return 1;
    case 5:
        if (!next_byte(r, &p)) {
            return 0;
        }
        op_swap(r, arg, p);
        return 1;
    case 6:
        op_send(r, arg % 8u + 1u);
        return 1;
    default:
        op_misc(r, arg);
        return 1;
    }
}

/* The delivered records are exactly chunks 0..n of the expected stream, FINAL last only. */
static int model_complete(const run *r)
{
    if (r->n_log == 0) {
        return 0;
    }
    for (size_t i = 0; i < r->n_log; i++) {
        const entry *e = &r->log[i];
        int last = i + 1 == r->n_log;
        if (e->msg_id != r->expect || e->chunk != i ||
            e->type != (last ? MS_REC_STREAM_FINAL : MS_REC_STREAM_DATA)) {
            return 0;
        }
    }
    return 1;
}

static void check_outcome(run *r)
{
    const uint8_t *d;
    size_t dlen;
    ms_err e = ms_stream_rx_finish(&r->rx, &d, &dlen);
    int complete = model_complete(r);
    if (e == MS_OK) {
        require(complete && dlen == r->delivered_len && dlen <= r->cap && d != NULL);
        require(dlen == 0 || memcmp(d, r->delivered, dlen) == 0);
    } else {
        require(d == NULL && dlen == 0);
        /* Per record, the channel already filtered what a stream may refuse: no false reject. */
        require(r->batch || !complete || r->delivered_len > r->cap);
    }
}

static run *run_new(const uint8_t *data, size_t size)
{
    run *r = calloc(1, sizeof *r);
    require(r != NULL);
    r->p = data;
    r->n = size;
    r->off = 1;
    r->batch = data[0] & 1u;
    r->expect = (data[0] & 2u) ? 2u : 1u;
    r->cap = (data[0] & 4u) ? (size_t)(data[0] >> 3) * 8u : MS_MAX_STREAM_BYTES;
    require(ms_channel_new(&r->srv, MS_ROLE_SERVER, session_id, k_c2s, k_s2c) == MS_OK);
    require(ms_channel_new(&r->cli, MS_ROLE_CLIENT, session_id, k_c2s, k_s2c) == MS_OK);
    require(ms_stream_tx_init(&r->tx, r->expect) == MS_OK);
    ms_stream_rx_init(&r->rx, r->expect, r->cap);
    ms_buf_init(&r->scratch, MAX_REC);
    return r;
}

static void run_free(run *r)
{
    ms_stream_rx_free(&r->rx);
    ms_buf_free(&r->scratch);
    ms_channel_free(r->srv);
    ms_channel_free(r->cli);
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    run *r = run_new(data, size);
    while (step(r)) {
    }
    op_send(r, r->n_pending);
    check_outcome(r);
    run_free(r);
    return 0;
}
