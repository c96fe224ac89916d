/* cli_util.c - helpers shared by the subcommands (cli.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/crypto.h"

static void vfail(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "cairn %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cairn %s: %s (see 'cairn %s --help')\n", cmd, msg, cmd);
    return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && optopt < 128 && arg[0] == '-' && arg[1] != '-')
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

bool cli_home(char *out, const char *given)
{
    const char *env = getenv("CAIRN_HOME");
    const char *home = getenv("HOME");
    int n;
    if (given && *given)
        n = snprintf(out, CLI_PATH_MAX, "%s", given);
    else if (env && *env)
        n = snprintf(out, CLI_PATH_MAX, "%s", env);
    else if (home && *home)
        n = snprintf(out, CLI_PATH_MAX, "%s/.cairn", home);
    else
        return false;
    if (n <= 0 || n >= CLI_PATH_MAX - 64) return false; /* room for sub-paths */
    while (n > 1 && out[n - 1] == '/') out[--n] = 0;
    return true;
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s || (s[0] == '0' && s[1])) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int cli_print_json(json_t *j)
{
    if (!j) return cli_fail("json", "out of memory");
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s) return cli_fail("json", "out of memory");
    puts(s);
    free(s);
    return CLI_EXIT_OK;
}

bool cli_crypto_init(const char *cmd)
{
    if (crypto_init() == CAIRN_OK) return true;
    cli_fail(cmd, "cannot initialise libsodium");
    return false;
}
