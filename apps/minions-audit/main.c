/* minions-audit: verify audit logs and show them as timelines (one file per command). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "apps/minions-audit/cli.h"
#include "apps/minions-audit/show.h"
#include "common/version.h"

const char audit_usage[] =
    "Usage: minions-audit verify [--key FILE.pub] [--json] LOG...\n"
    "       minions-audit show [--key FILE.pub] [--json] LOG\n"
    "       minions-audit show [--key FILE.pub] --format reference-json LOG\n"
    "       minions-audit key [FILE.pub]\n"
    "       minions-audit --help | --version\n"
    "\n"
    "Checks the audit logs that minions-secure (ask, minion, minions, chat) and\n"
    "minions-supervisor write. A log is one JSON event per line; each line carries\n"
    "the SHA-256 of the line before it, and the last line (the seal) is signed with\n"
    "the installation's Ed25519 log key. The format is in docs/logs.md: a log can be\n"
    "checked without this program.\n"
    "\n"
    "Commands:\n"
    "  verify   check each LOG. Prints one verdict per log and, when a log is not\n"
    "           valid, the first line that is wrong and why.\n"
    "  show     print LOG as a timeline: the verdict first, then each event (rounds,\n"
    "           timings, tokens, what the supervisor's evidence proved) with its time\n"
    "           from the start. Text from the log is shown as UTF-8 with control\n"
    "           bytes, invalid UTF-8 and invisible or bidirectional formatting\n"
    "           characters escaped (\\x1B, \\u{202E}), so a log cannot drive your\n"
    "           terminal or disguise what it says.\n"
    "  key      print the fingerprint of a log key's public half (default: the\n"
    "           log-key.pub next to this installation's log key), to compare with\n"
    "           what verify prints.\n"
    "\n"
    "Options:\n"
    "  --key FILE.pub  the public half of the log key that must have sealed the log\n"
    "                  (PEM, written next to the key as log-key.pub). Without --key\n"
    "                  the key the log names is used: that proves the log was not\n"
    "                  changed after it was sealed by the holder of that key, not who\n"
    "                  holds it. The output then says the key was NOT checked and\n"
    "                  prints its fingerprint.\n"
    "  --json          print the result as one JSON object instead of text\n"
    "  --format reference-json\n"
    "                  show: the session as the reference's log JSON (task,\n"
    "                  conversation, generated_final_answer, usage, timing,\n"
    "                  session_id; context only when the log holds it), for tools\n"
    "                  that read the reference's logs; only from a VALID log\n"
    "  --help, --version\n"
    "\n"
    "Verdicts and exit status:\n"
    "  0  VALID       every line intact and the seal signed by the log key (by\n"
    "                 --key's key when given)\n"
    "  1  TAMPERED    a line was changed, removed, inserted or reordered, or lines\n"
    "                 were added after the seal, or the seal's signature is wrong\n"
    "     WRONG KEY   intact and sealed, but by another key than --key's\n"
    "     MALFORMED   not an audit log (its first line is not a log_start)\n"
    "  3  INCOMPLETE  no seal: the program stopped (crash, kill, full disk) or the\n"
    "                 file was cut. Never reported as valid, never as tampering;\n"
    "                 without the seal nothing in the log is proven\n"
    "  4  PARTIAL     no seal, but intact and signed up to a checkpoint (a\n"
    "                 signed line written every few events or seconds):\n"
    "                 \"valid up to line L (checkpoint at TIME), then\n"
    "                 incomplete\". Lines 1 to L are proven, the rest is\n"
    "                 not; a line changed before the checkpoint is TAMPERED\n"
    "  2  usage: a bad option, or a LOG or key file that cannot be read\n"
    "With several logs the status is the worst: 1, else 2, else 3, else 4, else 0.\n";

#define VERSION "minions-audit " MS_VERSION " (audit log format 1)\n"

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(audit_usage, stderr);
        return MS_AUDIT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(audit_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        fputs(VERSION, stdout);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0) {
        return audit_cmd_verify(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "show") == 0) {
        return audit_cmd_show(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "key") == 0) {
        return audit_cmd_key(argc - 1, argv + 1);
    }
    return audit_usage_error("unknown command", cmd);
}
