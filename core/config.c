/* config: the settings table and its four sources (see config.h). */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/duration.h"
#include "core/mem.h"
#include "core/suggest.h"

enum type { T_STR, T_INT, T_DURATION, T_SIZE, T_FLAG };

struct opt {
    const char *name; /* flag without "--", config-file key */
    enum type type;
    size_t off;
    const char *def;
    const char *arg;
    const char *help;
};

#define O(field) offsetof(qg_config, field)

static const struct opt opts[] = {
    {"listen", T_STR, O(listen), "127.0.0.1:19002", "HOST:PORT",
     "address to serve HTTP on (port 0: any)"},
    {"data", T_STR, O(data_dir), "./qgate-data", "DIR", "job store and demo database directory"},
    {"backend", T_STR, O(backend), "", "URI",
     "sqlite:PATH or postgresql://... (default: the demo database in --data)"},
    {"workers", T_INT, O(workers), "4", "N", "executor threads (one database connection each)"},
    {"public-url", T_STR, O(public_url), "", "URL",
     "base URL of handles (https://db.example), or a path prefix (/n1) after the forwarded host"},
    {"config", T_STR, O(config_file), "", "FILE", "read settings from FILE (key = value lines)"},
    {"log-level", T_STR, O(log_level), "info", "LEVEL", "debug, info, warn or error"},
    {"result-ttl", T_DURATION, O(result_ttl_ns), "24h", "DURATION",
     "default lifetime of stored results"},
    {"store-size", T_SIZE, O(store_size), "1GiB", "SIZE",
     "job store map size (its largest size on disk)"},
    {"max-queued", T_INT, O(max_queued), "10000", "N",
     "async jobs waiting to start before 503 (0: no limit)"},
    {"drain-timeout", T_DURATION, O(drain_timeout_ns), "30s", "DURATION",
     "on SIGTERM, how long running requests may take to finish"},
    {"max-body", T_SIZE, O(max_body), "16MiB", "SIZE", "largest request body (413 above)"},
    {"max-statement", T_SIZE, O(max_statement), "4MiB", "SIZE", "longest statement text"},
    {"max-params", T_INT, O(max_params), "10000", "N", "most args + $name parameters"},
    {"max-result-bytes", T_SIZE, O(max_result_bytes), "0", "SIZE",
     "largest result of one request (0: no limit)"},
    {"max-value", T_SIZE, O(max_value), "16MiB", "SIZE",
     "SQLite: longest string or blob a statement may read or build"},
    {"max-connections", T_INT, O(max_connections), "4096", "N",
     "open client connections before 503"},
    {"idle-timeout", T_DURATION, O(idle_timeout_ns), "75s", "DURATION",
     "close keep-alive connections idle this long"},
    {"header-timeout", T_DURATION, O(header_timeout_ns), "10s", "DURATION",
     "time a client has to send a request head"},
    {"body-timeout", T_DURATION, O(body_timeout_ns), "30s", "DURATION",
     "longest pause while a client sends a body"},
    {"send-timeout", T_DURATION, O(send_timeout_ns), "60s", "DURATION",
     "longest pause while a client reads a response"},
    {"stream-heartbeat", T_DURATION, O(stream_heartbeat_ns), "5s", "DURATION",
     "mode=stream: send a HEARTBEAT after this long without output (0: never)"},
    {"trusted-proxies", T_STR, O(trusted_proxies), "", "CIDR[,CIDR...]",
     "peers whose X-Forwarded-* headers are believed"},
    {"auth-file", T_STR, O(auth_file), "", "FILE", "bearer-token principals (off when empty)"},
    {"cors-origins", T_STR, O(cors_origins), "", "ORIGIN[,ORIGIN...]",
     "web pages that may use qgate from a browser: https://app.example[:port] (none when empty)"},
    {"callback-allow", T_STR, O(callback_allow), "", "PATTERN[,PATTERN...]",
     "hosts callback_url may name: host[:port|:*], *.domain[:...], IPv4, [IPv6] (off when empty)"},
    {"callback-secret", T_STR, O(callback_secret), "", "SECRET",
     "HMAC-SHA256 key that signs callbacks (unsigned when empty; prefer the file)"},
    {"callback-secret-file", T_STR, O(callback_secret_file), "", "FILE",
     "read the callback key from FILE (not readable by group or others)"},
    {"callback-retries", T_INT, O(callback_retries), "8", "N",
     "delivery attempts of a callback before it fails"},
    {"callback-backoff", T_DURATION, O(callback_backoff_ns), "1s", "DURATION",
     "wait after a callback's first failed attempt (doubles each time)"},
    {"callback-backoff-max", T_DURATION, O(callback_backoff_max_ns), "10m", "DURATION",
     "longest wait between callback attempts"},
    {"callback-timeout", T_DURATION, O(callback_timeout_ns), "10s", "DURATION",
     "one callback attempt: connect, send, response head"},
    {"max-wait", T_DURATION, O(max_wait_ns), "60s", "DURATION",
     "longest wait= an async submission may ask for"},
    {"idempotency-ttl", T_DURATION, O(idempotency_ttl_ns), "24h", "DURATION",
     "how long an Idempotency-Key names its job"},
    {"batch-workers", T_INT, O(batch_workers), "0", "N",
     "workers async jobs may hold at once; the rest serve waiting clients (0: workers - 1, at least 1)"},
    {"principal-max-queued", T_INT, O(principal_max_queued), "5000", "N",
     "async jobs waiting to start per principal before 429 (0: no limit; auth file: max-queued=)"},
    {"principal-max-running", T_INT, O(principal_max_running), "0", "N",
     "async jobs running at once per principal (0: no limit; auth file: max-running=)"},
    {"principal-result-quota", T_SIZE, O(principal_result_quota), "0", "SIZE",
     "stored result bytes per principal before 429 (0: no limit; auth file: result-quota=)"},
    {"default-timeout", T_DURATION, O(default_timeout_ns), "0", "DURATION",
     "timeout of a request that gives none (0: none; auth file: timeout=)"},
    {"max-timeout", T_DURATION, O(max_timeout_ns), "0", "DURATION",
     "longest timeout a request may ask for (0: no limit; auth file: max-timeout=)"},
    {"max-result-ttl", T_DURATION, O(max_result_ttl_ns), "720h", "DURATION",
     "longest result-ttl a request may ask for"},
    {"max-result-reads", T_INT, O(max_result_reads), "1000", "N",
     "most max-result-reads a request may ask for"},
    {"send-deadline", T_DURATION, O(send_deadline_ns), "5m", "DURATION",
     "longest a response may wait, in all, for its client to read (0: no limit)"},
    {"body-deadline", T_DURATION, O(body_deadline_ns), "5m", "DURATION",
     "longest a client may take to send a request body (0: no limit)"},
    {"help", T_FLAG, O(help), NULL, NULL, "print this help and exit"},
    {"version", T_FLAG, O(version), NULL, NULL, "print the version and exit"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Config errors are for the operator's terminal: the message alone,
 * without the error table's ASX prefix. */
static int
fail(qg_error *e, const char *msg)
{
    e->code = QG_E_INTERNAL;
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
    return -1;
}

int
qg_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    uint64_t mult = 1;
    const char *u = end;
    if (*u) {
        switch (toupper((unsigned char)*u)) {
        case 'K':
            mult = 1ull << 10;
            break;
        case 'M':
            mult = 1ull << 20;
            break;
        case 'G':
            mult = 1ull << 30;
            break;
        case 'T':
            mult = 1ull << 40;
            break;
        case 'B':
            mult = 1;
            u--;
            break;
        default:
            return -1;
        }
        u++;
        if (strcmp(u, "") != 0 && strcasecmp(u, "B") != 0 && strcasecmp(u, "iB") != 0)
            return -1;
    }
    if (mult > 1 && v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* What a value of each type looks like, for the error after a bad one. */
static const char *
type_hint(enum type t)
{
    switch (t) {
    case T_INT:
        return "expected a whole number, e.g. 8";
    case T_DURATION:
        return "expected a duration with a unit, e.g. 30s, 500ms, 10m, 24h (units ns, us, ms, s, "
               "m, h)";
    case T_SIZE:
        return "expected a size in bytes, or with a binary unit: 4096, 64KiB, 16MiB (or 16M), 1GiB";
    case T_STR:
    case T_FLAG:
        break;
    }
    return "";
}

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int
set_opt(qg_config *c, const struct opt *o, const char *val, const char *where, qg_error *err)
{
    char *base = (char *)c;
    char msg[512];
    switch (o->type) {
    case T_STR: {
        char **p = (char **)(base + o->off);
        free(*p);
        *p = qg_strdup(val);
        return 0;
    }
    case T_INT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < 0 || v > INT_MAX)
            break;
        *(int *)(base + o->off) = (int)v;
        return 0;
    }
    case T_DURATION: {
        uint64_t ns;
        if (qg_duration_parse(val, strlen(val), &ns) != 0)
            break;
        *(uint64_t *)(base + o->off) = ns;
        return 0;
    }
    case T_SIZE: {
        uint64_t v;
        if (qg_parse_size(val, &v) != 0)
            break;
        *(uint64_t *)(base + o->off) = v;
        return 0;
    }
    case T_FLAG:
        *(bool *)(base + o->off) = true;
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s: invalid value for %s: '%.200s'; %s", where, o->name, val,
             type_hint(o->type));
    if (o->type == T_DURATION && all_digits(val))
        snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
                 " (a bare number has no unit: did you mean %.20ss?)", val);
    return fail(err, msg);
}

static const struct opt *
find_opt(const char *name, size_t n)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0)
            return &opts[i];
    return NULL;
}

/* The setting whose name is closest to name[0..n), or NULL. */
static const struct opt *
suggest_opt(const char *name, size_t n)
{
    const char *names[sizeof(opts) / sizeof(opts[0])];
    for (size_t i = 0; i < NOPTS; i++)
        names[i] = opts[i].name;
    const char *near = qg_suggest(name, n, names, NOPTS);
    for (size_t i = 0; near && i < NOPTS; i++)
        if (opts[i].name == near)
            return &opts[i];
    return NULL;
}

/* "; did you mean --workers?" for a name close to a setting's, or "". */
static void
did_you_mean(const char *name, size_t n, const char *prefix, char *out, size_t outn)
{
    const struct opt *o = suggest_opt(name, n);
    if (o)
        snprintf(out, outn, "; did you mean %s%s?", prefix, o->name);
    else
        out[0] = '\0';
}

static void
env_name(const struct opt *o, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "QGATE_");
    for (const char *p = o->name; *p && k + 1 < n; p++)
        out[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[k] = '\0';
}

static const char *
env_get(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int
load_file(qg_config *c, const char *path, qg_error *err)
{
    char msg[600];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(msg, sizeof(msg), "cannot read config file %s: %s", path, strerror(errno));
        return fail(err, msg);
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, sizeof(msg), "%s:%d: expected key = value", path, lineno);
            rc = fail(err, msg);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vn = strlen(val);
        if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
            val[vn - 1] = '\0';
            val++;
        }
        const struct opt *o = find_opt(key, strlen(key));
        if (!o || o->type == T_FLAG || strcmp(key, "config") == 0) {
            char near[96];
            did_you_mean(key, strlen(key), "", near, sizeof(near));
            snprintf(msg, sizeof(msg),
                     "%s:%d: unknown setting '%.100s'%s (settings are the flags' "
                     "names without --, see qgate --help)",
                     path, lineno, key, near);
            rc = fail(err, msg);
            break;
        }
        char where[300];
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        rc = set_opt(c, o, val, where, err);
    }
    fclose(f);
    return rc;
}

/* --callback-secret-file: the key is the file's content less one trailing
 * newline. Like --auth-file, a file others may read is refused. */
static int
load_secret(qg_config *c, qg_error *err)
{
    char msg[700];
    const char *path = c->callback_secret_file;
    if (c->callback_secret[0]) {
        snprintf(msg, sizeof(msg),
                 "--callback-secret and --callback-secret-file both given: "
                 "keep one (the file)");
        return fail(err, msg);
    }
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(msg, sizeof(msg), "--callback-secret-file: cannot read %s: %s", path,
                 strerror(errno));
        if (f)
            fclose(f);
        return fail(err, msg);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        fclose(f);
        snprintf(msg, sizeof(msg),
                 "--callback-secret-file: %s may be read by group or others (chmod 600 it)", path);
        return fail(err, msg);
    }
    char key[4097];
    size_t n = fread(key, 1, sizeof(key), f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || n == sizeof(key)) {
        snprintf(msg, sizeof(msg), "--callback-secret-file: %s: %s", path,
                 bad ? "read error" : "longer than 4096 bytes");
        return fail(err, msg);
    }
    if (n > 0 && key[n - 1] == '\n')
        n--;
    if (n > 0 && key[n - 1] == '\r')
        n--;
    if (n == 0 || memchr(key, '\0', n)) {
        snprintf(msg, sizeof(msg), "--callback-secret-file: %s: %s", path,
                 n == 0 ? "empty" : "holds a NUL byte");
        return fail(err, msg);
    }
    free(c->callback_secret);
    c->callback_secret = qg_strndup(key, n);
    explicit_bzero(key, sizeof(key));
    return 0;
}

static int
parse_listen(qg_config *c, qg_error *err)
{
    char msg[400];
    const char *l = c->listen;
    const char *colon = strrchr(l, ':');
    if (!colon || colon == l) {
        snprintf(msg, sizeof(msg),
                 "--listen must be HOST:PORT, not '%.200s' (e.g. 127.0.0.1:19002, [::1]:19002, "
                 "0.0.0.0:19002; port 0: any free port)",
                 l);
        return fail(err, msg);
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535) {
        snprintf(msg, sizeof(msg),
                 "--listen: bad port in '%.200s' (a number from 0 to 65535, e.g. "
                 "127.0.0.1:19002)",
                 l);
        return fail(err, msg);
    }
    const char *h = l;
    size_t hn = (size_t)(colon - l);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    free(c->host);
    c->host = qg_strndup(h, hn);
    c->port = (int)port;
    return 0;
}

/* A QGATE_ variable that names no setting: a warning (a misspelt name would
 * otherwise be ignored without a word), with the closest one. */
static void
env_warnings(qg_config *c, char **envp)
{
    qg_buf w = QG_BUF_INIT;
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "QGATE_", 6) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
        if (n == 12 && strncmp(*e, "QGATE_CONFIG", 12) == 0)
            continue;
        char flag[80];
        size_t k = 0;
        for (size_t i = 6; i < n && k + 1 < sizeof(flag); i++)
            flag[k++] = (*e)[i] == '_' ? '-' : (char)tolower((unsigned char)(*e)[i]);
        flag[k] = '\0';
        const struct opt *o = find_opt(flag, k);
        if (o && o->type != T_FLAG)
            continue;
        char near[96] = "";
        const struct opt *m = suggest_opt(flag, k);
        if (m && m->type != T_FLAG) {
            char vname[64];
            env_name(m, vname, sizeof(vname));
            snprintf(near, sizeof(near), "; did you mean %s?", vname);
        }
        char line[300];
        snprintf(line, sizeof(line),
                 "environment variable %.*s is not a qgate setting; ignored%s\n",
                 (int)(n > 100 ? 100 : n), *e, near);
        qg_buf_adds(&w, line);
    }
    if (w.len)
        c->warnings = qg_strndup(w.data, w.len);
    qg_buf_free(&w);
}

int
qg_config_load(qg_config *c, int argc, char **argv, char **envp, qg_error *err)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].def && set_opt(c, &opts[i], opts[i].def, "default", err) != 0)
            return -1;

    /* The config file named by the flag or the environment comes first,
     * so both can override what it says. */
    const char *file = env_get(envp, "QGATE_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    if (file && *file && load_file(c, file, err) != 0)
        return -1;

    for (size_t i = 0; i < NOPTS; i++) {
        char name[64];
        env_name(&opts[i], name, sizeof(name));
        const char *v = env_get(envp, name);
        if (v && opts[i].type != T_FLAG && set_opt(c, &opts[i], v, name, err) != 0)
            return -1;
    }

    env_warnings(c, envp);

    for (int i = 1; i < argc; i++) {
        char msg[400];
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0) {
            c->help = true;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "-V") == 0) {
            c->version = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(msg, sizeof(msg),
                     "unexpected argument '%.100s': settings are flags, --name value or "
                     "--name=value (e.g. --workers 8); see --help",
                     a);
            return fail(err, msg);
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt *o = find_opt(a, n);
        if (!o) {
            char near[96];
            did_you_mean(a, n, "--", near, sizeof(near));
            snprintf(msg, sizeof(msg), "unknown flag '%.100s'%s (see --help)", argv[i], near);
            return fail(err, msg);
        }
        const char *val = NULL;
        if (o->type == T_FLAG) {
            if (eq) {
                snprintf(msg, sizeof(msg), "--%s takes no value", o->name);
                return fail(err, msg);
            }
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            snprintf(msg, sizeof(msg), "--%s needs a value", o->name);
            return fail(err, msg);
        }
        char where[80];
        snprintf(where, sizeof(where), "--%s", o->name);
        if (set_opt(c, o, val ? val : "", where, err) != 0)
            return -1;
        if (o->off == O(callback_secret))
            c->callback_secret_in_argv = val && *val;
    }
    if (c->help || c->version)
        return 0;
    if (c->workers < 1 || c->workers > 1024)
        return fail(err, "--workers must be between 1 and 1024");
    if (c->callback_retries < 1)
        return fail(err, "--callback-retries must be at least 1");
    if (c->callback_timeout_ns < 1000000)
        return fail(err, "--callback-timeout must be at least 1ms");
    if (c->idempotency_ttl_ns == 0)
        return fail(err, "--idempotency-ttl must be more than 0");
    if (c->max_value < 1024 || c->max_value > 1000000000)
        return fail(err, "--max-value must be between 1KiB and 1000000000 bytes");
    if (c->batch_workers > c->workers)
        return fail(err, "--batch-workers must be at most --workers");
    if (c->max_result_ttl_ns && c->result_ttl_ns > c->max_result_ttl_ns)
        return fail(err, "--result-ttl must be at most --max-result-ttl");
    if (c->callback_secret_file[0] && load_secret(c, err) != 0)
        return -1;
    return parse_listen(c, err);
}

void
qg_config_scrub_argv(int argc, char **argv)
{
    static const char flag[] = "--callback-secret";
    size_t n = sizeof(flag) - 1;
    for (int i = 1; i < argc; i++) {
        char *v = NULL;
        if (strcmp(argv[i], flag) == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], flag, n) == 0 && argv[i][n] == '=')
            v = argv[i] + n + 1;
        if (v)
            memset(v, 'x', strlen(v));
    }
}

void
qg_config_free(qg_config *c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == T_STR) {
            char **p = (char **)((char *)c + opts[i].off);
            free(*p);
            *p = NULL;
        }
    free(c->host);
    c->host = NULL;
    free(c->warnings);
    c->warnings = NULL;
}

void
qg_config_usage(FILE *out)
{
    fprintf(out, "usage: qgate [--flag value]...\n\n"
                 "qgate serves the AsterixDB /query/service protocol over SQLite or PostgreSQL.\n"
                 "Every flag may also be set as QGATE_<FLAG> in the environment (dashes become\n"
                 "underscores) or as `flag = value` in the --config file. Flags win over the\n"
                 "environment, which wins over the file. Durations take a unit (30s, 500ms,\n"
                 "10m, 24h), sizes bytes or a binary unit (4096, 64KiB, 16MiB, 1GiB).\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        if (opts[i].arg)
            snprintf(left, sizeof(left), "--%s %s", opts[i].name, opts[i].arg);
        else /* the flags without value have a short form: -h, -v */
            snprintf(left, sizeof(left), "-%c, --%s", opts[i].name[0], opts[i].name);
        fprintf(out, "  %-32s %s", left, opts[i].help);
        if (opts[i].def && *opts[i].def)
            fprintf(out, " [%s]", opts[i].def);
        fputc('\n', out);
    }
}
