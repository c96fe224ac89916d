/* bytes.h - growable byte buffers with a hard bound, and hex/base64 text forms.
 *
 * buf_t owns its memory: buf_init() then buf_deinit(). Every append checks the
 * buffer's bound (cap_max) and fails with CAIRN_ELIMIT instead of growing past it,
 * so no buffer fed by untrusted input can grow without limit.
 * Not thread-safe; one owner at a time.
 */
#ifndef CAIRN_BASE_BYTES_H
#define CAIRN_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t cap_max; /* appends beyond this fail with CAIRN_ELIMIT */
} buf_t;

#define BUF_DEFAULT_MAX ((size_t)64 << 20) /* 64 MiB */

void buf_init(buf_t *b, size_t cap_max);
void buf_deinit(buf_t *b);
void buf_reset(buf_t *b); /* len = 0, keeps memory */
cairn_err buf_reserve(buf_t *b, size_t extra) CAIRN_MUST_CHECK;
cairn_err buf_append(buf_t *b, const void *p, size_t n) CAIRN_MUST_CHECK;
/* Hands the bytes to the caller (free() them); b is left empty. */
uint8_t *buf_steal(buf_t *b, size_t *len_out);

/* Upper-case hex. out must hold 2*n+1 bytes; always NUL-terminated. */
void hex_encode_upper(char *out, const uint8_t *in, size_t n);
/* Lower-case hex, same contract. */
void hex_encode_lower(char *out, const uint8_t *in, size_t n);
/* Either case. Fails unless strlen(in) == 2*n exactly and all digits are hex. */
cairn_err hex_decode(uint8_t *out, size_t n, const char *in) CAIRN_MUST_CHECK;
/* Decodes hex of any even length up to out_max bytes; *out_len gets the size. */
cairn_err hex_decode_var(uint8_t *out, size_t out_max, size_t *out_len,
                         const char *in, size_t in_len) CAIRN_MUST_CHECK;

/* Standard base64 with padding (RFC 4648 section 4). */
size_t base64_encoded_len(size_t n); /* excluding NUL */
void base64_encode(char *out, const uint8_t *in, size_t n); /* NUL-terminated */
/* Strict: padding required, no whitespace, non-zero unused bits rejected. */
cairn_err base64_decode(uint8_t *out, size_t out_max, size_t *out_len, const char *in,
                        size_t in_len) CAIRN_MUST_CHECK;

/* Constant-time comparison of secrets; plain memcmp is fine for public data. */
bool bytes_equal_ct(const void *a, const void *b, size_t n);
bool bytes_is_zero(const void *p, size_t n);

#endif
