/* Intel's TDX TCB info and QE identity documents, read with the typed JSON reader. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/json.h"
#include "secure/attest/tdx_coll_priv.h"

#define FORMAT MS_ERR_TDX_COLLATERAL_FORMAT
#define TIME_TEXT_LEN 20u  /* "2023-06-18T08:42:58Z" */
#define MAX_NAME_TEXT 64u  /* category / type strings of a TCB component */
#define MAX_STATUS_TEXT 48u
#define TDX_COMPONENTS 16u

/* Any reader error is a malformed document; running out of memory stays what it is. */
static ms_err fmt(ms_err e)
{
    return e == MS_OK || e == MS_ERR_NOMEM ? e : FORMAT;
}

#define TRY_F(call) TRY(fmt(call))

/* ---- statuses ----------------------------------------------------------------------------- */

static const char *const STATUS_NAMES[] = {
    [MS_TDX_TCB_NONE] = "None",
    [MS_TDX_TCB_UP_TO_DATE] = "UpToDate",
    [MS_TDX_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [MS_TDX_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [MS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [MS_TDX_TCB_OUT_OF_DATE] = "OutOfDate",
    [MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [MS_TDX_TCB_REVOKED] = "Revoked",
};
#define N_STATUS (sizeof STATUS_NAMES / sizeof STATUS_NAMES[0])

const char *ms_tdx_tcb_status_name(ms_tdx_tcb_status s)
{
    return (size_t)s < N_STATUS ? STATUS_NAMES[s] : "None";
}

ms_err ms_tdx_tcb_status_parse(const char *name, ms_tdx_tcb_status *out)
{
    *out = MS_TDX_TCB_NONE;
    ENSURE(name != NULL, MS_ERR_ARG);
    /* "None" is ours, not Intel's: a document never names it. */
    for (size_t i = MS_TDX_TCB_UP_TO_DATE; i < N_STATUS; i++) {
        if (strcmp(name, STATUS_NAMES[i]) == 0) {
            *out = (ms_tdx_tcb_status)i;
            return MS_OK;
        }
    }
    return MS_ERR_JSON_ENUM;
}

/* ---- dates -------------------------------------------------------------------------------- */

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
    y -= m <= 2;
    uint64_t era = y / 400u;
    uint64_t yoe = y - era * 400u;
    uint64_t doy = (153u * (m > 2 ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    uint64_t doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097u + doe - 719468u;
}

ms_err ms_tdx_time_parse(const char *s, size_t len, uint64_t *out)
{
    static const unsigned MDAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec;
    *out = 0;
    ENSURE(s != NULL && len == TIME_TEXT_LEN, FORMAT);
    ENSURE(s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
               s[19] == 'Z',
           FORMAT);
    ENSURE(digits(s, 4, &y) && digits(s + 5, 2, &mo) && digits(s + 8, 2, &d) &&
               digits(s + 11, 2, &h) && digits(s + 14, 2, &mi) && digits(s + 17, 2, &sec),
           FORMAT);
    ENSURE(y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && sec <= 59,
           FORMAT);
    bool leap = (y % 4u == 0 && y % 100u != 0) || y % 400u == 0;
    ENSURE(d <= MDAYS[mo - 1] + (mo == 2 && leap), FORMAT);
    *out = days_from_civil(y, mo, d) * 86400u + h * 3600u + mi * 60u + sec;
    return MS_OK;
}

static ms_err get_time(ms_json_val obj, const char *key, uint64_t *out)
{
    const char *s;
    size_t n;
    *out = 0;
    TRY_F(ms_json_get_str(obj, key, TIME_TEXT_LEN, &s, &n));
    return ms_tdx_time_parse(s, n, out);
}

/* ---- fields ------------------------------------------------------------------------------- */

/* Exactly 2n hex digits (either case) into n bytes. */
static ms_err get_hex(ms_json_val obj, const char *key, uint8_t *out, size_t n)
{
    const char *s;
    size_t len;
    size_t got;
    TRY_F(ms_json_get_str(obj, key, 2 * n, &s, &len));
    ENSURE(len == 2 * n, FORMAT);
    TRY_F(ms_hex_decode(s, len, out, n, &got));
    ENSURE(got == n, FORMAT);
    return MS_OK;
}

static ms_err get_u32_hex(ms_json_val obj, const char *key, uint32_t *out)
{
    uint8_t b[4];
    *out = 0;
    TRY(get_hex(obj, key, b, sizeof b));
    *out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return MS_OK;
}

static ms_err get_uint(ms_json_val obj, const char *key, uint64_t max, uint64_t *out)
{
    return fmt(ms_json_get_u64(obj, key, max, out));
}

static ms_err get_status(ms_json_val obj, ms_tdx_tcb_status *out)
{
    const char *s;
    size_t n;
    TRY_F(ms_json_get_str(obj, "tcbStatus", MAX_STATUS_TEXT, &s, &n));
    return fmt(ms_tdx_tcb_status_parse(s, out));
}

/* advisoryIDs (optional): up to MS_TDX_MAX_ADVISORIES printable strings that fit their slots. */
static ms_err get_advisories(ms_json_val obj, char (*ids)[MS_TDX_MAX_ADVISORY_ID], uint8_t *n_out)
{
    ms_json_val arr, v;
    size_t n;
    TRY_F(ms_json_get_arr_opt(obj, "advisoryIDs", MS_TDX_MAX_ADVISORIES, &arr, &n));
    ms_json_iter it = ms_json_iter_init(arr);
    size_t i = 0;
    while (ms_json_iter_next(&it, &v, NULL)) {
        const char *s;
        size_t len;
        TRY_F(ms_json_as_str(v, MS_TDX_MAX_ADVISORY_ID - 1, &s, &len));
        ENSURE(len > 0, FORMAT);
        for (size_t k = 0; k < len; k++) {
            /* Shown to people as they are: printable ASCII only, no spaces, no escapes. */
            ENSURE(s[k] > 0x20 && s[k] < 0x7F, FORMAT);
        }
        if (ids != NULL) {
            memcpy(ids[i], s, len + 1);
        }
        i++;
    }
    *n_out = (uint8_t)i;
    return MS_OK;
}

/* sgxtcbcomponents / tdxtcbcomponents: exactly 16 {svn, category?, type?}. */
static ms_err get_components(ms_json_val tcb, const char *key, uint8_t out[static TDX_COMPONENTS])
{
    ms_json_val arr, v;
    size_t n;
    TRY_F(ms_json_get_arr(tcb, key, TDX_COMPONENTS, &arr, &n));
    ENSURE(n == TDX_COMPONENTS, FORMAT);
    ms_json_iter it = ms_json_iter_init(arr);
    for (size_t i = 0; ms_json_iter_next(&it, &v, NULL); i++) {
        uint64_t svn;
        const char *s;
        size_t len;
        TRY_F(ms_json_as_obj(v, &v));
        TRY(get_uint(v, "svn", 255, &svn));
        TRY_F(ms_json_get_str_opt(v, "category", MAX_NAME_TEXT, "", &s, &len));
        TRY_F(ms_json_get_str_opt(v, "type", MAX_NAME_TEXT, "", &s, &len));
        out[i] = (uint8_t)svn;
    }
    return MS_OK;
}

/* A required array of 1..max objects; the caller iterates it. */
static ms_err get_objs(ms_json_val obj, const char *key, size_t max, ms_json_val *arr, size_t *n)
{
    TRY_F(ms_json_get_arr(obj, key, max, arr, n));
    ENSURE(*n > 0, FORMAT);
    return MS_OK;
}

/* ---- TCB info (TDX, version 3) -------------------------------------------------------------- */

static ms_err tcb_level(ms_json_val v, ms_tdx_tcb_level *l)
{
    ms_json_val tcb;
    uint64_t pcesvn;
    TRY_F(ms_json_as_obj(v, &v));
    TRY_F(ms_json_get_obj(v, "tcb", &tcb));
    TRY(get_components(tcb, "sgxtcbcomponents", l->sgx));
    TRY(get_uint(tcb, "pcesvn", 65535, &pcesvn));
    l->pcesvn = (uint16_t)pcesvn;
    TRY(get_components(tcb, "tdxtcbcomponents", l->tdx));
    TRY(get_time(v, "tcbDate", &l->tcb_date));
    TRY(get_status(v, &l->status));
    return get_advisories(v, l->advisories, &l->n_advisories);
}

static ms_err module_level(ms_json_val v, ms_tdx_module_level *l)
{
    ms_json_val tcb;
    uint64_t isvsvn;
    TRY_F(ms_json_as_obj(v, &v));
    TRY_F(ms_json_get_obj(v, "tcb", &tcb));
    TRY(get_uint(tcb, "isvsvn", 255, &isvsvn));
    l->isvsvn = (uint8_t)isvsvn;
    TRY(get_time(v, "tcbDate", &l->tcb_date));
    TRY(get_status(v, &l->status));
    return get_advisories(v, l->advisories, &l->n_advisories);
}

/* "TDX_01" .. "TDX_FF": the module's major version, in uppercase hex as Intel writes it. */
static ms_err module_version(const char *id, size_t len, uint8_t *out)
{
    static const char HEX[] = "0123456789ABCDEF";
    ENSURE(len == 6 && strncmp(id, "TDX_", 4) == 0, FORMAT);
    const char *hi = strchr(HEX, id[4]);
    const char *lo = strchr(HEX, id[5]);
    ENSURE(id[4] != '\0' && id[5] != '\0' && hi != NULL && lo != NULL, FORMAT);
    *out = (uint8_t)((hi - HEX) << 4 | (lo - HEX));
    return MS_OK;
}

static ms_err module_identity(ms_json_val v, ms_tdx_module_identity *m)
{
    ms_json_val arr, lv;
    const char *id;
    size_t len, n;
    TRY_F(ms_json_as_obj(v, &v));
    TRY_F(ms_json_get_str(v, "id", 6, &id, &len));
    TRY(module_version(id, len, &m->version));
    TRY(get_hex(v, "mrsigner", m->mrsigner, sizeof m->mrsigner));
    TRY(get_hex(v, "attributes", m->attributes, sizeof m->attributes));
    TRY(get_hex(v, "attributesMask", m->attributes_mask, sizeof m->attributes_mask));
    TRY(get_objs(v, "tcbLevels", MS_TDX_MAX_MODULE_LEVELS, &arr, &n));
    ms_json_iter it = ms_json_iter_init(arr);
    for (m->n_levels = 0; ms_json_iter_next(&it, &lv, NULL); m->n_levels++) {
        TRY(module_level(lv, &m->levels[m->n_levels]));
    }
    return MS_OK;
}

static ms_err module_identities(ms_json_val body, ms_tdx_collateral *out)
{
    ms_json_val arr, v;
    size_t n;
    TRY_F(ms_json_get_arr_opt(body, "tdxModuleIdentities", MS_TDX_MAX_MODULE_IDENTITIES, &arr,
                              &n));
    ms_json_iter it = ms_json_iter_init(arr);
    for (out->n_module_ids = 0; ms_json_iter_next(&it, &v, NULL); out->n_module_ids++) {
        ms_tdx_module_identity *m = &out->module_ids[out->n_module_ids];
        TRY(module_identity(v, m));
        for (size_t j = 0; j < out->n_module_ids; j++) {
            ENSURE(out->module_ids[j].version != m->version, FORMAT); /* two answers: none */
        }
    }
    return MS_OK;
}

static ms_err tcb_body(ms_json_val b, ms_tdx_collateral *out)
{
    static const char *const ID[] = {"TDX"};
    size_t idx;
    uint64_t v;
    ms_json_val mod, arr, lv;
    size_t n;
    TRY_F(ms_json_get_enum(b, "id", ID, 1, &idx));
    TRY(get_uint(b, "version", 3, &v));
    ENSURE(v == 3, FORMAT);
    TRY(get_time(b, "issueDate", &out->tcb_issue_date));
    TRY(get_time(b, "nextUpdate", &out->tcb_next_update));
    ENSURE(out->tcb_issue_date <= out->tcb_next_update, FORMAT);
    TRY(get_hex(b, "fmspc", out->fmspc, sizeof out->fmspc));
    TRY(get_hex(b, "pceId", out->pceid, sizeof out->pceid));
    TRY(get_uint(b, "tcbType", 0, &v));
    TRY(get_uint(b, "tcbEvaluationDataNumber", UINT32_MAX, &v));
    out->tcb_eval_number = (uint32_t)v;
    TRY_F(ms_json_get_obj(b, "tdxModule", &mod));
    TRY(get_hex(mod, "mrsigner", out->module_mrsigner, sizeof out->module_mrsigner));
    TRY(get_hex(mod, "attributes", out->module_attributes, sizeof out->module_attributes));
    TRY(get_hex(mod, "attributesMask", out->module_attributes_mask,
                sizeof out->module_attributes_mask));
    TRY(module_identities(b, out));
    TRY(get_objs(b, "tcbLevels", MS_TDX_MAX_TCB_LEVELS, &arr, &n));
    ms_json_iter it = ms_json_iter_init(arr);
    for (out->n_levels = 0; ms_json_iter_next(&it, &lv, NULL); out->n_levels++) {
        TRY(tcb_level(lv, &out->levels[out->n_levels]));
    }
    return MS_OK;
}

/* ---- QE identity (TD_QE, version 2) ------------------------------------------------------- */

static ms_err qe_level(ms_json_val v, ms_tdx_qe_level *l)
{
    ms_json_val tcb;
    uint64_t isvsvn;
    uint8_t n_adv;
    TRY_F(ms_json_as_obj(v, &v));
    TRY_F(ms_json_get_obj(v, "tcb", &tcb));
    TRY(get_uint(tcb, "isvsvn", 65535, &isvsvn));
    l->isvsvn = (uint16_t)isvsvn;
    TRY(get_time(v, "tcbDate", &l->tcb_date));
    TRY(get_status(v, &l->status));
    return get_advisories(v, NULL, &n_adv); /* checked, not kept (the header has no room) */
}

static ms_err qe_body(ms_json_val b, ms_tdx_collateral *out)
{
    static const char *const ID[] = {"TD_QE"};
    size_t idx;
    uint64_t v;
    ms_json_val arr, lv;
    size_t n;
    TRY_F(ms_json_get_enum(b, "id", ID, 1, &idx));
    TRY(get_uint(b, "version", 2, &v));
    ENSURE(v == 2, FORMAT);
    TRY(get_time(b, "issueDate", &out->qe_issue_date));
    TRY(get_time(b, "nextUpdate", &out->qe_next_update));
    ENSURE(out->qe_issue_date <= out->qe_next_update, FORMAT);
    TRY(get_uint(b, "tcbEvaluationDataNumber", UINT32_MAX, &v));
    out->qe_eval_number = (uint32_t)v;
    TRY(get_u32_hex(b, "miscselect", &out->qe_miscselect));
    TRY(get_u32_hex(b, "miscselectMask", &out->qe_miscselect_mask));
    TRY(get_hex(b, "attributes", out->qe_attributes, sizeof out->qe_attributes));
    TRY(get_hex(b, "attributesMask", out->qe_attributes_mask, sizeof out->qe_attributes_mask));
    TRY(get_hex(b, "mrsigner", out->qe_mrsigner, sizeof out->qe_mrsigner));
    TRY(get_uint(b, "isvprodid", 65535, &v));
    out->qe_isvprodid = (uint16_t)v;
    TRY(get_objs(b, "tcbLevels", MS_TDX_MAX_TCB_LEVELS, &arr, &n));
    ms_json_iter it = ms_json_iter_init(arr);
    for (out->n_qe_levels = 0; ms_json_iter_next(&it, &lv, NULL); out->n_qe_levels++) {
        TRY(qe_level(lv, &out->qe_levels[out->n_qe_levels]));
    }
    return MS_OK;
}

/* ---- documents ---------------------------------------------------------------------------- */

typedef ms_err (*body_fn)(ms_json_val b, ms_tdx_collateral *out);

/* The body text parsed on its own: what is read is exactly what was signed. */
static ms_err parse_body(const uint8_t *body, size_t len, body_fn fn, ms_tdx_collateral *out)
{
    ms_json_doc *doc = NULL;
    ms_json_val root;
    ENSURE(len <= MS_TDX_MAX_COLLATERAL_JSON, FORMAT);
    TRY_F(ms_json_parse((const char *)body, len, &doc));
    ms_err err = fmt(ms_json_as_obj(ms_json_root(doc), &root));
    if (err == MS_OK) {
        err = fn(root, out);
    }
    ms_json_free(doc);
    return err;
}

ms_err ms_tdx_coll_tcb_body(const uint8_t *body, size_t len, ms_tdx_collateral *out)
{
    return parse_body(body, len, tcb_body, out);
}

ms_err ms_tdx_coll_qe_body(const uint8_t *body, size_t len, ms_tdx_collateral *out)
{
    return parse_body(body, len, qe_body, out);
}

ms_err ms_tdx_coll_split(const uint8_t *doc, size_t len, const char *body_key, size_t *body_start,
                         size_t *body_len, uint8_t sig[static MS_TDX_COLL_SIG_LEN])
{
    ms_json_doc *d = NULL;
    ms_json_val root, body, member;
    ms_err err;
    *body_start = 0;
    *body_len = 0;
    memset(sig, 0, MS_TDX_COLL_SIG_LEN);
    ENSURE(doc != NULL && len > 0 && len <= MS_TDX_MAX_COLLATERAL_JSON, FORMAT);
    TRY_F(ms_json_parse((const char *)doc, len, &d));
    /* Exactly two members: an unknown one at the top would sit outside the signature. */
    err = fmt(ms_json_as_obj(ms_json_root(d), &root));
    size_t count = 0;
    ms_json_iter it = ms_json_iter_init(root);
    while (err == MS_OK && ms_json_iter_next(&it, &member, NULL)) {
        count++;
    }
    ENSURE_OUT(count == 2, FORMAT);
    TRY_OUT(fmt(ms_json_get_obj(root, body_key, &body)));
    TRY_OUT(get_hex(root, "signature", sig, MS_TDX_COLL_SIG_LEN));
    TRY_OUT(fmt(ms_json_raw_member((const char *)doc, len, body_key, body_start, body_len)));
out:
    ms_json_free(d);
    if (err != MS_OK) {
        memset(sig, 0, MS_TDX_COLL_SIG_LEN);
    }
    return err;
}

typedef ms_err (*part_fn)(const uint8_t *body, size_t len, ms_tdx_collateral *out);

static ms_err parse_doc(const uint8_t *doc, size_t len, const char *key, part_fn fn,
                        ms_tdx_collateral *out)
{
    uint8_t sig[MS_TDX_COLL_SIG_LEN];
    size_t start, n;
    memset(out, 0, sizeof *out);
    ms_err err = ms_tdx_coll_split(doc, len, key, &start, &n, sig);
    if (err == MS_OK) {
        err = fn(doc + start, n, out);
    }
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

ms_err ms_tdx_tcb_info_parse(const uint8_t *doc, size_t len, ms_tdx_collateral *out)
{
    return parse_doc(doc, len, "tcbInfo", ms_tdx_coll_tcb_body, out);
}

ms_err ms_tdx_qe_identity_parse(const uint8_t *doc, size_t len, ms_tdx_collateral *out)
{
    return parse_doc(doc, len, "enclaveIdentity", ms_tdx_coll_qe_body, out);
}
