/* GET /v1/attestation: what serve verified about the supervisor, for the web UI and scripts. */
#include <stdio.h>
#include <time.h>

#include "common/check.h"
#include "gateway/internal.h"
#include "secure/attest/policy.h"
#include "secure/client/report.h"
#include "secure/suite.h"

static void utc(uint64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static ms_err build(ms_gw *gw, ms_json_wval root)
{
    ms_client_peer p;
    unsigned handshakes, size, busy;
    char when[32];
    ms_gw_pool_peer(gw->pool, &p, &handshakes, &size, &busy);
    TRY(ms_json_add_cstr(root, "object", "attestation"));
    TRY(ms_json_add_cstr(root, "supervisor_url", gw->supervisor_url));
    TRY(ms_json_add_bool(root, "verified", p.handshakes > 0));
    TRY(ms_json_add_cstr(root, "evidence_type", ms_evidence_type_name(p.evidence_type)));
    TRY(ms_json_add_cstr(root, "mode", ms_client_mode_name(p.evidence_mode)));
    TRY(ms_json_add_u64(root, "not_after", p.evidence_not_after));
    utc(p.evidence_not_after, when);
    TRY(ms_json_add_cstr(root, "valid_until", when));
    TRY(ms_json_add_bool(root, "dev_mode", p.evidence_type == MS_EVIDENCE_DEV_KEY));
    TRY(ms_json_add_cstr(root, "tls", ms_client_tls_name(p.tls)));
    if (p.dev_key_fp[0]) {
        TRY(ms_json_add_cstr(root, "dev_key", p.dev_key_fp));
    }
    ms_json_wval s;
    TRY(ms_json_add_obj(root, "sessions", &s));
    TRY(ms_json_add_u64(s, "pool", size));
    TRY(ms_json_add_u64(s, "busy", busy));
    TRY(ms_json_add_u64(s, "handshakes", handshakes));
    if (gw->verified) { /* minions-secure attest's report of the first session: every check,
                           the evidence's facts (measurements) and the policy they satisfy */
        TRY(ms_json_add_value(root, "report", ms_json_root(gw->verified)));
    }
    return MS_OK;
}

void ms_gw_h_attestation(const ms_gw_req *req, ms_gw_resp *resp)
{
    ms_json_builder *b;
    ms_json_wval root;
    if (ms_json_builder_new(MS_JSON_OBJECT, &b, &root) != MS_OK) {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "out of memory");
        return;
    }
    if (build(req->gw, root) == MS_OK) {
        ms_gw_json(resp, b);
    } else {
        ms_gw_error(resp, 500, "api_error", NULL, "internal", "the reply could not be built");
    }
    ms_json_builder_free(b);
}
