/* The session log of a minions-secure subcommand: key, file, and what the handshake proved. */
#include "apps/minions-secure/session_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/limits.h"
#include "secure/attest/policy.h"
#include "apps/minions-secure/cmds.h"
#include "secure/client/report.h"

int ms_slog_apply(ms_slog_opts *o, int opt, const char *arg)
{
    switch (opt - MS_SLOG_OPT_BASE) {
    case 0: o->file = arg; return arg[0] != '\0';
    case 1: o->dir = arg; return arg[0] != '\0';
    case 2: o->key_file = arg; return arg[0] != '\0';
    case 3: o->context = 1; return 1;
    case 4: o->off = 1; return 1;
    case 5:
        o->ck_events_set = 1;
        return ms_cli_parse_long(arg, 0, MS_MAX_LOG_CHECKPOINT_EVENTS, &o->ck_events);
    case 6:
        o->ck_secs_set = 1;
        return ms_cli_parse_long(arg, 0, MS_MAX_LOG_CHECKPOINT_S, &o->ck_secs);
    default: return -1;
    }
}

/* $XDG_STATE_HOME/minions-secure/logs, else $HOME/.local/state/minions-secure/logs. */
static ms_err default_dir(char out[static PATH_MAX])
{
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (x && x[0] == '/') {
        n = snprintf(out, PATH_MAX, "%s/minions-secure/logs", x);
    } else if (home && home[0] == '/') {
        n = snprintf(out, PATH_MAX, "%s/.local/state/minions-secure/logs", home);
    } else {
        return MS_ERR_CONFIG;
    }
    return n > 0 && n < PATH_MAX ? MS_OK : MS_ERR_CONFIG;
}

/* mkdir -p with mode 0700 for what it creates; an existing directory is left as it is. */
static ms_err make_dirs(const char *path)
{
    char p[PATH_MAX];
    struct stat st;
    ENSURE(snprintf(p, sizeof p, "%s", path) < (int)sizeof p, MS_ERR_CONFIG);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') {
            continue;
        }
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            return MS_ERR_FILE_OPEN;
        }
        ENSURE(stat(p, &st) == 0 && S_ISDIR(st.st_mode), MS_ERR_FILE_OPEN);
        *s = c;
        if (c == '\0') {
            return MS_OK;
        }
    }
}

/* log_start's "program": "minions-secure 0.2.0" (the version line without its note). */
static ms_err start_data(ms_json_builder **b)
{
    ms_json_wval root;
    const char *v = MS_CLI_VERSION_LINE;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, b, &root));
    const char *end = strstr(v, " (");
    ms_err e = ms_json_add_str(root, "program", v, end ? (size_t)(end - v) : strcspn(v, "\n"));
    if (e != MS_OK) {
        ms_json_builder_free(*b);
        *b = NULL;
    }
    return e;
}

static ms_err open_key(const ms_slog_opts *o, const char *prog, ms_alog_key *key)
{
    char path[PATH_MAX];
    bool created = false;
    ms_err e = MS_OK;
    if (o->key_file) {
        ENSURE(snprintf(path, sizeof path, "%s", o->key_file) < (int)sizeof path, MS_ERR_CONFIG);
    } else {
        e = ms_alog_default_key_path(path, sizeof path);
    }
    if (e == MS_OK) {
        e = ms_alog_key_load_or_create(path, key, &created);
    }
    if (e != MS_OK) {
        fprintf(stderr, "%s: the log key %s: %s (--log-key FILE names another; --no-log keeps no log)\n",
                prog, path[0] ? path : "(no default: set $HOME or --log-key)", ms_err_str(e));
        return e;
    }
    if (created) {
        fprintf(stderr, "%s: created the log key %s; %s.pub verifies this installation's logs\n",
                prog, path, path);
    }
    return MS_OK;
}

static ms_err log_path(ms_slog *s, const ms_slog_opts *o, const char *kind, const char *prog)
{
    char dir[PATH_MAX];
    ms_err e = MS_OK;
    if (o->file) {
        ENSURE(snprintf(s->path, sizeof s->path, "%s", o->file) < (int)sizeof s->path, MS_ERR_CONFIG);
        return MS_OK;
    }
    if (o->dir) {
        e = snprintf(dir, sizeof dir, "%s", o->dir) < (int)sizeof dir ? MS_OK : MS_ERR_CONFIG;
    } else {
        e = default_dir(dir);
        if (e == MS_OK) {
            e = make_dirs(dir);
        }
    }
    if (e == MS_OK) {
        e = ms_alog_new_path(dir, kind, s->path, sizeof s->path);
    }
    if (e != MS_OK) {
        fprintf(stderr, "%s: no directory for the session log (%s): %s (--log-dir DIR or --no-log)\n",
                prog, o->dir ? o->dir : "$XDG_STATE_HOME or $HOME", ms_err_str(e));
    }
    return e;
}

ms_err ms_slog_open(ms_slog *s, const ms_slog_opts *o, const char *kind, const char *prog)
{
    ms_alog_key key;
    ms_json_builder *start = NULL;
    memset(s, 0, sizeof *s);
    s->context = o->context != 0;
    if (o->off) {
        return MS_OK;
    }
    TRY(log_path(s, o, kind, prog));
    TRY(open_key(o, prog, &key));
    ms_err e = start_data(&start);
    if (e == MS_OK) {
        e = ms_alog_open(&s->log, s->path, &key, kind, start);
    }
    ms_alog_key_wipe(&key);
    ms_json_builder_free(start);
    if (e != MS_OK) {
        fprintf(stderr, "%s: cannot create the session log %s: %s%s\n", prog, s->path,
                ms_err_str(e),
                e == MS_ERR_FILE_OPEN ? " (the file must not exist yet; its directory must)" : "");
        s->log = NULL;
        return e;
    }
    e = ms_alog_set_checkpoints(
        s->log, o->ck_events_set ? (uint32_t)o->ck_events : MS_ALOG_CHECKPOINT_EVENTS,
        o->ck_secs_set ? (uint32_t)o->ck_secs : MS_ALOG_CHECKPOINT_S);
    if (e == MS_OK && !o->no_signal_guard) {
        e = ms_slog_guard_start(s, prog);
    }
    if (e != MS_OK) {
        fprintf(stderr, "%s: the session log %s: %s\n", prog, s->path, ms_err_str(e));
        ms_err ce = ms_alog_close(s->log); /* sealed: it holds only its log_start */
        (void)ce;
        s->log = NULL;
    }
    return e;
}

/* --- the session event -------------------------------------------------------------------- */

static ms_err add_hex(ms_json_wval o, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    size_t len;
    ENSURE(n <= 64, MS_ERR_ARG);
    TRY(ms_hex_encode(p, n, hex, sizeof hex, &len));
    return ms_json_add_str(o, key, hex, len);
}

/* What the accepted evidence proves, in a sentence (docs/attestation.md says it at length). */
static const char *proved(uint16_t type)
{
    switch (type) {
    case MS_EVIDENCE_DEV_KEY:
        return "the supervisor holds the pinned dev key (development mode: nothing about "
               "its host or software)";
    case MS_EVIDENCE_TPM2_QUOTE:
        return "a TPM 2.0 quote by the pinned attestation key over the policy's PCR values, "
               "bound to the supervisor's channel key";
    case MS_EVIDENCE_SEV_SNP:
        return "an AMD SEV-SNP report from a chip certified by the pinned AMD root, with the "
               "policy's launch measurement, bound to the supervisor's channel key";
    default: return "evidence accepted by the policy";
    }
}

static ms_err add_policy(ms_json_wval root, const ms_cli_conn *c)
{
    ms_json_wval pol, acc;
    TRY(ms_json_add_obj(root, "policy", &pol));
    if (c->policy_file) {
        TRY(ms_json_add_cstr(pol, "file", c->policy_file));
    } else {
        TRY(ms_json_add_null(pol, "file"));
    }
    TRY(ms_json_add_arr(pol, "accept", &acc));
    for (size_t i = 0; i < c->policy.n_accept; i++) {
        TRY(ms_json_add_cstr(acc, NULL, ms_evidence_type_name(c->policy.accept[i])));
    }
    return ms_json_add_bool(pol, "require_strict", c->policy.require_strict || c->strict);
}

static ms_err add_peer(ms_json_wval root, const ms_client_peer *p)
{
    TRY(ms_json_add_cstr(root, "session_id", p->session_hex));
    TRY(ms_json_add_cstr(root, "evidence_type", ms_evidence_type_name(p->evidence_type)));
    TRY(ms_json_add_cstr(root, "evidence_mode", ms_client_mode_name(p->evidence_mode)));
    TRY(ms_json_add_u64(root, "evidence_not_after", p->evidence_not_after));
    TRY(add_hex(root, "evidence_sha256", p->evidence_sha256, sizeof p->evidence_sha256));
    TRY(add_hex(root, "transcript_hash", p->transcript_hash, sizeof p->transcript_hash));
    TRY(ms_json_add_cstr(root, "tls", ms_client_tls_name(p->tls)));
    TRY(add_hex(root, "tls_spki_sha256", p->tls_spki_hash, sizeof p->tls_spki_hash));
    if (p->dev_key_fp[0]) {
        TRY(ms_json_add_cstr(root, "dev_key_fp", p->dev_key_fp));
    } else {
        TRY(ms_json_add_null(root, "dev_key_fp"));
    }
    return MS_OK;
}

static ms_err session_fields(ms_json_wval root, const ms_cli_conn *c, const ms_client_peer *p,
                             double handshake_s, ms_err failure)
{
    bool ok = failure == MS_OK && p && p->connected;
    TRY(ms_json_add_cstr(root, "supervisor_url", c->url ? c->url : ""));
    if (ok) {
        TRY(add_peer(root, p));
    }
    TRY(add_policy(root, c));
    TRY(ms_json_add_bool(root, "ok", ok));
    TRY(ms_json_add_cstr(root, "proved", ok ? proved(p->evidence_type) : "nothing: the handshake failed"));
    if (!ok) {
        TRY(ms_json_add_cstr(root, "error", ms_err_name(failure)));
    }
    return ms_json_add_double(root, "handshake_s", handshake_s >= 0 ? handshake_s : 0);
}

ms_err ms_slog_session(ms_slog *s, const ms_cli_conn *c, const ms_client_peer *p,
                       double handshake_s, ms_err failure)
{
    ms_json_builder *b;
    ms_json_wval root;
    if (!s->log) {
        return MS_OK;
    }
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err e = session_fields(root, c, p, handshake_s, failure);
    if (e == MS_OK) {
        e = ms_alog_event(s->log, "session", b);
    }
    ms_json_builder_free(b);
    return e;
}

ms_err ms_slog_event(ms_slog *s, const char *type, const ms_json_builder *data)
{
    return s->log ? ms_alog_event(s->log, type, data) : MS_OK;
}

static ms_err sink_event(void *ctx, const char *type, const ms_json_builder *data)
{
    return ms_slog_event(ctx, type, data);
}

ms_proto_sink ms_slog_sink(ms_slog *s)
{
    return (ms_proto_sink){.event = s && s->log ? sink_event : NULL, .ctx = s};
}

ms_err ms_slog_close(ms_slog *s, const char *prog, bool quiet)
{
    if (!s->log) {
        return MS_OK;
    }
    /* Sealed before the guard goes: a signal from here on finds the log sealed already. */
    ms_err e = ms_alog_seal(s->log);
    ms_slog_guard_stop(s);
    ms_err ce = ms_alog_close(s->log); /* frees; the seal's result again */
    e = e != MS_OK ? e : ce;
    s->log = NULL;
    if (e != MS_OK) {
        fprintf(stderr, "%s: the session log %s could not be sealed: %s (a verifier will call it "
                        "incomplete)\n",
                prog, s->path, ms_err_str(e));
    } else if (!quiet) {
        fprintf(stderr, "%s: session log: %s\n", prog, s->path);
    }
    return e;
}
