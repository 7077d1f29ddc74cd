/* minions-audit's shared command-line pieces: option parsing, escaped names, key files. */
#include "apps/minions-audit/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/text.h"
#include "secure/attest/devkey.h"
#include "apps/minions-audit/show.h"

void audit_clean_name(const char *s, char *out, size_t cap)
{
    (void)ms_text_escape(s, s ? strlen(s) : 0, cap, out, cap);
}

int audit_usage_error(const char *what, const char *arg)
{
    char shown[128];
    audit_clean_name(arg, shown, sizeof shown);
    fprintf(stderr, "minions-audit: %s%s%s\nTry 'minions-audit --help'.\n", what,
            arg ? ": " : "", arg ? shown : "");
    return MS_AUDIT_EXIT_USAGE;
}

int audit_parse(int argc, char **argv, audit_opts *o)
{
    int i = 1;
    memset(o, 0, sizeof *o);
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0) {
            const char *f = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!f || (strcmp(f, "reference-json") != 0 && strcmp(f, "text") != 0)) {
                return audit_usage_error("--format takes text or reference-json", f);
            }
            o->reference_json = strcmp(f, "reference-json") == 0;
        } else if (strcmp(a, "--key") == 0) {
            if (i + 1 >= argc) {
                return audit_usage_error("--key needs a file", NULL);
            }
            o->key_file = argv[++i];
        } else if (strncmp(a, "--key=", 6) == 0) {
            o->key_file = a + 6;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(audit_usage, stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            return audit_usage_error("unknown option", a);
        } else {
            break;
        }
    }
    o->logs = argv + i;
    o->n_logs = argc - i;
    return -1;
}

int audit_load_key(const audit_opts *o, uint8_t pk[static MS_ALOG_PK_LEN])
{
    ms_err e = ms_devkey_read_public(o->key_file, pk);
    if (e != MS_OK) {
        char shown[256];
        audit_clean_name(o->key_file, shown, sizeof shown);
        fprintf(stderr, "minions-audit: cannot use the key file %s: %s (a PEM public key, like "
                        "log-key.pub)\n", shown, ms_err_str(e));
        return MS_AUDIT_EXIT_USAGE;
    }
    return -1;
}
