/* The check vocabulary: the only macros in the project that change control flow. */
#ifndef MS_COMMON_CHECK_H
#define MS_COMMON_CHECK_H

#include "common/err.h"

/* Return `e` from the current function unless `cond` holds. */
#define ENSURE(cond, e)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (e);                                                                            \
        }                                                                                          \
    } while (0)

/* Evaluate an ms_err expression; return it unless it is MS_OK. */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        ms_err try_e_ = (call);                                                                    \
        if (try_e_ != MS_OK) {                                                                     \
            return try_e_;                                                                         \
        }                                                                                          \
    } while (0)

/* Forms for functions with one `out:` label that wipes or frees; they need `ms_err err;`. */
#define ENSURE_OUT(cond, e)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            err = (e);                                                                             \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#define TRY_OUT(call)                                                                              \
    do {                                                                                           \
        err = (call);                                                                              \
        if (err != MS_OK) {                                                                        \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#endif
