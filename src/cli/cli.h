#ifndef CAIRN_CLI_CLI_H
#define CAIRN_CLI_CLI_H

#define CAIRN_VERSION "0.1.0"

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

int cli_version(int argc, char **argv);

#endif
