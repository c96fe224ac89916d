/* metrics.h - a tiny Prometheus metrics registry: counters, gauges and summaries
 * (sum and count, no quantiles) with labels, rendered in the Prometheus text
 * exposition format (version 0.0.4) for GET /metrics.
 *
 * Invariants:
 *  1. Bounded: at most METRICS_FAMILIES_MAX families, METRICS_LABELS_MAX label
 *     names per family and METRICS_SERIES_MAX label-value combinations per
 *     family; past a bound an update fails with CAIRN_ELIMIT and changes nothing.
 *  2. Names match [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':'); label values are
 *     escaped on output, so any bytes a caller passes render as valid text.
 *  3. A family is rendered with its # HELP and # TYPE lines, series in
 *     insertion order, so output is deterministic.
 *
 * Threads: not thread-safe; one owner (the node's loop thread) updates and
 * renders. metric_t pointers stay valid until metrics_free().
 */
#ifndef CAIRN_RPC_METRICS_H
#define CAIRN_RPC_METRICS_H

#include <stddef.h>

#include "base/bytes.h"
#include "base/error.h"

#define METRICS_FAMILIES_MAX 128
#define METRICS_LABELS_MAX 4
#define METRICS_SERIES_MAX 512
#define METRICS_NAME_MAX 96
#define METRICS_LABEL_VALUE_MAX 128

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_SUMMARY } metric_kind;

typedef struct metrics metrics_t;
typedef struct metric metric_t;

cairn_err metrics_new(metrics_t **out) CAIRN_MUST_CHECK;
void metrics_free(metrics_t *m);

/* Registers a family. label_names may be NULL when n_labels == 0; strings are
 * copied. Registering an existing name with the same kind and labels returns
 * the existing family; with a different shape CAIRN_EEXISTS. The metric_t is
 * owned by the registry. */
cairn_err metrics_register(metrics_t *m, metric_kind kind, const char *name,
                           const char *help, const char *const *label_names,
                           size_t n_labels, metric_t **out) CAIRN_MUST_CHECK;

/* label_values has exactly the family's n_labels entries (NULL if none).
 * Counters only grow: a negative delta is CAIRN_EINVALID_ARG. */
cairn_err metrics_counter_add(metric_t *f, const char *const *label_values,
                              double delta) CAIRN_MUST_CHECK;
cairn_err metrics_gauge_set(metric_t *f, const char *const *label_values,
                            double value) CAIRN_MUST_CHECK;
cairn_err metrics_gauge_add(metric_t *f, const char *const *label_values,
                            double delta) CAIRN_MUST_CHECK;
/* Summary: adds value to <name>_sum and 1 to <name>_count. */
cairn_err metrics_summary_observe(metric_t *f, const char *const *label_values,
                                  double value) CAIRN_MUST_CHECK;
/* Current value (counter, gauge) or count (summary); CAIRN_ENOT_FOUND if the
 * series was never touched. For tests and status endpoints. */
cairn_err metrics_value_get(const metric_t *f, const char *const *label_values,
                            double *out) CAIRN_MUST_CHECK;

/* Appends the text exposition of every family to out. */
cairn_err metrics_render(const metrics_t *m, buf_t *out) CAIRN_MUST_CHECK;

#endif
