/*
 * libFuzzer harness for minions-secure attest's input: the evidence file reader (every form),
 * then the inspection of whatever evidence it yields (no policy, the file's binding), and
 * for saved files the writer, whose output must read back to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure/attest/inspect.h"
#include "secure/attest/evfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const ms_evfile *f)
{
    ms_evidence_view v = {.type = f->type, .mode = f->mode, .data = f->evidence.p,
                          .len = f->evidence.len, .not_after = f->not_after,
                          .now = f->captured_at, .static_pk = f->static_pk,
                          .binding = f->binding, .tls_spki_hash = f->tls_spki_hash,
                          .session_id = f->session_id, .transcript_hash = f->transcript_hash};
    ms_buf js;
    ms_evfile g;
    ms_buf_init(&js, MS_MAX_EVIDENCE_FILE);
    ms_evfile_init(&g);
    if (ms_evfile_json(&v, f->url, f->any_evidence, &js) != MS_OK ||
        ms_evfile_parse(js.p, js.len, &g) != MS_OK || g.type != f->type || g.mode != f->mode ||
        g.evidence.len != f->evidence.len ||
        memcmp(g.evidence.p, f->evidence.p, g.evidence.len) != 0 ||
        memcmp(g.binding, f->binding, sizeof g.binding) != 0 || strcmp(g.url, f->url) != 0 ||
        g.not_after != f->not_after || g.captured_at != f->captured_at) {
        abort();
    }
    ms_evfile_free(&g);
    ms_buf_free(&js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_evfile f;
    ms_inspect out;
    ms_evfile_init(&f);
    if (ms_evfile_parse(data, size, &f) == MS_OK) {
        ms_inspect_in in = {.type = f.type, .data = f.evidence.p, .len = f.evidence.len,
                            .have_session = f.have_session, .mode = f.mode,
                            .not_after = f.not_after, .at = f.captured_at,
                            .static_pk = f.have_session ? f.static_pk : NULL,
                            .binding = f.have_session ? f.binding : NULL};
        ms_err e = ms_attest_inspect(&in, &out);
        (void)e;
        if (f.form == MS_EVFILE_SAVED) {
            round_trip(&f);
        }
    }
    ms_evfile_free(&f);
    return 0;
}
