/* registry: requests in flight (see registry.h). */
#include "modes/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/mem.h"
#include "modes/doc.h"

struct mode_registry {
    mode_entry *head;
    size_t n;
};

mode_registry *
mode_registry_new(void)
{
    return qg_calloc(1, sizeof(mode_registry));
}

void
mode_registry_free(mode_registry *r)
{
    free(r);
}

void
mode_registry_add(mode_registry *r, mode_entry *e)
{
    e->prev = NULL;
    e->next = r->head;
    if (r->head)
        r->head->prev = e;
    r->head = e;
    r->n++;
}

void
mode_registry_remove(mode_registry *r, mode_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (r->head == e)
        r->head = e->next;
    else
        return; /* not linked */
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    r->n--;
}

size_t
mode_registry_count(mode_registry *r)
{
    return r->n;
}

/* A cancel may answer the request and unlink its entry at once, so the
 * walk remembers the next entry first. */
static bool
cancel_entry(mode_entry *e, qg_code why)
{
    if (e->cancel)
        return e->cancel(e, why);
    if (e->task)
        exec_task_cancel(e->task, why);
    return true;
}

bool
mode_visible(const char *principal, const char *owner)
{
    return !principal || (owner && strcmp(owner, principal) == 0);
}

/* Whether principal may see e. */
static bool
visible(const mode_entry *e, const char *principal)
{
    return mode_visible(principal, e->principal);
}

size_t
mode_registry_cancel(mode_registry *r, const char *principal, const char *ctx, const char *uuid)
{
    size_t n = 0;
    for (mode_entry *e = r->head, *next; e; e = next) {
        next = e->next;
        if (!visible(e, principal))
            continue;
        bool match = false;
        if (ctx && e->client_context_id && strcmp(ctx, e->client_context_id) == 0)
            match = true;
        if (uuid && strcasecmp(uuid, e->uuid) == 0)
            match = true;
        if (match && (e->task || e->cancel) && cancel_entry(e, QG_E_CANCELLED))
            n++;
    }
    return n;
}

void
mode_registry_cancel_all(mode_registry *r)
{
    for (mode_entry *e = r->head, *next; e; e = next) {
        next = e->next;
        cancel_entry(e, QG_E_CANCELLED);
    }
}

int
mode_registry_cancel_job(mode_registry *r, const char *principal, uint64_t job_id)
{
    for (mode_entry *e = r->head; e; e = e->next)
        if (e->job_id == job_id && visible(e, principal))
            return cancel_entry(e, QG_E_CANCELLED) ? 1 : -1;
    return 0;
}

void
mode_registry_list(mode_registry *r, const char *principal, qg_buf *out)
{
    uint64_t now = qg_now_ns();
    bool first = true;
    qg_buf_addc(out, '[');
    for (mode_entry *e = r->head; e; e = e->next) {
        if (!visible(e, principal))
            continue;
        char when[40], dur[QG_DURATION_MAX_TEXT];
        mode_doc_time(e->start_wall_ns, when);
        qg_duration_format(now - e->start_ns, dur);
        if (!first)
            qg_buf_addc(out, ',');
        first = false;
        qg_buf_printf(out, "{\"uuid\":\"%s\",\"requestTime\":\"%s\",\"elapsedTime\":\"%s\",",
                      e->uuid, when, dur);
        bool running = e->task && atomic_load(&e->task->worker) != NULL;
        qg_buf_printf(out, "\"state\":\"%s\",\"statement\":", running ? "running" : "queued");
        qg_json_string(out, e->statement, strlen(e->statement));
        qg_buf_addlit(out, ",\"clientContextID\":");
        if (e->client_context_id)
            qg_json_string(out, e->client_context_id, strlen(e->client_context_id));
        else
            qg_buf_addlit(out, "null");
        qg_buf_addlit(out, ",\"jobId\":");
        if (e->job_id)
            qg_json_uint64(out, e->job_id);
        else
            qg_buf_addlit(out, "null");
        qg_buf_addc(out, '}');
    }
    qg_buf_addlit(out, "]\n");
}
