/*
 * log: one line per event on stderr.
 *
 * Format: `2026-11-23T10:15:02.123Z info  message`. Each line is built in
 * full and written with one write(2), so lines from different threads never
 * interleave. Any thread may log.
 */
#ifndef QG_LOG_H
#define QG_LOG_H

#include <stddef.h>

enum { QG_LOG_DEBUG, QG_LOG_INFO, QG_LOG_WARN, QG_LOG_ERROR };

/* Buffered mode, for a loaded daemon: debug and info lines collect in a
 * buffer written out when it fills up or qg_log_flush runs (the loop calls
 * it every few tens of milliseconds), so the access log costs one write(2)
 * per batch instead of one per request. Warnings and errors, and every line
 * while buffering is off, are written at once. Off by default; turning it
 * off flushes. Any thread. */
void qg_log_buffered(int on);
void qg_log_flush(void);

/* Sets the lowest level written (default QG_LOG_INFO). Call before threads. */
void qg_log_set_level(int level);
/* Parses "debug", "info", "warn", "error"; -1 if none of those. */
int qg_log_parse_level(const char *s);
int qg_log_enabled(int level);

void qg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line already formatted (no '\n'): the access log's, built without
 * printf on the hot path. */
void qg_log_line(int level, const char *text, size_t len);

#define qg_debug(...) qg_log(QG_LOG_DEBUG, __VA_ARGS__)
#define qg_info(...)  qg_log(QG_LOG_INFO, __VA_ARGS__)
#define qg_warn(...)  qg_log(QG_LOG_WARN, __VA_ARGS__)
#define qg_err(...)   qg_log(QG_LOG_ERROR, __VA_ARGS__)

#endif
