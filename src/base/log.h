/* log.h - leveled logging to stderr, and CAIRN_ASSERT.
 *
 * CAIRN_ASSERT is on in release builds: a broken invariant of our own is a bug;
 * it logs file, line and the expression, then aborts. Never assert on input from
 * a peer, a client or the disk: validate and return an error instead.
 * Logging is safe from any thread (one fprintf per line).
 */
#ifndef CAIRN_BASE_LOG_H
#define CAIRN_BASE_LOG_H

#include <stdarg.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF } log_level;

void log_level_set(log_level level);
log_level log_level_get(void);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int log_level_parse(const char *s);
/* A short tag printed on every line, e.g. the node's moniker. Copied. */
void log_tag_set(const char *tag);

void log_write(log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
_Noreturn void log_assert_fail(const char *file, int line, const char *expr,
                               const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#define CAIRN_ASSERT(expr)                                                         \
    do {                                                                           \
        if (!(expr)) log_assert_fail(__FILE__, __LINE__, #expr, " ");              \
    } while (0)
/* CAIRN_ASSERTF(a == b, "a=%d b=%d", a, b): with the values involved. */
#define CAIRN_ASSERTF(expr, ...)                                                   \
    do {                                                                           \
        if (!(expr)) log_assert_fail(__FILE__, __LINE__, #expr, __VA_ARGS__);      \
    } while (0)

#endif
