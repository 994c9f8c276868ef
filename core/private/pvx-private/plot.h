/* pvx — paper-ready figures: line plots, grouped bars and heat matrices, saved as PNG, PDF or SVG.
 *
 * A PvxPlot is a description of one figure; nothing is drawn until pvx_plot_save, which renders
 * with cairo into the format the file name's extension asks for (".png", ".pdf", ".svg", any
 * case). Sizes are in points (1/72 inch), so a figure for one column of a two-column paper is
 * about 240 × 170 pt and one across the page about 500 × 200 pt. PDF and SVG are vector files
 * with real text; a PNG has width_pt·dpi/72 × height_pt·dpi/72 pixels (rounded), dpi 144 unless
 * pvx_plot_set_dpi says otherwise. The background is opaque white.
 *
 * Colours come from the Okabe–Ito palette (colour-blind safe) in the order blue, vermillion,
 * bluish green, orange, reddish purple, sky blue, yellow, black; the k-th series drawn (line or
 * bar series, counted together) gets the k-th colour and, for lines, the k-th marker (circle,
 * square, triangle, diamond, inverted triangle, …) so figures stay readable in grey print.
 * Every series with a label gets an entry in the legend, which sits in one or more rows between
 * the title and the plot area, so it never hides data. Heat matrices use viridis.
 *
 * A figure is either a chart (lines and/or bars sharing one x axis, a left y axis and optionally
 * a right one) or one heat matrix; mixing the two is a programmer error.
 *
 * Example — top-1 accuracy and a faithfulness score over compression rates:
 *
 *     const char *crs[] = { "1", "2", "4", "8", "16", "32" };
 *     g_autoptr(PvxPlot) p = pvx_plot_new("VGG-16 on Imagenette", 240, 170);
 *     pvx_plot_set_labels(p, "compression rate", "top-1 accuracy", "deletion AUC");
 *     pvx_plot_set_x_categories(p, 6, crs);
 *     pvx_plot_line(p, "top-1", 0, 6, NULL, top1, NULL, NULL);
 *     pvx_plot_line(p, "deletion AUC", 1, 6, NULL, auc, auc_ci_lo, auc_ci_hi);
 *     if (!pvx_plot_save(p, "accuracy.pdf", &error)) ...
 *
 * Numbers are formatted with '.' as decimal separator whatever the locale. Strings are UTF-8
 * and copied. Non-finite values (NaN, ±Inf) are skipped: a line breaks there, a bar or an error
 * bar is left out, a matrix cell is drawn light grey.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PvxPlot PvxPlot;

/* A new, empty figure of @width_pt × @height_pt points (both > 0). @title may be NULL (no title
 * line). Returns: (transfer full). */
PvxPlot *pvx_plot_new(const char *title, double width_pt, double height_pt);
void pvx_plot_free(PvxPlot *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxPlot, pvx_plot_free)

/* Resolution of PNG output in dots per inch (> 0; default 144, i.e. 2 pixels per point).
 * PDF and SVG ignore it. */
void pvx_plot_set_dpi(PvxPlot *p, double dpi);

/* Axis titles; any may be NULL (none). For a heat matrix @xlabel names the columns (e.g.
 * "predicted"), @ylabel the rows ("true") and @ylabel_right the colour bar. A right y axis is
 * drawn when @ylabel_right is set or a line uses axis 1. */
void pvx_plot_set_labels(PvxPlot *p, const char *xlabel, const char *ylabel,
                         const char *ylabel_right);

/* Makes the x axis categorical: @n (≥ 1) evenly spaced categories named @labels, at x = 0 ..
 * n-1 (e.g. the compression rates "1", "2", "4", …, "32"). Lines then take x = NULL for 0 ..
 * n-1, and error ranges are drawn as error bars with caps. Without categories the x axis is
 * numeric, its range taken from the data, and error ranges are drawn as translucent bands.
 * pvx_plot_bars sets the categories itself. */
void pvx_plot_set_x_categories(PvxPlot *p, int n, const char *const *labels);

/* Fixes the range of y axis @axis (0 left, 1 right) to [@lo, @hi] (@lo < @hi). Without it the
 * range covers the data and error ranges (and 0 when there are bars), rounded out to tick steps
 * of 1, 2 or 5 × 10^k. Values outside a fixed range are clipped at the plot area's edge. */
void pvx_plot_set_y_range(PvxPlot *p, int axis, double lo, double hi);

/* Adds a line with markers: @n points (@x[i], @y[i]) against y axis @axis (0 left, 1 right).
 * @x may be NULL only with categories (then x[i] = i). @lo and @hi, both or neither, are the
 * lower and upper ends of each point's error range (absolute values, e.g. a 95 % confidence
 * interval, not offsets from y). @label NULL: no legend entry. Lines of more than 25 points
 * (training curves) are drawn without markers. Arrays are copied. */
void pvx_plot_line(PvxPlot *p, const char *label, int axis, int n, const double *x, const double *y,
                   const double *lo, const double *hi);

/* Adds grouped bars on the left axis: @n_groups groups (they become the x categories, named
 * @group_labels) of @n_series bars each, one colour and legend entry per series
 * (@series_labels, may be NULL for no legend). @values, @err_lo and @err_hi are
 * [n_series × n_groups] row-major (series s, group g at s·n_groups + g); the error arrays, both
 * or neither, hold absolute lower/upper ends drawn as error bars with caps. Arrays are copied.
 * Call it at most once per figure; lines may be added on top (x = NULL puts them on the groups). */
void pvx_plot_bars(PvxPlot *p, int n_groups, const char *const *group_labels, int n_series,
                   const char *const *series_labels, const double *values, const double *err_lo,
                   const double *err_hi);

/* Makes the figure a heat matrix of @rows × @cols cells, @values row-major (row r, column c at
 * r·cols + c), coloured with viridis from the smallest to the largest finite value (or the range
 * set with pvx_plot_set_matrix_range), with a colour bar on the right. Row labels go on the
 * left, column labels below (either may be NULL: numbered from 0). @annotate writes each value
 * in its cell (integers as integers, other values with 3 significant digits). A confusion
 * matrix is rows = true class, columns = predicted class. Arrays are copied. */
void pvx_plot_matrix(PvxPlot *p, int rows, int cols, const double *values,
                     const char *const *row_labels, const char *const *col_labels,
                     gboolean annotate);
/* Fixes the heat matrix's colour scale to [@lo, @hi] (@lo < @hi), e.g. [0, 1] for rates. */
void pvx_plot_set_matrix_range(PvxPlot *p, double lo, double hi);

/* Renders the figure into @path; the format is chosen by the extension (.png, .pdf, .svg, any
 * case); another extension fails with PVX_ERROR_INVALID_ARGUMENT and writes nothing. The file is
 * written to a temporary name and renamed, so a failure never leaves a half-written figure.
 * A figure with no data is still a valid file (axes, title and labels only). */
gboolean pvx_plot_save(const PvxPlot *p, const char *path, GError **error);

G_END_DECLS
