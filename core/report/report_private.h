/* pvx — report internals shared by core/report (not installed). */
#pragma once

#include <glib.h>

#include "pvx-private/store.h"

/* What the report knows about one compression rate. */
typedef struct {
    int cr;
    double top1, top5, before, achieved, model_ratio, flop_reduction, seconds;
} ReportCr;

/* One metric result per (method, CR): mean, CI, Wilcoxon p against CR 1. */
typedef struct {
    char *method;
    double *mean, *lo, *hi, *p; /* n_crs entries each, NaN where missing */
} ReportSeries;

typedef struct {
    char *metric, *result; /* "/metrics/<metric>/<method>/cr<k>/<result>" */
    GPtrArray *series;     /* ReportSeries* */
} ReportMetric;

typedef struct {
    char *dir; /* the run folder */
    PvxStore *store;
    char *split;        /* evaluation split ("test") */
    GArray *crs;        /* ReportCr, ascending CR */
    GPtrArray *metrics; /* ReportMetric* */
} ReportData;

/* Figures into dir/report/<name>.{png,pdf,svg}; each returns FALSE + error, or TRUE with
 * *written set when there was something to draw. */
gboolean report_figure_accuracy(const ReportData *d, gboolean *written, GError **error);
gboolean report_figure_metric(const ReportData *d, const ReportMetric *m, const char *name,
                              gboolean *written, GError **error);
gboolean report_figure_density(const ReportData *d, gboolean *written, GError **error);
gboolean report_figure_training(const ReportData *d, gboolean *written, GError **error);
