/* Test helper: a swtpm on 127.0.0.1 with a temporary state directory, stopped by PID. */
#ifndef MS_TESTS_ATTEST_TPM2_SWTPM_H
#define MS_TESTS_ATTEST_TPM2_SWTPM_H

#include <limits.h>
#include <sys/types.h>

/*
 * One swtpm ("swtpm socket --tpm2", found in PATH) serving TPM commands on `port` and its
 * control channel on port + 1, both on 127.0.0.1, state in a fresh directory under
 * $TMPDIR (or /tmp), started with startup-clear so it is ready for ESAPI. It dies with
 * the test: stopped by tpm2_swtpm_stop, at exit, on SIGINT/SIGTERM/SIGABRT, when ASan or
 * UBSan ends the test (their death callback), and by PR_SET_PDEATHSIG when the test is
 * killed outright (then only the small state directory is left behind). One per test
 * process; main thread only.
 */
typedef struct tpm2_swtpm {
    pid_t pid;                /* > 0 while it may run */
    unsigned port;
    char dir[PATH_MAX];       /* state directory; its swtpm.log has swtpm's output */
    char tcti[96];            /* "swtpm:host=127.0.0.1,port=P" */
} tpm2_swtpm;

/* Start it on a free port pair and wait until it answers a command. 0 on success. */
int tpm2_swtpm_start(tpm2_swtpm *s);
/* SIGTERM, then SIGKILL after a grace period; reaps it and removes its directory. */
void tpm2_swtpm_stop(tpm2_swtpm *s);

#endif
