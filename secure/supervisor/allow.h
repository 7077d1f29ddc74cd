/* The supervisor's client allow-list (--allowed-clients FILE), reloaded on SIGHUP. */
#ifndef MS_SECURE_SUPERVISOR_ALLOW_H
#define MS_SECURE_SUPERVISOR_ALLOW_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/idkey.h"

/*
 * The list in force and the file it came from. Lookups and reloads may run in any threads
 * at once: a reload parses the whole file first and swaps lists only when it is valid, so a
 * lookup sees the old list or the new one, never a mix or none.
 */
typedef struct ms_allow {
    pthread_mutex_t lock;
    char *path;
    ms_idkey_list list; /* guarded by lock */
    uint8_t file_sha256[32];
} ms_allow;

/* What a load or reload found: the line at fault (0: the file itself), the keys. */
typedef struct ms_allow_report {
    size_t line_no;
    size_t count;
    uint8_t file_sha256[32]; /* of the file that is now in force */
} ms_allow_report;

/* Read and parse `path` (MS_ERR_FILE_OPEN, MS_ERR_CAP_EXCEEDED, ms_idkey_list_parse's). */
MS_MUST_CHECK ms_err ms_allow_open(ms_allow *a, const char *path, ms_allow_report *rep);
/* Read the same file again; on any error the list in force stays as it was. */
MS_MUST_CHECK ms_err ms_allow_reload(ms_allow *a, ms_allow_report *rep);
/* 1 when pk is on the list in force. */
int ms_allow_has(ms_allow *a, const uint8_t pk[static MS_SIGN_PK_LEN]);
void ms_allow_close(ms_allow *a);

#endif
