/* Private to minions-secure attest: what it shows about evidence, as text or JSON (cmd_attest_show.c). */
#ifndef MS_APPS_MINIONS_SECURE_CMD_ATTEST_H
#define MS_APPS_MINIONS_SECURE_CMD_ATTEST_H

#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/attest/inspect.h"

/* Everything one run shows. Pointers are borrowed for the call. */
typedef struct attest_shown {
    const char *source;        /* the supervisor's URL, or the file that was checked */
    int live;                  /* received in a handshake now (else read from a file) */
    int any;                   /* --any-evidence: nothing was pinned, nothing trusted */
    int have_session;          /* mode, not_after, at and static_pk are known */
    uint8_t mode;
    uint64_t not_after, at;
    const uint8_t *static_pk;  /* MS_X25519_LEN, or NULL */
    const uint8_t *session_id; /* MS_SESSION_ID_LEN, or NULL */
    const ms_inspect *ins;
    ms_err verdict;            /* ms_attest_inspect's result */
    int show_policy;           /* add the policy this evidence satisfies */
    const char *ark_path;      /* SEV-SNP policy suggestion: file names, or NULL for */
    const char *ask_path;      /* placeholders the operator replaces */
    const char *dev_pub_path;  /* dev-key: the public key file, or NULL (placeholder) */
    const uint8_t *ark_sha256; /* 32 bytes: an ARK given without a policy (NOT pinned), or NULL */
    uint64_t now;              /* for "expired now" on saved evidence; 0: not said */
    const char *tdx_root_path; /* TDX policy suggestion: --tdx-root, or NULL (placeholder) */
    const char *tdx_collateral_path; /* --tdx-collateral, or NULL */
    const char *nv_root_path;  /* nvidia-gpu policy suggestion: the root's file, or NULL */
} attest_shown;

/* The report for a person: facts, one line per check, the verdict, then the policy. */
void attest_show_text(const attest_shown *s, FILE *out);

/* One JSON object: {"ok", "trusted", "source", "evidence", "checks", "policy"}. */
MS_MUST_CHECK ms_err attest_show_json(const attest_shown *s, FILE *out);

/* The policy (docs/attestation.md) the evidence would satisfy, compact JSON, appended. */
MS_MUST_CHECK ms_err attest_policy_json(const attest_shown *s, ms_buf *out);

/* minions-secure attest measure (cmd_attest_measure.c): argv[0] is "measure". */
int ms_cmd_attest_measure(int argc, char **argv);

#endif
