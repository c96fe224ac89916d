#include <stdio.h>

#include "cli/cli.h"

int cli_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("cairn %s\n", CAIRN_VERSION);
    return 0;
}
