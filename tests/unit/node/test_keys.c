/* test_keys.c - node, validator and account key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "node/keys.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-keys-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/key.json", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void seeded(keypair_t *kp, uint8_t b)
{
    uint8_t seed[SEED_BYTES];
    memset(seed, b, sizeof seed);
    key_from_seed(kp, seed);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_validator_key_round_trips_with_mode_0600(void **state)
{
    fixture *f = *state;
    keypair_t kp, back;
    seeded(&kp, 7);
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_validator_key_save(f->path, &kp, err), CAIRN_OK);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(keys_validator_key_load(f->path, &back, err), CAIRN_OK);
    assert_memory_equal(back.pub, kp.pub, PUBKEY_BYTES);
    assert_memory_equal(back.sec, kp.sec, SECKEY_BYTES);
}

static void test_node_key_round_trips(void **state)
{
    fixture *f = *state;
    keypair_t kp, back;
    seeded(&kp, 9);
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_node_key_save(f->path, &kp, err), CAIRN_OK);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_OK);
    assert_memory_equal(back.sec, kp.sec, SECKEY_BYTES);
}

static void test_key_readable_by_others_is_refused_with_fix(void **state)
{
    fixture *f = *state;
    keypair_t kp, back;
    seeded(&kp, 7);
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_validator_key_save(f->path, &kp, err), CAIRN_OK);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(keys_validator_key_load(f->path, &back, err), CAIRN_EKEY_PERMS);
    assert_non_null(strstr(err, "mode 0644"));
    assert_non_null(strstr(err, "chmod 600"));
    assert_non_null(strstr(err, f->path));
    assert_int_equal(chmod(f->path, 0640), 0);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_EKEY_PERMS);
    assert_int_equal(chmod(f->path, 0400), 0);
    assert_int_equal(keys_validator_key_load(f->path, &back, err), CAIRN_OK);
}

static void test_existing_key_file_is_never_overwritten(void **state)
{
    fixture *f = *state;
    keypair_t a, b, back;
    seeded(&a, 1);
    seeded(&b, 2);
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_validator_key_save(f->path, &a, err), CAIRN_OK);
    assert_int_equal(keys_validator_key_save(f->path, &b, err), CAIRN_EEXISTS);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(keys_validator_key_load(f->path, &back, err), CAIRN_OK);
    assert_memory_equal(back.pub, a.pub, PUBKEY_BYTES);
}

static void test_mismatched_pub_key_is_refused(void **state)
{
    fixture *f = *state;
    keypair_t a, b, back;
    seeded(&a, 1);
    seeded(&b, 2);
    char sec[128], pub[64], text[512], err[KEYS_ERR_MAX] = "";
    base64_encode(sec, a.sec, SECKEY_BYTES);
    base64_encode(pub, b.pub, PUBKEY_BYTES);
    snprintf(text, sizeof text,
             "{\"pub_key\":{\"type\":\"tendermint/PubKeyEd25519\",\"value\":\"%s\"},"
             "\"priv_key\":{\"type\":\"tendermint/PrivKeyEd25519\",\"value\":\"%s\"}}",
             pub, sec);
    write_file(f->path, text, 0600);
    assert_int_equal(keys_validator_key_load(f->path, &back, err), CAIRN_EBAD_KEY);
    assert_non_null(strstr(err, "pub_key does not belong to priv_key"));
}

static void test_damaged_key_files_are_refused_with_reason(void **state)
{
    fixture *f = *state;
    keypair_t back;
    char err[KEYS_ERR_MAX] = "";
    write_file(f->path, "{\"priv_key\":{\"type\":\"tendermint/PrivKeyEd25519\",\"value\":\"AAAA\"}}",
               0600);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_EBAD_KEY);
    assert_non_null(strstr(err, "priv_key.value must be 64 bytes"));
    write_file(f->path, "{\"priv_key\":", 0600);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_EBAD_KEY);
    assert_non_null(strstr(err, "not valid JSON"));
    write_file(f->path, "{\"priv_key\":{\"type\":\"x\",\"value\":\"\"},\"extra\":1}", 0600);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_EBAD_KEY);
    assert_non_null(strstr(err, "unknown field 'extra'"));
    /* seed and public half disagree */
    keypair_t a;
    seeded(&a, 3);
    a.sec[40] ^= 1;
    char sec[128], text[256];
    base64_encode(sec, a.sec, SECKEY_BYTES);
    snprintf(text, sizeof text,
             "{\"priv_key\":{\"type\":\"tendermint/PrivKeyEd25519\",\"value\":\"%s\"}}", sec);
    write_file(f->path, text, 0600);
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_EBAD_KEY);
    assert_non_null(strstr(err, "public half does not match"));
}

static void test_missing_key_file_is_not_found(void **state)
{
    fixture *f = *state;
    keypair_t back;
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_node_key_load(f->path, &back, err), CAIRN_ENOT_FOUND);
}

static void test_accounts_new_load_and_list_sorted(void **state)
{
    fixture *f = *state;
    keypair_t alice, back;
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_account_new(f->dir, "zed", NULL, err), CAIRN_OK);
    assert_int_equal(keys_account_new(f->dir, "alice", &alice, err), CAIRN_OK);
    assert_int_equal(keys_account_load(f->dir, "alice", &back, err), CAIRN_OK);
    assert_memory_equal(back.pub, alice.pub, PUBKEY_BYTES);
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(keys_account_list(f->dir, &names, &n, err), CAIRN_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "alice");
    assert_string_equal(names[1], "zed");
    keys_names_free(names, n);
    char path[256];
    snprintf(path, sizeof path, "%s/keys", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_account_name_taken_or_invalid_or_missing(void **state)
{
    fixture *f = *state;
    keypair_t back;
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_account_new(f->dir, "bob", NULL, err), CAIRN_OK);
    assert_int_equal(keys_account_new(f->dir, "bob", NULL, err), CAIRN_EEXISTS);
    assert_non_null(strstr(err, "a key named 'bob' already exists"));
    assert_int_equal(keys_account_new(f->dir, "../evil", NULL, err), CAIRN_EINVALID_ARG);
    assert_non_null(strstr(err, "invalid key name"));
    assert_int_equal(keys_account_load(f->dir, "carol", &back, err), CAIRN_ENOT_FOUND);
    assert_non_null(strstr(err, "no key named 'carol'"));
}

static void test_empty_keyring_lists_nothing(void **state)
{
    fixture *f = *state;
    char **names = NULL;
    size_t n = 7;
    char err[KEYS_ERR_MAX] = "";
    assert_int_equal(keys_account_list(f->dir, &names, &n, err), CAIRN_OK);
    assert_int_equal(n, 0);
}

static void test_node_id_is_lower_hex_of_the_address(void **state)
{
    (void)state;
    keypair_t kp;
    seeded(&kp, 5);
    uint8_t addr[ADDR_BYTES];
    char id[KEYS_NODE_ID_LEN + 1], want[2 * ADDR_BYTES + 1];
    key_address(addr, kp.pub);
    hex_encode_lower(want, addr, ADDR_BYTES);
    keys_node_id(id, kp.pub);
    assert_string_equal(id, want);
    assert_int_equal(strlen(id), 40);
}

int main(void)
{
    if (crypto_init() != CAIRN_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validator_key_round_trips_with_mode_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_key_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_readable_by_others_is_refused_with_fix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_key_file_is_never_overwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatched_pub_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_key_files_are_refused_with_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_file_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts_new_load_and_list_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_name_taken_or_invalid_or_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_keyring_lists_nothing, setup, teardown),
        cmocka_unit_test(test_node_id_is_lower_hex_of_the_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
