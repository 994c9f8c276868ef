/* pvx — the figure description shared by plot.c (building it) and plot_render.c (drawing it). */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pvx-private/plot.h"

typedef enum { PLOT_NONE, PLOT_CHART, PLOT_MATRIX } PlotKind;

typedef struct {
    char *label; /* NULL: no legend entry */
    int axis;    /* 0 left, 1 right */
    int n;
    double *x;           /* n values; NULL: 0 .. n-1 (categorical) */
    double *y, *lo, *hi; /* lo/hi NULL: no error range */
    int style;           /* colour and marker index */
} PlotLine;

struct _PvxPlot {
    char *title;
    double width, height, dpi;
    char *xlabel, *ylabel, *ylabel_right;
    PlotKind kind;

    int n_categories;
    char **categories;
    gboolean y_fixed[2];
    double y_lo[2], y_hi[2];

    GPtrArray *lines; /* PlotLine* */
    int n_styles;     /* series drawn so far (lines and bar series) */

    /* grouped bars */
    int bar_groups, bar_series, bar_style0;
    char **bar_labels; /* n_series entries, may be NULL */
    double *bar_values, *bar_lo, *bar_hi;

    /* heat matrix */
    int rows, cols;
    double *matrix;
    char **row_labels, **col_labels; /* never NULL once set: numbered when not given */
    gboolean annotate, matrix_fixed;
    double matrix_lo, matrix_hi;
};

/* Draws @p onto @cr in points (the caller scales for pixels); the area is p->width × p->height. */
void pvx_plot_render(const PvxPlot *p, cairo_t *cr);
