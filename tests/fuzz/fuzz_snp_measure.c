/*
 * libFuzzer harness for the OVMF parser of the SEV-SNP launch digest: the footer GUID table,
 * the SEV metadata and the digest over what they declare. The input is the end of an image:
 * it is zero-extended at the front to whole pages, as an image's tail sits at 4 GiB. Seeds in
 * tests/fuzz/corpus/fuzz_snp_measure/ (the ends of two OVMF builds, shared/testdata).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure/attest/snp_measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (4u * MS_SNP_MEASURE_PAGE)
#define MAX_PAGES 256u /* pages declared by the metadata worth hashing in one run */

static uint64_t declared_pages(const ms_snp_ovmf *o)
{
    uint64_t n = 0;
    for (size_t i = 0; i < o->n_sections; i++) {
        n += o->sections[i].size / MS_SNP_MEASURE_PAGE;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) {
        return 0;
    }
    /* as given: anything not a page multiple is refused */
    ms_snp_ovmf o;
    (void)ms_snp_ovmf_parse(data, size, &o);

    size_t len = (size + MS_SNP_MEASURE_PAGE - 1) / MS_SNP_MEASURE_PAGE * MS_SNP_MEASURE_PAGE;
    if (len == 0) {
        return 0;
    }
    uint8_t *img = calloc(1, len);
    if (img == NULL) {
        return 0;
    }
    memcpy(img + (len - size), data, size);
    if (ms_snp_ovmf_parse(img, len, &o) == MS_OK && declared_pages(&o) <= MAX_PAGES) {
        static const uint8_t kernel[] = "k";
        uint8_t ld[48];
        ms_snp_measure_in in = {.ovmf = img, .ovmf_len = len, .vcpus = 2, .vcpu_sig = 0x800F12,
                                .guest_features = 1};
        (void)ms_snp_measure(&in, ld);
        in.have_kernel = 1;
        in.kernel = kernel;
        in.kernel_len = sizeof kernel;
        in.append = "console=ttyS0";
        in.vmm = MS_SNP_VMM_EC2;
        (void)ms_snp_measure(&in, ld);
    }
    free(img);
    return 0;
}
