/* The TDX collateral step in a build without secure/attest/tdx_collateral.c: it fails closed. */
#include "secure/attest/tdx_internal.h"

void ms_tdx_tcb_steps(ms_tdx_tcb_run *r)
{
    r->collateral_err = MS_ERR_TDX_NO_COLLATERAL_CODE;
}

const char *ms_tdx_status_name(ms_tdx_tcb_status s)
{
    static const char *const names[] = {
        [MS_TDX_TCB_NONE] = "None",
        [MS_TDX_TCB_UP_TO_DATE] = "UpToDate",
        [MS_TDX_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
        [MS_TDX_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
        [MS_TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
        [MS_TDX_TCB_OUT_OF_DATE] = "OutOfDate",
        [MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
        [MS_TDX_TCB_REVOKED] = "Revoked",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "None";
}
