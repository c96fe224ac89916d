/* wal_int.h - for src/wal/ and its own tests only: durable-file helpers and the
 * pure WAL segment scanner.
 *
 * The scanner reads a segment through a read_at callback so the same code scans
 * a file (pread) in wal.c and plain memory in the fuzz target and unit tests.
 * It never allocates more than one record (<= record_bytes_max) plus a fixed
 * window, and every loop is bounded by the segment size.
 */
#ifndef CAIRN_WAL_WAL_INT_H
#define CAIRN_WAL_WAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/crypto.h"
#include "wal/wal.h"

/* ----------------------------------------------------------- file helpers */

/* write() until all n bytes are out; EINTR retried. CAIRN_EIO on failure. */
cairn_err wal_file_write_all(int fd, const void *p, size_t n) CAIRN_MUST_CHECK;
/* pread() until n bytes or EOF; *got gets the count read. */
cairn_err wal_file_pread_all(int fd, void *p, size_t n, uint64_t off,
                             size_t *got) CAIRN_MUST_CHECK;
/* fsync() of a directory, so a rename or create inside it is durable. */
cairn_err wal_file_fsync_dir(const char *dir) CAIRN_MUST_CHECK;
/* The directory part of path ("." if none), into out[out_max]. */
cairn_err wal_file_dirname(char *out, size_t out_max, const char *path) CAIRN_MUST_CHECK;
/* Write p to path durably and atomically: path.tmp, fsync, rename, fsync dir.
 * After a crash the file holds either the old or the new bytes, never a mix. */
cairn_err wal_file_replace(const char *path, const void *p, size_t n) CAIRN_MUST_CHECK;
/* Like wal_file_replace but fails with CAIRN_EEXISTS if path exists (link()). */
cairn_err wal_file_create_new(const char *path, const void *p, size_t n) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------- signer core */

struct signer;
/* The rules of signer.h for msg at (h, r, step). alt_hash, if not NULL, is the
 * hash of the same message carrying the stored timestamp (rule 4); *old_time is
 * set when it matched and the stored signature was returned for it. */
cairn_err signer_sign_checked(struct signer *s, uint64_t h, uint32_t r, uint8_t step,
                              const uint8_t *msg, size_t n, int64_t time_ns,
                              const uint8_t *alt_hash, uint8_t sig[static SIG_BYTES],
                              bool *old_time) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------- segment format */

/* Segment header (docs/wal.md):
 *   0  magic "cairnwal"        8
 *   8  version u8 = 1          1
 *   9  zero                    7
 *  16  salt                    8
 *  24  base_height u64         8   last height ended before this segment
 *  32  SHA-256(bytes 0..31)[0..8)   8
 *  40  records...
 * Record: len u32 | check u32 | type u8 | payload[len], where
 *   check = first 4 bytes (LE u32) of SHA-256(salt | len u32 | type | payload). */
#define WAL_MAGIC "cairnwal"
#define WAL_VERSION 1
#define WAL_SEG_HEADER_BYTES 40
#define WAL_REC_HEADER_BYTES 9
#define WAL_SALT_BYTES 8

typedef struct {
    uint8_t salt[WAL_SALT_BYTES];
    uint64_t base_height;
} wal_seg_header;

void wal_seg_header_encode(const wal_seg_header *h, uint8_t out[static WAL_SEG_HEADER_BYTES]);
/* CAIRN_EBAD_ENCODING (magic), CAIRN_EBAD_VERSION, CAIRN_ECORRUPT (checksum,
 * non-zero padding), CAIRN_ETRUNCATED (n < header). */
cairn_err wal_seg_header_decode(wal_seg_header *h, const uint8_t *p, size_t n) CAIRN_MUST_CHECK;
/* The check field of a record. */
uint32_t wal_record_check(const uint8_t salt[static WAL_SALT_BYTES], uint32_t len,
                          uint8_t type, const uint8_t *payload);
/* Appends the record header + payload to out. */
cairn_err wal_record_encode(buf_t *out, const uint8_t salt[static WAL_SALT_BYTES],
                            uint8_t type, const void *p, size_t n) CAIRN_MUST_CHECK;

/* ----------------------------------------------------------- scanner */

/* Reads up to n bytes at off into buf; *got < n only at end of input. */
typedef cairn_err (*wal_read_at_cb)(void *ctx, uint64_t off, void *buf, size_t n,
                                    size_t *got);

typedef enum {
    WAL_SCAN_CLEAN = 0, /* every byte after the header belongs to a valid record */
    WAL_SCAN_TORN,      /* a partial or bad tail with no valid record after it */
    WAL_SCAN_DAMAGED,   /* a bad record followed by a valid one (or undecidable) */
} wal_scan_end;

typedef struct {
    wal_scan_end end;
    uint64_t valid_end;       /* offset just after the last valid record */
    uint64_t bad_offset;      /* TORN/DAMAGED: offset of the first bad record */
    uint64_t records;         /* valid records seen */
    uint64_t last_marker_end; /* offset after the last end-of-height marker, or
                                 WAL_SEG_HEADER_BYTES if none */
    uint64_t last_height;     /* height of that marker, or the segment's base */
    const char *why;          /* static text: why the first bad record is bad */
} wal_scan_result;

/* Called for each valid record in order; payload valid only during the call.
 * A non-OK return stops the scan and is returned by wal_scan. */
typedef cairn_err (*wal_scan_record_cb)(void *ctx, uint64_t off, uint8_t type,
                                        const uint8_t *p, size_t n);

typedef struct {
    wal_read_at_cb read_at;
    void *read_ctx;
    uint64_t size;             /* bytes in the segment, header included */
    uint32_t record_bytes_max; /* larger length fields are bad records */
    uint64_t start;            /* first record offset (>= WAL_SEG_HEADER_BYTES) */
    uint64_t resync_bytes_max; /* hashing budget when looking past a bad record */
    uint64_t height_before;    /* last end-of-height before `start` */
} wal_scan_args;

/* Scans a segment whose header decodes to h. Returns CAIRN_OK with *res filled
 * (damage is reported in res->end, not as an error), an I/O error from read_at,
 * CAIRN_ENOMEM, or the first non-OK return of cb (cb may be NULL).
 * End-of-height markers must carry a u64 height greater than the previous one;
 * a marker that does not is a bad record. */
cairn_err wal_scan(const wal_scan_args *a, const wal_seg_header *h, wal_scan_result *res,
                   void *ctx, wal_scan_record_cb cb) CAIRN_MUST_CHECK;

#endif
