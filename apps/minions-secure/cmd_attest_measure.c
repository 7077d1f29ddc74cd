/* minions-secure attest measure: the SEV-SNP launch digest a supervisor's VM must show, pinned. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp_measure.h"
#include "apps/minions-secure/cli.h"
#include "apps/minions-secure/cmd_attest.h"
#include "apps/minions-secure/cmds.h"

#define PROG "minions-secure attest measure"
#define LD_LEN 48u
#define LD_HEX (2u * LD_LEN)
#define MAX_KERNEL (512u * 1024u * 1024u) /* bytes of a kernel image */
#define MAX_INITRD (2048u * 1024u * 1024u) /* bytes of an initrd */

static const char USAGE[] =
    "Usage: minions-secure attest measure --ovmf FILE --vcpus N --vcpu-type NAME\n"
    "         [--kernel FILE [--initrd FILE] [--append STR]] [--vmm-type qemu|ec2]\n"
    "         [--guest-features HEX] [--ovmf-hash HEX]\n"
    "         [--policy FILE | --policy-out FILE --ark PEM [--ask PEM]\n"
    "                                            --min-tcb B,T,S,M]\n"
    "\n"
    "Computes the SEV-SNP launch measurement (the report's MEASUREMENT, SHA-384)\n"
    "of a VM from what it is launched with, as AMD's firmware does, and prints it\n"
    "(96 hex). Pin it in the policy: a supervisor whose VM runs anything else is\n"
    "then refused before anything is sent (docs/attest-sev-snp.md, \"Computing\n"
    "the expected measurement\").\n"
    "\n"
    "The VM:\n"
    "  --ovmf FILE           the firmware image (an OvmfPkg/AmdSev build for\n"
    "                        --kernel)\n"
    "  --kernel FILE         direct kernel boot (QEMU's -kernel): the kernel's,\n"
    "                        initrd's and command line's hashes are measured\n"
    "  --initrd FILE         the initrd (-initrd); none is hashed as empty\n"
    "  --append STR          the kernel command line (-append)\n"
    "  --vcpus N             the number of vCPUs (1..512)\n"
    "  --vcpu-type NAME      the vCPU model: EPYC, EPYC-v1..v4, EPYC-IBPB,\n"
    "                        EPYC-Rome[-v1..v3], EPYC-Milan[-v1..v2],\n"
    "                        EPYC-Genoa[-v1]\n"
    "  --vmm-type qemu|ec2   the VMM that launches it (default qemu)\n"
    "  --guest-features HEX  SEV_FEATURES of the VMSAs (default 0x1: SNP active)\n"
    "  --ovmf-hash HEX       the digest of the firmware's pages, given instead of\n"
    "                        computed (the image is still read for its metadata)\n"
    "The policy (docs/attestation.md):\n"
    "  --policy FILE         set sev_snp.measurement in this policy, keeping the\n"
    "                        rest (replaced by a 0600 copy; it needs sev_snp)\n"
    "  --policy-out FILE     write a new policy accepting sev-snp with it; mode\n"
    "                        0600, never overwrites. It needs:\n"
    "  --ark PEM, --ask PEM  AMD's root (and intermediate) certificate, named as\n"
    "                        the policy finds them (relative to its folder)\n"
    "  --min-tcb B,T,S,M     the lowest TCB: bootloader, tee, snp, microcode\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 printed (and written); 2 a bad option, an unreadable or\n"
    "malformed file, or inputs that cannot be measured (e.g. a kernel with a\n"
    "firmware that has no kernel-hashes section).\n";

typedef struct opts {
    const char *ovmf, *kernel, *initrd, *append, *vcpu_type, *vmm, *features, *ovmf_hash;
    const char *policy, *policy_out, *ark, *ask, *min_tcb;
    long vcpus;
} opts;

enum {
    O_OVMF = MS_CLI_OPT_OWN_BASE,
    O_KERNEL,
    O_INITRD,
    O_APPEND,
    O_VCPUS,
    O_VCPU_TYPE,
    O_VMM,
    O_FEATURES,
    O_OVMF_HASH,
    O_POLICY,
    O_POLICY_OUT,
    O_ARK,
    O_ASK,
    O_MIN_TCB,
    O_HELP,
    O_VERSION
};

static int parse_min_tcb(const char *s, long v[4]);

static int apply(void *ctx, int c, const char *arg)
{
    long tcb[4];
    opts *o = ctx;
    switch (c) {
    case O_OVMF: o->ovmf = arg; return 1;
    case O_KERNEL: o->kernel = arg; return 1;
    case O_INITRD: o->initrd = arg; return 1;
    case O_APPEND: o->append = arg; return 1;
    case O_VCPUS: return ms_cli_parse_long(arg, 1, MS_SNP_MEASURE_MAX_VCPUS, &o->vcpus);
    case O_VCPU_TYPE: o->vcpu_type = arg; return 1;
    case O_VMM: o->vmm = arg; return strcmp(arg, "qemu") == 0 || strcmp(arg, "ec2") == 0;
    case O_FEATURES: o->features = arg; return 1;
    case O_OVMF_HASH: o->ovmf_hash = arg; return 1;
    case O_POLICY: o->policy = arg; return 1;
    case O_POLICY_OUT: o->policy_out = arg; return 1;
    case O_ARK: o->ark = arg; return 1;
    case O_ASK: o->ask = arg; return 1;
    case O_MIN_TCB: o->min_tcb = arg; return parse_min_tcb(arg, tcb);
    default: return 0; /* the connection options: measure connects to nothing */
    }
}

static const char *expected(int c)
{
    switch (c) {
    case O_VCPUS: return " (1..512)";
    case O_VMM: return " (qemu or ec2)";
    case O_MIN_TCB: return " (four numbers 0..255 such as 3,0,8,115)";
    default: return c < MS_CLI_OPT_OWN_BASE ? " (measure connects to nothing)" : "";
    }
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "%s: %s. Try '%s --help'.\n", PROG, msg, PROG);
    return MS_CLI_USAGE;
}

static int check_combination(const opts *o)
{
    if (!o->ovmf || !o->vcpus || !o->vcpu_type) {
        return usage_error("--ovmf, --vcpus and --vcpu-type are required");
    }
    if ((o->initrd || o->append) && !o->kernel) {
        return usage_error("--initrd and --append are measured only with --kernel");
    }
    if (o->policy && o->policy_out) {
        return usage_error("give --policy (update) or --policy-out (new), not both");
    }
    if (o->policy_out && (!o->ark || !o->min_tcb)) {
        return usage_error("--policy-out needs --ark PEM and --min-tcb B,T,S,M");
    }
    if (!o->policy_out && (o->ark || o->ask || o->min_tcb)) {
        return usage_error("--ark, --ask and --min-tcb are for --policy-out");
    }
    return MS_CLI_OK;
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option own[] = {
        {"ovmf", 1, 0, O_OVMF},           {"kernel", 1, 0, O_KERNEL},
        {"initrd", 1, 0, O_INITRD},       {"append", 1, 0, O_APPEND},
        {"vcpus", 1, 0, O_VCPUS},         {"vcpu-type", 1, 0, O_VCPU_TYPE},
        {"vmm-type", 1, 0, O_VMM},        {"guest-features", 1, 0, O_FEATURES},
        {"ovmf-hash", 1, 0, O_OVMF_HASH}, {"policy", 1, 0, O_POLICY},
        {"policy-out", 1, 0, O_POLICY_OUT}, {"ark", 1, 0, O_ARK},
        {"ask", 1, 0, O_ASK},             {"min-tcb", 1, 0, O_MIN_TCB},
        {"help", 0, 0, O_HELP},           {"version", 0, 0, O_VERSION},
        {0, 0, 0, 0}};
    static const char *const help[] = {USAGE, NULL};
    ms_cli_parser p = {.prog = PROG, .own = own, .opt_help = O_HELP, .opt_version = O_VERSION,
                       .help = help, .apply = apply, .expected = expected, .ctx = o};
    int code = ms_cli_getopt(&p, argc, argv);
    return code != 0 ? code : check_combination(o);
}

/* --- inputs -------------------------------------------------------------------------------- */

/* A whole file; a symlink (/boot/vmlinuz) is followed to what it names first. */
static int read_input(const char *flag, const char *path, size_t max, ms_buf *out)
{
    char real[PATH_MAX];
    ms_err e = realpath(path, real) != NULL ? ms_file_read(real, max, out) : MS_ERR_FILE_OPEN;
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s %s: %s\n", PROG, flag, path, ms_err_str(e));
        return 0;
    }
    return 1;
}

static int parse_hex_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    if (*s == '\0' || strlen(s) > 16 || strspn(s, "0123456789abcdefABCDEF") != strlen(s)) {
        return 0;
    }
    *out = strtoull(s, &end, 16);
    return end != NULL && *end == '\0';
}

typedef struct inputs {
    ms_buf ovmf, kernel, initrd;
    uint8_t ovmf_hash[LD_LEN];
    ms_snp_measure_in in;
} inputs;

static int load_inputs(const opts *o, inputs *x)
{
    ms_snp_measure_in *in = &x->in;
    size_t n = 0;
    if (ms_snp_vcpu_sig(o->vcpu_type, &in->vcpu_sig) != MS_OK) {
        fprintf(stderr, "%s: --vcpu-type %s: unknown (see --help for the names)\n", PROG,
                o->vcpu_type);
        return 0;
    }
    in->guest_features = 1;
    if (o->features && !parse_hex_u64(o->features, &in->guest_features)) {
        usage_error("--guest-features: want a hexadecimal number such as 0x1");
        return 0;
    }
    if (o->ovmf_hash) {
        if (strlen(o->ovmf_hash) != LD_HEX ||
            ms_hex_decode(o->ovmf_hash, LD_HEX, x->ovmf_hash, LD_LEN, &n) != MS_OK || n != LD_LEN) {
            usage_error("--ovmf-hash: want 96 hexadecimal digits");
            return 0;
        }
        in->ovmf_hash = x->ovmf_hash;
    }
    if (o->append && strlen(o->append) > MS_SNP_MEASURE_MAX_APPEND) {
        usage_error("--append: longer than 4096 bytes");
        return 0;
    }
    if (!read_input("--ovmf", o->ovmf, MS_SNP_MEASURE_MAX_OVMF, &x->ovmf) ||
        (o->kernel && !read_input("--kernel", o->kernel, MAX_KERNEL, &x->kernel)) ||
        (o->initrd && !read_input("--initrd", o->initrd, MAX_INITRD, &x->initrd))) {
        return 0;
    }
    static const uint8_t none[1];
    in->ovmf = x->ovmf.p;
    in->ovmf_len = x->ovmf.len;
    in->have_kernel = o->kernel != NULL;
    in->kernel = o->kernel ? (x->kernel.len ? x->kernel.p : none) : NULL;
    in->kernel_len = x->kernel.len;
    in->initrd = o->initrd ? (x->initrd.len ? x->initrd.p : none) : NULL;
    in->initrd_len = x->initrd.len;
    in->append = o->append;
    in->vcpus = (uint32_t)o->vcpus;
    in->vmm = o->vmm && strcmp(o->vmm, "ec2") == 0 ? MS_SNP_VMM_EC2 : MS_SNP_VMM_QEMU;
    return 1;
}

/* --- the policy ---------------------------------------------------------------------------- */

static int parse_min_tcb(const char *s, long v[4])
{
    char buf[64];
    if (strlen(s) >= sizeof buf) {
        return 0;
    }
    memcpy(buf, s, strlen(s) + 1);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < 4; i++, tok = strtok_r(NULL, ",", &save)) {
        if (!tok || !ms_cli_parse_long(tok, 0, 255, &v[i])) {
            return 0;
        }
    }
    return tok == NULL;
}

static ms_err new_policy(const opts *o, const char *hex, ms_json_builder **b)
{
    ms_json_wval root, arr, snp, tcb;
    long t[4];
    static const char *const tcb_names[] = {"bootloader", "tee", "snp", "microcode"};
    if (!parse_min_tcb(o->min_tcb, t)) {
        return MS_ERR_ARG;
    }
    ms_err e = ms_json_builder_new(MS_JSON_OBJECT, b, &root);
    if (e == MS_OK) {
        e = ms_json_add_i64(root, "version", 1);
    }
    if (e == MS_OK && (e = ms_json_add_arr(root, "accept", &arr)) == MS_OK) {
        e = ms_json_add_cstr(arr, NULL, "sev-snp");
    }
    if (e == MS_OK && (e = ms_json_add_obj(root, "sev_snp", &snp)) == MS_OK) {
        e = ms_json_add_cstr(snp, "ark_pem", o->ark);
    }
    if (e == MS_OK && o->ask) {
        e = ms_json_add_cstr(snp, "ask_pem", o->ask);
    }
    if (e == MS_OK) {
        e = ms_json_add_cstr(snp, "measurement", hex);
    }
    if (e == MS_OK && (e = ms_json_add_obj(snp, "min_tcb", &tcb)) == MS_OK) {
        for (int i = 0; i < 4 && e == MS_OK; i++) {
            e = ms_json_add_i64(tcb, tcb_names[i], t[i]);
        }
    }
    return e;
}

/* A copy of the policy's members with sev_snp.measurement replaced; MS_ERR_JSON_MISSING
   when it has no sev_snp object. Every other member, known to this program or not, is
   copied as it is: the policy loader judges them. */
static ms_err updated_policy(const ms_json_doc *doc, const char *hex, ms_json_builder **b)
{
    ms_json_val root, v, sv;
    ms_json_wval out, snp;
    const char *key, *skey;
    int found = 0;
    ms_err e = ms_json_as_obj(ms_json_root(doc), &root);
    if (e == MS_OK) {
        e = ms_json_builder_new(MS_JSON_OBJECT, b, &out);
    }
    ms_json_iter it = ms_json_iter_init(root);
    while (e == MS_OK && ms_json_iter_next(&it, &v, &key)) {
        if (strcmp(key, "sev_snp") != 0 || ms_json_type_of(v) != MS_JSON_OBJECT) {
            e = ms_json_add_value(out, key, v);
            continue;
        }
        found = 1;
        e = ms_json_add_obj(out, key, &snp);
        int replaced = 0; /* in its place, so that a diff of the policy shows one line */
        ms_json_iter sit = ms_json_iter_init(v);
        while (e == MS_OK && ms_json_iter_next(&sit, &sv, &skey)) {
            int ours = strcmp(skey, "measurement") == 0;
            replaced |= ours;
            e = ours ? ms_json_add_cstr(snp, skey, hex) : ms_json_add_value(snp, skey, sv);
        }
        if (e == MS_OK && !replaced) {
            e = ms_json_add_cstr(snp, "measurement", hex);
        }
    }
    return e == MS_OK && !found ? MS_ERR_JSON_MISSING : e;
}

/* Write text to a new file next to path, then move it over path (same folder: atomic). */
static ms_err replace_file(const char *path, const ms_buf *text)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.measure-new", path) >= (int)sizeof tmp) {
        return MS_ERR_ARG;
    }
    ms_err e = ms_file_write_new(tmp, text->p, text->len, 0600);
    if (e == MS_OK && rename(tmp, path) != 0) {
        (void)remove(tmp);
        e = MS_ERR_IO;
    }
    return e;
}

static int write_policy(const opts *o, const char *hex)
{
    ms_buf text, old;
    ms_json_doc *doc = NULL;
    ms_json_builder *b = NULL;
    ms_buf_init(&text, MS_MAX_POLICY_FILE);
    ms_buf_init(&old, MS_MAX_POLICY_FILE);
    const char *file = o->policy ? o->policy : o->policy_out;
    const char *flag = o->policy ? "--policy" : "--policy-out";
    const char *why = "";
    ms_err e;
    if (o->policy) {
        e = ms_file_read(o->policy, MS_MAX_POLICY_FILE, &old);
        if (e == MS_OK) {
            e = ms_json_parse((const char *)old.p, old.len, &doc);
        }
        if (e == MS_OK) {
            e = updated_policy(doc, hex, &b);
            why = e == MS_ERR_JSON_MISSING ? " (it has no sev_snp section: write one with "
                                             "--policy-out)" : "";
        }
    } else {
        e = new_policy(o, hex, &b);
        why = e == MS_ERR_ARG ? " (--min-tcb: want four numbers 0..255 such as 3,0,8,115)" : "";
    }
    if (e == MS_OK) {
        e = ms_json_builder_print(b, &text);
    }
    if (e == MS_OK) {
        e = ms_buf_append_u8(&text, '\n');
    }
    if (e == MS_OK) {
        e = o->policy ? replace_file(o->policy, &text)
                      : ms_file_write_new(o->policy_out, text.p, text.len, 0600);
        why = e != MS_ERR_FILE_OPEN ? why
              : o->policy ? " (a symlink, or FILE.measure-new is left from an earlier run)"
                          : " (it must not exist yet: it is never overwritten)";
    }
    ms_json_builder_free(b);
    ms_json_free(doc);
    ms_buf_free(&text);
    ms_buf_free(&old);
    if (e != MS_OK) {
        fprintf(stderr, "%s: %s %s: %s%s\n", PROG, flag, file, ms_err_str(e), why);
        return MS_CLI_USAGE;
    }
    fprintf(stderr, "%s: sev_snp.measurement %s in %s\n", PROG, o->policy ? "updated" : "written",
            file);
    return MS_CLI_OK;
}

/* --- the command --------------------------------------------------------------------------- */

int ms_cmd_attest_measure(int argc, char **argv)
{
    opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code != 0) {
        return code < 0 ? MS_CLI_OK : code;
    }
    inputs *x = calloc(1, sizeof *x);
    if (!x) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return MS_CLI_USAGE;
    }
    ms_buf_init(&x->ovmf, MS_SNP_MEASURE_MAX_OVMF);
    ms_buf_init(&x->kernel, MAX_KERNEL);
    ms_buf_init(&x->initrd, MAX_INITRD);
    uint8_t ld[LD_LEN];
    char hex[LD_HEX + 1];
    size_t hex_len = 0;
    code = MS_CLI_USAGE;
    if (load_inputs(&o, x)) {
        ms_err e = ms_snp_measure(&x->in, ld);
        if (e != MS_OK) {
            fprintf(stderr, "%s: %s\n", PROG, ms_err_str(e));
        } else if (ms_hex_encode(ld, LD_LEN, hex, sizeof hex, &hex_len) == MS_OK) {
            printf("%s\n", hex);
            code = o.policy || o.policy_out ? write_policy(&o, hex) : MS_CLI_OK;
        }
    }
    ms_buf_free(&x->ovmf);
    ms_buf_free(&x->kernel);
    ms_buf_free(&x->initrd);
    free(x);
    return code;
}
