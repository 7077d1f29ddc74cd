/* NVIDIA GPU evidence on the supervisor: NVML loaded at run time, one item per attested GPU. */
#ifndef MS_SECURE_ATTEST_NVGPU_PRODUCE_H
#define MS_SECURE_ATTEST_NVGPU_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/nvgpu.h"

#define MS_NVGPU_NVML_DEFAULT "libnvidia-ml.so.1"

/* "all" or a GPU index list "0,2,3" (decimal, distinct, < 64). */
typedef struct ms_nvgpu_gpus {
    int all;
    size_t n;
    unsigned idx[MS_NVGPU_MAX_GPUS];
} ms_nvgpu_gpus;

/* MS_ERR_CONFIG for anything but "all" or such a list (at most MS_NVGPU_MAX_GPUS). */
MS_MUST_CHECK ms_err ms_nvgpu_gpus_parse(const char *text, ms_nvgpu_gpus *out);

struct ms_nvgpu_producer;

/*
 * dlopen `lib` (NULL: MS_NVGPU_NVML_DEFAULT), resolve the NVML functions, nvmlInit_v2, and
 * pick the GPUs (`all`: every device NVML counts, at most MS_NVGPU_MAX_GPUS). Errors:
 * MS_ERR_NVGPU_NVML when the library cannot be loaded, lacks a function, or NVML fails
 * (the library path is then in `why`, for the operator); MS_ERR_CONFIG for an index NVML
 * does not have. Thread-safe after open.
 */
MS_MUST_CHECK ms_err ms_nvgpu_producer_open(struct ms_nvgpu_producer **out, const char *lib,
                                            const ms_nvgpu_gpus *gpus, char *why,
                                            size_t why_len);
void ms_nvgpu_producer_free(struct ms_nvgpu_producer *p);
size_t ms_nvgpu_producer_count(const struct ms_nvgpu_producer *p);

/*
 * The nvidia-gpu evidence over `binding`: for each GPU, NVML's attestation report for
 * nonce = binding[0..32), its attestation certificate chain and the CC state, as an item
 * (docs/attest-nvidia.md §3). MS_ERR_NVGPU_NVML when NVML fails, MS_ERR_NVGPU_FORMAT when
 * what it returned does not fit an item.
 */
MS_MUST_CHECK ms_err ms_nvgpu_producer_make(struct ms_nvgpu_producer *p,
                                            const uint8_t binding[static MS_BINDING_LEN],
                                            ms_buf *out);

#endif
