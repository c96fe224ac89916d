#include "base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static log_level current_level = LOG_INFO;
static char tag[32];

void log_level_set(log_level level) { current_level = level; }
log_level log_level_get(void) { return current_level; }

void log_tag_set(const char *t)
{
    snprintf(tag, sizeof tag, "%s", t ? t : "");
}

int log_level_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= LOG_OFF; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static void vlog(const char *level, const char *file, int line, const char *fmt,
                 va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    const char *base = strrchr(file, '/');
    fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%s %s:%d %s\n", tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000000, tag[0] ? tag : "", tag[0] ? " " : "",
            level, base ? base + 1 : file, line, msg);
}

void log_write(log_level level, const char *file, int line, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    if (level < current_level || level >= LOG_OFF) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(names[level], file, line, fmt, ap);
    va_end(ap);
}

void log_assert_fail(const char *file, int line, const char *expr, const char *fmt,
                     ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: assertion failed: %s %s\n", file, line, expr, msg);
    fflush(stderr);
    abort();
}
