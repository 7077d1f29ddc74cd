/* Error codes (generated from common/err_table.h), their categories and messages. */
#ifndef MS_COMMON_ERR_H
#define MS_COMMON_ERR_H

#include "common/err_table.h"

#define MS_ERR_ENUM_ENTRY_(code, cat, msg) code,
typedef enum ms_err { MS_ERR_TABLE(MS_ERR_ENUM_ENTRY_) MS_ERR_COUNT_ } ms_err;
#undef MS_ERR_ENUM_ENTRY_

typedef enum ms_err_category {
    MS_CAT_NONE,
    MS_CAT_USAGE,
    MS_CAT_INTERNAL,
    MS_CAT_LIMIT,
    MS_CAT_DECODE,
    MS_CAT_PROTO,
    MS_CAT_CRYPTO,
    MS_CAT_ATTEST,
    MS_CAT_IO,
    MS_CAT_BACKEND,
} ms_err_category;

/* Fallible functions are marked so that ignoring their result fails the build. */
#define MS_MUST_CHECK __attribute__((warn_unused_result))

/* The message a person reads. Never NULL; unknown codes give a fixed string. */
const char *ms_err_str(ms_err e);
/* The code's name, e.g. "MS_ERR_REC_AUTH" (for logs and tests). Never NULL. */
const char *ms_err_name(ms_err e);
ms_err_category ms_err_category_of(ms_err e);
/* "PROTO", "CRYPTO", ... Never NULL. */
const char *ms_err_category_str(ms_err_category c);

#endif
