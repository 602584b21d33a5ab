/*
 * message: stream messages as NDJSON lines or SSE events (see message.h).
 *
 * Every message is opened and closed by the same two helpers, so the two
 * framings differ in exactly two places and a message's JSON is the same
 * bytes in both.
 */
#include "modes/message.h"

#include <string.h>

#include "core/envelope.h"
#include "core/json.h"

const char *
mode_msg_content_type(mode_msg_framing f)
{
    return f == MODE_MSG_SSE ? "text/event-stream; charset=utf-8" : "application/x-ndjson";
}

/* Starts a message of type (an upper-case literal): the SSE event line,
 * then the object up to its "type" member. */
static void
open_msg(qg_buf *b, mode_msg_framing f, const char *type)
{
    if (f == MODE_MSG_SSE) {
        qg_buf_addlit(b, "event: ");
        qg_buf_adds(b, type);
        qg_buf_addlit(b, "\ndata: ");
    }
    qg_buf_addlit(b, "{\"type\":\"");
    qg_buf_adds(b, type);
    qg_buf_addc(b, '"');
}

/* Ends the object and its frame: one line, plus the blank line that ends
 * an SSE event. */
static void
close_msg(qg_buf *b, mode_msg_framing f)
{
    if (f == MODE_MSG_SSE)
        qg_buf_addlit(b, "}\n\n");
    else
        qg_buf_addlit(b, "}\n");
}

static void
set_member(qg_buf *b, uint32_t set)
{
    qg_buf_addlit(b, ",\"set\":");
    qg_json_uint64(b, set);
}

/* "requestID":"..."[,"clientContextID":"..."] */
static void
ids(qg_buf *b, const char *request_id, const char *client_context_id)
{
    qg_buf_addlit(b, "\"requestID\":");
    qg_json_string(b, request_id, strlen(request_id));
    if (client_context_id) {
        qg_buf_addlit(b, ",\"clientContextID\":");
        qg_json_string(b, client_context_id, strlen(client_context_id));
    }
}

void
mode_msg_record_open(qg_buf *b, mode_msg_framing f, uint32_t set)
{
    open_msg(b, f, "RECORD");
    set_member(b, set);
    qg_buf_addlit(b, ",\"data\":");
}

void
mode_msg_record_close(qg_buf *b, mode_msg_framing f)
{
    close_msg(b, f);
}

void
mode_msg_metadata(qg_buf *b, mode_msg_framing f, uint32_t set, const char *request_id,
                  const char *client_context_id, const rows_col *cols, size_t n)
{
    open_msg(b, f, "METADATA");
    set_member(b, set);
    qg_buf_addlit(b, ",\"data\":{");
    ids(b, request_id, client_context_id);
    qg_buf_addlit(b, ",\"columns\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            qg_buf_addc(b, ',');
        qg_buf_addlit(b, "{\"name\":");
        qg_json_string(b, cols[i].name, cols[i].name_len);
        qg_buf_addlit(b, ",\"type\":");
        if (cols[i].type)
            qg_json_string(b, cols[i].type, strlen(cols[i].type));
        else
            qg_buf_addlit(b, "null");
        qg_buf_addc(b, '}');
    }
    qg_buf_addlit(b, "]}");
    close_msg(b, f);
}

void
mode_msg_stats(qg_buf *b, mode_msg_framing f, uint64_t rows, uint64_t bytes, uint64_t elapsed_ns)
{
    open_msg(b, f, "STATS");
    qg_buf_addlit(b, ",\"data\":{\"resultCount\":");
    qg_json_uint64(b, rows);
    qg_buf_addlit(b, ",\"resultSize\":");
    qg_json_uint64(b, bytes);
    qg_buf_addc(b, ',');
    qg_env_duration(b, "elapsedTime", elapsed_ns);
    qg_buf_addc(b, '}');
    close_msg(b, f);
}

void
mode_msg_heartbeat(qg_buf *b, mode_msg_framing f, uint64_t elapsed_ns)
{
    open_msg(b, f, "HEARTBEAT");
    qg_buf_addlit(b, ",\"data\":{");
    qg_env_duration(b, "elapsedTime", elapsed_ns);
    qg_buf_addc(b, '}');
    close_msg(b, f);
}

void
mode_msg_error(qg_buf *b, mode_msg_framing f, const qg_error *err)
{
    open_msg(b, f, "ERROR");
    qg_buf_addlit(b, ",\"data\":{\"code\":");
    const char *asx = qg_err_asx(err->code);
    qg_json_string(b, asx, strlen(asx));
    qg_buf_addlit(b, ",\"msg\":");
    qg_json_string(b, err->msg, strlen(err->msg));
    qg_buf_addc(b, '}');
    close_msg(b, f);
}

void
mode_msg_end(qg_buf *b, mode_msg_framing f, const char *request_id, const char *client_context_id,
             qg_code outcome, const qg_metrics *m)
{
    open_msg(b, f, "END");
    qg_buf_addlit(b, ",\"data\":{");
    ids(b, request_id, client_context_id);
    qg_buf_addlit(b, ",\"status\":\"");
    qg_buf_adds(b, outcome == QG_OK ? "success" : qg_err_status(outcome));
    qg_buf_addlit(b, "\",");
    qg_env_metrics(b, m);
    qg_buf_addc(b, '}');
    close_msg(b, f);
}
