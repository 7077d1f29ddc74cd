/* minions-secure: the reference chat's --vm_launch_measurement_hashfile, as the policy's pin. */
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "apps/minions-secure/cli.h"

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

ms_err ms_cli_pin_snp_text(ms_attest_policy *p, const char *text, size_t len, bool *changed)
{
    uint8_t m[MS_SNP_MEASUREMENT_LEN];
    size_t got;
    while (len > 0 && blank(text[0])) {
        text++, len--;
    }
    while (len > 0 && blank(text[len - 1])) {
        len--;
    }
    if (len != 2 * sizeof m || ms_hex_decode(text, len, m, sizeof m, &got) != MS_OK ||
        got != sizeof m) {
        return MS_ERR_COMPAT_HASHFILE;
    }
    if (!p->have_snp) {
        return MS_ERR_COMPAT_HASHFILE_POLICY;
    }
    /* The file's measurement takes the place of the policy's (one policy for the AMD chain
       and the guest rules, one file per VM image, as the reference's users keep them). */
    *changed = memcmp(p->snp.measurement, m, sizeof m) != 0;
    memcpy(p->snp.measurement, m, sizeof m);
    memcpy(p->az_snp.snp.measurement, m, sizeof m); /* az_snp_vtpm's SNP pins are a copy */
    return MS_OK;
}

ms_err ms_cli_pin_snp_hashfile(ms_cli_conn *c, const char *prog)
{
    ms_buf text;
    ms_buf_init(&text, MS_COMPAT_MAX_HASHFILE);
    bool changed = false;
    ms_err e = ms_file_read(c->snp_hashfile, MS_COMPAT_MAX_HASHFILE, &text);
    if (e == MS_OK) {
        e = ms_cli_pin_snp_text(&c->policy, (const char *)text.p, text.len, &changed);
    }
    if (e == MS_OK) {
        fprintf(stderr, "%s: SEV-SNP launch measurement pinned from %s%s\n", prog,
                c->snp_hashfile, changed ? " (in place of the policy's sev_snp.measurement)" : "");
    }
    ms_buf_free(&text);
    if (e != MS_OK) {
        fprintf(stderr, "%s: --vm_launch_measurement_hashfile %s: %s\n", prog, c->snp_hashfile,
                ms_err_str(e));
    }
    return e;
}

ms_err ms_cli_check_snp_hashfile(const ms_cli_conn *c, const char *prog)
{
    uint16_t t = c->peer.evidence_type;
    if (t == MS_EVIDENCE_SEV_SNP || t == MS_EVIDENCE_AZ_SNP_VTPM) {
        return MS_OK;
    }
    fprintf(stderr, "%s: --vm_launch_measurement_hashfile: %s (it sent %s evidence); nothing "
                    "was sent\n",
            prog, ms_err_str(MS_ERR_COMPAT_HASHFILE_TYPE), ms_evidence_type_name(t));
    return MS_ERR_COMPAT_HASHFILE_TYPE;
}
