/* Tests for audit logs: writer, log key, verifier (flip every byte, cut at every offset, ...). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/audit/alog.h"
#include "secure/audit/alog_fmt.h"
#include "tests/test.h"

static char tmp_root[PATH_MAX];
static ms_alog_key key_a, key_b;

/* --- helpers ----------------------------------------------------------------------------- */

static void path_in(char out[static PATH_MAX], const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", tmp_root, name);
    if (n <= 0 || n >= PATH_MAX) {
        abort();
    }
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char sub[PATH_MAX];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub) {
                remove_tree(sub);
            }
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void read_all(const char *path, ms_buf *out)
{
    ms_buf_init(out, MS_ALOG_MAX_FILE);
    if (ms_file_read(path, MS_ALOG_MAX_FILE, out) != MS_OK || ms_buf_terminate(out) != MS_OK) {
        fprintf(stderr, "cannot read %s\n", path);
        abort();
    }
}

static ms_alog_verdict verify(const uint8_t *p, size_t n, const uint8_t *pk, ms_alog_report *r)
{
    CHECK_OK(ms_alog_verify(p, n, pk, r));
    return r->verdict;
}

/* 1-based number of the line holding byte `off` (a '\n' belongs to the line it ends). */
static uint64_t line_at(const uint8_t *p, size_t off)
{
    uint64_t line = 1;
    for (size_t i = 0; i < off; i++) {
        line += p[i] == '\n';
    }
    return line;
}

/* Byte offset where 1-based line `line` starts. */
static size_t line_start(const uint8_t *p, size_t n, uint64_t line)
{
    size_t off = 0;
    for (uint64_t l = 1; l < line && off < n; off++) {
        l += p[off] == '\n';
    }
    return off;
}

/* An event {"round":r,"text":TEXT} */
static void event(ms_alog *l, const char *type, int round, const char *text)
{
    ms_json_builder *b;
    ms_json_wval root;
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_i64(root, "round", round));
    CHECK_OK(ms_json_add_cstr(root, "text", text));
    CHECK_OK(ms_alog_event(l, type, b));
    ms_json_builder_free(b);
}

/* A sealed log of log_start, n events and the seal, at tmp_root/name. */
static void small_log(const char *name, const ms_alog_key *k, int n, char path[static PATH_MAX])
{
    ms_alog *l;
    path_in(path, name);
    CHECK_OK(ms_alog_open(&l, path, k, "minion", NULL));
    for (int i = 0; i < n; i++) {
        event(l, i % 2 ? "worker_turn" : "supervisor_turn", i / 2 + 1, "caf\xc3\xa9 \"q\"");
    }
    CHECK_OK(ms_alog_close(l));
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_key_files(void)
{
    char dir[PATH_MAX], path[PATH_MAX], pub[PATH_MAX];
    ms_alog_key k, again;
    bool created = false;
    struct stat st;
    path_in(dir, "cfg/minions-secure");
    path_in(path, "cfg/minions-secure/log-key");
    path_in(pub, "cfg/minions-secure/log-key.pub");
    CHECK_OK(ms_alog_key_load_or_create(path, &k, &created));
    CHECK(created);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    uint8_t pk[MS_SIGN_PK_LEN];
    CHECK_OK(ms_devkey_read_public(pub, pk));
    CHECK_MEM(pk, k.pk, sizeof pk);
    /* loading again gives the same key, and does not create */
    CHECK_OK(ms_alog_key_load_or_create(path, &again, &created));
    CHECK(!created);
    CHECK_MEM(again.pk, k.pk, sizeof k.pk);
    CHECK_MEM(again.sk, k.sk, sizeof k.sk);
    ms_alog_key_wipe(&again);
    /* a missing .pub is written again */
    CHECK(unlink(pub) == 0);
    CHECK_OK(ms_alog_key_load_or_create(path, &again, &created));
    CHECK_OK(ms_devkey_read_public(pub, pk));
    CHECK_MEM(pk, k.pk, sizeof pk);
    ms_alog_key_wipe(&again);
    /* a key others may read is refused, and nothing is handed out */
    CHECK(chmod(path, 0644) == 0);
    CHECK_ERR(ms_alog_key_load_or_create(path, &again, &created), MS_ERR_FILE_PERMS);
    static const uint8_t zero[MS_ALOG_SK_LEN];
    CHECK_MEM(again.sk, zero, sizeof zero);
    CHECK(chmod(path, 0400) == 0);
    CHECK_OK(ms_alog_key_load_or_create(path, &again, &created));
    ms_alog_key_wipe(&again);
    /* a file that is not a key */
    char junk[PATH_MAX];
    path_in(junk, "cfg/junk-key");
    int fd = open(junk, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0 && write(fd, "not a key\n", 10) == 10);
    close(fd);
    CHECK_ERR(ms_alog_key_load_or_create(junk, &again, &created), MS_ERR_FILE_FORMAT);
    ms_alog_key_wipe(&k);
}

static void test_default_path(void)
{
    char out[PATH_MAX], small[8];
    CHECK(setenv("MINIONS_LOG_KEY", "/k/log-key", 1) == 0);
    CHECK_OK(ms_alog_default_key_path(out, sizeof out));
    CHECK(strcmp(out, "/k/log-key") == 0);
    CHECK_ERR(ms_alog_default_key_path(small, sizeof small), MS_ERR_OUT_SPACE);
    CHECK(unsetenv("MINIONS_LOG_KEY") == 0);
    CHECK(setenv("XDG_CONFIG_HOME", "/x", 1) == 0);
    CHECK_OK(ms_alog_default_key_path(out, sizeof out));
    CHECK(strcmp(out, "/x/minions-secure/log-key") == 0);
    CHECK(setenv("XDG_CONFIG_HOME", "relative", 1) == 0); /* XDG: must be absolute */
    CHECK(setenv("HOME", "/h", 1) == 0);
    CHECK_OK(ms_alog_default_key_path(out, sizeof out));
    CHECK(strcmp(out, "/h/.config/minions-secure/log-key") == 0);
    CHECK(unsetenv("XDG_CONFIG_HOME") == 0);
    CHECK(unsetenv("HOME") == 0);
    CHECK_ERR(ms_alog_default_key_path(out, sizeof out), MS_ERR_CONFIG);
}

static void test_write_verify(void)
{
    char path[PATH_MAX];
    ms_alog *l;
    ms_json_builder *sd;
    ms_json_wval root;
    ms_buf text;
    ms_alog_report r;
    path_in(path, "valid.log");
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &sd, &root));
    CHECK_OK(ms_json_add_cstr(root, "program", "test_alog 1"));
    CHECK_OK(ms_json_add_cstr(root, "listen", "127.0.0.1:1"));
    CHECK_OK(ms_alog_open(&l, path, &key_a, "supervisor", sd));
    ms_json_builder_free(sd);
    CHECK(strcmp(ms_alog_path(l), path) == 0);
    event(l, "session_end", 1, "x");
    CHECK_OK(ms_alog_event(l, "supervisor_stop", NULL));
    static const char j[] = " { \"sessions_total\" : 1 , \"n\": [1, 2.5, null, true] } ";
    CHECK_OK(ms_alog_event_json(l, "chat_command", j, sizeof j - 1));
    char head[65];
    ms_alog_head(l, head);
    CHECK(strlen(head) == 64);
    CHECK_OK(ms_alog_close(l));

    read_all(path, &text);
    CHECK(verify(text.p, text.len, NULL, &r) == MS_ALOG_VALID);
    CHECK(r.events == 5 && r.bad_line == 0);
    CHECK(strcmp(r.kind, "supervisor") == 0 && strlen(r.log_id) == 32);
    CHECK_MEM(r.key, key_a.pk, MS_ALOG_PK_LEN);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID);
    /* the head before the seal is the seal's prev */
    CHECK(strstr((const char *)text.p, head) != NULL);
    /* exact shape of the lines */
    CHECK(strncmp((const char *)text.p, "{\"v\":1,\"seq\":0,\"ts\":\"", 21) == 0);
    CHECK(strstr((const char *)text.p, "\"type\":\"log_start\",\"prev\":\"0000000000000000") != NULL);
    CHECK(strstr((const char *)text.p, "\"data\":{\"kind\":\"supervisor\",\"log_id\":\"") != NULL);
    CHECK(strstr((const char *)text.p, "\"program\":\"test_alog 1\",\"started\":\"") != NULL);
    CHECK(strstr((const char *)text.p, "\"listen\":\"127.0.0.1:1\"}}\n") != NULL);
    CHECK(strstr((const char *)text.p, "\"data\":{\"sessions_total\":1,\"n\":[1,2.5,null,true]}}") != NULL);
    CHECK(strstr((const char *)text.p, "\"type\":\"log_seal\"") != NULL);
    CHECK(text.p[text.len - 1] == '\n');
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    ms_buf_free(&text);
}

static void test_writer_refusals(void)
{
    char path[PATH_MAX], path2[PATH_MAX];
    ms_alog *l = NULL;
    ms_json_builder *b;
    ms_json_wval root, arr;
    ms_alog_report r;
    ms_buf text;
    path_in(path, "refuse.log");
    CHECK_ERR(ms_alog_open(&l, path, &key_a, "novel", NULL), MS_ERR_ARG);
    CHECK(l == NULL && access(path, F_OK) != 0);
    /* start data may not repeat the writer's own members: no file is left */
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_cstr(root, "kind", "chat"));
    CHECK_ERR(ms_alog_open(&l, path, &key_a, "chat", b), MS_ERR_ARG);
    CHECK(access(path, F_OK) != 0);
    ms_json_builder_free(b);

    CHECK_OK(ms_alog_open(&l, path, &key_a, "chat", NULL));
    path_in(path2, "refuse.log");
    ms_alog *l2 = NULL;
    CHECK_ERR(ms_alog_open(&l2, path2, &key_a, "chat", NULL), MS_ERR_FILE_OPEN); /* O_EXCL */
    CHECK_ERR(ms_alog_event(l, "Bad", NULL), MS_ERR_ARG);
    CHECK_ERR(ms_alog_event(l, "", NULL), MS_ERR_ARG);
    CHECK_ERR(ms_alog_event(l, "log_seal", NULL), MS_ERR_ARG);
    CHECK_ERR(ms_alog_event(l, "log_start", NULL), MS_ERR_ARG);
    CHECK_ERR(ms_alog_event(l, "log_note", NULL), MS_ERR_ARG); /* "log_" is reserved */
    CHECK_ERR(ms_alog_event(l, "a_type_that_is_longer_than_32_chr", NULL), MS_ERR_ARG);
    CHECK_OK(ms_alog_event(l, "a_type_of_exactly_thirtytwo_char", NULL));
    CHECK_OK(ms_json_builder_new(MS_JSON_ARRAY, &b, &arr));
    CHECK_ERR(ms_alog_event(l, "chat_turn", b), MS_ERR_ARG);
    ms_json_builder_free(b);
    CHECK_ERR(ms_alog_event_json(l, "chat_turn", "[1]", 3), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_alog_event_json(l, "chat_turn", "{\"a\":1,\"a\":2}", 13), MS_ERR_JSON_PARSE);
    /* an event over the line cap is refused and the log goes on */
    char *big = malloc(MS_ALOG_MAX_LINE);
    CHECK(big != NULL);
    memset(big, 'x', MS_ALOG_MAX_LINE);
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_str(root, "text", big, MS_ALOG_MAX_LINE - 100));
    CHECK_ERR(ms_alog_event(l, "chat_turn", b), MS_ERR_CAP_EXCEEDED);
    ms_json_builder_free(b);
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_str(root, "text", big, MS_ALOG_MAX_LINE - 200)); /* fits */
    CHECK_OK(ms_alog_event(l, "chat_turn", b));
    ms_json_builder_free(b);
    free(big);
    event(l, "chat_turn", 1, "after the refusals");
    CHECK_OK(ms_alog_close(l));
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID);
    CHECK(r.events == 5);
    ms_buf_free(&text);
    CHECK_OK(ms_alog_close(NULL));
    ms_alog_abandon(NULL);
}

/*
 * Whether a loop over every offset of a log runs `off`: test_sampled (tests/quick.h) with the
 * log's line ends ('\n') and its last byte as the edges, and every 5th offset, so that each
 * line is still changed or cut at its edges in quick mode. The line ends near off suffice.
 */
static int offset_sampled(const ms_buf *t, size_t off)
{
    size_t edges[4], n = 0;
    for (size_t k = off > 0 ? off - 1 : 0; k <= off + 1 && k < t->len; k++) {
        if (t->p[k] == '\n') {
            edges[n++] = k;
        }
    }
    edges[n++] = t->len > 0 ? t->len - 1 : 0;
    return test_sampled(off, edges, n, 5);
}

/* Every byte changed, two ways: never valid, and the reported line is the changed line. */
static void test_flip_every_byte(void)
{
    char path[PATH_MAX];
    ms_buf text;
    small_log("flip.log", &key_a, 3, path);
    read_all(path, &text);
    uint8_t *copy = malloc(text.len);
    size_t seal_type = (size_t)((const uint8_t *)strstr((const char *)text.p, "\"log_seal\"") + 1 - text.p);
    static const uint8_t masks[] = {0x01, 0x20, 0x80};
    int wrong_line = 0, valid = 0;
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t off = 0; off < text.len; off++) {
            if (!offset_sampled(&text, off)) {
                continue; /* quick mode */
            }
            ms_alog_report r;
            memcpy(copy, text.p, text.len);
            copy[off] ^= masks[m];
            ms_alog_verdict v = verify(copy, text.len, key_a.pk, &r);
            valid += v == MS_ALOG_VALID;
            if (r.bad_line != line_at(text.p, off)) {
                if (wrong_line++ < 5) {
                    fprintf(stderr, "flip ^%02x at %zu (line %llu): %s at line %llu: %s\n",
                            masks[m], off, (unsigned long long)line_at(text.p, off),
                            ms_alog_verdict_name(v), (unsigned long long)r.bad_line, r.why);
                }
            }
            /* a flip is never taken for a crash, except the last '\n' (then it is a cut) */
            if (off >= seal_type && off < seal_type + 8) {
                /* "log_seal" edited into another event type ("mog_seal"): a log without
                 * a seal, as if cut there; the "log_" prefix is reserved, so "log_seam" is
                 * an edit */
                CHECK(v == MS_ALOG_INCOMPLETE || v == MS_ALOG_TAMPERED);
            } else if (off + 1 < text.len) {
                CHECK(v == MS_ALOG_TAMPERED || v == MS_ALOG_MALFORMED);
            } else {
                CHECK(v == MS_ALOG_INCOMPLETE);
            }
        }
    }
    CHECK(valid == 0);
    CHECK(wrong_line == 0);
    free(copy);
    ms_buf_free(&text);
}

/* Cut at every offset: incomplete (or, inside line 1, incomplete too), never valid or tampered. */
static void test_truncate_every_offset(void)
{
    char path[PATH_MAX];
    ms_buf text;
    small_log("cut.log", &key_a, 3, path);
    read_all(path, &text);
    int bad = 0;
    for (size_t n = 0; n < text.len; n++) {
        if (!offset_sampled(&text, n)) {
            continue; /* quick mode */
        }
        ms_alog_report r;
        ms_alog_verdict v = verify(text.p, n, key_a.pk, &r);
        /* cut inside line L: line L; cut right after line L's '\n': L is the last line */
        uint64_t want = n == 0 ? 1 : (text.p[n - 1] == '\n' ? line_at(text.p, n) - 1 : line_at(text.p, n));
        if (v != MS_ALOG_INCOMPLETE || r.bad_line != want) {
            if (bad++ < 5) {
                fprintf(stderr, "cut at %zu: %s at line %llu (want %llu): %s\n", n,
                        ms_alog_verdict_name(v), (unsigned long long)r.bad_line,
                        (unsigned long long)want, r.why);
            }
        }
    }
    CHECK(bad == 0);
    ms_alog_report r;
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID);
    ms_buf_free(&text);
}

/* Build a variant of `text` from its lines in the order given (1-based; 0 ends the list). */
static size_t reorder(const ms_buf *text, const int *order, uint8_t *out)
{
    size_t o = 0;
    for (int i = 0; order[i] != 0; i++) {
        size_t s = line_start(text->p, text->len, (uint64_t)order[i]);
        size_t e = line_start(text->p, text->len, (uint64_t)order[i] + 1);
        memcpy(out + o, text->p + s, e - s);
        o += e - s;
    }
    return o;
}

static void test_delete_swap_append(void)
{
    char path[PATH_MAX];
    ms_buf text;
    ms_alog_report r;
    small_log("edit.log", &key_a, 4, path); /* 6 lines: start, 4 events, seal */
    read_all(path, &text);
    uint8_t *buf = malloc(text.len * 2 + 64);
    static const int del[] = {1, 2, 4, 5, 6, 0};
    size_t n = reorder(&text, del, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 3);
    CHECK(strstr(r.why, "line 3 has seq 3, expected 2") != NULL);
    static const int swap[] = {1, 2, 4, 3, 5, 6, 0};
    n = reorder(&text, swap, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 3);
    static const int dup[] = {1, 2, 3, 3, 4, 5, 6, 0};
    n = reorder(&text, dup, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 4);
    static const int no_seal[] = {1, 2, 3, 4, 5, 0};
    n = reorder(&text, no_seal, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_INCOMPLETE && r.bad_line == 5);
    static const int seal_early[] = {1, 2, 3, 4, 6, 0};
    n = reorder(&text, seal_early, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 5);
    static const int no_start[] = {2, 3, 4, 5, 6, 0};
    n = reorder(&text, no_start, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_MALFORMED && r.bad_line == 1);
    /* lines after the seal: a copy of a line, a whole other log's line, or bytes without '\n' */
    static const int again[] = {1, 2, 3, 4, 5, 6, 5, 0};
    n = reorder(&text, again, buf);
    CHECK(verify(buf, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 7);
    CHECK(strstr(r.why, "follows the seal") != NULL);
    memcpy(buf, text.p, text.len);
    memcpy(buf + text.len, "x", 1);
    CHECK(verify(buf, text.len + 1, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 7);
    /* a chain edit with the seq kept: the message of the brief */
    memcpy(buf, text.p, text.len);
    size_t s3 = line_start(text.p, text.len, 3);
    uint8_t *t = (uint8_t *)strstr((char *)buf + s3, "\"text\":\"caf");
    CHECK(t != NULL);
    t[8] = 'C';
    CHECK(verify(buf, text.len, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 3);
    CHECK(strcmp(r.why, "line 3 does not hash to line 4's prev: line 3 was changed, or a line "
                        "between 3 and 4 was removed or inserted") == 0);
    /* the seal's own line is canonical: one added space is an edit */
    size_t s6 = line_start(text.p, text.len, 6);
    memcpy(buf, text.p, s6 + 1);
    buf[s6 + 1] = ' ';
    memcpy(buf + s6 + 2, text.p + s6 + 1, text.len - s6 - 1);
    CHECK(verify(buf, text.len + 1, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 6);
    free(buf);
    ms_buf_free(&text);
}

static void test_wrong_key(void)
{
    char path[PATH_MAX];
    ms_buf text;
    ms_alog_report r;
    small_log("keyb.log", &key_b, 2, path);
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_WRONG_KEY);
    CHECK(r.bad_line == 4 && strstr(r.why, "not by the expected key sha256:") != NULL);
    CHECK(verify(text.p, text.len, key_b.pk, &r) == MS_ALOG_VALID);
    CHECK(verify(text.p, text.len, NULL, &r) == MS_ALOG_VALID);
    CHECK_MEM(r.key, key_b.pk, MS_ALOG_PK_LEN);
    ms_buf_free(&text);
}

/* A crash: the log is left unsealed. */
static void test_abandon(void)
{
    char path[PATH_MAX];
    ms_alog *l;
    ms_buf text;
    ms_alog_report r;
    path_in(path, "crash.log");
    CHECK_OK(ms_alog_open(&l, path, &key_a, "minions", NULL));
    event(l, "jobs", 1, "200 jobs");
    ms_alog_abandon(l);
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_INCOMPLETE);
    CHECK(r.bad_line == 2 && r.events == 2 && strstr(r.why, "no seal") != NULL);
    ms_buf_free(&text);
}

struct thread_arg {
    ms_alog *l;
    int id;
    int failures;
};

static void *writer_thread(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < 200; i++) {
        ms_json_builder *b;
        ms_json_wval root;
        if (ms_json_builder_new(MS_JSON_OBJECT, &b, &root) != MS_OK ||
            ms_json_add_i64(root, "thread", a->id) != MS_OK ||
            ms_json_add_i64(root, "i", i) != MS_OK || ms_alog_event(a->l, "jobs", b) != MS_OK) {
            a->failures++;
        }
        ms_json_builder_free(b);
    }
    return NULL;
}

static void test_threads(void)
{
    char path[PATH_MAX];
    ms_alog *l;
    ms_buf text;
    ms_alog_report r;
    pthread_t th[8];
    struct thread_arg args[8];
    path_in(path, "threads.log");
    CHECK_OK(ms_alog_open(&l, path, &key_a, "minions", NULL));
    for (int i = 0; i < 8; i++) {
        args[i] = (struct thread_arg){.l = l, .id = i};
        CHECK(pthread_create(&th[i], NULL, writer_thread, &args[i]) == 0);
    }
    for (int i = 0; i < 8; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK(args[i].failures == 0);
    }
    CHECK_OK(ms_alog_close(l));
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID);
    CHECK(r.events == 1 + 8 * 200 + 1);
    ms_buf_free(&text);
}

/* Neither the secret key nor its seed appears in a log, raw, in hex or in base64. */
static void test_no_secret_in_log(void)
{
    char path[PATH_MAX];
    ms_buf text;
    small_log("secret.log", &key_a, 2, path);
    read_all(path, &text);
    char hex[MS_HEX_BUF_LEN(MS_ALOG_SK_LEN)], b64[MS_BASE64_BUF_LEN(32)];
    size_t n;
    CHECK_OK(ms_hex_encode(key_a.sk, 32, hex, sizeof hex, &n));
    CHECK(strstr((const char *)text.p, hex) == NULL);
    CHECK_OK(ms_hex_encode(key_a.sk, 8, hex, sizeof hex, &n)); /* even a part of it */
    CHECK(strstr((const char *)text.p, hex) == NULL);
    CHECK_OK(ms_base64_encode(key_a.sk, 30, b64, sizeof b64, &n));
    CHECK(strstr((const char *)text.p, b64) == NULL);
    int raw = 0;
    for (size_t i = 0; i + 16 <= text.len; i++) {
        raw += memcmp(text.p + i, key_a.sk, 16) == 0;
    }
    CHECK(raw == 0);
    /* and the public key does, so a verifier can find it */
    CHECK_OK(ms_hex_encode(key_a.pk, 32, hex, sizeof hex, &n));
    CHECK(strstr((const char *)text.p, hex) != NULL);
    ms_buf_free(&text);
}

/*
 * Six members with another name, or the right names in another order: an edited line. The
 * line is the last of a log cut before its seal, so no later line's prev shows the edit:
 * only the member rule tells it from a crash.
 */
static void test_member_names_and_order(void)
{
    char path[PATH_MAX];
    ms_buf text;
    small_log("members.log", &key_a, 2, path);
    read_all(path, &text);
    size_t cut = line_start(text.p, text.len, 3); /* log_start and one event */
    char *line2 = (char *)text.p + line_start(text.p, text.len, 2);
    ms_alog_report r;
    CHECK(verify(text.p, cut, key_a.pk, &r) == MS_ALOG_INCOMPLETE);
    static const char head[] = "{\"v\":1,\"seq\":";
    CHECK(strncmp(line2, head, sizeof head - 1) == 0);
    char *ts = strstr(line2, ",\"ts\":");
    CHECK(ts != NULL);
    /* "ts" renamed "tz": six members, one of them not the format's */
    ts[3] = 'z';
    CHECK(verify(text.p, cut, key_a.pk, &r) == MS_ALOG_TAMPERED);
    CHECK(r.bad_line == 2 && strstr(r.why, "does not have exactly the members") != NULL);
    ts[3] = 's';
    /* {"v":1,"seq":N, ... -> {"seq":N,"v":1, ... (the same bytes count, the same members) */
    char *comma = strchr(line2 + sizeof head - 1, ',');
    CHECK(comma != NULL);
    size_t nlen = (size_t)(comma - (line2 + sizeof head - 1));
    char seq[32], swapped[64];
    CHECK(nlen < sizeof seq);
    memcpy(seq, line2 + sizeof head - 1, nlen);
    int w = snprintf(swapped, sizeof swapped, "{\"seq\":%.*s,\"v\":1,", (int)nlen, seq);
    CHECK(w > 0 && (size_t)w == (size_t)(comma + 1 - line2));
    memcpy(line2, swapped, (size_t)w);
    CHECK(verify(text.p, cut, key_a.pk, &r) == MS_ALOG_TAMPERED);
    CHECK(r.bad_line == 2 && strstr(r.why, "does not have exactly the members") != NULL);
    ms_buf_free(&text);
}

/*
 * Each field rule on the last line of a log cut before its seal, where no later prev can show
 * the edit: every bad value is an edit, named by the rule it breaks (never a crash).
 */
static void test_last_line_fields(void)
{
    static const struct {
        const char *from, *to, *why;
    } edits[] = {
        {"{\"v\":1,", "{\"v\":2,", "has a v other than 1"},
        {",\"seq\":1,", ",\"seq\":-1,", "has a seq that is not"},
        {",\"ts\":\"", ",\"ts\":\"x", "has a ts that is not"},
        {",\"type\":\"", ",\"type\":\"X", "has a type that is not"},
        {",\"prev\":\"", ",\"prev\":\"0", "has a prev that is not"},
        {",\"data\":{", ",\"data\":[{", "has a data member that is not an object"},
        {"{\"v\":1,", "{\"v\":1,,", "is not valid JSON"},
    };
    char path[PATH_MAX];
    ms_buf text;
    small_log("fields.log", &key_a, 2, path);
    read_all(path, &text);
    size_t l2 = line_start(text.p, text.len, 2), l3 = line_start(text.p, text.len, 3);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        /* line 1, then line 2 with one edit (and "]" after data's object when it became an array) */
        char *line = malloc(l3 - l2 + 8);
        memcpy(line, text.p + l2, l3 - l2);
        line[l3 - l2] = 0;
        char *at = strstr(line, edits[i].from);
        CHECK(at != NULL);
        ms_buf log;
        ms_buf_init(&log, MS_ALOG_MAX_FILE);
        CHECK_OK(ms_buf_append(&log, text.p, l2));
        CHECK_OK(ms_buf_append(&log, line, (size_t)(at - line)));
        CHECK_OK(ms_buf_append(&log, edits[i].to, strlen(edits[i].to)));
        const char *tail = at + strlen(edits[i].from);
        if (strstr(edits[i].to, "[{") != NULL) {
            size_t tl = strlen(tail); /* ...}}\n -> ...}]}\n */
            CHECK(tl >= 3 && strcmp(tail + tl - 3, "}}\n") == 0);
            CHECK_OK(ms_buf_append(&log, tail, tl - 2));
            CHECK_OK(ms_buf_append(&log, "]}\n", 3));
        } else {
            CHECK_OK(ms_buf_append(&log, tail, strlen(tail)));
        }
        ms_alog_report r;
        ms_alog_verdict v = verify(log.p, log.len, key_a.pk, &r);
        if (v != MS_ALOG_TAMPERED || r.bad_line != 2 || strstr(r.why, edits[i].why) == NULL) {
            fprintf(stderr, "edit %zu: %s at line %llu: %s\n", i, ms_alog_verdict_name(v),
                    (unsigned long long)r.bad_line, r.why);
        }
        CHECK(v == MS_ALOG_TAMPERED && r.bad_line == 2 && strstr(r.why, edits[i].why) != NULL);
        ms_buf_free(&log);
        free(line);
    }
    ms_buf_free(&text);
}

static void test_verify_oddities(void)
{
    ms_alog_report r;
    CHECK(verify(NULL, 0, NULL, &r) == MS_ALOG_INCOMPLETE && r.bad_line == 1);
    static const char junk[] = "hello world\n";
    CHECK(verify((const uint8_t *)junk, sizeof junk - 1, NULL, &r) == MS_ALOG_MALFORMED);
    CHECK(verify((const uint8_t *)junk, 5, NULL, &r) == MS_ALOG_MALFORMED); /* no '\n' */
    static const char start_cut[] = "{\"v\":1,\"seq\"";
    CHECK(verify((const uint8_t *)start_cut, sizeof start_cut - 1, NULL, &r) == MS_ALOG_INCOMPLETE);
    static const char arr[] = "[1,2]\n";
    CHECK(verify((const uint8_t *)arr, sizeof arr - 1, NULL, &r) == MS_ALOG_MALFORMED);
    CHECK(strstr(r.why, "line 1 does not have exactly the members") != NULL);
    /* a line over the cap */
    uint8_t *big = malloc(MS_ALOG_MAX_LINE + 10u);
    memset(big, ' ', MS_ALOG_MAX_LINE + 10u);
    CHECK(verify(big, MS_ALOG_MAX_LINE + 10u, NULL, &r) == MS_ALOG_MALFORMED);
    CHECK(strstr(r.why, "longer than") != NULL);
    free(big);
    CHECK(verify((const uint8_t *)"x", (size_t)MS_ALOG_MAX_FILE + 1u, NULL, &r) == MS_ALOG_MALFORMED);
    CHECK_ERR(ms_alog_verify(NULL, 3, NULL, &r), MS_ERR_ARG);
    CHECK(r.verdict != MS_ALOG_VALID); /* a caller that looks only at the verdict fails closed */
    CHECK(strcmp(ms_alog_verdict_name(MS_ALOG_WRONG_KEY), "wrong_key") == 0);
    CHECK(strcmp(ms_alog_verdict_name((ms_alog_verdict)99), "unknown") == 0);
}

static void test_ts(void)
{
    int64_t ms;
    CHECK(ms_alog_ts_parse("1970-01-01T00:00:00.000Z", 24, &ms) && ms == 0);
    CHECK(ms_alog_ts_parse("2026-11-21T08:00:00.123Z", 24, &ms) && ms == 1795248000123LL);
    CHECK(ms_alog_ts_parse("2024-02-29T23:59:60.999Z", 24, &ms));
    CHECK(!ms_alog_ts_parse("2023-02-29T00:00:00.000Z", 24, &ms) && ms == 0);
    CHECK(!ms_alog_ts_parse("2026-13-01T00:00:00.000Z", 24, &ms));
    CHECK(!ms_alog_ts_parse("2026-11-21T24:00:00.000Z", 24, &ms));
    CHECK(!ms_alog_ts_parse("2026-11-21 08:00:00.000Z", 24, &ms));
    CHECK(!ms_alog_ts_parse("2026-11-21T08:00:00.000+", 24, &ms));
    CHECK(!ms_alog_ts_parse("2026-11-21T08:00:00.00Z", 23, &ms));
    CHECK(!ms_alog_ts_parse("1969-12-31T23:59:59.999Z", 24, &ms));
    CHECK(!ms_alog_ts_parse("2026-11-2aT08:00:00.000Z", 24, &ms));
}

static void test_line_reader(void)
{
    static const uint8_t t[] = "ab\n\ncd";
    size_t off = 0, n;
    const uint8_t *p;
    CHECK(ms_alog_line_next(t, 6, &off, &p, &n) == MS_ALOG_LINE_OK && n == 2 && off == 3);
    CHECK(ms_alog_line_next(t, 6, &off, &p, &n) == MS_ALOG_LINE_OK && n == 0 && off == 4);
    CHECK(ms_alog_line_next(t, 6, &off, &p, &n) == MS_ALOG_LINE_CUT && n == 2 && off == 4);
    off = 6;
    CHECK(ms_alog_line_next(t, 6, &off, &p, &n) == MS_ALOG_LINE_END && n == 0);
}


/* --- checkpoints ------------------------------------------------------------------------- */

/* The first `what` (n bytes) in p[0..len), or NULL. */
static uint8_t *find_bytes(const uint8_t *p, size_t len, const char *what, size_t n)
{
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(p + i, what, n) == 0) {
            return (uint8_t *)(p + i);
        }
    }
    return NULL;
}

/* A crashed log with checkpoints every 3 lines: log_start, e, e, C(4), e, e, e, C(8), e. */
static void crashed_log(const char *name, char path[static PATH_MAX])
{
    ms_alog *l;
    path_in(path, name);
    CHECK_OK(ms_alog_open(&l, path, &key_a, "minions", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 3, 0));
    for (int i = 0; i < 6; i++) {
        event(l, "worker_turn", i + 1, "ab\xc3\xa9");
    }
    ms_alog_abandon(l); /* a crash: no seal */
}

/* 1-based lines of the checkpoints of text, into lines[] (at most cap); how many. */
static size_t checkpoint_lines(const ms_buf *text, uint64_t *lines, size_t cap)
{
    size_t n = 0, off = 0;
    const uint8_t *p;
    size_t len;
    for (uint64_t line = 1; n < cap && ms_alog_line_next(text->p, text->len, &off, &p, &len) ==
                                           MS_ALOG_LINE_OK;
         line++) {
        if (find_bytes(p, len, "\"type\":\"log_checkpoint\"", 23) != NULL) {
            lines[n++] = line;
        }
    }
    return n;
}

static void test_checkpoint_count(void)
{
    char path[PATH_MAX], sealed[PATH_MAX];
    ms_buf text;
    ms_alog_report r;
    uint64_t ck[8];
    crashed_log("ck-count.log", path);
    read_all(path, &text);
    CHECK(checkpoint_lines(&text, ck, 8) == 2 && ck[0] == 4 && ck[1] == 8);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_PARTIAL);
    CHECK(r.checkpoint_line == 8 && r.bad_line == 9 && r.events == 9);
    CHECK(strlen(r.checkpoint_ts) == MS_ALOG_TS_LEN);
    CHECK(strstr(r.why, "valid up to line 8 (checkpoint at ") != NULL);
    CHECK(strstr(r.why, "then incomplete") != NULL);
    /* with another key expected: the checkpoints are not by it */
    CHECK(verify(text.p, text.len, key_b.pk, &r) == MS_ALOG_WRONG_KEY);
    /* without --key: the key the log names */
    CHECK(verify(text.p, text.len, NULL, &r) == MS_ALOG_PARTIAL);
    ms_buf_free(&text);
    /* a log with checkpoints that is sealed is VALID, its last checkpoint named */
    ms_alog *l;
    path_in(sealed, "ck-sealed.log");
    CHECK_OK(ms_alog_open(&l, sealed, &key_a, "chat", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 2, 0));
    for (int i = 0; i < 4; i++) {
        event(l, "chat_turn", i, "x");
    }
    CHECK_OK(ms_alog_close(l));
    read_all(sealed, &text);
    CHECK(checkpoint_lines(&text, ck, 8) == 2 && ck[0] == 3 && ck[1] == 6);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID && r.checkpoint_line == 6);
    CHECK(verify(text.p, text.len, key_b.pk, &r) == MS_ALOG_WRONG_KEY);
    ms_buf_free(&text);
    /* caps on the rules */
    path_in(sealed, "ck-caps.log");
    CHECK_OK(ms_alog_open(&l, sealed, &key_a, "chat", NULL));
    CHECK(ms_alog_set_checkpoints(l, MS_MAX_LOG_CHECKPOINT_EVENTS + 1u, 0) == MS_ERR_ARG);
    CHECK(ms_alog_set_checkpoints(l, 0, MS_MAX_LOG_CHECKPOINT_S + 1u) == MS_ERR_ARG);
    CHECK(ms_alog_set_checkpoints(NULL, 1, 1) == MS_ERR_ARG);
    CHECK_OK(ms_alog_close(l));
}

/* Cut at every byte after the first checkpoint: PARTIAL up to the last whole checkpoint,
 * never TAMPERED; before it INCOMPLETE. A torn last line is a crash, not an edit. */
static void test_checkpoint_cut_every_byte(void)
{
    char path[PATH_MAX];
    ms_buf text;
    uint64_t ck[8];
    crashed_log("ck-cut.log", path);
    read_all(path, &text);
    size_t nck = checkpoint_lines(&text, ck, 8);
    CHECK(nck == 2);
    size_t first_end = line_start(text.p, text.len, ck[0] + 1); /* just after its '\n' */
    int bad = 0;
    for (size_t n = 0; n <= text.len; n++) {
        if (n < text.len && !offset_sampled(&text, n)) {
            continue; /* quick mode */
        }
        ms_alog_report r;
        ms_alog_verdict v = verify(text.p, n, key_a.pk, &r);
        uint64_t want_ck = 0;
        for (size_t i = 0; i < nck; i++) {
            if (line_start(text.p, text.len, ck[i] + 1) <= n) {
                want_ck = ck[i];
            }
        }
        ms_alog_verdict want = n >= first_end ? MS_ALOG_PARTIAL : MS_ALOG_INCOMPLETE;
        if (v != want || r.checkpoint_line != want_ck) {
            if (bad++ < 5) {
                fprintf(stderr, "cut at %zu: %s, checkpoint %llu (want %s, %llu): %s\n", n,
                        ms_alog_verdict_name(v), (unsigned long long)r.checkpoint_line,
                        ms_alog_verdict_name(want), (unsigned long long)want_ck, r.why);
            }
        }
    }
    CHECK(bad == 0);
    ms_buf_free(&text);
}

/* Every byte changed before the last checkpoint's end: TAMPERED (MALFORMED in line 1),
 * never PARTIAL, INCOMPLETE or VALID. */
static void test_checkpoint_flip_before(void)
{
    char path[PATH_MAX];
    ms_buf text;
    uint64_t ck[8];
    crashed_log("ck-flip.log", path);
    read_all(path, &text);
    size_t nck = checkpoint_lines(&text, ck, 8);
    CHECK(nck == 2);
    size_t end = line_start(text.p, text.len, ck[nck - 1] + 1);
    uint8_t *copy = malloc(text.len);
    int bad = 0;
    static const uint8_t masks[] = {0x01, 0x20, 0x80};
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t off = 0; off < end; off++) {
            if (!offset_sampled(&text, off)) {
                continue; /* quick mode */
            }
            ms_alog_report r;
            memcpy(copy, text.p, text.len);
            copy[off] ^= masks[m];
            ms_alog_verdict v = verify(copy, text.len, key_a.pk, &r);
            if (v != MS_ALOG_TAMPERED && v != MS_ALOG_MALFORMED) {
                if (bad++ < 5) {
                    fprintf(stderr, "flip ^%02x at %zu: %s: %s\n", masks[m], off,
                            ms_alog_verdict_name(v), r.why);
                }
            }
        }
    }
    CHECK(bad == 0);
    free(copy);
    ms_buf_free(&text);
}

/* Line `line` (1-based) of text replaced by `with`; the prev of every later line recomputed
 * (what anyone can do: the chain is not keyed). Into out; returns its length. */
static size_t rewrite(const ms_buf *text, uint64_t line, const char *with, uint8_t *out)
{
    size_t off = 0, o = 0, len;
    const uint8_t *p;
    uint8_t h[MS_ALOG_HASH_LEN];
    for (uint64_t i = 1; ms_alog_line_next(text->p, text->len, &off, &p, &len) == MS_ALOG_LINE_OK;
         i++) {
        size_t start = o;
        if (i == line) {
            len = strlen(with);
            p = (const uint8_t *)with;
        }
        memcpy(out + o, p, len);
        if (i > 1) { /* "prev":"<64 hex>" */
            uint8_t *pv = find_bytes(out + start, len, "\"prev\":\"", 8);
            char hex[MS_HEX_BUF_LEN(MS_ALOG_HASH_LEN)];
            size_t hn;
            if (pv != NULL && ms_hex_encode(h, sizeof h, hex, sizeof hex, &hn) == MS_OK) {
                memcpy(pv + 8, hex, 64);
            }
        }
        crypto_hash_sha256(h, out + start, len);
        o += len;
        out[o++] = '\n';
    }
    return o;
}

/* The text of 1-based line `line`, NUL-terminated, into out (cap bytes). */
static void line_text(const ms_buf *text, uint64_t line, char *out, size_t cap)
{
    size_t a = line_start(text->p, text->len, line), b = line_start(text->p, text->len, line + 1);
    size_t n = b - a - 1 < cap - 1 ? b - a - 1 : cap - 1;
    memcpy(out, text->p + a, n);
    out[n] = '\0';
}

/* Forged checkpoints, and lines changed before a checkpoint with the chain recomputed. */
static void test_checkpoint_forged(void)
{
    char path[PATH_MAX], line[1024], other[PATH_MAX];
    ms_buf text, fake;
    ms_alog_report r;
    crashed_log("ck-forged.log", path);
    read_all(path, &text);
    uint8_t *out = malloc(text.len + 4096);
    /* line 2 edited, every prev after it recomputed: the checkpoint at line 4 does not sign
       that chain */
    line_text(&text, 2, line, sizeof line);
    char *t = strstr(line, "ab\xc3\xa9");
    CHECK(t != NULL);
    if (t) {
        t[0] = 'X';
    }
    size_t n = rewrite(&text, 2, line, out);
    CHECK(verify(out, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 4);
    CHECK(strstr(r.why, "(a checkpoint): its signature does not verify") != NULL);
    /* the same edit after the last checkpoint goes unseen: that part is not covered */
    line_text(&text, 9, line, sizeof line);
    t = strstr(line, "ab\xc3\xa9");
    if (t) {
        t[0] = 'X';
    }
    n = rewrite(&text, 9, line, out);
    CHECK(verify(out, n, key_a.pk, &r) == MS_ALOG_PARTIAL && r.checkpoint_line == 8);
    /* a checkpoint signed by another key: the same log written with key B, its checkpoint
       line put in place of ours (the log still names key A) */
    ms_alog *l;
    path_in(other, "ck-other.log");
    CHECK_OK(ms_alog_open(&l, other, &key_b, "minions", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 3, 0));
    for (int i = 0; i < 2; i++) {
        event(l, "worker_turn", i + 1, "ab\xc3\xa9");
    }
    ms_alog_abandon(l);
    read_all(other, &fake);
    char theirs[1024], ours[1024];
    line_text(&fake, 4, theirs, sizeof theirs);
    line_text(&text, 4, ours, sizeof ours);
    /* keep our prev (the chain holds), take their ts and sig */
    char *their_ts = strstr(theirs, "\"ts\":\""), *our_ts = strstr(ours, "\"ts\":\"");
    char *their_sig = strstr(theirs, "\"sig\":\""), *our_sig = strstr(ours, "\"sig\":\"");
    CHECK(their_ts && our_ts && their_sig && our_sig);
    if (their_ts && our_ts && their_sig && our_sig) {
        memcpy(our_ts, their_ts, 6 + MS_ALOG_TS_LEN);
        memcpy(our_sig, their_sig, 7 + 128);
    }
    n = rewrite(&text, 4, ours, out);
    CHECK(verify(out, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 4);
    CHECK(verify(out, n, NULL, &r) == MS_ALOG_TAMPERED && r.bad_line == 4);
    ms_buf_free(&fake);
    /* a checkpoint's signature is not a seal's: the log cut after line 4, "log_checkpoint"
       renamed "log_seal" (the form and the signature are otherwise those of line 4) */
    line_text(&text, 4, line, sizeof line);
    char seal[1024];
    char *ty = strstr(line, "log_checkpoint");
    CHECK(ty != NULL);
    if (ty) {
        snprintf(seal, sizeof seal, "%.*slog_seal%s", (int)(ty - line), line, ty + 14);
        size_t cut = line_start(text.p, text.len, 4);
        memcpy(out, text.p, cut);
        memcpy(out + cut, seal, strlen(seal));
        out[cut + strlen(seal)] = '\n';
        CHECK(verify(out, cut + strlen(seal) + 1, key_a.pk, &r) == MS_ALOG_TAMPERED &&
              r.bad_line == 4);
    }
    /* a checkpoint not in the writer's exact form (a space) */
    line_text(&text, 4, line, sizeof line);
    char spaced[1100];
    char *d = strstr(line, "\"data\":");
    if (d) {
        snprintf(spaced, sizeof spaced, "%.*s\"data\": %s", (int)(d - line), line, d + 7);
        n = rewrite(&text, 4, spaced, out);
        CHECK(verify(out, n, key_a.pk, &r) == MS_ALOG_TAMPERED && r.bad_line == 4);
        CHECK(strstr(r.why, "exact form") != NULL);
    }
    free(out);
    ms_buf_free(&text);
}

/* The time rule: a log that waits gets its lines covered without another event. */
static void test_checkpoint_timer(void)
{
    char path[PATH_MAX];
    ms_alog *l;
    ms_buf text;
    ms_alog_report r;
    path_in(path, "ck-timer.log");
    CHECK_OK(ms_alog_open(&l, path, &key_a, "minion", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 0, 1));
    event(l, "supervisor_turn", 1, "waiting");
    int seen = 0;
    for (int waited = 0; !seen && waited < 30000; waited += 50) {
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        read_all(path, &text);
        seen = strstr((const char *)text.p, "\"log_checkpoint\"") != NULL;
        ms_buf_free(&text);
    }
    CHECK(seen);
    ms_alog_abandon(l);
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_PARTIAL && r.checkpoint_line == 3);
    ms_buf_free(&text);
}

/* ms_alog_seal: once; then every event is refused; close only frees. */
static void test_seal_early(void)
{
    char path[PATH_MAX];
    ms_alog *l;
    ms_buf text;
    ms_alog_report r;
    path_in(path, "sealed-early.log");
    CHECK_OK(ms_alog_open(&l, path, &key_a, "chat", NULL));
    CHECK_OK(ms_alog_set_checkpoints(l, 1, 1));
    event(l, "chat_turn", 1, "one");
    CHECK_OK(ms_alog_seal(l));
    CHECK_OK(ms_alog_seal(l));
    CHECK(ms_alog_event(l, "chat_turn", NULL) == MS_ERR_ALOG_SEALED);
    CHECK_OK(ms_alog_close(l));
    read_all(path, &text);
    CHECK(verify(text.p, text.len, key_a.pk, &r) == MS_ALOG_VALID);
    ms_buf_free(&text);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/test_alog.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(tmp_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char ka[PATH_MAX], kb[PATH_MAX];
    bool created;
    path_in(ka, "keys/a");
    path_in(kb, "keys/b");
    if (ms_alog_key_load_or_create(ka, &key_a, &created) != MS_OK ||
        ms_alog_key_load_or_create(kb, &key_b, &created) != MS_OK) {
        fprintf(stderr, "cannot create the test keys\n");
        return 1;
    }
    RUN(test_key_files);
    RUN(test_default_path);
    RUN(test_write_verify);
    RUN(test_writer_refusals);
    RUN(test_flip_every_byte);
    RUN(test_truncate_every_offset);
    RUN(test_delete_swap_append);
    RUN(test_wrong_key);
    RUN(test_abandon);
    RUN(test_threads);
    RUN(test_no_secret_in_log);
    RUN(test_member_names_and_order);
    RUN(test_last_line_fields);
    RUN(test_verify_oddities);
    RUN(test_ts);
    RUN(test_line_reader);
    RUN(test_checkpoint_count);
    RUN(test_checkpoint_cut_every_byte);
    RUN(test_checkpoint_flip_before);
    RUN(test_checkpoint_forged);
    RUN(test_checkpoint_timer);
    RUN(test_seal_early);
    ms_alog_key_wipe(&key_a);
    ms_alog_key_wipe(&key_b);
    remove_tree(tmp_root);
    return TEST_SUMMARY();
}
