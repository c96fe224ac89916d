/* decode.c - CometBFT-shaped JSON (src/rpc/json_chain.h renders it) back into
 * cairn's types. Every field is checked; nothing is trusted but its shape. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "cairn/proof.h"
#include "node/genesis.h"

static cairn_err bad(cairn_err rc, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cairn_err bad(cairn_err rc, char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && why_len) vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return rc;
}

cairn_err client_json_u64(const json_t *j, const char *name, uint64_t *out, char *why,
                          size_t why_len)
{
    /* 64-bit integers are strings; accept plain JSON integers too */
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        *out = (uint64_t)json_integer_value(j);
        return CAIRN_OK;
    }
    const char *s = json_string_value(j);
    uint64_t v = 0;
    if (!s || !*s || (s[0] == '0' && s[1]) || strlen(s) > 20) goto fail;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') goto fail;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) goto fail;
        v = v * 10 + d;
    }
    *out = v;
    return CAIRN_OK;
fail:
    return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: expected a decimal string", name);
}

cairn_err client_json_hex(const json_t *j, const char *name, uint8_t *out, size_t n,
                          bool empty_is_zero, char *why, size_t why_len)
{
    const char *s = json_string_value(j);
    if (s && empty_is_zero && !*s) {
        memset(out, 0, n);
        return CAIRN_OK;
    }
    if (!s || strlen(s) != 2 * n || hex_decode(out, n, s) != CAIRN_OK)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: expected %zu hex digits", name,
                   2 * n);
    return CAIRN_OK;
}

cairn_err client_json_b64(const json_t *j, const char *name, size_t max, uint8_t **out,
                          size_t *out_len, char *why, size_t why_len)
{
    const char *s = json_string_value(j);
    *out = NULL;
    *out_len = 0;
    if (!j || json_is_null(j)) return CAIRN_OK; /* missing: no bytes */
    if (!s) return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: expected a base64 string", name);
    size_t sl = json_string_length(j);
    if (sl == 0) return CAIRN_OK;
    if (sl / 4 * 3 > max + 3)
        return bad(CAIRN_ETOO_LARGE, why, why_len, "%s: longer than %zu bytes", name, max);
    uint8_t *p = malloc(sl / 4 * 3 + 3);
    if (!p) return CAIRN_ENOMEM;
    size_t n = 0;
    if (base64_decode(p, sl / 4 * 3 + 3, &n, s, sl) != CAIRN_OK || n > max) {
        free(p);
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: not valid base64 (or too long)",
                   name);
    }
    *out = p;
    *out_len = n;
    return CAIRN_OK;
}

static cairn_err b64_fixed(const json_t *j, const char *name, uint8_t *out, size_t n, char *why,
                           size_t why_len)
{
    const char *s = json_string_value(j);
    uint8_t tmp[128];
    size_t got = 0;
    if (!s || n > sizeof tmp ||
        base64_decode(tmp, sizeof tmp, &got, s, json_string_length(j)) != CAIRN_OK || got != n)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: expected base64 of %zu bytes", name, n);
    memcpy(out, tmp, n);
    return CAIRN_OK;
}

static cairn_err time_field(const json_t *j, const char *name, int64_t *ns, char *why,
                            size_t why_len)
{
    const char *s = json_string_value(j);
    if (!s || strlen(s) > 64 || genesis_time_parse(s, ns) != CAIRN_OK)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: expected an RFC 3339 time", name);
    return CAIRN_OK;
}

static const json_t *get(const json_t *o, const char *k) { return json_object_get(o, k); }

#define TRY(x)                                                                     \
    do {                                                                           \
        cairn_err rc_ = (x);                                                       \
        if (rc_ != CAIRN_OK) return rc_;                                           \
    } while (0)

cairn_err client_header_from_json(const json_t *j, header_t *out, char *why, size_t why_len)
{
    header_t h;
    memset(&h, 0, sizeof h);
    if (!json_is_object(j)) return bad(CAIRN_EBAD_ENCODING, why, why_len, "header: not an object");
    h.version = CHAIN_VERSION; /* not rendered: every cairn header has it */
    const char *cid = json_string_value(get(j, "chain_id"));
    if (!cid || strlen(cid) != json_string_length(get(j, "chain_id")) ||
        chain_id_set(&h.chain_id, cid) != CAIRN_OK)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "header.chain_id: not a chain id");
    TRY(client_json_u64(get(j, "height"), "header.height", &h.height, why, why_len));
    if (h.height == 0 || h.height > INT64_MAX)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "header.height: out of range");
    TRY(time_field(get(j, "time"), "header.time", &h.time_ns, why, why_len));
    TRY(client_json_hex(get(get(j, "last_block_id"), "hash"), "header.last_block_id.hash",
                        h.last_block_id, HASH_BYTES, true, why, why_len));
    static const struct {
        const char *name;
        size_t off;
    } hashes[] = {{"last_commit_hash", offsetof(header_t, last_commit_hash)},
                  {"data_hash", offsetof(header_t, data_hash)},
                  {"validators_hash", offsetof(header_t, validators_hash)},
                  {"next_validators_hash", offsetof(header_t, next_validators_hash)},
                  {"app_hash", offsetof(header_t, app_hash)},
                  {"last_results_hash", offsetof(header_t, results_hash)},
                  {"evidence_hash", offsetof(header_t, evidence_hash)}};
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "header.%s", hashes[i].name);
        TRY(client_json_hex(get(j, hashes[i].name), name, (uint8_t *)&h + hashes[i].off,
                            HASH_BYTES, false, why, why_len));
    }
    TRY(client_json_hex(get(j, "proposer_address"), "header.proposer_address", h.proposer,
                        ADDR_BYTES, false, why, why_len));
    *out = h;
    return CAIRN_OK;
}

cairn_err client_commit_from_json(const json_t *j, commit_t *out, char *why, size_t why_len)
{
    commit_t c;
    memset(&c, 0, sizeof c);
    if (!json_is_object(j)) return bad(CAIRN_EBAD_ENCODING, why, why_len, "commit: not an object");
    TRY(client_json_u64(get(j, "height"), "commit.height", &c.height, why, why_len));
    json_int_t round = json_integer_value(get(j, "round"));
    if (!json_is_integer(get(j, "round")) || round < 0 || round > UINT32_MAX)
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "commit.round: expected a number");
    c.round = (uint32_t)round;
    TRY(client_json_hex(get(get(j, "block_id"), "hash"), "commit.block_id.hash", c.block_id,
                        HASH_BYTES, true, why, why_len));
    const json_t *sigs = get(j, "signatures");
    if (!json_is_array(sigs) || json_array_size(sigs) > VALIDATORS_MAX)
        return bad(CAIRN_EBAD_ENCODING, why, why_len,
                   "commit.signatures: expected an array of at most %d", VALIDATORS_MAX);
    c.n_sigs = (uint32_t)json_array_size(sigs);
    if (c.n_sigs && !(c.sigs = calloc(c.n_sigs, sizeof *c.sigs))) return CAIRN_ENOMEM;
    cairn_err rc = CAIRN_OK;
    for (uint32_t i = 0; i < c.n_sigs; i++) {
        const json_t *s = json_array_get(sigs, i);
        commit_sig_t *cs = &c.sigs[i];
        char name[64];
        json_int_t flag = json_integer_value(get(s, "block_id_flag"));
        if (!json_is_integer(get(s, "block_id_flag")) || flag < COMMIT_ABSENT || flag > COMMIT_NIL) {
            rc = bad(CAIRN_EBAD_ENCODING, why, why_len,
                     "commit.signatures[%u].block_id_flag: expected 1, 2 or 3", i);
            goto out;
        }
        cs->flag = (uint8_t)flag;
        if (cs->flag == COMMIT_ABSENT) continue;
        snprintf(name, sizeof name, "commit.signatures[%u].validator_address", i);
        if ((rc = client_json_hex(get(s, "validator_address"), name, cs->validator, ADDR_BYTES,
                                  false, why, why_len)))
            goto out;
        snprintf(name, sizeof name, "commit.signatures[%u].timestamp", i);
        if ((rc = time_field(get(s, "timestamp"), name, &cs->time_ns, why, why_len))) goto out;
        snprintf(name, sizeof name, "commit.signatures[%u].signature", i);
        if ((rc = b64_fixed(get(s, "signature"), name, cs->sig, SIG_BYTES, why, why_len)))
            goto out;
    }
    *out = c;
    return CAIRN_OK;
out:
    free(c.sigs);
    return rc;
}

cairn_err client_signed_header_from_json(const json_t *j, header_t *h, commit_t *c, char *why,
                                         size_t why_len)
{
    const json_t *sh = get(j, "signed_header");
    if (!json_is_object(sh))
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "signed_header: missing");
    header_t hh;
    TRY(client_header_from_json(get(sh, "header"), &hh, why, why_len));
    TRY(client_commit_from_json(get(sh, "commit"), c, why, why_len));
    *h = hh;
    return CAIRN_OK;
}

cairn_err client_valset_from_json(const json_t *arr, valset_t *vs, char *why, size_t why_len)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > VALIDATORS_MAX)
        return bad(CAIRN_EBAD_ENCODING, why, why_len,
                   "validators: expected an array of 1 to %d", VALIDATORS_MAX);
    size_t n = json_array_size(arr);
    validator_t *vals = calloc(n, sizeof *vals);
    if (!vals) return CAIRN_ENOMEM;
    cairn_err rc = CAIRN_OK;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        char name[64];
        uint8_t addr[ADDR_BYTES], derived[ADDR_BYTES];
        uint64_t power;
        snprintf(name, sizeof name, "validators[%zu].address", i);
        if ((rc = client_json_hex(get(v, "address"), name, addr, ADDR_BYTES, false, why, why_len)))
            goto out;
        snprintf(name, sizeof name, "validators[%zu].pub_key.value", i);
        if ((rc = b64_fixed(get(get(v, "pub_key"), "value"), name, vals[i].pub, PUBKEY_BYTES, why,
                            why_len)))
            goto out;
        key_address(derived, vals[i].pub);
        if (memcmp(derived, addr, ADDR_BYTES) != 0) {
            rc = bad(CAIRN_EBAD_ENCODING, why, why_len,
                     "validators[%zu]: address is not the address of its pub_key", i);
            goto out;
        }
        snprintf(name, sizeof name, "validators[%zu].voting_power", i);
        if ((rc = client_json_u64(get(v, "voting_power"), name, &power, why, why_len))) goto out;
        if (power == 0 || power > VALSET_TOTAL_POWER_MAX) {
            rc = bad(CAIRN_EBAD_ENCODING, why, why_len, "%s: out of range", name);
            goto out;
        }
        vals[i].power = (int64_t)power;
    }
    rc = valset_init(vs, vals, (uint32_t)n);
    if (rc) bad(rc, why, why_len, "validators: not a valid set: %s", cairn_strerror(rc));
out:
    free(vals);
    return rc;
}

cairn_err client_query_from_json(const json_t *j, light_query_t *out, char *why, size_t why_len)
{
    const json_t *r = get(j, "response");
    if (!json_is_object(r))
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "abci_query: missing response");
    light_query_t q;
    memset(&q, 0, sizeof q);
    json_int_t code = json_integer_value(get(r, "code"));
    if (get(r, "code") && (!json_is_integer(get(r, "code")) || code < 0 || code > UINT32_MAX))
        return bad(CAIRN_EBAD_ENCODING, why, why_len, "response.code: expected a number");
    q.code = (uint32_t)code;
    const char *log = json_string_value(get(r, "log"));
    snprintf(q.log, sizeof q.log, "%s", log ? log : "");
    if (get(r, "height"))
        TRY(client_json_u64(get(r, "height"), "response.height", &q.height, why, why_len));
    cairn_err rc = client_json_b64(get(r, "value"), "response.value", TX_VALUE_MAX + 64,
                                   &q.value, &q.value_len, why, why_len);
    if (rc) return rc;
    /* an absent key has no value; an empty stored value is never written by
     * the ledger (accounts and records carry a version byte) */
    q.exists = q.value != NULL;
    const json_t *ops = get(get(r, "proofOps"), "ops");
    if (!ops) ops = get(get(r, "proof_ops"), "ops");
    if (json_is_array(ops) && json_array_size(ops) > 0) {
        if (json_array_size(ops) != 1) {
            rc = bad(CAIRN_EBAD_ENCODING, why, why_len, "response.proofOps: expected one op");
            goto fail;
        }
        rc = client_json_b64(get(json_array_get(ops, 0), "data"), "response.proofOps.ops[0].data",
                             CAIRN_PROOF_BYTES_MAX, &q.proof, &q.proof_len, why,
                             why_len);
        if (rc) goto fail;
    }
    *out = q;
    return CAIRN_OK;
fail:
    light_query_free(&q);
    return rc;
}
