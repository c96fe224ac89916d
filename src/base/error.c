#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const messages[] = {
#define XX(name, msg) [CAIRN_E##name] = msg,
    CAIRN_ERRNO_MAP(XX)
#undef XX
};

static const char *const names[] = {
#define XX(name, msg) [CAIRN_E##name] = #name,
    CAIRN_ERRNO_MAP(XX)
#undef XX
};

const char *cairn_strerror(cairn_err err)
{
    if ((unsigned)err >= CAIRN_E__COUNT) return "unknown error";
    return messages[err];
}

const char *cairn_errname(cairn_err err)
{
    if ((unsigned)err >= CAIRN_E__COUNT) return "UNKNOWN";
    return names[err];
}

cairn_err cairn_fail(cairn_err rc, char *buf, size_t len, const char *fmt, ...)
{
    if (buf && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
    return rc;
}
