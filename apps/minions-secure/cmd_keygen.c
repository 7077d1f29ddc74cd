/* minions-secure keygen: a new client identity key and its allow-list line (FILE.pub). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmds.h"
#include "common/file.h"
#include "secure/attest/devkey.h"
#include "secure/idkey.h"

#define PROG "minions-secure keygen"

static const char USAGE[] =
    "Usage: minions-secure keygen [--comment TEXT] FILE\n"
    "\n"
    "Makes a client identity key: the Ed25519 private key in FILE (PEM, mode 0600)\n"
    "and its public line in FILE.pub ('ms-ed25519 KEY comment'). Neither file may\n"
    "exist: keygen never overwrites a key. Give FILE to the client (--identity FILE)\n"
    "and add the line of FILE.pub to the supervisor's --allowed-clients file, then\n"
    "send the supervisor SIGHUP. The line is also printed on standard output.\n"
    "\n"
    "  --comment TEXT   the comment after the key (default: user@host)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 written; 2 bad options, or FILE or FILE.pub exists or cannot be\n"
    "written.\n";

/* user@host, for people reading the allow-list. */
static void default_comment(char *out, size_t cap)
{
    char host[128] = "localhost";
    const struct passwd *pw = getpwuid(geteuid());
    if (gethostname(host, sizeof host) != 0) {
        snprintf(host, sizeof host, "localhost");
    }
    host[sizeof host - 1] = '\0';
    snprintf(out, cap, "%s@%s", pw && pw->pw_name ? pw->pw_name : "client", host);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Key, then .pub; a .pub that cannot be written takes the new key away again. */
static int write_pair(const char *path, const char *pub, const char *comment)
{
    ms_devkey k;
    ms_buf line;
    char fp[MS_FINGERPRINT_LEN];
    ms_buf_init(&line, 512);
    ms_err e = ms_idkey_line_encode((const uint8_t[MS_SIGN_PK_LEN]){0}, comment, &line);
    if (e != MS_OK) { /* the comment is checked before any file is made */
        fprintf(stderr, "%s: --comment: %s\n", PROG, ms_err_str(e));
        ms_buf_free(&line);
        return MS_CLI_USAGE;
    }
    ms_buf_clear(&line);
    e = ms_devkey_create(path, &k);
    if (e == MS_OK && (e = ms_idkey_line_encode(k.pk, comment, &line)) == MS_OK &&
        (e = ms_file_write_new(pub, line.p, line.len, 0644)) != MS_OK) {
        unlink(path);
    }
    if (e == MS_OK) {
        ms_devkey_fingerprint(k.pk, fp);
        fprintf(stderr, "%s: wrote %s (mode 0600) and %s\n  fingerprint %s\n", PROG, path, pub,
                fp);
        fwrite(line.p, 1, line.len, stdout);
    } else {
        fprintf(stderr, "%s: %s: %s\n", PROG, path, ms_err_str(e));
    }
    ms_devkey_wipe(&k);
    ms_buf_free(&line);
    return e == MS_OK ? MS_CLI_OK : MS_CLI_USAGE;
}

int ms_cmd_keygen(int argc, char **argv)
{
    static const struct option longs[] = {
        {"comment", 1, 0, 'c'}, {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'}, {0, 0, 0, 0}};
    const char *comment = NULL;
    char comment_buf[MS_MAX_IDKEY_COMMENT], pub[PATH_MAX];
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE, stdout);
            return MS_CLI_OK;
        }
        if (c == 'V') {
            fputs(MS_CLI_VERSION_LINE, stdout);
            return MS_CLI_OK;
        }
        if (c != 'c') {
            return ms_cli_bad_option(PROG, "invalid option", NULL, argv[optind - 1]);
        }
        comment = optarg;
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        fprintf(stderr, "%s: give one FILE for the new key. Try '%s --help'.\n", PROG, PROG);
        return MS_CLI_USAGE;
    }
    const char *path = argv[optind];
    if (snprintf(pub, sizeof pub, "%s.pub", path) >= (int)sizeof pub) {
        return ms_cli_bad_option(PROG, "path too long", NULL, path);
    }
    if (exists(path) || exists(pub)) {
        fprintf(stderr, "%s: %s: %s\n", PROG, exists(path) ? path : pub,
                ms_err_str(MS_ERR_IDKEY_EXISTS));
        return MS_CLI_USAGE;
    }
    if (!comment) {
        default_comment(comment_buf, sizeof comment_buf);
        comment = comment_buf;
    }
    return write_pair(path, pub, comment);
}
