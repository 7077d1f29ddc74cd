/* Test helper: fixture and bundle surgery for the TPM quote tests (see tpm2_fixture.h). */
#include "tests/secure/attest/tpm2_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double tpm2_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void binding_fill(uint8_t b[MS_BINDING_LEN], uint8_t seed)
{
    for (unsigned i = 0; i < MS_BINDING_LEN; i++) {
        b[i] = (uint8_t)(seed + 7 * i);
    }
}

int tpm2_fixture_setup(tpm2_fixture *f, uint32_t mask)
{
    memset(f, 0, sizeof *f);
    setenv("TSS2_LOG", "all+none", 0);
    f->mask = mask;
    binding_fill(f->b1, 1);
    binding_fill(f->b2, 2);
    if (e2e_swtpm_start(&f->sw) != 0) {
        return -1;
    }
    ms_tpm2_producer_cfg cfg = {.tcti = f->sw.tcti, .pcr_mask = mask};
    double t0 = tpm2_now_ms();
    int ok = tpm2_conn_open(&f->c, f->sw.tcti) == 0 &&
             ms_tpm2_producer_new(&f->prod, &cfg) == MS_OK;
    if (ok) {
        fprintf(stderr, "  swtpm: producer (ECC P-256 primary AK) ready in %.1f ms\n",
                tpm2_now_ms() - t0);
        ok = ms_tpm2_producer_policy(f->prod, &f->pol) == MS_OK;
    }
    if (!ok) {
        fprintf(stderr, "tpm2 fixture: set-up failed\n");
        tpm2_fixture_teardown(f);
    }
    return ok ? 0 : -1;
}

void tpm2_fixture_teardown(tpm2_fixture *f)
{
    ms_tpm2_producer_free(f->prod);
    f->prod = NULL;
    tpm2_conn_close(&f->c);
    e2e_swtpm_stop(&f->sw);
}

int tpm2_fixture_quote(tpm2_fixture *f, const uint8_t binding[static MS_BINDING_LEN], ms_buf *ev)
{
    ms_buf_init(ev, MS_TPM2_MAX_BUNDLE);
    ms_err e = ms_tpm2_producer_quote(f->prod, binding, ev);
    if (e != MS_OK) {
        fprintf(stderr, "quote: %s\n", ms_err_name(e));
    }
    return e == MS_OK ? 0 : -1;
}

int tpm2_split(const uint8_t *p, size_t n, tpm2_parts *o)
{
    size_t off = 1;
    for (int i = 0; i < 4; i++) {
        if (off + 2 > n) {
            return -1;
        }
        o->len[i] = (size_t)p[off] << 8 | p[off + 1];
        o->off[i] = off + 2;
        off += 2 + o->len[i];
    }
    return off == n && p[0] == MS_TPM2_FORMAT ? 0 : -1;
}

int tpm2_rebuild(const uint8_t *const part[4], const size_t len[4], ms_buf *out)
{
    ms_buf_init(out, 2 * MS_TPM2_MAX_BUNDLE);
    if (ms_buf_append_u8(out, MS_TPM2_FORMAT) != MS_OK) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        if (len[i] > UINT16_MAX || ms_buf_append_u16be(out, (uint16_t)len[i]) != MS_OK ||
            (len[i] && ms_buf_append(out, part[i], len[i]) != MS_OK)) {
            return -1;
        }
    }
    return 0;
}
