/* test_config.c - config.ini: defaults, round trip, and each kind of error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "node/config.h"

static cairn_err load_text(const char *text, config_t *cfg, char *err)
{
    return config_load_string("config.ini", text, strlen(text), cfg, err);
}

/* Loads text expected to fail and checks the message contains want. */
static void expect_error(const char *text, const char *want)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.p2p.max_inbound_peers = 7; /* sentinel: a failed load leaves cfg alone */
    char err[CONFIG_ERR_MAX] = "";
    assert_int_equal(load_text(text, &cfg, err), CAIRN_EBAD_CONFIG);
    if (!strstr(err, want)) fail_msg("error '%s' does not contain '%s'", err, want);
    assert_int_equal(cfg.p2p.max_inbound_peers, 7);
}

static void test_template_of_defaults_loads_back_equal(void **state)
{
    (void)state;
    char dir[] = "/tmp/cairn-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/config.ini", dir);

    config_t def, loaded;
    config_defaults(&def);
    assert_int_equal(config_write_template(path, &def), CAIRN_OK);
    char err[CONFIG_ERR_MAX] = "";
    memset(&loaded, 0xAA, sizeof loaded);
    cairn_err rc = config_load(path, &loaded, err);
    if (rc != CAIRN_OK) fail_msg("load failed: %s", err);
    assert_true(config_equal(&def, &loaded));
    unlink(path);
    rmdir(dir);
}

static void test_template_comments_every_option(void **state)
{
    (void)state;
    config_t def;
    config_defaults(&def);
    char *text = NULL;
    assert_int_equal(config_format(&def, &text), CAIRN_OK);
    /* every "key = value" line is directly preceded by a comment line */
    int keys = 0;
    const char *prev = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] != '#' && line[0] != '[' && strchr(line, '=')) {
            assert_non_null(prev);
            assert_int_equal(prev[0], '#');
            keys++;
        }
        prev = line;
    }
    assert_int_equal(keys, 35);
    free(text);
}

static void test_nondefault_values_round_trip(void **state)
{
    (void)state;
    config_t cfg, back;
    config_defaults(&cfg);
    snprintf(cfg.node.moniker, sizeof cfg.node.moniker, "val-7");
    cfg.node.log_level = LOG_DEBUG;
    cfg.rpc.unsafe = true;
    cfg.consensus.timeout_commit_ms = 0;
    cfg.mempool.max_bytes = 17179869184ull;
    cfg.storage.keep_state_heights = 2;
    cfg.metrics.listen_set = true;
    assert_int_equal(config_addr_parse(&cfg.metrics.listen, "[::1]:9100"), CAIRN_OK);
    char perr[CONFIG_ERR_MAX];
    /* five peers: a single line would exceed inih's 200-byte line buffer */
    assert_int_equal(
        config_peers_parse(cfg.p2p.persistent_peers, &cfg.p2p.n_peers,
                           "0123456789abcdef0123456789abcdef01234567@10.0.0.1:26656,"
                           "1123456789abcdef0123456789abcdef01234567@node-b.example:26656,"
                           "2123456789abcdef0123456789abcdef01234567@[fe80::1]:1,"
                           "3123456789abcdef0123456789abcdef01234567@10.0.0.4:65535,"
                           "4123456789abcdef0123456789abcdef01234567@10.0.0.5:26656",
                           perr),
        CAIRN_OK);
    assert_int_equal(cfg.p2p.n_peers, 5);
    char *text = NULL;
    assert_int_equal(config_format(&cfg, &text), CAIRN_OK);
    char err[CONFIG_ERR_MAX] = "";
    cairn_err rc = load_text(text, &back, err);
    if (rc != CAIRN_OK) fail_msg("load failed: %s", err);
    assert_true(config_equal(&cfg, &back));
    config_t def;
    config_defaults(&def);
    assert_false(config_equal(&def, &back));
    assert_string_equal(back.p2p.persistent_peers[2].addr.host, "fe80::1");
    assert_int_equal(back.p2p.persistent_peers[3].addr.port, 65535);
    free(text);
}

static void test_partial_file_keeps_defaults_for_the_rest(void **state)
{
    (void)state;
    config_t cfg, def;
    config_defaults(&def);
    char err[CONFIG_ERR_MAX] = "";
    assert_int_equal(load_text("[rpc]\nlisten = 0.0.0.0:8080 ; inline comment\n", &cfg, err),
                     CAIRN_OK);
    assert_string_equal(cfg.rpc.listen.host, "0.0.0.0");
    assert_int_equal(cfg.rpc.listen.port, 8080);
    assert_int_equal(cfg.rpc.max_body_bytes, def.rpc.max_body_bytes);
    assert_string_equal(cfg.node.moniker, def.node.moniker);
}

static void test_unknown_key_names_file_line_and_section(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\n\n[p2p]\nlisten = 0.0.0.0:1\nlsiten = x\n",
                 "config.ini:6: unknown key 'lsiten' in section [p2p]");
}

static void test_unknown_section_names_file_line(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\n[p2pp]\nlisten = 0.0.0.0:1\n",
                 "config.ini:3: unknown section [p2pp]");
}

static void test_unknown_empty_section_is_an_error(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\n# nothing below\n[extra]\n", "config.ini:4: unknown section [extra]");
}

static void test_key_outside_section_is_an_error(void **state)
{
    (void)state;
    expect_error("moniker = a\n", "config.ini:1: key 'moniker' is outside any section");
}

static void test_out_of_range_names_key_and_range(void **state)
{
    (void)state;
    expect_error("[p2p]\nmax_inbound_peers = 1001\n",
                 "config.ini:2: p2p.max_inbound_peers = '1001' is out of range: allowed 0..1000");
    expect_error("[rpc]\nmax_body_bytes = 10\n",
                 "rpc.max_body_bytes = '10' is out of range: allowed 1024..67108864");
    expect_error("[mempool]\nmax_tx_bytes = 65537\n", "allowed 128..65536");
    expect_error("[storage]\nkeep_state_heights = 1\n",
                 "config.ini:2: storage.keep_state_heights = 1: keep 0 (every height) or at least 2");
}

static void test_non_numbers_are_rejected_with_the_range(void **state)
{
    (void)state;
    expect_error("[consensus]\ntimeout_commit_ms = -1\n", "allowed 0..600000");
    expect_error("[consensus]\ntimeout_commit_ms = 1s\n", "allowed 0..600000");
    expect_error("[consensus]\ntimeout_commit_ms = 99999999999999999999999\n", "allowed 0..600000");
    expect_error("[consensus]\ntimeout_commit_ms =\n", "allowed 0..600000");
}

static void test_bad_bool_says_true_or_false(void **state)
{
    (void)state;
    expect_error("[rpc]\nunsafe = yes\n", "rpc.unsafe = 'yes' is not allowed: use true or false");
}

static void test_bad_log_level_lists_levels(void **state)
{
    (void)state;
    expect_error("[node]\nlog_level = loud\n", "use debug, info, warn, error or off");
}

static void test_bad_addresses_are_rejected(void **state)
{
    (void)state;
    expect_error("[rpc]\nlisten = 127.0.0.1\n", "rpc.listen = '127.0.0.1' is not an address");
    expect_error("[rpc]\nlisten = 127.0.0.1:0\n", "is not an address");
    expect_error("[rpc]\nlisten = 127.0.0.1:65536\n", "is not an address");
    expect_error("[rpc]\nlisten = ::1:80\n", "is not an address");
    expect_error("[metrics]\nlisten = x y:1\n", "or leave it empty");
}

static void test_bad_peer_is_named(void **state)
{
    (void)state;
    expect_error("[p2p]\npersistent_peers = abc@1.2.3.4:5\n",
                 "config.ini:2: p2p.persistent_peers: peer 'abc@1.2.3.4:5' is not node_id@host:port");
    expect_error("[p2p]\npersistent_peers = 0123456789abcdef0123456789abcdef0123456z@h:1\n",
                 "is not 40 hex digits");
    expect_error("[p2p]\npersistent_peers = 0123456789abcdef0123456789abcdef01234567@h\n",
                 "peer address 'h' is not host:port");
}

static void test_peers_continue_on_indented_lines(void **state)
{
    (void)state;
    config_t cfg;
    char err[CONFIG_ERR_MAX] = "";
    assert_int_equal(load_text("[p2p]\npersistent_peers = "
                               "0123456789abcdef0123456789abcdef01234567@a:1,\n"
                               "  1123456789ABCDEF0123456789abcdef01234567@b:2\n",
                               &cfg, err),
                     CAIRN_OK);
    assert_int_equal(cfg.p2p.n_peers, 2);
    assert_string_equal(cfg.p2p.persistent_peers[1].addr.host, "b");
    assert_int_equal(cfg.p2p.persistent_peers[1].id[0], 0x11);
}

static void test_key_set_twice_is_an_error(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\nmoniker = b\n",
                 "config.ini:3: key 'moniker' in section [node] is set twice");
}

static void test_continuation_of_other_keys_is_explained(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\n  b\n",
                 "config.ini:3: indented line continues 'moniker'; only persistent_peers");
}

static void test_syntax_error_names_line(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a\nthis line has no equals sign\n",
                 "config.ini:3: syntax error");
    expect_error("[node\n", "config.ini:1: syntax error");
}

static void test_first_error_wins(void **state)
{
    (void)state;
    expect_error("[node]\nbogus line\n[nope]\n", "config.ini:2: syntax error");
    expect_error("[nope]\nbogus line\n", "config.ini:1: unknown section [nope]");
}

static void test_long_line_is_refused_with_hint(void **state)
{
    (void)state;
    char text[512];
    memset(text, 0, sizeof text);
    strcpy(text, "[node]\nmoniker = ");
    memset(text + strlen(text), 'x', 300);
    expect_error(text, "config.ini:2: line is longer than 199 characters");
}

static void test_nul_byte_is_refused(void **state)
{
    (void)state;
    config_t cfg;
    char err[CONFIG_ERR_MAX] = "";
    const char text[] = "[node]\nmoniker = a\0b\n";
    assert_int_equal(config_load_string("c.ini", text, sizeof text - 1, &cfg, err),
                     CAIRN_EBAD_CONFIG);
    assert_non_null(strstr(err, "c.ini:2: contains a NUL byte"));
}

static void test_moniker_with_comment_char_is_refused(void **state)
{
    (void)state;
    expect_error("[node]\nmoniker = a#b\n", "node.moniker = 'a#b' is not allowed");
}

static void test_missing_file_is_not_found(void **state)
{
    (void)state;
    config_t cfg;
    char err[CONFIG_ERR_MAX] = "";
    assert_int_equal(config_load("/nonexistent/cairn/config.ini", &cfg, err), CAIRN_ENOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/cairn/config.ini: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_of_defaults_loads_back_equal),
        cmocka_unit_test(test_template_comments_every_option),
        cmocka_unit_test(test_nondefault_values_round_trip),
        cmocka_unit_test(test_partial_file_keeps_defaults_for_the_rest),
        cmocka_unit_test(test_unknown_key_names_file_line_and_section),
        cmocka_unit_test(test_unknown_section_names_file_line),
        cmocka_unit_test(test_unknown_empty_section_is_an_error),
        cmocka_unit_test(test_key_outside_section_is_an_error),
        cmocka_unit_test(test_out_of_range_names_key_and_range),
        cmocka_unit_test(test_non_numbers_are_rejected_with_the_range),
        cmocka_unit_test(test_bad_bool_says_true_or_false),
        cmocka_unit_test(test_bad_log_level_lists_levels),
        cmocka_unit_test(test_bad_addresses_are_rejected),
        cmocka_unit_test(test_bad_peer_is_named),
        cmocka_unit_test(test_peers_continue_on_indented_lines),
        cmocka_unit_test(test_key_set_twice_is_an_error),
        cmocka_unit_test(test_continuation_of_other_keys_is_explained),
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_long_line_is_refused_with_hint),
        cmocka_unit_test(test_nul_byte_is_refused),
        cmocka_unit_test(test_moniker_with_comment_char_is_refused),
        cmocka_unit_test(test_missing_file_is_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
