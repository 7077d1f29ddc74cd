/* The TDX collateral step in a build without secure/attest/tdx_collateral.c: it fails closed. */
#include "secure/attest/tdx_internal.h"

void ms_tdx_tcb_steps(ms_tdx_tcb_run *r)
{
    r->collateral_err = MS_ERR_TDX_NO_COLLATERAL_CODE;
}
