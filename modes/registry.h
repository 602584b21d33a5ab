/*
 * registry: the requests in flight, as /admin/requests/running shows them
 * and cancels them. Entries live inside the mode's own request objects and
 * are linked in while the request runs. Loop thread only.
 */
#ifndef QG_MODES_REGISTRY_H
#define QG_MODES_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/uuid.h"
#include "exec/pool.h"

typedef struct mode_entry {
    struct mode_entry *prev, *next;
    char uuid[QG_UUID_LEN + 1];
    const char *client_context_id; /* may be NULL; owned by the request */
    const char *statement;         /* owned by the request */
    const char *principal;         /* who submitted it (NULL: no authentication) */
    uint64_t start_wall_ns;
    uint64_t start_ns;
    uint64_t job_id; /* 0: not a stored job */
    exec_task *task; /* what cancel stops */
    /* Optional: how the owner cancels (it may answer a request that never
     * reached a worker at once, or fail a stored job that has not started
     * in the store at once). It may remove e from the registry. Returns
     * whether the request will end cancelled: false when it was already
     * ending on its own (a stored job committing its end state). NULL:
     * exec_task_cancel(task). */
    bool (*cancel)(struct mode_entry *e, qg_code why);
} mode_entry;

typedef struct mode_registry mode_registry;

/* Whether principal may see (and cancel) what owner submitted: without
 * authentication (principal NULL) everyone sees everything; with it, a
 * principal sees only its own. owner NULL or "": submitted without
 * authentication. Pure. */
bool mode_visible(const char *principal, const char *owner);

mode_registry *mode_registry_new(void);
void mode_registry_free(mode_registry *r);
void mode_registry_add(mode_registry *r, mode_entry *e);
void mode_registry_remove(mode_registry *r, mode_entry *e);
/* Cancels every entry whose client context id (when ctx is not NULL) or
 * uuid (when uuid is not NULL) matches, among those of principal (all when
 * principal is NULL); returns how many will end cancelled (not those that
 * were already ending). */
size_t mode_registry_cancel(mode_registry *r, const char *principal, const char *ctx,
                            const char *uuid);
/* Cancels every entry (shutdown). */
void mode_registry_cancel_all(mode_registry *r);
/* Cancels the stored job job_id if it is queued or running here and
 * principal may see it (any when principal is NULL). Returns 1 when it
 * will end cancelled, 0 when there is no such job here, -1 when it was
 * already ending (committing its own end state: its status tells). */
int mode_registry_cancel_job(mode_registry *r, const char *principal, uint64_t job_id);
/* The JSON array of principal's entries (all when NULL): uuid,
 * requestTime, elapsedTime, state, statement, clientContextID, jobId. */
void mode_registry_list(mode_registry *r, const char *principal, qg_buf *out);
size_t mode_registry_count(mode_registry *r);

#endif
