/* file.c - durable file helpers shared by the signer and the WAL.
 *
 * "Durable" here means: data fsynced, then the directory entry fsynced after a
 * create or rename (ext4 and xfs need both). Errors are logged with errno's text
 * and translated to CAIRN_EIO / CAIRN_EEXISTS / CAIRN_ENOT_FOUND.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "wal/wal_int.h"

#define PATH_BYTES_MAX 4096

cairn_err wal_file_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            log_error("write: %s", strerror(errno));
            return CAIRN_EIO;
        }
        b += k;
        n -= (size_t)k;
    }
    return CAIRN_OK;
}

cairn_err wal_file_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
    uint8_t *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(fd, b + done, n - done, (off_t)(off + done));
        if (k < 0) {
            if (errno == EINTR) continue;
            log_error("read: %s", strerror(errno));
            return CAIRN_EIO;
        }
        if (k == 0) break;
        done += (size_t)k;
    }
    *got = done;
    return CAIRN_OK;
}

cairn_err wal_file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        log_error("open directory %s: %s", dir, strerror(errno));
        return errno == ENOENT ? CAIRN_ENOT_FOUND : CAIRN_EIO;
    }
    cairn_err rc = CAIRN_OK;
    if (fsync(fd) != 0) {
        log_error("fsync directory %s: %s", dir, strerror(errno));
        rc = CAIRN_EIO;
    }
    close(fd);
    return rc;
}

cairn_err wal_file_dirname(char *out, size_t out_max, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        if (out_max < 2) return CAIRN_ELIMIT;
        strcpy(out, ".");
        return CAIRN_OK;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n + 1 > out_max) return CAIRN_ELIMIT;
    memcpy(out, path, n);
    out[n] = '\0';
    return CAIRN_OK;
}

/* Writes p to a fresh tmp file and fsyncs it. */
static cairn_err write_tmp(const char *tmp, const void *p, size_t n)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("create %s: %s", tmp, strerror(errno));
        return CAIRN_EIO;
    }
    cairn_err rc = wal_file_write_all(fd, p, n);
    if (rc == CAIRN_OK && fsync(fd) != 0) {
        log_error("fsync %s: %s", tmp, strerror(errno));
        rc = CAIRN_EIO;
    }
    if (close(fd) != 0 && rc == CAIRN_OK) {
        log_error("close %s: %s", tmp, strerror(errno));
        rc = CAIRN_EIO;
    }
    return rc;
}

static cairn_err tmp_and_dir(const char *path, char *tmp, size_t tmp_max, char *dir,
                             size_t dir_max)
{
    int k = snprintf(tmp, tmp_max, "%s.tmp", path);
    if (k < 0 || (size_t)k >= tmp_max) return CAIRN_ELIMIT;
    return wal_file_dirname(dir, dir_max, path);
}

cairn_err wal_file_replace(const char *path, const void *p, size_t n)
{
    char tmp[PATH_BYTES_MAX], dir[PATH_BYTES_MAX];
    CAIRN_TRY(tmp_and_dir(path, tmp, sizeof tmp, dir, sizeof dir));
    CAIRN_TRY(write_tmp(tmp, p, n));
    if (rename(tmp, path) != 0) {
        log_error("rename %s -> %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return CAIRN_EIO;
    }
    return wal_file_fsync_dir(dir);
}

cairn_err wal_file_create_new(const char *path, const void *p, size_t n)
{
    char tmp[PATH_BYTES_MAX], dir[PATH_BYTES_MAX];
    CAIRN_TRY(tmp_and_dir(path, tmp, sizeof tmp, dir, sizeof dir));
    CAIRN_TRY(write_tmp(tmp, p, n));
    cairn_err rc = CAIRN_OK;
    if (link(tmp, path) != 0) {
        int e = errno;
        if (e != EEXIST) log_error("link %s -> %s: %s", tmp, path, strerror(e));
        rc = e == EEXIST ? CAIRN_EEXISTS : CAIRN_EIO;
    }
    unlink(tmp);
    if (rc != CAIRN_OK) return rc;
    return wal_file_fsync_dir(dir);
}
