/* Internal to secure/attest/tdx*: the collateral step between the quote checks and the TD checks. */
#ifndef MS_SECURE_ATTEST_TDX_INTERNAL_H
#define MS_SECURE_ATTEST_TDX_INTERNAL_H

#include "secure/attest/tdx.h"

/*
 * The collateral checks (docs/attest-tdx.md §4, checks 7 to 9) as one step: decode the PCK
 * leaf's SGX extensions and verify the collateral (COLLATERAL), choose the TCB level and
 * judge its status against `accept` (TCB), match QE identity and judge its status (QE).
 * tdx_tcb.c makes them with tdx_collateral.h. TCB and QE run (ran_tcb,
 * ran_qe) only when COLLATERAL passed; each is then judged on its own.
 */
typedef struct ms_tdx_tcb_run {
    /* in */
    const uint8_t *leaf_der;
    size_t leaf_len;
    const ms_tdx_quote *quote;
    const ms_tdx_collateral_in *collateral;
    const uint8_t *root_der;
    size_t root_len;
    uint64_t at, grace_s;
    uint32_t accept; /* MS_TDX_ACCEPT bits, never 0 here */
    /* out */
    int ran_tcb, ran_qe;
    ms_err collateral_err, tcb_err, qe_err;
    int have_tcb;
    ms_tdx_tcb_status tcb_status, qe_status;
    uint8_t n_advisories;
    char advisories[MS_TDX_MAX_ADVISORIES][MS_TDX_MAX_ADVISORY_ID];
} ms_tdx_tcb_run;

void ms_tdx_tcb_steps(ms_tdx_tcb_run *r);

#endif
