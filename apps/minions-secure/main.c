/* minions-secure: the local client. Picks the subcommand; each lives in its own cmd_*.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmds.h"
#include "apps/minions-secure/run_compat.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} command;

static const command COMMANDS[] = {
    {"ask", ms_cmd_ask, "one turn: --prompt TEXT, the reply streamed to standard output"},
    {"attest", ms_cmd_attest, "what a supervisor proves, as a policy; --save, --verify FILE offline"},
    {"chat", ms_cmd_chat, "a conversation: lines in, replies streamed; /attach, /image, /save"},
    {"keygen", ms_cmd_keygen, "a client identity key for --identity and its allow-list line"},
    {"run", ms_cmd_run, "Minion or Minions: --task TEXT --context FILE|DIR, read locally"},
    {"serve", ms_cmd_serve, "a local OpenAI-compatible API and web UI (docs/serve.md)"},
};

static const char USAGE[] =
    "Usage: minions-secure [COMMAND] [options]\n"
    "\n"
    "The local client of Secure Minions: it verifies a minions-supervisor's\n"
    "attestation, opens an end-to-end encrypted session with it (docs/protocol.md)\n"
    "and runs a turn, a protocol or a chat over it. Nothing is sent inside the\n"
    "channel before the supervisor's evidence passed the checks.\n"
    "\n"
    "Commands (minions-secure COMMAND --help for each one's options):\n";

static const char USAGE_TAIL[] =
    "Without a COMMAND: 'run' when --task, --protocol or --stdin-json is given, else\n"
    "'ask' when --prompt is given.\n"
    "'run' also for its own options (--local_client_type, --local_model,\n"
    "--max_rounds, --context, ...), as the reference's CLI line writes them\n"
    "(docs/migrating.md).\n"
    "\n" MS_CLI_CONN_HELP "\n" MS_CLI_EXIT_HELP;

static void usage(void)
{
    fputs(USAGE, stdout);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        printf("  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].what);
    }
    putchar('\n');
    fputs(USAGE_TAIL, stdout);
}

static int has_arg(int argc, char **argv, const char *a)
{
    size_t n = strlen(a);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return 0;
        }
        if (strncmp(argv[i], a, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '=')) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed peer or stdout is an error, not a silent death */
    ms_log_set_level(has_arg(argc, argv, "--verbose") ? MS_LOG_DEBUG : MS_LOG_INFO);
    /* tss2-mu (the TPM quote verifier) prints its own lines to stderr on malformed input;
       set before any TSS call, unless --verbose or the user chose a TSS2_LOG. */
    if (!has_arg(argc, argv, "--verbose")) {
        setenv("TSS2_LOG", "all+none", 0);
    }
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
            if (strcmp(argv[1], COMMANDS[i].name) == 0) {
                return COMMANDS[i].run(argc - 1, argv + 1);
            }
        }
        fprintf(stderr, "minions-secure: unknown command: %s\nTry 'minions-secure --help'.\n",
                argv[1]);
        return MS_CLI_USAGE;
    }
    if (has_arg(argc, argv, "--task") || has_arg(argc, argv, "--protocol") ||
        has_arg(argc, argv, "--stdin-json") || ms_run_wants(argc, argv)) {
        return ms_cmd_run(argc, argv);
    }
    if (has_arg(argc, argv, "--prompt")) {
        return ms_cmd_ask(argc, argv);
    }
    if (has_arg(argc, argv, "--version")) {
        fputs(MS_CLI_VERSION_LINE, stdout);
        return MS_CLI_OK;
    }
    if (argc < 2 || has_arg(argc, argv, "--help")) {
        usage();
        return argc < 2 ? MS_CLI_USAGE : MS_CLI_OK;
    }
    /* Connection options without --prompt: what the one-turn command would say is missing. */
    return ms_cmd_ask(argc, argv);
}
