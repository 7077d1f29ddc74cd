/* libFuzzer harness for serve's Minions API: a run's request (run's shape, uploads, the operator's fields) and one document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/minions-secure/run_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ms_run r;
    static ms_cli_conn conn;
    char why[512];
    bool stream;
    /* no --context-root: context paths are refused before any file is looked at */
    ms_run_api_cfg cfg = {.conn = &conn, .logo = {.off = 1}};
    conn.url = "https://127.0.0.1:8443";
    conn.pin_file = "dev.pub";
    ms_run_init(&r);
    memset(why, 'x', sizeof why);
    int code = ms_run_api_parse(&cfg, (const char *)data, size, &r, &stream, why, sizeof why);
    /* A refusal is a usage error with a reason. */
    if ((code != MS_CLI_OK && code != MS_CLI_USAGE) || memchr(why, '\0', sizeof why) == NULL ||
        (code == MS_CLI_USAGE && why[0] == '\0')) {
        abort();
    }
    /* Accepted: every document was read into memory, none is left as a path. */
    if (code == MS_CLI_OK && (r.o.n_contexts != 0 || r.o.n_stdin_texts != 0)) {
        abort();
    }
    ms_run_free(&r);
    /* The same bytes as POST /v1/minions/documents: a status, and a reply either way. */
    ms_buf out;
    ms_buf_init(&out, 1u << 24);
    int status = ms_run_api_extract((const char *)data, size, &out);
    if ((status != 200 && status != 400) || out.len == 0) {
        abort();
    }
    ms_buf_free(&out);
    return 0;
}
