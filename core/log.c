/* log: whole-line writes to stderr (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static int min_level = QG_LOG_INFO;
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
    ssize_t w = write(2, line, n);
    (void)w;
}
