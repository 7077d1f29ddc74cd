/* minions-audit's command line, shared by its commands: options, names shown, key files. */
#ifndef MS_APPS_MINIONS_AUDIT_CLI_H
#define MS_APPS_MINIONS_AUDIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secure/audit/alog.h"

/* The --help text (main.c). */
extern const char audit_usage[];

typedef struct audit_opts {
    const char *key_file;
    bool json;
    bool reference_json; /* show --format reference-json */
    char **logs;
    int n_logs;
} audit_opts;

/* A name from the command line, escaped for the terminal (at most cap bytes with its NUL). */
void audit_clean_name(const char *s, char *out, size_t cap);
/* Print "minions-audit: WHAT[: ARG]" and the --help hint; returns MS_AUDIT_EXIT_USAGE. */
int audit_usage_error(const char *what, const char *arg);
/* Options then LOGs (argv[0] is the command). Returns -1 when parsed, else an exit status. */
int audit_parse(int argc, char **argv, audit_opts *o);
/* o->key_file into pk: -1 when read, else the exit status after saying why. */
int audit_load_key(const audit_opts *o, uint8_t pk[static MS_ALOG_PK_LEN]);

/* The commands: argv[0] is the command's name; each returns the exit status. */
int audit_cmd_verify(int argc, char **argv);
int audit_cmd_show(int argc, char **argv);
int audit_cmd_key(int argc, char **argv);

#endif
