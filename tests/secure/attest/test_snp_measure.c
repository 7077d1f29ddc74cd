/* SEV-SNP launch digest: the 15 public cases (shared/testdata/sev-snp/measurement) and refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp_measure.h"
#include "tests/test.h"

#ifndef MS_TESTDATA_DIR
#error "MS_TESTDATA_DIR must name ../shared/testdata"
#endif
#define DIR MS_TESTDATA_DIR "/sev-snp/measurement/"
#define AMDSEV DIR "ovmf_AmdSev_suffix.bin"
#define OVMFX64 DIR "ovmf_OvmfX64_suffix.bin"

static void load(const char *path, ms_buf *b)
{
    ms_buf_init(b, MS_SNP_MEASURE_MAX_OVMF);
    CHECK_OK(ms_file_read(path, MS_SNP_MEASURE_MAX_OVMF, b));
}

static void hex48(const char *hex, uint8_t out[48])
{
    size_t n = 0;
    CHECK(hex != NULL && strlen(hex) == 96);
    CHECK_OK(ms_hex_decode(hex, 96, out, 48, &n));
    CHECK(n == 48);
}

/* A JSON string or null (NULL). */
static const char *str_or_null(ms_json_val c, const char *key)
{
    size_t slen;
    ms_json_val v;
    const char *s = NULL;
    CHECK_OK(ms_json_get(c, key, &v));
    if (ms_json_type_of(v) == MS_JSON_NULL) {
        return NULL;
    }
    CHECK_OK(ms_json_as_str(v, 4096, &s, &slen));
    return s;
}

static int run_case(ms_json_val c)
{
    const char *name, *ovmf_file, *vcpu_type, *features;
    size_t slen;
    int64_t vcpus;
    bool must_fail;
    CHECK_OK(ms_json_get_str(c, "name", 200, &name, &slen));
    CHECK_OK(ms_json_get_str(c, "ovmf_file", 200, &ovmf_file, &slen));
    CHECK_OK(ms_json_get_i64(c, "vcpus", 1, 1024, &vcpus));
    CHECK_OK(ms_json_get_str(c, "vcpu_type", 64, &vcpu_type, &slen));
    CHECK_OK(ms_json_get_str(c, "guest_features", 20, &features, &slen));
    CHECK_OK(ms_json_get_bool(c, "must_fail", &must_fail));
    const char *kernel = str_or_null(c, "kernel"), *initrd = str_or_null(c, "initrd");
    const char *vmm = str_or_null(c, "vmm_type"), *given = str_or_null(c, "ovmf_hash_given");
    const char *expected = str_or_null(c, "expected_launch_digest");
    const char *expected_ovmf = str_or_null(c, "expected_ovmf_hash");

    char path[512];
    snprintf(path, sizeof path, "%s%s", DIR, ovmf_file);
    ms_buf ovmf;
    load(path, &ovmf);
    /* Kernel and initrd are /dev/null (empty) or absent in every case. */
    CHECK(kernel == NULL || strcmp(kernel, "/dev/null") == 0);
    CHECK(initrd == NULL || strcmp(initrd, "/dev/null") == 0);
    static const uint8_t empty[1];
    uint8_t hash[48], ld[48], want[48];
    ms_snp_measure_in in = {.ovmf = ovmf.p, .ovmf_len = ovmf.len, .have_kernel = kernel != NULL,
                            .kernel = kernel ? empty : NULL, .initrd = initrd ? empty : NULL,
                            .append = str_or_null(c, "append"), .vcpus = (uint32_t)vcpus,
                            .vmm = vmm != NULL && strcmp(vmm, "EC2") == 0 ? MS_SNP_VMM_EC2
                                                                           : MS_SNP_VMM_QEMU};
    CHECK(vmm == NULL || strcmp(vmm, "EC2") == 0 || strcmp(vmm, "QEMU") == 0);
    CHECK_OK(ms_snp_vcpu_sig(vcpu_type, &in.vcpu_sig));
    in.guest_features = strtoull(features, NULL, 16);
    if (given != NULL) {
        hex48(given, hash);
        in.ovmf_hash = hash;
    }
    if (expected_ovmf != NULL) {
        hex48(expected_ovmf, want);
        CHECK_OK(ms_snp_measure_ovmf_hash(ovmf.p, ovmf.len, hash));
        CHECK_MEM(hash, want, 48);
    }
    ms_err e = ms_snp_measure(&in, ld);
    if (must_fail) {
        /* OvmfX64 has no kernel-hashes section: a kernel cannot be measured into it. */
        CHECK_ERR(e, MS_ERR_SNP_MEASURE_KERNEL);
        CHECK(expected == NULL);
    } else {
        CHECK_OK(e);
        hex48(expected, want);
        if (memcmp(ld, want, 48) != 0) {
            fprintf(stderr, "case %s: digest differs\n", name);
        }
        CHECK_MEM(ld, want, 48);
    }
    ms_buf_free(&ovmf);
    return must_fail;
}

static void test_cases(void)
{
    ms_buf text;
    ms_json_doc *doc = NULL;
    ms_json_val arr, c;
    size_t n = 0;
    ms_buf_init(&text, 65536);
    CHECK_OK(ms_file_read(DIR "cases.json", 65536, &text));
    CHECK_OK(ms_json_parse((const char *)text.p, text.len, &doc));
    CHECK_OK(ms_json_as_arr(ms_json_root(doc), 100, &arr, &n));
    CHECK(n == 15);
    int ran = 0, refused = 0;
    ms_json_iter it = ms_json_iter_init(arr);
    while (ms_json_iter_next(&it, &c, NULL)) {
        refused += run_case(c);
        ran++;
    }
    CHECK(ran == 15 && refused == 1);
    ms_json_free(doc);
    ms_buf_free(&text);
}

/* ---- the parser and the inputs ------------------------------------------------------- */

static ms_snp_measure_in base(const ms_buf *ovmf)
{
    ms_snp_measure_in in = {.ovmf = ovmf->p, .ovmf_len = ovmf->len, .vcpus = 1,
                            .guest_features = 1};
    CHECK_OK(ms_snp_vcpu_sig("EPYC-v4", &in.vcpu_sig));
    return in;
}

static void test_parse(void)
{
    ms_buf b;
    ms_snp_ovmf o;
    load(AMDSEV, &b);
    CHECK_OK(ms_snp_ovmf_parse(b.p, b.len, &o));
    CHECK(o.gpa == 0x100000000ull - 4096);
    CHECK(o.n_sections == 7 && o.sections[5].type == MS_SNP_SECTION_KERNEL_HASHES);
    CHECK(o.sections[0].gpa == 0x800000 && o.sections[0].size == 0x9000);
    CHECK(o.have_reset_eip && o.reset_eip == 0x80B004);
    CHECK(o.have_hashes_table && o.hashes_gpa == 0x810C00 && o.hashes_size == 0x400);
    ms_buf_free(&b);
}

static void test_vcpu_types(void)
{
    uint32_t sig;
    CHECK_OK(ms_snp_vcpu_sig("EPYC-v4", &sig));
    CHECK(sig == 0x800F12);
    CHECK_OK(ms_snp_vcpu_sig("EPYC-Milan", &sig));
    CHECK(sig == 0xA00F11);
    CHECK_OK(ms_snp_vcpu_sig("EPYC-Genoa", &sig));
    CHECK(sig == 0xA10F10);
    CHECK_OK(ms_snp_vcpu_sig("EPYC-Rome", &sig));
    CHECK(sig == 0x830F10);
    CHECK_ERR(ms_snp_vcpu_sig("epyc-v4", &sig), MS_ERR_SNP_MEASURE_INPUT);
    CHECK_ERR(ms_snp_vcpu_sig("Skylake-Server", &sig), MS_ERR_SNP_MEASURE_INPUT);
    CHECK(sig == 0);
    CHECK_ERR(ms_snp_vcpu_sig(NULL, &sig), MS_ERR_ARG);
}

/* Offsets in the 4 KiB AmdSev suffix: the footer entry header ends 32 bytes before the end. */
#define FOOTER_OFF (4096u - 32u - 18u)

static ms_err parse_mutated(const ms_buf *b, size_t off, uint8_t value)
{
    ms_snp_ovmf o;
    uint8_t *copy = malloc(b->len);
    CHECK(copy != NULL);
    memcpy(copy, b->p, b->len);
    copy[off] = value;
    ms_err e = ms_snp_ovmf_parse(copy, b->len, &o);
    free(copy);
    return e;
}

static ms_err parse_mutated32(const ms_buf *b, size_t off, uint32_t v)
{
    ms_snp_ovmf o;
    uint8_t *copy = malloc(b->len);
    CHECK(copy != NULL);
    memcpy(copy, b->p, b->len);
    for (size_t i = 0; i < 4; i++) {
        copy[off + i] = (uint8_t)(v >> (8 * i));
    }
    ms_err e = ms_snp_ovmf_parse(copy, b->len, &o);
    free(copy);
    return e;
}

/* Where the metadata entry's offset and the metadata itself are in this image. */
static size_t meta_start(const ms_buf *b)
{
    ms_snp_ovmf o;
    CHECK_OK(ms_snp_ovmf_parse(b->p, b->len, &o));
    for (size_t i = 0; i + 4 <= b->len; i += 4) {
        if (memcmp(b->p + i, "ASEV", 4) == 0) {
            return i;
        }
    }
    CHECK(0);
    return 0;
}

static void test_parse_refusals(void)
{
    ms_buf b;
    ms_snp_ovmf o;
    load(AMDSEV, &b);
    /* truncated: not a page multiple, empty, or too short for a footer */
    CHECK_ERR(ms_snp_ovmf_parse(b.p, b.len - 1, &o), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(ms_snp_ovmf_parse(b.p, 0, &o), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(ms_snp_ovmf_parse(b.p + 2048, 2048, &o), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(ms_snp_ovmf_parse(NULL, 4096, &o), MS_ERR_ARG);
    /* the footer GUID */
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF + 2, b.p[FOOTER_OFF + 2] ^ 1), MS_ERR_SNP_MEASURE_OVMF);
    /* bad table lengths: shorter than a header, longer than what precedes it, or cutting
       an entry in two */
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF, 17), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF + 1, 0x10), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF, (uint8_t)(b.p[FOOTER_OFF] + 1)),
              MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF, (uint8_t)(b.p[FOOTER_OFF] - 1)),
              MS_ERR_SNP_MEASURE_OVMF);
    /* the last entry before the footer: its size 0, or larger than the table */
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF - 18, 0), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, FOOTER_OFF - 17, 0x0F), MS_ERR_SNP_MEASURE_OVMF);
    /* metadata: signature, version, count, a section out of 4 GiB or unaligned, a type */
    size_t m = meta_start(&b);
    CHECK_ERR(parse_mutated(&b, m, 'B'), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, m + 8, 2), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, m + 12, 8), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, m + 12, 0xFF), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated(&b, m + 4, 0xFF), MS_ERR_SNP_MEASURE_OVMF);
    CHECK_ERR(parse_mutated32(&b, m + 16, 0xFFFFF000u), MS_ERR_SNP_MEASURE_OVMF); /* > 4 GiB */
    CHECK_ERR(parse_mutated32(&b, m + 16 + 4, MS_SNP_MEASURE_MAX_SECTION + 4096u),
              MS_ERR_SNP_MEASURE_OVMF); /* over the cap */
    CHECK_ERR(parse_mutated(&b, m + 16 + 0, 0x01), MS_ERR_SNP_MEASURE_OVMF); /* gpa unaligned */
    CHECK_ERR(parse_mutated(&b, m + 16 + 4, 0x01), MS_ERR_SNP_MEASURE_OVMF); /* size unaligned */
    CHECK_ERR(parse_mutated(&b, m + 16 + 8, 0x07), MS_ERR_SNP_MEASURE_OVMF); /* type */
    CHECK_ERR(parse_mutated(&b, m + 16 + 12 * 2 + 5, 0x20), MS_ERR_SNP_MEASURE_OVMF); /* secrets 2 pages+ */
    ms_buf_free(&b);
}

/* The metadata entry's offset pointing outside the image or into the wrong place. */
static void test_metadata_out_of_bounds(void)
{
    ms_buf b;
    load(AMDSEV, &b);
    /* find the metadata entry: its GUID's first bytes 66 65 88 dc, its u32 data before the
       18-byte header */
    size_t g = 0;
    for (size_t i = 0; i + 4 <= b.len; i++) {
        if (memcmp(b.p + i, "\x66\x65\x88\xdc", 4) == 0) {
            g = i;
        }
    }
    CHECK(g > 6);
    size_t data = g - 2 - 4;
    CHECK_ERR(parse_mutated(&b, data + 2, 0x01), MS_ERR_SNP_MEASURE_OVMF); /* beyond the image */
    CHECK_ERR(parse_mutated(&b, data, 0x00), MS_ERR_SNP_MEASURE_OVMF);     /* not "ASEV" */
    CHECK_ERR(parse_mutated(&b, g - 2, 0x17), MS_ERR_SNP_MEASURE_OVMF);    /* entry size */
    ms_buf_free(&b);
}

static void test_input_refusals(void)
{
    ms_buf b, x64;
    uint8_t ld[48];
    load(AMDSEV, &b);
    load(OVMFX64, &x64);
    ms_snp_measure_in in = base(&b);
    CHECK_OK(ms_snp_measure(&in, ld));
    in.vcpus = 0;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_INPUT);
    in.vcpus = MS_SNP_MEASURE_MAX_VCPUS + 1;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_INPUT);
    in.vcpus = MS_SNP_MEASURE_MAX_VCPUS;
    CHECK_OK(ms_snp_measure(&in, ld));
    in = base(&b);
    in.vmm = (ms_snp_vmm)7;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_INPUT);
    in = base(&b);
    in.append = "console=ttyS0"; /* a command line without a kernel */
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_INPUT);
    in = base(&x64);
    in.have_kernel = 1;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_KERNEL);
    static const uint8_t zeros[48];
    CHECK_MEM(ld, zeros, 48); /* nothing half-computed is left */
    /* without the SEV-ES reset block (its GUID changed), the APs' start is unknown */
    uint8_t *copy = malloc(b.len);
    CHECK(copy != NULL);
    memcpy(copy, b.p, b.len);
    for (size_t i = 0; i + 4 <= b.len; i++) {
        if (memcmp(copy + i, "\xde\x71\xf7\x00", 4) == 0) {
            copy[i] ^= 0xFF;
        }
    }
    ms_snp_ovmf o;
    CHECK_OK(ms_snp_ovmf_parse(copy, b.len, &o));
    CHECK(!o.have_reset_eip);
    in = base(&b);
    in.ovmf = copy;
    CHECK_OK(ms_snp_measure(&in, ld));
    in.vcpus = 2;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_OVMF);
    free(copy);
    in = base(&b);
    in.ovmf_len = 4095;
    CHECK_ERR(ms_snp_measure(&in, ld), MS_ERR_SNP_MEASURE_OVMF);
    ms_buf_free(&b);
    ms_buf_free(&x64);
}

/* Every input changes the digest: kernel, initrd, command line, features, type, count, VMM. */
static void test_inputs_matter(void)
{
    ms_buf b;
    load(AMDSEV, &b);
    static const uint8_t k1[] = "kernel", k2[] = "kernel!";
    uint8_t ref[48], ld[48];
    ms_snp_measure_in in = base(&b);
    in.have_kernel = 1;
    in.kernel = k1;
    in.kernel_len = sizeof k1;
    CHECK_OK(ms_snp_measure(&in, ref));
    ms_snp_measure_in v = in;
    v.kernel = k2;
    v.kernel_len = sizeof k2;
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    v.initrd = k1;
    v.initrd_len = sizeof k1;
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    v.append = "";
    CHECK_OK(ms_snp_measure(&v, ld)); /* an empty command line hashes as none does */
    CHECK_MEM(ld, ref, 48);
    v.append = "quiet";
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    v.guest_features = 0x21;
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    CHECK_OK(ms_snp_vcpu_sig("EPYC-Milan", &v.vcpu_sig));
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    v.vcpus = 2;
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    v = in;
    v.vmm = MS_SNP_VMM_EC2;
    CHECK_OK(ms_snp_measure(&v, ld));
    CHECK(memcmp(ld, ref, 48) != 0);
    ms_buf_free(&b);
}

int main(void)
{
    RUN(test_cases);
    RUN(test_parse);
    RUN(test_vcpu_types);
    RUN(test_parse_refusals);
    RUN(test_metadata_out_of_bounds);
    RUN(test_input_refusals);
    RUN(test_inputs_matter);
    return TEST_SUMMARY();
}
