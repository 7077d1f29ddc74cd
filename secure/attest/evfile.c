/* Evidence files: the SAVED JSON (typed reader and builder), raw forms told apart, 0600 writes. */
#include "secure/attest/evfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "secure/attest/az.h"
#include "secure/attest/nvgpu.h"
#include "secure/attest/policy.h"
#include "secure/attest/snp.h"
#include "secure/attest/tdx.h"
#include "secure/attest/tpm2.h"

static const char *const TYPES[] = {"dev-key", "tpm2-quote", "sev-snp", "tdx", "az-snp-vtpm",
                                    "nvidia-gpu", "composite", "az-tdx-vtpm"};
static const uint16_t TYPE_IDS[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE,
                                    MS_EVIDENCE_SEV_SNP, MS_EVIDENCE_TDX,
                                    MS_EVIDENCE_AZ_SNP_VTPM, MS_EVIDENCE_NVIDIA_GPU,
                                    MS_EVIDENCE_COMPOSITE, MS_EVIDENCE_AZ_TDX_VTPM};
static const char *const MODES[] = {"FAST", "STRICT"};
static const char *const CHECKED[] = {"policy", "any-evidence"};

void ms_evfile_init(ms_evfile *f)
{
    memset(f, 0, sizeof *f);
    ms_buf_init(&f->evidence, MS_MAX_EVIDENCE);
}

void ms_evfile_free(ms_evfile *f)
{
    ms_buf_free(&f->evidence);
    ms_wipe(f, sizeof *f);
}

__attribute__((format(printf, 3, 4))) static ms_err fail(ms_evfile *f, ms_err e, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    return e;
}

/* --- reading SAVED ------------------------------------------------------------------------- */

static ms_err only_known(ms_evfile *f, ms_json_val obj)
{
    static const char *const keys[] = {
        "format",          "version",   "type",       "mode",         "evidence",
        "binding",         "static_pk", "not_after",  "captured_at",  "supervisor_url",
        "session_id",      "transcript_hash",         "tls_spki_sha256", "checked_with"};
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    while (ms_json_iter_next(&it, &v, &key)) {
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && strcmp(key, keys[i]) != 0) {
            i++;
        }
        if (i == sizeof keys / sizeof keys[0]) {
            return fail(f, MS_ERR_FILE_FORMAT, "unknown field \"%.40s\"", key);
        }
    }
    return MS_OK;
}

/* A hex field of exactly n bytes. */
static ms_err hex_exact(ms_evfile *f, ms_json_val o, const char *key, uint8_t *out, size_t n)
{
    const char *s;
    size_t len, got;
    ms_err e = ms_json_get_str(o, key, 2 * n, &s, &len);
    if (e == MS_OK && (len != 2 * n || ms_hex_decode(s, len, out, n, &got) != MS_OK)) {
        e = MS_ERR_FILE_FORMAT;
    }
    return e == MS_OK ? MS_OK : fail(f, e, "\"%s\": want %zu hex characters", key, 2 * n);
}

static ms_err enum_field(ms_evfile *f, ms_json_val o, const char *key, const char *const *names,
                         size_t n, size_t *idx)
{
    ms_err e = ms_json_get_enum(o, key, names, n, idx);
    return e == MS_OK ? MS_OK : fail(f, e, "\"%s\": missing or not one of its values", key);
}

static ms_err header(ms_evfile *f, ms_json_val o)
{
    const char *s;
    size_t len, idx;
    int64_t version;
    if (ms_json_get_str(o, "format", 64, &s, &len) != MS_OK || strcmp(s, MS_EVFILE_FORMAT) != 0) {
        return fail(f, MS_ERR_FILE_FORMAT, "\"format\": want \"%s\"", MS_EVFILE_FORMAT);
    }
    if (ms_json_get_i64(o, "version", MS_EVFILE_VERSION, MS_EVFILE_VERSION, &version) != MS_OK) {
        return fail(f, MS_ERR_FILE_FORMAT, "\"version\": want %d", MS_EVFILE_VERSION);
    }
    TRY(enum_field(f, o, "type", TYPES, sizeof TYPES / sizeof TYPES[0], &idx));
    f->type = TYPE_IDS[idx];
    TRY(enum_field(f, o, "mode", MODES, 2, &idx));
    f->mode = idx == 1 ? MS_MODE_STRICT : MS_MODE_FAST;
    TRY(enum_field(f, o, "checked_with", CHECKED, 2, &idx));
    f->any_evidence = idx == 1;
    return MS_OK;
}

static ms_err session_fields(ms_evfile *f, ms_json_val o)
{
    const char *s;
    size_t len;
    TRY(hex_exact(f, o, "binding", f->binding, sizeof f->binding));
    TRY(hex_exact(f, o, "static_pk", f->static_pk, sizeof f->static_pk));
    TRY(hex_exact(f, o, "session_id", f->session_id, sizeof f->session_id));
    TRY(hex_exact(f, o, "transcript_hash", f->transcript_hash, sizeof f->transcript_hash));
    TRY(hex_exact(f, o, "tls_spki_sha256", f->tls_spki_hash, sizeof f->tls_spki_hash));
    if (ms_json_get_u64(o, "not_after", UINT64_MAX, &f->not_after) != MS_OK ||
        ms_json_get_u64(o, "captured_at", UINT64_MAX, &f->captured_at) != MS_OK) {
        return fail(f, MS_ERR_FILE_FORMAT, "\"not_after\", \"captured_at\": want Unix seconds");
    }
    ms_err e = ms_json_get_str(o, "supervisor_url", MS_MAX_HTTP_URL, &s, &len);
    if (e != MS_OK) {
        return fail(f, e, "\"supervisor_url\": want a URL of at most %u characters",
                    (unsigned)MS_MAX_HTTP_URL);
    }
    memcpy(f->url, s, len + 1);
    return MS_OK;
}

static ms_err evidence_field(ms_evfile *f, ms_json_val o)
{
    const char *s;
    size_t len;
    ms_err e = ms_json_get_str(o, "evidence", 2 * (size_t)MS_MAX_EVIDENCE, &s, &len);
    if (e == MS_OK && len == 0) {
        e = MS_ERR_FILE_FORMAT;
    }
    if (e == MS_OK) {
        e = ms_hex_decode_buf(s, len, &f->evidence);
    }
    return e == MS_OK ? MS_OK
                      : fail(f, e, "\"evidence\": want hex of 1 to %u bytes",
                             (unsigned)MS_MAX_EVIDENCE);
}

static ms_err parse_saved(const uint8_t *p, size_t len, ms_evfile *f)
{
    ms_json_doc *doc = NULL;
    ms_json_val root;
    ms_err e = ms_json_parse((const char *)p, len, &doc);
    if (e != MS_OK) {
        return fail(f, e, "not valid JSON");
    }
    e = ms_json_as_obj(ms_json_root(doc), &root);
    if (e != MS_OK) {
        e = fail(f, MS_ERR_FILE_FORMAT, "not a JSON object");
    }
    if (e == MS_OK) {
        e = only_known(f, root);
    }
    if (e == MS_OK) {
        e = header(f, root);
    }
    if (e == MS_OK) {
        e = session_fields(f, root);
    }
    if (e == MS_OK) {
        e = evidence_field(f, root);
    }
    ms_json_free(doc);
    f->have_session = e == MS_OK;
    return e;
}

/* --- telling the forms apart --------------------------------------------------------------- */

static int starts_json(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        i++;
    }
    return i < len && p[i] == '{';
}

/* NVIDIA: an SPDM request || response in hex (NVML's, the vector's), or nvidia-gpu evidence. */
static ms_err nvgpu_raw(const uint8_t *p, size_t len, ms_evfile *f)
{
    ms_nvgpu_evidence e;
    if (len >= 4 && len <= 2u * MS_NVGPU_MAX_REPORT + 64u &&
        (p[0] == '1' && p[1] == '1' && (p[2] == 'e' || p[2] == 'E') && p[3] == '0')) {
        if (ms_nvgpu_report_from_hex((const char *)p, len, &f->evidence) == MS_OK) {
            f->form = MS_EVFILE_NVGPU_REPORT_HEX;
            f->type = MS_EVIDENCE_NVIDIA_GPU;
            return MS_OK;
        }
        ms_buf_clear(&f->evidence);
        return MS_ERR_FILE_FORMAT;
    }
    if (ms_nvgpu_evidence_decode(p, len, &e) == MS_OK) {
        f->form = MS_EVFILE_NVGPU_EVIDENCE;
        f->type = MS_EVIDENCE_NVIDIA_GPU;
        return ms_buf_append(&f->evidence, p, len);
    }
    return MS_ERR_FILE_FORMAT;
}

static ms_err parse_raw(const uint8_t *p, size_t len, ms_evfile *f)
{
    uint8_t report[MS_SNP_REPORT_LEN];
    ms_snp_bundle b;
    ms_az_bundle ab;
    if (len == MS_SNP_REPORT_LEN) {
        f->form = MS_EVFILE_SNP_REPORT;
        f->type = MS_EVIDENCE_SEV_SNP;
        return ms_buf_append(&f->evidence, p, len);
    }
    if (ms_snp_report_from_hex((const char *)p, len, report) == MS_OK) {
        f->form = MS_EVFILE_SNP_REPORT_HEX;
        f->type = MS_EVIDENCE_SEV_SNP;
        return ms_buf_append(&f->evidence, report, sizeof report);
    }
    if (ms_snp_bundle_decode(p, len, &b) == MS_OK) {
        f->form = MS_EVFILE_SNP_BUNDLE;
        f->type = MS_EVIDENCE_SEV_SNP;
        return ms_buf_append(&f->evidence, p, len);
    }
    ms_tdx_bundle tb;
    if (ms_tdx_quote_sniff(p, len) && len <= MS_TDX_MAX_OUTBLOB) {
        f->form = MS_EVFILE_TDX_QUOTE;
        f->type = MS_EVIDENCE_TDX;
        return ms_buf_append(&f->evidence, p, len);
    }
    if (ms_tdx_bundle_decode(p, len, &tb) == MS_OK && ms_tdx_quote_sniff(tb.quote, tb.quote_len)) {
        f->form = MS_EVFILE_TDX_BUNDLE;
        f->type = MS_EVIDENCE_TDX;
        return ms_buf_append(&f->evidence, p, len);
    }
    if (ms_az_hcl_is(p, len) || ms_az_bundle_decode(p, len, &ab) == MS_OK) {
        ms_az_hcl h; /* a bare HCL report's type is its hardware report's */
        int tdx = ms_az_hcl_is(p, len) && ms_az_hcl_decode(p, len, &h) == MS_OK &&
                  h.report_type == MS_AZ_REPORT_TDX;
        f->form = ms_az_hcl_is(p, len) ? MS_EVFILE_AZ_HCL : MS_EVFILE_AZ_BUNDLE;
        f->type = tdx ? MS_EVIDENCE_AZ_TDX_VTPM : MS_EVIDENCE_AZ_SNP_VTPM;
        return ms_buf_append(&f->evidence, p, len);
    }
    ms_az_tdx_bundle atb;
    if (ms_az_tdx_bundle_decode(p, len, &atb) == MS_OK) {
        f->form = MS_EVFILE_AZ_BUNDLE;
        f->type = MS_EVIDENCE_AZ_TDX_VTPM;
        return ms_buf_append(&f->evidence, p, len);
    }
    if (nvgpu_raw(p, len, f) == MS_OK) {
        return MS_OK;
    }
    if (p[0] == MS_TPM2_FORMAT && len <= MS_TPM2_MAX_BUNDLE) {
        f->form = MS_EVFILE_TPM2_BUNDLE;
        f->type = MS_EVIDENCE_TPM2_QUOTE;
        return ms_buf_append(&f->evidence, p, len);
    }
    return fail(f, MS_ERR_FILE_FORMAT,
                "neither saved evidence (JSON), a TPM quote bundle, an SEV-SNP bundle, an "
                "SEV-SNP report (1184 bytes, or 2368 hex digits), a TDX quote nor a TDX bundle");
}

/* Every field zero, the evidence buffer emptied (its allocation kept); `why` kept on request. */
static void reset(ms_evfile *f, int keep_why)
{
    char why[sizeof f->why];
    memcpy(why, f->why, sizeof why);
    ms_buf_clear(&f->evidence);
    ms_buf ev = f->evidence;
    memset(f, 0, sizeof *f);
    f->evidence = ev;
    if (keep_why) {
        memcpy(f->why, why, sizeof why);
    }
}

ms_err ms_evfile_parse(const uint8_t *p, size_t len, ms_evfile *out)
{
    reset(out, 0);
    ENSURE(len <= MS_MAX_EVIDENCE_FILE, MS_ERR_CAP_EXCEEDED);
    if (p == NULL || len == 0) {
        return fail(out, MS_ERR_FILE_FORMAT, "the file is empty");
    }
    ms_err e;
    if (starts_json(p, len)) {
        out->form = MS_EVFILE_SAVED;
        e = parse_saved(p, len, out);
    } else {
        e = parse_raw(p, len, out);
    }
    if (e != MS_OK) {
        reset(out, 1); /* nothing half-read survives a failure */
    }
    return e;
}

/* --- writing SAVED ------------------------------------------------------------------------- */

static ms_err add_hex(ms_json_wval o, const char *key, const uint8_t *p, size_t n, ms_buf *tmp)
{
    ms_buf_clear(tmp);
    TRY(ms_hex_encode_buf(p, n, tmp));
    return ms_json_add_str(o, key, (const char *)tmp->p, tmp->len);
}

static ms_err build(ms_json_wval o, const ms_evidence_view *ev, const char *url, int any,
                    ms_buf *tmp)
{
    TRY(ms_json_add_cstr(o, "format", MS_EVFILE_FORMAT));
    TRY(ms_json_add_i64(o, "version", MS_EVFILE_VERSION));
    TRY(ms_json_add_cstr(o, "type", ms_evidence_type_name(ev->type)));
    TRY(ms_json_add_cstr(o, "mode", ev->mode == MS_MODE_STRICT ? "STRICT" : "FAST"));
    TRY(ms_json_add_cstr(o, "checked_with", any ? "any-evidence" : "policy"));
    TRY(ms_json_add_cstr(o, "supervisor_url", url));
    TRY(ms_json_add_u64(o, "captured_at", ev->now));
    TRY(ms_json_add_u64(o, "not_after", ev->not_after));
    TRY(add_hex(o, "static_pk", ev->static_pk, MS_X25519_LEN, tmp));
    TRY(add_hex(o, "binding", ev->binding, MS_BINDING_LEN, tmp));
    TRY(add_hex(o, "session_id", ev->session_id, MS_SESSION_ID_LEN, tmp));
    TRY(add_hex(o, "transcript_hash", ev->transcript_hash, MS_KEY_LEN, tmp));
    TRY(add_hex(o, "tls_spki_sha256", ev->tls_spki_hash, MS_SPKI_HASH_LEN, tmp));
    return add_hex(o, "evidence", ev->data, ev->len, tmp);
}

ms_err ms_evfile_json(const ms_evidence_view *ev, const char *url, int any_evidence, ms_buf *out)
{
    ms_json_builder *b = NULL;
    ms_json_wval root;
    ms_buf tmp;
    ENSURE(ev != NULL && ev->data != NULL && ev->len > 0 && ev->len <= MS_MAX_EVIDENCE && url,
           MS_ERR_ARG);
    ENSURE(strlen(url) <= MS_MAX_HTTP_URL, MS_ERR_ARG);
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_buf_init(&tmp, 2 * (size_t)MS_MAX_EVIDENCE);
    ms_err e = build(root, ev, url, any_evidence, &tmp);
    if (e == MS_OK) {
        e = ms_json_builder_print(b, out);
    }
    ms_buf_free(&tmp);
    ms_json_builder_free(b);
    return e;
}

ms_err ms_evfile_write(const char *path, const uint8_t *p, size_t len)
{
    return ms_file_write_new(path, p, len, 0600);
}
