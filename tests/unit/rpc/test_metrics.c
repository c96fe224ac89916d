/* The metrics registry and its Prometheus text exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rpc/metrics.h"

static char *render(metrics_t *m, buf_t *b)
{
    buf_init(b, 1 << 20);
    assert_int_equal(metrics_render(m, b), CAIRN_OK);
    assert_int_equal(buf_append(b, "", 1), CAIRN_OK);
    return (char *)b->data;
}

static void counter_with_labels_renders_help_type_and_series(void **state)
{
    (void)state;
    metrics_t *m;
    metric_t *c;
    static const char *const labels[] = {"method", "status"};
    assert_int_equal(metrics_new(&m), CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "cairn_rpc_requests_total",
                                      "Calls.", labels, 2, &c), CAIRN_OK);
    const char *ok[] = {"status", "ok"}, *err[] = {"block", "error"};
    assert_int_equal(metrics_counter_add(c, ok, 1), CAIRN_OK);
    assert_int_equal(metrics_counter_add(c, ok, 2), CAIRN_OK);
    assert_int_equal(metrics_counter_add(c, err, 1), CAIRN_OK);
    buf_t b;
    assert_string_equal(render(m, &b),
                        "# HELP cairn_rpc_requests_total Calls.\n"
                        "# TYPE cairn_rpc_requests_total counter\n"
                        "cairn_rpc_requests_total{method=\"status\",status=\"ok\"} 3\n"
                        "cairn_rpc_requests_total{method=\"block\",status=\"error\"} 1\n");
    buf_deinit(&b);
    metrics_free(m);
}

static void gauge_and_summary_render_values_sum_and_count(void **state)
{
    (void)state;
    metrics_t *m;
    metric_t *g, *s;
    assert_int_equal(metrics_new(&m), CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_GAUGE, "cairn_height", "Height.", NULL, 0, &g),
                     CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_SUMMARY, "cairn_commit_seconds", "Commit.",
                                      NULL, 0, &s), CAIRN_OK);
    assert_int_equal(metrics_gauge_set(g, NULL, 10), CAIRN_OK);
    assert_int_equal(metrics_gauge_add(g, NULL, -3), CAIRN_OK);
    assert_int_equal(metrics_summary_observe(s, NULL, 0.25), CAIRN_OK);
    assert_int_equal(metrics_summary_observe(s, NULL, 0.5), CAIRN_OK);
    buf_t b;
    assert_string_equal(render(m, &b),
                        "# HELP cairn_height Height.\n# TYPE cairn_height gauge\n"
                        "cairn_height 7\n"
                        "# HELP cairn_commit_seconds Commit.\n# TYPE cairn_commit_seconds summary\n"
                        "cairn_commit_seconds_sum 0.75\n"
                        "cairn_commit_seconds_count 2\n");
    double v;
    assert_int_equal(metrics_value_get(s, NULL, &v), CAIRN_OK);
    assert_true(v == 2);
    buf_deinit(&b);
    metrics_free(m);
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    metrics_t *m;
    metric_t *c;
    static const char *const labels[] = {"path"};
    assert_int_equal(metrics_new(&m), CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "x_total", "Line one\nback\\slash",
                                      labels, 1, &c), CAIRN_OK);
    const char *lv[] = {"a\"b\\c\nd"};
    assert_int_equal(metrics_counter_add(c, lv, 1), CAIRN_OK);
    buf_t b;
    assert_string_equal(render(m, &b), "# HELP x_total Line one\\nback\\\\slash\n"
                                       "# TYPE x_total counter\n"
                                       "x_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
    buf_deinit(&b);
    metrics_free(m);
}

static void invalid_names_and_negative_counter_deltas_are_rejected(void **state)
{
    (void)state;
    metrics_t *m;
    metric_t *c;
    static const char *const bad_label[] = {"a:b"};
    assert_int_equal(metrics_new(&m), CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "1abc", "x", NULL, 0, &c),
                     CAIRN_EINVALID_ARG);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "a-b", "x", NULL, 0, &c),
                     CAIRN_EINVALID_ARG);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "ok", "x", bad_label, 1, &c),
                     CAIRN_EINVALID_ARG);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "ok_total", "x", NULL, 0, &c), CAIRN_OK);
    assert_int_equal(metrics_counter_add(c, NULL, -1), CAIRN_EINVALID_ARG);
    assert_int_equal(metrics_gauge_set(c, NULL, 1), CAIRN_EINVALID_ARG); /* wrong kind */
    metric_t *again;
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "ok_total", "x", NULL, 0, &again),
                     CAIRN_OK);
    assert_ptr_equal(again, c);
    assert_int_equal(metrics_register(m, METRIC_GAUGE, "ok_total", "x", NULL, 0, &again),
                     CAIRN_EEXISTS);
    metrics_free(m);
}

static void series_per_family_are_bounded(void **state)
{
    (void)state;
    metrics_t *m;
    metric_t *c;
    static const char *const labels[] = {"k"};
    assert_int_equal(metrics_new(&m), CAIRN_OK);
    assert_int_equal(metrics_register(m, METRIC_COUNTER, "many_total", "x", labels, 1, &c),
                     CAIRN_OK);
    char v[16];
    const char *lv[] = {v};
    for (int i = 0; i < METRICS_SERIES_MAX; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(metrics_counter_add(c, lv, 1), CAIRN_OK);
    }
    snprintf(v, sizeof v, "one-more");
    assert_int_equal(metrics_counter_add(c, lv, 1), CAIRN_ELIMIT);
    snprintf(v, sizeof v, "7"); /* existing series still update */
    assert_int_equal(metrics_counter_add(c, lv, 1), CAIRN_OK);
    double x;
    assert_int_equal(metrics_value_get(c, lv, &x), CAIRN_OK);
    assert_true(x == 2);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_with_labels_renders_help_type_and_series),
        cmocka_unit_test(gauge_and_summary_render_values_sum_and_count),
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(invalid_names_and_negative_counter_deltas_are_rejected),
        cmocka_unit_test(series_per_family_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
