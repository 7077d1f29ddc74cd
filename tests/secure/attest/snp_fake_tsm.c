/* Fake configfs-tsm entry for the producer tests: see snp_fake_tsm.h for the sequencing. */
#include "tests/secure/attest/snp_fake_tsm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int path_of(const snp_fake_tsm *f, const char *name, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/%s", f->dir, name);
    return k > 0 && (size_t)k < n;
}

int snp_fake_tsm_write(snp_fake_tsm *f, const char *name, const void *p, size_t len)
{
    char path[600], tmp[620];
    if (!path_of(f, name, path, sizeof path)) {
        return 0;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (fp == NULL) {
        return 0;
    }
    int ok = fwrite(p, 1, len, fp) == len;
    ok = fclose(fp) == 0 && ok;
    return ok && rename(tmp, path) == 0; /* atomic, as a reader sees the attribute change */
}

static int write_generation(snp_fake_tsm *f, uint64_t g)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)g);
    return snp_fake_tsm_write(f, "generation", text, (size_t)n);
}

int snp_fake_tsm_setup(snp_fake_tsm *f, const char *parent, const char *provider,
                       const uint8_t *aux, size_t aux_len)
{
    char path[600];
    static unsigned counter;
    memset(f, 0, sizeof *f);
    f->gen_step = 1;
    f->generation = 41;
    f->timeout_ms = 5000;
    (void)mkdir(parent, 0700);
    snprintf(f->dir, sizeof f->dir, "%s/entry%u", parent, counter++);
    int ok = mkdir(f->dir, 0700) == 0;
    if (ok && provider != NULL) {
        char text[64];
        int n = snprintf(text, sizeof text, "%s\n", provider);
        ok = snp_fake_tsm_write(f, "provider", text, (size_t)n);
    }
    ok = ok && write_generation(f, f->generation);
    ok = ok && (aux == NULL || snp_fake_tsm_write(f, "auxblob", aux, aux_len));
    ok = ok && path_of(f, "inblob", path, sizeof path) && mkfifo(path, 0600) == 0;
    ok = ok && path_of(f, "outblob", path, sizeof path) && mkfifo(path, 0600) == 0;
    return ok;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read inblob until its writer closes (poll: no writer yet is not end of file). */
static int take_inblob(snp_fake_tsm *f, long deadline)
{
    char path[600];
    if (!path_of(f, "inblob", path, sizeof path)) {
        return 0;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        return 0;
    }
    int ok = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            break;
        }
        ssize_t n = read(fd, f->inblob + f->inblob_len, sizeof f->inblob - f->inblob_len);
        if (n > 0) {
            f->inblob_len += (size_t)n;
        } else if (n == 0 && (p.revents & POLLHUP)) {
            ok = 1;
            break;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            break;
        }
    }
    close(fd);
    return ok;
}

/* Serve outblob once a reader has opened it. */
static int give_outblob(snp_fake_tsm *f, const uint8_t *p, size_t len, long deadline)
{
    char path[600];
    if (!path_of(f, "outblob", path, sizeof path)) {
        return 0;
    }
    int fd;
    while ((fd = open(path, O_WRONLY | O_NONBLOCK)) < 0) {
        if (errno != ENXIO || now_ms() > deadline) {
            return 0;
        }
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
    int ok = fcntl(fd, F_SETFL, 0) == 0;
    size_t done = 0;
    while (ok && done < len) {
        ssize_t n = write(fd, p + done, len - done);
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    close(fd);
    return ok;
}

static void *serve(void *arg)
{
    snp_fake_tsm *f = arg;
    uint8_t report[MS_SNP_REPORT_LEN];
    long deadline = now_ms() + f->timeout_ms;
    if (!take_inblob(f, deadline) || !write_generation(f, f->generation + f->gen_step)) {
        return NULL;
    }
    const uint8_t *out = f->canned;
    size_t out_len = f->canned_len;
    ms_buf made;
    ms_buf_init(&made, MS_MAX_EVIDENCE);
    if (f->make != NULL) {
        if (!f->make(f->make_ctx, f->inblob, f->inblob_len, &made)) {
            ms_buf_free(&made);
            return NULL;
        }
        out = made.p;
        out_len = made.len;
    } else if (f->sign_key != NULL) {
        size_t n = f->inblob_len < MS_SNP_REPORT_DATA_LEN ? f->inblob_len : MS_SNP_REPORT_DATA_LEN;
        memset(f->ro.report_data, 0, sizeof f->ro.report_data);
        memcpy(f->ro.report_data, f->inblob, n);
        if (!snp_fx_report_make(report, &f->ro, f->sign_key)) {
            ms_buf_free(&made);
            return NULL;
        }
        out = report;
        out_len = sizeof report;
    }
    f->served = give_outblob(f, out, out_len, deadline);
    ms_buf_free(&made);
    return NULL;
}

int snp_fake_tsm_start(snp_fake_tsm *f)
{
    f->started = pthread_create(&f->thread, NULL, serve, f) == 0;
    return f->started;
}

int snp_fake_tsm_join(snp_fake_tsm *f)
{
    if (f->started) {
        pthread_join(f->thread, NULL);
        f->started = 0;
    }
    return f->served;
}

void snp_fake_tsm_teardown(snp_fake_tsm *f)
{
    static const char *const names[] = {"provider", "generation", "auxblob", "inblob", "outblob"};
    char path[600];
    snp_fake_tsm_join(f);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (path_of(f, names[i], path, sizeof path)) {
            (void)unlink(path);
        }
    }
    (void)rmdir(f->dir);
}
