/* codec.h - the canonical binary encoding of everything cairn hashes, signs, sends
 * or stores.
 *
 * Rules (docs/formats.md):
 *   - integers are fixed-width little-endian (u8, u16, u32, u64, i64);
 *   - booleans are one byte, 0 or 1; anything else is NONCANONICAL;
 *   - byte strings are a u32 length then the bytes; every read names a maximum;
 *   - fixed-size fields (hashes, keys, signatures) are raw bytes;
 *   - each top-level type starts with a version byte, checked by its decoder.
 * One encoding, one decoding: decode(encode(x)) == x and encode(decode(b)) == b
 * for every b a decoder accepts; a decoder that finishes with bytes left fails
 * with TRAILING (codec_reader_finish).
 *
 * The writer appends to a bounded buf_t. The reader never reads past its input
 * and remembers its first error ("sticky"), so a decoder can read a run of fields
 * and check once. Pure: no I/O, no clock. One owner per reader/writer.
 */
#ifndef CAIRN_CODEC_CODEC_H
#define CAIRN_CODEC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"

typedef struct {
    buf_t *out;
    cairn_err err; /* first error; later writes are no-ops */
} codec_writer;

void codec_writer_init(codec_writer *w, buf_t *out);
void codec_put_u8(codec_writer *w, uint8_t v);
void codec_put_u16(codec_writer *w, uint16_t v);
void codec_put_u32(codec_writer *w, uint32_t v);
void codec_put_u64(codec_writer *w, uint64_t v);
void codec_put_i64(codec_writer *w, int64_t v);
void codec_put_bool(codec_writer *w, bool v);
void codec_put_fixed(codec_writer *w, const void *p, size_t n);
/* u32 length prefix, then the bytes. */
void codec_put_bytes(codec_writer *w, const void *p, size_t n);

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    cairn_err err; /* first error; later reads return zeros */
} codec_reader;

void codec_reader_init(codec_reader *r, const void *p, size_t len);
uint8_t codec_get_u8(codec_reader *r);
uint16_t codec_get_u16(codec_reader *r);
uint32_t codec_get_u32(codec_reader *r);
uint64_t codec_get_u64(codec_reader *r);
int64_t codec_get_i64(codec_reader *r);
bool codec_get_bool(codec_reader *r);
void codec_get_fixed(codec_reader *r, void *out, size_t n);
/* Borrows: *out points into the reader's input (valid as long as it is).
 * Fails with TOO_LARGE if the length prefix exceeds max. */
void codec_get_bytes(codec_reader *r, const uint8_t **out, uint32_t *len, uint32_t max);
/* Borrowed view of the next n raw bytes. */
const uint8_t *codec_get_view(codec_reader *r, size_t n);
/* Records err unless an earlier error is already recorded. */
void codec_reader_fail(codec_reader *r, cairn_err err);
size_t codec_remaining(const codec_reader *r);
/* The reader's error, or TRAILING if bytes remain. */
cairn_err codec_reader_finish(const codec_reader *r) CAIRN_MUST_CHECK;

#endif
