/* envelope: shared pieces of the response document (see envelope.h). */
#include "core/envelope.h"

#include "core/duration.h"
#include "core/json.h"

void
qg_env_duration(qg_buf *b, const char *name, uint64_t ns)
{
    char text[QG_DURATION_MAX_TEXT];
    size_t n = qg_duration_format(ns, text);
    qg_buf_addc(b, '"');
    qg_buf_adds(b, name);
    qg_buf_addlit(b, "\":\"");
    qg_buf_add(b, text, n);
    qg_buf_addc(b, '"');
}

static void
count_field(qg_buf *b, const char *name, uint64_t v)
{
    qg_buf_addc(b, '"');
    qg_buf_adds(b, name);
    qg_buf_addlit(b, "\":");
    qg_json_uint64(b, v);
}

void
qg_env_metrics(qg_buf *b, const qg_metrics *m)
{
    qg_buf_addlit(b, "\"metrics\":{");
    qg_env_duration(b, "elapsedTime", m->elapsed_ns);
    qg_buf_addc(b, ',');
    qg_env_duration(b, "executionTime", m->execution_ns);
    qg_buf_addc(b, ',');
    qg_env_duration(b, "compileTime", m->compile_ns);
    qg_buf_addc(b, ',');
    qg_env_duration(b, "queueWaitTime", m->queue_wait_ns);
    qg_buf_addc(b, ',');
    count_field(b, "resultCount", m->result_count);
    qg_buf_addc(b, ',');
    count_field(b, "resultSize", m->result_size);
    qg_buf_addc(b, ',');
    count_field(b, "processedObjects", m->processed_objects);
    if (m->warning_count) {
        qg_buf_addc(b, ',');
        count_field(b, "warningCount", m->warning_count);
    }
    if (m->error_count) {
        qg_buf_addc(b, ',');
        count_field(b, "errorCount", m->error_count);
    }
    qg_buf_addc(b, '}');
}

void
qg_env_errors(qg_buf *b, const qg_error *e)
{
    qg_buf_addlit(b, "\"errors\":[{\"code\":1,\"msg\":");
    qg_json_string(b, e->msg, strlen(e->msg));
    qg_buf_addlit(b, "}]");
}

void
qg_env_error_doc(qg_buf *b, const qg_error *e, const qg_metrics *m)
{
    qg_metrics zero = {0};
    qg_metrics mm = m ? *m : zero;
    mm.error_count = 1;
    qg_buf_addc(b, '{');
    qg_env_errors(b, e);
    qg_buf_addlit(b, ",\"status\":\"");
    qg_buf_adds(b, qg_err_status(e->code));
    qg_buf_addlit(b, "\",");
    qg_env_metrics(b, &mm);
    qg_buf_addlit(b, "}\n");
}
