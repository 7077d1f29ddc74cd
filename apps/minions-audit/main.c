/* minions-audit: verify audit logs and show them as timelines (options here, work in show.c). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "apps/minions-audit/show.h"

static const char USAGE[] =
    "Usage: minions-audit verify [--key FILE.pub] [--json] LOG...\n"
    "       minions-audit show [--key FILE.pub] [--json] LOG\n"
    "       minions-audit key [FILE.pub]\n"
    "       minions-audit --help | --version\n"
    "\n"
    "Checks the audit logs that minions-secure (ask, minion, minions, chat) and\n"
    "minions-supervisor write. A log is one JSON event per line; each line carries the\n"
    "SHA-256 of the line before it, and the last line (the seal) is signed with the\n"
    "installation's Ed25519 log key. The format is in docs/logs.md: a log can be checked\n"
    "without this program.\n"
    "\n"
    "Commands:\n"
    "  verify   check each LOG. Prints one verdict per log and, when a log is not valid,\n"
    "           the first line that is wrong and why.\n"
    "  show     print LOG as a timeline: the verdict first, then each event (rounds,\n"
    "           timings, tokens, what the supervisor's evidence proved) with its time from\n"
    "           the start. Text from the log is shown as UTF-8 with control bytes,\n"
    "           invalid UTF-8 and invisible or bidirectional formatting characters\n"
    "           escaped (\\x1B, \\u{202E}), so a log cannot drive your terminal or\n"
    "           disguise what it says.\n"
    "  key      print the fingerprint of a log key's public half (default: the log-key.pub\n"
    "           next to this installation's log key), to compare with what verify prints.\n"
    "\n"
    "Options:\n"
    "  --key FILE.pub  the public half of the log key that must have sealed the log (PEM,\n"
    "                  written next to the key as log-key.pub). Without --key the key the\n"
    "                  log names is used: that proves the log was not changed after it was\n"
    "                  sealed by the holder of that key, not who holds it. The output then\n"
    "                  says the key was NOT checked and prints its fingerprint.\n"
    "  --json          print the result as one JSON object instead of text\n"
    "  --help, --version\n"
    "\n"
    "Verdicts and exit status:\n"
    "  0  VALID       every line intact and the seal signed by the log key (by --key's key\n"
    "                 when given)\n"
    "  1  TAMPERED    a line was changed, removed, inserted or reordered, or lines were\n"
    "                 added after the seal, or the seal's signature is wrong\n"
    "     WRONG KEY   intact and sealed, but by another key than --key's\n"
    "     MALFORMED   not an audit log (its first line is not a log_start)\n"
    "  3  INCOMPLETE  no seal: the program stopped (crash, kill, full disk) or the file was\n"
    "                 cut. Never reported as valid, never as tampering; without the seal\n"
    "                 nothing in the log is proven\n"
    "  2  usage: a bad option, or a LOG or key file that cannot be read\n"
    "With several logs the status is the worst one: 1, else 2, else 3, else 0.\n";

#define VERSION "minions-audit 0.2.0 (audit log format 1)\n"

typedef struct opts {
    const char *key_file;
    bool json;
    char **logs;
    int n_logs;
} opts;

/* A name from the command line, escaped for the terminal (at most cap bytes with its NUL). */
static void clean_name(const char *s, char *out, size_t cap)
{
    (void)ms_text_escape(s, s ? strlen(s) : 0, cap, out, cap);
}

static int usage_error(const char *what, const char *arg)
{
    char shown[128];
    clean_name(arg, shown, sizeof shown);
    fprintf(stderr, "minions-audit: %s%s%s\nTry 'minions-audit --help'.\n", what,
            arg ? ": " : "", arg ? shown : "");
    return MS_AUDIT_EXIT_USAGE;
}

/* Options then LOGs (argv[0] is the command). Returns -1 when parsed, else an exit status. */
static int parse(int argc, char **argv, opts *o)
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
        } else if (strcmp(a, "--key") == 0) {
            if (i + 1 >= argc) {
                return usage_error("--key needs a file", NULL);
            }
            o->key_file = argv[++i];
        } else if (strncmp(a, "--key=", 6) == 0) {
            o->key_file = a + 6;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option", a);
        } else {
            break;
        }
    }
    o->logs = argv + i;
    o->n_logs = argc - i;
    return -1;
}

static int load_key(const opts *o, uint8_t pk[static MS_ALOG_PK_LEN])
{
    ms_err e = ms_devkey_read_public(o->key_file, pk);
    if (e != MS_OK) {
        char shown[256];
        clean_name(o->key_file, shown, sizeof shown);
        fprintf(stderr, "minions-audit: cannot use the key file %s: %s (a PEM public key, like "
                        "log-key.pub)\n", shown, ms_err_str(e));
        return MS_AUDIT_EXIT_USAGE;
    }
    return -1;
}

/* The worst of two statuses: 1, then 2, then 3, then 0. */
static int worse(int a, int b)
{
    static const int rank[4] = {0, 3, 2, 1}; /* by status 0..3 */
    return rank[b] > rank[a] ? b : a;
}

static int cmd_verify(int argc, char **argv)
{
    opts o;
    uint8_t pk[MS_ALOG_PK_LEN];
    int st = parse(argc, argv, &o);
    if (st >= 0) {
        return st;
    }
    if (o.n_logs == 0) {
        return usage_error("verify needs at least one LOG", NULL);
    }
    if (o.key_file != NULL && (st = load_key(&o, pk)) >= 0) {
        return st;
    }
    ms_audit_json_list *list = NULL;
    if (o.json && ms_audit_json_list_new(&list) != MS_OK) {
        return usage_error("out of memory", NULL);
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

static int cmd_show(int argc, char **argv)
{
    opts o;
    uint8_t pk[MS_ALOG_PK_LEN];
    int st = parse(argc, argv, &o);
    if (st >= 0) {
        return st;
    }
    if (o.n_logs != 1) {
        return usage_error("show takes exactly one LOG", NULL);
    }
    if (o.key_file != NULL && (st = load_key(&o, pk)) >= 0) {
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
    e = ms_audit_show(stdout, o.logs[0], text.p, text.len, &r, o.key_file != NULL, o.json);
    ms_buf_free(&text);
    if (e != MS_OK) {
        fprintf(stderr, "minions-audit: cannot print the timeline: %s\n", ms_err_str(e));
        return MS_AUDIT_EXIT_USAGE;
    }
    return ms_audit_exit_status(r.verdict);
}

static int cmd_key(int argc, char **argv)
{
    char path[PATH_MAX];
    uint8_t pk[MS_ALOG_PK_LEN];
    char fp[MS_FINGERPRINT_LEN];
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        return usage_error("key takes one FILE.pub at most", NULL);
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
    opts o = {.key_file = path};
    int st = load_key(&o, pk);
    if (st >= 0) {
        return st;
    }
    ms_devkey_fingerprint(pk, fp);
    char shown[256];
    clean_name(path, shown, sizeof shown);
    printf("%s  %s\n", fp, shown);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(USAGE, stderr);
        return MS_AUDIT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        fputs(VERSION, stdout);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0) {
        return cmd_verify(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "show") == 0) {
        return cmd_show(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "key") == 0) {
        return cmd_key(argc - 1, argv + 1);
    }
    return usage_error("unknown command", cmd);
}
