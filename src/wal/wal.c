/* wal.c - the consensus write-ahead log's segments on disk (wal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "crypto/crypto.h"
#include "wal/wal.h"
#include "wal/wal_int.h"

#define PATH_BYTES_MAX 4096
#define SEGMENTS_MAX 100000 /* far beyond what truncation leaves behind */
#define SEG_NAME_DIGITS 20
#define SEG_SUFFIX ".wal"
#define TMP_SUFFIX ".wal.tmp"

struct wal {
    char dir[PATH_BYTES_MAX];
    wal_options o;
    int fd;                /* the last segment, read-write */
    int lock_fd;           /* the directory, flock'ed exclusively */
    wal_seg_header hdr;    /* of the last segment */
    uint64_t tail;         /* end of the last valid record */
    uint64_t marker_end;   /* replay starts here */
    uint64_t last_height;  /* height of the last end-of-height marker */
    uint64_t torn_bytes;
    uint64_t *bases;       /* base heights of the segments, ascending */
    uint32_t n_segs;
    bool broken;
    buf_t scratch;         /* encoding of the record being appended */
};

void wal_options_default(wal_options *o)
{
    o->segment_bytes_max = WAL_SEGMENT_BYTES_DEFAULT;
    o->record_bytes_max = WAL_RECORD_BYTES_MAX;
    o->resync_bytes_max = (uint64_t)256 << 20;
}

static cairn_err seg_path(const wal_t *w, uint64_t base, char *out, size_t out_max)
{
    int k = snprintf(out, out_max, "%s/%0*" PRIu64 SEG_SUFFIX, w->dir, SEG_NAME_DIGITS, base);
    return k < 0 || (size_t)k >= out_max ? CAIRN_ELIMIT : CAIRN_OK;
}

/* "00000000000000000042.wal" -> 42. Anything else is not a segment. */
static bool seg_name_parse(const char *name, uint64_t *base)
{
    if (strlen(name) != SEG_NAME_DIGITS + strlen(SEG_SUFFIX)) return false;
    if (strcmp(name + SEG_NAME_DIGITS, SEG_SUFFIX) != 0) return false;
    uint64_t v = 0;
    for (int i = 0; i < SEG_NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        unsigned d = (unsigned)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *base = v;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the segments (sorted) and removes leftovers of interrupted creations. */
static cairn_err segs_list(wal_t *w)
{
    DIR *d = opendir(w->dir);
    if (!d) {
        log_error("wal: open directory %s: %s", w->dir, strerror(errno));
        return CAIRN_EIO;
    }
    cairn_err rc = CAIRN_OK;
    uint32_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t base;
        if (ends_with(e->d_name, TMP_SUFFIX)) {
            char p[PATH_BYTES_MAX];
            if (snprintf(p, sizeof p, "%s/%s", w->dir, e->d_name) < (int)sizeof p) unlink(p);
            continue;
        }
        if (!seg_name_parse(e->d_name, &base)) continue;
        if (w->n_segs == SEGMENTS_MAX) {
            log_error("wal: more than %d segments in %s", SEGMENTS_MAX, w->dir);
            rc = CAIRN_ELIMIT;
            break;
        }
        if (w->n_segs == cap) {
            uint32_t ncap = cap ? cap * 2 : 16;
            uint64_t *nb = realloc(w->bases, ncap * sizeof *nb);
            if (!nb) {
                rc = CAIRN_ENOMEM;
                break;
            }
            w->bases = nb;
            cap = ncap;
        }
        w->bases[w->n_segs++] = base;
    }
    closedir(d);
    if (rc == CAIRN_OK && w->n_segs > 1) qsort(w->bases, w->n_segs, sizeof *w->bases, cmp_u64);
    return rc;
}

static cairn_err segs_push(wal_t *w, uint64_t base)
{
    if (w->n_segs == SEGMENTS_MAX) return CAIRN_ELIMIT;
    uint64_t *nb = realloc(w->bases, (w->n_segs + 1) * sizeof *nb);
    if (!nb) return CAIRN_ENOMEM;
    w->bases = nb;
    w->bases[w->n_segs++] = base;
    return CAIRN_OK;
}

/* Creates segment `base` durably (tmp, fsync, link, fsync dir) and opens it. */
static cairn_err seg_create(wal_t *w, uint64_t base, int *fd_out, wal_seg_header *h)
{
    char path[PATH_BYTES_MAX];
    CAIRN_TRY(seg_path(w, base, path, sizeof path));
    crypto_random(h->salt, sizeof h->salt);
    h->base_height = base;
    uint8_t raw[WAL_SEG_HEADER_BYTES];
    wal_seg_header_encode(h, raw);
    cairn_err rc = wal_file_create_new(path, raw, sizeof raw);
    if (rc == CAIRN_EEXISTS) {
        log_error("wal: segment %s already exists", path);
        return CAIRN_EWAL_DAMAGED;
    }
    if (rc != CAIRN_OK) return rc;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        log_error("wal: open %s: %s", path, strerror(errno));
        return CAIRN_EIO;
    }
    *fd_out = fd;
    return CAIRN_OK;
}

/* Read-ahead for scans: small reads (record headers, small payloads) are served
 * from one window of READ_AHEAD_BYTES; larger ones go straight to pread. */
#define READ_AHEAD_BYTES (256 * 1024)

typedef struct {
    int fd;
    uint8_t *win; /* NULL: no read-ahead (allocation failed), plain pread */
    uint64_t win_off;
    size_t win_len;
} reader;

static void reader_init(reader *r, int fd)
{
    r->fd = fd;
    r->win = malloc(READ_AHEAD_BYTES);
    r->win_off = 0;
    r->win_len = 0;
}

static void reader_deinit(reader *r) { free(r->win); }

static cairn_err read_at_fd(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    reader *r = ctx;
    if (!r->win || n > READ_AHEAD_BYTES / 2) return wal_file_pread_all(r->fd, buf, n, off, got);
    if (off < r->win_off || off + n > r->win_off + r->win_len) {
        CAIRN_TRY(wal_file_pread_all(r->fd, r->win, READ_AHEAD_BYTES, off, &r->win_len));
        r->win_off = off;
    }
    size_t have = off - r->win_off < r->win_len ? r->win_len - (size_t)(off - r->win_off) : 0;
    *got = have < n ? have : n;
    if (*got) memcpy(buf, r->win + (off - r->win_off), *got);
    return CAIRN_OK;
}

static void scan_args(const wal_t *w, reader *rd, wal_scan_args *a, uint64_t size,
                      uint64_t start, uint64_t height_before)
{
    reader_init(rd, w->fd);
    a->read_at = read_at_fd;
    a->read_ctx = rd;
    a->size = size;
    a->record_bytes_max = w->o.record_bytes_max;
    a->start = start;
    a->resync_bytes_max = w->o.resync_bytes_max;
    a->height_before = height_before;
}

/* Cuts a torn tail off the open last segment and makes the cut durable. */
static cairn_err tail_cut(wal_t *w, uint64_t size, const wal_scan_result *res)
{
    log_warn("wal: cutting a torn tail in %s: %" PRIu64 " bytes at offset %" PRIu64
             " (%s); %" PRIu64 " complete records kept",
             w->dir, size - res->valid_end, res->bad_offset, res->why, res->records);
    if (ftruncate(w->fd, (off_t)res->valid_end) != 0 || fsync(w->fd) != 0) {
        log_error("wal: truncate: %s", strerror(errno));
        return CAIRN_EIO;
    }
    w->torn_bytes = size - res->valid_end;
    return CAIRN_OK;
}

/* Opens and scans the last segment (invariant 2). */
static cairn_err last_open(wal_t *w)
{
    uint64_t base = w->bases[w->n_segs - 1];
    char path[PATH_BYTES_MAX];
    CAIRN_TRY(seg_path(w, base, path, sizeof path));
    w->fd = open(path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0) {
        log_error("wal: open %s: %s", path, strerror(errno));
        return CAIRN_EIO;
    }
    struct stat st;
    if (fstat(w->fd, &st) != 0) return CAIRN_EIO;
    uint8_t raw[WAL_SEG_HEADER_BYTES];
    size_t got = 0;
    CAIRN_TRY(wal_file_pread_all(w->fd, raw, sizeof raw, 0, &got));
    cairn_err rc = wal_seg_header_decode(&w->hdr, raw, got);
    if (rc != CAIRN_OK || w->hdr.base_height != base) {
        log_error("wal: segment %s has a bad header (%s)", path,
                  rc != CAIRN_OK ? cairn_strerror(rc) : "base height differs from its name");
        return CAIRN_EWAL_DAMAGED;
    }
    wal_scan_args a;
    reader rd;
    scan_args(w, &rd, &a, (uint64_t)st.st_size, WAL_SEG_HEADER_BYTES, base);
    wal_scan_result res;
    rc = wal_scan(&a, &w->hdr, &res, NULL, NULL);
    reader_deinit(&rd);
    if (rc != CAIRN_OK) return rc;
    if (res.end == WAL_SCAN_DAMAGED) {
        log_error("wal: %s is damaged at offset %" PRIu64 " (%s) with valid records after "
                  "it; refusing to open it. Move it aside to start without it",
                  path, res.bad_offset, res.why);
        return CAIRN_EWAL_DAMAGED;
    }
    if (res.end == WAL_SCAN_TORN) CAIRN_TRY(tail_cut(w, (uint64_t)st.st_size, &res));
    w->tail = res.valid_end;
    w->marker_end = res.last_marker_end;
    w->last_height = res.last_height;
    return CAIRN_OK;
}

static cairn_err dir_ensure(const char *dir, bool *created)
{
    *created = false;
    if (mkdir(dir, 0700) == 0) {
        *created = true;
        char parent[PATH_BYTES_MAX];
        CAIRN_TRY(wal_file_dirname(parent, sizeof parent, dir));
        return wal_file_fsync_dir(parent);
    }
    if (errno == EEXIST) return CAIRN_OK;
    log_error("wal: create directory %s: %s", dir, strerror(errno));
    return CAIRN_EIO;
}

/* One writer per WAL: an exclusive flock on the directory itself. */
static cairn_err dir_lock(wal_t *w)
{
    w->lock_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->lock_fd < 0) {
        log_error("wal: open directory %s: %s", w->dir, strerror(errno));
        return CAIRN_EIO;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        log_error("wal: %s is in use by another writer (%s)", w->dir, strerror(e));
        return e == EWOULDBLOCK ? CAIRN_EBUSY : CAIRN_EIO;
    }
    return CAIRN_OK;
}

static cairn_err options_check(const wal_options *o)
{
    if (o->record_bytes_max == 0 || o->record_bytes_max > WAL_RECORD_BYTES_MAX ||
        o->segment_bytes_max < WAL_SEG_HEADER_BYTES)
        return CAIRN_EINVALID_ARG;
    return CAIRN_OK;
}

cairn_err wal_open(const char *dir, const wal_options *opts, wal_t **out)
{
    if (strlen(dir) + 64 >= PATH_BYTES_MAX) return CAIRN_ELIMIT;
    wal_t *w = calloc(1, sizeof *w);
    if (!w) return CAIRN_ENOMEM;
    w->fd = w->lock_fd = -1;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    if (opts) w->o = *opts;
    else wal_options_default(&w->o);
    buf_init(&w->scratch, (size_t)w->o.record_bytes_max + WAL_REC_HEADER_BYTES);
    bool created = false;
    cairn_err rc = options_check(&w->o);
    if (rc == CAIRN_OK) rc = dir_ensure(dir, &created);
    if (rc == CAIRN_OK) rc = dir_lock(w);
    if (rc == CAIRN_OK) rc = segs_list(w);
    if (rc != CAIRN_OK) goto out;
    if (w->n_segs == 0) {
        log_info("wal: starting a new write-ahead log in %s", dir);
        rc = seg_create(w, 0, &w->fd, &w->hdr);
        if (rc == CAIRN_OK) rc = segs_push(w, 0);
        if (rc != CAIRN_OK) goto out;
        w->tail = w->marker_end = WAL_SEG_HEADER_BYTES;
        *out = w;
        return CAIRN_OK;
    }
    rc = last_open(w);
    if (rc != CAIRN_OK) goto out;
    *out = w;
    return CAIRN_OK;
out:
    wal_close(w);
    return rc;
}

void wal_close(wal_t *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->lock_fd >= 0) close(w->lock_fd); /* releases the flock */
    buf_deinit(&w->scratch);
    free(w->bases);
    free(w);
}

uint64_t wal_last_height(const wal_t *w) { return w->last_height; }
uint64_t wal_torn_bytes(const wal_t *w) { return w->torn_bytes; }
uint32_t wal_segment_count(const wal_t *w) { return w->n_segs; }

static cairn_err pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) continue;
            log_error("wal: write: %s", strerror(errno));
            return CAIRN_EIO;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return CAIRN_OK;
}

static cairn_err append_raw(wal_t *w, uint8_t type, const void *p, size_t n)
{
    if (w->broken) return CAIRN_EIO;
    if (n > w->o.record_bytes_max) return CAIRN_ETOO_LARGE;
    buf_reset(&w->scratch);
    CAIRN_TRY(wal_record_encode(&w->scratch, w->hdr.salt, type, n ? p : "", n));
    cairn_err rc = pwrite_all(w->fd, w->scratch.data, w->scratch.len, w->tail);
    if (rc != CAIRN_OK) {
        w->broken = true; /* invariant 6; the next open re-checks the tail */
        return rc;
    }
    w->tail += w->scratch.len;
    return CAIRN_OK;
}

cairn_err wal_append(wal_t *w, uint8_t type, const void *p, size_t n)
{
    if (type == 0 || type > WAL_TYPE_USER_MAX) return CAIRN_EINVALID_ARG;
    return append_raw(w, type, p, n);
}

cairn_err wal_sync(wal_t *w)
{
    if (w->broken) return CAIRN_EIO;
    if (fdatasync(w->fd) != 0) {
        /* After a failed fsync the page cache may have dropped the data: never
         * retry and pretend it worked. */
        log_error("wal: fdatasync: %s", strerror(errno));
        w->broken = true;
        return CAIRN_EIO;
    }
    return CAIRN_OK;
}

static cairn_err rotate(wal_t *w, uint64_t base)
{
    int fd = -1;
    wal_seg_header h;
    cairn_err rc = seg_create(w, base, &fd, &h);
    if (rc == CAIRN_OK) rc = segs_push(w, base);
    if (rc != CAIRN_OK) {
        if (fd >= 0) close(fd);
        w->broken = true;
        return rc;
    }
    close(w->fd);
    w->fd = fd;
    w->hdr = h;
    w->tail = w->marker_end = WAL_SEG_HEADER_BYTES;
    log_debug("wal: new segment after height %" PRIu64, base);
    return CAIRN_OK;
}

cairn_err wal_end_height(wal_t *w, uint64_t height)
{
    if (height <= w->last_height) return CAIRN_EINVALID_ARG;
    uint8_t p[8];
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(height >> (8 * i));
    CAIRN_TRY(append_raw(w, WAL_TYPE_END_HEIGHT, p, sizeof p));
    CAIRN_TRY(wal_sync(w));
    w->last_height = height;
    w->marker_end = w->tail;
    if (w->tail >= w->o.segment_bytes_max) return rotate(w, height);
    return CAIRN_OK;
}

typedef struct {
    void *ctx;
    wal_record_cb cb;
} replay_ctx;

static cairn_err replay_one(void *ctx, uint64_t off, uint8_t type, const uint8_t *p, size_t n)
{
    (void)off;
    replay_ctx *r = ctx;
    return r->cb(r->ctx, type, p, n);
}

cairn_err wal_replay(wal_t *w, void *ctx, wal_record_cb cb)
{
    wal_scan_args a;
    reader rd;
    scan_args(w, &rd, &a, w->tail, w->marker_end, w->last_height);
    a.resync_bytes_max = 0; /* any bad record here is damage: no tail to find */
    replay_ctx r = {ctx, cb};
    wal_scan_result res;
    cairn_err rc = wal_scan(&a, &w->hdr, &res, &r, replay_one);
    reader_deinit(&rd);
    if (rc != CAIRN_OK) return rc;
    if (res.end != WAL_SCAN_CLEAN) {
        log_error("wal: record at offset %" PRIu64 " changed on disk since open (%s)",
                  res.bad_offset, res.why);
        return CAIRN_EWAL_DAMAGED;
    }
    return CAIRN_OK;
}

cairn_err wal_truncate_before(wal_t *w, uint64_t height, uint32_t *removed)
{
    uint32_t k = 0;
    cairn_err rc = CAIRN_OK;
    /* Segment i holds heights bases[i]+1 .. bases[i+1]. */
    while (k + 1 < w->n_segs && w->bases[k + 1] < height) {
        char path[PATH_BYTES_MAX];
        rc = seg_path(w, w->bases[k], path, sizeof path);
        if (rc != CAIRN_OK) break;
        if (unlink(path) != 0 && errno != ENOENT) {
            log_error("wal: remove %s: %s", path, strerror(errno));
            rc = CAIRN_EIO;
            break;
        }
        k++;
    }
    if (k > 0) {
        memmove(w->bases, w->bases + k, (w->n_segs - k) * sizeof *w->bases);
        w->n_segs -= k;
        cairn_err rc2 = wal_file_fsync_dir(w->dir);
        if (rc == CAIRN_OK) rc = rc2;
    }
    if (removed) *removed = k;
    return rc;
}

/* Checks older segment i (not the last): see wal_check. */
static cairn_err seg_check(const wal_t *w, uint32_t i)
{
    char path[PATH_BYTES_MAX];
    CAIRN_TRY(seg_path(w, w->bases[i], path, sizeof path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error("wal: open %s: %s", path, strerror(errno));
        return CAIRN_EIO;
    }
    struct stat st;
    uint8_t raw[WAL_SEG_HEADER_BYTES];
    size_t got = 0;
    wal_seg_header h;
    reader rd;
    wal_scan_args a;
    wal_scan_result res;
    const char *why = NULL;
    cairn_err rc = fstat(fd, &st) == 0 ? CAIRN_OK : CAIRN_EIO;
    if (rc == CAIRN_OK) rc = wal_file_pread_all(fd, raw, sizeof raw, 0, &got);
    if (rc != CAIRN_OK) goto out;
    if (wal_seg_header_decode(&h, raw, got) != CAIRN_OK || h.base_height != w->bases[i]) {
        why = "bad segment header";
        goto out;
    }
    reader_init(&rd, fd);
    a = (wal_scan_args){.read_at = read_at_fd, .read_ctx = &rd, .size = (uint64_t)st.st_size,
                        .record_bytes_max = w->o.record_bytes_max,
                        .start = WAL_SEG_HEADER_BYTES, .resync_bytes_max = 0,
                        .height_before = h.base_height};
    rc = wal_scan(&a, &h, &res, NULL, NULL);
    reader_deinit(&rd);
    if (rc != CAIRN_OK) goto out;
    if (res.end != WAL_SCAN_CLEAN) why = res.why;
    else if (res.last_height != w->bases[i + 1] || res.last_marker_end != res.valid_end)
        why = "does not end with the marker of the next segment's base height";
out:
    close(fd);
    if (rc == CAIRN_OK && why) {
        log_error("wal: older segment %s is damaged: %s", path, why);
        rc = CAIRN_EWAL_DAMAGED;
    }
    return rc;
}

cairn_err wal_check(wal_t *w)
{
    cairn_err first = CAIRN_OK;
    for (uint32_t i = 0; i + 1 < w->n_segs; i++) { /* bounded by SEGMENTS_MAX */
        cairn_err rc = seg_check(w, i);
        if (rc != CAIRN_OK && first == CAIRN_OK) first = rc;
    }
    return first;
}
