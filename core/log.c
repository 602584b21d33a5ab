/* log: whole-line writes to stderr (see log.h). */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static int min_level = QG_LOG_INFO;

/* Buffered lines; mu guards them (workers log too, rarely). */
#define LOG_BUF 16384
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char pending[LOG_BUF];
static size_t npending;
static int buffered;

static void
write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* mu held */
static void
flush_locked(void)
{
    write_all(pending, npending);
    npending = 0;
}

void
qg_log_flush(void)
{
    pthread_mutex_lock(&mu);
    flush_locked();
    pthread_mutex_unlock(&mu);
}

void
qg_log_buffered(int on)
{
    pthread_mutex_lock(&mu);
    buffered = on;
    if (!on)
        flush_locked();
    pthread_mutex_unlock(&mu);
}
static const char *const names[] = {"debug", "info ", "warn ", "error"};

void
qg_log_set_level(int level)
{
    min_level = level;
}

int
qg_log_parse_level(const char *s)
{
    static const char *const words[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, words[i]) == 0)
            return i;
    return -1;
}

int
qg_log_enabled(int level)
{
    return level >= min_level;
}

/* Writes "2026-11-23T10:15:02.123Z info  " into out (32 bytes). The
 * date-and-time part changes once a second and is formatted only then. */
static size_t
prefix(int level, char *out)
{
    static _Thread_local time_t cached_at = -1;
    static _Thread_local char cached[24];
    uint64_t now = qg_wall_ns();
    time_t secs = (time_t)(now / 1000000000u);
    if (secs != cached_at) {
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_at = secs;
    }
    unsigned ms = (unsigned)(now / 1000000u % 1000u);
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = ' ';
    memcpy(out + 25, names[level & 3], 5);
    out[30] = ' ';
    return 31;
}

/* Queues or writes one finished line (with its '\n'). */
static void
emit(int level, const char *line, size_t n);

void
qg_log_line(int level, const char *text, size_t len)
{
    if (level < min_level)
        return;
    char line[4096];
    size_t n = prefix(level, line);
    if (len > sizeof(line) - n - 1)
        len = sizeof(line) - n - 1;
    memcpy(line + n, text, len);
    n += len;
    line[n++] = '\n';
    emit(level, line, n);
}

void
qg_log(int level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[4096];
    size_t n = prefix(level, line);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    emit(level, line, n);
}

static void
emit(int level, const char *line, size_t n)
{
    pthread_mutex_lock(&mu);
    if (buffered && level < QG_LOG_WARN) {
        if (npending + n > LOG_BUF)
            flush_locked();
        memcpy(pending + npending, line, n);
        npending += n;
    } else {
        /* keep the order: what was buffered goes first */
        flush_locked();
        write_all(line, n);
    }
    pthread_mutex_unlock(&mu);
}
