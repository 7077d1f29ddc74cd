/* The GHCB certificate table (configfs-tsm auxblob, SNP_GET_EXT_REPORT): untrusted, so bounded. */
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/cursor.h"
#include "secure/attest/snp_produce.h"

#define ENTRY_LEN 24u
#define GUID_LEN 16u

/* GUIDs of the GHCB specification, in RFC 4122 (string) byte order. */
static const uint8_t GUID_VCEK[GUID_LEN] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                            0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t GUID_ASK[GUID_LEN] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                           0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t GUID_ARK[GUID_LEN] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                           0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
static const uint8_t GUID_VLEK[GUID_LEN] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                            0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};

typedef struct entry {
    uint8_t guid[GUID_LEN];
    uint32_t off;
    uint32_t len;
} entry;

static int all_zero(const entry *e)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < GUID_LEN; i++) {
        acc |= e->guid[i];
    }
    return acc == 0 && e->off == 0 && e->len == 0;
}

static int guid_zero(const uint8_t g[GUID_LEN])
{
    uint8_t acc = 0;
    for (size_t i = 0; i < GUID_LEN; i++) {
        acc |= g[i];
    }
    return acc == 0;
}

/* Read the header up to its terminator; *n is the number of entries before it. */
static ms_err read_header(ms_cursor *c, entry *es, size_t *n)
{
    for (*n = 0; *n <= MS_SNP_MAX_CERT_ENTRIES; (*n)++) {
        entry e;
        TRY(ms_cursor_read_bytes(c, e.guid, GUID_LEN));
        TRY(ms_cursor_read_u32le(c, &e.off));
        TRY(ms_cursor_read_u32le(c, &e.len));
        if (guid_zero(e.guid)) {
            ENSURE(all_zero(&e), MS_ERR_SNP_FORMAT);
            return MS_OK;
        }
        ENSURE(*n < MS_SNP_MAX_CERT_ENTRIES, MS_ERR_SNP_FORMAT);
        es[*n] = e;
    }
    return MS_ERR_SNP_FORMAT;
}

/* The entry's bytes: after the header, inside the table, 1..MS_SNP_MAX_CERT long. */
static ms_err entry_bytes(const uint8_t *p, size_t len, size_t header_len, const entry *e,
                          const uint8_t **out)
{
    ENSURE(e->len >= 1 && e->len <= MS_SNP_MAX_CERT && e->off >= header_len, MS_ERR_SNP_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    TRY(ms_cursor_skip(&c, e->off));
    return ms_cursor_borrow(&c, out, e->len);
}

/* Store a known entry; a second entry with the same GUID is ambiguous. */
static ms_err take(const uint8_t *bytes, uint32_t n, const uint8_t **slot, size_t *slot_len)
{
    ENSURE(*slot == NULL, MS_ERR_SNP_FORMAT);
    *slot = bytes;
    *slot_len = n;
    return MS_OK;
}

static ms_err parse(const uint8_t *p, size_t len, ms_snp_certs *out)
{
    entry es[MS_SNP_MAX_CERT_ENTRIES];
    size_t n;
    const uint8_t *vlek = NULL;
    size_t vlek_len = 0;
    ms_cursor c = ms_cursor_init(p, len);
    TRY(read_header(&c, es, &n));
    for (size_t i = 0; i < n; i++) {
        const uint8_t *bytes;
        TRY(entry_bytes(p, len, c.off, &es[i], &bytes));
        if (ms_ct_equal(es[i].guid, GUID_VCEK, GUID_LEN)) {
            TRY(take(bytes, es[i].len, &out->vcek, &out->vcek_len));
        } else if (ms_ct_equal(es[i].guid, GUID_ASK, GUID_LEN)) {
            TRY(take(bytes, es[i].len, &out->ask, &out->ask_len));
        } else if (ms_ct_equal(es[i].guid, GUID_ARK, GUID_LEN)) {
            TRY(take(bytes, es[i].len, &out->ark, &out->ark_len));
        } else if (ms_ct_equal(es[i].guid, GUID_VLEK, GUID_LEN)) {
            TRY(take(bytes, es[i].len, &vlek, &vlek_len));
        }
    }
    out->has_vlek = vlek != NULL;
    return MS_OK;
}

ms_err ms_snp_cert_table_parse(const uint8_t *p, size_t len, ms_snp_certs *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(len <= MS_SNP_MAX_CERT_TABLE, MS_ERR_CAP_EXCEEDED);
    if (len == 0) {
        return MS_OK;
    }
    ENSURE(p != NULL, MS_ERR_SNP_FORMAT);
    if (parse(p, len, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_SNP_FORMAT;
    }
    return MS_OK;
}
