/* Audit log format helpers: the seal message, the bounded line reader, timestamps. */
#include "secure/audit/alog_fmt.h"

#include <string.h>

#include "common/cursor.h"

/* domain || log_id || u64be(seq) || prev_hash || ts, into out. */
static void signed_message(const char *domain, size_t domain_len,
                           const uint8_t log_id[static MS_ALOG_ID_LEN], uint64_t seq,
                           const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                           const char ts[static MS_ALOG_TS_LEN], uint8_t *out)
{
    uint8_t *p = out;
    memcpy(p, domain, domain_len);
    p += domain_len;
    memcpy(p, log_id, MS_ALOG_ID_LEN);
    p += MS_ALOG_ID_LEN;
    ms_store_u64be(p, seq);
    p += 8u;
    memcpy(p, prev_hash, MS_ALOG_HASH_LEN);
    p += MS_ALOG_HASH_LEN;
    memcpy(p, ts, MS_ALOG_TS_LEN);
}

void ms_alog_seal_message(const uint8_t log_id[static MS_ALOG_ID_LEN], uint64_t seq,
                          const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                          const char ts[static MS_ALOG_TS_LEN],
                          uint8_t out[static MS_ALOG_SEAL_MSG_LEN])
{
    signed_message(MS_ALOG_SEAL_DOMAIN, MS_ALOG_SEAL_DOMAIN_LEN, log_id, seq, prev_hash, ts, out);
}

void ms_alog_checkpoint_message(const uint8_t log_id[static MS_ALOG_ID_LEN], uint64_t seq,
                                const uint8_t prev_hash[static MS_ALOG_HASH_LEN],
                                const char ts[static MS_ALOG_TS_LEN],
                                uint8_t out[static MS_ALOG_CHECKPOINT_MSG_LEN])
{
    signed_message(MS_ALOG_CHECKPOINT_DOMAIN, MS_ALOG_CHECKPOINT_DOMAIN_LEN, log_id, seq,
                   prev_hash, ts, out);
}

ms_alog_line_status ms_alog_line_next(const uint8_t *log, size_t len, size_t *off,
                                      const uint8_t **line, size_t *line_len)
{
    *line = NULL;
    *line_len = 0;
    if (*off >= len) {
        return MS_ALOG_LINE_END;
    }
    size_t rem = len - *off;
    size_t window = rem < MS_ALOG_MAX_LINE + 1u ? rem : MS_ALOG_MAX_LINE + 1u;
    const uint8_t *start = log + *off;
    const uint8_t *nl = memchr(start, '\n', window);
    *line = start;
    if (nl == NULL) {
        *line_len = rem <= MS_ALOG_MAX_LINE ? rem : MS_ALOG_MAX_LINE;
        return rem <= MS_ALOG_MAX_LINE ? MS_ALOG_LINE_CUT : MS_ALOG_LINE_LONG;
    }
    *line_len = (size_t)(nl - start);
    *off += *line_len + 1u;
    return MS_ALOG_LINE_OK;
}

/* Two or four decimal digits at s; -1 when any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool ms_alog_ts_parse(const char *ts, size_t len, int64_t *ms)
{
    *ms = 0;
    /* 0123456789012345678901234
     * 2026-11-21T08:00:00.123Z */
    if (ts == NULL || len != MS_ALOG_TS_LEN || ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' ||
        ts[13] != ':' || ts[16] != ':' || ts[19] != '.' || ts[23] != 'Z') {
        return false;
    }
    int y = digits(ts, 4), mo = digits(ts + 5, 2), d = digits(ts + 8, 2);
    int h = digits(ts + 11, 2), mi = digits(ts + 14, 2), s = digits(ts + 17, 2);
    int frac = digits(ts + 20, 3);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || s < 0 || s > 60 || frac < 0) {
        return false;
    }
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000 + frac;
    return true;
}
