/* minions-audit show: one log verified, then printed as a timeline (show.c). */
#include <stdio.h>

#include "apps/minions-audit/cli.h"
#include "apps/minions-audit/show.h"

int audit_cmd_show(int argc, char **argv)
{
    audit_opts o;
    uint8_t pk[MS_ALOG_PK_LEN];
    int st = audit_parse(argc, argv, &o);
    if (st >= 0) {
        return st;
    }
    if (o.n_logs != 1) {
        return audit_usage_error("show takes exactly one LOG", NULL);
    }
    if (o.key_file != NULL && (st = audit_load_key(&o, pk)) >= 0) {
        return st;
    }
    ms_buf text;
    ms_alog_report r;
    ms_err e = ms_audit_verify_file(o.logs[0], o.key_file ? pk : NULL, &text, &r);
    if (e != MS_OK) {
        ms_buf_free(&text);
        ms_audit_print_report(stderr, o.logs[0], e, &r, false);
        return MS_AUDIT_EXIT_USAGE;
    }
    if (o.reference_json) { /* the reference's log JSON, only from a VALID log */
        e = r.verdict == MS_ALOG_VALID ? ms_audit_show_reference(stdout, text.p, text.len, &r)
                                       : MS_ERR_COMPAT_LOG_UNVERIFIED;
        if (e == MS_ERR_COMPAT_LOG_UNVERIFIED) {
            ms_buf_free(&text);
            ms_audit_print_report(stderr, o.logs[0], MS_OK, &r, o.key_file != NULL);
            fprintf(stderr, "minions-audit: %s\n", ms_err_str(e));
            return r.verdict == MS_ALOG_VALID ? MS_AUDIT_EXIT_BAD : ms_audit_exit_status(r.verdict);
        }
    } else {
        e = ms_audit_show(stdout, o.logs[0], text.p, text.len, &r, o.key_file != NULL, o.json);
    }
    ms_buf_free(&text);
    if (e != MS_OK) {
        fprintf(stderr, "minions-audit: cannot print the timeline: %s\n", ms_err_str(e));
        return MS_AUDIT_EXIT_USAGE;
    }
    return ms_audit_exit_status(r.verdict);
}
