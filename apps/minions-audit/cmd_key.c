/* minions-audit key: the fingerprint of a log key's public half. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "apps/minions-audit/cli.h"
#include "apps/minions-audit/show.h"
#include "secure/attest/devkey.h"

int audit_cmd_key(int argc, char **argv)
{
    char path[PATH_MAX];
    uint8_t pk[MS_ALOG_PK_LEN];
    char fp[MS_FINGERPRINT_LEN];
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(audit_usage, stdout);
        return 0;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        return audit_usage_error("key takes one FILE.pub at most", NULL);
    }
    if (argc == 2) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        char key[PATH_MAX - 8];
        ms_err e = ms_alog_default_key_path(key, sizeof key);
        if (e != MS_OK) {
            fprintf(stderr, "minions-audit: no default log key path: %s (set MINIONS_LOG_KEY or HOME)\n",
                    ms_err_str(e));
            return MS_AUDIT_EXIT_USAGE;
        }
        snprintf(path, sizeof path, "%s.pub", key);
    }
    audit_opts o = {.key_file = path};
    int st = audit_load_key(&o, pk);
    if (st >= 0) {
        return st;
    }
    ms_devkey_fingerprint(pk, fp);
    char shown[256];
    audit_clean_name(path, shown, sizeof shown);
    printf("%s  %s\n", fp, shown);
    return 0;
}
