/* pvx — exporting a study design from a run: image selection, pictures under opaque names,
 * tasks.csv in Mechanical Turk's batch input format, the HTML layout, key.csv and design.yaml. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pvx/random.h"
#include "pvx-private/core.h"
#include "pvx-private/study.h"
#include "pvx-private/run_layout.h"
#include "pvx-private/escape.h"
#include "study_private.h"

void pvx_study_design_clear(PvxStudyDesign *d)
{
    g_free(d->name);
    g_free(d->method);
    g_free(d->models);
    g_free(d->dont_know);
    g_free(d->base_url);
    memset(d, 0, sizeof *d);
}

void pvx_study_export_free(PvxStudyExport *e)
{
    if (!e)
        return;
    g_free(e->dir);
    if (e->task_header)
        g_ptr_array_free(e->task_header, TRUE);
    if (e->tasks)
        g_ptr_array_free(e->tasks, TRUE);
    if (e->key)
        g_ptr_array_free(e->key, TRUE);
    g_free(e);
}

/* ---- designs from a config ------------------------------------------------------------------*/

static gboolean design_from_params(const PvxParams *s, const PvxParams *p, guint64 seed,
                                   PvxStudyDesign *d, GError **error)
{
    memset(d, 0, sizeof *d);
    const char *name = pvx_params_get_string(p, "name");
    for (const char *c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("_.-", *c)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                        "%s: a design name is a folder name: letters, digits, '_', '.', '-' "
                        "only, got \"%s\"",
                        pvx_params_where(p, "name"), name);
            return FALSE;
        }
    if (!*name || name[0] == '.') {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: the design name must not be empty or start with '.'",
                    pvx_params_where(p, "name"));
        return FALSE;
    }
    d->name = g_strdup(name);
    d->type = strcmp(pvx_params_get_string(p, "type"), "identify") == 0 ? PVX_STUDY_IDENTIFY
                                                                        : PVX_STUDY_PAIRWISE;
    d->method = g_strdup(pvx_params_get_string(p, "method"));
    gsize n = 0;
    const int64_t *models = pvx_params_get_int_list(p, "models", &n);
    d->models = g_new(int, MAX(n, 1));
    d->n_models = (int)n;
    for (gsize i = 0; i < n; i++) {
        d->models[i] = (int)models[i];
        for (gsize k = 0; k < i; k++)
            if (d->models[k] == d->models[i]) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE, "%s: CR %d is listed twice",
                            pvx_params_where(p, "models"), d->models[i]);
                return FALSE;
            }
    }
    if (n < (d->type == PVX_STUDY_PAIRWISE ? 2u : 1u)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: a %s design needs at least %d models", pvx_params_where(p, "models"),
                    pvx_study_type_name(d->type), d->type == PVX_STUDY_PAIRWISE ? 2 : 1);
        return FALSE;
    }
    d->pairs_reference = strcmp(pvx_params_get_string(p, "pairs"), "reference") == 0;
    d->reference = (int)pvx_params_get_int(p, "reference");
    if (d->type == PVX_STUDY_PAIRWISE && d->pairs_reference) {
        gboolean found = FALSE;
        for (int i = 0; i < d->n_models; i++)
            found |= d->models[i] == d->reference;
        if (!found) {
            g_set_error(
                error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                "%s: the reference CR %d is not among the design's models",
                pvx_params_where(p, pvx_params_is_set(p, "reference") ? "reference" : "pairs"),
                d->reference);
            return FALSE;
        }
    }
    d->scale = (int)pvx_params_get_int(p, "scale");
    if (d->scale != 3 && d->scale != 5 && d->scale != 7) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: 'scale' must be 3, 5 or 7, got %d", pvx_params_where(p, "scale"),
                    d->scale);
        return FALSE;
    }
    const char *rendering = pvx_params_get_string(p, "rendering");
    /* identify shows occlusion maps (the paper's Experiment 2) unless told otherwise */
    d->occlusion = pvx_params_is_set(p, "rendering") ? strcmp(rendering, "occlusion") == 0
                                                     : d->type == PVX_STUDY_IDENTIFY;
    d->per_class = (int)pvx_params_get_int(p, "per_class");
    d->raters = (int)pvx_params_get_int(p, "raters");
    d->dont_know = g_strdup(pvx_params_get_string(p, "dont_know"));
    d->base_url = g_strdup(pvx_params_get_string(s, "base_url"));
    d->display_size = (int)pvx_params_get_int(s, "display_size");
    d->seed = pvx_params_has_value(s, "seed") ? (guint64)pvx_params_get_int(s, "seed") : seed;
    return TRUE;
}

static void design_array_clear(gpointer d)
{
    pvx_study_design_clear(d);
}

static GArray *designs_of(const PvxConfig *cfg, guint64 seed, GError **error)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PvxStudyDesign));
    g_array_set_clear_func(out, design_array_clear);
    const PvxParams *s = pvx_config_section(cfg, "study");
    guint n = pvx_config_list_length(cfg, "study.designs");
    for (guint i = 0; s && i < n; i++) {
        g_autofree char *path = g_strdup_printf("study.designs[%u]", i);
        PvxStudyDesign d;
        if (!design_from_params(s, pvx_config_section(cfg, path), seed, &d, error)) {
            pvx_study_design_clear(&d);
            g_array_unref(out);
            return NULL;
        }
        for (guint k = 0; k < out->len; k++)
            if (strcmp(g_array_index(out, PvxStudyDesign, k).name, d.name) == 0) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                            "%s: two designs are called '%s'",
                            pvx_params_where(pvx_config_section(cfg, path), "name"), d.name);
                pvx_study_design_clear(&d);
                g_array_unref(out);
                return NULL;
            }
        g_array_append_val(out, d);
    }
    return out;
}

GArray *pvx_study_designs_from_config(const PvxConfig *cfg, GError **error)
{
    guint64 seed = (guint64)pvx_params_get_int(pvx_config_section(cfg, ""), "seed");
    return designs_of(cfg, seed, error);
}

GArray *pvx_study_designs_load(const char *path, guint64 default_seed, GError **error)
{
    const PvxConfigSectionSpec *schema = pvx_config_schema();
    const PvxConfigSectionSpec *study = NULL;
    for (guint k = 0; schema->children[k].name; k++)
        if (strcmp(schema->children[k].name, "study") == 0)
            study = &schema->children[k];
    g_return_val_if_fail(study != NULL, NULL);
    PvxConfigSectionSpec children[2] = {*study, {NULL, 0, 0, NULL, NULL, NULL}};
    children[0].flags |= PVX_SECTION_REQUIRED;
    PvxConfigSectionSpec root = {"", 0, 0, NULL, children, "a study file"};
    g_autoptr(PvxConfig) cfg = pvx_config_load(path, NULL, error);
    if (!cfg || !pvx_config_validate(cfg, NULL, &root, error))
        return NULL;
    return designs_of(cfg, default_seed, error);
}

/* ---- export ---------------------------------------------------------------------------------*/

static PvxImage *item_picture(const PvxDatasetItem *it)
{
    if (it->raw)
        return pvx_image_convert(it->raw, 3);
    g_autoptr(PvxImage) img = pvx_image_from_tensor(it->image, NULL, NULL);
    return pvx_image_convert(img, 3);
}

/* @img enlarged by an integer factor to at least @size on its shorter side, with a white band of
 * @band pixels below holding @caption (may be NULL) centred. Returns: (transfer full). */
static PvxImage *presentable(const PvxImage *img, int size, int band, const char *caption)
{
    int short_side = MIN(img->width, img->height);
    int factor = size > short_side ? (size + short_side - 1) / short_side : 1;
    g_autoptr(PvxImage) big =
        factor > 1 ? pvx_image_scale_nearest(img, factor) : pvx_image_copy(img);
    if (band <= 0)
        return g_steal_pointer(&big);
    PvxImage *out = pvx_image_new(big->width, big->height + band, 3);
    static const uint8_t white[4] = {255, 255, 255, 255};
    static const uint8_t black[3] = {0, 0, 0};
    pvx_image_fill_rect(out, 0, 0, out->width, out->height, white);
    pvx_image_blit(out, big, 0, 0);
    if (caption) {
        int scale = MAX(1, MIN(3, big->width / 100));
        int tw = pvx_text_width(caption, scale);
        pvx_image_draw_text(out, MAX(0, (out->width - tw) / 2),
                            big->height + (band - pvx_text_height(caption, scale)) / 2, caption,
                            black, scale);
    }
    return out;
}

/* A name no rater can read anything from: 16 hex digits drawn from @rng, unique in @used. */
static char *opaque_name(PvxRng *rng, GHashTable *used)
{
    for (;;) {
        guint64 v = pvx_rng_next_u64(rng);
        char *name = g_strdup_printf("%016" G_GINT64_MODIFIER "x.png", v);
        if (g_hash_table_add(used, name))
            return g_strdup(name);
    }
}

static char *url_of(const PvxStudyDesign *d, const char *file)
{
    const char *base = d->base_url ? d->base_url : "";
    gboolean slash = !*base || g_str_has_suffix(base, "/");
    return g_strdup_printf("%s%simages/%s", base, slash ? "" : "/", file);
}

static const char *const scale_texts3[] = {
    "The left explanation is more reasonable",
    "Both are equally reasonable",
    "The right explanation is more reasonable",
};
static const char *const scale_texts5[] = {
    "The left explanation is clearly more reasonable",
    "The left explanation is slightly more reasonable",
    "Both are equally reasonable",
    "The left explanation is slightly less reasonable",
    "The left explanation is clearly less reasonable",
};
static const char *const scale_texts7[] = {
    "The left explanation is much more reasonable",
    "The left explanation is moderately more reasonable",
    "The left explanation is slightly more reasonable",
    "Both are equally reasonable",
    "The right explanation is slightly more reasonable",
    "The right explanation is moderately more reasonable",
    "The right explanation is much more reasonable",
};

static char *layout_html(const PvxStudyDesign *d, char **classes)
{
    GString *s = g_string_new(NULL);
    g_string_append(
        s, "<!-- pvx study layout: paste into a Mechanical Turk project (Design layout → Source);\n"
           "     the batch's tasks.csv fills the ${...} variables. -->\n"
           "<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>\n"
           "<crowd-form answer-format=\"flatten-objects\">\n"
           "  <input type=\"hidden\" name=\"task_id\" value=\"${task_id}\">\n");
    if (d->type == PVX_STUDY_PAIRWISE) {
        const char *const *labels = pvx_study_scale_labels(d->scale, NULL);
        const char *const *texts = d->scale == 3   ? scale_texts3
                                   : d->scale == 5 ? scale_texts5
                                                   : scale_texts7;
        g_string_append(
            s, "  <style>\n"
               "    .pvx-row { display: flex; gap: 16px; justify-content: center; align-items: "
               "flex-start; }\n"
               "    .pvx-row figure { margin: 0; text-align: center; }\n"
               "    .pvx-row img { max-width: 300px; image-rendering: pixelated; }\n"
               "    .pvx-choices label { display: block; margin: 4px 0; }\n"
               "  </style>\n"
               "  <h3>Which explanation is more reasonable?</h3>\n"
               "  <p>The middle picture shows: <b>${class_name}</b>. The pictures on its left and "
               "right show which parts two algorithms found important for recognising it. Which "
               "explanation is more reasonable?</p>\n"
               "  <div class=\"pvx-row\">\n"
               "    <figure><img src=\"${left_url}\" alt=\"left "
               "explanation\"><figcaption>left</figcaption></figure>\n"
               "    <figure><img src=\"${original_url}\" "
               "alt=\"image\"><figcaption>${class_name}</figcaption></figure>\n"
               "    <figure><img src=\"${right_url}\" alt=\"right "
               "explanation\"><figcaption>right</figcaption></figure>\n"
               "  </div>\n"
               "  <div class=\"pvx-choices\">\n");
        for (int i = 0; labels[i]; i++) {
            g_string_append_printf(
                s, "    <label><input type=\"radio\" name=\"choice\" value=\"%s\"%s> ", labels[i],
                i == 0 ? " required" : "");
            pvx_escape_html(s, texts[i]);
            g_string_append(s, "</label>\n");
        }
        g_string_append(s, "  </div>\n");
    } else {
        /* crowd-classifier's categories: a JavaScript array in an HTML attribute */
        GString *cats = g_string_new("[");
        for (int i = 0; classes[i]; i++) {
            g_string_append(cats, i ? ", " : "");
            pvx_escape_js_single(cats, classes[i]);
        }
        g_string_append(cats, classes[0] ? ", " : "");
        pvx_escape_js_single(cats, d->dont_know);
        g_string_append_c(cats, ']');
        g_string_append(s, "  <crowd-classifier name=\"category\" categories=\"");
        pvx_escape_html(s, cats->str);
        g_string_free(cats, TRUE);
        g_string_append(
            s, "\" header=\"Which object does this picture show?\">\n"
               "    <classification-target>\n"
               "      <img src=\"${image_url}\" alt=\"picture\" style=\"max-width: 400px; "
               "image-rendering: pixelated;\">\n"
               "    </classification-target>\n"
               "    <short-instructions>Most of the picture is hidden; only the parts an algorithm "
               "found most important are visible. Pick the object it shows, or \"");
        pvx_escape_html(s, d->dont_know);
        g_string_append(s, "\" if you cannot tell.</short-instructions>\n"
                           "    <full-instructions header=\"Instructions\">Pick the one class the "
                           "visible parts show. Do not guess.</full-instructions>\n"
                           "  </crowd-classifier>\n");
    }
    g_string_append(s, "</crowd-form>\n");
    return g_string_free(s, FALSE);
}

static char *design_yaml(const PvxStudyDesign *d, const char *method, char **classes, int images,
                         int tasks, const char *run)
{
    GString *s = g_string_new("# pvx study design: what `pvx study analyse` and `simulate` read "
                              "next to key.csv\n");
    g_string_append(s, "name: ");
    pvx_escape_yaml(s, d->name);
    g_string_append_printf(s, "\ntype: %s\n", pvx_study_type_name(d->type));
    g_string_append_printf(s, "scale: %d\n", d->type == PVX_STUDY_PAIRWISE ? d->scale : 0);
    g_string_append_printf(s, "field: %s\n",
                           d->type == PVX_STUDY_PAIRWISE ? "choice" : "category.label");
    g_string_append(s, "join: Input.task_id\ncodes: [");
    if (d->type == PVX_STUDY_PAIRWISE) {
        const int *codes;
        const char *const *labels = pvx_study_scale_labels(d->scale, &codes);
        for (int i = 0; labels[i]; i++)
            g_string_append_printf(s, "%s\"%s=%d\"", i ? ", " : "", labels[i], codes[i]);
    }
    g_string_append(s, "]\ndont_know: ");
    pvx_escape_yaml(s, d->dont_know);
    g_string_append(s, "\nclasses: [");
    for (int i = 0; classes[i]; i++) {
        if (i)
            g_string_append(s, ", ");
        pvx_escape_yaml(s, classes[i]);
    }
    g_string_append(s, "]\nmodels: [");
    for (int i = 0; i < d->n_models; i++) {
        g_autofree char *name = pvx_layout_model_name(d->models[i]);
        g_string_append_printf(s, "%s\"%s\"", i ? ", " : "", name);
    }
    g_string_append(s, "]\nmethod: ");
    pvx_escape_yaml(s, method);
    g_string_append_printf(s,
                           "\nrendering: %s\npairs: %s\nraters: %d\ntasks: %d\nimages: %d\n"
                           "seed: %" G_GUINT64_FORMAT "\nbase_url: ",
                           d->occlusion ? "occlusion" : "heat",
                           d->pairs_reference ? "reference" : "all", d->raters, tasks, images,
                           d->seed);
    pvx_escape_yaml(s, d->base_url ? d->base_url : "");
    g_string_append(s, "\nrun: ");
    pvx_escape_yaml(s, run);
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

static gboolean write_text(const char *dir, const char *name, const char *text, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(path, text, -1, &e)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    int image;       /* index into the chosen images */
    int left, right; /* model positions (identify: left only) */
} Task;

/* The correctness of CR @cr on the explained items: from the maps' targets when they are the
 * predicted classes, else from the evaluation's per-item `correct`. Returns: (transfer full). */
static gboolean *correct_of(PvxStore *store, const char *raw_path, const char *method, int cr,
                            const int64_t *labels, const int64_t *index, int64_t n,
                            const char *split, GError **error)
{
    g_autofree char *mode = pvx_store_get_attr_string(store, raw_path, "target", NULL);
    gboolean *ok = g_new(gboolean, n);
    if (g_strcmp0(mode, "predicted") == 0) {
        g_autofree char *tp = pvx_layout_maps_target(method, cr);
        int nd;
        int64_t shape[8];
        g_autofree int64_t *t = pvx_store_read_i64(store, tp, &nd, shape, error);
        if (!t || shape[0] != n) {
            if (t)
                g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                            "%s has %" G_GINT64_FORMAT " entries, the maps %" G_GINT64_FORMAT, tp,
                            shape[0], n);
            g_free(ok);
            return NULL;
        }
        for (int64_t i = 0; i < n; i++)
            ok[i] = t[i] == labels[i];
        return ok;
    }
    g_autofree char *group = pvx_layout_model(cr);
    g_autofree char *eval = pvx_layout_eval(group, split);
    g_autofree char *ep = pvx_layout_join(eval, "correct");
    if (!pvx_store_exists(store, ep)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "cannot tell which images CR %d classifies correctly: its maps explain the "
                    "true label (explain.target: label) and %s is missing",
                    cr, ep);
        g_free(ok);
        return NULL;
    }
    int nd;
    int64_t shape[8];
    g_autofree double *c = pvx_store_read_f64(store, ep, &nd, shape, error);
    if (!c) {
        g_free(ok);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        ok[i] = index[i] >= 0 && index[i] < shape[0] && c[index[i]] > 0.5;
    return ok;
}

/* The method a design shows: its own, else the first the store has maps of.
 * Returns: (transfer full), NULL with @error set when the store has no maps. */
static char *design_method(PvxStore *store, const PvxStudyDesign *d, GError **error)
{
    if (d->method)
        return g_strdup(d->method);
    g_auto(GStrv) methods = pvx_store_list(store, pvx_layout_maps(), error);
    if (!methods)
        return NULL;
    if (!methods[0]) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "study %s: %s holds no maps; run the explain stage first", d->name,
                    pvx_store_path(store));
        return NULL;
    }
    return g_strdup(methods[0]);
}

/* What the export reads from the run: the maps of every model of the design and the items they
 * explain. */
typedef struct {
    const char *method, *split;
    PvxSplit sp;
    GPtrArray *raws; /* PvxTensor [N, h, w] per model of the design */
    int64_t n;       /* N, the explained items */
    int64_t *index;  /* [N] their indices in the split */
    char **ids;      /* [N] their ids */
    int64_t *labels; /* [N] their true classes */
} Inputs;

static void inputs_clear(Inputs *in)
{
    g_clear_pointer(&in->raws, g_ptr_array_unref);
    g_clear_pointer(&in->index, g_free);
    g_clear_pointer(&in->ids, g_strfreev);
    g_clear_pointer(&in->labels, g_free);
}

/* Reads the maps of @in->method for every model of @d, the explained items and their labels,
 * and checks that they agree. */
static gboolean read_inputs(PvxStore *store, const PvxDataset *ds, const PvxStudyDesign *d,
                            Inputs *in, GError **error)
{
    in->raws = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int m = 0; m < d->n_models; m++) {
        g_autofree char *rp = pvx_layout_maps_raw(in->method, d->models[m]);
        if (!pvx_store_exists(store, rp)) {
            g_autofree char *mp = pvx_layout_maps_method(in->method);
            g_auto(GStrv) have = pvx_store_list(store, mp, NULL);
            g_autofree char *list = have && have[0] ? g_strjoinv(", ", have) : g_strdup("none");
            g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                        "study %s: %s has no %s maps for CR %d (%s); it has: %s", d->name,
                        pvx_store_path(store), in->method, d->models[m], rp, list);
            return FALSE;
        }
        PvxTensor *t = pvx_store_read_tensor(store, rp, error);
        if (!t)
            return FALSE;
        g_ptr_array_add(in->raws, t);
    }
    int nd;
    int64_t shape[8];
    in->index = pvx_store_read_i64(store, pvx_layout_explain_index(), &nd, shape, error);
    if (!in->index)
        return FALSE;
    int64_t N = in->n = shape[0];
    if (N < 1) {
        /* nothing to draw tasks from (and later g_new(…, 0) would read as a failure) */
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "study %s: the run explained no images (%s is empty)", d->name,
                    pvx_layout_explain_index());
        return FALSE;
    }
    g_autofree char *idp = pvx_layout_maps_ids(in->method, d->models[0]);
    in->ids = pvx_store_read_strings(store, idp, error);
    if (!in->ids)
        return FALSE;
    for (int m = 0; m < d->n_models; m++) {
        const PvxTensor *t = in->raws->pdata[m];
        if (t->ndim != 3 || t->shape[0] != N || (int64_t)g_strv_length(in->ids) != N) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "study %s: the CR %d maps hold %" G_GINT64_FORMAT " images, "
                        "%s %" G_GINT64_FORMAT,
                        d->name, d->models[m], t->ndim ? t->shape[0] : 0,
                        pvx_layout_explain_index(), N);
            return FALSE;
        }
    }
    in->labels = g_new(int64_t, N);
    for (int64_t i = 0; i < N; i++) {
        in->labels[i] = pvx_dataset_get_label(ds, in->sp, in->index[i], error);
        if (in->labels[i] < 0)
            return FALSE;
    }
    return TRUE;
}

/* The items every compared model classifies correctly. Returns: (transfer full) gboolean[N]. */
static gboolean *eligible_items(PvxStore *store, const PvxStudyDesign *d, const Inputs *in,
                                GError **error)
{
    g_autofree gboolean *eligible = g_new(gboolean, in->n);
    for (int64_t i = 0; i < in->n; i++)
        eligible[i] = TRUE;
    for (int m = 0; m < d->n_models; m++) {
        g_autofree char *rp = pvx_layout_maps_raw(in->method, d->models[m]);
        g_autofree gboolean *ok = correct_of(store, rp, in->method, d->models[m], in->labels,
                                             in->index, in->n, in->split, error);
        if (!ok) {
            g_prefix_error(error, "study %s: ", d->name);
            return NULL;
        }
        for (int64_t i = 0; i < in->n; i++)
            eligible[i] = eligible[i] && ok[i];
    }
    return g_steal_pointer(&eligible);
}

/* d->per_class eligible items of every class (all when 0), drawn with @rng, sorted.
 * Returns: (transfer full) int64 positions in 0..N-1. */
static GArray *choose_items(const PvxDataset *ds, const PvxStudyDesign *d, const Inputs *in,
                            const gboolean *eligible, PvxRng *rng, GError **error)
{
    g_autoptr(GArray) chosen = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (int c = 0; c < pvx_dataset_num_classes(ds); c++) {
        g_autoptr(GArray) pool = g_array_new(FALSE, FALSE, sizeof(int64_t));
        for (int64_t i = 0; i < in->n; i++)
            if (eligible[i] && in->labels[i] == c)
                g_array_append_val(pool, i);
        guint take = d->per_class > 0 ? MIN((guint)d->per_class, pool->len) : pool->len;
        pvx_rng_shuffle(rng, pool->data, pool->len, sizeof(int64_t), take);
        if (d->per_class > 0 && take < (guint)d->per_class)
            g_message("study %s: class %s has %u of %d images that every model classifies "
                      "correctly",
                      d->name, pvx_dataset_class_name(ds, c), take, d->per_class);
        g_array_append_vals(chosen, pool->data, take);
    }
    if (chosen->len == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "study %s: none of the %" G_GINT64_FORMAT " explained images is classified "
                    "correctly by every model of the design",
                    d->name, in->n);
        return NULL;
    }
    g_array_sort(chosen, (GCompareFunc)pvx_study_cmp_i64);
    return g_steal_pointer(&chosen);
}

/* Creates @imgdir, first removing the pictures of an earlier export (whose names all differ). */
static gboolean fresh_image_dir(const char *imgdir, GError **error)
{
    if (g_file_test(imgdir, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) dir = g_dir_open(imgdir, 0, NULL);
        const char *f;
        while (dir && (f = g_dir_read_name(dir)))
            if (g_str_has_suffix(f, ".png")) {
                g_autofree char *p = g_build_filename(imgdir, f, NULL);
                g_unlink(p);
            }
    }
    if (g_mkdir_with_parents(imgdir, 0755) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot create %s: %s", imgdir,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* The pictures of the chosen items: their opaque file names and classes. */
typedef struct {
    int n_images, n_models;
    char **orig_name; /* [image] the original (pairwise designs), else NULL */
    char **map_name;  /* [image * n_models + model] */
    char **class_of;  /* [image] class name, NULL-terminated */
} Pictures;

static void pictures_clear(Pictures *pics)
{
    for (int i = 0; pics->orig_name && i < pics->n_images; i++)
        g_free(pics->orig_name[i]);
    for (int i = 0; pics->map_name && i < pics->n_images * pics->n_models; i++)
        g_free(pics->map_name[i]);
    g_clear_pointer(&pics->orig_name, g_free);
    g_clear_pointer(&pics->map_name, g_free);
    g_clear_pointer(&pics->class_of, g_strfreev);
}

/* The map rendering options of the explain section @ep (NULL: the defaults). */
static void render_options(const PvxParams *ep, PvxMapRenderOptions *ro)
{
    pvx_map_render_options_init(ro);
    if (!ep)
        return;
    pvx_colormap_from_name(pvx_params_get_string(ep, "colormap"), &ro->colormap);
    pvx_occlusion_fill_from_name(pvx_params_get_string(ep, "fill"), &ro->fill);
    ro->opacity = pvx_params_get_double(ep, "opacity");
    ro->keep_fraction = pvx_params_get_double(ep, "keep_fraction");
    ro->blur_sigma = pvx_params_get_double(ep, "blur_sigma");
}

/* Renders the chosen items' maps (and originals, for pairwise designs) as PNGs with opaque names
 * drawn from @rng into @imgdir; counts them in @ex->pictures. */
static gboolean render_pictures(const PvxDataset *ds, const PvxStudyDesign *d, const Inputs *in,
                                const GArray *chosen, const PvxMapRenderOptions *ro, PvxRng *rng,
                                const char *imgdir, Pictures *pics, PvxStudyExport *ex,
                                GError **error)
{
    int I = (int)chosen->len, M = d->n_models;
    pics->n_images = I;
    pics->n_models = M;
    pics->orig_name = g_new0(char *, I);
    pics->map_name = g_new0(char *, (gsize)I *M);
    pics->class_of = g_new0(char *, I + 1);
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 0; i < I; i++) {
        int64_t k = g_array_index(chosen, int64_t, i);
        PvxDatasetItem it = {0};
        if (!pvx_dataset_get_item(ds, in->sp, in->index[k], &it, error))
            return FALSE;
        g_autoptr(PvxImage) pic = item_picture(&it);
        pvx_dataset_item_clear(&it);
        const char *cname = pvx_dataset_class_name(ds, (int)in->labels[k]);
        pics->class_of[i] = g_strdup(cname);
        int short_side = MIN(pic->width, pic->height);
        int factor =
            d->display_size > short_side ? (d->display_size + short_side - 1) / short_side : 1;
        int text_scale = MAX(1, MIN(3, pic->width * factor / 100));
        int band = d->type == PVX_STUDY_PAIRWISE ? pvx_text_height("Ag", text_scale) + 12 : 0;
        if (d->type == PVX_STUDY_PAIRWISE) {
            g_autoptr(PvxImage) o = presentable(pic, d->display_size, band, cname);
            pics->orig_name[i] = opaque_name(rng, used);
            g_autofree char *p = g_build_filename(imgdir, pics->orig_name[i], NULL);
            if (!pvx_image_save_png(o, p, error))
                return FALSE;
            ex->pictures++;
        }
        for (int m = 0; m < M; m++) {
            const PvxTensor *all = in->raws->pdata[m];
            int64_t per = all->shape[1] * all->shape[2];
            g_autoptr(PvxTensor) raw = pvx_tensor_new_from_data(
                2, (int64_t[]){all->shape[1], all->shape[2]}, all->data + k * per);
            PvxImage *heat = NULL, *occl = NULL;
            if (!pvx_render_map_pair(pic, raw, ro, d->occlusion ? NULL : &heat,
                                     d->occlusion ? &occl : NULL, error))
                return FALSE;
            g_autoptr(PvxImage) rendered = d->occlusion ? occl : heat;
            g_autoptr(PvxImage) shown = presentable(rendered, d->display_size, band, NULL);
            pics->map_name[i * M + m] = opaque_name(rng, used);
            g_autofree char *p = g_build_filename(imgdir, pics->map_name[i * M + m], NULL);
            if (!pvx_image_save_png(shown, p, error))
                return FALSE;
            ex->pictures++;
        }
    }
    return TRUE;
}

/* The tasks of @d over @n_images images: every model (identify) or every pair, each with its
 * sides drawn from @rng (pairwise), then shuffled with @rng. Returns: (transfer full) Task[]. */
static GArray *draw_tasks(const PvxStudyDesign *d, int n_images, PvxRng *rng)
{
    int M = d->n_models;
    GArray *tasks = g_array_new(FALSE, FALSE, sizeof(Task));
    for (int i = 0; i < n_images; i++) {
        if (d->type == PVX_STUDY_IDENTIFY) {
            for (int m = 0; m < M; m++) {
                Task t = {i, m, -1};
                g_array_append_val(tasks, t);
            }
            continue;
        }
        for (int a = 0; a < M; a++)
            for (int b = a + 1; b < M; b++) {
                if (d->pairs_reference && d->models[a] != d->reference &&
                    d->models[b] != d->reference)
                    continue;
                Task t = {i, a, b};
                if (pvx_rng_below(rng, 2)) {
                    t.left = b;
                    t.right = a;
                }
                g_array_append_val(tasks, t);
            }
    }
    pvx_rng_shuffle(rng, tasks->data, tasks->len, sizeof(Task), tasks->len);
    return tasks;
}

/* The rows of the task table (@ex->task_header, @ex->tasks) and of the answer key (@ex->key)
 * for @tasks. */
static void fill_task_tables(const PvxStudyDesign *d, const Inputs *in, const GArray *chosen,
                             const Pictures *pics, const GArray *tasks, PvxStudyExport *ex)
{
    int M = d->n_models;
    ex->task_header = g_ptr_array_new_with_free_func(g_free);
    const char *ph[] = {"task_id", "left_url", "original_url", "right_url", "class_name"};
    const char *ih[] = {"task_id", "image_url"};
    int nh = d->type == PVX_STUDY_PAIRWISE ? 5 : 2;
    for (int h = 0; h < nh; h++)
        g_ptr_array_add(ex->task_header, g_strdup(d->type == PVX_STUDY_PAIRWISE ? ph[h] : ih[h]));
    g_ptr_array_add(ex->task_header, NULL);
    ex->tasks = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    ex->key = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    int width = tasks->len >= 10000 ? (int)ceil(log10(tasks->len + 1.0)) : 4;
    for (guint n = 0; n < tasks->len; n++) {
        const Task *t = &g_array_index(tasks, Task, n);
        int64_t k = g_array_index(chosen, int64_t, t->image);
        char *tid = g_strdup_printf("t%0*u", width, n + 1);
        char **row = g_new0(char *, 6), **key = g_new0(char *, 6);
        row[0] = g_strdup(tid);
        key[0] = tid;
        key[1] = g_strdup(in->ids[k]);
        key[2] = g_strdup(pics->class_of[t->image]);
        if (d->type == PVX_STUDY_PAIRWISE) {
            row[1] = url_of(d, pics->map_name[t->image * M + t->left]);
            row[2] = url_of(d, pics->orig_name[t->image]);
            row[3] = url_of(d, pics->map_name[t->image * M + t->right]);
            row[4] = g_strdup(pics->class_of[t->image]);
            key[3] = pvx_layout_model_name(d->models[t->left]);
            key[4] = pvx_layout_model_name(d->models[t->right]);
        } else {
            row[1] = url_of(d, pics->map_name[t->image * M + t->left]);
            key[3] = pvx_layout_model_name(d->models[t->left]);
        }
        g_ptr_array_add(ex->tasks, row);
        g_ptr_array_add(ex->key, key);
    }
}

/* upload/tasks.csv, key.csv, upload/layout.html and design.yaml of the export @ex. */
static gboolean write_files(PvxStore *store, const PvxDataset *ds, const PvxStudyDesign *d,
                            const char *method, const char *upload, const PvxStudyExport *ex,
                            GError **error)
{
    g_autofree char *tp = g_build_filename(upload, "tasks.csv", NULL);
    g_autofree char *kp = g_build_filename(ex->dir, "key.csv", NULL);
    const char *pk[] = {"task_id", "image_id", "class", "left", "right", NULL};
    const char *ik[] = {"task_id", "image_id", "class", "model", NULL};
    int C = pvx_dataset_num_classes(ds);
    g_auto(GStrv) classes = g_new0(char *, C + 1);
    for (int c = 0; c < C; c++)
        classes[c] = g_strdup(pvx_dataset_class_name(ds, c));
    g_autofree char *html = layout_html(d, classes);
    g_autofree char *run = g_path_get_dirname(pvx_store_path(store));
    g_autofree char *yaml = design_yaml(d, method, classes, ex->images, (int)ex->tasks->len, run);
    return pvx_csv_write(tp, (const char *const *)ex->task_header->pdata, ex->tasks, error) &&
           pvx_csv_write(kp, d->type == PVX_STUDY_PAIRWISE ? pk : ik, ex->key, error) &&
           write_text(upload, "layout.html", html, error) &&
           write_text(ex->dir, "design.yaml", yaml, error);
}

PvxStudyExport *pvx_study_export(PvxStore *store, const PvxConfig *cfg, const PvxDataset *ds,
                                 const PvxStudyDesign *d, const char *out_dir, GError **error)
{
    g_return_val_if_fail(store && cfg && ds && d && out_dir, NULL);
    g_autofree char *method = design_method(store, d, error);
    if (!method)
        return NULL;
    const PvxParams *ep = pvx_config_section(cfg, "explain");
    Inputs in = {.method = method, .split = ep ? pvx_params_get_string(ep, "split") : "test"};
    in.sp = PVX_SPLIT_TEST;
    pvx_split_from_name(in.split, &in.sp);
    /* one stream, seeded by the design's seed and name, drawn from in this order: items, picture
     * names, tasks */
    PvxRng rng;
    pvx_rng_init(&rng, pvx_hash64_str(d->seed, d->name));
    g_autoptr(PvxStudyExport) ex = g_new0(PvxStudyExport, 1);
    ex->dir = g_build_filename(out_dir, d->name, NULL);
    g_autofree char *upload = g_build_filename(ex->dir, "upload", NULL);
    g_autofree char *imgdir = g_build_filename(upload, "images", NULL);
    g_autofree gboolean *eligible = NULL;
    g_autoptr(GArray) chosen = NULL;
    g_autoptr(GArray) tasks = NULL;
    Pictures pics = {0};
    PvxMapRenderOptions ro;
    render_options(ep, &ro);
    gboolean ok = read_inputs(store, ds, d, &in, error) &&
                  (eligible = eligible_items(store, d, &in, error)) &&
                  (chosen = choose_items(ds, d, &in, eligible, &rng, error)) &&
                  fresh_image_dir(imgdir, error) &&
                  render_pictures(ds, d, &in, chosen, &ro, &rng, imgdir, &pics, ex, error);
    if (ok) {
        ex->images = (int)chosen->len;
        tasks = draw_tasks(d, ex->images, &rng);
        fill_task_tables(d, &in, chosen, &pics, tasks, ex);
        ok = write_files(store, ds, d, method, upload, ex, error);
    }
    if (ok)
        g_message("study %s: %d images, %u tasks, %d pictures in %s", d->name, ex->images,
                  ex->tasks->len, ex->pictures, ex->dir);
    pictures_clear(&pics);
    inputs_clear(&in);
    return ok ? g_steal_pointer(&ex) : NULL;
}
