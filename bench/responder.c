/*
 * responder: the reference server for qgate's HTTP benchmarks.
 *
 * A minimal libevhtp server, one thread, keep-alive, that answers every
 * request with one fixed AsterixDB envelope: no parameters, no query, no
 * worker hand-off. What qgate does on top of this is what the benchmarks
 * measure. The envelope is padded with JSON whitespace to the size of the
 * answer qgate gives for the same request, so both sides move the same bytes.
 *
 *   responder KIND BYTES      KIND: query (a SELECT 1 result) or status (a
 *                             finished job's status); BYTES: body size
 *
 * Listens on 127.0.0.1, a free port, and says so on stderr:
 * "responder listening on http://127.0.0.1:PORT". SIGTERM/SIGINT stop it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <evhtp/evhtp.h>

static const char query_env[] =
    "{\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"signature\":{\"*\":\"*\"},"
    "\"results\":[{\"1\":1}],\"plans\":{},\"status\":\"success\",\"metrics\":{"
    "\"elapsedTime\":\"100.0µs\",\"executionTime\":\"50.0µs\",\"compileTime\":\"20.0µs\","
    "\"queueWaitTime\":\"10.0µs\",\"resultCount\":1,\"resultSize\":7,\"processedObjects\":1}}";

static const char status_env[] =
    "{\"requestID\":\"00000000-0000-4000-8000-000000000000\",\"status\":\"success\","
    "\"handle\":\"/query/service/result/1-0\",\"metrics\":{\"elapsedTime\":\"100.0µs\","
    "\"executionTime\":\"50.0µs\",\"resultCount\":1,\"resultSize\":7}}";

typedef struct responder {
    char *body;
    size_t body_len;
    time_t date_at;
    char date[64];
} responder;

/* The Date header, rendered once a second. */
static const char *
date_header(responder *r)
{
    time_t now = time(NULL);
    if (now != r->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(r->date, sizeof(r->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        r->date_at = now;
    }
    return r->date;
}

static void
answer(evhtp_request_t *req, void *arg)
{
    responder *r = arg;
    evhtp_headers_add_header(req->headers_out, evhtp_header_new("Date", date_header(r), 0, 1));
    evhtp_headers_add_header(req->headers_out,
                             evhtp_header_new("Server", "responder/0.1", 0, 0));
    evhtp_headers_add_header(
        req->headers_out,
        evhtp_header_new("Content-Type", "application/json; charset=UTF-8", 0, 0));
    evbuffer_add_reference(req->buffer_out, r->body, r->body_len, NULL, NULL);
    evhtp_send_reply(req, EVHTP_RES_OK);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* The envelope, padded before its last brace to want bytes (if shorter). */
static char *
make_body(const char *env, size_t want, size_t *len)
{
    size_t n = strlen(env);
    size_t total = want > n ? want : n;
    char *b = malloc(total);
    if (!b)
        return NULL;
    memcpy(b, env, n - 1);
    memset(b + n - 1, ' ', total - n);
    b[total - 1] = '}';
    *len = total;
    return b;
}

int
main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "query") != 0 && strcmp(argv[1], "status") != 0)) {
        fprintf(stderr, "usage: responder query|status BODY_BYTES\n");
        return 2;
    }
    char *end;
    unsigned long want = strtoul(argv[2], &end, 10);
    if (*end || want > 1u << 20) {
        fprintf(stderr, "responder: bad BODY_BYTES '%s'\n", argv[2]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    responder r = {0};
    r.body = make_body(strcmp(argv[1], "query") == 0 ? query_env : status_env, want, &r.body_len);
    struct event_base *base = event_base_new();
    evhtp_t *htp = base ? evhtp_new(base, NULL) : NULL;
    if (!r.body || !htp) {
        fprintf(stderr, "responder: out of memory\n");
        return 1;
    }
    evhtp_set_gencb(htp, answer, &r);
    if (evhtp_bind_socket(htp, "127.0.0.1", 0, 4096) != 0) {
        perror("responder: bind");
        return 1;
    }
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    if (getsockname(evconnlistener_get_fd(htp->server), (struct sockaddr *)&sin, &sl) != 0) {
        perror("responder: getsockname");
        return 1;
    }

    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    fprintf(stderr, "responder %s %zu bytes listening on http://127.0.0.1:%d\n", argv[1],
            r.body_len, ntohs(sin.sin_port));

    event_base_dispatch(base);

    event_free(sigterm);
    event_free(sigint);
    evhtp_unbind_socket(htp);
    evhtp_free(htp);
    event_base_free(base);
    free(r.body);
    return 0;
}
