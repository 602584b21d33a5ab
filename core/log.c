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

void
qg_log(int level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[4096];
    uint64_t now = qg_wall_ns();
    time_t secs = (time_t)(now / 1000000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03uZ %s ",
                          (unsigned)(now / 1000000u % 1000u), names[level & 3]);
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
