/* fetch.c - what the light client needs, fetched over RPC and decoded; the
 * verification itself is light.c's (client.h, cairn/light.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

#define VALIDATORS_PER_PAGE 100

static json_t *u64_str(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

/* Prefixes a decoding error with the endpoint it came from. */
static cairn_err in_answer(cairn_err rc, const char *what, char *why, size_t why_len)
{
    if (rc == CAIRN_OK || !why || !why_len) return rc;
    char tmp[CLIENT_WHY_MAX];
    snprintf(tmp, sizeof tmp, "%s", why);
    snprintf(why, why_len, "bad %s answer: %s", what, tmp);
    return rc;
}

cairn_err client_status_latest(client_t *c, uint64_t *height, chain_id_t *cid, char *why,
                               size_t why_len)
{
    json_t *r;
    CAIRN_TRY(client_call(c, "status", NULL, &r, why, why_len));
    cairn_err rc = client_json_u64(json_object_get(json_object_get(r, "sync_info"),
                                                   "latest_block_height"),
                                   "sync_info.latest_block_height", height, why, why_len);
    const char *net = json_string_value(json_object_get(json_object_get(r, "node_info"), "network"));
    if (!rc && cid && (!net || chain_id_set(cid, net) != CAIRN_OK))
        rc = cairn_fail(CAIRN_EBAD_ENCODING, why, why_len, "node_info.network: not a chain id");
    json_decref(r);
    return in_answer(rc, "/status", why, why_len);
}

cairn_err client_fetch_signed_header(client_t *c, uint64_t height, header_t *h, commit_t *cm,
                                     char *why, size_t why_len)
{
    json_t *p = json_pack("{s:o}", "height", u64_str(height));
    json_t *r;
    if (!p) return CAIRN_ENOMEM;
    cairn_err rc = client_call(c, "commit", p, &r, why, why_len);
    json_decref(p);
    if (rc) return rc;
    rc = in_answer(client_signed_header_from_json(r, h, cm, why, why_len), "/commit", why,
                   why_len);
    json_decref(r);
    if (!rc && h->height != height) {
        commit_free(cm);
        rc = cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                 "asked /commit for height %" PRIu64 ", the node sent height %" PRIu64, height,
                 h->height);
    }
    return rc;
}

cairn_err client_fetch_valset(client_t *c, uint64_t height, valset_t *vs, char *why,
                              size_t why_len)
{
    json_t *all = json_array();
    cairn_err rc = CAIRN_ENOMEM;
    if (!all) return rc;
    for (uint64_t page = 1; page <= VALIDATORS_MAX / VALIDATORS_PER_PAGE + 1; page++) {
        json_t *p = json_pack("{s:o,s:o,s:s}", "height", u64_str(height), "page", u64_str(page),
                              "per_page", "100");
        json_t *r;
        if (!p) goto out;
        rc = client_call(c, "validators", p, &r, why, why_len);
        json_decref(p);
        if (rc) goto out;
        uint64_t total = 0;
        json_t *vals = json_object_get(r, "validators");
        rc = client_json_u64(json_object_get(r, "total"), "total", &total, why, why_len);
        if (!rc && (!json_is_array(vals) || total > VALIDATORS_MAX))
            rc = cairn_fail(CAIRN_EBAD_ENCODING, why, why_len, "validators: expected an array of at "
                                                        "most %d", VALIDATORS_MAX);
        if (!rc && json_array_extend(all, vals) != 0) rc = CAIRN_ENOMEM;
        json_decref(r);
        if (rc) goto out;
        if (json_array_size(all) >= total || json_array_size(vals) == 0) break;
    }
    rc = client_valset_from_json(all, vs, why, why_len);
out:
    json_decref(all);
    return in_answer(rc, "/validators", why, why_len);
}

cairn_err client_fetch_query(client_t *c, const char *path, const uint8_t *data, size_t n,
                             uint64_t height, bool prove, light_query_t *q, char *why,
                             size_t why_len)
{
    char *hex = malloc(2 * n + 1);
    if (!hex) return CAIRN_ENOMEM;
    hex_encode_upper(hex, data, n);
    json_t *p = json_pack("{s:s,s:s,s:o,s:b}", "path", path, "data", hex, "height",
                          u64_str(height), "prove", prove);
    free(hex);
    if (!p) return CAIRN_ENOMEM;
    json_t *r;
    cairn_err rc = client_call(c, "abci_query", p, &r, why, why_len);
    json_decref(p);
    if (rc) return rc;
    rc = in_answer(client_query_from_json(r, q, why, why_len), "/abci_query", why, why_len);
    json_decref(r);
    return rc;
}

static cairn_err rpc_header_cb(void *ctx, uint64_t height, header_t *h, commit_t *c, char *why,
                               size_t why_len)
{
    return client_fetch_signed_header(ctx, height, h, c, why, why_len);
}

static cairn_err rpc_valset_cb(void *ctx, uint64_t height, valset_t *vs, char *why,
                               size_t why_len)
{
    return client_fetch_valset(ctx, height, vs, why, why_len);
}

cairn_err client_light_sync(client_t *c, light_t *lc, uint64_t target, uint64_t *headers,
                            char *why, size_t why_len)
{
    light_source_t src = {c, rpc_header_cb, rpc_valset_cb};
    return light_sync(&src, lc, target, headers, why, why_len);
}

cairn_err client_light_init_trusted(client_t *c, light_t *lc, uint64_t height,
                                    const uint8_t hash[static HASH_BYTES], char *why,
                                    size_t why_len)
{
    header_t h;
    commit_t cm;
    if (height == 0) return cairn_fail(CAIRN_EINVALID_ARG, why, why_len, "trusted height must be >= 1");
    CAIRN_TRY(client_fetch_signed_header(c, height, &h, &cm, why, why_len));
    commit_free(&cm);
    valset_t *next = malloc(sizeof *next);
    if (!next) return CAIRN_ENOMEM;
    cairn_err rc = client_fetch_valset(c, height + 1, next, why, why_len);
    if (!rc) rc = light_init_trusted(lc, hash, &h, next, why, why_len);
    free(next);
    return rc;
}

cairn_err client_query_verified(client_t *c, light_t *lc, const char *path, const uint8_t *data,
                                size_t n, uint64_t height, light_query_t *q, char *why,
                                size_t why_len)
{
    uint8_t key[LIGHT_STATE_KEY_MAX];
    size_t kn;
    if (light_state_key(path, data, n, key, &kn) != CAIRN_OK)
        return cairn_fail(CAIRN_EINVALID_ARG, why, why_len, "cannot verify query path '%s'", path);
    if (height == 0) {
        uint64_t latest;
        CAIRN_TRY(client_status_latest(c, &latest, NULL, why, why_len));
        if (latest < 2)
            return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                       "the chain is at height %" PRIu64 ": a verified query needs block 2",
                       latest);
        height = latest - 1;
        if (height + 1 < lc->height) height = lc->height - 1;
    }
    CAIRN_TRY(client_light_sync(c, lc, height + 1, NULL, why, why_len));
    light_query_t got;
    CAIRN_TRY(client_fetch_query(c, path, data, n, height, true, &got, why, why_len));
    cairn_err rc = light_verify_state(&lc->header, height, key, kn, &got, why, why_len);
    if (rc) {
        light_query_free(&got);
        return rc;
    }
    *q = got;
    return CAIRN_OK;
}
