/* cli_client.h - pieces shared by the commands that talk to a node
 * (cmd_block.c, cmd_watch.c). */
#ifndef CAIRN_CLI_CLI_CLIENT_H
#define CAIRN_CLI_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"

/* /block at height (0: latest); *out is a new reference. */
cairn_err cli_block_fetch(client_t *cl, uint64_t height, json_t **out, char *why,
                          size_t why_len) CAIRN_MUST_CHECK;
/* Prints a /block result: a full view, or one line per block (watch). */
void cli_block_print(const json_t *r, bool one_line);

#endif
