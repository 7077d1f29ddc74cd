/* SEV-SNP launch digest: PAGE_INFO chaining over OVMF, its SEV metadata pages and the VMSAs. */
#include "secure/attest/snp_measure.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/cursor.h"
#include "common/digest.h"

#define LD_LEN 48u
#define PAGE MS_SNP_MEASURE_PAGE
#define FOUR_GIB 0x100000000ull

/* ---- GUIDs, in the byte order they have in the image (the first three fields LE) ------ */

#define GUID_LEN 16u
typedef struct guid_text {
    const char *s; /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
} guid_text;

static const guid_text FOOTER_GUID = {"96b582de-1fb2-45f7-baea-a366c55a082d"};
static const guid_text METADATA_GUID = {"dc886566-984a-4798-a75e-5585a7bf67cc"};
static const guid_text RESET_BLOCK_GUID = {"00f771de-1a7e-4fcb-890e-68c77e2fb44e"};
static const guid_text HASH_TABLE_BLOCK_GUID = {"7255371f-3a3b-4b04-927b-1da6efa8d454"};
/* QEMU's kernel hashes table (target/i386/sev.c) */
static const guid_text HT_HEADER_GUID = {"9438d606-4f22-4cc9-b479-a793d411fd21"};
static const guid_text HT_KERNEL_GUID = {"4de79437-abd2-427f-b835-d5b172d2045b"};
static const guid_text HT_INITRD_GUID = {"44baf731-3a2f-4bd7-9af1-41e29169781d"};
static const guid_text HT_CMDLINE_GUID = {"97d02dd8-bd20-4c94-aa78-e7714d36ab2a"};

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Text to the mixed-endian bytes of an EFI GUID (constants above: cannot fail). */
static void guid_bytes(guid_text g, uint8_t out[static GUID_LEN])
{
    uint8_t be[GUID_LEN] = {0};
    size_t n = 0;
    for (const char *p = g.s; *p != '\0' && n < 2 * GUID_LEN; p++) {
        int v = hexval(*p);
        if (v >= 0) {
            be[n / 2] = (uint8_t)(be[n / 2] | (n % 2 == 0 ? v << 4 : v));
            n++;
        }
    }
    static const uint8_t order[GUID_LEN] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < GUID_LEN; i++) {
        out[i] = be[order[i]];
    }
}

static int guid_is(const uint8_t *p, guid_text g)
{
    uint8_t b[GUID_LEN];
    guid_bytes(g, b);
    return ms_ct_equal(p, b, GUID_LEN);
}

/* ---- OVMF: footer GUID table and SEV metadata ------------------------------------------ */

#define ENTRY_HEADER 18u   /* u16 size, then the GUID; the entry's data precedes it */
#define FOOTER_GAP 32u     /* the footer entry ends this many bytes before the image's end */
#define META_HEADER 16u    /* "ASEV", u32 length, u32 version, u32 number of sections */
#define META_SECTION 12u   /* u32 gpa, u32 size, u32 type */
#define META_VERSION 1u

typedef struct table_found {
    int meta, reset, hashes;
    uint32_t meta_offset;
} table_found;

/* One entry whose data is exactly `len` bytes; a second entry with the same GUID is refused. */
static ms_err entry_data(ms_cursor data, size_t len, int *seen, ms_cursor *out)
{
    ENSURE(!*seen, MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(ms_cursor_remaining(&data) == len, MS_ERR_SNP_MEASURE_OVMF);
    *seen = 1;
    *out = data;
    return MS_OK;
}

static ms_err table_entry(ms_cursor data, const uint8_t *guid, ms_snp_ovmf *o, table_found *f)
{
    ms_cursor c;
    if (guid_is(guid, METADATA_GUID)) {
        TRY(entry_data(data, 4, &f->meta, &c));
        return ms_cursor_read_u32le(&c, &f->meta_offset) == MS_OK ? MS_OK : MS_ERR_SNP_MEASURE_OVMF;
    }
    if (guid_is(guid, RESET_BLOCK_GUID)) {
        TRY(entry_data(data, 4, &f->reset, &c));
        o->have_reset_eip = 1;
        return ms_cursor_read_u32le(&c, &o->reset_eip) == MS_OK ? MS_OK : MS_ERR_SNP_MEASURE_OVMF;
    }
    if (guid_is(guid, HASH_TABLE_BLOCK_GUID)) {
        TRY(entry_data(data, 8, &f->hashes, &c));
        o->have_hashes_table = 1;
        ENSURE(ms_cursor_read_u32le(&c, &o->hashes_gpa) == MS_OK &&
                   ms_cursor_read_u32le(&c, &o->hashes_size) == MS_OK,
               MS_ERR_SNP_MEASURE_OVMF);
        return MS_OK;
    }
    return MS_OK; /* TDX metadata, the reset vector and others: not ours */
}

/* The table is read from its end: each entry is [data][u16 size][GUID], size counting all. */
static ms_err read_footer(const uint8_t *img, size_t len, ms_snp_ovmf *o, table_found *f)
{
    ENSURE(len >= FOOTER_GAP + ENTRY_HEADER, MS_ERR_SNP_MEASURE_OVMF);
    size_t footer = len - FOOTER_GAP - ENTRY_HEADER;
    ms_cursor c = ms_cursor_init(img + footer, ENTRY_HEADER);
    uint16_t size;
    const uint8_t *guid;
    ENSURE(ms_cursor_read_u16le(&c, &size) == MS_OK && ms_cursor_borrow(&c, &guid, GUID_LEN) == MS_OK,
           MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(guid_is(guid, FOOTER_GUID), MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(size >= ENTRY_HEADER && size - ENTRY_HEADER <= MS_SNP_MEASURE_MAX_TABLE,
           MS_ERR_SNP_MEASURE_OVMF);
    size_t table_len = size - ENTRY_HEADER;
    ENSURE(table_len <= footer, MS_ERR_SNP_MEASURE_OVMF);
    const uint8_t *table = img + footer - table_len;
    size_t end = table_len; /* entries occupy table[0 .. end) */
    size_t entries = 0;
    while (end > 0) {
        ENSURE(end >= ENTRY_HEADER && entries < MS_SNP_MEASURE_MAX_ENTRIES, MS_ERR_SNP_MEASURE_OVMF);
        ms_cursor h = ms_cursor_init(table + end - ENTRY_HEADER, ENTRY_HEADER);
        ENSURE(ms_cursor_read_u16le(&h, &size) == MS_OK &&
                   ms_cursor_borrow(&h, &guid, GUID_LEN) == MS_OK,
               MS_ERR_SNP_MEASURE_OVMF);
        ENSURE(size >= ENTRY_HEADER && size <= end, MS_ERR_SNP_MEASURE_OVMF);
        ms_cursor data = ms_cursor_init(table + end - size, size - ENTRY_HEADER);
        TRY(table_entry(data, guid, o, f));
        end -= size;
        entries++;
    }
    return MS_OK;
}

static ms_err read_section(ms_cursor *c, ms_snp_section *s)
{
    ENSURE(ms_cursor_read_u32le(c, &s->gpa) == MS_OK && ms_cursor_read_u32le(c, &s->size) == MS_OK &&
               ms_cursor_read_u32le(c, &s->type) == MS_OK,
           MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(s->type == MS_SNP_SECTION_SEC_MEM || s->type == MS_SNP_SECTION_SECRETS ||
               s->type == MS_SNP_SECTION_CPUID || s->type == MS_SNP_SECTION_SVSM_CAA ||
               s->type == MS_SNP_SECTION_KERNEL_HASHES,
           MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(s->gpa % PAGE == 0 && s->size % PAGE == 0 && s->size > 0 &&
               s->size <= MS_SNP_MEASURE_MAX_SECTION && (uint64_t)s->gpa + s->size <= FOUR_GIB,
           MS_ERR_SNP_MEASURE_OVMF);
    /* The secrets and CPUID pages are one page each (SNP_LAUNCH_UPDATE takes one). */
    ENSURE((s->type != MS_SNP_SECTION_SECRETS && s->type != MS_SNP_SECTION_CPUID) || s->size == PAGE,
           MS_ERR_SNP_MEASURE_OVMF);
    return MS_OK;
}

static ms_err read_metadata(const uint8_t *img, size_t len, uint32_t offset, ms_snp_ovmf *o)
{
    ENSURE(offset >= META_HEADER && offset <= len, MS_ERR_SNP_MEASURE_OVMF);
    ms_cursor c = ms_cursor_init(img + (len - offset), offset);
    uint8_t sig[4];
    uint32_t meta_len, version, n;
    ENSURE(ms_cursor_read_bytes(&c, sig, sizeof sig) == MS_OK &&
               ms_cursor_read_u32le(&c, &meta_len) == MS_OK &&
               ms_cursor_read_u32le(&c, &version) == MS_OK && ms_cursor_read_u32le(&c, &n) == MS_OK,
           MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(ms_ct_equal(sig, "ASEV", 4) && version == META_VERSION, MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(n <= MS_SNP_MEASURE_MAX_SECTIONS, MS_ERR_SNP_MEASURE_OVMF);
    ENSURE(meta_len == META_HEADER + META_SECTION * n, MS_ERR_SNP_MEASURE_OVMF);
    ms_cursor items;
    ENSURE(ms_cursor_sub(&c, &items, META_SECTION * (size_t)n) == MS_OK, MS_ERR_SNP_MEASURE_OVMF);
    for (uint32_t i = 0; i < n; i++) {
        TRY(read_section(&items, &o->sections[i]));
    }
    ENSURE(ms_cursor_expect_end(&items) == MS_OK, MS_ERR_SNP_MEASURE_OVMF);
    o->n_sections = n;
    return MS_OK;
}

ms_err ms_snp_ovmf_parse(const uint8_t *img, size_t len, ms_snp_ovmf *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(img != NULL || len == 0, MS_ERR_ARG);
    ENSURE(len > 0 && len % PAGE == 0 && len <= MS_SNP_MEASURE_MAX_OVMF, MS_ERR_SNP_MEASURE_OVMF);
    table_found f = {0};
    ms_snp_ovmf o = {.gpa = FOUR_GIB - len};
    TRY(read_footer(img, len, &o, &f));
    ENSURE(f.meta, MS_ERR_SNP_MEASURE_OVMF); /* no SEV metadata: not an SEV-SNP firmware */
    TRY(read_metadata(img, len, f.meta_offset, &o));
    *out = o;
    return MS_OK;
}

/* ---- vCPU types: QEMU's models (target/i386/cpu.c: family, model, stepping) ------------ */

typedef struct vcpu_model {
    const char *name;
    uint32_t family, model, stepping;
} vcpu_model;

static const vcpu_model MODELS[] = {
    {"EPYC", 23, 1, 2},           {"EPYC-v1", 23, 1, 2},       {"EPYC-v2", 23, 1, 2},
    {"EPYC-v3", 23, 1, 2},        {"EPYC-v4", 23, 1, 2},       {"EPYC-IBPB", 23, 1, 2},
    {"EPYC-Rome", 23, 49, 0},     {"EPYC-Rome-v1", 23, 49, 0}, {"EPYC-Rome-v2", 23, 49, 0},
    {"EPYC-Rome-v3", 23, 49, 0},  {"EPYC-Milan", 25, 1, 1},    {"EPYC-Milan-v1", 25, 1, 1},
    {"EPYC-Milan-v2", 25, 1, 1},  {"EPYC-Genoa", 25, 17, 0},   {"EPYC-Genoa-v1", 25, 17, 0},
};

/* CPUID(1).EAX: extended family above 0xF, extended model, base family, model, stepping. */
static uint32_t cpu_signature(uint32_t family, uint32_t model, uint32_t stepping)
{
    uint32_t fam = family > 0xF ? 0xF : family;
    uint32_t ext_fam = family > 0xF ? (family - 0xF) & 0xFF : 0;
    return (ext_fam << 20) | (((model >> 4) & 0xF) << 16) | (fam << 8) | ((model & 0xF) << 4) |
           (stepping & 0xF);
}

ms_err ms_snp_vcpu_sig(const char *name, uint32_t *sig)
{
    ENSURE(sig != NULL, MS_ERR_ARG);
    *sig = 0;
    ENSURE(name != NULL, MS_ERR_ARG);
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        if (strcmp(name, MODELS[i].name) == 0) {
            *sig = cpu_signature(MODELS[i].family, MODELS[i].model, MODELS[i].stepping);
            return MS_OK;
        }
    }
    return MS_ERR_SNP_MEASURE_INPUT;
}

/* ---- the launch digest: SNP_LAUNCH_UPDATE's PAGE_INFO chain ---------------------------- */

enum {
    PAGE_NORMAL = 1,
    PAGE_VMSA = 2,
    PAGE_ZERO = 3,
    PAGE_UNMEASURED = 4,
    PAGE_SECRETS = 5,
    PAGE_CPUID = 6
};
#define PAGE_INFO_LEN 0x70u
#define VMSA_GPA 0xFFFFFFFFF000ull /* the firmware measures every VMSA at this GPA */
#define BSP_EIP 0xFFFFFFF0u

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static ms_err sha384(const uint8_t *p, size_t n, uint8_t out[static LD_LEN])
{
    unsigned len = 0;
    ENSURE(EVP_Digest(p, n, out, &len, EVP_sha384(), NULL) == 1 && len == LD_LEN, MS_ERR_INTERNAL);
    return MS_OK;
}

/*
 * PAGE_INFO (ABI, SNP_LAUNCH_UPDATE): DIGEST_CUR[48], CONTENTS[48], LENGTH u16 = 0x70,
 * PAGE_TYPE u8, IMI_PAGE u8 (bit 0), VMPL3/2/1_PERMS u8 each, reserved u8, GPA u64.
 * The new digest is SHA-384 of it. contents NULL: zero (every type but NORMAL and VMSA).
 */
static ms_err update(uint8_t ld[static LD_LEN], uint8_t type, uint64_t gpa, const uint8_t *contents)
{
    uint8_t info[PAGE_INFO_LEN] = {0};
    memcpy(info, ld, LD_LEN);
    if (contents != NULL) {
        memcpy(info + LD_LEN, contents, LD_LEN);
    }
    put_le(info + 0x60, PAGE_INFO_LEN, 2);
    info[0x62] = type;
    put_le(info + 0x68, gpa, 8);
    return sha384(info, sizeof info, ld);
}

static ms_err update_data(uint8_t ld[static LD_LEN], uint8_t type, uint64_t gpa, const uint8_t *page)
{
    uint8_t h[LD_LEN];
    TRY(sha384(page, PAGE, h));
    return update(ld, type, gpa, h);
}

static ms_err update_range(uint8_t ld[static LD_LEN], uint8_t type, uint64_t gpa, uint64_t size)
{
    for (uint64_t off = 0; off < size; off += PAGE) {
        TRY(update(ld, type, gpa + off, NULL));
    }
    return MS_OK;
}

/* QEMU's SevHashTable: header GUID, u16 length 168, then cmdline, initrd, kernel entries of
   GUID, u16 length 50, SHA-256; padded with zeros to 176 bytes. */
#define HT_ENTRY_LEN (GUID_LEN + 2u + MS_SHA256_LEN)
#define HT_LEN (GUID_LEN + 2u + 3u * HT_ENTRY_LEN)
#define HT_PADDED ((HT_LEN + 15u) & ~15u)

static void ht_entry(uint8_t *p, guid_text g, const uint8_t hash[static MS_SHA256_LEN])
{
    guid_bytes(g, p);
    put_le(p + GUID_LEN, HT_ENTRY_LEN, 2);
    memcpy(p + GUID_LEN + 2, hash, MS_SHA256_LEN);
}

static ms_err hashes_page(const ms_snp_measure_in *in, const ms_snp_ovmf *o, uint8_t page[static PAGE])
{
    ENSURE(o->have_hashes_table, MS_ERR_SNP_MEASURE_KERNEL);
    ENSURE(o->hashes_size >= HT_PADDED && (o->hashes_gpa % PAGE) + HT_PADDED <= PAGE,
           MS_ERR_SNP_MEASURE_OVMF);
    uint8_t h[MS_SHA256_LEN];
    uint8_t *t = page + o->hashes_gpa % PAGE;
    memset(page, 0, PAGE);
    guid_bytes(HT_HEADER_GUID, t);
    put_le(t + GUID_LEN, HT_LEN, 2);
    /* The command line is hashed with its NUL; none is an empty string. */
    size_t alen = in->append != NULL ? strlen(in->append) : 0;
    uint8_t *cmd = malloc(alen + 1);
    ENSURE(cmd != NULL, MS_ERR_NOMEM);
    if (alen > 0) {
        memcpy(cmd, in->append, alen);
    }
    cmd[alen] = 0;
    ms_sha256(cmd, alen + 1, h);
    free(cmd);
    ht_entry(t + GUID_LEN + 2, HT_CMDLINE_GUID, h);
    ms_sha256(in->initrd, in->initrd != NULL ? in->initrd_len : 0, h);
    ht_entry(t + GUID_LEN + 2 + HT_ENTRY_LEN, HT_INITRD_GUID, h);
    ms_sha256(in->kernel, in->kernel_len, h);
    ht_entry(t + GUID_LEN + 2 + 2 * HT_ENTRY_LEN, HT_KERNEL_GUID, h);
    return MS_OK;
}

static ms_err section(uint8_t ld[static LD_LEN], const ms_snp_measure_in *in, const ms_snp_ovmf *o,
                      const ms_snp_section *s, uint8_t page[static PAGE])
{
    switch (s->type) {
    case MS_SNP_SECTION_SEC_MEM:
    case MS_SNP_SECTION_SVSM_CAA:
        return update_range(ld, PAGE_ZERO, s->gpa, s->size);
    case MS_SNP_SECTION_SECRETS:
        return update(ld, PAGE_SECRETS, s->gpa, NULL);
    case MS_SNP_SECTION_CPUID:
        /* EC2 hands the CPUID page over after every other section (below). */
        return in->vmm == MS_SNP_VMM_EC2 ? MS_OK : update(ld, PAGE_CPUID, s->gpa, NULL);
    case MS_SNP_SECTION_KERNEL_HASHES:
        if (!in->have_kernel) {
            return update_range(ld, PAGE_ZERO, s->gpa, s->size);
        }
        ENSURE(s->size == PAGE, MS_ERR_SNP_MEASURE_OVMF);
        TRY(hashes_page(in, o, page));
        return update_data(ld, PAGE_NORMAL, s->gpa, page);
    default:
        return MS_ERR_SNP_MEASURE_OVMF; /* the parser admits no other type */
    }
}

/* Initial register values as each VMM sets them (the reset state of an x86 CPU, with the
   VMM's own choices of segment attributes, RDX and FPU control words). */
typedef struct vmm_regs {
    uint16_t cs_attr_bsp, cs_attr_ap, ss_attr, tr_attr;
    int rdx_sig; /* RDX holds the CPUID signature */
    uint32_t mxcsr;
    uint16_t fcw;
} vmm_regs;

static const vmm_regs QEMU_REGS = {0x9B, 0x9B, 0x93, 0x8B, 1, 0x1F80, 0x37F};
static const vmm_regs EC2_REGS = {0x9A, 0x9B, 0x92, 0x83, 0, 0, 0};

/* A segment register in the save area: selector u16, attributes u16, limit u32, base u64. */
static void seg(uint8_t *v, size_t off, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
    put_le(v + off, sel, 2);
    put_le(v + off + 2, attr, 2);
    put_le(v + off + 4, limit, 4);
    put_le(v + off + 8, base, 8);
}

/* The VMSA (AMD APM vol. 2, table B-4, SEV-ES save area) of a vCPU starting at eip. */
static void vmsa(uint8_t v[static PAGE], uint32_t eip, const ms_snp_measure_in *in)
{
    const vmm_regs *r = in->vmm == MS_SNP_VMM_EC2 ? &EC2_REGS : &QEMU_REGS;
    memset(v, 0, PAGE);
    seg(v, 0x000, 0, 0x93, 0xFFFF, 0);                                   /* ES */
    seg(v, 0x010, 0xF000, eip == BSP_EIP ? r->cs_attr_bsp : r->cs_attr_ap, 0xFFFF,
        eip & 0xFFFF0000u);                                              /* CS */
    seg(v, 0x020, 0, r->ss_attr, 0xFFFF, 0);                             /* SS */
    seg(v, 0x030, 0, 0x93, 0xFFFF, 0);                                   /* DS */
    seg(v, 0x040, 0, 0x93, 0xFFFF, 0);                                   /* FS */
    seg(v, 0x050, 0, 0x93, 0xFFFF, 0);                                   /* GS */
    seg(v, 0x060, 0, 0, 0xFFFF, 0);                                      /* GDTR */
    seg(v, 0x070, 0, 0x82, 0xFFFF, 0);                                   /* LDTR */
    seg(v, 0x080, 0, 0, 0xFFFF, 0);                                      /* IDTR */
    seg(v, 0x090, 0, r->tr_attr, 0xFFFF, 0);                             /* TR */
    put_le(v + 0x0D0, 0x1000, 8);                  /* EFER: SVME */
    put_le(v + 0x148, 0x40, 8);                    /* CR4: MCE */
    put_le(v + 0x158, 0x10, 8);                    /* CR0: ET */
    put_le(v + 0x160, 0x400, 8);                   /* DR7 */
    put_le(v + 0x168, 0xFFFF0FF0, 8);              /* DR6 */
    put_le(v + 0x170, 0x2, 8);                     /* RFLAGS */
    put_le(v + 0x178, eip & 0xFFFFu, 8);           /* RIP */
    put_le(v + 0x268, 0x0007040600070406ull, 8);   /* G_PAT: the reset PAT */
    put_le(v + 0x310, r->rdx_sig ? in->vcpu_sig : 0, 8); /* RDX */
    put_le(v + 0x3B0, in->guest_features, 8);      /* SEV_FEATURES */
    put_le(v + 0x3E8, 0x1, 8);                     /* XCR0: x87 */
    put_le(v + 0x408, r->mxcsr, 4);                /* MXCSR */
    put_le(v + 0x410, r->fcw, 2);                  /* x87 FCW */
}

static ms_err check_input(const ms_snp_measure_in *in)
{
    ENSURE(in->vmm == MS_SNP_VMM_QEMU || in->vmm == MS_SNP_VMM_EC2, MS_ERR_SNP_MEASURE_INPUT);
    ENSURE(in->vcpus >= 1 && in->vcpus <= MS_SNP_MEASURE_MAX_VCPUS, MS_ERR_SNP_MEASURE_INPUT);
    ENSURE(in->kernel != NULL || in->kernel_len == 0, MS_ERR_ARG);
    ENSURE(in->initrd != NULL || in->initrd_len == 0, MS_ERR_ARG);
    ENSURE(in->have_kernel || (in->kernel_len == 0 && in->initrd == NULL && in->append == NULL),
           MS_ERR_SNP_MEASURE_INPUT); /* an initrd or command line needs a kernel */
    ENSURE(in->append == NULL || strlen(in->append) <= MS_SNP_MEASURE_MAX_APPEND,
           MS_ERR_SNP_MEASURE_INPUT);
    return MS_OK;
}

static ms_err image_pages(uint8_t ld[static LD_LEN], const uint8_t *img, size_t len, uint64_t gpa)
{
    for (size_t off = 0; off < len; off += PAGE) {
        TRY(update_data(ld, PAGE_NORMAL, gpa + off, img + off));
    }
    return MS_OK;
}

ms_err ms_snp_measure_ovmf_hash(const uint8_t *img, size_t len, uint8_t out[static 48])
{
    ENSURE(out != NULL && (img != NULL || len == 0), MS_ERR_ARG);
    memset(out, 0, LD_LEN);
    ENSURE(len > 0 && len % PAGE == 0 && len <= MS_SNP_MEASURE_MAX_OVMF, MS_ERR_SNP_MEASURE_OVMF);
    uint8_t ld[LD_LEN] = {0};
    TRY(image_pages(ld, img, len, FOUR_GIB - len));
    memcpy(out, ld, LD_LEN);
    return MS_OK;
}

static ms_err measure(const ms_snp_measure_in *in, const ms_snp_ovmf *o, uint8_t *page,
                      uint8_t ld[static LD_LEN])
{
    if (in->ovmf_hash != NULL) {
        memcpy(ld, in->ovmf_hash, LD_LEN);
    } else {
        TRY(image_pages(ld, in->ovmf, in->ovmf_len, o->gpa));
    }
    int have_hashes_section = 0;
    for (size_t i = 0; i < o->n_sections; i++) {
        have_hashes_section |= o->sections[i].type == MS_SNP_SECTION_KERNEL_HASHES;
        TRY(section(ld, in, o, &o->sections[i], page));
    }
    for (size_t i = 0; in->vmm == MS_SNP_VMM_EC2 && i < o->n_sections; i++) {
        if (o->sections[i].type == MS_SNP_SECTION_CPUID) {
            TRY(update(ld, PAGE_CPUID, o->sections[i].gpa, NULL));
        }
    }
    ENSURE(!in->have_kernel || have_hashes_section, MS_ERR_SNP_MEASURE_KERNEL);
    for (uint32_t n = 0; n < in->vcpus; n++) {
        vmsa(page, n == 0 ? BSP_EIP : o->reset_eip, in);
        TRY(update_data(ld, PAGE_VMSA, VMSA_GPA, page));
    }
    return MS_OK;
}

ms_err ms_snp_measure(const ms_snp_measure_in *in, uint8_t out[static 48])
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, LD_LEN);
    ENSURE(in != NULL && (in->ovmf != NULL || in->ovmf_len == 0), MS_ERR_ARG);
    TRY(check_input(in));
    ms_snp_ovmf *o = malloc(sizeof *o);
    uint8_t *page = malloc(PAGE);
    ms_err err = o != NULL && page != NULL ? MS_OK : MS_ERR_NOMEM;
    uint8_t ld[LD_LEN] = {0};
    if (err == MS_OK) {
        err = ms_snp_ovmf_parse(in->ovmf, in->ovmf_len, o);
    }
    if (err == MS_OK && in->vcpus > 1 && !o->have_reset_eip) {
        err = MS_ERR_SNP_MEASURE_OVMF; /* the APs' start is not known */
    }
    if (err == MS_OK) {
        err = measure(in, o, page, ld);
    }
    if (err == MS_OK) {
        memcpy(out, ld, LD_LEN);
    }
    free(o);
    free(page);
    return err;
}
