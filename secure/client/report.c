/* Human and JSON descriptions of what a client verified and what a turn gave. */
#include "secure/client/report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/json.h"
#include "secure/attest/policy.h"

const char *ms_client_mode_name(uint8_t mode)
{
    return mode == MS_MODE_STRICT ? "STRICT" : "FAST";
}

const char *ms_client_tls_name(ms_client_tls tls)
{
    switch (tls) {
    case MS_CLIENT_TLS_PINNED: return "pinned";
    case MS_CLIENT_TLS_PROXY: return "proxy";
    default: return "none";
    }
}

static void utc_time(uint64_t t, char out[static 32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, 32, "%llu", (unsigned long long)t);
    }
}

/* "sha256:" and the hex of a SPKI hash, as people compare TLS key pins. */
static void spki_text(const uint8_t h[static MS_SPKI_HASH_LEN], char out[static MS_FINGERPRINT_LEN])
{
    size_t n;
    memcpy(out, "sha256:", 8);
    if (ms_hex_encode(h, MS_SPKI_HASH_LEN, out + 7, MS_FINGERPRINT_LEN - 7, &n) != MS_OK) {
        out[7] = '\0';
    }
}

void ms_client_describe(const ms_client_peer *p, char *out, size_t cap)
{
    char when[32], tls[160], spki[MS_FINGERPRINT_LEN];
    if (cap == 0) {
        return;
    }
    if (!p->connected) {
        snprintf(out, cap, "not connected");
        return;
    }
    utc_time(p->evidence_not_after, when);
    spki_text(p->tls_spki_hash, spki);
    switch (p->tls) {
    case MS_CLIENT_TLS_PINNED: snprintf(tls, sizeof tls, "TLS key pinned (%s)", spki); break;
    case MS_CLIENT_TLS_PROXY:
        snprintf(tls, sizeof tls, "TLS ends at a proxy (--allow-tls-proxy): TLS key NOT bound");
        break;
    default: snprintf(tls, sizeof tls, "plain HTTP on loopback (no TLS)"); break;
    }
    if (p->evidence_type == MS_EVIDENCE_DEV_KEY) {
        snprintf(out, cap,
                 "verified: %s evidence (%s, valid until %s) from pinned key %s; %s; "
                 "session %.8s",
                 ms_evidence_type_name(p->evidence_type), ms_client_mode_name(p->evidence_mode), when,
                 p->dev_key_fp, tls, p->session_hex);
        return;
    }
    snprintf(out, cap,
             "verified: %s evidence (%s, valid until %s) against the attestation policy's "
             "pinned key and measurements; %s; session %.8s",
             ms_evidence_type_name(p->evidence_type), ms_client_mode_name(p->evidence_mode), when, tls,
             p->session_hex);
}

static ms_err add_evidence(ms_json_wval root, const ms_client_peer *p)
{
    ms_json_wval ev;
    char when[32], spki[MS_FINGERPRINT_LEN];
    utc_time(p->evidence_not_after, when);
    spki_text(p->tls_spki_hash, spki);
    TRY(ms_json_add_cstr(root, "session", p->session_hex));
    TRY(ms_json_add_obj(root, "evidence", &ev));
    TRY(ms_json_add_cstr(ev, "type", ms_evidence_type_name(p->evidence_type)));
    TRY(ms_json_add_cstr(ev, "mode", ms_client_mode_name(p->evidence_mode)));
    TRY(ms_json_add_u64(ev, "not_after", p->evidence_not_after));
    TRY(ms_json_add_cstr(ev, "not_after_utc", when));
    TRY(ms_json_add_cstr(ev, "dev_key", p->dev_key_fp));
    TRY(ms_json_add_bool(ev, "development_only", true));
    TRY(ms_json_add_cstr(ev, "tls", ms_client_tls_name(p->tls)));
    if (p->tls == MS_CLIENT_TLS_PINNED) {
        TRY(ms_json_add_cstr(ev, "tls_spki", spki));
    }
    return MS_OK;
}

static ms_err add_outcome(ms_json_wval root, const ms_client_peer *p, const ms_client_outcome *o)
{
    ms_json_wval usage, err;
    TRY(ms_json_add_bool(root, "ok", o->ok != 0));
    if (o->ok) {
        TRY(ms_json_add_str(root, "content", o->content ? o->content : "", o->content_len));
        TRY(ms_json_add_cstr(root, "finish_reason", o->finish_reason ? o->finish_reason : ""));
        TRY(ms_json_add_obj(root, "usage", &usage));
        TRY(ms_json_add_u64(usage, "prompt_tokens", o->prompt_tokens));
        TRY(ms_json_add_u64(usage, "completion_tokens", o->completion_tokens));
    } else {
        TRY(ms_json_add_obj(root, "error", &err));
        TRY(ms_json_add_cstr(err, "code", o->error_code ? o->error_code : "error"));
        TRY(ms_json_add_cstr(err, "message", o->error_message ? o->error_message : ""));
        TRY(ms_json_add_i64(root, "exit_code", o->exit_code));
        if (o->truncated) { /* the fragment under a name no script takes for an answer */
            TRY(ms_json_add_str(root, "partial_content", o->content ? o->content : "",
                                o->content_len));
            TRY(ms_json_add_cstr(root, "finish_reason", o->finish_reason ? o->finish_reason : ""));
            TRY(ms_json_add_obj(root, "usage", &usage));
            TRY(ms_json_add_u64(usage, "prompt_tokens", o->prompt_tokens));
            TRY(ms_json_add_u64(usage, "completion_tokens", o->completion_tokens));
        }
    }
    if (p->connected) {
        TRY(add_evidence(root, p));
    }
    return ms_json_add_u64(root, "rehandshakes", p->rehandshakes);
}

ms_err ms_client_outcome_json(const ms_client_peer *p, const ms_client_outcome *o, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err err = add_outcome(root, p, o);
    if (err == MS_OK) {
        err = ms_json_builder_print(b, out);
    }
    ms_json_builder_free(b);
    return err;
}

const char *ms_client_hint(ms_err e)
{
    switch (e) {
    case MS_ERR_HTTP_URL: return " (check --supervisor_url, e.g. https://host:8443)";
    case MS_ERR_HTTP_CONNECT: return " (is minions-supervisor running at --supervisor_url?)";
    case MS_ERR_HTTP_TLS:
        return " (check --cacert: it must hold the CA that signed the supervisor's --tls-cert)";
    case MS_ERR_HTTP_PIN:
        return " (TLS interception? if TLS ends at a proxy you trust in front of the "
               "supervisor, use --allow-tls-proxy)";
    case MS_ERR_HTTP_PIN_NONE:
        return " (if TLS ends at a proxy you trust in front of the supervisor, use "
               "--allow-tls-proxy)";
    case MS_ERR_HTTP_TIMEOUT: return " (raise --timeout or check the network)";
    case MS_ERR_HTTP_STATUS: return " (is --supervisor_url a minions-supervisor?)";
    case MS_ERR_ATTEST_KEY:
        return " (--trusted_attestation_pem must be the .pub file next to the supervisor's "
               "--dev-key)";
    case MS_ERR_ATTEST_EXPIRED: return " (check the clocks of both machines)";
    case MS_ERR_ATTEST_POLICY:
        return " (the supervisor's evidence type, mode or validity is not what the attestation "
               "policy accepts)";
    case MS_ERR_HS_MODE: return " (the supervisor cannot give STRICT evidence)";
    default: return "";
    }
}

/* Errors only a handshake gives (§4-§7, and the evidence verifier). */
static int handshake_err(ms_err e)
{
    static const ms_err hs[] = {MS_ERR_HS_MSG_TYPE,  MS_ERR_HS_COUNT,         MS_ERR_HS_VERSION,
                                MS_ERR_HS_SUITE,     MS_ERR_HS_EVIDENCE_TYPE, MS_ERR_HS_FLAGS,
                                MS_ERR_HS_CLIENT_ID, MS_ERR_HS_MODE,          MS_ERR_HS_SESSION_ID,
                                MS_ERR_HS_WEAK_KEY,  MS_ERR_HS_SERVER_CONFIRM};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        if (e == hs[i]) {
            return 1;
        }
    }
    return ms_err_category_of(e) == MS_CAT_ATTEST;
}

int ms_client_exit_code(ms_err e, int connecting)
{
    if (e == MS_OK) {
        return MS_CLI_OK;
    }
    if (e == MS_ERR_HTTP_URL || e == MS_ERR_HTTP_INSECURE || e == MS_ERR_CONFIG ||
        e == MS_ERR_ARG || e == MS_ERR_FILE_OPEN || e == MS_ERR_FILE_FORMAT) {
        return MS_CLI_USAGE;
    }
    if (e == MS_ERR_STREAM_TRUNCATED) {
        return MS_CLI_CUT;
    }
    if (e == MS_ERR_BACKEND_CUT) {
        return MS_CLI_LIMIT;
    }
    if (ms_err_category_of(e) == MS_CAT_IO || e == MS_ERR_SERVER_BUSY) {
        return MS_CLI_NET;
    }
    return connecting || handshake_err(e) ? MS_CLI_VERIFY : MS_CLI_TURN;
}
