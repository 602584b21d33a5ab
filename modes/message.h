/*
 * message: the typed messages of mode=stream, as text.
 *
 * A stream is a sequence of JSON objects, each {"type":"<TYPE>", ...}:
 *
 *   METADATA  {"type":"METADATA","set":S,"data":{"requestID":..,
 *             ["clientContextID":..,]"columns":[{"name":..,"type":..|null},...]}}
 *   RECORD    {"type":"RECORD","set":S,"data":<the row object>}
 *   STATS     {"type":"STATS","data":{"resultCount":N,"resultSize":B,"elapsedTime":".."}}
 *   HEARTBEAT {"type":"HEARTBEAT","data":{"elapsedTime":".."}}
 *   ERROR     {"type":"ERROR","data":{"code":"ASXnnnn","msg":"ASXnnnn: .."}}
 *   END       {"type":"END","data":{"requestID":..,["clientContextID":..,]
 *             "status":"success|fatal|timeout","metrics":{...}}}
 *
 * framed either as NDJSON (each object on one line, ended by "\n") or as
 * Server-Sent Events ("event: <TYPE>\n" "data: <object>\n" "\n"). Every
 * object is one line in both: JSON text escapes every control character,
 * so no value can break a frame. docs/api.md is the client's description.
 *
 * Pure text writers appending to a qg_buf; any thread.
 */
#ifndef QG_MODES_MESSAGE_H
#define QG_MODES_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/err.h"
#include "exec/rows.h"

typedef enum mode_msg_framing { MODE_MSG_NDJSON, MODE_MSG_SSE } mode_msg_framing;

/* The Content-Type of a stream in framing f. */
const char *mode_msg_content_type(mode_msg_framing f);

/* RECORD, in two halves around the row object the row writer rendered, so
 * the row is copied once: open, the row's text, close. */
void mode_msg_record_open(qg_buf *b, mode_msg_framing f, uint32_t set);
void mode_msg_record_close(qg_buf *b, mode_msg_framing f);

/* METADATA of result set `set` with its n columns (name, and type or null).
 * client_context_id may be NULL (left out). */
void mode_msg_metadata(qg_buf *b, mode_msg_framing f, uint32_t set, const char *request_id,
                       const char *client_context_id, const rows_col *cols, size_t n);

/* STATS: rows and bytes of row text in the RECORDs sent before it, and the
 * time since the request arrived. */
void mode_msg_stats(qg_buf *b, mode_msg_framing f, uint64_t rows, uint64_t bytes,
                    uint64_t elapsed_ns);

void mode_msg_heartbeat(qg_buf *b, mode_msg_framing f, uint64_t elapsed_ns);

/* ERROR: err's ASX code and its whole message (as the envelope's msg). */
void mode_msg_error(qg_buf *b, mode_msg_framing f, const qg_error *err);

/* END: the status of outcome (QG_OK: "success"; else the error's envelope
 * status) and the metrics, as in the envelope. */
void mode_msg_end(qg_buf *b, mode_msg_framing f, const char *request_id,
                  const char *client_context_id, qg_code outcome, const qg_metrics *m);

#endif
