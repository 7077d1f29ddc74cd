/* llm-sim: the command line (--help text, options into an llmsim_config). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/llm-sim/listen.h"
#include "tools/llm-sim/opts.h"

#define DEFAULT_MAX_CONNECTIONS 64u

static const char usage[] =
    "Usage: llm-sim [OPTIONS]\n"
    "A model-engine simulator for tests: speaks Ollama's /api/chat and the\n"
    "OpenAI-compatible /v1/chat/completions (whole and streamed), with replies from a\n"
    "script. No model runs.\n"
    "\n"
    "Options (--opt VALUE or --opt=VALUE):\n"
    "  --listen HOST:PORT    address to listen on; default 127.0.0.1:0 (a free port).\n"
    "                        HOST must be loopback: 127.x.y.z, localhost or [::1]\n"
    "  --port-file FILE      once listening, write the port and a newline to FILE\n"
    "                        (a temporary file renamed into place)\n"
    "  --script FILE         JSON reply script (below); without it every reply is\n"
    "                        \"" LLMSIM_DEFAULT_REPLY "\"\n"
    "  --latency-ms N        wait N ms before the first byte of every chat answer (0)\n"
    "  --tokens-per-sec R    stream R tokens per second, and delay whole replies by\n"
    "                        tokens / R seconds; 0 is unlimited (0)\n"
    "  --log FILE            append one JSON line per request received:\n"
    "                        {\"ts\",\"method\",\"path\",\"body\"} (body as JSON, or a\n"
    "                        string)\n"
    "  --model NAME          model reported when a request names none (" LLMSIM_DEFAULT_MODEL ")\n"
    "  --max-connections N   concurrent connections, 1 to 1024 (64)\n"
    "  --idle-timeout S      close a connection idle for S seconds, 1 to 86400 (120)\n"
    "  --help                this text\n"
    "  --version             the version\n"
    "\n"
    "Endpoints: POST /api/chat (stream defaults to true), GET /api/tags, GET\n"
    "/api/version, GET /; POST /v1/chat/completions (stream defaults to false), GET\n"
    "/v1/models, GET /health. Bodies over " LLMSIM_MAX_BODY_TEXT " get 413.\n"
    "\n"
    "Script: {\"rules\": [{\"role\": \"user\", \"contains\": \"...\", \"equals\": \"...\",\n"
    "  \"reply\": \"...\", \"status\": 500, \"delay_ms\": 0, \"stream_fail_after\": 3}, ...],\n"
    "  \"default\": \"reply when no rule matches\", \"models\": [\"extra-model-name\"]}\n"
    "Each rule is checked against the last message with its role (default user); the\n"
    "first match wins. \"status\" answers with that HTTP error; \"stream_fail_after\" N\n"
    "sends N tokens of a streamed reply and then drops the connection without the\n"
    "final event; \"finish_reason\": \"length\" sends the whole reply, said to be cut at\n"
    "the token limit.\n"
    "\n"
    "Exit status:\n"
    "  0  stopped by SIGTERM or SIGINT (or --help, --version)\n"
    "  1  cannot listen, start, or write the port file or the log\n"
    "  2  bad command line, or a listen address that is not loopback\n"
    "  3  the script file cannot be read or is invalid\n";

static int usage_error(const char *opt, const char *msg)
{
    fprintf(stderr, "llm-sim: %s: %s (see --help)\n", opt, msg);
    return LLMSIM_EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0' && *out <= max;
}

static bool printable_name(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return false;
        }
    }
    return n > 0 && n <= LLMSIM_MAX_MODEL;
}

/* One option with its value; LLMSIM_CONTINUE or an exit code. */
static int apply(llmsim_config *cfg, const char *opt, const char *val)
{
    unsigned long n;
    char why[LLMSIM_WHY_LEN];
    if (strcmp(opt, "--listen") == 0) {
        return llmsim_addr_parse(val, &cfg->listen, why, sizeof why) == MS_OK
                   ? LLMSIM_CONTINUE
                   : usage_error(opt, why);
    } else if (strcmp(opt, "--port-file") == 0) {
        cfg->port_file = val;
    } else if (strcmp(opt, "--script") == 0) {
        cfg->script_path = val;
    } else if (strcmp(opt, "--log") == 0) {
        cfg->log_path = val;
    } else if (strcmp(opt, "--model") == 0) {
        if (!printable_name(val)) {
            return usage_error(opt, "1 to 256 printable ASCII characters, no spaces");
        }
        cfg->model = val;
    } else if (strcmp(opt, "--latency-ms") == 0) {
        if (!parse_uint(val, LLMSIM_MAX_DELAY_MS, &n)) {
            return usage_error(opt, "a whole number of milliseconds up to 600000");
        }
        cfg->latency_ms = (uint32_t)n;
    } else if (strcmp(opt, "--max-connections") == 0) {
        if (!parse_uint(val, LLMSIM_MAX_CONNECTIONS, &n) || n == 0) {
            return usage_error(opt, "a whole number from 1 to 1024");
        }
        cfg->max_connections = (unsigned)n;
    } else if (strcmp(opt, "--idle-timeout") == 0) {
        if (!parse_uint(val, LLMSIM_MAX_IDLE_TIMEOUT_S, &n) || n == 0) {
            return usage_error(opt, "a whole number of seconds from 1 to 86400");
        }
        cfg->idle_timeout_s = (unsigned)n;
    } else if (strcmp(opt, "--tokens-per-sec") == 0) {
        char *end;
        errno = 0;
        double r = strtod(val, &end);
        if (errno != 0 || end == val || *end != '\0' || !isfinite(r) || r < 0.0 ||
            r > LLMSIM_MAX_TPS) {
            return usage_error(opt, "a number from 0 (unlimited) to 1000000");
        }
        cfg->tokens_per_sec = r;
    } else {
        return usage_error(opt, "unknown option");
    }
    return LLMSIM_CONTINUE;
}

int llmsim_parse_args(int argc, char **argv, llmsim_config *cfg)
{
    char why[LLMSIM_WHY_LEN];
    memset(cfg, 0, sizeof *cfg);
    cfg->model = LLMSIM_DEFAULT_MODEL;
    cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
    cfg->idle_timeout_s = LLMSIM_DEFAULT_IDLE_TIMEOUT_S;
    if (llmsim_addr_parse("127.0.0.1:0", &cfg->listen, why, sizeof why) != MS_OK) {
        return LLMSIM_EXIT_RUNTIME;
    }
    for (int i = 1; i < argc; i++) {
        char opt[64];
        const char *arg = argv[i], *eq = strchr(arg, '='), *val;
        if (strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return LLMSIM_EXIT_OK;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("llm-sim %s\n", LLMSIM_VERSION);
            return LLMSIM_EXIT_OK;
        }
        size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (strncmp(arg, "--", 2) != 0 || name_len >= sizeof opt) {
            return usage_error(arg, "not an option");
        }
        snprintf(opt, sizeof opt, "%.*s", (int)name_len, arg);
        if (eq != NULL) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return usage_error(opt, "needs a value");
        }
        int rc = apply(cfg, opt, val);
        if (rc != LLMSIM_CONTINUE) {
            return rc;
        }
    }
    return LLMSIM_CONTINUE;
}
