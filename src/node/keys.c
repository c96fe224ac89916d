/* keys.c - key files (see keys.h). */
#include "node/keys.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"

#define PATH_MAX_LEN 4096

static void seterr(char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errbuf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, n, fmt, ap);
    va_end(ap);
}
#define ERR(...) seterr(errbuf, KEYS_ERR_MAX, __VA_ARGS__)

/* ------------------------------------------------------------ JSON pieces */

static json_t *key_json(const char *type, const uint8_t *key, size_t n)
{
    char b64[128];
    base64_encode(b64, key, n);
    json_t *o = json_pack("{s:s, s:s}", "type", type, "value", b64);
    crypto_wipe(b64, sizeof b64);
    return o;
}

json_t *keys_pub_json(const uint8_t pub[static PUBKEY_BYTES])
{
    return key_json(KEYS_PUB_TYPE, pub, PUBKEY_BYTES);
}

/* {"type": type, "value": b64 of exactly n bytes} with no other fields. */
static cairn_err key_from_json(const json_t *obj, const char *type, uint8_t *out, size_t n,
                               const char *what, char *errbuf, size_t errlen)
{
    if (!json_is_object(obj)) {
        seterr(errbuf, errlen, "%s must be an object {\"type\", \"value\"}", what);
        return CAIRN_EBAD_KEY;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "type") && strcmp(key, "value")) {
            seterr(errbuf, errlen, "%s has an unknown field '%s'", what, key);
            return CAIRN_EBAD_KEY;
        }
    }
    const char *t = json_string_value(json_object_get(obj, "type"));
    if (!t || strcmp(t, type)) {
        seterr(errbuf, errlen, "%s.type must be \"%s\"", what, type);
        return CAIRN_EBAD_KEY;
    }
    json_t *val = json_object_get(obj, "value");
    const char *s = json_string_value(val);
    uint8_t tmp[96];
    size_t got = 0;
    if (!s || base64_decode(tmp, sizeof tmp, &got, s, json_string_length(val)) != CAIRN_OK ||
        got != n) {
        crypto_wipe(tmp, sizeof tmp);
        seterr(errbuf, errlen, "%s.value must be %zu bytes in standard base64", what, n);
        return CAIRN_EBAD_KEY;
    }
    memcpy(out, tmp, n);
    crypto_wipe(tmp, sizeof tmp);
    return CAIRN_OK;
}

cairn_err keys_pub_from_json(const json_t *obj, uint8_t pub[static PUBKEY_BYTES], char *errbuf,
                             size_t errlen)
{
    return key_from_json(obj, KEYS_PUB_TYPE, pub, PUBKEY_BYTES, "pub_key", errbuf, errlen);
}

/* ------------------------------------------------------------ files */

/* Writes text to path with mode 0600, refusing to replace an existing file:
 * temp file, fsync, link() into place (fails with EEXIST), fsync the folder. */
static cairn_err write_secret_file(const char *path, const char *text, char *errbuf)
{
    char tmp[PATH_MAX_LEN];
    cairn_err rc = CAIRN_OK;
    int fd = -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        ERR("%s: path too long", path);
        return CAIRN_EINVALID_ARG;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        ERR("%s: cannot create: %s", tmp, strerror(errno));
        return CAIRN_EIO;
    }
    size_t len = strlen(text), off = 0;
    if (fchmod(fd, 0600) != 0) goto io_fail; /* whatever the umask */
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) goto io_fail;
        off += (size_t)w;
    }
    if (fsync(fd) != 0) goto io_fail;
    if (close(fd) != 0) {
        fd = -1;
        goto io_fail;
    }
    fd = -1;
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            ERR("%s already exists; refusing to overwrite a key", path);
            rc = CAIRN_EEXISTS;
        } else {
            ERR("%s: cannot create: %s", path, strerror(errno));
            rc = CAIRN_EIO;
        }
        goto out;
    }
    /* make the new name durable */
    char dir[PATH_MAX_LEN];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (!*dir) strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    goto out;
io_fail:
    ERR("%s: write failed: %s", tmp, strerror(errno));
    rc = CAIRN_EIO;
out:
    if (fd >= 0) close(fd);
    unlink(tmp);
    return rc;
}

/* Reads a key file after checking it is a regular file of mode 0600 or
 * stricter. *text is heap memory: wipe and free it. */
static cairn_err read_secret_file(const char *path, char **text, size_t *len, char *errbuf)
{
    cairn_err rc = CAIRN_OK;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        ERR("%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? CAIRN_ENOT_FOUND : CAIRN_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ERR("%s: cannot stat: %s", path, strerror(errno));
        rc = CAIRN_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        ERR("%s: not a regular file", path);
        rc = CAIRN_EBAD_KEY;
        goto out;
    }
    if (st.st_mode & 077) {
        ERR("%s: key file has mode %04o and is accessible by group or others; "
            "refusing to use it (fix: chmod 600 %s)",
            path, (unsigned)(st.st_mode & 07777), path);
        rc = CAIRN_EKEY_PERMS;
        goto out;
    }
    if (st.st_size > KEYS_FILE_MAX) {
        ERR("%s: larger than %d bytes, not a key file", path, KEYS_FILE_MAX);
        rc = CAIRN_EBAD_KEY;
        goto out;
    }
    buf = calloc(1, KEYS_FILE_MAX + 1);
    if (!buf) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    size_t n = 0;
    while (n < KEYS_FILE_MAX) {
        ssize_t r = read(fd, buf + n, KEYS_FILE_MAX - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            ERR("%s: read failed: %s", path, strerror(errno));
            rc = CAIRN_EIO;
            goto out;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

static void free_secret(char *p, size_t n)
{
    if (!p) return;
    crypto_wipe(p, n);
    free(p);
}

/* Dumps obj (which holds secrets) and writes it as a 0600 key file. */
static cairn_err save_json(const char *path, json_t *obj, char *errbuf)
{
    if (!obj) return CAIRN_ENOMEM;
    char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) return CAIRN_ENOMEM;
    size_t n = strlen(text);
    char *withnl = malloc(n + 2);
    cairn_err rc = CAIRN_ENOMEM;
    if (withnl) {
        memcpy(withnl, text, n);
        memcpy(withnl + n, "\n", 2);
        rc = write_secret_file(path, withnl, errbuf);
        free_secret(withnl, n + 2);
    }
    free_secret(text, n);
    return rc;
}

static json_t *priv_json(const keypair_t *kp)
{
    return key_json(KEYS_PRIV_TYPE, kp->sec, SECKEY_BYTES);
}

static json_t *full_key_json(const char *name, const keypair_t *kp)
{
    uint8_t addr[ADDR_BYTES];
    char hex[2 * ADDR_BYTES + 1];
    key_address(addr, kp->pub);
    hex_encode_upper(hex, addr, sizeof addr);
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = 0;
    if (name) bad |= json_object_set_new(o, "name", json_string(name));
    bad |= json_object_set_new(o, "address", json_string(hex));
    bad |= json_object_set_new(o, "pub_key", keys_pub_json(kp->pub));
    bad |= json_object_set_new(o, "priv_key", priv_json(kp));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Parses a key file: allowed fields, priv_key required, the rest must match. */
static cairn_err parse_key_file(const char *path, const char *text, size_t len,
                                const char *const *allowed, keypair_t *kp,
                                const char *expect_name, char *errbuf)
{
    json_error_t jerr;
    cairn_err rc = CAIRN_OK;
    uint8_t sec[SECKEY_BYTES];
    char why[256];
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ERR("%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
        return CAIRN_EBAD_KEY;
    }
    if (!json_is_object(root)) {
        ERR("%s: must be a JSON object", path);
        rc = CAIRN_EBAD_KEY;
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++) ok |= !strcmp(*a, key);
        if (!ok) {
            ERR("%s: unknown field '%s'", path, key);
            rc = CAIRN_EBAD_KEY;
            goto out;
        }
    }
    if (key_from_json(json_object_get(root, "priv_key"), KEYS_PRIV_TYPE, sec, sizeof sec,
                      "priv_key", why, sizeof why) != CAIRN_OK) {
        ERR("%s: %s", path, why);
        rc = CAIRN_EBAD_KEY;
        goto out;
    }
    keypair_t k;
    key_from_seed(&k, sec);
    if (memcmp(k.pub, sec + SEED_BYTES, PUBKEY_BYTES) != 0) {
        ERR("%s: priv_key is damaged: its public half does not match its seed", path);
        rc = CAIRN_EBAD_KEY;
        goto wipe;
    }
    json_t *pubj = json_object_get(root, "pub_key");
    if (pubj) {
        uint8_t pub[PUBKEY_BYTES];
        if (keys_pub_from_json(pubj, pub, why, sizeof why) != CAIRN_OK) {
            ERR("%s: %s", path, why);
            rc = CAIRN_EBAD_KEY;
            goto wipe;
        }
        if (memcmp(pub, k.pub, PUBKEY_BYTES) != 0) {
            ERR("%s: pub_key does not belong to priv_key", path);
            rc = CAIRN_EBAD_KEY;
            goto wipe;
        }
    }
    json_t *addrj = json_object_get(root, "address");
    if (addrj) {
        uint8_t addr[ADDR_BYTES], want[ADDR_BYTES];
        key_address(want, k.pub);
        const char *s = json_string_value(addrj);
        if (!s || hex_decode(addr, sizeof addr, s) != CAIRN_OK || memcmp(addr, want, sizeof addr)) {
            ERR("%s: address is not the address of priv_key", path);
            rc = CAIRN_EBAD_KEY;
            goto wipe;
        }
    }
    if (expect_name) {
        const char *s = json_string_value(json_object_get(root, "name"));
        if (!s || strcmp(s, expect_name)) {
            ERR("%s: name field is not \"%s\"", path, expect_name);
            rc = CAIRN_EBAD_KEY;
            goto wipe;
        }
    }
    *kp = k;
wipe:
    crypto_wipe(&k, sizeof k);
out:
    crypto_wipe(sec, sizeof sec);
    json_decref(root);
    return rc;
}

static cairn_err load_key_file(const char *path, const char *const *allowed, keypair_t *kp,
                               const char *expect_name, char *errbuf)
{
    char *text = NULL;
    size_t len = 0;
    cairn_err rc = read_secret_file(path, &text, &len, errbuf);
    if (rc != CAIRN_OK) return rc;
    rc = parse_key_file(path, text, len, allowed, kp, expect_name, errbuf);
    free_secret(text, KEYS_FILE_MAX + 1);
    return rc;
}

void keys_node_id(char out[static KEYS_NODE_ID_LEN + 1], const uint8_t pub[static PUBKEY_BYTES])
{
    uint8_t addr[ADDR_BYTES];
    key_address(addr, pub);
    hex_encode_lower(out, addr, ADDR_BYTES);
}

cairn_err keys_node_key_save(const char *path, const keypair_t *kp, char *errbuf)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "priv_key", priv_json(kp))) {
        json_decref(o);
        return CAIRN_ENOMEM;
    }
    cairn_err rc = save_json(path, o, errbuf);
    json_decref(o);
    return rc;
}

cairn_err keys_node_key_load(const char *path, keypair_t *kp, char *errbuf)
{
    static const char *const allowed[] = {"priv_key", NULL};
    return load_key_file(path, allowed, kp, NULL, errbuf);
}

cairn_err keys_validator_key_save(const char *path, const keypair_t *kp, char *errbuf)
{
    json_t *o = full_key_json(NULL, kp);
    cairn_err rc = save_json(path, o, errbuf);
    json_decref(o);
    return rc;
}

cairn_err keys_validator_key_load(const char *path, keypair_t *kp, char *errbuf)
{
    static const char *const allowed[] = {"address", "pub_key", "priv_key", NULL};
    return load_key_file(path, allowed, kp, NULL, errbuf);
}

/* ------------------------------------------------------------ keyring */

bool keys_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > KEYS_NAME_MAX || name[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static cairn_err account_path(char *out, size_t n, const char *home, const char *name,
                              char *errbuf)
{
    if (!keys_name_valid(name)) {
        ERR("invalid key name '%s': use 1 to %d of A-Z a-z 0-9 . _ - (not starting with '.')",
            name, KEYS_NAME_MAX);
        return CAIRN_EINVALID_ARG;
    }
    if ((size_t)snprintf(out, n, "%s/keys/%s.json", home, name) >= n) {
        ERR("home path too long");
        return CAIRN_EINVALID_ARG;
    }
    return CAIRN_OK;
}

cairn_err keys_account_save(const char *home, const char *name, const keypair_t *kp,
                            char *errbuf)
{
    char path[PATH_MAX_LEN], dir[PATH_MAX_LEN];
    CAIRN_TRY(account_path(path, sizeof path, home, name, errbuf));
    snprintf(dir, sizeof dir, "%s/keys", home);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        ERR("%s: cannot create: %s", dir, strerror(errno));
        return CAIRN_EIO;
    }
    json_t *o = full_key_json(name, kp);
    cairn_err rc = save_json(path, o, errbuf);
    json_decref(o);
    if (rc == CAIRN_EEXISTS) ERR("a key named '%s' already exists in %s", name, dir);
    return rc;
}

cairn_err keys_account_new(const char *home, const char *name, keypair_t *kp_out, char *errbuf)
{
    keypair_t kp;
    key_generate(&kp);
    cairn_err rc = keys_account_save(home, name, &kp, errbuf);
    if (rc == CAIRN_OK && kp_out) *kp_out = kp;
    crypto_wipe(&kp, sizeof kp);
    return rc;
}

cairn_err keys_account_load(const char *home, const char *name, keypair_t *kp, char *errbuf)
{
    static const char *const allowed[] = {"name", "address", "pub_key", "priv_key", NULL};
    char path[PATH_MAX_LEN];
    CAIRN_TRY(account_path(path, sizeof path, home, name, errbuf));
    cairn_err rc = load_key_file(path, allowed, kp, name, errbuf);
    if (rc == CAIRN_ENOT_FOUND) ERR("no key named '%s' in %s/keys", name, home);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void keys_names_free(char **names, size_t n)
{
    if (!names) return;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

cairn_err keys_account_list(const char *home, char ***names_out, size_t *n_out, char *errbuf)
{
    char dir[PATH_MAX_LEN];
    snprintf(dir, sizeof dir, "%s/keys", home);
    *names_out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return CAIRN_OK; /* no keys yet */
        ERR("%s: cannot open: %s", dir, strerror(errno));
        return CAIRN_EIO;
    }
    cairn_err rc = CAIRN_OK;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json")) continue;
        char name[KEYS_NAME_MAX + 6];
        if (len - 5 > KEYS_NAME_MAX) continue;
        memcpy(name, e->d_name, len - 5);
        name[len - 5] = 0;
        if (!keys_name_valid(name)) continue;
        if (n >= KEYS_LIST_MAX) {
            ERR("%s holds more than %d keys; listing stopped", dir, KEYS_LIST_MAX);
            rc = CAIRN_ELIMIT;
            goto out;
        }
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (!nn) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        names = nn;
        if (!(names[n] = strdup(name))) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_names);
out:
    closedir(d);
    if (rc != CAIRN_OK) {
        keys_names_free(names, n);
        return rc;
    }
    *names_out = names;
    *n_out = n;
    return CAIRN_OK;
}
