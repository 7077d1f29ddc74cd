/* TDX test fixture: a whole TD platform in files (chain, collateral, fake-tsm's configuration, policies). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "tests/secure/attest/tdx_fixture.h"

#define HEX_MEAS (2 * MS_TDX_MEAS_LEN + 1)

static void hex_of(const uint8_t *p, size_t n, char *out)
{
    size_t len;
    if (ms_hex_encode(p, n, out, 2 * n + 1, &len) != MS_OK) {
        out[0] = '\0';
    }
}

/* fake-tsm's configuration: the fixture's keys and chain, and the quote's TD fields. */
static int write_config(const tdx_fx_platform *p)
{
    char mrtd[HEX_MEAS], rtmr[MS_TDX_RTMRS][HEX_MEAS], svn[33];
    hex_of(p->qo.mrtd, MS_TDX_MEAS_LEN, mrtd);
    hex_of(p->qo.tee_tcb_svn, sizeof p->qo.tee_tcb_svn, svn);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        hex_of(p->qo.rtmr[i], MS_TDX_MEAS_LEN, rtmr[i]);
    }
    FILE *f = fopen(p->config, "w");
    if (f == NULL) {
        return 0;
    }
    fprintf(f, "{\"key\":\"pck.key\",\"ak\":\"ak.key\",\"chain\":\"pck_chain.pem\","
               "\"tdx\":{\"mrtd\":\"%s\",\"tee_tcb_svn\":\"%s\",\"rtmrs\":[\"%s\",\"%s\",\"%s\","
               "\"%s\"]}}\n",
            mrtd, svn, rtmr[0], rtmr[1], rtmr[2], rtmr[3]);
    return fclose(f) == 0;
}

int tdx_fx_platform_init(tdx_fx_platform *p)
{
    /* TEE_TCB_SVN as a TDX 1.0 module reports it: byte 1 (module version) zero. */
    static const uint8_t svn[16] = {3, 0, 5};
    tdx_fx_collateral_opts co;
    memset(p, 0, sizeof *p);
    tdx_fx_pck_opts_default(&p->po);
    tdx_fx_quote_opts_default(&p->qo);
    tdx_fx_collateral_opts_default(&co);
    memcpy(p->qo.tee_tcb_svn, svn, sizeof svn);
    return tdx_fx_chain_make(&p->chain, &p->po) &&
           tdx_fx_crl(&p->pck_crl, p->chain.ca_x, p->chain.ca_key, 0) &&
           tdx_fx_crl(&p->root_crl, p->chain.root_x, p->chain.root_key, 0) &&
           tdx_fx_collateral_make(&p->col, &p->chain, &p->po, &p->qo, &co);
}

int tdx_fx_platform_make(tdx_fx_platform *p, const char *dir)
{
    if (!tdx_fx_platform_init(p)) {
        return 0;
    }
    int n = snprintf(p->config, sizeof p->config, "%s/tsm.json", dir);
    int m = snprintf(p->coll, sizeof p->coll, "%s/tdx-collateral", dir);
    return n > 0 && (size_t)n < sizeof p->config && m > 0 && (size_t)m < sizeof p->coll &&
           tdx_fx_chain_write(&p->chain, dir) && mkdir(p->coll, 0700) == 0 &&
           tdx_fx_collateral_write(&p->col, &p->pck_crl, &p->root_crl, p->coll) &&
           write_config(p);
}

int tdx_fx_platform_bundle(const tdx_fx_platform *p, const uint8_t *quote, size_t quote_len,
                           ms_buf *out)
{
    ms_tdx_bundle b = {.quote = quote, .quote_len = quote_len, .pck_crl = p->pck_crl.p,
                       .pck_crl_len = p->pck_crl.len};
    b.collateral = (ms_tdx_collateral_in){
        .tcb_info = p->col.tcb_info.p, .tcb_info_len = p->col.tcb_info.len,
        .qe_identity = p->col.qe_identity.p, .qe_identity_len = p->col.qe_identity.len,
        .signing_chain_pem = p->col.signing_chain.p,
        .signing_chain_len = p->col.signing_chain.len, .root_crl = p->root_crl.p,
        .root_crl_len = p->root_crl.len};
    return ms_tdx_bundle_encode(&b, out) == MS_OK;
}

int tdx_fx_platform_policy(const tdx_fx_platform *p, const char *path, int spoil)
{
    uint8_t mrtd[MS_TDX_MEAS_LEN], rtmr[MS_TDX_RTMRS][MS_TDX_MEAS_LEN];
    char hm[HEX_MEAS], hr[MS_TDX_RTMRS][HEX_MEAS];
    memcpy(mrtd, p->qo.mrtd, sizeof mrtd);
    memcpy(rtmr, p->qo.rtmr, sizeof rtmr);
    mrtd[0] ^= (uint8_t)(spoil == TDX_FX_SPOIL_MRTD);
    rtmr[2][MS_TDX_MEAS_LEN - 1] ^= (uint8_t)(spoil == TDX_FX_SPOIL_RTMR2);
    hex_of(mrtd, sizeof mrtd, hm);
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        hex_of(rtmr[i], MS_TDX_MEAS_LEN, hr[i]);
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"root.pem\","
               "\"mrtd\":\"%s\",\"rtmrs\":{\"0\":\"%s\",\"1\":\"%s\",\"2\":\"%s\",\"3\":\"%s\"}}}\n",
            hm, hr[0], hr[1], hr[2], hr[3]);
    return fclose(f) == 0;
}

void tdx_fx_platform_free(tdx_fx_platform *p)
{
    tdx_fx_chain_free(&p->chain);
    tdx_fx_collateral_free(&p->col);
    ms_buf_free(&p->pck_crl);
    ms_buf_free(&p->root_crl);
}
