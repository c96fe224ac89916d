/* fuzz_client_json.c - the client's decoders of node answers (src/client/
 * decode.c, cairn/light.h): the first byte picks the decoder, the rest is the
 * JSON text of an RPC result. Round trips: a decoded header, commit or
 * validator set rendered again by rpc/json_chain.h decodes to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/light.h"
#include "client/client.h"
#include "rpc/json_chain.h"

#define CHECK(x)                                                                   \
    do {                                                                           \
        if (!(x)) abort();                                                         \
    } while (0)

static void header_round_trip(const header_t *h)
{
    header_t back;
    char why[LIGHT_WHY_MAX];
    json_t *j = json_chain_header(h);
    CHECK(j);
    CHECK(client_header_from_json(j, &back, why, sizeof why) == CAIRN_OK);
    CHECK(memcmp(h, &back, sizeof back) == 0);
    json_decref(j);
}

static void commit_round_trip(const commit_t *c)
{
    commit_t back;
    char why[LIGHT_WHY_MAX];
    json_t *j = json_chain_commit(c);
    CHECK(j);
    if (client_commit_from_json(j, &back, why, sizeof why) != CAIRN_OK) {
        /* only a nil block id with slots renders differently; the chain
         * never produces one, and the encoder refuses it */
        json_decref(j);
        return;
    }
    CHECK(back.height == c->height && back.round == c->round && back.n_sigs == c->n_sigs);
    CHECK(memcmp(back.block_id, c->block_id, HASH_BYTES) == 0);
    for (uint32_t i = 0; i < c->n_sigs; i++) {
        CHECK(back.sigs[i].flag == c->sigs[i].flag);
        if (c->sigs[i].flag == COMMIT_ABSENT) continue;
        CHECK(memcmp(&back.sigs[i], &c->sigs[i], sizeof back.sigs[i]) == 0);
    }
    commit_free(&back);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) return 0;
    static int inited;
    if (!inited) {
        if (crypto_init() != CAIRN_OK) abort();
        inited = 1;
    }
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char why[LIGHT_WHY_MAX];
    json_t *j = json_loads(text, 0, NULL);
    switch (data[0] % 4) {
    case 0: { /* /commit result */
        header_t h;
        commit_t c;
        if (j && client_signed_header_from_json(j, &h, &c, why, sizeof why) == CAIRN_OK) {
            header_round_trip(&h);
            commit_round_trip(&c);
            commit_free(&c);
        }
        break;
    }
    case 1: { /* /validators result */
        valset_t *vs = malloc(sizeof *vs), *back = malloc(sizeof *back);
        if (vs && back && j &&
            client_valset_from_json(json_object_get(j, "validators"), vs, why, sizeof why) ==
                CAIRN_OK) {
            json_t *again = json_chain_validators(vs, 1, 0, vs->count);
            CHECK(again);
            CHECK(client_valset_from_json(json_object_get(again, "validators"), back, why,
                                          sizeof why) == CAIRN_OK);
            uint8_t a[HASH_BYTES], b[HASH_BYTES];
            CHECK(valset_hash(vs, a) == CAIRN_OK && valset_hash(back, b) == CAIRN_OK);
            CHECK(memcmp(a, b, HASH_BYTES) == 0);
            json_decref(again);
        }
        free(vs);
        free(back);
        break;
    }
    case 2: { /* /abci_query result, checked against an arbitrary header */
        light_query_t q;
        if (light_query_from_json(&q, text, why, sizeof why) == CAIRN_OK) {
            header_t next;
            memset(&next, 0, sizeof next);
            next.height = q.height + 1;
            uint8_t key[1 + ADDR_BYTES];
            memset(key, 'a', sizeof key);
            (void)light_verify_state(&next, q.height, key, sizeof key, &q, why, sizeof why);
            light_query_free(&q);
        }
        break;
    }
    default: { /* a light client fed the text as a signed header */
        light_t lc;
        memset(&lc, 0, sizeof lc);
        (void)light_update_json(&lc, text, NULL, why, sizeof why);
        break;
    }
    }
    json_decref(j);
    free(text);
    return 0;
}
