/* minions-secure's subcommands (main.c dispatches; each lives in its own cmd_*.c). */
#ifndef MS_APPS_MINIONS_SECURE_CMDS_H
#define MS_APPS_MINIONS_SECURE_CMDS_H

#include "common/version.h"
#include "secure/client/report.h"

#define MS_CLI_VERSION_LINE "minions-secure " MS_VERSION " (channel protocol 1)\n"

/* The exit statuses, for every subcommand's --help (values in report.h). */
#define MS_CLI_EXIT_HELP                                                                        \
    "Exit status:\n"                                                                            \
    "  0  success: the reply or answer is complete\n"                                           \
    "  2  usage: a bad option or file, or an http:// URL without --allow-http or to a\n"        \
    "     host that is not loopback (refused before connecting)\n"                              \
    "  3  cannot reach the supervisor, or TLS failed (certificate, or the TLS key\n"            \
    "     pin)\n"                                                                               \
    "  4  the supervisor failed verification (handshake or evidence): nothing was\n"            \
    "     sent\n"                                                                               \
    "  5  the supervisor or its model engine failed a turn\n"                                   \
    "  6  a streamed reply was cut: the text printed so far is INCOMPLETE\n"                    \
    "  7  the local model engine (the worker) failed or cannot be reached\n"                    \
    "  8  the protocol ended without a final answer (e.g. --max_rounds reached)\n"              \
    "  9  a model stopped at its token limit (finish_reason \"length\"): the text\n"            \
    "     printed is INCOMPLETE, not an answer (allow more tokens, e.g. --max-tokens)\n"

/*
 * Each takes the arguments after the subcommand's name (argv[0] is the name) and returns
 * the process exit status. They may assume SIGPIPE is ignored and the log level is set.
 */
int ms_cmd_ask(int argc, char **argv);
/* minions-secure attest: show what a supervisor proves; save it; check saved evidence offline. */
int ms_cmd_attest(int argc, char **argv);
/* minions-secure attest enroll-tpm: the operator's steps of a TPM AK enrolment (offline). */
int ms_cmd_attest_enroll_tpm(int argc, char **argv);
/* minions-secure chat: an interactive (or piped) conversation, kept on the client. */
int ms_cmd_chat(int argc, char **argv);
/* minions-secure run: Minion or Minions over the channel, the documents read by the local worker. */
int ms_cmd_run(int argc, char **argv);
/* minions-secure keygen: a client identity key (FILE, 0600) and its allow-list line (FILE.pub). */
int ms_cmd_keygen(int argc, char **argv);
/* minions-secure serve: a local OpenAI-compatible API over attested sessions (gateway/). */
int ms_cmd_serve(int argc, char **argv);

#endif
