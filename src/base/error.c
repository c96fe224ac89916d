#include "base/error.h"

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
