/* minions-secure run: Minion or Minions over the attested channel, the documents read locally. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "apps/minions-secure/cmds.h"
#include "apps/minions-secure/run_exec.h"

int ms_cmd_run(int argc, char **argv)
{
    static ms_run r; /* large (paths, buffers): not on the stack */
    char why[512];
    ms_run_init(&r);
    int code = ms_run_parse(argc, argv, &r.o);
    if (code == 0) {
        ms_log_set_level(r.o.conn.verbose ? MS_LOG_DEBUG : MS_LOG_INFO);
        if (r.o.stdin_json && ms_run_stdin_read(&r.o, STDIN_FILENO, why, sizeof why) != MS_CLI_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "--stdin-json: %s", why);
            fprintf(stderr, "%s: %s\n", MS_RUN_PROG, msg);
            code = ms_run_refuse(&r, MS_CLI_USAGE, msg);
        }
    } else if (code > 0 && r.o.stdin_json) {
        code = ms_run_refuse(&r, code, "a bad command line (see standard error)");
    }
    code = code != 0 ? code : ms_run_exec(&r);
    ms_run_free(&r);
    return code < 0 ? MS_CLI_OK : code;
}
