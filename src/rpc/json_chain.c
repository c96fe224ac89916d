/* json_chain.c - see json_chain.h. Objects are built with json_pack's "o",
 * which steals each reference and releases all of them on failure, so a NULL
 * from any helper (out of memory) propagates as NULL without leaks. */
#include "rpc/json_chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT_TIME "0001-01-01T00:00:00Z"

/* Days since 1970-01-01 to a civil date (proleptic Gregorian); H. Hinnant's
 * days_from_civil inverse, valid for the whole int64 nanosecond range. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void json_chain_time_format(char out[static JSON_TIME_LEN + 1], int64_t unix_ns)
{
    /* floor division so pre-1970 times keep a non-negative fraction */
    int64_t secs = unix_ns / 1000000000;
    int64_t nanos = unix_ns % 1000000000;
    if (nanos < 0) {
        nanos += 1000000000;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    /* fixed-width fields written digit by digit: y is 1677..2262 here */
    put_digits(out, (uint64_t)y, 4);
    out[4] = '-';
    put_digits(out + 5, mo, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (uint64_t)(sod / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (uint64_t)(sod / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (uint64_t)(sod % 60), 2);
    out[19] = '.';
    put_digits(out + 20, (uint64_t)nanos, 9);
    out[29] = 'Z';
    out[30] = 0;
}

json_t *json_chain_time(int64_t unix_ns)
{
    char s[JSON_TIME_LEN + 1];
    json_chain_time_format(s, unix_ns);
    return json_string(s);
}

json_t *json_chain_hex(const uint8_t *p, size_t n)
{
    char stack[2 * 64 + 1];
    char *s = n <= 64 ? stack : malloc(2 * n + 1);
    if (!s) return NULL;
    hex_encode_upper(s, p, n);
    json_t *j = json_stringn(s, 2 * n);
    if (s != stack) free(s);
    return j;
}

json_t *json_chain_base64(const uint8_t *p, size_t n)
{
    size_t len = base64_encoded_len(n);
    char *s = malloc(len + 1);
    if (!s) return NULL;
    base64_encode(s, p, n);
    json_t *j = json_stringn(s, len);
    free(s);
    return j;
}

json_t *json_chain_i64(int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, v);
    return json_string(s);
}

json_t *json_chain_u64(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

static json_t *str_or_empty(const char *s) { return json_string(s ? s : ""); }

json_t *json_chain_block_id(const uint8_t id[static HASH_BYTES])
{
    if (bytes_is_zero(id, HASH_BYTES))
        return json_pack("{s:s,s:{s:i,s:s}}", "hash", "", "parts", "total", 0, "hash", "");
    return json_pack("{s:o,s:{s:i,s:o}}", "hash", json_chain_hex(id, HASH_BYTES), "parts",
                     "total", 1, "hash", json_chain_hex(HASH_EMPTY, HASH_BYTES));
}

json_t *json_chain_pub_key(const uint8_t pub[static PUBKEY_BYTES])
{
    return json_pack("{s:s,s:o}", "type", "tendermint/PubKeyEd25519", "value",
                     json_chain_base64(pub, PUBKEY_BYTES));
}

#define HEXH(x) json_chain_hex((x), HASH_BYTES)

json_t *json_chain_header(const header_t *h)
{
    return json_pack(
        "{s:{s:s,s:s},s:s%,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "version",
        "block", JSON_BLOCK_PROTOCOL, "app", "0", "chain_id", h->chain_id.id,
        (size_t)h->chain_id.len, "height", json_chain_u64(h->height), "time",
        json_chain_time(h->time_ns), "last_block_id", json_chain_block_id(h->last_block_id),
        "last_commit_hash", HEXH(h->last_commit_hash), "data_hash", HEXH(h->data_hash),
        "validators_hash", HEXH(h->validators_hash), "next_validators_hash",
        HEXH(h->next_validators_hash), "consensus_hash", HEXH(HASH_EMPTY), "app_hash",
        HEXH(h->app_hash), "last_results_hash", HEXH(h->results_hash), "evidence_hash",
        HEXH(h->evidence_hash), "proposer_address", json_chain_hex(h->proposer, ADDR_BYTES));
}

static json_t *commit_sig(const commit_sig_t *s)
{
    if (s->flag == COMMIT_ABSENT)
        return json_pack("{s:i,s:s,s:s,s:n}", "block_id_flag", COMMIT_ABSENT,
                         "validator_address", "", "timestamp", ABSENT_TIME, "signature");
    return json_pack("{s:i,s:o,s:o,s:o}", "block_id_flag", (int)s->flag,
                     "validator_address", json_chain_hex(s->validator, ADDR_BYTES),
                     "timestamp", json_chain_time(s->time_ns), "signature",
                     json_chain_base64(s->sig, SIG_BYTES));
}

json_t *json_chain_commit(const commit_t *c)
{
    json_t *sigs = json_array();
    if (!sigs) return NULL;
    for (uint32_t i = 0; i < c->n_sigs; i++) {
        if (json_array_append_new(sigs, commit_sig(&c->sigs[i])) != 0) {
            json_decref(sigs);
            return NULL;
        }
    }
    return json_pack("{s:o,s:i,s:o,s:o}", "height", json_chain_u64(c->height), "round",
                     (int)c->round, "block_id", json_chain_block_id(c->block_id),
                     "signatures", sigs);
}

static json_t *vote_json(const vote_t *v)
{
    return json_pack("{s:i,s:o,s:i,s:o,s:o,s:o,s:i,s:o}", "type", (int)v->type, "height",
                     json_chain_u64(v->height), "round", (int)v->round, "block_id",
                     json_chain_block_id(v->block_id), "timestamp",
                     json_chain_time(v->time_ns), "validator_address",
                     json_chain_hex(v->validator, ADDR_BYTES), "validator_index",
                     (int)v->validator_index, "signature",
                     json_chain_base64(v->sig, SIG_BYTES));
}

json_t *json_chain_evidence(const evidence_t *e, const valset_t *vs)
{
    int64_t total = 0, power = 0;
    if (vs) {
        total = vs->total_power;
        /* a scan, not valset_index_of(): this file only reads struct fields */
        for (uint32_t i = 0; i < vs->count && i < VALIDATORS_MAX; i++)
            if (memcmp(vs->v[i].address, e->a.validator, ADDR_BYTES) == 0) power = vs->v[i].power;
    }
    return json_pack("{s:s,s:{s:o,s:o,s:o,s:o,s:o}}", "type",
                     "tendermint/DuplicateVoteEvidence", "value", "vote_a", vote_json(&e->a),
                     "vote_b", vote_json(&e->b), "TotalVotingPower", json_chain_i64(total),
                     "ValidatorPower", json_chain_i64(power), "Timestamp",
                     json_chain_time(e->a.time_ns));
}

json_t *json_chain_block(const block_t *b)
{
    json_t *txs = json_array();
    json_t *evs = json_array();
    if (!txs || !evs) goto fail;
    for (uint32_t i = 0; i < b->n_txs; i++)
        if (json_array_append_new(txs, json_chain_base64(b->txs[i].p, b->txs[i].len)) != 0)
            goto fail;
    for (uint32_t i = 0; i < b->n_evidence; i++)
        if (json_array_append_new(evs, json_chain_evidence(&b->evidence[i], NULL)) != 0)
            goto fail;
    return json_pack("{s:o,s:{s:o},s:{s:o},s:o}", "header", json_chain_header(&b->header),
                     "data", "txs", txs, "evidence", "evidence", evs, "last_commit",
                     json_chain_commit(&b->last_commit));
fail:
    json_decref(txs);
    json_decref(evs);
    return NULL;
}

json_t *json_chain_block_result(const block_t *b, const uint8_t id[static HASH_BYTES])
{
    return json_pack("{s:o,s:o}", "block_id", json_chain_block_id(id), "block",
                     json_chain_block(b));
}

json_t *json_chain_block_meta(const header_t *h, const uint8_t id[static HASH_BYTES],
                              uint64_t block_size, uint32_t num_txs)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "block_id", json_chain_block_id(id), "block_size",
                     json_chain_u64(block_size), "header", json_chain_header(h), "num_txs",
                     json_chain_u64(num_txs));
}

json_t *json_chain_signed_header(const header_t *h, const commit_t *c, bool canonical)
{
    return json_pack("{s:{s:o,s:o},s:b}", "signed_header", "header", json_chain_header(h),
                     "commit", json_chain_commit(c), "canonical", canonical);
}

json_t *json_chain_validator(const validator_t *v)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "address", json_chain_hex(v->address, ADDR_BYTES),
                     "pub_key", json_chain_pub_key(v->pub), "voting_power",
                     json_chain_i64(v->power), "proposer_priority",
                     json_chain_i64(v->proposer_priority));
}

json_t *json_chain_validators(const valset_t *vs, uint64_t height, uint32_t first,
                              uint32_t count)
{
    json_t *arr = json_array();
    if (!arr) return NULL;
    uint32_t n = 0;
    for (uint32_t i = first; i < vs->count && n < count; i++, n++) {
        if (json_array_append_new(arr, json_chain_validator(&vs->v[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return json_pack("{s:o,s:o,s:o,s:o}", "block_height", json_chain_u64(height),
                     "validators", arr, "count", json_chain_u64(n), "total",
                     json_chain_u64(vs->count));
}

json_t *json_chain_events(const rpc_event *ev, size_t n)
{
    json_t *arr = json_array();
    if (!arr) return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *attrs = json_array();
        for (size_t k = 0; attrs && k < ev[i].n_attrs; k++) {
            const rpc_event_attr *a = &ev[i].attrs[k];
            if (json_array_append_new(attrs, json_pack("{s:o,s:o,s:b}", "key",
                                                       str_or_empty(a->key), "value",
                                                       str_or_empty(a->value), "index",
                                                       a->index)) != 0) {
                json_decref(attrs);
                attrs = NULL;
            }
        }
        json_t *e = attrs ? json_pack("{s:o,s:o}", "type", str_or_empty(ev[i].type),
                                      "attributes", attrs)
                          : NULL;
        if (json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *json_chain_tx_result(const rpc_tx_result *r)
{
    json_t *data = r->data ? json_chain_base64(r->data, r->data_len) : json_null();
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "code", (int)r->code, "data", data,
                     "log", str_or_empty(r->log), "info", str_or_empty(r->info),
                     "gas_wanted", json_chain_i64(r->gas_wanted), "gas_used",
                     json_chain_i64(r->gas_used), "events",
                     json_chain_events(r->events, r->n_events), "codespace",
                     str_or_empty(r->codespace));
}

json_t *json_chain_tx(const uint8_t hash[static HASH_BYTES], uint64_t height,
                      uint32_t index, const rpc_tx_result *r, const uint8_t *tx,
                      size_t tx_len)
{
    return json_pack("{s:o,s:o,s:i,s:o,s:o}", "hash", json_chain_hex(hash, HASH_BYTES),
                     "height", json_chain_u64(height), "index", (int)index, "tx_result",
                     json_chain_tx_result(r), "tx", json_chain_base64(tx, tx_len));
}

json_t *json_chain_tx_proof(const uint8_t root[static HASH_BYTES], const uint8_t *tx,
                            size_t tx_len, const uint8_t leaf_hash[static HASH_BYTES],
                            const merkle_proof *p)
{
    json_t *aunts = json_array();
    for (uint32_t i = 0; aunts && i < p->n_aunts && i < MERKLE_PROOF_MAX; i++) {
        if (json_array_append_new(aunts, json_chain_base64(p->aunts[i], HASH_BYTES)) != 0) {
            json_decref(aunts);
            aunts = NULL;
        }
    }
    return json_pack("{s:o,s:o,s:{s:o,s:o,s:o,s:o}}", "root_hash",
                     json_chain_hex(root, HASH_BYTES), "data", json_chain_base64(tx, tx_len),
                     "proof", "total", json_chain_u64(p->total), "index",
                     json_chain_u64(p->index), "leaf_hash",
                     json_chain_base64(leaf_hash, HASH_BYTES), "aunts", aunts);
}
