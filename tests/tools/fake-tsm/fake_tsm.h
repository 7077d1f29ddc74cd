/* fake-tsm: a FUSE stand-in for configfs-tsm's report directory, its entries and its reports. */
#ifndef MS_TESTS_TOOLS_FAKE_TSM_H
#define MS_TESTS_TOOLS_FAKE_TSM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Test-only caps (this program never runs outside tests). The inblob cap is the kernel's
 * (TSM_INBLOB_MAX, 64 bytes); the others bound what the test's files may hold.
 */
#define FTSM_INBLOB_MAX 64u
#define FTSM_MAX_ENTRIES 64u
#define FTSM_MAX_NAME 128u
#define FTSM_MAX_CONFIG 65536u
#define FTSM_MAX_KEY_FILE 16384u
#define FTSM_MAX_CHAIN_FILE 16384u
#define FTSM_MAX_AUX_FILE 32768u /* MS_SNP_MAX_CERT_TABLE: what the producer reads at most */
#define FTSM_MAX_OUTBLOB 32768u

enum ftsm_provider { FTSM_SEV_GUEST, FTSM_TDX_GUEST };

/*
 * What a report is made from: the configuration file (JSON, docs in main.c's usage), read
 * again for every report so that a test may change it between reports, and the provider.
 * ftsm_report_make: outblob (and auxblob for SEV-SNP, empty when the file names none) over
 * `inblob` (zero-padded to 64 bytes, as the kernel does). Returns 0, or -1 with a one-line
 * reason in why.
 */
int ftsm_report_make(enum ftsm_provider prov, const char *config, const uint8_t *inblob,
                     size_t in_len, ms_buf *outblob, ms_buf *auxblob, char why[static 256]);

#endif
