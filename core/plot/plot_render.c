/* pvx — drawing a figure with cairo: layout, axes, ticks, legend, lines, bars, heat matrices. */
#include <math.h>
#include <string.h>

#include "plot_private.h"
#include "pvx-private/viridis.h"

/* Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
 * vision deficiency. */
static const double palette[][3] = {
    {0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0}, /* blue */
    {0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0}, /* vermillion */
    {0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0}, /* bluish green */
    {0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0}, /* orange */
    {0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0}, /* reddish purple */
    {0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0}, /* sky blue */
    {0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0}, /* yellow */
    {0x00 / 255.0, 0x00 / 255.0, 0x00 / 255.0}, /* black */
};
#define N_PALETTE ((int)G_N_ELEMENTS(palette))
#define N_MARKERS 6

enum { FONT_TICK, FONT_LABEL, FONT_TITLE, FONT_LEGEND };
static const double font_size[] = {8, 9, 10.5, 8.5};
#define PAD 5.0  /* space around the figure */
#define GAP 3.0  /* space between a label and what it labels */
#define TICK 3.0 /* tick mark length */

static void set_font(cairo_t *cr, int font)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           font == FONT_TITLE ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, font_size[font]);
}

static double text_width(cairo_t *cr, const char *text)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    return e.x_advance;
}

/* Ascent + descent of the current font: the height a line of text takes. */
static double line_height(cairo_t *cr)
{
    cairo_font_extents_t e;
    cairo_font_extents(cr, &e);
    return e.ascent + e.descent;
}

/* Draws @text so that the point (@x, @y) is at fraction (@ax, @ay) of its box (0,0 top-left,
 * 0.5,0.5 centre), rotated by @angle radians around that point. */
static void draw_text(cairo_t *cr, const char *text, double x, double y, double ax, double ay,
                      double angle)
{
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    double w = text_width(cr, text), h = fe.ascent + fe.descent;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -ax * w, -ay * h + fe.ascent);
    cairo_show_text(cr, text);
    cairo_restore(cr);
}

static void set_rgb(cairo_t *cr, const double rgb[3])
{
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
}

static void format_number(char *buf, gsize len, double v, int decimals)
{
    char fmt[16];
    g_snprintf(fmt, sizeof fmt, "%%.%df", CLAMP(decimals, 0, 12));
    if (fabs(v) < 1e-12)
        v = 0; /* never "-0.0" */
    g_ascii_formatd(buf, len, fmt, v);
}

/* ---- axes ---- */

typedef struct {
    double lo, hi, step;
    int decimals;
} Axis;

static double nice_step(double span, int target)
{
    double raw = span / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* An axis over [lo, hi] (data or fixed). @round_out widens it to whole tick steps. */
static Axis make_axis(double lo, double hi, gboolean have, gboolean round_out)
{
    Axis a;
    if (!have) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12 * MAX(1.0, fabs(hi))) {
        double d = lo == 0 ? 0.5 : fabs(lo) * 0.1;
        lo -= d;
        hi += d;
    }
    a.step = nice_step(hi - lo, 5);
    if (round_out) {
        lo = floor(lo / a.step + 1e-9) * a.step;
        hi = ceil(hi / a.step - 1e-9) * a.step;
    }
    a.lo = lo;
    a.hi = hi;
    a.decimals = MAX(0, (int)-floor(log10(a.step) + 1e-9));
    return a;
}

/* Calls @fn for every tick value of @a. */
#define FOR_TICKS(a, v)                                                                            \
    for (double v##_i = ceil((a).lo / (a).step - 1e-9), v;                                         \
         v = v##_i * (a).step, v##_i <= floor((a).hi / (a).step + 1e-9); v##_i += 1)

static double axis_max_label_width(cairo_t *cr, const Axis *a)
{
    double w = 0;
    char buf[64];
    FOR_TICKS(*a, v)
    {
        format_number(buf, sizeof buf, v, a->decimals);
        w = MAX(w, text_width(cr, buf));
    }
    return w;
}

static void extend(double *lo, double *hi, gboolean *have, double v)
{
    if (!isfinite(v))
        return;
    if (!*have) {
        *lo = *hi = v;
        *have = TRUE;
    } else {
        *lo = MIN(*lo, v);
        *hi = MAX(*hi, v);
    }
}

static double line_x(const PlotLine *l, int i)
{
    return l->x ? l->x[i] : i;
}

/* ---- legend ---- */

typedef struct {
    const char *label;
    int style;
    gboolean bar;
} LegendEntry;

static void draw_marker(cairo_t *cr, int style, double x, double y, double r)
{
    switch (style % N_MARKERS) {
    case 0:
        cairo_arc(cr, x, y, r, 0, 2 * G_PI);
        break;
    case 1:
        cairo_rectangle(cr, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r);
        break;
    case 2:
        cairo_move_to(cr, x, y - 1.15 * r);
        cairo_line_to(cr, x + r, y + 0.75 * r);
        cairo_line_to(cr, x - r, y + 0.75 * r);
        cairo_close_path(cr);
        break;
    case 3:
        cairo_move_to(cr, x, y - 1.2 * r);
        cairo_line_to(cr, x + r, y);
        cairo_line_to(cr, x, y + 1.2 * r);
        cairo_line_to(cr, x - r, y);
        cairo_close_path(cr);
        break;
    case 4:
        cairo_move_to(cr, x, y + 1.15 * r);
        cairo_line_to(cr, x + r, y - 0.75 * r);
        cairo_line_to(cr, x - r, y - 0.75 * r);
        cairo_close_path(cr);
        break;
    default: /* a plus, drawn as a filled cross shape */
        cairo_rectangle(cr, x - r, y - 0.35 * r, 2 * r, 0.7 * r);
        cairo_rectangle(cr, x - 0.35 * r, y - r, 0.7 * r, 2 * r);
        break;
    }
    set_rgb(cr, palette[style % N_PALETTE]);
    cairo_fill(cr);
}

#define SWATCH 16.0

/* Lays out (and with @draw, draws) the legend in rows from @top; returns its height. */
static double legend(const PvxPlot *p, cairo_t *cr, double top, gboolean draw)
{
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(LegendEntry));
    for (int s = 0; s < p->bar_series; s++)
        if (p->bar_labels[s]) {
            LegendEntry e = {p->bar_labels[s], p->bar_style0 + s, TRUE};
            g_array_append_val(entries, e);
        }
    for (guint i = 0; i < p->lines->len; i++) {
        const PlotLine *l = g_ptr_array_index(p->lines, i);
        if (l->label) {
            LegendEntry e = {l->label, l->style, FALSE};
            g_array_append_val(entries, e);
        }
    }
    if (entries->len == 0)
        return 0;
    set_font(cr, FONT_LEGEND);
    double h = line_height(cr) + 2;
    double avail = p->width - 2 * PAD;
    /* First pass: rows and their widths, so each row can be centred. */
    g_autoptr(GArray) row_width = g_array_new(FALSE, TRUE, sizeof(double));
    g_autoptr(GArray) row_of = g_array_new(FALSE, TRUE, sizeof(int));
    double x = 0;
    int row = 0;
    for (guint i = 0; i < entries->len; i++) {
        const LegendEntry *e = &g_array_index(entries, LegendEntry, i);
        double w = SWATCH + GAP + text_width(cr, e->label);
        if (x > 0 && x + w > avail) {
            g_array_append_val(row_width, x);
            x = 0;
            row++;
        }
        g_array_append_val(row_of, row);
        x += w + 10;
    }
    x -= 10;
    g_array_append_val(row_width, x);
    if (draw) {
        int cur = -1;
        for (guint i = 0; i < entries->len; i++) {
            const LegendEntry *e = &g_array_index(entries, LegendEntry, i);
            int r = g_array_index(row_of, int, i);
            if (r != cur) {
                cur = r;
                x = PAD + MAX(0, (avail - g_array_index(row_width, double, r)) / 2);
            }
            double cy = top + r * h + h / 2;
            if (e->bar) {
                cairo_rectangle(cr, x + 3, cy - 4, SWATCH - 6, 8);
                set_rgb(cr, palette[e->style % N_PALETTE]);
                cairo_fill(cr);
            } else {
                cairo_move_to(cr, x, cy);
                cairo_line_to(cr, x + SWATCH, cy);
                set_rgb(cr, palette[e->style % N_PALETTE]);
                cairo_set_line_width(cr, 1.5);
                cairo_stroke(cr);
                draw_marker(cr, e->style, x + SWATCH / 2, cy, 2.6);
            }
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            draw_text(cr, e->label, x + SWATCH + GAP, cy, 0, 0.5, 0);
            x += SWATCH + GAP + text_width(cr, e->label) + 10;
        }
    }
    return (row + 1) * h + GAP;
}

/* Title and legend; returns the y where the plot area may start. */
static double draw_header(const PvxPlot *p, cairo_t *cr)
{
    double top = PAD;
    if (p->title) {
        set_font(cr, FONT_TITLE);
        cairo_set_source_rgb(cr, 0, 0, 0);
        draw_text(cr, p->title, p->width / 2, top, 0.5, 0, 0);
        top += line_height(cr) + GAP + 1;
    }
    top += legend(p, cr, top, TRUE);
    return top;
}

/* Height below the plot area that category labels need, and whether they must be slanted
 * because they would overlap when set straight. */
static double category_label_height(cairo_t *cr, char **labels, int n, double slot,
                                    gboolean *slanted)
{
    set_font(cr, FONT_TICK);
    double w = 0;
    for (int i = 0; i < n; i++)
        w = MAX(w, text_width(cr, labels[i]));
    double h = line_height(cr);
    *slanted = w > slot * 0.92;
    return *slanted ? (w + h) * G_SQRT2 / 2 : h;
}

static void draw_category_labels(cairo_t *cr, char **labels, int n, double x0, double slot,
                                 double y, gboolean slanted)
{
    set_font(cr, FONT_TICK);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int i = 0; i < n; i++) {
        double x = x0 + (i + 0.5) * slot;
        if (slanted)
            draw_text(cr, labels[i], x, y, 1, 0.5, -G_PI / 4);
        else
            draw_text(cr, labels[i], x, y, 0.5, 0, 0);
    }
}

/* ---- charts ---- */

typedef struct {
    double x0, y0, x1, y1; /* plot area, y0 top */
    Axis x, y[2];
    gboolean categorical;
} Frame;

static double map_x(const Frame *f, double v)
{
    return f->x0 + (v - f->x.lo) / (f->x.hi - f->x.lo) * (f->x1 - f->x0);
}

static double map_y(const Frame *f, int axis, double v)
{
    const Axis *a = &f->y[axis];
    return f->y1 - (v - a->lo) / (a->hi - a->lo) * (f->y1 - f->y0);
}

static void chart_ranges(const PvxPlot *p, Frame *f, gboolean *right)
{
    double lo[2] = {0, 0}, hi[2] = {0, 0}, xlo = 0, xhi = 0;
    gboolean have[2] = {FALSE, FALSE}, xhave = FALSE;
    *right = p->ylabel_right != NULL;
    for (guint i = 0; i < p->lines->len; i++) {
        const PlotLine *l = g_ptr_array_index(p->lines, i);
        if (l->axis == 1)
            *right = TRUE;
        for (int k = 0; k < l->n; k++) {
            if (!isfinite(l->y[k]) || !isfinite(line_x(l, k)))
                continue;
            extend(&lo[l->axis], &hi[l->axis], &have[l->axis], l->y[k]);
            extend(&xlo, &xhi, &xhave, line_x(l, k));
            if (l->lo) {
                extend(&lo[l->axis], &hi[l->axis], &have[l->axis], l->lo[k]);
                extend(&lo[l->axis], &hi[l->axis], &have[l->axis], l->hi[k]);
            }
        }
    }
    if (p->bar_groups) {
        gsize n = (gsize)p->bar_groups * p->bar_series;
        extend(&lo[0], &hi[0], &have[0], 0);
        for (gsize k = 0; k < n; k++) {
            extend(&lo[0], &hi[0], &have[0], p->bar_values[k]);
            if (p->bar_lo && isfinite(p->bar_values[k])) {
                extend(&lo[0], &hi[0], &have[0], p->bar_lo[k]);
                extend(&lo[0], &hi[0], &have[0], p->bar_hi[k]);
            }
        }
    }
    for (int a = 0; a < 2; a++)
        f->y[a] = p->y_fixed[a] ? make_axis(p->y_lo[a], p->y_hi[a], TRUE, FALSE)
                                : make_axis(lo[a], hi[a], have[a], TRUE);
    f->categorical = p->n_categories > 0;
    if (f->categorical) {
        f->x.lo = -0.5;
        f->x.hi = p->n_categories - 0.5;
        f->x.step = 1;
        f->x.decimals = 0;
    } else {
        f->x = make_axis(xlo, xhi, xhave, TRUE);
    }
}

static void draw_error_bar(cairo_t *cr, double x, double ylo, double yhi, double cap)
{
    cairo_move_to(cr, x, ylo);
    cairo_line_to(cr, x, yhi);
    cairo_move_to(cr, x - cap, ylo);
    cairo_line_to(cr, x + cap, ylo);
    cairo_move_to(cr, x - cap, yhi);
    cairo_line_to(cr, x + cap, yhi);
    cairo_stroke(cr);
}

static void draw_bars(const PvxPlot *p, cairo_t *cr, const Frame *f)
{
    double slot = (f->x1 - f->x0) / p->bar_groups;
    double bw = slot * 0.8 / p->bar_series;
    double base = map_y(f, 0, CLAMP(0, f->y[0].lo, f->y[0].hi));
    for (int s = 0; s < p->bar_series; s++)
        for (int g = 0; g < p->bar_groups; g++) {
            gsize k = (gsize)s * p->bar_groups + g;
            double v = p->bar_values[k];
            if (!isfinite(v))
                continue;
            double x = f->x0 + g * slot + slot * 0.1 + s * bw;
            double y = map_y(f, 0, v);
            cairo_rectangle(cr, x, MIN(y, base), bw, fabs(base - y));
            set_rgb(cr, palette[(p->bar_style0 + s) % N_PALETTE]);
            cairo_fill(cr);
            if (p->bar_lo && isfinite(p->bar_lo[k]) && isfinite(p->bar_hi[k])) {
                cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
                cairo_set_line_width(cr, 0.8);
                draw_error_bar(cr, x + bw / 2, map_y(f, 0, p->bar_lo[k]), map_y(f, 0, p->bar_hi[k]),
                               MIN(bw * 0.25, 3.0));
            }
        }
}

static gboolean point_ok(const PlotLine *l, int k)
{
    return isfinite(l->y[k]) && isfinite(line_x(l, k));
}

static void draw_line(cairo_t *cr, const Frame *f, const PlotLine *l)
{
    const double *rgb = palette[l->style % N_PALETTE];
    if (l->lo && !f->categorical) {
        /* A band over each run of points whose range is known. */
        int k = 0;
        while (k < l->n) {
            int start = k;
            while (k < l->n && point_ok(l, k) && isfinite(l->lo[k]) && isfinite(l->hi[k]))
                k++;
            if (k - start >= 2) {
                for (int j = start; j < k; j++)
                    cairo_line_to(cr, map_x(f, line_x(l, j)), map_y(f, l->axis, l->hi[j]));
                for (int j = k - 1; j >= start; j--)
                    cairo_line_to(cr, map_x(f, line_x(l, j)), map_y(f, l->axis, l->lo[j]));
                cairo_close_path(cr);
                cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.2);
                cairo_fill(cr);
            }
            k = MAX(k, start + 1);
        }
    }
    set_rgb(cr, rgb);
    cairo_set_line_width(cr, 1.4);
    gboolean pen_down = FALSE;
    for (int k = 0; k < l->n; k++) {
        if (!point_ok(l, k)) {
            pen_down = FALSE;
            continue;
        }
        double x = map_x(f, line_x(l, k)), y = map_y(f, l->axis, l->y[k]);
        if (pen_down)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        pen_down = TRUE;
    }
    cairo_stroke(cr);
    if (l->lo && f->categorical) {
        cairo_set_line_width(cr, 0.9);
        for (int k = 0; k < l->n; k++)
            if (point_ok(l, k) && isfinite(l->lo[k]) && isfinite(l->hi[k]))
                draw_error_bar(cr, map_x(f, line_x(l, k)), map_y(f, l->axis, l->lo[k]),
                               map_y(f, l->axis, l->hi[k]), 2.5);
    }
}

/* Markers are drawn after the clip is lifted, so a point on the frame shows whole; points
 * outside a fixed range have none. Dense lines (more than 25 points) get no markers. */
static void draw_line_markers(cairo_t *cr, const Frame *f, const PlotLine *l)
{
    if (l->n > 25)
        return;
    const Axis *a = &f->y[l->axis];
    double ty = (a->hi - a->lo) * 1e-9, tx = (f->x.hi - f->x.lo) * 1e-9;
    for (int k = 0; k < l->n; k++) {
        double x = line_x(l, k), y = l->y[k];
        if (point_ok(l, k) && y >= a->lo - ty && y <= a->hi + ty && x >= f->x.lo - tx &&
            x <= f->x.hi + tx)
            draw_marker(cr, l->style, map_x(f, x), map_y(f, l->axis, y), 2.6);
    }
}

static void draw_y_ticks(cairo_t *cr, const Frame *f, int axis)
{
    const Axis *a = &f->y[axis];
    char buf[64];
    set_font(cr, FONT_TICK);
    cairo_set_line_width(cr, 0.6);
    FOR_TICKS(*a, v)
    {
        double y = map_y(f, axis, v);
        double x = axis == 0 ? f->x0 : f->x1;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, axis == 0 ? x - TICK : x + TICK, y);
        cairo_stroke(cr);
        format_number(buf, sizeof buf, v, a->decimals);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_text(cr, buf, axis == 0 ? x - TICK - GAP : x + TICK + GAP, y, axis == 0 ? 1 : 0, 0.5,
                  0);
    }
}

static void render_chart(const PvxPlot *p, cairo_t *cr, double top)
{
    Frame f;
    gboolean right;
    chart_ranges(p, &f, &right);

    set_font(cr, FONT_LABEL);
    double label_h = line_height(cr);
    set_font(cr, FONT_TICK);
    double tick_h = line_height(cr);
    f.x0 = PAD + (p->ylabel ? label_h + GAP : 0) + axis_max_label_width(cr, &f.y[0]) + GAP + TICK;
    f.x1 = p->width - PAD -
           (right ? (p->ylabel_right ? label_h + GAP : 0) + axis_max_label_width(cr, &f.y[1]) +
                        GAP + TICK
                  : 0);
    if (!f.categorical) /* room for half of the last x tick label */
        f.x1 -= right ? 0 : axis_max_label_width(cr, &f.x) / 2;
    f.x1 = MAX(f.x1, f.x0 + 10);
    gboolean slanted = FALSE;
    double xtick_h = f.categorical
                         ? category_label_height(cr, p->categories, p->n_categories,
                                                 (f.x1 - f.x0) / p->n_categories, &slanted)
                         : tick_h;
    f.y0 = top + tick_h / 2; /* the top tick label may stick out half its height */
    f.y1 = p->height - PAD - (p->xlabel ? label_h + GAP : 0) - xtick_h - GAP - TICK;
    f.y1 = MAX(f.y1, f.y0 + 10);

    /* grid lines at the left axis' ticks */
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_set_line_width(cr, 0.5);
    FOR_TICKS(f.y[0], v)
    {
        cairo_move_to(cr, f.x0, map_y(&f, 0, v));
        cairo_line_to(cr, f.x1, map_y(&f, 0, v));
    }
    cairo_stroke(cr);

    cairo_save(cr);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_clip(cr);
    if (p->bar_groups)
        draw_bars(p, cr, &f);
    for (guint i = 0; i < p->lines->len; i++)
        draw_line(cr, &f, g_ptr_array_index(p->lines, i));
    cairo_restore(cr);

    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
    cairo_stroke(cr);
    for (guint i = 0; i < p->lines->len; i++)
        draw_line_markers(cr, &f, g_ptr_array_index(p->lines, i));

    draw_y_ticks(cr, &f, 0);
    if (right)
        draw_y_ticks(cr, &f, 1);
    double ytick = f.y1 + TICK + GAP;
    if (f.categorical) {
        double slot = (f.x1 - f.x0) / p->n_categories;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 0.6);
        for (int i = 0; i < p->n_categories; i++) {
            cairo_move_to(cr, f.x0 + (i + 0.5) * slot, f.y1);
            cairo_line_to(cr, f.x0 + (i + 0.5) * slot, f.y1 + TICK);
        }
        cairo_stroke(cr);
        draw_category_labels(cr, p->categories, p->n_categories, f.x0, slot, ytick, slanted);
    } else {
        char buf[64];
        set_font(cr, FONT_TICK);
        cairo_set_line_width(cr, 0.6);
        FOR_TICKS(f.x, v)
        {
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_move_to(cr, map_x(&f, v), f.y1);
            cairo_line_to(cr, map_x(&f, v), f.y1 + TICK);
            cairo_stroke(cr);
            format_number(buf, sizeof buf, v, f.x.decimals);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            draw_text(cr, buf, map_x(&f, v), ytick, 0.5, 0, 0);
        }
    }

    set_font(cr, FONT_LABEL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (p->xlabel)
        draw_text(cr, p->xlabel, (f.x0 + f.x1) / 2, p->height - PAD, 0.5, 1, 0);
    if (p->ylabel)
        draw_text(cr, p->ylabel, PAD, (f.y0 + f.y1) / 2, 0.5, 0, -G_PI / 2);
    if (right && p->ylabel_right)
        draw_text(cr, p->ylabel_right, p->width - PAD, (f.y0 + f.y1) / 2, 0.5, 1, -G_PI / 2);
}

/* ---- heat matrix ---- */

static void matrix_range(const PvxPlot *p, double *lo, double *hi)
{
    if (p->matrix_fixed) {
        *lo = p->matrix_lo;
        *hi = p->matrix_hi;
        return;
    }
    gboolean have = FALSE;
    for (gsize k = 0; k < (gsize)p->rows * p->cols; k++)
        extend(lo, hi, &have, p->matrix[k]);
    if (!have) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi - *lo < 1e-12 * MAX(1.0, fabs(*hi))) {
        *lo -= 0.5;
        *hi += 0.5;
    }
}

static void format_cell(char *buf, gsize len, double v)
{
    if (fabs(v) < 1e9 && v == floor(v))
        g_ascii_formatd(buf, len, "%.0f", v);
    else
        g_ascii_formatd(buf, len, "%.3g", v);
}

static void render_matrix(const PvxPlot *p, cairo_t *cr, double top)
{
    double lo = 0, hi = 1;
    matrix_range(p, &lo, &hi);
    Axis bar = make_axis(lo, hi, TRUE, FALSE);

    set_font(cr, FONT_LABEL);
    double label_h = line_height(cr);
    set_font(cr, FONT_TICK);
    double tick_h = line_height(cr);
    double row_w = 0;
    for (int r = 0; r < p->rows; r++)
        row_w = MAX(row_w, text_width(cr, p->row_labels[r]));
    double bar_w = 9;
    double x0 = PAD + (p->ylabel ? label_h + GAP : 0) + row_w + GAP;
    double x1 = p->width - PAD - (p->ylabel_right ? label_h + GAP : 0) -
                axis_max_label_width(cr, &bar) - GAP - TICK - bar_w - 10;
    x1 = MAX(x1, x0 + 10);
    gboolean slanted;
    double col_h = category_label_height(cr, p->col_labels, p->cols, (x1 - x0) / p->cols, &slanted);
    double y0 = top + tick_h / 2;
    double y1 = p->height - PAD - (p->xlabel ? label_h + GAP : 0) - col_h - GAP;
    y1 = MAX(y1, y0 + 10);
    double cw = (x1 - x0) / p->cols, ch = (y1 - y0) / p->rows;

    char buf[64];
    double cell_font = MIN(font_size[FONT_TICK], MIN(ch * 0.55, cw * 0.3));
    for (int r = 0; r < p->rows; r++)
        for (int c = 0; c < p->cols; c++) {
            double v = p->matrix[(gsize)r * p->cols + c];
            double rgb[3] = {0.85, 0.85, 0.85};
            if (isfinite(v))
                pvx_viridis_rgb((v - lo) / (hi - lo), rgb);
            cairo_rectangle(cr, x0 + c * cw, y0 + r * ch, cw, ch);
            set_rgb(cr, rgb);
            cairo_fill(cr);
            if (p->annotate && isfinite(v)) {
                format_cell(buf, sizeof buf, v);
                double luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
                double g = luma < 0.5 ? 1.0 : 0.0;
                cairo_set_source_rgb(cr, g, g, g);
                set_font(cr, FONT_TICK);
                cairo_set_font_size(cr, cell_font);
                draw_text(cr, buf, x0 + (c + 0.5) * cw, y0 + (r + 0.5) * ch, 0.5, 0.5, 0);
            }
        }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_stroke(cr);

    set_font(cr, FONT_TICK);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int r = 0; r < p->rows; r++)
        draw_text(cr, p->row_labels[r], x0 - GAP, y0 + (r + 0.5) * ch, 1, 0.5, 0);
    draw_category_labels(cr, p->col_labels, p->cols, x0, cw, y1 + GAP, slanted);

    /* colour bar */
    double bx = x1 + 10;
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, y1, 0, y0);
    for (int i = 0; i <= 16; i++) {
        double rgb[3];
        pvx_viridis_rgb(i / 16.0, rgb);
        cairo_pattern_add_color_stop_rgb(grad, i / 16.0, rgb[0], rgb[1], rgb[2]);
    }
    cairo_rectangle(cr, bx, y0, bar_w, y1 - y0);
    cairo_set_source(cr, grad);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, bx, y0, bar_w, y1 - y0);
    cairo_stroke(cr);
    FOR_TICKS(bar, v)
    {
        double y = y1 - (v - lo) / (hi - lo) * (y1 - y0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, bx + bar_w, y);
        cairo_line_to(cr, bx + bar_w + TICK, y);
        cairo_stroke(cr);
        format_number(buf, sizeof buf, v, bar.decimals);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_text(cr, buf, bx + bar_w + TICK + GAP, y, 0, 0.5, 0);
    }

    set_font(cr, FONT_LABEL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (p->xlabel)
        draw_text(cr, p->xlabel, (x0 + x1) / 2, p->height - PAD, 0.5, 1, 0);
    if (p->ylabel)
        draw_text(cr, p->ylabel, PAD, (y0 + y1) / 2, 0.5, 0, -G_PI / 2);
    if (p->ylabel_right)
        draw_text(cr, p->ylabel_right, p->width - PAD, (y0 + y1) / 2, 0.5, 1, -G_PI / 2);
}

void pvx_plot_render(const PvxPlot *p, cairo_t *cr)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    double top = draw_header(p, cr);
    if (p->kind == PLOT_MATRIX)
        render_matrix(p, cr, top);
    else
        render_chart(p, cr, top);
}
