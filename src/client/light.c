/* light.c - the light client's verification rules (include/cairn/light.h).
 * Pure: what it checks comes in as arguments; src/client/fetch.c fetches. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cairn/light.h"
#include "cairn/proof.h"
#include "client/client.h"
#include "node/genesis.h"

static void hexs(char *out, const uint8_t *p, size_t n) { hex_encode_upper(out, p, n); }

/* ------------------------------------------------------------ start of trust */

cairn_err light_init_genesis(light_t *lc, const chain_id_t *cid, const valset_t *vs, char *why,
                             size_t why_len)
{
    light_t l;
    memset(&l, 0, sizeof l);
    l.chain_id = *cid;
    l.validators = *vs;
    cairn_err rc = valset_hash(vs, l.validators_hash);
    if (rc) return cairn_fail(rc, why, why_len, "cannot hash the genesis validator set: %s",
                       cairn_strerror(rc));
    *lc = l;
    return CAIRN_OK;
}

cairn_err light_init_genesis_json(light_t *lc, const char *genesis_json, size_t len, char *why,
                                  size_t why_len)
{
    genesis_t *g = malloc(sizeof *g);
    if (!g) return CAIRN_ENOMEM;
    genesis_init(g);
    char err[GENESIS_ERR_MAX];
    valset_t *vs = malloc(sizeof *vs);
    cairn_err rc = CAIRN_ENOMEM;
    if (!vs) goto out;
    rc = genesis_parse(g, "genesis", genesis_json, len, err);
    if (rc) {
        cairn_fail(rc, why, why_len, "%s", err);
        goto out;
    }
    if (g->initial_height != 1) {
        rc = cairn_fail(CAIRN_EUNSUPPORTED, why, why_len,
                 "genesis initial_height is not 1: start from --trusted-height/--trusted-hash");
        goto out;
    }
    rc = genesis_valset(g, vs);
    if (rc) {
        cairn_fail(rc, why, why_len, "genesis validators: %s", cairn_strerror(rc));
        goto out;
    }
    rc = light_init_genesis(lc, &g->chain_id, vs, why, why_len);
out:
    free(vs);
    genesis_deinit(g);
    free(g);
    return rc;
}

static cairn_err check_next_valset(const header_t *h, const valset_t *next_vs, uint8_t out[HASH_BYTES],
                                   char *why, size_t why_len)
{
    cairn_err rc = valset_hash(next_vs, out);
    if (rc) return cairn_fail(rc, why, why_len, "cannot hash a validator set: %s", cairn_strerror(rc));
    if (memcmp(out, h->next_validators_hash, HASH_BYTES) != 0) {
        char a[2 * HASH_BYTES + 1], b[2 * HASH_BYTES + 1];
        hexs(a, out, HASH_BYTES);
        hexs(b, h->next_validators_hash, HASH_BYTES);
        return cairn_fail(CAIRN_EBAD_HASH, why, why_len,
                   "validator set from the node (hash %s) does not match next_validators_hash "
                   "%s of header %" PRIu64, a, b, h->height);
    }
    return CAIRN_OK;
}

cairn_err light_init_trusted(light_t *lc, const uint8_t hash[static HASH_BYTES],
                             const header_t *h, const valset_t *next_vs, char *why,
                             size_t why_len)
{
    uint8_t got[HASH_BYTES];
    cairn_err rc = header_hash(h, got);
    if (rc) return cairn_fail(rc, why, why_len, "cannot hash header: %s", cairn_strerror(rc));
    if (memcmp(got, hash, HASH_BYTES) != 0) {
        char a[2 * HASH_BYTES + 1], b[2 * HASH_BYTES + 1];
        hexs(a, got, HASH_BYTES);
        hexs(b, hash, HASH_BYTES);
        return cairn_fail(CAIRN_EBAD_HASH, why, why_len,
                   "header %" PRIu64 " from the node hashes to %s, not the trusted hash %s",
                   h->height, a, b);
    }
    light_t l;
    memset(&l, 0, sizeof l);
    CAIRN_TRY(check_next_valset(h, next_vs, l.validators_hash, why, why_len));
    l.chain_id = h->chain_id;
    l.height = h->height;
    memcpy(l.hash, hash, HASH_BYTES);
    l.header = *h;
    l.validators = *next_vs;
    *lc = l;
    return CAIRN_OK;
}

static cairn_err parse_json(const char *text, json_t **out, const char *what, char *why,
                            size_t why_len)
{
    json_error_t e;
    *out = text ? json_loads(text, JSON_REJECT_DUPLICATES, &e) : NULL;
    if (!*out) return cairn_fail(CAIRN_EBAD_ENCODING, why, why_len, "%s: not JSON", what);
    return CAIRN_OK;
}

/* A /validators result's "validators" array into a set. */
static cairn_err valset_from_text(const char *text, valset_t *vs, char *why, size_t why_len)
{
    json_t *j;
    CAIRN_TRY(parse_json(text, &j, "validators", why, why_len));
    cairn_err rc = client_valset_from_json(json_object_get(j, "validators"), vs, why, why_len);
    json_decref(j);
    return rc;
}

cairn_err light_init_trusted_json(light_t *lc, const uint8_t hash[static HASH_BYTES],
                                  const char *commit_json, const char *next_validators_json,
                                  char *why, size_t why_len)
{
    json_t *j;
    CAIRN_TRY(parse_json(commit_json, &j, "commit", why, why_len));
    header_t h;
    commit_t c;
    cairn_err rc = client_signed_header_from_json(j, &h, &c, why, why_len);
    json_decref(j);
    if (rc) return rc;
    commit_free(&c);
    valset_t *vs = malloc(sizeof *vs);
    if (!vs) return CAIRN_ENOMEM;
    rc = valset_from_text(next_validators_json, vs, why, why_len);
    if (!rc) rc = light_init_trusted(lc, hash, &h, vs, why, why_len);
    free(vs);
    return rc;
}

/* ------------------------------------------------------------ headers */

cairn_err light_verify_signed_header(const chain_id_t *cid, const valset_t *vs,
                                     const header_t *h, const commit_t *c, char *why,
                                     size_t why_len)
{
    uint8_t id[HASH_BYTES];
    cairn_err rc;
    if (!chain_id_equal(&h->chain_id, cid))
        return cairn_fail(CAIRN_EBAD_CHAIN_ID, why, why_len, "header %" PRIu64 " is for chain '%s', not '%s'",
                   h->height, h->chain_id.id, cid->id);
    if (c->height != h->height)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "commit is for height %" PRIu64 " but the header for height %" PRIu64,
                   c->height, h->height);
    if ((rc = header_hash(h, id)))
        return cairn_fail(rc, why, why_len, "cannot hash header: %s", cairn_strerror(rc));
    if (memcmp(id, c->block_id, HASH_BYTES) != 0)
        return cairn_fail(CAIRN_EBAD_HASH, why, why_len,
                   "header hash does not match the commit at height %" PRIu64
                   " (the header was altered, or the commit is for another block)", h->height);
    if (c->n_sigs != vs->count)
        return cairn_fail(CAIRN_EBAD_COMMIT, why, why_len,
                   "commit at height %" PRIu64 " has %u signature slots for %u validators",
                   h->height, c->n_sigs, vs->count);
    /* our own pass first, to name what is wrong; commit_verify decides */
    int64_t power = 0;
    for (uint32_t i = 0; i < c->n_sigs; i++) {
        const commit_sig_t *s = &c->sigs[i];
        if (s->flag == COMMIT_ABSENT) continue;
        char addr[2 * ADDR_BYTES + 1];
        hexs(addr, s->validator, ADDR_BYTES);
        if (memcmp(s->validator, vs->v[i].address, ADDR_BYTES) != 0)
            return cairn_fail(CAIRN_EBAD_VALIDATOR, why, why_len,
                       "commit slot %u at height %" PRIu64 " is signed by %s, which is not "
                       "validator %u of the trusted set", i, h->height, addr, i);
        vote_t v;
        commit_sig_to_vote(c, i, &v);
        if (vote_verify(&v, cid, vs->v[i].pub) != CAIRN_OK)
            return cairn_fail(CAIRN_EBAD_SIGNATURE, why, why_len,
                       "bad signature from validator %s in the commit at height %" PRIu64, addr,
                       h->height);
        if (s->flag == COMMIT_FOR_BLOCK) power += vs->v[i].power;
    }
    if (!valset_has_quorum(vs, power))
        return cairn_fail(CAIRN_EBAD_COMMIT, why, why_len,
                   "commit signed by less than 2/3 of the validators at height %" PRIu64
                   " (%" PRId64 " of %" PRId64 " voting power)", h->height, power,
                   vs->total_power);
    rc = commit_verify(c, cid, vs, h->height, id);
    if (rc)
        return cairn_fail(rc, why, why_len, "commit at height %" PRIu64 " does not verify: %s",
                   h->height, cairn_strerror(rc));
    return CAIRN_OK;
}

cairn_err light_update(light_t *lc, const header_t *h, const commit_t *c, const valset_t *next_vs,
                       char *why, size_t why_len)
{
    char a[2 * HASH_BYTES + 1], b[2 * HASH_BYTES + 1];
    if (h->height <= lc->height)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "header %" PRIu64 " is not above the trusted height %" PRIu64, h->height,
                   lc->height);
    if (memcmp(h->validators_hash, lc->validators_hash, HASH_BYTES) != 0) {
        hexs(a, h->validators_hash, HASH_BYTES);
        hexs(b, lc->validators_hash, HASH_BYTES);
        if (h->height == lc->height + 1)
            return cairn_fail(CAIRN_EBAD_HASH, why, why_len,
                       "header %" PRIu64 " names validators %s but the trusted validator set "
                       "is %s", h->height, a, b);
        return cairn_fail(CAIRN_EBAD_VALIDATOR, why, why_len,
                   "the validator set changed between height %" PRIu64 " and %" PRIu64
                   ": verify the headers in between", lc->height, h->height);
    }
    /* BFT time only moves forward (chain.h block_validate): a later header with
     * an earlier time is forged, whoever signed it. */
    if (lc->height > 0 && h->time_ns <= lc->header.time_ns)
        return cairn_fail(CAIRN_EBAD_TIME, why, why_len,
                   "header %" PRIu64 " is not later than the trusted header %" PRIu64
                   " (its time does not move forward)", h->height, lc->height);
    if (h->height == lc->height + 1 && memcmp(h->last_block_id, lc->hash, HASH_BYTES) != 0)
        return cairn_fail(CAIRN_EBAD_HASH, why, why_len,
                   "header %" PRIu64 " does not follow the trusted header %" PRIu64
                   " (last_block_id differs)", h->height, lc->height);
    CAIRN_TRY(light_verify_signed_header(&lc->chain_id, &lc->validators, h, c, why, why_len));
    uint8_t next_hash[HASH_BYTES];
    const valset_t *nv = &lc->validators;
    if (memcmp(h->next_validators_hash, h->validators_hash, HASH_BYTES) != 0) {
        if (!next_vs)
            return cairn_fail(CAIRN_EINVALID_ARG, why, why_len,
                       "header %" PRIu64 " changes the validator set: the next set is needed",
                       h->height);
        CAIRN_TRY(check_next_valset(h, next_vs, next_hash, why, why_len));
        nv = next_vs;
    } else {
        memcpy(next_hash, lc->validators_hash, HASH_BYTES);
    }
    if (nv != &lc->validators) lc->validators = *nv;
    memcpy(lc->validators_hash, next_hash, HASH_BYTES);
    lc->height = h->height;
    memcpy(lc->hash, c->block_id, HASH_BYTES);
    lc->header = *h;
    return CAIRN_OK;
}

cairn_err light_update_json(light_t *lc, const char *commit_json, const char *next_validators_json,
                            char *why, size_t why_len)
{
    json_t *j;
    CAIRN_TRY(parse_json(commit_json, &j, "commit", why, why_len));
    header_t h;
    commit_t c;
    cairn_err rc = client_signed_header_from_json(j, &h, &c, why, why_len);
    json_decref(j);
    if (rc) return rc;
    valset_t *vs = NULL;
    if (next_validators_json) {
        if (!(vs = malloc(sizeof *vs))) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        if ((rc = valset_from_text(next_validators_json, vs, why, why_len))) goto out;
    }
    rc = light_update(lc, &h, &c, vs, why, why_len);
out:
    free(vs);
    commit_free(&c);
    return rc;
}

/* ------------------------------------------------------------ sync */

/* Verifies header `height` against lc and moves lc to it. */
static cairn_err step(const light_source_t *src, light_t *lc, uint64_t height,
                      const header_t *h, const commit_t *cm, char *why, size_t why_len)
{
    valset_t *next = NULL;
    cairn_err rc;
    if (memcmp(h->next_validators_hash, h->validators_hash, HASH_BYTES) != 0) {
        if (!(next = malloc(sizeof *next))) return CAIRN_ENOMEM;
        if ((rc = src->valset_cb(src->ctx, height + 1, next, why, why_len))) goto out;
    }
    rc = light_update(lc, h, cm, next, why, why_len);
out:
    free(next);
    return rc;
}

/* A header from the source, checked to be the height asked for. */
static cairn_err get_header(const light_source_t *src, uint64_t height, header_t *h,
                            commit_t *cm, char *why, size_t why_len)
{
    CAIRN_TRY(src->signed_header_cb(src->ctx, height, h, cm, why, why_len));
    if (h->height != height) {
        commit_free(cm);
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "asked for header %" PRIu64 ", the node sent header %" PRIu64, height,
                   h->height);
    }
    return CAIRN_OK;
}

cairn_err light_sync(const light_source_t *src, light_t *lc, uint64_t target,
                                 uint64_t *headers, char *why, size_t why_len)
{
    uint64_t count = 0;
    if (headers) *headers = 0;
    if (target == lc->height) return CAIRN_OK;
    if (target < lc->height)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "height %" PRIu64 " is below the trusted height %" PRIu64
                   ": start from an older trusted header", target, lc->height);
    header_t h;
    commit_t cm;
    /* Same validators as trusted: one signed header is enough. */
    CAIRN_TRY(get_header(src, target, &h, &cm, why, why_len));
    if (memcmp(h.validators_hash, lc->validators_hash, HASH_BYTES) == 0 ||
        target == lc->height + 1) {
        cairn_err rc = step(src, lc, target, &h, &cm, why, why_len);
        commit_free(&cm);
        if (!rc && headers) *headers = 1;
        return rc;
    }
    commit_free(&cm);
    /* The set changed somewhere: walk every height (sequential verification). */
    for (uint64_t ht = lc->height + 1; ht <= target; ht++) {
        if (++count > LIGHT_SYNC_HEADERS_MAX)
            return cairn_fail(CAIRN_ELIMIT, why, why_len, "more than %d headers to verify: start from "
                                                   "a newer trusted header", LIGHT_SYNC_HEADERS_MAX);
        CAIRN_TRY(get_header(src, ht, &h, &cm, why, why_len));
        cairn_err rc = step(src, lc, ht, &h, &cm, why, why_len);
        commit_free(&cm);
        if (rc) return rc;
        if (headers) *headers = count;
    }
    return CAIRN_OK;
}

/* ------------------------------------------------------------ state proofs */

void light_query_free(light_query_t *q)
{
    if (!q) return;
    free(q->value);
    free(q->proof);
    q->value = q->proof = NULL;
    q->value_len = q->proof_len = 0;
}

cairn_err light_query_from_json(light_query_t *q, const char *abci_query_json, char *why,
                                size_t why_len)
{
    json_t *j;
    CAIRN_TRY(parse_json(abci_query_json, &j, "abci_query", why, why_len));
    cairn_err rc = client_query_from_json(j, q, why, why_len);
    json_decref(j);
    return rc;
}

cairn_err light_state_key(const char *path, const uint8_t *data, size_t n,
                          uint8_t out[static LIGHT_STATE_KEY_MAX], size_t *out_len)
{
    if (!path) return CAIRN_EINVALID_ARG;
    if (!strcmp(path, "/account")) {
        if (n != ADDR_BYTES) return CAIRN_EINVALID_ARG;
        *out_len = ledger_account_key(out, data);
    } else if (!strcmp(path, "/record")) {
        if (n <= ADDR_BYTES || n > ADDR_BYTES + TX_KEY_MAX) return CAIRN_EINVALID_ARG;
        *out_len = ledger_record_key(out, data, data + ADDR_BYTES, n - ADDR_BYTES);
    } else if (!strcmp(path, "/state")) {
        if (n == 0 || n > LIGHT_STATE_KEY_MAX) return CAIRN_EINVALID_ARG;
        memcpy(out, data, n);
        *out_len = n;
    } else {
        return CAIRN_EINVALID_ARG;
    }
    return CAIRN_OK;
}

/* The leaf a proof of kind 1 ends in (proof.h's encoding): false if the proof
 * is not of that kind or too short to say. */
static bool proof_leaf(const uint8_t *p, size_t n, const uint8_t **key_hash,
                       const uint8_t **value_hash)
{
    if (n < 2 + 2 * HASH_BYTES || p[0] != CAIRN_PROOF_VERSION || p[1] != 1) return false;
    *key_hash = p + 2;
    *value_hash = p + 2 + HASH_BYTES;
    return true;
}

cairn_err light_verify_state(const header_t *next, uint64_t height, const uint8_t *key,
                             size_t key_len, const light_query_t *q, char *why, size_t why_len)
{
    if (q->code != 0)
        return cairn_fail(CAIRN_ENODE_ERROR, why, why_len, "query failed with code %u: %s", q->code,
                   q->log);
    if (next->height != height + 1)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "header %" PRIu64 " does not hold the state of height %" PRIu64
                   " (header %" PRIu64 " does)", next->height, height, height + 1);
    if (q->height != height)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len,
                   "proof is for height %" PRIu64 " but header %" PRIu64
                   " holds the state of height %" PRIu64 " (stale or mislabelled answer)",
                   q->height, next->height, height);
    if (!q->proof)
        return cairn_fail(CAIRN_EBAD_PROOF, why, why_len, "the node sent no proof");
    int r = cairn_proof_verify(next->app_hash, key, key_len, q->exists ? q->value : NULL,
                               q->exists ? q->value_len : 0, q->proof, q->proof_len);
    if (r == CAIRN_PROOF_OK) return CAIRN_OK;
    if (r == CAIRN_PROOF_BAD_ENCODING)
        return cairn_fail(CAIRN_EBAD_PROOF, why, why_len, "the proof is malformed");
    /* Say which part disagrees: the proof's own leaf names the value it proves. */
    const uint8_t *kh, *vh;
    uint8_t want_kh[HASH_BYTES], want_vh[HASH_BYTES];
    hash_sha256(want_kh, key, key_len);
    bool leaf = proof_leaf(q->proof, q->proof_len, &kh, &vh);
    bool leaf_is_key = leaf && memcmp(kh, want_kh, HASH_BYTES) == 0;
    if (q->exists) {
        hash_sha256(want_vh, q->value, q->value_len);
        if (!leaf_is_key)
            return cairn_fail(CAIRN_EBAD_PROOF, why, why_len,
                       "value does not match the proof (the proof shows no value for this key)");
        if (memcmp(vh, want_vh, HASH_BYTES) != 0)
            return cairn_fail(CAIRN_EBAD_PROOF, why, why_len, "value does not match the proof");
    } else if (leaf_is_key) {
        return cairn_fail(CAIRN_EBAD_PROOF, why, why_len,
                   "value does not match the proof (the node says absent, the proof shows a "
                   "value)");
    }
    char a[2 * HASH_BYTES + 1];
    hexs(a, next->app_hash, HASH_BYTES);
    return cairn_fail(CAIRN_EBAD_PROOF, why, why_len,
               "app hash mismatch: the proof does not lead to app hash %s of header %" PRIu64, a,
               next->height);
}

cairn_err light_verify_query(const light_t *lc, const char *path, const uint8_t *data, size_t n,
                             const light_query_t *q, char *why, size_t why_len)
{
    uint8_t key[LIGHT_STATE_KEY_MAX];
    size_t kn;
    if (light_state_key(path, data, n, key, &kn) != CAIRN_OK)
        return cairn_fail(CAIRN_EINVALID_ARG, why, why_len, "cannot verify query path '%s' with %zu bytes",
                   path ? path : "", n);
    if (lc->height == 0)
        return cairn_fail(CAIRN_EBAD_HEIGHT, why, why_len, "no trusted header yet");
    return light_verify_state(&lc->header, lc->height - 1, key, kn, q, why, why_len);
}
