/* fake-tsm: configfs-tsm's report directory over FUSE, for end-to-end tests of the supervisor's producers. */
#define FUSE_USE_VERSION 31
#define _DEFAULT_SOURCE 1 /* realpath */

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/tools/fake-tsm/fake_tsm.h"

/*
 * The kernel's configfs-tsm (Documentation/ABI/testing/configfs-tsm) as the producers use
 * it: mkdir under the root makes a report entry; the entry holds `provider`, `generation`
 * (incremented on every inblob write), `inblob` (write, at most 64 bytes, committed when
 * the file is closed), `outblob` (read: a report over the last inblob) and `auxblob` (read:
 * the SEV-SNP certificate table, empty when there is none); rmdir removes it. Reports are
 * made on the first read of outblob or auxblob after a write, from --config, which is read
 * again each time so that a test may change it between reports. Single-threaded (the FUSE
 * loop runs on one thread), so nothing here needs a lock.
 */

#define EXIT_USAGE 2
#define EXIT_MOUNT 3

static const char USAGE[] =
    "usage: fake-tsm -f --provider sev_guest|tdx_guest --config FILE MOUNTPOINT\n"
    "\n"
    "Serves a fake configfs-tsm report directory at MOUNTPOINT (FUSE) until\n"
    "SIGTERM or SIGINT, then unmounts it. Tests only. -f: in the foreground\n"
    "(always; accepted for FUSE's convention).\n"
    "\n"
    "FILE (JSON, read again for every report; paths relative to its folder):\n"
    "  key      signing key, PEM: the VCEK (P-384) or the PCK key (P-256)\n"
    "  aux      sev_guest: auxblob's bytes (a certificate table), optional\n"
    "  ak, chain  tdx_guest: attestation key (PEM), PCK chain (PEM)\n"
    "  snp      {measurement: 96 hex, policy, vmpl, version, key_info}\n"
    "  tdx      {mrtd: 96 hex, rtmrs: [96 hex, ...], td_attributes,\n"
    "            tee_tcb_svn: 32 hex}\n"
    "Exit status: 0 unmounted after a signal; 2 bad options or FILE;\n"
    "3 FUSE unavailable (no /dev/fuse, or the mount was refused).\n";

typedef struct entry {
    int used;
    char name[FTSM_MAX_NAME + 1];
    uint64_t generation;
    uint8_t in[FTSM_INBLOB_MAX], pend[FTSM_INBLOB_MAX];
    size_t in_len, pend_len;
    int dirty;           /* inblob written since it was opened, not yet committed */
    int made;            /* out and aux answer `made_gen` */
    uint64_t made_gen;
    ms_buf out, aux;
} entry;

static struct {
    enum ftsm_provider prov;
    char config[PATH_MAX];
    entry e[FTSM_MAX_ENTRIES];
} G;

enum attr { A_PROVIDER, A_GENERATION, A_INBLOB, A_OUTBLOB, A_AUXBLOB, A_COUNT, A_NONE = -1 };
static const char *const ATTRS[A_COUNT] = {"provider", "generation", "inblob", "outblob",
                                           "auxblob"};

/* "/" (entry NULL, attr A_NONE), "/name" (attr A_NONE) or "/name/attr"; -ENOENT otherwise. */
static int resolve(const char *path, entry **e, int *attr)
{
    *e = NULL;
    *attr = A_NONE;
    if (strcmp(path, "/") == 0) {
        return 0;
    }
    const char *name = path + 1, *slash = strchr(name, '/');
    size_t n = slash ? (size_t)(slash - name) : strlen(name);
    for (size_t i = 0; i < FTSM_MAX_ENTRIES && *e == NULL; i++) {
        if (G.e[i].used && strlen(G.e[i].name) == n && memcmp(G.e[i].name, name, n) == 0) {
            *e = &G.e[i];
        }
    }
    if (*e == NULL) {
        return -ENOENT;
    }
    if (slash == NULL) {
        return 0;
    }
    for (int a = 0; a < A_COUNT; a++) {
        if (strcmp(slash + 1, ATTRS[a]) == 0) {
            *attr = a;
            return 0;
        }
    }
    return -ENOENT;
}

/* outblob and auxblob for the entry's current generation, made once per generation. */
static int ensure_report(entry *e)
{
    char why[256];
    if (e->made && e->made_gen == e->generation) {
        return 0;
    }
    if (ftsm_report_make(G.prov, G.config, e->in, e->in_len, &e->out, &e->aux, why) != 0) {
        fprintf(stderr, "fake-tsm: %s: no report: %s\n", e->name, why);
        return -EIO;
    }
    e->made = 1;
    e->made_gen = e->generation;
    return 0;
}

static void commit(entry *e)
{
    if (e->dirty) {
        memcpy(e->in, e->pend, e->pend_len);
        e->in_len = e->pend_len;
        e->generation++;
        e->dirty = 0;
    }
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    /* Nothing cached: every lookup and read reaches us, as with configfs. */
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->kernel_cache = 0;
    cfg->direct_io = 1;
    return NULL;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    (void)fi;
    if (rc != 0) {
        return rc;
    }
    memset(st, 0, sizeof *st);
    st->st_uid = getuid();
    st->st_gid = getgid();
    if (attr == A_NONE) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | (attr == A_INBLOB ? 0200 : 0444);
        st->st_nlink = 1;
        st->st_size = 4096; /* configfs's answer for every attribute */
    }
    return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    (void)off;
    (void)fi;
    (void)flags;
    if (rc != 0) {
        return rc;
    }
    if (attr != A_NONE) {
        return -ENOTDIR;
    }
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; e == NULL && i < FTSM_MAX_ENTRIES; i++) {
        if (G.e[i].used) {
            fill(buf, G.e[i].name, NULL, 0, 0);
        }
    }
    for (int a = 0; e != NULL && a < A_COUNT; a++) {
        fill(buf, ATTRS[a], NULL, 0, 0);
    }
    return 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
    const char *name = path + 1;
    entry *free_slot = NULL, *e;
    int attr;
    (void)mode;
    if (strchr(name, '/') != NULL) {
        return -EPERM; /* only report entries, directly under the root */
    }
    if (strlen(name) > FTSM_MAX_NAME) {
        return -ENAMETOOLONG;
    }
    if (resolve(path, &e, &attr) == 0) {
        return -EEXIST;
    }
    for (size_t i = 0; i < FTSM_MAX_ENTRIES && free_slot == NULL; i++) {
        free_slot = G.e[i].used ? NULL : &G.e[i];
    }
    if (free_slot == NULL) {
        return -ENOSPC;
    }
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = 1;
    snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
    ms_buf_init(&free_slot->out, FTSM_MAX_OUTBLOB);
    ms_buf_init(&free_slot->aux, FTSM_MAX_AUX_FILE);
    return 0;
}

static int fs_rmdir(const char *path)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    if (rc != 0) {
        return rc;
    }
    if (e == NULL || attr != A_NONE) {
        return e == NULL ? -EBUSY : -ENOTDIR;
    }
    ms_buf_free(&e->out);
    ms_buf_free(&e->aux);
    memset(e, 0, sizeof *e);
    return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    if (rc != 0) {
        return rc;
    }
    int acc = fi->flags & O_ACCMODE;
    if (attr == A_NONE || (attr == A_INBLOB) != (acc == O_WRONLY) || acc == O_RDWR) {
        return -EACCES;
    }
    fi->direct_io = 1;
    if (attr == A_INBLOB) {
        e->pend_len = 0;
        e->dirty = 0;
    }
    if (attr == A_OUTBLOB || attr == A_AUXBLOB) {
        return ensure_report(e);
    }
    return 0;
}

static int serve(const void *p, size_t len, char *buf, size_t size, off_t off)
{
    if (off < 0 || (size_t)off >= len) {
        return 0;
    }
    size_t n = len - (size_t)off < size ? len - (size_t)off : size;
    memcpy(buf, (const uint8_t *)p + off, n);
    return (int)n;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    char text[32];
    (void)fi;
    if (rc != 0) {
        return rc;
    }
    switch (attr) {
    case A_PROVIDER:
        snprintf(text, sizeof text, "%s\n", G.prov == FTSM_SEV_GUEST ? "sev_guest" : "tdx_guest");
        return serve(text, strlen(text), buf, size, off);
    case A_GENERATION:
        snprintf(text, sizeof text, "%llu\n", (unsigned long long)e->generation);
        return serve(text, strlen(text), buf, size, off);
    case A_OUTBLOB:
    case A_AUXBLOB:
        rc = ensure_report(e);
        if (rc != 0) {
            return rc;
        }
        return attr == A_OUTBLOB ? serve(e->out.p, e->out.len, buf, size, off)
                                 : serve(e->aux.p, e->aux.len, buf, size, off);
    default:
        return -EACCES;
    }
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    (void)fi;
    if (rc != 0) {
        return rc;
    }
    if (attr != A_INBLOB) {
        return -EACCES;
    }
    if (off < 0 || (size_t)off > FTSM_INBLOB_MAX || size > FTSM_INBLOB_MAX - (size_t)off) {
        return -EFBIG; /* configfs's answer past a binary attribute's maximum size */
    }
    memcpy(e->pend + off, buf, size);
    if ((size_t)off + size > e->pend_len) {
        e->pend_len = (size_t)off + size;
    }
    e->dirty = 1;
    return (int)size;
}

/* configfs commits a binary attribute when the writer closes it. */
static int fs_flush(const char *path, struct fuse_file_info *fi)
{
    entry *e;
    int attr;
    (void)fi;
    if (resolve(path, &e, &attr) == 0 && attr == A_INBLOB) {
        commit(e);
    }
    return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    return fs_flush(path, fi);
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    entry *e;
    int attr, rc = resolve(path, &e, &attr);
    (void)fi;
    if (rc != 0) {
        return rc;
    }
    return attr == A_INBLOB && size == 0 ? 0 : -EACCES;
}

static const struct fuse_operations OPS = {
    .init = fs_init,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .mkdir = fs_mkdir,
    .rmdir = fs_rmdir,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .flush = fs_flush,
    .release = fs_release,
    .truncate = fs_truncate,
};

static int usage_error(const char *what)
{
    fprintf(stderr, "fake-tsm: %s\n%s", what, USAGE);
    return EXIT_USAGE;
}

/* Options, then one report over zeros so that a bad --config fails here, not at the first mkdir. */
static int parse(int argc, char **argv, const char **mnt)
{
    const char *prov = NULL, *config = NULL;
    *mnt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-f") == 0) {
            continue;
        } else if (strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        } else if (v && strcmp(a, "--provider") == 0) {
            prov = argv[++i];
        } else if (v && strcmp(a, "--config") == 0) {
            config = argv[++i];
        } else if (a[0] != '-' && *mnt == NULL) {
            *mnt = a;
        } else {
            return usage_error("unknown option or missing value");
        }
    }
    if (prov == NULL || config == NULL || *mnt == NULL) {
        return usage_error("--provider, --config and MOUNTPOINT are required");
    }
    if (strcmp(prov, "sev_guest") != 0 && strcmp(prov, "tdx_guest") != 0) {
        return usage_error("--provider: sev_guest or tdx_guest");
    }
    G.prov = strcmp(prov, "sev_guest") == 0 ? FTSM_SEV_GUEST : FTSM_TDX_GUEST;
    if (realpath(config, G.config) == NULL) {
        fprintf(stderr, "fake-tsm: --config %s: %s\n", config, strerror(errno));
        return EXIT_USAGE;
    }
    ms_buf out, aux;
    char why[256];
    ms_buf_init(&out, FTSM_MAX_OUTBLOB);
    ms_buf_init(&aux, FTSM_MAX_AUX_FILE);
    int rc = ftsm_report_make(G.prov, G.config, NULL, 0, &out, &aux, why);
    ms_buf_free(&out);
    ms_buf_free(&aux);
    if (rc != 0) {
        fprintf(stderr, "fake-tsm: --config %s: %s\n", config, why);
        return EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mnt;
    int rc = parse(argc, argv, &mnt);
    if (rc != 0) {
        return rc;
    }
    if (access("/dev/fuse", R_OK | W_OK) != 0) {
        fprintf(stderr, "fake-tsm: FUSE unavailable: /dev/fuse: %s\n", strerror(errno));
        return EXIT_MOUNT;
    }
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse *f = NULL;
    if (fuse_opt_add_arg(&args, argv[0]) != 0 || fuse_opt_add_arg(&args, "-o") != 0 ||
        fuse_opt_add_arg(&args, "fsname=fake-tsm,subtype=fake-tsm") != 0 ||
        (f = fuse_new(&args, &OPS, sizeof OPS, NULL)) == NULL) {
        fuse_opt_free_args(&args);
        fprintf(stderr, "fake-tsm: FUSE set-up failed\n");
        return EXIT_MOUNT;
    }
    if (fuse_mount(f, mnt) != 0) {
        fprintf(stderr, "fake-tsm: FUSE unavailable: the mount on %s was refused\n", mnt);
        fuse_destroy(f);
        fuse_opt_free_args(&args);
        return EXIT_MOUNT;
    }
    struct fuse_session *se = fuse_get_session(f);
    rc = fuse_set_signal_handlers(se) == 0 ? fuse_loop(f) : -1;
    fuse_remove_signal_handlers(se);
    fuse_unmount(f);
    fuse_destroy(f);
    fuse_opt_free_args(&args);
    for (size_t i = 0; i < FTSM_MAX_ENTRIES; i++) {
        if (G.e[i].used) {
            ms_buf_free(&G.e[i].out);
            ms_buf_free(&G.e[i].aux);
        }
    }
    /* libfuse reports the signal that ended the loop: that is the clean way out. */
    return rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP ? 0 : 1;
}
