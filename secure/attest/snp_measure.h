/* SEV-SNP launch digest: the MEASUREMENT a guest's report will carry, computed from its inputs. */
#ifndef MS_SECURE_ATTEST_SNP_MEASURE_H
#define MS_SECURE_ATTEST_SNP_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The algorithm (docs/attest-sev-snp.md, "Computing the expected measurement") is AMD's
 * SNP_LAUNCH_UPDATE digest (SEV-SNP firmware ABI, PAGE_INFO) applied to the pages a VMM
 * hands to the firmware, in its order: the OVMF image's pages, the pages its SEV metadata
 * declares (zero, secrets, CPUID, kernel hashes), then one VMSA per vCPU. Pure computation
 * over bytes: the caller reads the files.
 */

#define MS_SNP_MEASURE_PAGE 4096u
/* Caps on what an OVMF image may declare (an AmdSev build is 4 MiB with 5-8 sections). */
#define MS_SNP_MEASURE_MAX_OVMF (64u * 1024u * 1024u)   /* bytes of an OVMF image */
#define MS_SNP_MEASURE_MAX_TABLE 4096u                  /* bytes of the footer GUID table */
#define MS_SNP_MEASURE_MAX_ENTRIES 32u                  /* entries in that table */
#define MS_SNP_MEASURE_MAX_SECTIONS 64u                 /* SEV metadata sections */
#define MS_SNP_MEASURE_MAX_SECTION (256u * 1024u * 1024u) /* bytes of one section */
#define MS_SNP_MEASURE_MAX_VCPUS 512u                   /* vCPUs (one VMSA page each) */
#define MS_SNP_MEASURE_MAX_APPEND 4096u                 /* bytes of a kernel command line */

/* SEV metadata section types (OVMF's OvmfSevMetadata). */
enum {
    MS_SNP_SECTION_SEC_MEM = 1,       /* pre-validated memory: zero pages */
    MS_SNP_SECTION_SECRETS = 2,       /* the SNP secrets page */
    MS_SNP_SECTION_CPUID = 3,         /* the CPUID page */
    MS_SNP_SECTION_SVSM_CAA = 4,      /* SVSM calling area: zero pages */
    MS_SNP_SECTION_KERNEL_HASHES = 16 /* the page QEMU puts the kernel hashes table in */
};

typedef struct ms_snp_section {
    uint32_t gpa, size, type;
} ms_snp_section;

/* What the footer GUID table and the SEV metadata of an OVMF image say. */
typedef struct ms_snp_ovmf {
    uint64_t gpa; /* where the image is mapped: 4 GiB - its size */
    ms_snp_section sections[MS_SNP_MEASURE_MAX_SECTIONS];
    size_t n_sections;
    int have_reset_eip; /* SEV-ES reset block: the APs' first instruction */
    uint32_t reset_eip;
    int have_hashes_table; /* SEV hash table block: where QEMU writes the table */
    uint32_t hashes_gpa, hashes_size;
} ms_snp_ovmf;

/*
 * Parse an OVMF image: its size is a non-zero multiple of 4 KiB, at most
 * MS_SNP_MEASURE_MAX_OVMF; the footer table (whose GUID entry ends 32 bytes before the end)
 * and every entry lie inside it; the SEV metadata ("ASEV", version 1) lies inside it with
 * exactly its sections, each page-aligned, non-empty, below 4 GiB, of a known type.
 * MS_ERR_SNP_MEASURE_OVMF (any of those), MS_ERR_ARG.
 */
MS_MUST_CHECK ms_err ms_snp_ovmf_parse(const uint8_t *img, size_t len, ms_snp_ovmf *out);

typedef enum ms_snp_vmm {
    MS_SNP_VMM_QEMU = 0, /* QEMU/KVM (the default) */
    MS_SNP_VMM_EC2 = 1   /* AWS EC2 */
} ms_snp_vmm;

/* CPUID(1).EAX signature of a QEMU vCPU model ("EPYC", "EPYC-v4", "EPYC-Milan", ...). */
MS_MUST_CHECK ms_err ms_snp_vcpu_sig(const char *name, uint32_t *sig);

typedef struct ms_snp_measure_in {
    const uint8_t *ovmf; /* the whole image */
    size_t ovmf_len;
    /* The digest after the image's pages, given instead of computed (48 bytes), or NULL. */
    const uint8_t *ovmf_hash;
    /* Direct kernel boot: kernel given (even empty) turns on the hashes table. */
    int have_kernel;
    const uint8_t *kernel; /* kernel_len bytes; NULL when 0 */
    size_t kernel_len;
    const uint8_t *initrd; /* NULL: none (hashed as empty, as QEMU does) */
    size_t initrd_len;
    const char *append; /* kernel command line, or NULL: none */
    uint32_t vcpus;     /* 1..MS_SNP_MEASURE_MAX_VCPUS */
    uint32_t vcpu_sig;  /* ms_snp_vcpu_sig */
    uint64_t guest_features; /* SEV_FEATURES of the VMSA (bit 0: SNP active) */
    ms_snp_vmm vmm;
} ms_snp_measure_in;

/*
 * The launch digest. MS_ERR_SNP_MEASURE_OVMF, MS_ERR_SNP_MEASURE_INPUT (vcpus out of range,
 * an unknown VMM, an append too long, more than one vCPU without a reset block),
 * MS_ERR_SNP_MEASURE_KERNEL (a kernel without a kernel-hashes section or table),
 * MS_ERR_ARG, MS_ERR_INTERNAL (the hash failed).
 */
MS_MUST_CHECK ms_err ms_snp_measure(const ms_snp_measure_in *in, uint8_t out[static 48]);

/* Only the digest of the image's pages (what ovmf_hash stands for). */
MS_MUST_CHECK ms_err ms_snp_measure_ovmf_hash(const uint8_t *img, size_t len,
                                              uint8_t out[static 48]);

#endif
