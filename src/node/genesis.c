/* genesis.c - genesis.json: strict parsing, canonical writing, hash (genesis.h).
 *
 * Parsing walks the jansson tree with a path string for messages; jansson
 * bounds its own nesting depth, and every array here has a named maximum.
 */
#include "node/genesis.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "node/keys.h"

#define NS_PER_S 1000000000LL

/* ------------------------------------------------------------ time */

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void genesis_time_format(char out[static 31], int64_t unix_ns)
{
    if (unix_ns < 0) unix_ns = 0;
    int64_t secs = unix_ns / NS_PER_S, ns = unix_ns % NS_PER_S;
    int64_t days = secs / 86400, rem = secs % 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char buf[96]; /* int64 nanoseconds end in 2262: always 30 characters */
    snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09dZ", (int)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)ns);
    buf[30] = 0;
    memcpy(out, buf, 31);
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

cairn_err genesis_time_parse(const char *s, int64_t *unix_ns)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return CAIRN_EBAD_TIME;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return CAIRN_EBAD_TIME;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y))) return CAIRN_EBAD_TIME;
    const char *p = s + 19;
    int64_t ns = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            if (n >= 9) return CAIRN_EBAD_TIME;
            ns = ns * 10 + (*p - '0');
        }
        if (n == 0) return CAIRN_EBAD_TIME;
        for (; n < 9; n++) ns *= 10;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return CAIRN_EBAD_TIME;
        offset_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return CAIRN_EBAD_TIME;
    }
    if (*p) return CAIRN_EBAD_TIME;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
                   sec - offset_s;
    if (secs < 0 || secs > INT64_MAX / NS_PER_S - 1) return CAIRN_EBAD_TIME;
    *unix_ns = secs * NS_PER_S + ns;
    return CAIRN_OK;
}

/* ------------------------------------------------------------ building */

void genesis_init(genesis_t *g) { memset(g, 0, sizeof *g); }

void genesis_deinit(genesis_t *g)
{
    free(g->accounts);
    memset(g, 0, sizeof *g);
}

void genesis_params_default(genesis_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->block_max_bytes = BLOCK_BYTES_MAX;
    p->block_max_gas = -1;
    p->evidence_max_age_num_blocks = 100000;
    p->evidence_max_age_duration_ns = 48LL * 3600 * NS_PER_S;
    p->evidence_max_bytes = 1048576;
    p->app_version = 0;
    p->vote_extensions_enable_height = 0;
}

cairn_err genesis_new(genesis_t *g, const char *chain_id, int64_t time_ns, char *errbuf)
{
    genesis_init(g);
    if (chain_id_set(&g->chain_id, chain_id) != CAIRN_OK) {
        snprintf(errbuf, GENESIS_ERR_MAX,
                 "invalid chain id '%.60s': use 1 to %d printable ASCII characters", chain_id,
                 CHAIN_ID_MAX);
        return CAIRN_EINVALID_ARG;
    }
    g->genesis_time_ns = time_ns < 0 ? 0 : time_ns;
    g->initial_height = 1;
    genesis_params_default(&g->params);
    return CAIRN_OK;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > GENESIS_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

cairn_err genesis_validator_add(genesis_t *g, const uint8_t pub[static PUBKEY_BYTES],
                                int64_t power, const char *name, char *errbuf)
{
    if (g->n_validators >= VALIDATORS_MAX) {
        snprintf(errbuf, GENESIS_ERR_MAX, "more than %d validators", VALIDATORS_MAX);
        return CAIRN_ELIMIT;
    }
    if (power < 1 || power > GENESIS_TOTAL_POWER_MAX || !name_ok(name ? name : "")) {
        snprintf(errbuf, GENESIS_ERR_MAX, "validator power must be 1..%lld and name at most %d "
                 "printable characters", (long long)GENESIS_TOTAL_POWER_MAX, GENESIS_NAME_MAX);
        return CAIRN_EINVALID_ARG;
    }
    json_t *utf8 = json_string(name ? name : ""); /* NULL unless valid UTF-8 */
    if (!utf8) {
        snprintf(errbuf, GENESIS_ERR_MAX, "validator name is not valid UTF-8");
        return CAIRN_EINVALID_ARG;
    }
    json_decref(utf8);
    genesis_validator_t *v = &g->validators[g->n_validators];
    memset(v, 0, sizeof *v);
    memcpy(v->pub, pub, PUBKEY_BYTES);
    key_address(v->address, pub);
    v->power = power;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "");
    g->n_validators++;
    return CAIRN_OK;
}

cairn_err genesis_account_add(genesis_t *g, const uint8_t addr[static ADDR_BYTES],
                              uint64_t balance, char *errbuf)
{
    if (g->n_accounts >= GENESIS_ACCOUNTS_MAX) {
        snprintf(errbuf, GENESIS_ERR_MAX, "more than %d accounts", GENESIS_ACCOUNTS_MAX);
        return CAIRN_ELIMIT;
    }
    genesis_account_t *a = realloc(g->accounts, (g->n_accounts + 1) * sizeof *a);
    if (!a) return CAIRN_ENOMEM;
    g->accounts = a;
    memcpy(a[g->n_accounts].address, addr, ADDR_BYTES);
    a[g->n_accounts].balance = balance;
    g->n_accounts++;
    return CAIRN_OK;
}

/* ------------------------------------------------------------ validation */

static int cmp_addr(const void *a, const void *b) { return memcmp(a, b, ADDR_BYTES); }

static void seterr(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char *errbuf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, GENESIS_ERR_MAX, fmt, ap);
    va_end(ap);
}

static cairn_err validate_validators(const genesis_t *g, char *errbuf)
{
    if (g->n_validators < 1 || g->n_validators > VALIDATORS_MAX) {
        seterr(errbuf, "validators: need 1 to %d validators, found %u", VALIDATORS_MAX,
               g->n_validators);
        return CAIRN_EBAD_GENESIS;
    }
    uint8_t addrs[VALIDATORS_MAX][ADDR_BYTES];
    int64_t total = 0;
    for (uint32_t i = 0; i < g->n_validators; i++) {
        const genesis_validator_t *v = &g->validators[i];
        uint8_t want[ADDR_BYTES];
        key_address(want, v->pub);
        if (memcmp(want, v->address, ADDR_BYTES)) {
            seterr(errbuf, "validators[%u].address is not the address of its pub_key", i);
            return CAIRN_EBAD_GENESIS;
        }
        if (v->power < 1 || v->power > GENESIS_TOTAL_POWER_MAX - total) {
            seterr(errbuf, "validators[%u].power: must be >= 1 and the total at most %lld", i,
                   (long long)GENESIS_TOTAL_POWER_MAX);
            return CAIRN_EBAD_GENESIS;
        }
        total += v->power;
        memcpy(addrs[i], v->address, ADDR_BYTES);
    }
    qsort(addrs, g->n_validators, ADDR_BYTES, cmp_addr);
    for (uint32_t i = 1; i < g->n_validators; i++) {
        if (!memcmp(addrs[i - 1], addrs[i], ADDR_BYTES)) {
            char hex[2 * ADDR_BYTES + 1];
            hex_encode_upper(hex, addrs[i], ADDR_BYTES);
            seterr(errbuf, "validators: %s appears more than once", hex);
            return CAIRN_EBAD_GENESIS;
        }
    }
    return CAIRN_OK;
}

static cairn_err validate_accounts(const genesis_t *g, char *errbuf)
{
    if (g->n_accounts == 0) return CAIRN_OK;
    if (g->n_accounts > GENESIS_ACCOUNTS_MAX) {
        seterr(errbuf, "app_state.accounts: more than %d accounts", GENESIS_ACCOUNTS_MAX);
        return CAIRN_EBAD_GENESIS;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < g->n_accounts; i++) {
        if (g->accounts[i].balance > UINT64_MAX - total) {
            seterr(errbuf, "app_state.accounts: total balance overflows 64 bits at [%u]", i);
            return CAIRN_EBAD_GENESIS;
        }
        total += g->accounts[i].balance;
    }
    genesis_account_t *sorted = malloc(g->n_accounts * sizeof *sorted);
    if (!sorted) return CAIRN_ENOMEM;
    memcpy(sorted, g->accounts, g->n_accounts * sizeof *sorted);
    qsort(sorted, g->n_accounts, sizeof *sorted, cmp_addr);
    cairn_err rc = CAIRN_OK;
    for (uint32_t i = 1; i < g->n_accounts; i++) {
        if (!memcmp(sorted[i - 1].address, sorted[i].address, ADDR_BYTES)) {
            char hex[2 * ADDR_BYTES + 1];
            hex_encode_upper(hex, sorted[i].address, ADDR_BYTES);
            seterr(errbuf, "app_state.accounts: %s appears more than once", hex);
            rc = CAIRN_EBAD_GENESIS;
            break;
        }
    }
    free(sorted);
    return rc;
}

static cairn_err validate_params(const genesis_params_t *p, char *errbuf)
{
    const char *field = NULL;
    if (p->block_max_bytes < 1 || p->block_max_bytes > BLOCK_BYTES_MAX)
        field = "consensus_params.block.max_bytes: must be 1..8388608";
    else if (p->block_max_gas < -1)
        field = "consensus_params.block.max_gas: must be -1 or >= 0";
    else if (p->evidence_max_age_num_blocks < 1)
        field = "consensus_params.evidence.max_age_num_blocks: must be >= 1";
    else if (p->evidence_max_age_duration_ns < 1)
        field = "consensus_params.evidence.max_age_duration: must be >= 1 (nanoseconds)";
    else if (p->evidence_max_bytes < 0 || p->evidence_max_bytes > p->block_max_bytes)
        field = "consensus_params.evidence.max_bytes: must be 0..block.max_bytes";
    else if (p->vote_extensions_enable_height != 0)
        field = "consensus_params.abci.vote_extensions_enable_height: must be 0 "
                "(cairn has no vote extensions)";
    if (field) {
        seterr(errbuf, "%s", field);
        return CAIRN_EBAD_GENESIS;
    }
    return CAIRN_OK;
}

cairn_err genesis_validate(const genesis_t *g, char *errbuf)
{
    if (g->genesis_time_ns < 0) {
        seterr(errbuf, "genesis_time: before 1970");
        return CAIRN_EBAD_GENESIS;
    }
    chain_id_t tmp;
    if (chain_id_set(&tmp, g->chain_id.id) != CAIRN_OK || tmp.len != g->chain_id.len) {
        seterr(errbuf, "chain_id: must be 1 to %d printable ASCII characters", CHAIN_ID_MAX);
        return CAIRN_EBAD_GENESIS;
    }
    if (g->initial_height < 1 || g->initial_height > (uint64_t)INT64_MAX) {
        seterr(errbuf, "initial_height: must be 1..%lld", (long long)INT64_MAX);
        return CAIRN_EBAD_GENESIS;
    }
    if (g->app_hash_len != 0 && g->app_hash_len != HASH_BYTES) {
        seterr(errbuf, "app_hash: must be empty or 32 bytes");
        return CAIRN_EBAD_GENESIS;
    }
    CAIRN_TRY(validate_params(&g->params, errbuf));
    CAIRN_TRY(validate_validators(g, errbuf));
    return validate_accounts(g, errbuf);
}

/* ------------------------------------------------------------ parsing */

typedef struct {
    char *errbuf;
    const char *name;
} pctx;

static cairn_err perr(pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cairn_err perr(pctx *c, const char *path, const char *fmt, ...)
{
    int n = snprintf(c->errbuf, GENESIS_ERR_MAX, "%s: %s: ", c->name, path);
    if (n >= 0 && n < GENESIS_ERR_MAX) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errbuf + n, GENESIS_ERR_MAX - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return CAIRN_EBAD_GENESIS;
}

/* obj must be an object whose keys are all in `allowed` and that holds every
 * key in `required` (NULL-terminated lists). */
static cairn_err check_fields(pctx *c, const char *path, const json_t *obj,
                              const char *const *allowed, const char *const *required)
{
    if (!json_is_object(obj)) return perr(c, path, "must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, key);
        if (!ok) return perr(c, path, "unknown field '%s'", key);
    }
    for (const char *const *r = required; *r; r++)
        if (!json_object_get(obj, *r)) return perr(c, path, "missing field '%s'", *r);
    return CAIRN_OK;
}

static cairn_err get_int(pctx *c, const char *path, const json_t *v, int64_t min, int64_t max,
                         int64_t *out)
{
    const char *s = json_string_value(v);
    if (!s) return perr(c, path, "must be a decimal string such as \"10\"");
    const char *p = s;
    bool neg = *p == '-';
    if (neg) p++;
    if (!*p || (p[0] == '0' && p[1]) || (neg && p[0] == '0'))
        return perr(c, path, "\"%.30s\" is not a canonical decimal integer", s);
    uint64_t mag = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || mag > (UINT64_MAX - 9) / 10)
            return perr(c, path, "\"%.30s\" is not a decimal integer in range", s);
        mag = mag * 10 + (uint64_t)(*p - '0');
    }
    if ((!neg && mag > (uint64_t)INT64_MAX) || (neg && mag > (uint64_t)INT64_MAX + 1))
        return perr(c, path, "\"%.30s\" is out of the 64-bit range", s);
    int64_t val = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (val < min || val > max)
        return perr(c, path, "%lld is out of range: allowed %lld..%lld", (long long)val,
                    (long long)min, (long long)max);
    *out = val;
    return CAIRN_OK;
}

static cairn_err get_u64(pctx *c, const char *path, const json_t *v, uint64_t *out)
{
    const char *s = json_string_value(v);
    if (!s) return perr(c, path, "must be a decimal string such as \"1000\"");
    if (!*s || (s[0] == '0' && s[1]))
        return perr(c, path, "\"%.30s\" is not a canonical decimal integer", s);
    uint64_t val = 0;
    for (const char *p = s; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9' || val > (UINT64_MAX - d) / 10)
            return perr(c, path, "\"%.30s\" is not a decimal integer in 0..%llu", s,
                        (unsigned long long)UINT64_MAX);
        val = val * 10 + d;
    }
    *out = val;
    return CAIRN_OK;
}

static cairn_err get_addr(pctx *c, const char *path, const json_t *v, uint8_t out[ADDR_BYTES])
{
    const char *s = json_string_value(v);
    if (!s || hex_decode(out, ADDR_BYTES, s) != CAIRN_OK)
        return perr(c, path, "must be a 40 hex digit address");
    return CAIRN_OK;
}

static cairn_err parse_params(pctx *c, const json_t *o, genesis_params_t *p)
{
    static const char *const top[] = {"block", "evidence", "validator", "version", "abci", NULL};
    static const char *const top_req[] = {"block", "evidence", "validator", "version", NULL};
    static const char *const block[] = {"max_bytes", "max_gas", NULL};
    static const char *const ev[] = {"max_age_num_blocks", "max_age_duration", "max_bytes", NULL};
    static const char *const val[] = {"pub_key_types", NULL};
    static const char *const ver[] = {"app", NULL};
    static const char *const abci[] = {"vote_extensions_enable_height", NULL};
    genesis_params_default(p);
    CAIRN_TRY(check_fields(c, "consensus_params", o, top, top_req));
    const json_t *b = json_object_get(o, "block"), *e = json_object_get(o, "evidence");
    const json_t *vl = json_object_get(o, "validator"), *vr = json_object_get(o, "version");
    const json_t *ab = json_object_get(o, "abci");
    CAIRN_TRY(check_fields(c, "consensus_params.block", b, block, block));
    CAIRN_TRY(get_int(c, "consensus_params.block.max_bytes", json_object_get(b, "max_bytes"), 1,
                      BLOCK_BYTES_MAX, &p->block_max_bytes));
    CAIRN_TRY(get_int(c, "consensus_params.block.max_gas", json_object_get(b, "max_gas"), -1,
                      INT64_MAX, &p->block_max_gas));
    CAIRN_TRY(check_fields(c, "consensus_params.evidence", e, ev, ev));
    CAIRN_TRY(get_int(c, "consensus_params.evidence.max_age_num_blocks",
                      json_object_get(e, "max_age_num_blocks"), 1, INT64_MAX,
                      &p->evidence_max_age_num_blocks));
    CAIRN_TRY(get_int(c, "consensus_params.evidence.max_age_duration",
                      json_object_get(e, "max_age_duration"), 1, INT64_MAX,
                      &p->evidence_max_age_duration_ns));
    CAIRN_TRY(get_int(c, "consensus_params.evidence.max_bytes", json_object_get(e, "max_bytes"),
                      0, p->block_max_bytes, &p->evidence_max_bytes));
    CAIRN_TRY(check_fields(c, "consensus_params.validator", vl, val, val));
    const json_t *types = json_object_get(vl, "pub_key_types");
    if (!json_is_array(types) || json_array_size(types) != 1 ||
        !json_is_string(json_array_get(types, 0)) ||
        strcmp(json_string_value(json_array_get(types, 0)), "ed25519"))
        return perr(c, "consensus_params.validator.pub_key_types", "must be [\"ed25519\"]");
    CAIRN_TRY(check_fields(c, "consensus_params.version", vr, ver, ver));
    int64_t app;
    CAIRN_TRY(get_int(c, "consensus_params.version.app", json_object_get(vr, "app"), 0,
                      INT64_MAX, &app));
    p->app_version = (uint64_t)app;
    if (ab) {
        CAIRN_TRY(check_fields(c, "consensus_params.abci", ab, abci, abci));
        CAIRN_TRY(get_int(c, "consensus_params.abci.vote_extensions_enable_height",
                          json_object_get(ab, "vote_extensions_enable_height"), 0, 0,
                          &p->vote_extensions_enable_height));
    }
    return CAIRN_OK;
}

static cairn_err parse_validator(pctx *c, const json_t *o, uint32_t i, genesis_validator_t *v)
{
    static const char *const fields[] = {"address", "pub_key", "power", "name", NULL};
    static const char *const req[] = {"pub_key", "power", NULL};
    char path[64], sub[96], why[256];
    snprintf(path, sizeof path, "validators[%u]", i);
    CAIRN_TRY(check_fields(c, path, o, fields, req));
    memset(v, 0, sizeof *v);
    snprintf(sub, sizeof sub, "%s.pub_key", path);
    if (keys_pub_from_json(json_object_get(o, "pub_key"), v->pub, why, sizeof why) != CAIRN_OK)
        return perr(c, sub, "%s", why);
    key_address(v->address, v->pub);
    const json_t *addr = json_object_get(o, "address");
    if (addr) {
        uint8_t a[ADDR_BYTES];
        snprintf(sub, sizeof sub, "%s.address", path);
        CAIRN_TRY(get_addr(c, sub, addr, a));
        if (memcmp(a, v->address, ADDR_BYTES))
            return perr(c, sub, "is not the address of pub_key");
    }
    snprintf(sub, sizeof sub, "%s.power", path);
    CAIRN_TRY(get_int(c, sub, json_object_get(o, "power"), 1, GENESIS_TOTAL_POWER_MAX,
                      &v->power));
    const json_t *name = json_object_get(o, "name");
    if (name) {
        snprintf(sub, sizeof sub, "%s.name", path);
        const char *s = json_string_value(name);
        if (!s || !name_ok(s))
            return perr(c, sub, "must be a string of at most %d printable characters",
                        GENESIS_NAME_MAX);
        snprintf(v->name, sizeof v->name, "%s", s);
    }
    return CAIRN_OK;
}

static cairn_err parse_accounts(pctx *c, const json_t *state, genesis_t *g)
{
    static const char *const top[] = {"accounts", NULL};
    static const char *const fields[] = {"address", "balance", NULL};
    CAIRN_TRY(check_fields(c, "app_state", state, top, top));
    const json_t *arr = json_object_get(state, "accounts");
    if (!json_is_array(arr)) return perr(c, "app_state.accounts", "must be an array");
    size_t n = json_array_size(arr);
    if (n > GENESIS_ACCOUNTS_MAX)
        return perr(c, "app_state.accounts", "more than %d accounts", GENESIS_ACCOUNTS_MAX);
    if (n == 0) return CAIRN_OK;
    g->accounts = calloc(n, sizeof *g->accounts);
    if (!g->accounts) return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char path[64], sub[80];
        snprintf(path, sizeof path, "app_state.accounts[%zu]", i);
        const json_t *a = json_array_get(arr, i);
        CAIRN_TRY(check_fields(c, path, a, fields, fields));
        snprintf(sub, sizeof sub, "%s.address", path);
        CAIRN_TRY(get_addr(c, sub, json_object_get(a, "address"), g->accounts[i].address));
        snprintf(sub, sizeof sub, "%s.balance", path);
        CAIRN_TRY(get_u64(c, sub, json_object_get(a, "balance"), &g->accounts[i].balance));
        g->n_accounts = (uint32_t)(i + 1);
    }
    return CAIRN_OK;
}

static cairn_err parse_root(pctx *c, const json_t *root, genesis_t *g)
{
    static const char *const fields[] = {"genesis_time", "chain_id", "initial_height",
                                         "consensus_params", "validators", "app_hash",
                                         "app_state", NULL};
    static const char *const req[] = {"genesis_time", "chain_id", "initial_height",
                                      "consensus_params", "validators", "app_state", NULL};
    CAIRN_TRY(check_fields(c, "(top level)", root, fields, req));
    const char *t = json_string_value(json_object_get(root, "genesis_time"));
    if (!t || genesis_time_parse(t, &g->genesis_time_ns) != CAIRN_OK)
        return perr(c, "genesis_time", "must be an RFC 3339 time after 1970 such as "
                                       "\"2026-11-25T12:00:00.000000000Z\"");
    const char *cid = json_string_value(json_object_get(root, "chain_id"));
    if (!cid || strlen(cid) != json_string_length(json_object_get(root, "chain_id")) ||
        chain_id_set(&g->chain_id, cid) != CAIRN_OK)
        return perr(c, "chain_id", "must be 1 to %d printable ASCII characters", CHAIN_ID_MAX);
    int64_t h;
    CAIRN_TRY(get_int(c, "initial_height", json_object_get(root, "initial_height"), 1, INT64_MAX,
                      &h));
    g->initial_height = (uint64_t)h;
    CAIRN_TRY(parse_params(c, json_object_get(root, "consensus_params"), &g->params));
    const json_t *vals = json_object_get(root, "validators");
    if (!json_is_array(vals)) return perr(c, "validators", "must be an array");
    size_t nv = json_array_size(vals);
    if (nv < 1 || nv > VALIDATORS_MAX)
        return perr(c, "validators", "need 1 to %d validators, found %zu", VALIDATORS_MAX, nv);
    for (size_t i = 0; i < nv; i++) {
        CAIRN_TRY(parse_validator(c, json_array_get(vals, i), (uint32_t)i, &g->validators[i]));
        g->n_validators = (uint32_t)(i + 1);
    }
    const json_t *ah = json_object_get(root, "app_hash");
    if (ah) {
        const char *s = json_string_value(ah);
        size_t len = 0;
        if (!s || (*s && (hex_decode_var(g->app_hash, HASH_BYTES, &len, s, strlen(s)) !=
                              CAIRN_OK || len != HASH_BYTES)))
            return perr(c, "app_hash", "must be \"\" or 64 hex digits");
        g->app_hash_len = (uint8_t)len;
    }
    return parse_accounts(c, json_object_get(root, "app_state"), g);
}

cairn_err genesis_parse(genesis_t *g, const char *name, const char *text, size_t len,
                        char *errbuf)
{
    pctx c = {errbuf, name};
    json_error_t jerr;
    genesis_init(g);
    if (len > GENESIS_FILE_MAX) {
        seterr(errbuf, "%s: larger than %d bytes", name, GENESIS_FILE_MAX);
        return CAIRN_EBAD_GENESIS;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        seterr(errbuf, "%s:%d:%d: not valid JSON: %s", name, jerr.line, jerr.column, jerr.text);
        return CAIRN_EBAD_GENESIS;
    }
    cairn_err rc = parse_root(&c, root, g);
    if (rc == CAIRN_OK) {
        char why[GENESIS_ERR_MAX];
        rc = genesis_validate(g, why);
        if (rc != CAIRN_OK) seterr(errbuf, "%s: %s", name, why);
    }
    json_decref(root);
    if (rc != CAIRN_OK) genesis_deinit(g);
    return rc;
}

cairn_err genesis_load(genesis_t *g, const char *path, char *errbuf)
{
    genesis_init(g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(errbuf, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? CAIRN_ENOT_FOUND : CAIRN_EIO;
    }
    cairn_err rc;
    char *text = malloc(GENESIS_FILE_MAX + 1);
    if (!text) {
        fclose(f);
        return CAIRN_ENOMEM;
    }
    size_t n = fread(text, 1, GENESIS_FILE_MAX + 1, f);
    if (ferror(f)) {
        seterr(errbuf, "%s: read error", path);
        rc = CAIRN_EIO;
    } else {
        rc = genesis_parse(g, path, text, n, errbuf);
    }
    free(text);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------ writing */

static json_t *i64_json(int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static json_t *u64_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

static json_t *addr_json(const uint8_t a[ADDR_BYTES])
{
    char hex[2 * ADDR_BYTES + 1];
    hex_encode_upper(hex, a, ADDR_BYTES);
    return json_string(hex);
}

static json_t *params_json(const genesis_params_t *p)
{
    return json_pack("{s:{s:o,s:o}, s:{s:o,s:o,s:o}, s:{s:[s]}, s:{s:o}, s:{s:o}}",
                     "block", "max_bytes", i64_json(p->block_max_bytes), "max_gas",
                     i64_json(p->block_max_gas), "evidence", "max_age_num_blocks",
                     i64_json(p->evidence_max_age_num_blocks), "max_age_duration",
                     i64_json(p->evidence_max_age_duration_ns), "max_bytes",
                     i64_json(p->evidence_max_bytes), "validator", "pub_key_types", "ed25519",
                     "version", "app", u64_json(p->app_version), "abci",
                     "vote_extensions_enable_height",
                     i64_json(p->vote_extensions_enable_height));
}

static json_t *to_json(const genesis_t *g)
{
    char t[31], app_hash[2 * HASH_BYTES + 1] = "";
    genesis_time_format(t, g->genesis_time_ns);
    if (g->app_hash_len == HASH_BYTES) hex_encode_upper(app_hash, g->app_hash, HASH_BYTES);
    json_t *vals = json_array(), *accts = json_array();
    int bad = !vals || !accts;
    for (uint32_t i = 0; i < g->n_validators && !bad; i++) {
        const genesis_validator_t *v = &g->validators[i];
        bad |= json_array_append_new(
            vals, json_pack("{s:o, s:o, s:o, s:s}", "address", addr_json(v->address), "pub_key",
                            keys_pub_json(v->pub), "power", i64_json(v->power), "name",
                            v->name));
    }
    for (uint32_t i = 0; i < g->n_accounts && !bad; i++)
        bad |= json_array_append_new(accts, json_pack("{s:o, s:o}", "address",
                                                      addr_json(g->accounts[i].address),
                                                      "balance",
                                                      u64_json(g->accounts[i].balance)));
    if (bad) {
        json_decref(vals);
        json_decref(accts);
        return NULL;
    }
    char cid[CHAIN_ID_MAX + 1];
    memcpy(cid, g->chain_id.id, g->chain_id.len);
    cid[g->chain_id.len] = 0;
    /* field order is part of the canonical form (jansson keeps insertion order) */
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:{s:o}}", "genesis_time", t, "chain_id",
                     cid, "initial_height", u64_json(g->initial_height), "consensus_params",
                     params_json(&g->params), "validators", vals, "app_hash", app_hash,
                     "app_state", "accounts", accts);
}

cairn_err genesis_format(const genesis_t *g, bool pretty, char **out)
{
    json_t *root = to_json(g);
    if (!root) return CAIRN_ENOMEM;
    char *text = json_dumps(root, pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(root);
    if (!text) return CAIRN_ENOMEM;
    *out = text;
    return CAIRN_OK;
}

cairn_err genesis_hash(const genesis_t *g, uint8_t out[static HASH_BYTES])
{
    char *text = NULL;
    CAIRN_TRY(genesis_format(g, false, &text));
    hash_sha256(out, text, strlen(text));
    free(text);
    return CAIRN_OK;
}

cairn_err genesis_save(const genesis_t *g, const char *path, char *errbuf)
{
    char *text = NULL, tmp[4096];
    int fd = -1;
    cairn_err rc = genesis_validate(g, errbuf);
    if (rc != CAIRN_OK) return rc;
    CAIRN_TRY(genesis_format(g, true, &text));
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        seterr(errbuf, "%s: path too long", path);
        rc = CAIRN_EINVALID_ARG;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto io_fail;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) goto io_fail;
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) goto io_fail;
    if (close(fd) != 0) {
        fd = -1;
        goto io_fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) goto io_fail;
    goto out;
io_fail:
    seterr(errbuf, "%s: cannot write: %s", path, strerror(errno));
    rc = CAIRN_EIO;
    unlink(tmp);
out:
    if (fd >= 0) close(fd);
    free(text);
    return rc;
}

cairn_err genesis_valset(const genesis_t *g, valset_t *vs)
{
    validator_t vals[VALIDATORS_MAX];
    if (g->n_validators < 1 || g->n_validators > VALIDATORS_MAX) return CAIRN_EBAD_GENESIS;
    memset(vals, 0, sizeof vals);
    for (uint32_t i = 0; i < g->n_validators; i++) {
        memcpy(vals[i].pub, g->validators[i].pub, PUBKEY_BYTES);
        memcpy(vals[i].address, g->validators[i].address, ADDR_BYTES);
        vals[i].power = g->validators[i].power;
        vals[i].proposer_priority = 0;
    }
    return valset_init(vs, vals, g->n_validators);
}
