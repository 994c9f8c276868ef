/* pvx — building a figure description and saving it as PNG, PDF or SVG (see pvx-private/plot.h). */
#include <math.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "pvx/error.h"
#include "pvx/image.h"

#include "plot_private.h"

static double *dup_doubles(const double *v, gsize n)
{
    return v && n ? g_memdup2(v, n * sizeof *v) : NULL;
}

/* A copy of @labels (n entries); missing labels (NULL array or entries) are numbered from 0. */
static char **dup_labels(const char *const *labels, int n)
{
    char **out = g_new0(char *, n + 1);
    for (int i = 0; i < n; i++)
        out[i] = labels && labels[i] ? g_strdup(labels[i]) : g_strdup_printf("%d", i);
    return out;
}

static void plot_line_free(gpointer data)
{
    PlotLine *l = data;
    g_free(l->label);
    g_free(l->x);
    g_free(l->y);
    g_free(l->lo);
    g_free(l->hi);
    g_free(l);
}

PvxPlot *pvx_plot_new(const char *title, double width_pt, double height_pt)
{
    g_return_val_if_fail(width_pt > 0 && height_pt > 0, NULL);
    g_return_val_if_fail(width_pt < 1e5 && height_pt < 1e5, NULL);
    PvxPlot *p = g_new0(PvxPlot, 1);
    p->title = g_strdup(title);
    p->width = width_pt;
    p->height = height_pt;
    p->dpi = 144;
    p->lines = g_ptr_array_new_with_free_func(plot_line_free);
    return p;
}

void pvx_plot_free(PvxPlot *p)
{
    if (!p)
        return;
    g_free(p->title);
    g_free(p->xlabel);
    g_free(p->ylabel);
    g_free(p->ylabel_right);
    g_strfreev(p->categories);
    g_ptr_array_unref(p->lines);
    if (p->bar_labels) {
        for (int s = 0; s < p->bar_series; s++)
            g_free(p->bar_labels[s]);
        g_free(p->bar_labels);
    }
    g_free(p->bar_values);
    g_free(p->bar_lo);
    g_free(p->bar_hi);
    g_free(p->matrix);
    g_strfreev(p->row_labels);
    g_strfreev(p->col_labels);
    g_free(p);
}

void pvx_plot_set_dpi(PvxPlot *p, double dpi)
{
    g_return_if_fail(p && dpi > 0 && dpi <= 2400);
    p->dpi = dpi;
}

void pvx_plot_set_labels(PvxPlot *p, const char *xlabel, const char *ylabel,
                         const char *ylabel_right)
{
    g_return_if_fail(p);
    g_free(p->xlabel);
    g_free(p->ylabel);
    g_free(p->ylabel_right);
    p->xlabel = g_strdup(xlabel);
    p->ylabel = g_strdup(ylabel);
    p->ylabel_right = g_strdup(ylabel_right);
}

void pvx_plot_set_x_categories(PvxPlot *p, int n, const char *const *labels)
{
    g_return_if_fail(p && n >= 1 && p->kind != PLOT_MATRIX);
    g_return_if_fail(p->bar_groups == 0 || p->bar_groups == n);
    g_strfreev(p->categories);
    p->categories = dup_labels(labels, n);
    p->n_categories = n;
    p->kind = PLOT_CHART;
}

void pvx_plot_set_y_range(PvxPlot *p, int axis, double lo, double hi)
{
    g_return_if_fail(p && (axis == 0 || axis == 1));
    g_return_if_fail(isfinite(lo) && isfinite(hi) && lo < hi);
    p->y_fixed[axis] = TRUE;
    p->y_lo[axis] = lo;
    p->y_hi[axis] = hi;
}

void pvx_plot_line(PvxPlot *p, const char *label, int axis, int n, const double *x, const double *y,
                   const double *lo, const double *hi)
{
    g_return_if_fail(p && p->kind != PLOT_MATRIX);
    g_return_if_fail(axis == 0 || axis == 1);
    g_return_if_fail(n >= 0 && (n == 0 || y));
    g_return_if_fail(x || n == 0 || p->n_categories > 0);
    g_return_if_fail((lo == NULL) == (hi == NULL));
    PlotLine *l = g_new0(PlotLine, 1);
    l->label = g_strdup(label);
    l->axis = axis;
    l->n = n;
    l->x = dup_doubles(x, n);
    l->y = dup_doubles(y, n);
    l->lo = dup_doubles(lo, n);
    l->hi = dup_doubles(hi, n);
    l->style = p->n_styles++;
    g_ptr_array_add(p->lines, l);
    p->kind = PLOT_CHART;
}

void pvx_plot_bars(PvxPlot *p, int n_groups, const char *const *group_labels, int n_series,
                   const char *const *series_labels, const double *values, const double *err_lo,
                   const double *err_hi)
{
    g_return_if_fail(p && p->kind != PLOT_MATRIX && p->bar_groups == 0);
    g_return_if_fail(n_groups >= 1 && n_series >= 1 && values);
    g_return_if_fail((err_lo == NULL) == (err_hi == NULL));
    g_return_if_fail(p->n_categories == 0 || p->n_categories == n_groups);
    gsize n = (gsize)n_groups * n_series;
    g_strfreev(p->categories);
    p->categories = dup_labels(group_labels, n_groups);
    p->n_categories = n_groups;
    p->bar_groups = n_groups;
    p->bar_series = n_series;
    p->bar_labels = g_new0(char *, n_series);
    for (int s = 0; s < n_series; s++)
        p->bar_labels[s] = series_labels ? g_strdup(series_labels[s]) : NULL;
    p->bar_values = dup_doubles(values, n);
    p->bar_lo = dup_doubles(err_lo, n);
    p->bar_hi = dup_doubles(err_hi, n);
    p->bar_style0 = p->n_styles;
    p->n_styles += n_series;
    p->kind = PLOT_CHART;
}

void pvx_plot_matrix(PvxPlot *p, int rows, int cols, const double *values,
                     const char *const *row_labels, const char *const *col_labels,
                     gboolean annotate)
{
    g_return_if_fail(p && p->kind == PLOT_NONE);
    g_return_if_fail(rows >= 1 && cols >= 1 && values);
    p->rows = rows;
    p->cols = cols;
    p->matrix = dup_doubles(values, (gsize)rows * cols);
    p->row_labels = dup_labels(row_labels, rows);
    p->col_labels = dup_labels(col_labels, cols);
    p->annotate = annotate;
    p->kind = PLOT_MATRIX;
}

void pvx_plot_set_matrix_range(PvxPlot *p, double lo, double hi)
{
    g_return_if_fail(p && isfinite(lo) && isfinite(hi) && lo < hi);
    p->matrix_fixed = TRUE;
    p->matrix_lo = lo;
    p->matrix_hi = hi;
}

/* ---- saving ---- */

typedef enum { FORMAT_PNG, FORMAT_PDF, FORMAT_SVG } Format;

static gboolean format_from_path(const char *path, Format *format, GError **error)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash)) {
        if (g_ascii_strcasecmp(dot, ".png") == 0)
            *format = FORMAT_PNG;
        else if (g_ascii_strcasecmp(dot, ".pdf") == 0)
            *format = FORMAT_PDF;
        else if (g_ascii_strcasecmp(dot, ".svg") == 0)
            *format = FORMAT_SVG;
        else
            dot = NULL;
    } else {
        dot = NULL;
    }
    if (!dot) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot tell the figure format; name the file .png, .pdf or .svg", path);
        return FALSE;
    }
    return TRUE;
}

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length)
{
    g_byte_array_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

static gboolean cairo_ok(cairo_status_t status, const char *path, GError **error)
{
    if (status == CAIRO_STATUS_SUCCESS)
        return TRUE;
    g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "%s: drawing the figure failed: %s", path,
                cairo_status_to_string(status));
    return FALSE;
}

static gboolean save_png(const PvxPlot *p, const char *path, GError **error)
{
    double scale = p->dpi / 72.0;
    int w = MAX(1, (int)lround(p->width * scale));
    int h = MAX(1, (int)lround(p->height * scale));
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(surface);
    cairo_scale(cr, (double)w / p->width, (double)h / p->height);
    pvx_plot_render(p, cr);
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status(surface);
    if (!cairo_ok(status, path, error)) {
        cairo_surface_destroy(surface);
        return FALSE;
    }
    /* RGB24 keeps each pixel in a native-endian uint32 as 0x00RRGGBB. */
    g_autoptr(PvxImage) img = pvx_image_new(w, h, 3);
    const unsigned char *data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    for (int y = 0; y < h; y++) {
        const guint32 *row = (const guint32 *)(data + (gsize)y * stride);
        guint8 *out = img->data + (gsize)y * w * 3;
        for (int x = 0; x < w; x++) {
            out[3 * x + 0] = (row[x] >> 16) & 0xff;
            out[3 * x + 1] = (row[x] >> 8) & 0xff;
            out[3 * x + 2] = row[x] & 0xff;
        }
    }
    cairo_surface_destroy(surface);
    return pvx_image_save_png(img, path, error);
}

static gboolean save_vector(const PvxPlot *p, Format format, const char *path, GError **error)
{
    g_autoptr(GByteArray) bytes = g_byte_array_new();
    cairo_surface_t *surface =
        format == FORMAT_PDF
            ? cairo_pdf_surface_create_for_stream(append_bytes, bytes, p->width, p->height)
            : cairo_svg_surface_create_for_stream(append_bytes, bytes, p->width, p->height);
    if (format == FORMAT_SVG)
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PT);
    cairo_t *cr = cairo_create(surface);
    pvx_plot_render(p, cr);
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (!cairo_ok(status, path, error))
        return FALSE;
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents(path, (const char *)bytes->data, bytes->len, &local)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s", local->message);
        return FALSE;
    }
    return TRUE;
}

gboolean pvx_plot_save(const PvxPlot *p, const char *path, GError **error)
{
    g_return_val_if_fail(p && path, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    Format format;
    if (!format_from_path(path, &format, error))
        return FALSE;
    if (format == FORMAT_PNG)
        return save_png(p, path, error);
    return save_vector(p, format, path, error);
}
