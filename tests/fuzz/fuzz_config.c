/* fuzz_config.c - config.ini loader on arbitrary text.
 * Checks: no crash or leak; an accepted file round-trips through the template
 * (format then load gives an equal config); a rejected one leaves a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t cfg, back;
    char err[CONFIG_ERR_MAX];
    err[0] = 0;
    if (config_load_string("fuzz.ini", (const char *)data, size, &cfg, err) != CAIRN_OK) {
        if (!err[0] || !memchr(err, 0, sizeof err)) abort();
        return 0;
    }
    char *text = NULL;
    if (config_format(&cfg, &text) != CAIRN_OK) abort();
    if (config_load_string("again.ini", text, strlen(text), &back, err) != CAIRN_OK) abort();
    if (!config_equal(&cfg, &back)) abort();
    free(text);
    return 0;
}
