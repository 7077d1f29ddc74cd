/* fake-tsm's reports: the test's configuration file read strictly, then the project's fixtures sign. */
#include "tests/tools/fake-tsm/fake_tsm.h"

#include <limits.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "secure/attest/devkey.h"
#include "tests/secure/attest/snp_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"

static const char *const TOP_KEYS[] = {"key", "aux", "ak", "chain", "snp", "tdx"};
static const char *const SNP_KEYS[] = {"measurement", "policy", "vmpl", "version", "key_info"};
static const char *const TDX_KEYS[] = {"mrtd", "rtmrs", "td_attributes", "tee_tcb_svn",
                                       "version"};

typedef struct cfg_ctx {
    const char *config; /* its path, for relative paths and messages */
    char *why;          /* 256 bytes */
} cfg_ctx;

static int fail(cfg_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cfg_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, 256, fmt, ap);
    va_end(ap);
    return -1;
}

/* Every member of obj is one of keys[0..n). */
static int known_only(cfg_ctx *c, ms_json_val obj, const char *where, const char *const *keys,
                      size_t n)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *k;
    while (ms_json_iter_next(&it, &v, &k)) {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]) != 0) {
            i++;
        }
        if (i == n) {
            return fail(c, "%s: unknown field \"%.64s\"", where, k);
        }
    }
    return 0;
}

/* A file the configuration names (relative to the configuration's folder), at most cap bytes. */
static int read_named(cfg_ctx *c, ms_json_val top, const char *field, int required, size_t cap,
                      ms_buf *out)
{
    const char *name = NULL;
    size_t len = 0;
    char path[PATH_MAX];
    if (ms_json_get_str_opt(top, field, PATH_MAX - 1, NULL, &name, &len) != MS_OK) {
        return fail(c, "%s: not a file name", field);
    }
    if (name == NULL) {
        return required ? fail(c, "%s: missing", field) : 0;
    }
    const char *slash = strrchr(c->config, '/');
    int n = name[0] == '/' || slash == NULL
                ? snprintf(path, sizeof path, "%s", name)
                : snprintf(path, sizeof path, "%.*s/%s", (int)(slash - c->config), c->config, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        return fail(c, "%s: path too long", field);
    }
    ms_err e = ms_file_read(path, cap, out);
    if (e != MS_OK) {
        return fail(c, "%s: %s: %s", field, path, ms_err_str(e));
    }
    return 0;
}

static EVP_PKEY *read_key(cfg_ctx *c, ms_json_val top, const char *field)
{
    ms_buf pem;
    ms_buf_init(&pem, FTSM_MAX_KEY_FILE);
    EVP_PKEY *k = NULL;
    if (read_named(c, top, field, 1, FTSM_MAX_KEY_FILE, &pem) == 0) {
        BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
        k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (k == NULL) {
            fail(c, "%s: not a PEM private key", field);
        }
    }
    ms_buf_free(&pem);
    return k;
}

/* An optional hex field of exactly n bytes. */
static int hex_field(cfg_ctx *c, ms_json_val obj, const char *where, const char *field,
                     uint8_t *out, size_t n)
{
    const char *s = NULL;
    size_t got = 0, len = 0;
    if (ms_json_get_str_opt(obj, field, 2 * n, NULL, &s, &len) != MS_OK) {
        return fail(c, "%s.%s: not a string of %zu hex digits", where, field, 2 * n);
    }
    if (s != NULL && (len != 2 * n || ms_hex_decode(s, 2 * n, out, n, &got) != MS_OK ||
                      got != n)) {
        return fail(c, "%s.%s: not %zu hex digits", where, field, 2 * n);
    }
    return 0;
}

static int u64_field(cfg_ctx *c, ms_json_val obj, const char *where, const char *field,
                     uint64_t max, uint64_t *v)
{
    if (ms_json_get_u64_opt(obj, field, max, *v, v) != MS_OK) {
        return fail(c, "%s.%s: not an integer 0..%llu", where, field, (unsigned long long)max);
    }
    return 0;
}

static int snp_opts(cfg_ctx *c, ms_json_val top, snp_fx_report_opts *o)
{
    ms_json_val s;
    uint64_t policy, vmpl = 0, version, key_info;
    snp_fx_report_opts_default(o);
    policy = o->policy;
    version = o->version;
    key_info = o->key_info;
    if (ms_json_get_obj_opt(top, "snp", &s) != MS_OK) {
        return fail(c, "snp: not an object");
    }
    if (known_only(c, s, "snp", SNP_KEYS, sizeof SNP_KEYS / sizeof SNP_KEYS[0]) != 0 ||
        hex_field(c, s, "snp", "measurement", o->measurement, sizeof o->measurement) != 0 ||
        u64_field(c, s, "snp", "policy", UINT64_MAX >> 11, &policy) != 0 ||
        u64_field(c, s, "snp", "vmpl", 3, &vmpl) != 0 ||
        u64_field(c, s, "snp", "version", 5, &version) != 0 ||
        u64_field(c, s, "snp", "key_info", UINT32_MAX, &key_info) != 0) {
        return -1;
    }
    o->policy = policy;
    o->vmpl = (uint32_t)vmpl;
    o->version = (uint32_t)version;
    o->key_info = (uint32_t)key_info;
    return 0;
}

static int tdx_opts(cfg_ctx *c, ms_json_val top, tdx_fx_quote_opts *o)
{
    ms_json_val t, arr;
    size_t n = 0;
    uint64_t attrs = 0, version = 4;
    tdx_fx_quote_opts_default(o);
    if (ms_json_get_obj_opt(top, "tdx", &t) != MS_OK) {
        return fail(c, "tdx: not an object");
    }
    if (known_only(c, t, "tdx", TDX_KEYS, sizeof TDX_KEYS / sizeof TDX_KEYS[0]) != 0 ||
        hex_field(c, t, "tdx", "mrtd", o->mrtd, sizeof o->mrtd) != 0 ||
        hex_field(c, t, "tdx", "tee_tcb_svn", o->tee_tcb_svn, sizeof o->tee_tcb_svn) != 0 ||
        u64_field(c, t, "tdx", "td_attributes", UINT64_MAX >> 11, &attrs) != 0 ||
        u64_field(c, t, "tdx", "version", 4, &version) != 0) {
        return -1;
    }
    if (version != 4) {
        return fail(c, "tdx.version: only 4 is made here");
    }
    o->td_attributes = attrs;
    if (ms_json_get_arr_opt(t, "rtmrs", MS_TDX_RTMRS, &arr, &n) != MS_OK) {
        return fail(c, "tdx.rtmrs: not an array of at most %d", MS_TDX_RTMRS);
    }
    for (size_t i = 0; i < n; i++) {
        ms_json_val v;
        const char *s = NULL;
        size_t got = 0, len = 0;
        if (ms_json_arr_at(arr, i, &v) != MS_OK ||
            ms_json_as_str(v, 2 * MS_TDX_MEAS_LEN, &s, &len) != MS_OK ||
            len != 2 * MS_TDX_MEAS_LEN ||
            ms_hex_decode(s, len, o->rtmr[i], MS_TDX_MEAS_LEN, &got) != MS_OK ||
            got != MS_TDX_MEAS_LEN) {
            return fail(c, "tdx.rtmrs[%zu]: not %u hex digits", i, 2 * MS_TDX_MEAS_LEN);
        }
    }
    return 0;
}

static int make_snp(cfg_ctx *c, ms_json_val top, const uint8_t rd[static 64], ms_buf *outblob,
                    ms_buf *auxblob)
{
    snp_fx_report_opts o;
    uint8_t report[MS_SNP_REPORT_LEN];
    if (ms_json_get(top, "tdx", &(ms_json_val){0}) == MS_OK) {
        return fail(c, "tdx: a sev_guest provider makes SEV-SNP reports");
    }
    if (snp_opts(c, top, &o) != 0 || read_named(c, top, "aux", 0, FTSM_MAX_AUX_FILE, auxblob) != 0) {
        return -1;
    }
    EVP_PKEY *key = read_key(c, top, "key");
    if (key == NULL) {
        return -1;
    }
    memcpy(o.report_data, rd, sizeof o.report_data);
    int ok = snp_fx_report_make(report, &o, key) &&
             ms_buf_append(outblob, report, sizeof report) == MS_OK;
    EVP_PKEY_free(key);
    return ok ? 0 : fail(c, "signing the report failed");
}

static int make_tdx(cfg_ctx *c, ms_json_val top, const uint8_t rd[static 64], ms_buf *outblob)
{
    tdx_fx_quote_opts o;
    tdx_fx_chain chain;
    tdx_fx_layout layout;
    ms_buf quote;
    if (ms_json_get(top, "snp", &(ms_json_val){0}) == MS_OK ||
        ms_json_get(top, "aux", &(ms_json_val){0}) == MS_OK) {
        return fail(c, "snp, aux: a tdx_guest provider makes TDX quotes");
    }
    if (tdx_opts(c, top, &o) != 0) {
        return -1;
    }
    memset(&chain, 0, sizeof chain);
    ms_buf_init(&chain.pem, FTSM_MAX_CHAIN_FILE);
    ms_buf_init(&quote, FTSM_MAX_OUTBLOB);
    memcpy(o.report_data, rd, sizeof o.report_data);
    int rc = read_named(c, top, "chain", 1, FTSM_MAX_CHAIN_FILE, &chain.pem);
    if (rc == 0 && ((chain.pck_key = read_key(c, top, "key")) == NULL ||
                    (chain.ak = read_key(c, top, "ak")) == NULL)) {
        rc = -1;
    }
    if (rc == 0 && (!tdx_fx_quote_make(&quote, &chain, &o, &layout) ||
                    ms_buf_append(outblob, quote.p, quote.len) != MS_OK)) {
        rc = fail(c, "making the quote failed");
    }
    ms_buf_free(&quote);
    tdx_fx_chain_free(&chain);
    return rc;
}

int ftsm_report_make(enum ftsm_provider prov, const char *config, const uint8_t *inblob,
                     size_t in_len, ms_buf *outblob, ms_buf *auxblob, char why[static 256])
{
    cfg_ctx c = {.config = config, .why = why};
    uint8_t rd[FTSM_INBLOB_MAX] = {0};
    ms_buf text;
    ms_json_doc *doc = NULL;
    ms_json_val top;
    int rc = -1;
    why[0] = 0;
    ms_buf_clear(outblob);
    ms_buf_clear(auxblob);
    if (in_len > sizeof rd) {
        return fail(&c, "inblob over %u bytes", FTSM_INBLOB_MAX);
    }
    if (in_len > 0) {
        memcpy(rd, inblob, in_len);
    }
    ms_buf_init(&text, FTSM_MAX_CONFIG);
    ms_err e = ms_file_read(config, FTSM_MAX_CONFIG, &text);
    if (e != MS_OK) {
        fail(&c, "%s: %s", config, ms_err_str(e));
    } else if ((e = ms_json_parse((const char *)text.p, text.len, &doc)) != MS_OK ||
               (e = ms_json_as_obj(ms_json_root(doc), &top)) != MS_OK) {
        fail(&c, "%s: %s", config, ms_err_str(e));
    } else if (known_only(&c, top, "config", TOP_KEYS, sizeof TOP_KEYS / sizeof TOP_KEYS[0]) == 0) {
        rc = prov == FTSM_SEV_GUEST ? make_snp(&c, top, rd, outblob, auxblob)
                                    : make_tdx(&c, top, rd, outblob);
    }
    ms_json_free(doc);
    ms_buf_free(&text);
    if (rc != 0) {
        ms_buf_clear(outblob);
        ms_buf_clear(auxblob);
    }
    return rc;
}
