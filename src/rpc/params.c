/* params.c - checks a call's params against the method's declared list and
 * normalises them, for both the JSON forms (object or positional array) and
 * CometBFT's URI form, where every value arrives as raw text:
 *   "quoted"  a string (JSON string syntax)
 *   0xAB12    bytes given as hex
 *   5, true   plain integers and booleans
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/json_chain.h"
#include "rpc/rpc_int.h"

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a bool";
    default: return "null";
    }
}

static bool parse_int(const char *s, size_t n, bool is_unsigned, int64_t *out)
{
    if (n == 0 || n > 20) return false;
    char tmp[24];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!(tmp[i] >= '0' && tmp[i] <= '9') && !(i == 0 && tmp[i] == '-' && n > 1))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end) return false;
    if (is_unsigned && v < 0) return false;
    *out = v;
    return true;
}

/* Decodes hex text (optional 0x) into a malloc'd buffer. */
static bool hex_to_bytes(const char *s, size_t n, uint8_t **out, size_t *out_len)
{
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2, n -= 2;
    if (n % 2) return false;
    uint8_t *b = malloc(n / 2 + 1);
    if (!b) return false;
    if (hex_decode_var(b, n / 2, out_len, s, n) != CAIRN_OK) {
        free(b);
        return false;
    }
    *out = b;
    return true;
}

static json_t *bytes_to_b64(uint8_t *b, size_t n)
{
    json_t *j = json_chain_base64(b, n);
    free(b);
    return j;
}

/* URI text that is "quoted": JSON-decode it. NULL if not quoted or malformed. */
static json_t *uri_unquote(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return NULL;
    return json_loadb(s, n, JSON_DECODE_ANY, NULL);
}

#define FAIL(...)                                                                  \
    do {                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                        \
        return NULL;                                                               \
    } while (0)

static json_t *norm_uri(const rpc_param *p, const char *s, size_t n, char *err,
                        size_t errlen)
{
    bool is_hex = n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    json_t *q = uri_unquote(s, n);
    const char *qs = q && json_is_string(q) ? json_string_value(q) : NULL;
    size_t qn = qs ? json_string_length(q) : 0;
    json_t *r = NULL;
    int64_t iv;
    uint8_t *b;
    size_t bl;
    switch (p->type) {
    case RPC_PARAM_STRING:
        if (qs) r = json_stringn(qs, qn);
        else if (is_hex && hex_to_bytes(s, n, &b, &bl)) {
            r = json_stringn((const char *)b, bl); /* NULL unless valid UTF-8 */
            free(b);
        } else if (!is_hex) r = json_stringn(s, n);
        if (!r) snprintf(err, errlen, "%s: expected a string", p->name);
        break;
    case RPC_PARAM_INT:
    case RPC_PARAM_UINT:
        if (parse_int(qs ? qs : s, qs ? qn : n, p->type == RPC_PARAM_UINT, &iv))
            r = json_integer(iv);
        else snprintf(err, errlen, "%s: expected %s integer", p->name,
                      p->type == RPC_PARAM_UINT ? "a non-negative" : "an");
        break;
    case RPC_PARAM_BOOL: {
        const char *t = qs ? qs : s;
        size_t tn = qs ? qn : n;
        if (tn == 4 && memcmp(t, "true", 4) == 0) r = json_true();
        else if (tn == 5 && memcmp(t, "false", 5) == 0) r = json_false();
        else snprintf(err, errlen, "%s: expected true or false", p->name);
        break;
    }
    case RPC_PARAM_BYTES:
        if (is_hex && hex_to_bytes(s, n, &b, &bl)) r = bytes_to_b64(b, bl);
        else if (qs) r = json_chain_base64((const uint8_t *)qs, qn);
        if (!r) snprintf(err, errlen,
                         "%s: in the URI form give bytes as 0x-prefixed hex or a \"quoted\" "
                         "string", p->name);
        break;
    case RPC_PARAM_HEX:
        if (hex_to_bytes(qs ? qs : s, qs ? qn : n, &b, &bl)) {
            r = json_chain_hex(b, bl);
            free(b);
        } else snprintf(err, errlen, "%s: expected hex", p->name);
        break;
    }
    json_decref(q);
    return r;
}

static json_t *norm_json(const rpc_param *p, const json_t *v, char *err, size_t errlen)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;
    int64_t iv;
    uint8_t *b;
    size_t bl;
    switch (p->type) {
    case RPC_PARAM_STRING:
        if (!s) FAIL("%s: expected a string, got %s", p->name, type_name(v));
        return json_stringn(s, n);
    case RPC_PARAM_INT:
    case RPC_PARAM_UINT:
        if (json_is_integer(v)) {
            iv = json_integer_value(v);
            if (p->type == RPC_PARAM_UINT && iv < 0)
                FAIL("%s: expected a non-negative integer", p->name);
            return json_integer(iv);
        }
        if (s && parse_int(s, n, p->type == RPC_PARAM_UINT, &iv)) return json_integer(iv);
        FAIL("%s: expected %s integer (a JSON number or a decimal string), got %s", p->name,
             p->type == RPC_PARAM_UINT ? "a non-negative" : "an",
             s ? "a non-numeric string" : type_name(v));
    case RPC_PARAM_BOOL:
        if (json_is_boolean(v)) return json_boolean(json_is_true(v));
        if (s && strcmp(s, "true") == 0) return json_true();
        if (s && strcmp(s, "false") == 0) return json_false();
        FAIL("%s: expected a bool, got %s", p->name, type_name(v));
    case RPC_PARAM_BYTES:
        if (!s) FAIL("%s: expected a base64 string, got %s", p->name, type_name(v));
        b = malloc(n / 4 * 3 + 3);
        if (!b) FAIL("%s: out of memory", p->name);
        if (base64_decode(b, n / 4 * 3 + 3, &bl, s, n) != CAIRN_OK) {
            free(b);
            FAIL("%s: expected a base64 string (RFC 4648 with padding)", p->name);
        }
        return bytes_to_b64(b, bl);
    case RPC_PARAM_HEX:
        if (!s) FAIL("%s: expected a hex string, got %s", p->name, type_name(v));
        if (!hex_to_bytes(s, n, &b, &bl)) FAIL("%s: expected a hex string", p->name);
        {
            json_t *r = json_chain_hex(b, bl);
            free(b);
            return r;
        }
    }
    FAIL("%s: unknown parameter type", p->name);
}

cairn_err rpc_params_normalize(const rpc_method_t *m, const json_t *params, bool uri,
                               json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (params && !json_is_object(params) && !json_is_array(params) && !json_is_null(params)) {
        snprintf(err, errlen, "params must be an object or an array, got %s",
                 type_name(params));
        return CAIRN_EBAD_REQUEST;
    }
    if (json_is_array(params) && json_array_size(params) > m->n_params) {
        snprintf(err, errlen, "too many params: %s takes at most %zu", m->name, m->n_params);
        return CAIRN_EBAD_REQUEST;
    }
    json_t *o = json_object();
    if (!o) return CAIRN_ENOMEM;
    for (size_t i = 0; i < m->n_params; i++) {
        const rpc_param *p = &m->params[i];
        const json_t *v = NULL;
        if (json_is_object(params)) v = json_object_get(params, p->name);
        else if (json_is_array(params) && i < json_array_size(params))
            v = json_array_get(params, i);
        if (!v || json_is_null(v) || (uri && json_is_string(v) && json_string_length(v) == 0)) {
            if (p->required) {
                snprintf(err, errlen, "missing required param \"%s\"", p->name);
                json_decref(o);
                return CAIRN_EBAD_REQUEST;
            }
            continue;
        }
        json_t *nv = uri && json_is_string(v)
                         ? norm_uri(p, json_string_value(v), json_string_length(v), err, errlen)
                         : norm_json(p, v, err, errlen);
        if (!nv || json_object_set_new(o, p->name, nv) != 0) {
            json_decref(o);
            return CAIRN_EBAD_REQUEST;
        }
    }
    *out = o;
    return CAIRN_OK;
}
