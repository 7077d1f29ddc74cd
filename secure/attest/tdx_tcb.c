/* The TDX collateral step over tdx_collateral.h: PCK extensions, signed collateral, TCB level, QE. */
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "secure/attest/tdx_internal.h"

static void take_level(ms_tdx_tcb_run *r, const ms_tdx_tcb_result *res)
{
    r->have_tcb = 1;
    r->tcb_status = res->status;
    if (res->level == NULL) {
        return;
    }
    r->n_advisories = res->level->n_advisories <= MS_TDX_MAX_ADVISORIES
                          ? res->level->n_advisories
                          : (uint8_t)MS_TDX_MAX_ADVISORIES;
    for (size_t i = 0; i < r->n_advisories; i++) {
        memcpy(r->advisories[i], res->level->advisories[i], MS_TDX_MAX_ADVISORY_ID);
        r->advisories[i][MS_TDX_MAX_ADVISORY_ID - 1] = '\0';
    }
}

/* Checks 8 and 9 over verified collateral. */
static void judge(ms_tdx_tcb_run *r, const ms_tdx_collateral *c, const ms_tdx_pck_ext *pck)
{
    const ms_tdx_td_report *td = &r->quote->td;
    ms_tdx_tcb_in in = {.pck = pck};
    memcpy(in.tee_tcb_svn, td->tee_tcb_svn, sizeof in.tee_tcb_svn);
    memcpy(in.mrsignerseam, td->mrsignerseam, sizeof in.mrsignerseam);
    memcpy(in.seam_attributes, td->seam_attributes, sizeof in.seam_attributes);
    ms_tdx_tcb_result res;
    memset(&res, 0, sizeof res);
    r->ran_tcb = 1;
    r->tcb_err = ms_tdx_tcb_evaluate(c, &in, &res);
    if (r->tcb_err == MS_OK) {
        take_level(r, &res);
        if ((r->accept & MS_TDX_ACCEPT(res.status)) == 0) {
            r->tcb_err = MS_ERR_TDX_TCB_STATUS;
        }
    }
    const ms_tdx_qe_report *qe = &r->quote->qe;
    ms_tdx_qe_fields f = {.miscselect = qe->miscselect, .isvprodid = qe->isvprodid,
                          .isvsvn = qe->isvsvn};
    memcpy(f.attributes, qe->attributes, sizeof f.attributes);
    memcpy(f.mrsigner, qe->mrsigner, sizeof f.mrsigner);
    r->ran_qe = 1;
    r->qe_err = ms_tdx_qe_identity_match(c, &f, &r->qe_status);
    if (r->qe_err == MS_OK && (r->accept & MS_TDX_ACCEPT(r->qe_status)) == 0) {
        r->qe_err = MS_ERR_TDX_QE_STATUS;
    }
}

void ms_tdx_tcb_steps(ms_tdx_tcb_run *r)
{
    ms_tdx_pck_ext pck;
    r->collateral_err = ms_tdx_pck_ext_decode(r->leaf_der, r->leaf_len, &pck);
    if (r->collateral_err != MS_OK) {
        return;
    }
    /* ~100 KB of parsed levels: on the heap, not the stack. */
    ms_tdx_collateral *c = calloc(1, sizeof *c);
    if (c == NULL) {
        r->collateral_err = MS_ERR_NOMEM;
        return;
    }
    r->collateral_err = ms_tdx_collateral_verify(r->collateral, r->root_der, r->root_len, r->at,
                                                 r->grace_s, c);
    if (r->collateral_err == MS_OK) {
        judge(r, c, &pck);
    }
    free(c);
}

const char *ms_tdx_status_name(ms_tdx_tcb_status s)
{
    return ms_tdx_tcb_status_name(s);
}
