/* SEV-SNP producer: configfs-tsm report entries, and the bundle made of what the kernel returns. */
#include "secure/attest/snp_produce.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/file.h"

#define SNP_PATH_MAX 4096u
#define SNP_REPORT_DATA_OFF 0x50u

void ms_snp_raw_init(ms_snp_raw *raw)
{
    memset(raw->report, 0, sizeof raw->report);
    ms_buf_init(&raw->certs, MS_SNP_MAX_CERT_TABLE);
}

void ms_snp_raw_free(ms_snp_raw *raw)
{
    ms_wipe(raw->report, sizeof raw->report);
    ms_buf_free(&raw->certs);
}

static ms_err join(char out[static SNP_PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, SNP_PATH_MAX, "%s/%s", dir, name);
    ENSURE(n > 0 && (size_t)n < SNP_PATH_MAX, MS_ERR_ARG);
    return MS_OK;
}

/*
 * Read a whole attribute (configfs computes it on read; a test's fake may be a FIFO, so no
 * S_ISREG check). `optional`: an absent attribute reads as empty.
 */
static ms_err read_attr(const char *dir, const char *name, size_t max, int optional, ms_buf *out)
{
    char path[SNP_PATH_MAX];
    uint8_t chunk[4096];
    TRY(join(path, dir, name));
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && optional) {
        return MS_OK;
    }
    ENSURE(fd >= 0, MS_ERR_SNP_DEVICE);
    ms_err err = MS_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ENSURE_OUT(n >= 0, MS_ERR_SNP_DEVICE);
        if (n == 0) {
            break;
        }
        ENSURE_OUT(out->len + (size_t)n <= max, MS_ERR_CAP_EXCEEDED);
        TRY_OUT(ms_buf_append(out, chunk, (size_t)n));
    }
out:
    close(fd);
    ms_wipe(chunk, sizeof chunk);
    return err;
}

/* configfs commits a binary attribute when the file is released: close's result counts. */
static ms_err write_attr(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[SNP_PATH_MAX];
    TRY(join(path, dir, name));
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_SNP_DEVICE);
    if (ms_file_write_all(fd, p, len) != MS_OK) {
        close(fd);
        return MS_ERR_SNP_DEVICE;
    }
    ENSURE(close(fd) == 0, MS_ERR_SNP_DEVICE);
    return MS_OK;
}

/* A text attribute without its one trailing newline, as a C string. */
static ms_err read_text(const char *dir, const char *name,
                        char out[static MS_SNP_MAX_ATTR_TEXT + 1])
{
    ms_buf b;
    ms_buf_init(&b, MS_SNP_MAX_ATTR_TEXT);
    ms_err err = read_attr(dir, name, MS_SNP_MAX_ATTR_TEXT, 0, &b);
    size_t n = err == MS_OK ? b.len : 0;
    if (n > 0 && b.p[n - 1] == '\n') {
        n--;
    }
    if (n > 0 && memchr(b.p, 0, n) != NULL) {
        err = MS_ERR_SNP_DEVICE; /* text with a NUL inside is not what the kernel writes */
        n = 0;
    }
    if (n > 0) {
        memcpy(out, b.p, n);
    }
    out[n] = 0;
    ms_buf_free(&b);
    return err;
}

/* `generation`: decimal digits only. */
static ms_err read_generation(const char *dir, uint64_t *gen)
{
    char text[MS_SNP_MAX_ATTR_TEXT + 1];
    *gen = 0;
    TRY(read_text(dir, "generation", text));
    ENSURE(text[0] != 0, MS_ERR_SNP_DEVICE);
    for (const char *s = text; *s; s++) {
        ENSURE(*s >= '0' && *s <= '9' && *gen <= (UINT64_MAX - 9) / 10, MS_ERR_SNP_DEVICE);
        *gen = *gen * 10 + (uint64_t)(*s - '0');
    }
    return MS_OK;
}

ms_err ms_tsm_entry_exchange(const char *entry_dir, const char *provider, const uint8_t *inblob,
                             size_t in_len, size_t out_max, ms_buf *outblob, ms_buf *auxblob)
{
    char have[MS_SNP_MAX_ATTR_TEXT + 1];
    uint64_t before, after;
    ENSURE(entry_dir != NULL && provider != NULL, MS_ERR_ARG);
    ms_buf_clear(outblob);
    if (auxblob != NULL) {
        ms_buf_clear(auxblob);
    }
    TRY(read_text(entry_dir, "provider", have));
    ENSURE(strcmp(have, provider) == 0, MS_ERR_SNP_DEVICE);
    TRY(read_generation(entry_dir, &before));
    TRY(write_attr(entry_dir, "inblob", inblob, in_len));
    ms_err err = read_attr(entry_dir, "outblob", out_max, 0, outblob);
    if (err == MS_OK && auxblob != NULL) {
        err = read_attr(entry_dir, "auxblob", MS_SNP_MAX_CERT_TABLE, 1, auxblob);
    }
    if (err == MS_OK) {
        err = read_generation(entry_dir, &after);
    }
    /* Exactly our one write since `before`: otherwise outblob may answer someone else's. */
    if (err == MS_OK && after != before + 1) {
        err = MS_ERR_SNP_DEVICE;
    }
    if (err != MS_OK) {
        ms_buf_clear(outblob);
        if (auxblob != NULL) {
            ms_buf_clear(auxblob);
        }
    }
    return err;
}

ms_err ms_snp_tsm_entry_report(const char *entry_dir, const uint8_t binding[static MS_BINDING_LEN],
                               ms_snp_raw *out)
{
    ms_buf blob;
    ms_buf_init(&blob, MS_SNP_MAX_OUTBLOB);
    ms_err err = ms_tsm_entry_exchange(entry_dir, MS_SNP_TSM_PROVIDER, binding, MS_BINDING_LEN,
                                       MS_SNP_MAX_OUTBLOB, &blob, &out->certs);
    if (err == MS_OK && blob.len != MS_SNP_REPORT_LEN) {
        err = MS_ERR_SNP_FORMAT;
    }
    if (err == MS_OK && !ms_ct_equal(blob.p + SNP_REPORT_DATA_OFF, binding, MS_BINDING_LEN)) {
        err = MS_ERR_SNP_DEVICE;
    }
    if (err == MS_OK) {
        memcpy(out->report, blob.p, MS_SNP_REPORT_LEN);
    } else {
        ms_buf_clear(&out->certs);
    }
    ms_buf_free(&blob);
    return err;
}

/* A new uniquely named entry under `root`; `entry` gets its path. */
static ms_err tsm_mkdir(const char *root, char entry[static SNP_PATH_MAX])
{
    uint8_t rnd[8];
    char hex[MS_HEX_BUF_LEN(sizeof rnd)], name[64];
    size_t n;
    ENSURE(root != NULL, MS_ERR_ARG);
    ENSURE(sodium_init() >= 0, MS_ERR_CRYPTO_INIT);
    randombytes_buf(rnd, sizeof rnd);
    TRY(ms_hex_encode(rnd, sizeof rnd, hex, sizeof hex, &n));
    snprintf(name, sizeof name, "minions-%ld-%s", (long)getpid(), hex);
    TRY(join(entry, root, name));
    ENSURE(mkdir(entry, 0700) == 0, MS_ERR_SNP_DEVICE);
    return MS_OK;
}

ms_err ms_tsm_exchange(const char *root, const char *provider, const uint8_t *inblob,
                       size_t in_len, size_t out_max, ms_buf *outblob, ms_buf *auxblob)
{
    char entry[SNP_PATH_MAX];
    TRY(tsm_mkdir(root, entry));
    ms_err err = ms_tsm_entry_exchange(entry, provider, inblob, in_len, out_max, outblob, auxblob);
    /* Always remove the entry; failing to is not a reason to refuse a good answer. */
    (void)rmdir(entry);
    return err;
}

ms_err ms_snp_tsm_report(const char *root, const uint8_t binding[static MS_BINDING_LEN],
                         ms_snp_raw *out)
{
    char entry[SNP_PATH_MAX];
    TRY(tsm_mkdir(root, entry));
    ms_err err = ms_snp_tsm_entry_report(entry, binding, out);
    (void)rmdir(entry);
    return err;
}

ms_err ms_snp_evidence_from_raw(const ms_snp_producer_cfg *cfg, const ms_snp_raw *raw, ms_buf *out)
{
    ms_snp_certs t;
    ms_snp_report r;
    ENSURE(cfg != NULL && raw != NULL, MS_ERR_ARG);
    TRY(ms_snp_report_decode(raw->report, sizeof raw->report, &r));
    TRY(ms_snp_cert_table_parse(raw->certs.p, raw->certs.len, &t));
    const uint8_t *vcek = cfg->vcek_der ? cfg->vcek_der : t.vcek;
    size_t vcek_len = cfg->vcek_der ? cfg->vcek_len : t.vcek_len;
    const uint8_t *ask = cfg->ask_der ? cfg->ask_der : t.ask;
    size_t ask_len = cfg->ask_der ? cfg->ask_len : t.ask_len;
    ENSURE(vcek != NULL, MS_ERR_ATTEST_UNAVAILABLE);
    ENSURE(cfg->omit_ask || ask != NULL, MS_ERR_ATTEST_UNAVAILABLE);
    if (cfg->omit_ask) {
        ask = NULL;
        ask_len = 0;
    }
    return ms_snp_bundle_encode(raw->report, vcek, vcek_len, ask, ask_len, out);
}

ms_err ms_snp_evidence(const ms_snp_producer_cfg *cfg, const uint8_t binding[static MS_BINDING_LEN],
                       ms_buf *out)
{
    static const ms_snp_producer_cfg defaults = {0};
    struct stat st;
    ms_snp_raw raw;
    cfg = cfg ? cfg : &defaults;
    const char *root = cfg->tsm_root ? cfg->tsm_root : MS_SNP_TSM_ROOT;
    const char *dev = cfg->guest_device ? cfg->guest_device : MS_SNP_GUEST_DEVICE;
    ms_snp_raw_init(&raw);
    int have_tsm = stat(root, &st) == 0 && S_ISDIR(st.st_mode);
    ms_err err = have_tsm ? ms_snp_tsm_report(root, binding, &raw)
                          : ms_snp_guest_report(dev, binding, &raw);
    if (err == MS_OK) {
        err = ms_snp_evidence_from_raw(cfg, &raw, out);
    }
    ms_snp_raw_free(&raw);
    return err;
}
