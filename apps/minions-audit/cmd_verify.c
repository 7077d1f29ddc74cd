/* minions-audit verify: one verdict per log, text or one JSON list; the worst status wins. */
#include <stdio.h>

#include "apps/minions-audit/cli.h"
#include "apps/minions-audit/show.h"

/* The worst of two statuses: 1, then 2, then 3, then 4, then 0. */
static int worse(int a, int b)
{
    static const int rank[5] = {0, 4, 3, 2, 1}; /* by status 0..4 */
    return rank[b] > rank[a] ? b : a;
}

int audit_cmd_verify(int argc, char **argv)
{
    audit_opts o;
    uint8_t pk[MS_ALOG_PK_LEN];
    int st = audit_parse(argc, argv, &o);
    if (st >= 0) {
        return st;
    }
    if (o.n_logs == 0) {
        return audit_usage_error("verify needs at least one LOG", NULL);
    }
    if (o.key_file != NULL && (st = audit_load_key(&o, pk)) >= 0) {
        return st;
    }
    ms_audit_json_list *list = NULL;
    if (o.json && ms_audit_json_list_new(&list) != MS_OK) {
        return audit_usage_error("out of memory", NULL);
    }
    int status = MS_AUDIT_EXIT_VALID;
    for (int i = 0; i < o.n_logs; i++) {
        ms_buf text;
        ms_alog_report r;
        ms_err e = ms_audit_verify_file(o.logs[i], o.key_file ? pk : NULL, &text, &r);
        ms_buf_free(&text);
        status = worse(status, e != MS_OK ? MS_AUDIT_EXIT_USAGE : ms_audit_exit_status(r.verdict));
        if (list != NULL) {
            if (ms_audit_json_list_add(list, o.logs[i], e, &r, o.key_file != NULL) != MS_OK) {
                status = worse(status, MS_AUDIT_EXIT_USAGE);
            }
        } else {
            ms_audit_print_report(stdout, o.logs[i], e, &r, o.key_file != NULL);
        }
    }
    if (list != NULL && ms_audit_json_list_print(list, stdout) != MS_OK) {
        status = worse(status, MS_AUDIT_EXIT_USAGE);
    }
    ms_audit_json_list_free(list);
    return status;
}
