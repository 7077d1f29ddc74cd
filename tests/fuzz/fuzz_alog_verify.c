/* libFuzzer harness for audit logs: the verifier and the timeline never crash, and only the
 * one log sealed by the example key verifies under it (every byte is covered). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secure/audit/alog.h"
#include "secure/audit/alog_fmt.h"
#include "apps/minions-audit/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The worked example of docs/logs.md and its key (whose secret nobody has kept). */
static const char EXAMPLE[] =
    "{\"v\":1,\"seq\":0,\"ts\":\"2026-11-21T08:41:49.623Z\",\"type\":\"log_start\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"data\":{\"kind\":\"chat\",\"log_id\":\"13479a9e639373af6bcd67866b8f2428\",\"key\":\"ed25519:b2c24e7b45dbe280b75d08fdd52debc5ea1fe7c51041a07fb01eaa0fe8aea442\",\"program\":\"minions-secure 0.2.0\",\"started\":\"2026-11-21T08:41:49.623Z\"}}\n"
    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-21T08:41:49.623Z\",\"type\":\"chat_command\",\"prev\":\"51f20ddbf73941657412f01be274d64b667f0d37aa27c9c33fb55abc6f3a3977\",\"data\":{\"command\":\"/clear\"}}\n"
    "{\"v\":1,\"seq\":2,\"ts\":\"2026-11-21T08:41:49.623Z\",\"type\":\"log_seal\",\"prev\":\"717ee0900215e6bc1a9682fb2e18bb46ce71cc4347e7a7a63207995e2305ce68\",\"data\":{\"events\":2,\"sig\":\"ba4e6cebb50a53536d9bba4e5a2019e3bbece0bc1208fb3e26d96ca6285bea518273749bbb7c141fee05da60759b441397e9a5e457c43c2c342bb1f8dccd0503\"}}\n";
static const uint8_t EXAMPLE_PK[32] = {
    0xb2, 0xc2, 0x4e, 0x7b, 0x45, 0xdb, 0xe2, 0x80,
    0xb7, 0x5d, 0x08, 0xfd, 0xd5, 0x2d, 0xeb, 0xc5,
    0xea, 0x1f, 0xe7, 0xc5, 0x10, 0x41, 0xa0, 0x7f,
    0xb0, 0x1e, 0xaa, 0x0f, 0xe8, 0xae, 0xa4, 0x42,
};

#define need(c)                                                                                    \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_alog_verify: %s:%d: %s\n", __FILE__, __LINE__, #c);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_report(const ms_alog_report *r, size_t size)
{
    need(r->verdict <= MS_ALOG_PARTIAL);
    /* PARTIAL: a checkpoint verified, and it is among the lines that passed the chain */
    need(r->verdict != MS_ALOG_PARTIAL || (r->checkpoint_line > 0 && r->checkpoint_line <= r->events));
    need(memchr(r->checkpoint_ts, 0, sizeof r->checkpoint_ts) != NULL);
    need(memchr(r->why, 0, sizeof r->why) != NULL && r->why[0] != 0);
    need(memchr(r->kind, 0, sizeof r->kind) != NULL);
    need(memchr(r->log_id, 0, sizeof r->log_id) != NULL);
    need(r->bad_line <= size + 1u && r->events <= size);
    need((r->verdict == MS_ALOG_VALID) == (r->bad_line == 0 && size > 0) ||
         (r->verdict == MS_ALOG_MALFORMED && r->bad_line == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    ms_alog_report r;
    if (sink == NULL) {
        sink = fopen("/dev/null", "w");
        need(sink != NULL);
    }
    need(ms_alog_verify(data, size, EXAMPLE_PK, &r) == MS_OK);
    check_report(&r, size);
    if (r.verdict == MS_ALOG_VALID) {
        /* a forgery, or a byte the chain and the seal do not cover */
        need(size == sizeof EXAMPLE - 1 && memcmp(data, EXAMPLE, size) == 0);
    }
    need(ms_audit_show(sink, "fuzz", data, size, &r, true, size % 2 == 0) == MS_OK);
    need(ms_alog_verify(data, size, NULL, &r) == MS_OK);
    check_report(&r, size);
    int64_t ms;
    (void)ms_alog_ts_parse((const char *)data, size, &ms);
    return 0;
}
