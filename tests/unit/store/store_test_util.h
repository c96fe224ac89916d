/* store_test_util.h - temp directories for the store tests (header-only so each
 * test binary stays self-contained; tests/unit/support is shared by all modules). */
#ifndef CAIRN_TESTS_STORE_UTIL_H
#define CAIRN_TESTS_STORE_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rm_one_(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

/* Removes a directory tree made by tmpdir_make. */
static inline void tmpdir_remove(const char *dir)
{
    if (dir && *dir) nftw(dir, rm_one_, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp under $TMPDIR (or /tmp); out must hold 256 bytes. Returns 0 on success. */
static inline int tmpdir_make(char out[256])
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 256, "%s/cairn-store-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

#endif
