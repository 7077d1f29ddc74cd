/* Helpers shared by the supervisor's endpoint files (not part of any public interface). */
#ifndef MS_SECURE_SUPERVISOR_INTERNAL_H
#define MS_SECURE_SUPERVISOR_INTERNAL_H

#include "secure/supervisor/handlers.h"

/* Set an error reply: status, the generic body of §12.2, and the local cause. */
void ms_sup_fail(ms_sup_reply *r, int status, ms_err cause);
/* Acquire the session named by sid, or set a 404 reply and return NULL. */
ms_session *ms_sup_session(ms_sup *sup, const uint8_t sid[static MS_SESSION_ID_LEN], ms_sup_reply *r);
/* Open the body's [ClientFinish] + single record of type `want` (session lock held). */
ms_err ms_sup_open_body(ms_session *s, const uint8_t *body, size_t len, uint8_t want,
                        ms_record_info *info, ms_buf *pt);
/* Reply 400; a pending session whose finish failed is dropped (session lock held). */
void ms_sup_reject(ms_sup *sup, ms_session *s, ms_sup_reply *r, ms_err e);

#endif
