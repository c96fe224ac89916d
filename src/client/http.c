/* http.c - JSON-RPC 2.0 calls over HTTP with libcurl (client.h). */
#include <curl/curl.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

struct client {
    CURL *curl;
    char url[CLIENT_URL_MAX];
    unsigned timeout_ms;
    uint64_t next_id;
};

cairn_err client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? CAIRN_OK : CAIRN_EINTERNAL;
}

cairn_err client_new(const char *url, unsigned timeout_ms, client_t **out, char *why,
                     size_t why_len)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0 || n >= CLIENT_URL_MAX)
        return cairn_fail(CAIRN_EINVALID_ARG, why, why_len, "node URL is empty or too long");
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return cairn_fail(CAIRN_EINVALID_ARG, why, why_len,
                   "node URL '%s' must start with http:// or https://", url);
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)url[i]))
            return cairn_fail(CAIRN_EINVALID_ARG, why, why_len, "node URL contains a space or control "
                                                         "character");
    client_t *c = calloc(1, sizeof *c);
    if (!c) return CAIRN_ENOMEM;
    memcpy(c->url, url, n + 1);
    while (n > 8 && c->url[n - 1] == '/') c->url[--n] = 0;
    c->timeout_ms = timeout_ms ? timeout_ms : 30000;
    c->next_id = 1;
    if (!(c->curl = curl_easy_init())) {
        free(c);
        return cairn_fail(CAIRN_EINTERNAL, why, why_len, "cannot start libcurl");
    }
    *out = c;
    return CAIRN_OK;
}

void client_free(client_t *c)
{
    if (!c) return;
    curl_easy_cleanup(c->curl);
    free(c);
}

const char *client_url(const client_t *c) { return c->url; }

typedef struct {
    buf_t body;
    bool too_large;
} sink_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb;
    if (buf_append(&s->body, p, n) != CAIRN_OK) {
        s->too_large = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

/* "Connection refused" -> "connection refused" */
static void lower_first(char *s)
{
    if (s[0] && isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1]))
        s[0] = (char)tolower((unsigned char)s[0]);
}

static cairn_err transport_error(client_t *c, CURLcode cc, const sink_t *s, char *why,
                                 size_t why_len)
{
    char reason[256];
    long os_errno = 0;
    curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
    if (s->too_large)
        snprintf(reason, sizeof reason, "answer larger than %zu bytes",
                 (size_t)CLIENT_RESPONSE_BYTES_MAX);
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(reason, sizeof reason, "timed out after %u ms", c->timeout_ms);
    else if (cc == CURLE_COULDNT_RESOLVE_HOST)
        snprintf(reason, sizeof reason, "cannot resolve the host name");
    else if (os_errno)
        snprintf(reason, sizeof reason, "%s", strerror((int)os_errno));
    else
        snprintf(reason, sizeof reason, "%s", curl_easy_strerror(cc));
    lower_first(reason);
    return cairn_fail(CAIRN_EUNREACHABLE, why, why_len, "cannot reach node at %s: %s", c->url, reason);
}

/* POSTs body and parses the answer as JSON; *resp is a new reference. */
static cairn_err exchange(client_t *c, const char *body, json_t **resp, char *why, size_t why_len)
{
    *resp = NULL;
    sink_t s;
    memset(&s, 0, sizeof s);
    buf_init(&s.body, CLIENT_RESPONSE_BYTES_MAX);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    cairn_err rc = CAIRN_OK;
    if (cc != CURLE_OK) {
        rc = transport_error(c, cc, &s, why, why_len);
    } else {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        json_error_t je;
        *resp = json_loadb((const char *)s.body.data, s.body.len, 0, &je);
        if (!json_is_object(*resp) && !json_is_array(*resp)) {
            json_decref(*resp);
            *resp = NULL;
            rc = cairn_fail(status == 200 ? CAIRN_EBAD_ENCODING : CAIRN_ENODE_ERROR, why, why_len,
                     "node at %s answered HTTP %ld without a JSON-RPC body", c->url, status);
        }
    }
    buf_deinit(&s.body);
    return rc;
}

cairn_err client_call_raw(client_t *c, json_t *request, json_t **response, char *why,
                          size_t why_len)
{
    char *body = json_dumps(request, JSON_COMPACT);
    if (!body) return CAIRN_ENOMEM;
    cairn_err rc = exchange(c, body, response, why, why_len);
    free(body);
    return rc;
}

cairn_err client_call(client_t *c, const char *method, json_t *params, json_t **result,
                      char *why, size_t why_len)
{
    *result = NULL;
    json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id",
                            (json_int_t)c->next_id++, "method", method, "params",
                            params ? json_incref(params) : json_object());
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return CAIRN_ENOMEM;
    json_t *resp = NULL;
    cairn_err rc = exchange(c, body, &resp, why, why_len);
    free(body);
    if (rc) goto out;
    if (!json_is_object(resp)) {
        rc = cairn_fail(CAIRN_EBAD_ENCODING, why, why_len, "node answer to %s is not a JSON-RPC object", method);
        goto out;
    }
    const json_t *err = json_object_get(resp, "error");
    if (err && !json_is_null(err)) {
        const char *msg = json_string_value(json_object_get(err, "message"));
        const char *data = json_string_value(json_object_get(err, "data"));
        rc = cairn_fail(CAIRN_ENODE_ERROR, why, why_len, "node error in %s: %s%s%s", method,
                 msg ? msg : "(no message)", data && *data ? ": " : "", data && *data ? data : "");
        goto out;
    }
    json_t *res = json_object_get(resp, "result");
    if (!res) {
        rc = cairn_fail(CAIRN_EBAD_ENCODING, why, why_len, "node answer to %s has no result", method);
        goto out;
    }
    *result = json_incref(res);
    rc = CAIRN_OK;
out:
    json_decref(resp);
    return rc;
}
