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

int tdx_fx_platform_make(tdx_fx_platform *p, const char *dir)
{
    /* TEE_TCB_SVN as a TDX 1.0 module reports it: byte 1 (module version) zero. */
    static const uint8_t svn[16] = {3, 0, 5};
    tdx_fx_collateral_opts co;
    memset(p, 0, sizeof *p);
    tdx_fx_pck_opts_default(&p->po);
    tdx_fx_quote_opts_default(&p->qo);
    tdx_fx_collateral_opts_default(&co);
    memcpy(p->qo.tee_tcb_svn, svn, sizeof svn);
    int n = snprintf(p->config, sizeof p->config, "%s/tsm.json", dir);
    int m = snprintf(p->coll, sizeof p->coll, "%s/tdx-collateral", dir);
    return n > 0 && (size_t)n < sizeof p->config && m > 0 && (size_t)m < sizeof p->coll &&
           tdx_fx_chain_make(&p->chain, &p->po) &&
           tdx_fx_crl(&p->pck_crl, p->chain.ca_x, p->chain.ca_key, 0) &&
           tdx_fx_crl(&p->root_crl, p->chain.root_x, p->chain.root_key, 0) &&
           tdx_fx_collateral_make(&p->col, &p->chain, &p->po, &p->qo, &co) &&
           tdx_fx_chain_write(&p->chain, dir) && mkdir(p->coll, 0700) == 0 &&
           tdx_fx_collateral_write(&p->col, &p->pck_crl, &p->root_crl, p->coll) &&
           write_config(p);
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
