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
#include "common/text.h"
#include "secure/attest/devkey.h"

static const char *const TYPE_NAMES[] = {"dev-key", "tpm2-quote", "sev-snp", "tdx",
                                         "az-snp-vtpm", "nvidia-gpu", "composite",
                                         "az-tdx-vtpm"};
static const uint16_t TYPE_IDS[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE, MS_EVIDENCE_SEV_SNP,
                                    MS_EVIDENCE_TDX, MS_EVIDENCE_AZ_SNP_VTPM,
                                    MS_EVIDENCE_NVIDIA_GPU, MS_EVIDENCE_COMPOSITE,
                                    MS_EVIDENCE_AZ_TDX_VTPM};
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
    ms_buf_init(&p->snp_asvk, MS_MAX_KEY_FILE * 4);
    ms_buf_init(&p->snp_crl, MS_SNP_MAX_CRL);
    ms_buf_init(&p->tpm2_ak_ca, MS_TPM2_MAX_CA_FILE);
    ms_buf_init(&p->tdx_root, MS_MAX_KEY_FILE * 4);
    ms_tdx_files_init(&p->tdx_files);
    ms_buf_init(&p->nv_root, MS_NVGPU_MAX_CERT);
}

void ms_attest_policy_free(ms_attest_policy *p)
{
    ms_buf_free(&p->snp_ark);
    ms_buf_free(&p->snp_ask);
    ms_buf_free(&p->snp_asvk);
    ms_buf_free(&p->snp_crl);
    ms_buf_free(&p->tpm2_ak_ca);
    ms_buf_free(&p->tdx_root);
    ms_tdx_files_free(&p->tdx_files);
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

/* A required object member; when it is missing or not an object, the message names it. */
static ms_err req_obj(ms_attest_policy *p, ms_json_val o, const char *key, const char *where,
                      ms_json_val *out)
{
    ms_err e = ms_json_get_obj(o, key, out);
    if (e == MS_ERR_JSON_MISSING) {
        return fail(p, e, "%s.%s: a required field is missing", where, key);
    }
    return e == MS_OK ? MS_OK : fail(p, e, "%s.%s: want an object", where, key);
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

/* A member key that is a number 0..max: digits, no leading zero ("05", " 5" or "+5" would
   name 5 a second time, and the later value would silently win). */
static bool index_key(const char *key, uint64_t max, uint64_t *n)
{
    return !(key[0] == '0' && key[1] != '\0') && ms_text_read_u64(key, max, n);
}

static ms_err parse_pcrs(ms_attest_policy *p, ms_json_val tpm)
{
    ms_json_val pcrs, v;
    const char *key;
    TRY(req_obj(p, tpm, "pcrs", "tpm2", &pcrs));
    ms_json_iter it = ms_json_iter_init(pcrs);
    while (ms_json_iter_next(&it, &v, &key)) {
        uint64_t n;
        if (!index_key(key, MS_TPM2_NUM_PCRS - 1, &n)) {
            return fail(p, MS_ERR_CONFIG, "tpm2.pcrs: \"%.10s\" is not a PCR number 0..23", key);
        }
        TRY(hex_field(p, pcrs, key, "tpm2.pcrs", p->tpm2.pcr_values[n], MS_TPM2_DIGEST_LEN));
        p->tpm2.pcr_mask |= 1u << n;
    }
    return p->tpm2.pcr_mask ? MS_OK : fail(p, MS_ERR_CONFIG, "tpm2.pcrs: name at least one PCR");
}

/* tpm2.ak_ca_pem: the AK CA's certificates (docs/attest-tpm2.md §7), at least one. */
static ms_err read_ak_ca(ms_attest_policy *p, ms_json_val o, const char *base_dir)
{
    char path[PATH_MAX];
    TRY(policy_path(p, o, "ak_ca_pem", "tpm2", base_dir, path));
    ms_err e = ms_file_read(path, MS_TPM2_MAX_CA_FILE, &p->tpm2_ak_ca);
    if (e == MS_OK) {
        e = ms_tpm2_ca_pem_check(p->tpm2_ak_ca.p, p->tpm2_ak_ca.len);
    }
    if (e != MS_OK) {
        return fail(p, e, "tpm2.ak_ca_pem: cannot read PEM certificates from %.100s", path);
    }
    p->tpm2.ak_ca_pem = p->tpm2_ak_ca.p;
    p->tpm2.ak_ca_pem_len = p->tpm2_ak_ca.len;
    return MS_OK;
}

static ms_err parse_tpm2(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {"ak_name", "ak_ca_pem", "pcrs"};
    ms_json_val o, x;
    TRY(ms_json_get_obj_opt(root, "tpm2", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "tpm2", keys, 3));
    int by_name = ms_json_get(o, "ak_name", &x) == MS_OK;
    int by_ca = ms_json_get(o, "ak_ca_pem", &x) == MS_OK;
    if (by_name == by_ca) {
        return fail(p, MS_ERR_CONFIG, "tpm2: want exactly one of ak_name and ak_ca_pem (%s)",
                    by_name ? "both given" : "neither given");
    }
    if (by_name) {
        TRY(hex_field(p, o, "ak_name", "tpm2", p->tpm2.ak_name, MS_TPM2_NAME_LEN));
    } else {
        TRY(read_ak_ca(p, o, base_dir));
    }
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
    static const char *const keys[] = {"bootloader", "tee", "snp", "microcode", "fmc"};
    ms_json_val t;
    uint64_t v[5];
    TRY(req_obj(p, o, "min_tcb", "sev_snp", &t));
    TRY(only_keys(p, t, "sev_snp.min_tcb", keys, 5));
    for (int i = 0; i < 5; i++) {
        /* "fmc" (Turin's first TCB byte) may be left out: older policies have no such field. */
        ms_err e = i < 4 ? ms_json_get_u64(t, keys[i], 255, &v[i])
                         : ms_json_get_u64_opt(t, keys[i], 255, 0, &v[i]);
        if (e != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "sev_snp.min_tcb.%s: want an integer 0..255", keys[i]);
        }
    }
    p->snp.min_tcb = (ms_snp_tcb){.bootloader = (uint8_t)v[0], .tee = (uint8_t)v[1],
                                  .snp = (uint8_t)v[2], .microcode = (uint8_t)v[3],
                                  .fmc = (uint8_t)v[4]};
    return MS_OK;
}

/* A named bit of the guest policy or PLATFORM_INFO (docs/attestation.md, sev_snp). */
typedef struct snp_bit_name {
    const char *name;
    uint64_t bit;
} snp_bit_name;

static const snp_bit_name GUEST_POLICY_BITS[] = {
    {"smt", MS_SNP_POLICY_SMT},
    {"migrate_ma", MS_SNP_POLICY_MIGRATE_MA},
    {"debug", MS_SNP_POLICY_DEBUG},
    {"single_socket", MS_SNP_POLICY_SINGLE_SOCKET},
    {"cxl_allow", MS_SNP_POLICY_CXL_ALLOW},
    {"mem_aes_256_xts", MS_SNP_POLICY_MEM_AES_256_XTS},
    {"rapl_dis", MS_SNP_POLICY_RAPL_DIS},
    {"ciphertext_hiding", MS_SNP_POLICY_CIPHERTEXT_HIDING},
    {"page_swap_disable", MS_SNP_POLICY_PAGE_SWAP_DISABLE},
};

static const snp_bit_name PLATFORM_INFO_BITS[] = {
    {"smt_en", MS_SNP_PLATFORM_SMT_EN},
    {"tsme_en", MS_SNP_PLATFORM_TSME_EN},
    {"ecc_en", MS_SNP_PLATFORM_ECC_EN},
    {"rapl_dis", MS_SNP_PLATFORM_RAPL_DIS},
    {"ciphertext_hiding_en", MS_SNP_PLATFORM_CIPHERTEXT_HIDING_EN},
    {"alias_check_complete", MS_SNP_PLATFORM_ALIAS_CHECK_COMPLETE},
};

/* {"name": true|false, ...}: true, the bit must be set; false, clear; absent, either. */
static ms_err parse_bits(ms_attest_policy *p, ms_json_val o, const char *key,
                         const snp_bit_name *names, size_t n, uint64_t *set, uint64_t *clear)
{
    ms_json_val b, v;
    const char *name;
    TRY(ms_json_get_obj_opt(o, key, &b));
    ms_json_iter it = ms_json_iter_init(b);
    while (ms_json_iter_next(&it, &v, &name)) {
        size_t i = 0;
        bool want;
        while (i < n && strcmp(name, names[i].name) != 0) {
            i++;
        }
        if (i == n) {
            return fail(p, MS_ERR_CONFIG, "sev_snp.%s: unknown bit \"%.40s\"", key, name);
        }
        if (ms_json_get_bool(b, name, &want) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "sev_snp.%s.%s: want true or false", key, name);
        }
        *(want ? set : clear) |= names[i].bit;
    }
    return MS_OK;
}

/* An optional hex pin: *have is 1 when the field is present (and then well formed). */
static ms_err hex_pin(ms_attest_policy *p, ms_json_val o, const char *key, uint8_t *out, size_t n,
                      int *have)
{
    ms_json_val x;
    *have = 0;
    if (ms_json_get(o, key, &x) != MS_OK) {
        return MS_OK;
    }
    TRY(hex_field(p, o, key, "sev_snp", out, n));
    *have = 1;
    return MS_OK;
}

/* The optional files: the ASVK (VLEK-signed reports) and AMD's CRL (PEM or DER). */
static ms_err parse_snp_files(ms_attest_policy *p, ms_json_val o, const char *base_dir)
{
    static const char *const crl_keys[] = {"crl_pem", "crl_der"};
    ms_json_val x;
    char path[PATH_MAX];
    if (ms_json_get(o, "asvk_pem", &x) == MS_OK) {
        TRY(read_cert(p, o, "asvk_pem", base_dir, &p->snp_asvk));
    }
    for (size_t i = 0; i < 2; i++) {
        if (ms_json_get(o, crl_keys[i], &x) != MS_OK) {
            continue;
        }
        if (p->snp_crl.len > 0) {
            return fail(p, MS_ERR_CONFIG, "sev_snp: give crl_pem or crl_der, not both");
        }
        TRY(policy_path(p, o, crl_keys[i], "sev_snp", base_dir, path));
        ms_err e = ms_snp_crl_file_der(path, &p->snp_crl);
        if (e != MS_OK) {
            return fail(p, e, "sev_snp.%s: cannot read a CRL from %.100s", crl_keys[i], path);
        }
    }
    p->snp.asvk_der = p->snp_asvk.len ? p->snp_asvk.p : NULL;
    p->snp.asvk_len = p->snp_asvk.len;
    p->snp.crl_der = p->snp_crl.len ? p->snp_crl.p : NULL;
    p->snp.crl_len = p->snp_crl.len;
    return MS_OK;
}

static ms_err bool_field(ms_attest_policy *p, ms_json_val o, const char *key, bool def, bool *out)
{
    if (ms_json_get_bool_opt(o, key, def, out) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "sev_snp.%s: want true or false", key);
    }
    return MS_OK;
}

/* The guest's launch and policy: VMPL, the guest policy's bits, PLATFORM_INFO, the pins. */
static ms_err parse_snp_guest(ms_attest_policy *p, ms_json_val o)
{
    ms_snp_policy *s = &p->snp;
    uint64_t vmpl, major, minor;
    bool ma, agent, smt, single;
    ms_json_val x;
    if (ms_json_get_u64_opt(o, "vmpl", 3, 0, &vmpl) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "sev_snp.vmpl: want an integer 0..3");
    }
    s->vmpl = (uint32_t)vmpl;
    TRY(bool_field(p, o, "allow_migrate_ma", false, &ma));
    TRY(bool_field(p, o, "allow_migration_agent", false, &agent));
    TRY(bool_field(p, o, "allow_smt", true, &smt));
    TRY(bool_field(p, o, "require_single_socket", false, &single));
    s->allow_migrate_ma = ma;
    s->allow_migration_agent = agent;
    s->forbid_smt = !smt;
    s->require_single_socket = single;
    s->have_min_abi = ms_json_get(o, "min_abi_major", &x) == MS_OK ||
                      ms_json_get(o, "min_abi_minor", &x) == MS_OK;
    if (ms_json_get_u64_opt(o, "min_abi_major", 255, 0, &major) != MS_OK ||
        ms_json_get_u64_opt(o, "min_abi_minor", 255, 0, &minor) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "sev_snp.min_abi_major/minor: want integers 0..255");
    }
    s->min_abi_major = (uint8_t)major;
    s->min_abi_minor = (uint8_t)minor;
    TRY(parse_bits(p, o, "guest_policy", GUEST_POLICY_BITS,
                   sizeof GUEST_POLICY_BITS / sizeof GUEST_POLICY_BITS[0], &s->policy_set,
                   &s->policy_clear));
    TRY(parse_bits(p, o, "platform_info", PLATFORM_INFO_BITS,
                   sizeof PLATFORM_INFO_BITS / sizeof PLATFORM_INFO_BITS[0], &s->platform_set,
                   &s->platform_clear));
    TRY(hex_pin(p, o, "host_data", s->host_data, sizeof s->host_data, &s->have_host_data));
    TRY(hex_pin(p, o, "family_id", s->family_id, sizeof s->family_id, &s->have_family_id));
    TRY(hex_pin(p, o, "image_id", s->image_id, sizeof s->image_id, &s->have_image_id));
    TRY(hex_pin(p, o, "id_key_digest", s->id_key_digest, sizeof s->id_key_digest, &s->have_id_key));
    return hex_pin(p, o, "author_key_digest", s->author_key_digest, sizeof s->author_key_digest,
                   &s->have_author_key);
}

static ms_err parse_snp(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {
        "ark_pem", "ask_pem", "measurement", "min_tcb",
        /* added by the attestation-without-gaps work (docs/attestation.md) */
        "asvk_pem", "crl_pem", "crl_der", "vmpl", "allow_migrate_ma", "allow_migration_agent",
        "allow_smt", "require_single_socket", "min_abi_major", "min_abi_minor", "guest_policy",
        "platform_info", "host_data", "family_id", "image_id", "id_key_digest",
        "author_key_digest"};
    ms_json_val o, x;
    TRY(ms_json_get_obj_opt(root, "sev_snp", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "sev_snp", keys, sizeof keys / sizeof keys[0]));
    TRY(read_cert(p, o, "ark_pem", base_dir, &p->snp_ark));
    if (ms_json_get(o, "ask_pem", &x) == MS_OK) {
        TRY(read_cert(p, o, "ask_pem", base_dir, &p->snp_ask));
    }
    TRY(hex_field(p, o, "measurement", "sev_snp", p->snp.measurement, MS_SNP_MEASUREMENT_LEN));
    TRY(parse_tcb(p, o));
    TRY(parse_snp_files(p, o, base_dir));
    TRY(parse_snp_guest(p, o));
    p->snp.ark_der = p->snp_ark.p;
    p->snp.ark_len = p->snp_ark.len;
    p->snp.ask_der = p->snp_ask.len ? p->snp_ask.p : NULL;
    p->snp.ask_len = p->snp_ask.len;
    p->have_snp = 1;
    return MS_OK;
}

/* ---- "tdx" (docs/attest-tdx.md §5) ---- */

static ms_err tdx_rtmrs(ms_attest_policy *p, ms_json_val o)
{
    ms_json_val r, v;
    const char *key;
    if (ms_json_get(o, "rtmrs", &r) != MS_OK) {
        return MS_OK;
    }
    if (ms_json_as_obj(r, &r) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "tdx.rtmrs: want an object {\"0\": hex, ...}");
    }
    ms_json_iter it = ms_json_iter_init(r);
    while (ms_json_iter_next(&it, &v, &key)) {
        if (key[0] < '0' || key[0] > '3' || key[1] != 0) {
            return fail(p, MS_ERR_CONFIG, "tdx.rtmrs: \"%.10s\" is not an RTMR number 0..3", key);
        }
        size_t i = (size_t)(key[0] - '0');
        TRY(hex_field(p, r, key, "tdx.rtmrs", p->tdx.rtmr[i], MS_TDX_MEAS_LEN));
        p->tdx.have_rtmr[i] = 1;
    }
    return MS_OK;
}

static ms_err tdx_accept(ms_attest_policy *p, ms_json_val o)
{
    ms_json_val arr, v;
    size_t n;
    const char *s;
    size_t len;
    if (ms_json_get(o, "accept_tcb_status", &v) != MS_OK) {
        p->tdx.accept_tcb = MS_TDX_ACCEPT(MS_TDX_TCB_UP_TO_DATE);
        return MS_OK;
    }
    if (ms_json_get_arr(o, "accept_tcb_status", MS_TDX_TCB_REVOKED, &arr, &n) != MS_OK || n == 0) {
        return fail(p, MS_ERR_CONFIG, "tdx.accept_tcb_status: want a list of Intel TCB statuses");
    }
    for (size_t i = 0; i < n; i++) {
        ms_tdx_tcb_status st = MS_TDX_TCB_NONE;
        TRY(ms_json_arr_at(arr, i, &v));
        if (ms_json_as_str(v, 64, &s, &len) == MS_OK) {
            for (int k = MS_TDX_TCB_UP_TO_DATE; k <= MS_TDX_TCB_REVOKED; k++) {
                const char *name = ms_tdx_status_name((ms_tdx_tcb_status)k);
                st = strlen(name) == len && strncmp(name, s, len) == 0 ? (ms_tdx_tcb_status)k : st;
            }
        }
        if (st == MS_TDX_TCB_NONE || st == MS_TDX_TCB_REVOKED) {
            return fail(p, MS_ERR_CONFIG, "tdx.accept_tcb_status[%zu]: want UpToDate, "
                        "SWHardeningNeeded, ConfigurationNeeded, ... (never Revoked)", i);
        }
        p->tdx.accept_tcb |= MS_TDX_ACCEPT(st);
    }
    return MS_OK;
}

/* "measurements": {"1": "hex", ...}: decimal index 1..254 to a value of 1..64 bytes. */
static ms_err parse_nv_meas(ms_attest_policy *p, ms_json_val o)
{
    ms_json_val m, v;
    const char *key, *s;
    size_t len, got;
    TRY(req_obj(p, o, "measurements", "nvidia_gpu", &m));
    ms_json_iter it = ms_json_iter_init(m);
    while (ms_json_iter_next(&it, &v, &key)) {
        uint64_t idx;
        if (!index_key(key, 254, &idx) || idx == 0) {
            return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements: \"%.20s\" is not an index 1..254", key);
        }
        ms_nvgpu_meas *dst = &p->nv_meas[p->nvgpu.n_meas];
        for (size_t i = 0; i < p->nvgpu.n_meas; i++) {
            if (p->nv_meas[i].index == idx) {
                return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements: index %lu twice",
                            (unsigned long)idx);
            }
        }
        if (ms_json_as_str(v, 2 * MS_NVGPU_MAX_MEAS_VALUE, &s, &len) != MS_OK || len == 0 ||
            len % 2 != 0 || ms_hex_decode(s, len, dst->value, sizeof dst->value, &got) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "nvidia_gpu.measurements.%lu: want 2..%u hex characters",
                        (unsigned long)idx, 2u * MS_NVGPU_MAX_MEAS_VALUE);
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

static ms_err tdx_collateral_dir(ms_attest_policy *p, ms_json_val o, const char *base_dir)
{
    char path[PATH_MAX];
    ms_json_val x;
    if (ms_json_get(o, "collateral_dir", &x) != MS_OK) {
        return MS_OK;
    }
    TRY(policy_path(p, o, "collateral_dir", "tdx", base_dir, path));
    ms_err e = ms_tdx_files_load(&p->tdx_files, path);
    if (e != MS_OK) {
        return fail(p, e, "tdx.collateral_dir: cannot read the collateral in %.100s", path);
    }
    ms_tdx_files_view(&p->tdx_files, &p->tdx.collateral, &p->tdx.pck_crl, &p->tdx.pck_crl_len);
    if (p->tdx_files.pck_chain.len > 0) { /* for quotes without an embedded chain */
        p->tdx.pck_chain_pem = p->tdx_files.pck_chain.p;
        p->tdx.pck_chain_len = p->tdx_files.pck_chain.len;
    }
    return MS_OK;
}

/* An optional 48-byte register pinned by hex. */
static ms_err tdx_reg(ms_attest_policy *p, ms_json_val o, const char *key, uint8_t *out, int *have)
{
    ms_json_val x;
    if (ms_json_get(o, key, &x) != MS_OK) {
        return MS_OK;
    }
    TRY(hex_field(p, o, key, "tdx", out, MS_TDX_MEAS_LEN));
    *have = 1;
    return MS_OK;
}

static ms_err parse_tdx(ms_attest_policy *p, ms_json_val root, const char *base_dir)
{
    static const char *const keys[] = {"root_pem", "mrtd", "rtmrs", "mrconfigid", "mrowner",
                                       "accept_tcb_status", "collateral_dir",
                                       "collateral_grace_seconds"};
    ms_json_val o;
    char path[PATH_MAX];
    TRY(ms_json_get_obj_opt(root, "tdx", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "tdx", keys, sizeof keys / sizeof keys[0]));
    TRY(policy_path(p, o, "root_pem", "tdx", base_dir, path));
    ms_buf pem;
    ms_buf_init(&pem, MS_MAX_KEY_FILE * 4);
    ms_err e = ms_file_read(path, MS_MAX_KEY_FILE * 4, &pem);
    if (e == MS_OK) {
        e = ms_snp_cert_pem_to_der(pem.p, pem.len, &p->tdx_root);
    }
    ms_buf_free(&pem);
    if (e != MS_OK) {
        return fail(p, e, "tdx.root_pem: cannot read a PEM certificate from %.100s", path);
    }
    if (ms_json_get(o, "mrtd", &(ms_json_val){0}) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "tdx.mrtd: required (the TD's build measurement)");
    }
    TRY(tdx_reg(p, o, "mrtd", p->tdx.mrtd, &p->tdx.have_mrtd));
    TRY(tdx_rtmrs(p, o));
    TRY(tdx_reg(p, o, "mrconfigid", p->tdx.mrconfigid, &p->tdx.have_mrconfigid));
    TRY(tdx_reg(p, o, "mrowner", p->tdx.mrowner, &p->tdx.have_mrowner));
    TRY(tdx_accept(p, o));
    TRY(tdx_collateral_dir(p, o, base_dir));
    if (ms_json_get_u64_opt(o, "collateral_grace_seconds", 90u * 86400u, 0, &p->tdx.grace_s) !=
        MS_OK) {
        return fail(p, MS_ERR_CONFIG, "tdx.collateral_grace_seconds: want 0..7776000 (90 days)");
    }
    p->tdx.root_der = p->tdx_root.p;
    p->tdx.root_len = p->tdx_root.len;
    p->have_tdx = 1;
    return MS_OK;
}

/* A PCR map {"N": "64 hex digits", ...} of the SHA-256 bank into dst; `where` names it. */
static ms_err parse_pcr_map(ms_attest_policy *p, ms_json_val obj, const char *where,
                            ms_tpm2_policy *dst)
{
    ms_json_val pcrs, v;
    const char *key;
    if (ms_json_get_obj(obj, "pcrs", &pcrs) != MS_OK) {
        return fail(p, MS_ERR_CONFIG, "%s.pcrs: want an object of PCR values", where);
    }
    ms_json_iter it = ms_json_iter_init(pcrs);
    while (ms_json_iter_next(&it, &v, &key)) {
        uint64_t n;
        if (!index_key(key, MS_TPM2_NUM_PCRS - 1, &n)) {
            return fail(p, MS_ERR_CONFIG, "%s.pcrs: \"%.10s\" is not a PCR number 0..23", where,
                        key);
        }
        char field[64];
        snprintf(field, sizeof field, "%s.pcrs", where);
        TRY(hex_field(p, pcrs, key, field, dst->pcr_values[n], MS_TPM2_DIGEST_LEN));
        dst->pcr_mask |= 1u << n;
    }
    return dst->pcr_mask ? MS_OK : fail(p, MS_ERR_CONFIG, "%s.pcrs: name at least one PCR", where);
}

/* An Azure vTPM section `name` ({"pcrs": ...}) into dst->pcrs; *have set when present. */
static ms_err parse_az_pcrs(ms_attest_policy *p, ms_json_val root, const char *name,
                            ms_az_policy *dst, int *have)
{
    static const char *const keys[] = {"pcrs"};
    ms_json_val o;
    TRY(ms_json_get_obj_opt(root, name, &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, name, keys, 1));
    TRY(parse_pcr_map(p, o, name, &dst->pcrs));
    *have = 1;
    return MS_OK;
}

/* az_snp_vtpm: the vTPM's PCRs; the hardware report's pins are the sev_snp section's. */
static ms_err parse_az_snp(ms_attest_policy *p, ms_json_val root)
{
    TRY(parse_az_pcrs(p, root, "az_snp_vtpm", &p->az_snp, &p->have_az_snp));
    p->az_snp.snp = p->snp; /* parse_snp ran first: the same borrowed DER and pins */
    return MS_OK;
}

/* az_tdx_vtpm: the vTPM's PCRs; the TDX quote's pins and collateral are the tdx section's. */
static ms_err parse_az_tdx(ms_attest_policy *p, ms_json_val root)
{
    TRY(parse_az_pcrs(p, root, "az_tdx_vtpm", &p->az_tdx, &p->have_az_tdx));
    p->az_tdx.tdx = p->tdx; /* parse_tdx ran first: the same borrowed DER, pins, collateral */
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
            return fail(p, MS_ERR_CONFIG, "accept[%zu]: want dev-key, tpm2-quote, sev-snp, tdx, "
                        "az-snp-vtpm, az-tdx-vtpm, nvidia-gpu or composite", i);
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
/* ---- "composite" (docs/attestation.md; docs/protocol.md §2.4) ---- */

/* "require": [{"cpu": "tpm2-quote", "gpus": 2}, ...]: the combinations a composite may be. */
static ms_err parse_composite(ms_attest_policy *p, ms_json_val root)
{
    static const char *const keys[] = {"require"};
    static const char *const rule_keys[] = {"cpu", "gpus"};
    ms_json_val o, arr, r;
    size_t n;
    TRY(ms_json_get_obj_opt(root, "composite", &o));
    if (ms_json_type_of(o) == MS_JSON_ABSENT) {
        return MS_OK;
    }
    TRY(only_keys(p, o, "composite", keys, 1));
    if (ms_json_get_arr(o, "require", MS_COMPOSITE_MAX_RULES, &arr, &n) != MS_OK || n == 0) {
        return fail(p, MS_ERR_CONFIG, "composite.require: want 1 to %u combinations "
                    "[{\"cpu\": TYPE, \"gpus\": N}, ...]", MS_COMPOSITE_MAX_RULES);
    }
    for (size_t i = 0; i < n; i++) {
        size_t idx;
        int64_t gpus;
        char where[40];
        snprintf(where, sizeof where, "composite.require[%zu]", i);
        TRY(ms_json_arr_at(arr, i, &r));
        if (ms_json_as_obj(r, &r) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "%s: want {\"cpu\": TYPE, \"gpus\": N}", where);
        }
        TRY(only_keys(p, r, where, rule_keys, 2));
        if (ms_json_get_enum(r, "cpu", TYPE_NAMES, N_TYPES, &idx) != MS_OK ||
            !ms_composite_is_cpu_type(TYPE_IDS[idx])) {
            return fail(p, MS_ERR_CONFIG, "%s.cpu: want dev-key, tpm2-quote, sev-snp, tdx, "
                        "az-snp-vtpm or az-tdx-vtpm", where);
        }
        if (ms_json_get_i64(r, "gpus", 0, (int64_t)MS_COMPOSITE_MAX_ITEMS - 1, &gpus) != MS_OK) {
            return fail(p, MS_ERR_CONFIG, "%s.gpus: want 0 to %u", where,
                        MS_COMPOSITE_MAX_ITEMS - 1u);
        }
        ms_composite_rule rule = {TYPE_IDS[idx], (uint8_t)gpus};
        for (size_t j = 0; j < p->n_composite; j++) {
            if (p->composite[j].cpu == rule.cpu && p->composite[j].gpus == rule.gpus) {
                return fail(p, MS_ERR_CONFIG, "%s: the same combination twice", where);
            }
        }
        p->composite[p->n_composite++] = rule;
    }
    p->have_composite = 1;
    return MS_OK;
}

/* A type's own section is there (for a composite item or an accepted type). */
static int has_section(const ms_attest_policy *p, uint16_t t)
{
    switch (t) {
    case MS_EVIDENCE_DEV_KEY: return p->have_dev_pk;
    case MS_EVIDENCE_TPM2_QUOTE: return p->have_tpm2;
    case MS_EVIDENCE_SEV_SNP: return p->have_snp;
    case MS_EVIDENCE_TDX: return p->have_tdx;
    case MS_EVIDENCE_AZ_SNP_VTPM: return p->have_az_snp && p->have_snp;
    case MS_EVIDENCE_AZ_TDX_VTPM: return p->have_az_tdx && p->have_tdx;
    case MS_EVIDENCE_NVIDIA_GPU: return p->have_nvgpu;
    case MS_EVIDENCE_COMPOSITE: return p->have_composite;
    default: return 0;
    }
}

static ms_err check_composite(ms_attest_policy *p)
{
    for (size_t i = 0; i < p->n_composite; i++) {
        const ms_composite_rule *r = &p->composite[i];
        if (!has_section(p, r->cpu)) {
            return fail(p, MS_ERR_CONFIG, "composite.require[%zu] names %s but the policy has "
                        "no section for it", i, ms_evidence_type_name(r->cpu));
        }
        if (r->gpus > 0 && !p->have_nvgpu) {
            return fail(p, MS_ERR_CONFIG, "composite.require[%zu] has GPUs but the policy has "
                        "no nvidia_gpu section", i);
        }
    }
    return MS_OK;
}

/* The section a type needs, for messages. */
static const char *section_of(const ms_attest_policy *p, uint16_t t)
{
    switch (t) {
    case MS_EVIDENCE_DEV_KEY: return "dev_key";
    case MS_EVIDENCE_TPM2_QUOTE: return "tpm2";
    case MS_EVIDENCE_TDX: return "tdx";
    case MS_EVIDENCE_AZ_SNP_VTPM: return p->have_snp ? "az_snp_vtpm" : "sev_snp";
    case MS_EVIDENCE_AZ_TDX_VTPM: return p->have_tdx ? "az_tdx_vtpm" : "tdx";
    case MS_EVIDENCE_NVIDIA_GPU: return "nvidia_gpu";
    case MS_EVIDENCE_COMPOSITE: return "composite";
    default: return "sev_snp";
    }
}

static ms_err check_complete(ms_attest_policy *p)
{
    TRY(check_composite(p));
    for (uint8_t i = 0; i < p->n_accept; i++) {
        uint16_t t = p->accept[i];
        if (!has_section(p, t)) {
            return fail(p, MS_ERR_CONFIG, "accept lists %s but the policy has no %s section",
                        ms_evidence_type_name(t), section_of(p, t));
        }
    }
    return MS_OK;
}

static ms_err parse_root(ms_attest_policy *p, ms_json_doc *doc, const char *base_dir)
{
    static const char *const keys[] = {"version", "accept", "require_strict", "max_validity_seconds",
                                       "dev_key", "tpm2", "sev_snp", "tdx", "az_snp_vtpm",
                                       "nvidia_gpu", "composite", "az_tdx_vtpm"};
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
    TRY(parse_tpm2(p, root, base_dir));
    TRY(parse_snp(p, root, base_dir));
    TRY(parse_tdx(p, root, base_dir));
    TRY(parse_az_snp(p, root));
    TRY(parse_az_tdx(p, root));
    TRY(parse_nvgpu(p, root, base_dir));
    TRY(parse_composite(p, root));
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

/* One evidence of one type under the policy's section for it (a whole evidence, or a
   composite's CPU item: the same binding either way). */
static ms_err verify_one(const ms_attest_policy *p, uint16_t type, const uint8_t *data, size_t len,
                         const ms_evidence_view *ev)
{
    switch (type) {
    case MS_EVIDENCE_DEV_KEY:
        ENSURE(p->have_dev_pk, MS_ERR_ATTEST_POLICY);
        return ms_devkey_verify(p->dev_pk, data, len, ev->binding);
    case MS_EVIDENCE_TPM2_QUOTE:
        ENSURE(p->have_tpm2, MS_ERR_ATTEST_POLICY);
        return ms_tpm2_verify_at(&p->tpm2, data, len, ev->binding, (int64_t)ev->now);
    case MS_EVIDENCE_SEV_SNP:
        ENSURE(p->have_snp, MS_ERR_ATTEST_POLICY);
        return ms_snp_verify_at(&p->snp, data, len, ev->binding, ev->now);
    case MS_EVIDENCE_TDX:
        ENSURE(p->have_tdx, MS_ERR_ATTEST_POLICY);
        return ms_tdx_verify(&p->tdx, data, len, ev->binding);
    case MS_EVIDENCE_AZ_SNP_VTPM:
        ENSURE(p->have_az_snp && p->have_snp, MS_ERR_ATTEST_POLICY);
        return ms_az_snp_verify(&p->az_snp, data, len, ev->binding);
    case MS_EVIDENCE_AZ_TDX_VTPM:
        ENSURE(p->have_az_tdx && p->have_tdx, MS_ERR_ATTEST_POLICY);
        return ms_az_tdx_verify(&p->az_tdx, data, len, ev->binding);
    case MS_EVIDENCE_NVIDIA_GPU:
        ENSURE(p->have_nvgpu, MS_ERR_ATTEST_POLICY);
        return ms_nvgpu_verify_evidence(&p->nvgpu, data, len, ev->binding, ev->now);
    default:
        return MS_ERR_ATTEST_POLICY;
    }
}

ms_err ms_attest_policy_verify_composite(const ms_attest_policy *p, const ms_evidence_view *ev,
                                         size_t *failed_item)
{
    ms_composite c;
    char ids[MS_COMPOSITE_MAX_ITEMS][64];
    ms_err err = MS_OK;
    *failed_item = 0;
    ENSURE(p->have_composite, MS_ERR_ATTEST_POLICY);
    TRY(ms_composite_decode(ev->data, ev->len, &c));
    TRY(ms_composite_check_shape(&c, p->composite, p->n_composite));
    TRY(verify_one(p, c.items[0].type, c.items[0].data, c.items[0].len, ev));
    ms_nvgpu_checks *chk = calloc(1, sizeof *chk); /* large: not on the stack */
    ENSURE(chk != NULL, MS_ERR_NOMEM);
    for (uint8_t i = 1; i < c.n && err == MS_OK; i++) {
        *failed_item = i;
        ENSURE_OUT(p->have_nvgpu, MS_ERR_ATTEST_POLICY);
        TRY_OUT(ms_nvgpu_verify(&p->nvgpu, c.items[i].data, c.items[i].len, ev->binding, ev->now,
                                chk));
        memcpy(ids[i], chk->device_id, sizeof ids[i]);
        for (uint8_t j = 1; j < i; j++) {
            ENSURE_OUT(strcmp(ids[i], ids[j]) != 0, MS_ERR_COMPOSITE_DUPLICATE);
        }
    }
    *failed_item = 0;
out:
    free(chk);
    return err;
}

ms_err ms_attest_policy_verify(void *ctx, const ms_evidence_view *ev)
{
    const ms_attest_policy *p = ctx;
    int accepted = 0;
    size_t item;
    for (uint8_t i = 0; i < p->n_accept; i++) {
        accepted |= p->accept[i] == ev->type;
    }
    ENSURE(accepted, MS_ERR_ATTEST_POLICY);
    ENSURE(!p->require_strict || ev->mode == MS_MODE_STRICT, MS_ERR_ATTEST_POLICY);
    /* Evidence that promises to stay valid for longer than the policy allows is refused. */
    ENSURE(p->max_validity_s == 0 || ev->not_after <= ev->now + p->max_validity_s,
           MS_ERR_ATTEST_POLICY);
    if (ev->type == MS_EVIDENCE_COMPOSITE) {
        return ms_attest_policy_verify_composite(p, ev, &item);
    }
    return verify_one(p, ev->type, ev->data, ev->len, ev);
}
