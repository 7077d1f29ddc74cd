/* Attestation policy: a typed JSON reader and the verifier that dispatches to each evidence type. */
#include "secure/attest/policy.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/log.h"
#include "secure/attest/devkey.h"

static const char *const TYPE_NAMES[] = {"dev-key", "tpm2-quote", "sev-snp", "nvidia-gpu"};
static const uint16_t TYPE_IDS[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE, MS_EVIDENCE_SEV_SNP,
                                    MS_EVIDENCE_NVIDIA_GPU};
#define N_TYPES (sizeof TYPE_IDS / sizeof TYPE_IDS[0])

const char *ms_evidence_type_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof TYPE_IDS / sizeof TYPE_IDS[0]; i++) {
        if (TYPE_IDS[i] == type) {
            return TYPE_NAMES[i];
        }
    }
    return "unknown";
}

void ms_attest_policy_init(ms_attest_policy *p)
{
    memset(p, 0, sizeof *p);
    ms_buf_init(&p->snp_ark, MS_MAX_KEY_FILE * 4);
    ms_buf_init(&p->snp_ask, MS_MAX_KEY_FILE * 4);
    ms_buf_init(&p->nv_root, MS_NVGPU_MAX_CERT);
}

void ms_attest_policy_free(ms_attest_policy *p)
{
    ms_buf_free(&p->snp_ark);
    ms_buf_free(&p->snp_ask);
    ms_buf_free(&p->nv_root);
    ms_wipe(p, sizeof *p);
}

__attribute__((format(printf, 3, 4))) static ms_err fail(ms_attest_policy *p, ms_err e,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
    return e;
}

/* Refuse keys the format does not define: a typo must not silently weaken a policy. */
static ms_err only_keys(ms_attest_policy *p, ms_json_val obj, const char *where,
                        const char *const *allowed, size_t n)
{
    ms_json_iter it = ms_json_iter_init(obj);
    ms_json_val v;
    const char *key;
    while (ms_json_iter_next(&it, &v, &key)) {
        size_t i = 0;
        while (i < n && strcmp(key, allowed[i]) != 0) {
            i++;
        }
        if (i == n) {
            return fail(p, MS_ERR_CONFIG, "%s: unknown field \"%.40s\"", where, key);
        }
    }
    return MS_OK;
}

static ms_err hex_field(ms_attest_policy *p, ms_json_val obj, const char *key, const char *where,
                        uint8_t *out, size_t n)
{
    const char *s;
    size_t len, got;
    ms_err e = ms_json_get_str(obj, key, 2 * n, &s, &len);
    if (e != MS_OK || len != 2 * n || ms_hex_decode(s, len, out, n, &got) != MS_OK) {
        return fail(p, e != MS_OK ? e : MS_ERR_CONFIG, "%s.%s: want %zu hex characters", where,
                    key, 2 * n);
    }
    return MS_OK;
}

/* A file named by the policy, relative to the policy's own folder unless absolute. */
static ms_err policy_path(ms_attest_policy *p, ms_json_val obj, const char *key, const char *where,
                          const char *base_dir, char out[static PATH_MAX])
{
    const char *s;
    size_t len;
    ms_err e = ms_json_get_str(obj, key, PATH_MAX / 2, &s, &len);
    if (e != MS_OK || len == 0) {
        return fail(p, e != MS_OK ? e : MS_ERR_CONFIG, "%s.%s: want a file name", where, key);
    }
    int n = s[0] == '/' || !base_dir ? snprintf(out, PATH_MAX, "%.*s", (int)len, s)
                                     : snprintf(out, PATH_MAX, "%s/%.*s", base_dir, (int)len, s);
    return n > 0 && n < PATH_MAX ? MS_OK : fail(p, MS_ERR_CONFIG, "%s.%s: path too long", where, key);
}

static ms_err parse_dev_key(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {"public_key_pem"};
    ms_json_val o;
    char path[PATH_MAX];
    TRY(ms_json_get_obj_opt(root, "dev_key", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "dev_key", keys, 1));
    TRY(policy_path(p, o, "public_key_pem", "dev_key", base_dir, path));
    ms_err e = ms_devkey_read_public(path, p->dev_pk);
    if (e != MS_OK) {
        return fail(p, e, "dev_key.public_key_pem: cannot read an Ed25519 public key from %.100s",
                    path);
    }
    p->have_dev_pk = 1;
    return MS_OK;
}

static ms_err parse_pcrs(ms_attest_policy *p, ms_json_val tpm)
{
    ms_json_val pcrs, v;
    const char *key;
    TRY(ms_json_get_obj(tpm, "pcrs", &pcrs));
    ms_json_iter it = ms_json_iter_init(pcrs);
    while (ms_json_iter_next(&it, &v, &key)) {
        char *end;
        long n = strtol(key, &end, 10);
        if (*key == 0 || *end || n < 0 || n >= (long)MS_TPM2_NUM_PCRS) {
            return fail(p, MS_ERR_CONFIG, "tpm2.pcrs: \"%.10s\" is not a PCR number 0..23", key);
        }
        TRY(hex_field(p, pcrs, key, "tpm2.pcrs", p->tpm2.pcr_values[n], MS_TPM2_DIGEST_LEN));
        p->tpm2.pcr_mask |= 1u << n;
    }
    return p->tpm2.pcr_mask ? MS_OK : fail(p, MS_ERR_CONFIG, "tpm2.pcrs: name at least one PCR");
}

static ms_err parse_tpm2(ms_attest_policy *p, ms_json_val root)
{
    static const char *const keys[] = {"ak_name", "pcrs"};
    ms_json_val o;
    TRY(ms_json_get_obj_opt(root, "tpm2", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "tpm2", keys, 2));
    TRY(hex_field(p, o, "ak_name", "tpm2", p->tpm2.ak_name, MS_TPM2_NAME_LEN));
    TRY(parse_pcrs(p, o));
    p->have_tpm2 = 1;
    return MS_OK;
}

static ms_err read_cert(ms_attest_policy *p, ms_json_val o, const char *key, const char *base_dir,
                        ms_buf *der)
{
    char path[PATH_MAX];
    ms_buf pem;
    TRY(policy_path(p, o, key, "sev_snp", base_dir, path));
    ms_buf_init(&pem, MS_MAX_KEY_FILE * 4);
    ms_err e = ms_file_read(path, MS_MAX_KEY_FILE * 4, &pem);
    if (e == MS_OK) {
        e = ms_snp_cert_pem_to_der(pem.p, pem.len, der);
    }
    ms_buf_free(&pem);
    return e == MS_OK ? MS_OK : fail(p, e, "sev_snp.%s: cannot read a PEM certificate from %.100s", key, path);
}

static ms_err parse_tcb(ms_attest_policy *p, ms_json_val o)
{
    static const char *const keys[] = {"bootloader", "tee", "snp", "microcode"};
    ms_json_val t;
    uint64_t v[4];
    TRY(ms_json_get_obj(o, "min_tcb", &t));
    TRY(only_keys(p, t, "sev_snp.min_tcb", keys, 4));
    for (int i = 0; i < 4; i++) {
        if (ms_json_get_u64(t, keys[i], 255, &v[i]) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "sev_snp.min_tcb.%s: want an integer 0..255", keys[i]);
        }
    }
    p->snp.min_tcb = (ms_snp_tcb){.bootloader = (uint8_t)v[0], .tee = (uint8_t)v[1],
                                  .snp = (uint8_t)v[2], .microcode = (uint8_t)v[3]};
    return MS_OK;
}

static ms_err parse_snp(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {"ark_pem", "ask_pem", "measurement", "min_tcb"};
    ms_json_val o, x;
    TRY(ms_json_get_obj_opt(root, "sev_snp", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "sev_snp", keys, 4));
    TRY(read_cert(p, o, "ark_pem", base_dir, &p->snp_ark));
    if (ms_json_get(o, "ask_pem", &x) == MS_OK) {
        TRY(read_cert(p, o, "ask_pem", base_dir, &p->snp_ask));
    }
    TRY(hex_field(p, o, "measurement", "sev_snp", p->snp.measurement, MS_SNP_MEASUREMENT_LEN));
    TRY(parse_tcb(p, o));
    p->snp.ark_der = p->snp_ark.p;
    p->snp.ark_len = p->snp_ark.len;
    p->snp.ask_der = p->snp_ask.len ? p->snp_ask.p : NULL;
    p->snp.ask_len = p->snp_ask.len;
    p->have_snp = 1;
    return MS_OK;
}

/* "measurements": {"1": "hex", ...}: decimal index 1..254 to a value of 1..64 bytes. */
static ms_err parse_nv_meas(ms_attest_policy *p, ms_json_val o)
{
    ms_json_val m, v;
    const char *key, *s;
    size_t len, got;
    TRY(ms_json_get_obj(o, "measurements", &m));
    ms_json_iter it = ms_json_iter_init(m);
    while (ms_json_iter_next(&it, &v, &key)) {
        char *end;
        unsigned long idx = strtoul(key, &end, 10);
        if (key[0] < '1' || key[0] > '9' || *end != '\0' || idx > 254 || strlen(key) > 3) {
            return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements: \"%.20s\" is not an index 1..254", key);
        }
        ms_nvgpu_meas *dst = &p->nv_meas[p->nvgpu.n_meas];
        for (size_t i = 0; i < p->nvgpu.n_meas; i++) {
            if (p->nv_meas[i].index == idx) {
                return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements: index %lu twice", idx);
            }
        }
        if (ms_json_as_str(v, 2 * MS_NVGPU_MAX_MEAS_VALUE, &s, &len) != MS_OK || len == 0 ||
            len % 2 != 0 || ms_hex_decode(s, len, dst->value, sizeof dst->value, &got) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements.%lu: want 2..%u hex characters",
                        idx, 2u * MS_NVGPU_MAX_MEAS_VALUE);
        }
        dst->index = (uint8_t)idx;
        dst->len = (uint8_t)got;
        p->nvgpu.n_meas++;
    }
    if (p->nvgpu.n_meas == 0) {
        return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements: pin at least one index");
    }
    return MS_OK;
}

static ms_err parse_nvgpu(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {"root_pem", "count", "measurements", "require_cc",
                                       "allow_debug"};
    ms_json_val o;
    char path[PATH_MAX];
    ms_buf pem;
    bool cc, dbg;
    uint64_t count;
    TRY(ms_json_get_obj_opt(root, "nvidia_gpu", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "nvidia_gpu", keys, sizeof keys / sizeof keys[0]));
    TRY(policy_path(p, o, "root_pem", "nvidia_gpu", base_dir, path));
    ms_buf_init(&pem, MS_MAX_KEY_FILE * 4);
    ms_err e = ms_file_read(path, MS_MAX_KEY_FILE * 4, &pem);
    if (e == MS_OK) {
        e = ms_snp_cert_pem_to_der(pem.p, pem.len, &p->nv_root);
    }
    ms_buf_free(&pem);
    if (e != MS_OK) {
        return fail(p, e, "nvidia_gpu.root_pem: cannot read a PEM certificate from %.100s", path);
    }
    if (ms_json_get_u64_opt(o, "count", MS_NVGPU_MAX_GPUS, 0, &count) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "nvidia_gpu.count: want an integer 0..%u (0: any)",
                    MS_NVGPU_MAX_GPUS);
    }
    if (ms_json_get_bool_opt(o, "require_cc", true, &cc) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "nvidia_gpu.require_cc: want true or false");
    }
    if (ms_json_get_bool_opt(o, "allow_debug", false, &dbg) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "nvidia_gpu.allow_debug: want true or false");
    }
    TRY(parse_nv_meas(p, o));
    p->nvgpu.root_der = p->nv_root.p;
    p->nvgpu.root_len = p->nv_root.len;
    p->nvgpu.meas = p->nv_meas;
    p->nvgpu.count = (size_t)count;
    p->nvgpu.require_cc = cc;
    p->nvgpu.allow_debug = dbg;
    p->have_nvgpu = 1;
    return MS_OK;
}

static ms_err parse_accept(ms_attest_policy *p, ms_json_val root)
{
    ms_json_val arr, v;
    size_t n, idx;
    if (ms_json_get_arr(root, "accept", N_TYPES, &arr, &n) != MS_OK || n == 0) {
        return fail(p, MS_ERR_CONFIG, "accept: want a list of 1..%zu evidence types", N_TYPES);
    }
    for (size_t i = 0; i < n; i++) {
        TRY(ms_json_arr_at(arr, i, &v));
        if (ms_json_as_enum(v, TYPE_NAMES, N_TYPES, &idx) != MS_OK) {
            return fail(p, MS_ERR_CONFIG,
                        "accept[%zu]: want dev-key, tpm2-quote, sev-snp or nvidia-gpu", i);
        }
        for (uint8_t j = 0; j < p->n_accept; j++) {
            if (p->accept[j] == TYPE_IDS[idx]) {
                return fail(p, MS_ERR_CONFIG, "accept: %s is listed twice", TYPE_NAMES[idx]);
            }
        }
        p->accept[p->n_accept++] = TYPE_IDS[idx];
    }
    return MS_OK;
}

/* Every accepted type needs what its verifier checks against. */
static ms_err check_complete(ms_attest_policy *p)
{
    for (uint8_t i = 0; i < p->n_accept; i++) {
        uint16_t t = p->accept[i];
        if ((t == MS_EVIDENCE_DEV_KEY && !p->have_dev_pk) ||
            (t == MS_EVIDENCE_TPM2_QUOTE && !p->have_tpm2) ||
            (t == MS_EVIDENCE_SEV_SNP && !p->have_snp) ||
            (t == MS_EVIDENCE_NVIDIA_GPU && !p->have_nvgpu)) {
            return fail(p, MS_ERR_CONFIG, "accept lists %s but the policy has no %s section",
                        ms_evidence_type_name(t),
                        t == MS_EVIDENCE_DEV_KEY ? "dev_key" : t == MS_EVIDENCE_TPM2_QUOTE ? "tpm2"
                        : t == MS_EVIDENCE_SEV_SNP ? "sev_snp" : "nvidia_gpu");
        }
    }
    return MS_OK;
}

static ms_err parse_root(ms_attest_policy *p, ms_json_doc *doc, const char *base_dir)
{
    static const char *const keys[] = {"version", "accept", "require_strict", "max_validity_seconds",
                                       "dev_key", "tpm2", "sev_snp", "nvidia_gpu"};
    ms_json_val root;
    int64_t version;
    bool strict;
    if (ms_json_as_obj(ms_json_root(doc), &root) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "the policy must be a JSON object");
    }
    TRY(only_keys(p, root, "policy", keys, sizeof keys / sizeof keys[0]));
    if (ms_json_get_i64(root, "version", 1, 1, &version) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "version: want 1");
    }
    TRY(parse_accept(p, root));
    TRY(ms_json_get_bool_opt(root, "require_strict", false, &strict));
    p->require_strict = strict;
    TRY(ms_json_get_u64_opt(root, "max_validity_seconds", 366u * 86400u, 0, &p->max_validity_s));
    TRY(parse_dev_key(p, root, base_dir));
    TRY(parse_tpm2(p, root));
    TRY(parse_snp(p, root, base_dir));
    TRY(parse_nvgpu(p, root, base_dir));
    return check_complete(p);
}

ms_err ms_attest_policy_parse(ms_attest_policy *p, const uint8_t *json, size_t len,
                              const char *base_dir)
{
    ms_json_doc *doc = NULL;
    ENSURE(len <= MS_MAX_POLICY_FILE, MS_ERR_CAP_EXCEEDED);
    ms_err e = ms_json_parse((const char *)json, len, &doc);
    if (e != MS_OK) {
        return fail(p, e, "not valid JSON");
    }
    e = parse_root(p, doc, base_dir);
    if (e != MS_OK && p->why[0] == 0) {
        fail(p, e, "a field has the wrong type or value");
    }
    ms_json_free(doc);
    return e;
}

ms_err ms_attest_policy_load(ms_attest_policy *p, const char *path)
{
    ms_buf text;
    char dir[PATH_MAX];
    ms_buf_init(&text, MS_MAX_POLICY_FILE);
    ms_err e = ms_file_read(path, MS_MAX_POLICY_FILE, &text);
    if (e != MS_OK) {
        ms_buf_free(&text);
        return fail(p, e, "cannot read %.150s", path);
    }
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    e = ms_attest_policy_parse(p, text.p, text.len, dir);
    ms_buf_free(&text);
    return e;
}

ms_err ms_attest_policy_allow_dev_key(ms_attest_policy *p, const uint8_t pk[static MS_SIGN_PK_LEN])
{
    memcpy(p->dev_pk, pk, MS_SIGN_PK_LEN);
    p->have_dev_pk = 1;
    for (uint8_t i = 0; i < p->n_accept; i++) {
        if (p->accept[i] == MS_EVIDENCE_DEV_KEY) {
            return MS_OK;
        }
    }
    ENSURE(p->n_accept < MS_MAX_HS_LIST, MS_ERR_CONFIG);
    p->accept[p->n_accept++] = MS_EVIDENCE_DEV_KEY;
    return MS_OK;
}

ms_err ms_attest_policy_verify(void *ctx, const ms_evidence_view *ev)
{
    const ms_attest_policy *p = ctx;
    int accepted = 0;
    for (uint8_t i = 0; i < p->n_accept; i++) {
        accepted |= p->accept[i] == ev->type;
    }
    ENSURE(accepted, MS_ERR_ATTEST_POLICY);
    ENSURE(!p->require_strict || ev->mode == MS_MODE_STRICT, MS_ERR_ATTEST_POLICY);
    /* Evidence that promises to stay valid for longer than the policy allows is refused. */
    ENSURE(p->max_validity_s == 0 || ev->not_after <= ev->now + p->max_validity_s,
           MS_ERR_ATTEST_POLICY);
    switch (ev->type) {
    case MS_EVIDENCE_DEV_KEY:
        ENSURE(p->have_dev_pk, MS_ERR_ATTEST_POLICY);
        return ms_devkey_verify(p->dev_pk, ev->data, ev->len, ev->binding);
    case MS_EVIDENCE_TPM2_QUOTE:
        ENSURE(p->have_tpm2, MS_ERR_ATTEST_POLICY);
        return ms_tpm2_verify(&p->tpm2, ev->data, ev->len, ev->binding);
    case MS_EVIDENCE_SEV_SNP:
        ENSURE(p->have_snp, MS_ERR_ATTEST_POLICY);
        return ms_snp_verify(&p->snp, ev->data, ev->len, ev->binding);
    case MS_EVIDENCE_NVIDIA_GPU:
        ENSURE(p->have_nvgpu, MS_ERR_ATTEST_POLICY);
        return ms_nvgpu_verify_evidence(&p->nvgpu, ev->data, ev->len, ev->binding, ev->now);
    default:
        return MS_ERR_ATTEST_POLICY;
    }
}
