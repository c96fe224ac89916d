/* metrics.c - see metrics.h. Linear scans: families and series are few and
 * bounded, and /metrics is rendered rarely. */
#include "rpc/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *values[METRICS_LABELS_MAX];
    double value; /* counter, gauge; summary: sum */
    double count; /* summary */
} series_t;

struct metric {
    metric_kind kind;
    char *name;
    char *help;
    size_t n_labels;
    char *labels[METRICS_LABELS_MAX];
    size_t n_series;
    series_t *series; /* grows up to METRICS_SERIES_MAX */
    size_t cap_series;
};

struct metrics {
    size_t n;
    metric_t *fam[METRICS_FAMILIES_MAX];
};

cairn_err metrics_new(metrics_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? CAIRN_OK : CAIRN_ENOMEM;
}

static void family_free(metric_t *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        for (size_t j = 0; j < f->n_labels; j++) free(f->series[i].values[j]);
    for (size_t j = 0; j < f->n_labels; j++) free(f->labels[j]);
    free(f->series);
    free(f->name);
    free(f->help);
    free(f);
}

void metrics_free(metrics_t *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) family_free(m->fam[i]);
    free(m);
}

static bool name_valid(const char *s, bool allow_colon)
{
    size_t n = strlen(s);
    if (n == 0 || n > METRICS_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

static bool same_shape(const metric_t *f, metric_kind kind, const char *const *labels,
                       size_t n)
{
    if (f->kind != kind || f->n_labels != n) return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(f->labels[i], labels[i]) != 0) return false;
    return true;
}

cairn_err metrics_register(metrics_t *m, metric_kind kind, const char *name,
                           const char *help, const char *const *label_names,
                           size_t n_labels, metric_t **out)
{
    if (!name_valid(name, true) || n_labels > METRICS_LABELS_MAX || !help)
        return CAIRN_EINVALID_ARG;
    for (size_t i = 0; i < n_labels; i++)
        if (!name_valid(label_names[i], false)) return CAIRN_EINVALID_ARG;
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->fam[i]->name, name) != 0) continue;
        if (!same_shape(m->fam[i], kind, label_names, n_labels)) return CAIRN_EEXISTS;
        *out = m->fam[i];
        return CAIRN_OK;
    }
    if (m->n >= METRICS_FAMILIES_MAX) return CAIRN_ELIMIT;
    metric_t *f = calloc(1, sizeof *f);
    if (!f) return CAIRN_ENOMEM;
    f->kind = kind;
    f->name = strdup(name);
    f->help = strdup(help);
    bool ok = f->name && f->help;
    for (size_t i = 0; i < n_labels; i++) {
        f->labels[i] = strdup(label_names[i]);
        ok = ok && f->labels[i];
        f->n_labels = i + 1;
    }
    if (!ok) {
        family_free(f);
        return CAIRN_ENOMEM;
    }
    m->fam[m->n++] = f;
    *out = f;
    return CAIRN_OK;
}

static series_t *series_find(const metric_t *f, const char *const *lv)
{
    for (size_t i = 0; i < f->n_series; i++) {
        size_t j = 0;
        while (j < f->n_labels && strcmp(f->series[i].values[j], lv[j]) == 0) j++;
        if (j == f->n_labels) return &f->series[i];
    }
    return NULL;
}

static cairn_err series_get(metric_t *f, const char *const *lv, series_t **out)
{
    for (size_t j = 0; j < f->n_labels; j++)
        if (!lv || !lv[j] || strlen(lv[j]) > METRICS_LABEL_VALUE_MAX)
            return CAIRN_EINVALID_ARG;
    *out = series_find(f, lv);
    if (*out) return CAIRN_OK;
    if (f->n_series >= METRICS_SERIES_MAX) return CAIRN_ELIMIT;
    if (f->n_series == f->cap_series) {
        size_t cap = f->cap_series ? f->cap_series * 2 : 4;
        if (cap > METRICS_SERIES_MAX) cap = METRICS_SERIES_MAX;
        series_t *p = realloc(f->series, cap * sizeof *p);
        if (!p) return CAIRN_ENOMEM;
        f->series = p;
        f->cap_series = cap;
    }
    series_t *s = &f->series[f->n_series];
    memset(s, 0, sizeof *s);
    for (size_t j = 0; j < f->n_labels; j++) {
        s->values[j] = strdup(lv[j]);
        if (!s->values[j]) {
            while (j--) free(s->values[j]);
            return CAIRN_ENOMEM;
        }
    }
    f->n_series++;
    *out = s;
    return CAIRN_OK;
}

cairn_err metrics_counter_add(metric_t *f, const char *const *lv, double delta)
{
    if (f->kind != METRIC_COUNTER || !(delta >= 0)) return CAIRN_EINVALID_ARG;
    series_t *s;
    CAIRN_TRY(series_get(f, lv, &s));
    s->value += delta;
    return CAIRN_OK;
}

cairn_err metrics_gauge_set(metric_t *f, const char *const *lv, double value)
{
    if (f->kind != METRIC_GAUGE) return CAIRN_EINVALID_ARG;
    series_t *s;
    CAIRN_TRY(series_get(f, lv, &s));
    s->value = value;
    return CAIRN_OK;
}

cairn_err metrics_gauge_add(metric_t *f, const char *const *lv, double delta)
{
    if (f->kind != METRIC_GAUGE) return CAIRN_EINVALID_ARG;
    series_t *s;
    CAIRN_TRY(series_get(f, lv, &s));
    s->value += delta;
    return CAIRN_OK;
}

cairn_err metrics_summary_observe(metric_t *f, const char *const *lv, double value)
{
    if (f->kind != METRIC_SUMMARY) return CAIRN_EINVALID_ARG;
    series_t *s;
    CAIRN_TRY(series_get(f, lv, &s));
    s->value += value;
    s->count += 1;
    return CAIRN_OK;
}

cairn_err metrics_value_get(const metric_t *f, const char *const *lv, double *out)
{
    for (size_t j = 0; j < f->n_labels; j++)
        if (!lv || !lv[j]) return CAIRN_EINVALID_ARG;
    const series_t *s = series_find(f, lv);
    if (!s) return CAIRN_ENOT_FOUND;
    *out = f->kind == METRIC_SUMMARY ? s->count : s->value;
    return CAIRN_OK;
}

static cairn_err put(buf_t *out, const char *s) { return buf_append(out, s, strlen(s)); }

/* HELP text escapes \ and newline; label values also escape ". */
static cairn_err put_escaped(buf_t *out, const char *s, bool quote)
{
    for (; *s; s++) {
        const char *e = NULL;
        if (*s == '\\') e = "\\\\";
        else if (*s == '\n') e = "\\n";
        else if (quote && *s == '"') e = "\\\"";
        CAIRN_TRY(e ? put(out, e) : buf_append(out, s, 1));
    }
    return CAIRN_OK;
}

static cairn_err put_number(buf_t *out, double v)
{
    char tmp[40];
    if (isnan(v)) snprintf(tmp, sizeof tmp, "NaN");
    else if (isinf(v)) snprintf(tmp, sizeof tmp, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(long long)v && fabs(v) < 1e15) snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    else snprintf(tmp, sizeof tmp, "%.17g", v);
    return put(out, tmp);
}

static cairn_err put_series(buf_t *out, const metric_t *f, const series_t *s,
                            const char *suffix, double v)
{
    CAIRN_TRY(put(out, f->name));
    CAIRN_TRY(put(out, suffix));
    if (f->n_labels) {
        CAIRN_TRY(put(out, "{"));
        for (size_t j = 0; j < f->n_labels; j++) {
            if (j) CAIRN_TRY(put(out, ","));
            CAIRN_TRY(put(out, f->labels[j]));
            CAIRN_TRY(put(out, "=\""));
            CAIRN_TRY(put_escaped(out, s->values[j], true));
            CAIRN_TRY(put(out, "\""));
        }
        CAIRN_TRY(put(out, "}"));
    }
    CAIRN_TRY(put(out, " "));
    CAIRN_TRY(put_number(out, v));
    return put(out, "\n");
}

static const char *kind_name(metric_kind k)
{
    return k == METRIC_COUNTER ? "counter" : k == METRIC_GAUGE ? "gauge" : "summary";
}

cairn_err metrics_render(const metrics_t *m, buf_t *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const metric_t *f = m->fam[i];
        CAIRN_TRY(put(out, "# HELP "));
        CAIRN_TRY(put(out, f->name));
        CAIRN_TRY(put(out, " "));
        CAIRN_TRY(put_escaped(out, f->help, false));
        CAIRN_TRY(put(out, "\n# TYPE "));
        CAIRN_TRY(put(out, f->name));
        CAIRN_TRY(put(out, " "));
        CAIRN_TRY(put(out, kind_name(f->kind)));
        CAIRN_TRY(put(out, "\n"));
        for (size_t k = 0; k < f->n_series; k++) {
            const series_t *s = &f->series[k];
            if (f->kind == METRIC_SUMMARY) {
                CAIRN_TRY(put_series(out, f, s, "_sum", s->value));
                CAIRN_TRY(put_series(out, f, s, "_count", s->count));
            } else {
                CAIRN_TRY(put_series(out, f, s, "", s->value));
            }
        }
    }
    return CAIRN_OK;
}
