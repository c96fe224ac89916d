/* signer.c - crash-safe signing state (signer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "wal/signer.h"
#include "wal/wal_int.h"

#define STATE_MAGIC "cairnsig"
#define PATH_BYTES_MAX 4096

struct signer {
    char path[PATH_BYTES_MAX];
    int lock_fd;
    bool broken; /* an I/O error while persisting: refuse everything */
    keypair_t kp;
    signer_state_t st;
};

/* ------------------------------------------------------------ state codec */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Layout (docs/wal.md): magic[8] | version u8 | step u8 | zero u16 | round u32 |
 * height u64 | time_ns i64 | pub[32] | sign_hash[32] | sig[64] | SHA-256[32]. */
enum {
    OFF_VERSION = 8,
    OFF_STEP = 9,
    OFF_ZERO = 10,
    OFF_ROUND = 12,
    OFF_HEIGHT = 16,
    OFF_TIME = 24,
    OFF_PUB = 32,
    OFF_HASH = 64,
    OFF_SIG = 96,
    OFF_CHECK = 160,
};
_Static_assert(OFF_CHECK + HASH_BYTES == SIGNER_STATE_BYTES, "state layout");

void signer_state_encode(const signer_state_t *st, uint8_t out[static SIGNER_STATE_BYTES])
{
    memset(out, 0, SIGNER_STATE_BYTES);
    memcpy(out, STATE_MAGIC, 8);
    out[OFF_VERSION] = SIGNER_STATE_VERSION;
    out[OFF_STEP] = st->step;
    put_u32(out + OFF_ROUND, st->round);
    put_u64(out + OFF_HEIGHT, st->height);
    put_u64(out + OFF_TIME, (uint64_t)st->time_ns);
    memcpy(out + OFF_PUB, st->pub, PUBKEY_BYTES);
    memcpy(out + OFF_HASH, st->sign_hash, HASH_BYTES);
    memcpy(out + OFF_SIG, st->sig, SIG_BYTES);
    hash_sha256(out + OFF_CHECK, out, OFF_CHECK);
}

static bool state_equal(const signer_state_t *a, const signer_state_t *b)
{
    return a->height == b->height && a->round == b->round && a->step == b->step &&
           a->time_ns == b->time_ns && memcmp(a->pub, b->pub, PUBKEY_BYTES) == 0 &&
           memcmp(a->sign_hash, b->sign_hash, HASH_BYTES) == 0 &&
           memcmp(a->sig, b->sig, SIG_BYTES) == 0;
}

static bool state_is_blank(const signer_state_t *st)
{
    return st->height == 0 && st->round == 0 && st->time_ns == 0 &&
           bytes_is_zero(st->sign_hash, HASH_BYTES) && bytes_is_zero(st->sig, SIG_BYTES);
}

cairn_err signer_state_decode(signer_state_t *st, const uint8_t *p, size_t n)
{
    if (n < SIGNER_STATE_BYTES) return CAIRN_ETRUNCATED;
    if (n > SIGNER_STATE_BYTES) return CAIRN_ETRAILING;
    if (memcmp(p, STATE_MAGIC, 8) != 0) return CAIRN_EBAD_ENCODING;
    uint8_t check[HASH_BYTES];
    hash_sha256(check, p, OFF_CHECK);
    if (memcmp(check, p + OFF_CHECK, HASH_BYTES) != 0) return CAIRN_ECORRUPT;
    if (p[OFF_VERSION] != SIGNER_STATE_VERSION) return CAIRN_EBAD_VERSION;
    if (p[OFF_STEP] > SIGNER_STEP_PRECOMMIT) return CAIRN_EBAD_ENCODING;
    if (p[OFF_ZERO] != 0 || p[OFF_ZERO + 1] != 0) return CAIRN_EBAD_ENCODING;
    signer_state_t s;
    s.step = p[OFF_STEP];
    s.round = get_u32(p + OFF_ROUND);
    s.height = get_u64(p + OFF_HEIGHT);
    s.time_ns = (int64_t)get_u64(p + OFF_TIME);
    memcpy(s.pub, p + OFF_PUB, PUBKEY_BYTES);
    memcpy(s.sign_hash, p + OFF_HASH, HASH_BYTES);
    memcpy(s.sig, p + OFF_SIG, SIG_BYTES);
    if (s.step == SIGNER_STEP_NONE && !state_is_blank(&s)) return CAIRN_EBAD_ENCODING;
    if (s.step != SIGNER_STEP_NONE && s.height == 0) return CAIRN_EBAD_ENCODING;
    *st = s;
    return CAIRN_OK;
}

/* ------------------------------------------------------------ open / close */

static cairn_err lock_take(const char *path, int *fd_out)
{
    char lock[PATH_BYTES_MAX];
    int k = snprintf(lock, sizeof lock, "%s.lock", path);
    if (k < 0 || (size_t)k >= sizeof lock) return CAIRN_ELIMIT;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("signer: create %s: %s", lock, strerror(errno));
        return CAIRN_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            log_error("signer: %s is in use by another signer (locked)", path);
            return CAIRN_EBUSY;
        }
        log_error("signer: lock %s: %s", lock, strerror(e));
        return CAIRN_EIO;
    }
    *fd_out = fd;
    return CAIRN_OK;
}

/* Reads the whole state file; more than SIGNER_STATE_BYTES is refused unread. */
static cairn_err state_read(const char *path, signer_state_t *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            log_error("signer: signing state %s is missing; refusing to start with a "
                      "blank state (it may have been deleted). Restore it, or create "
                      "a new one only for a validator that has never signed",
                      path);
            return CAIRN_ENOT_FOUND;
        }
        log_error("signer: open %s: %s", path, strerror(errno));
        return CAIRN_EIO;
    }
    uint8_t raw[SIGNER_STATE_BYTES + 1];
    size_t got = 0;
    cairn_err rc = wal_file_pread_all(fd, raw, sizeof raw, 0, &got);
    close(fd);
    if (rc != CAIRN_OK) return rc;
    rc = signer_state_decode(st, raw, got);
    if (rc != CAIRN_OK) {
        log_error("signer: signing state %s is damaged (%s, %zu bytes); refusing to "
                  "open it. Never delete or reset it blindly: restore it from a "
                  "backup or rebuild it from this validator's own signed votes",
                  path, cairn_strerror(rc), got);
        return CAIRN_ECORRUPT;
    }
    return CAIRN_OK;
}

cairn_err signer_open(const char *path, const keypair_t *kp, signer_t **out)
{
    if (strlen(path) + 8 >= PATH_BYTES_MAX) return CAIRN_ELIMIT;
    signer_t *s = calloc(1, sizeof *s);
    if (!s) return CAIRN_ENOMEM;
    s->lock_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    cairn_err rc = lock_take(path, &s->lock_fd);
    if (rc != CAIRN_OK) goto out;
    rc = state_read(path, &s->st);
    if (rc != CAIRN_OK) goto out;
    if (memcmp(s->st.pub, kp->pub, PUBKEY_BYTES) != 0) {
        log_error("signer: signing state %s belongs to another validator key", path);
        rc = CAIRN_EBAD_KEY;
        goto out;
    }
    s->kp = *kp;
    char tmp[PATH_BYTES_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp); /* a write that crashed before its rename; the old state stands */
    log_info("signer: last signed height %llu round %u step %u",
             (unsigned long long)s->st.height, s->st.round, s->st.step);
    *out = s;
    return CAIRN_OK;
out:
    signer_close(s);
    return rc;
}

cairn_err signer_create(const char *path, const keypair_t *kp, signer_t **out)
{
    signer_state_t st;
    memset(&st, 0, sizeof st);
    memcpy(st.pub, kp->pub, PUBKEY_BYTES);
    uint8_t raw[SIGNER_STATE_BYTES];
    signer_state_encode(&st, raw);
    cairn_err rc = wal_file_create_new(path, raw, sizeof raw);
    if (rc == CAIRN_EEXISTS) log_error("signer: %s already exists; not overwriting", path);
    if (rc != CAIRN_OK) return rc;
    return signer_open(path, kp, out);
}

void signer_close(signer_t *s)
{
    if (!s) return;
    if (s->lock_fd >= 0) close(s->lock_fd); /* closing releases the flock */
    crypto_wipe(&s->kp, sizeof s->kp);
    free(s);
}

void signer_state_get(const signer_t *s, signer_state_t *out) { *out = s->st; }

/* ------------------------------------------------------------ signing */

typedef enum { HRS_LOWER, HRS_EQUAL, HRS_HIGHER } hrs_order;

static hrs_order hrs_compare(const signer_state_t *st, uint64_t h, uint32_t r, uint8_t step)
{
    if (h != st->height) return h < st->height ? HRS_LOWER : HRS_HIGHER;
    if (r != st->round) return r < st->round ? HRS_LOWER : HRS_HIGHER;
    if (step != st->step) return step < st->step ? HRS_LOWER : HRS_HIGHER;
    return HRS_EQUAL;
}

static cairn_err check_args(const signer_t *s, uint64_t height, uint8_t step)
{
    if (s->broken) {
        log_error("signer: refusing to sign after an earlier I/O error; reopen it");
        return CAIRN_EIO;
    }
    if (height == 0 || step < SIGNER_STEP_PROPOSAL || step > SIGNER_STEP_PRECOMMIT)
        return CAIRN_EINVALID_ARG;
    return CAIRN_OK;
}

static void refuse_log(const signer_t *s, uint64_t h, uint32_t r, uint8_t step,
                       const char *why)
{
    log_warn("signer: refused to sign height %llu round %u step %u: %s (last signed "
             "height %llu round %u step %u)",
             (unsigned long long)h, r, step, why, (unsigned long long)s->st.height,
             s->st.round, s->st.step);
}

/* Signs a new (height, round, step): sign, persist, and only then return. */
static cairn_err sign_new(signer_t *s, uint64_t h, uint32_t r, uint8_t step,
                          const uint8_t *msg, size_t n, const uint8_t hash[static HASH_BYTES],
                          int64_t time_ns, uint8_t sig[static SIG_BYTES])
{
    signer_state_t next = s->st;
    next.height = h;
    next.round = r;
    next.step = step;
    next.time_ns = time_ns;
    memcpy(next.sign_hash, hash, HASH_BYTES);
    key_sign(next.sig, &s->kp, msg, n);
    uint8_t raw[SIGNER_STATE_BYTES];
    signer_state_encode(&next, raw);
    signer_state_t back;
    CAIRN_ASSERT(signer_state_decode(&back, raw, sizeof raw) == CAIRN_OK &&
                 state_equal(&back, &next));
    cairn_err rc = wal_file_replace(s->path, raw, sizeof raw);
    if (rc != CAIRN_OK) {
        s->broken = true;
        log_error("signer: could not persist the signing state (%s); signature "
                  "withheld, signer stopped",
                  cairn_strerror(rc));
        crypto_wipe(&next, sizeof next);
        return rc;
    }
    s->st = next;
    memcpy(sig, next.sig, SIG_BYTES);
    return CAIRN_OK;
}

cairn_err signer_sign_checked(signer_t *s, uint64_t h, uint32_t r, uint8_t step,
                              const uint8_t *msg, size_t n, int64_t time_ns,
                              const uint8_t *alt_hash, uint8_t sig[static SIG_BYTES],
                              bool *old_time)
{
    CAIRN_TRY(check_args(s, h, step));
    uint8_t hash[HASH_BYTES];
    hash_sha256(hash, msg, n);
    *old_time = false;
    switch (hrs_compare(&s->st, h, r, step)) {
    case HRS_LOWER:
        refuse_log(s, h, r, step, "lower than the last signed");
        return CAIRN_EDOUBLE_SIGN;
    case HRS_EQUAL:
        if (memcmp(hash, s->st.sign_hash, HASH_BYTES) == 0) {
            memcpy(sig, s->st.sig, SIG_BYTES);
            return CAIRN_OK;
        }
        if (alt_hash && memcmp(alt_hash, s->st.sign_hash, HASH_BYTES) == 0) {
            memcpy(sig, s->st.sig, SIG_BYTES);
            *old_time = true;
            return CAIRN_OK;
        }
        refuse_log(s, h, r, step, "different sign bytes at the same step");
        return CAIRN_EDOUBLE_SIGN;
    case HRS_HIGHER:
        return sign_new(s, h, r, step, msg, n, hash, time_ns, sig);
    }
    return CAIRN_EINTERNAL;
}

cairn_err signer_sign_bytes(signer_t *s, uint64_t height, uint32_t round, uint8_t step,
                            const uint8_t *msg, size_t n, int64_t time_ns,
                            uint8_t sig[static SIG_BYTES])
{
    bool old_time;
    return signer_sign_checked(s, height, round, step, msg, n, time_ns, NULL, sig, &old_time);
}
