/* Error table lookups: message, name and category of each ms_err. */
#include "common/err.h"

#include <stddef.h>

struct entry {
    const char *name;
    ms_err_category cat;
    const char *msg;
};

#define ENTRY_(code, cat, msg) [code] = {#code, MS_CAT_##cat, msg},
static const struct entry table[MS_ERR_COUNT_] = {MS_ERR_TABLE(ENTRY_)};
#undef ENTRY_

static const struct entry *find(ms_err e)
{
    if ((unsigned)e >= (unsigned)MS_ERR_COUNT_) {
        return NULL;
    }
    return &table[e];
}

const char *ms_err_str(ms_err e)
{
    const struct entry *en = find(e);
    return en ? en->msg : "unknown error code";
}

const char *ms_err_name(ms_err e)
{
    const struct entry *en = find(e);
    return en ? en->name : "MS_ERR_UNKNOWN";
}

ms_err_category ms_err_category_of(ms_err e)
{
    const struct entry *en = find(e);
    return en ? en->cat : MS_CAT_INTERNAL;
}

const char *ms_err_category_str(ms_err_category c)
{
    static const char *const names[] = {
        [MS_CAT_NONE] = "NONE",     [MS_CAT_USAGE] = "USAGE",   [MS_CAT_INTERNAL] = "INTERNAL",
        [MS_CAT_LIMIT] = "LIMIT",   [MS_CAT_DECODE] = "DECODE", [MS_CAT_PROTO] = "PROTO",
        [MS_CAT_CRYPTO] = "CRYPTO", [MS_CAT_ATTEST] = "ATTEST", [MS_CAT_IO] = "IO",
        [MS_CAT_BACKEND] = "BACKEND",
    };
    if ((unsigned)c >= sizeof names / sizeof names[0]) {
        return "UNKNOWN";
    }
    return names[c];
}
