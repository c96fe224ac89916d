/* fuzz_genesis.c - genesis.json parser on arbitrary bytes.
 * Checks: no crash or leak; an accepted document's canonical form parses back
 * to the same canonical form and hash; a rejected one leaves a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (crypto_init() != CAIRN_OK) abort();
        ready = 1;
    }
    genesis_t g, back;
    char err[GENESIS_ERR_MAX];
    err[0] = 0;
    if (genesis_parse(&g, "fuzz.json", (const char *)data, size, err) != CAIRN_OK) {
        if (!err[0] || !memchr(err, 0, sizeof err)) abort();
        return 0;
    }
    char *a = NULL, *b = NULL;
    uint8_t h1[HASH_BYTES], h2[HASH_BYTES];
    if (genesis_format(&g, false, &a) != CAIRN_OK) abort();
    if (genesis_parse(&back, "again.json", a, strlen(a), err) != CAIRN_OK) abort();
    if (genesis_format(&back, false, &b) != CAIRN_OK) abort();
    if (strcmp(a, b) != 0) abort();
    if (genesis_hash(&g, h1) != CAIRN_OK || genesis_hash(&back, h2) != CAIRN_OK) abort();
    if (memcmp(h1, h2, HASH_BYTES) != 0) abort();
    valset_t vs;
    if (genesis_valset(&g, &vs) != CAIRN_OK) abort(); /* a valid genesis has a valid set */
    free(a);
    free(b);
    genesis_deinit(&g);
    genesis_deinit(&back);
    return 0;
}
