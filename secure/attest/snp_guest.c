/* SEV-SNP producer fallback: SNP_GET_EXT_REPORT on /dev/sev-guest (no configfs-tsm). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/check.h"
#include "common/cursor.h"
#include "secure/attest/snp_produce.h"

#define SNP_MSG_VERSION 1u
#define SNP_PAGE 4096u
#define SNP_CERTS_LEN 16384u /* the kernel's SEV_FW_BLOB_MAX_SIZE; a multiple of the page size */
#define SNP_RSP_HEADER_RESERVED 24u
#define SNP_REPORT_DATA_OFF 0x50u

_Static_assert(SNP_CERTS_LEN <= MS_SNP_MAX_CERT_TABLE, "the table fits its cap");

/* MSG_REPORT_RSP: u32le status, u32le report_size, 24 reserved bytes, the report. */
static ms_err read_response(const uint8_t *rsp, size_t len,
                            uint8_t report[static MS_SNP_REPORT_LEN])
{
    uint32_t status, size;
    ms_cursor c = ms_cursor_init(rsp, len);
    TRY(ms_cursor_read_u32le(&c, &status));
    ENSURE(status == 0, MS_ERR_SNP_DEVICE);
    TRY(ms_cursor_read_u32le(&c, &size));
    ENSURE(size == MS_SNP_REPORT_LEN, MS_ERR_SNP_FORMAT);
    TRY(ms_cursor_skip(&c, SNP_RSP_HEADER_RESERVED));
    return ms_cursor_read_bytes(&c, report, MS_SNP_REPORT_LEN);
}

/* The ioctl: the report lands in `resp`, the certificate table in `certs`. */
static ms_err ext_report(int fd, const uint8_t binding[static MS_BINDING_LEN], uint8_t *certs,
                         struct snp_report_resp *resp)
{
    struct snp_ext_report_req req;
    struct snp_guest_request_ioctl io;
    memset(&req, 0, sizeof req);
    memset(&io, 0, sizeof io);
    memcpy(req.data.user_data, binding, MS_BINDING_LEN);
    req.data.vmpl = 0;
    req.certs_address = (uint64_t)(uintptr_t)certs;
    req.certs_len = SNP_CERTS_LEN;
    io.msg_version = SNP_MSG_VERSION;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)resp;
    int rc;
    do {
        rc = ioctl(fd, SNP_GET_EXT_REPORT, &io);
    } while (rc < 0 && errno == EINTR);
    ENSURE(rc == 0, MS_ERR_SNP_DEVICE);
    return MS_OK;
}

ms_err ms_snp_guest_report(const char *device, const uint8_t binding[static MS_BINDING_LEN],
                           ms_snp_raw *out)
{
    ENSURE(device != NULL, MS_ERR_ARG);
    ms_buf_clear(&out->certs);
    int fd = open(device, O_RDWR | O_CLOEXEC);
    ENSURE(fd >= 0, MS_ERR_SNP_DEVICE);
    ms_err err = MS_OK;
    struct snp_report_resp resp;
    memset(&resp, 0, sizeof resp);
    uint8_t *certs = aligned_alloc(SNP_PAGE, SNP_CERTS_LEN);
    ENSURE_OUT(certs != NULL, MS_ERR_NOMEM);
    memset(certs, 0, SNP_CERTS_LEN);
    TRY_OUT(ext_report(fd, binding, certs, &resp));
    TRY_OUT(read_response(resp.data, sizeof resp.data, out->report));
    ENSURE_OUT(ms_ct_equal(out->report + SNP_REPORT_DATA_OFF, binding, MS_BINDING_LEN),
               MS_ERR_SNP_DEVICE);
    /* The table is parsed later, up to its terminator; the zero tail is harmless. */
    TRY_OUT(ms_buf_append(&out->certs, certs, SNP_CERTS_LEN));
out:
    close(fd);
    if (certs != NULL) {
        ms_wipe(certs, SNP_CERTS_LEN);
        free(certs);
    }
    if (err != MS_OK) {
        ms_wipe(out->report, sizeof out->report);
        ms_buf_clear(&out->certs);
    }
    return err;
}
