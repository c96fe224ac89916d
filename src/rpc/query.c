/* query.c - the subset of CometBFT's event query language that cairn serves:
 *   tm.event='NewBlock' AND tx.height>=5 AND tx.hash='AB12..' AND app.key EXISTS
 * An iterative scanner over a bounded string: no recursion, no allocation. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static bool key_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-' || c == '/';
}

static cairn_err fail(char *err, size_t errlen, const char *what, size_t pos)
{
    snprintf(err, errlen, "invalid query: %s at position %zu", what, pos);
    return CAIRN_EBAD_REQUEST;
}

static bool word_at(const char *p, const char *w)
{
    size_t n = strlen(w);
    return strncmp(p, w, n) == 0 && !key_char(p[n]);
}

/* Parses one condition at *pp; advances it. */
static cairn_err parse_cond(qcond_t *c, const char **pp, const char *start, char *err,
                            size_t errlen)
{
    const char *p = skip_ws(*pp);
    size_t k = 0;
    while (key_char(p[k])) k++;
    if (k == 0) return fail(err, errlen, "expected a key", (size_t)(p - start));
    if (k >= sizeof c->key) return fail(err, errlen, "key too long", (size_t)(p - start));
    memcpy(c->key, p, k);
    c->key[k] = 0;
    p = skip_ws(p + k);
    if (word_at(p, "EXISTS")) {
        c->op = QOP_EXISTS;
        *pp = p + 6;
        return CAIRN_OK;
    }
    if (word_at(p, "CONTAINS")) c->op = QOP_CONTAINS, p += 8;
    else if (p[0] == '<' && p[1] == '=') c->op = QOP_LE, p += 2;
    else if (p[0] == '>' && p[1] == '=') c->op = QOP_GE, p += 2;
    else if (p[0] == '<') c->op = QOP_LT, p += 1;
    else if (p[0] == '>') c->op = QOP_GT, p += 1;
    else if (p[0] == '=') c->op = QOP_EQ, p += 1;
    else return fail(err, errlen, "expected an operator (=, <, <=, >, >=, CONTAINS, EXISTS)",
                     (size_t)(p - start));
    p = skip_ws(p);
    if (*p == '\'') {
        const char *end = strchr(p + 1, '\'');
        if (!end) return fail(err, errlen, "unterminated string", (size_t)(p - start));
        size_t n = (size_t)(end - p - 1);
        if (n >= sizeof c->str) return fail(err, errlen, "value too long", (size_t)(p - start));
        memcpy(c->str, p + 1, n);
        c->str[n] = 0;
        c->is_number = false;
        *pp = end + 1;
        return CAIRN_OK;
    }
    if (c->op == QOP_CONTAINS)
        return fail(err, errlen, "CONTAINS needs a 'string'", (size_t)(p - start));
    char *endp;
    size_t n = 0;
    while (p[n] && (isdigit((unsigned char)p[n]) || p[n] == '-' || p[n] == '.')) n++;
    if (n == 0 || n >= 32) return fail(err, errlen, "expected a 'string' or a number",
                                       (size_t)(p - start));
    char tmp[32];
    memcpy(tmp, p, n);
    tmp[n] = 0;
    c->number = strtod(tmp, &endp);
    if (*endp) return fail(err, errlen, "malformed number", (size_t)(p - start));
    memcpy(c->str, tmp, n + 1);
    c->is_number = true;
    *pp = p + n;
    return CAIRN_OK;
}

cairn_err rpc_query_parse(rpc_query_t *q, const char *text, char *err, size_t errlen)
{
    q->n = 0;
    if (strlen(text) >= RPC_QUERY_BYTES_MAX) {
        snprintf(err, errlen, "invalid query: longer than %d bytes", RPC_QUERY_BYTES_MAX - 1);
        return CAIRN_EBAD_REQUEST;
    }
    const char *p = text;
    for (;;) {
        if (q->n >= RPC_QUERY_CONDITIONS_MAX)
            return fail(err, errlen, "too many conditions", (size_t)(p - text));
        CAIRN_TRY(parse_cond(&q->c[q->n], &p, text, err, errlen));
        q->n++;
        p = skip_ws(p);
        if (*p == 0) return CAIRN_OK;
        if (!word_at(p, "AND")) return fail(err, errlen, "expected AND", (size_t)(p - text));
        p += 3;
    }
}

static const char *op_text(qop_t op)
{
    static const char *t[] = {"=", "<", "<=", ">", ">=", " CONTAINS ", " EXISTS"};
    return t[op];
}

void rpc_query_string(const rpc_query_t *q, char *out, size_t outlen)
{
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < q->n && off < outlen; i++) {
        const qcond_t *c = &q->c[i];
        int w;
        if (c->op == QOP_EXISTS)
            w = snprintf(out + off, outlen - off, "%s%s%s", i ? " AND " : "", c->key,
                         op_text(c->op));
        else
            w = snprintf(out + off, outlen - off, c->is_number ? "%s%s%s%s" : "%s%s%s'%s'",
                         i ? " AND " : "", c->key, op_text(c->op), c->str);
        if (w < 0) break;
        off += (size_t)w;
    }
}

static bool value_match(const qcond_t *c, const char *v)
{
    switch (c->op) {
    case QOP_EXISTS: return true;
    case QOP_CONTAINS: return strstr(v, c->str) != NULL;
    default: break;
    }
    if (!c->is_number) {
        int cmp = strcmp(v, c->str);
        return c->op == QOP_EQ ? cmp == 0 : c->op == QOP_LT ? cmp < 0 : c->op == QOP_LE ? cmp <= 0
                                        : c->op == QOP_GT ? cmp > 0 : cmp >= 0;
    }
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end) return false;
    switch (c->op) {
    case QOP_EQ: return x == c->number;
    case QOP_LT: return x < c->number;
    case QOP_LE: return x <= c->number;
    case QOP_GT: return x > c->number;
    case QOP_GE: return x >= c->number;
    default: return false;
    }
}

bool rpc_query_match(const rpc_query_t *q, const char *event_type, const rpc_attr *attrs,
                     size_t n_attrs)
{
    for (size_t i = 0; i < q->n; i++) {
        const qcond_t *c = &q->c[i];
        bool any = false;
        if (strcmp(c->key, "tm.event") == 0) any = value_match(c, event_type);
        for (size_t k = 0; !any && k < n_attrs; k++)
            if (attrs[k].key && attrs[k].value && strcmp(attrs[k].key, c->key) == 0)
                any = value_match(c, attrs[k].value);
        if (!any) return false;
    }
    return true;
}
