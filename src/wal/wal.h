/* wal.h - the consensus write-ahead log: an append-only, checksummed record log
 * that lets a restarted node replay what its consensus state machine saw and did
 * in the height it was working on.
 *
 * A WAL is a directory of segment files "<base height, 20 digits>.wal". Each
 * segment starts with a header (magic, version, random salt, base height) and
 * holds records [len u32 | check u32 | type u8 | payload] (docs/wal.md). Records
 * are opaque bytes here; consensus defines their types (1..254) and content.
 * Type 255 is the WAL's own end-of-height marker (wal_end_height), type 0 is
 * never valid.
 *
 * Invariants:
 *  1. Records are only appended; a record is durable once wal_sync (or
 *     wal_end_height) has returned.
 *  2. On open, the last segment is scanned. A torn tail (a partial or bad record
 *     with no valid record anywhere after it) is cut off and logged; a bad
 *     record followed by a valid one is damage in the middle: wal_open fails with
 *     CAIRN_EWAL_DAMAGED and touches nothing (the node must refuse to start).
 *  3. Segments are rotated only right after an end-of-height marker, so the
 *     records of the height in progress are always in the last segment, and
 *     replay never reads older segments.
 *  4. End-of-height heights strictly increase across the whole WAL.
 *  5. Memory is bounded: one record buffer (<= WAL_RECORD_BYTES_MAX) at a time.
 *  6. A failed write or sync leaves the WAL refusing further writes (CAIRN_EIO):
 *     what is on disk is then unknown, and it is re-checked on the next open.
 *  7. One writer: wal_open takes an exclusive flock on the directory
 *     (CAIRN_EBUSY if another wal_t, in any process, holds it).
 *
 * Threads: a wal_t has one owner thread.
 */
#ifndef CAIRN_WAL_WAL_H
#define CAIRN_WAL_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WAL_RECORD_BYTES_MAX ((uint32_t)10 << 20) /* > BLOCK_BYTES_MAX + overhead */
#define WAL_SEGMENT_BYTES_DEFAULT ((uint64_t)64 << 20)
#define WAL_TYPE_END_HEIGHT 255
#define WAL_TYPE_USER_MAX 254

typedef struct wal wal_t;

typedef struct {
    /* Rotate after an end-of-height marker once the segment is this large. */
    uint64_t segment_bytes_max;
    /* Records longer than this are refused (append) or bad (scan). */
    uint32_t record_bytes_max;
    /* Bytes to hash while deciding whether a bad record is a torn tail;
     * when exceeded the WAL is reported damaged rather than cut. */
    uint64_t resync_bytes_max;
} wal_options;

/* Defaults: WAL_SEGMENT_BYTES_DEFAULT, WAL_RECORD_BYTES_MAX, 256 MiB. */
void wal_options_default(wal_options *o);

/* Opens the WAL in directory `dir`, creating the directory and a first segment
 * (base height 0) if the directory does not exist or holds no segment. Scans the
 * last segment and cuts a torn tail (invariant 2). Errors: CAIRN_EWAL_DAMAGED,
 * CAIRN_EBUSY (invariant 7), CAIRN_EIO, CAIRN_ENOMEM, CAIRN_EINVALID_ARG (bad
 * options). opts may be NULL (defaults). *out: wal_close(). */
cairn_err wal_open(const char *dir, const wal_options *opts, wal_t **out) CAIRN_MUST_CHECK;
/* Closes without syncing (what was not synced may be lost). NULL is fine. */
void wal_close(wal_t *w);

/* Appends one record (type 1..WAL_TYPE_USER_MAX). Not durable until wal_sync.
 * CAIRN_EINVALID_ARG (type), CAIRN_ETOO_LARGE (n > record_bytes_max), CAIRN_EIO. */
cairn_err wal_append(wal_t *w, uint8_t type, const void *p, size_t n) CAIRN_MUST_CHECK;
/* fdatasync: every record appended so far is durable when this returns. */
cairn_err wal_sync(wal_t *w) CAIRN_MUST_CHECK;
/* Appends the end-of-height marker for `height` (> the last one, else
 * CAIRN_EINVALID_ARG), syncs, and rotates to a new segment if the current one has
 * reached segment_bytes_max. */
cairn_err wal_end_height(wal_t *w, uint64_t height) CAIRN_MUST_CHECK;

/* The height of the last end-of-height marker (0 if none ever). */
uint64_t wal_last_height(const wal_t *w);
/* Bytes cut from the tail by the last open (0 if it was clean). */
uint64_t wal_torn_bytes(const wal_t *w);

/* Called for each record; p valid only during the call. Non-OK stops the replay
 * and is returned by wal_replay. */
typedef cairn_err (*wal_record_cb)(void *ctx, uint8_t type, const uint8_t *p, size_t n);

/* Calls cb, in order, for every record after the last end-of-height marker (the
 * height in progress). Re-checks each record's checksum as it reads it back:
 * CAIRN_EWAL_DAMAGED if the disk changed under us.
 * The caller compares wal_last_height() with its own last committed height: a
 * crash between saving block H and wal_end_height(H) replays records of H, which
 * consensus must recognise (their height is done) and skip. */
cairn_err wal_replay(wal_t *w, void *ctx, wal_record_cb cb) CAIRN_MUST_CHECK;

/* Deletes segments that hold only heights below `height` (never the last
 * segment). *removed (may be NULL) gets how many were deleted. */
cairn_err wal_truncate_before(wal_t *w, uint64_t height, uint32_t *removed) CAIRN_MUST_CHECK;
/* Scrub: reads every older segment (the last one was checked by wal_open) and
 * checks its header, every record, and that it ends with the end-of-height marker
 * for the next segment's base height. CAIRN_EWAL_DAMAGED (logged with the file
 * and offset) or an I/O error. Older segments are not needed for replay, so damage
 * there does not stop the node; this is for `cairn scrub` and operators. */
cairn_err wal_check(wal_t *w) CAIRN_MUST_CHECK;
/* Number of segment files. */
uint32_t wal_segment_count(const wal_t *w);

#endif
