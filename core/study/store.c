/* pvx — a study's answers and analysis written back into the run's results.h5, next to the
 * tasks and key the study stage stored (/study/<name>/answers, /study/<name>/analysis). */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/store.h"
#include "pvx-private/run_layout.h"
#include "study_private.h"

/* One column of the answers as a string dataset. */
static gboolean write_answer_column(PvxStore *store, const char *path,
                                    const PvxStudyAnswers *answers, gsize offset, GError **error)
{
    g_autofree const char **v = g_new0(const char *, answers->answers->len + 1);
    for (guint i = 0; i < answers->answers->len; i++)
        v[i] = *(char **)((char *)answers->answers->pdata[i] + offset);
    return pvx_store_write_strings(store, path, v, error);
}

static gboolean write_f64(PvxStore *store, const char *base, const char *name, const double *v,
                          int64_t n, GError **error)
{
    g_autofree char *p = pvx_layout_join(base, name);
    return pvx_store_write_f64(store, p, 1, &n, v, error);
}

static gboolean write_i64(PvxStore *store, const char *base, const char *name, const int64_t *v,
                          int64_t n, GError **error)
{
    g_autofree char *p = pvx_layout_join(base, name);
    return pvx_store_write_i64(store, p, 1, &n, v, error);
}

/* One double field of every model (at @offset in PvxStudyModel) as models/@name. */
static gboolean write_model_column(PvxStore *store, const char *models, const char *name,
                                   const PvxStudyAnalysis *an, gsize offset, GError **error)
{
    guint nm = an->models->len;
    g_autofree double *v = g_new0(double, MAX(nm, 1));
    for (guint i = 0; i < nm; i++)
        v[i] = *(const double *)((const char *)an->models->pdata[i] + offset);
    return write_f64(store, models, name, v, nm, error);
}

static gboolean write_answers(PvxStore *store, const char *base, const PvxStudyAnswers *answers,
                              const PvxStudyIssues *is, GError **error)
{
    g_autofree char *w = pvx_layout_join(base, "worker_id");
    g_autofree char *t = pvx_layout_join(base, "task_id");
    g_autofree char *a = pvx_layout_join(base, "answer");
    const struct {
        const char *name;
        int value;
    } counts[] = {{"rows", is->rows},           {"used", is->used},
                  {"rejected", is->rejected},   {"empty", is->empty},
                  {"ambiguous", is->ambiguous}, {"unknown_task", is->unknown_task},
                  {"duplicate", is->duplicate}, {"uncoded", is->uncoded}};
    if (!write_answer_column(store, w, answers, G_STRUCT_OFFSET(PvxStudyAnswer, worker), error) ||
        !write_answer_column(store, t, answers, G_STRUCT_OFFSET(PvxStudyAnswer, task), error) ||
        !write_answer_column(store, a, answers, G_STRUCT_OFFSET(PvxStudyAnswer, value), error))
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++)
        if (!pvx_store_set_attr_int(store, base, counts[i].name, counts[i].value, error))
            return FALSE;
    g_autofree char *source =
        answers->path ? g_canonicalize_filename(answers->path, NULL) : g_strdup("");
    return pvx_store_set_attr_string(store, base, "source", source, error) &&
           pvx_store_set_attr_string(store, base, "format", answers->long_format ? "long" : "mturk",
                                     error);
}

/* The pairwise analysis of study @name under its analysis group @base. */
static gboolean write_pairwise(PvxStore *store, const char *name, const char *base,
                               const PvxStudyAnalysis *an, GError **error)
{
    guint np = an->pairs->len;
    g_autofree const char **a = g_new0(const char *, np + 1);
    g_autofree const char **b = g_new0(const char *, np + 1);
    /* per pair: 7 numbers and 4 counts, column after column */
    g_autofree double *values = g_new0(double, 7 * (gsize)MAX(np, 1));
    g_autofree int64_t *counts = g_new0(int64_t, 4 * (gsize)MAX(np, 1));
    double *pv[7];
    int64_t *pn[4];
    for (int k = 0; k < 7; k++)
        pv[k] = values + (gsize)k * np;
    for (int k = 0; k < 4; k++)
        pn[k] = counts + (gsize)k * np;
    for (guint i = 0; i < np; i++) {
        const PvxStudyPair *p = an->pairs->pdata[i];
        a[i] = p->a;
        b[i] = p->b;
        double v[7] = {p->mean, p->a_preferred, p->b_preferred, p->equal, p->alpha[0], p->chi2,
                       p->p};
        int64_t n[4] = {p->answers, p->n_a, p->n_b, p->n_equal};
        for (int k = 0; k < 7; k++)
            pv[k][i] = v[k];
        for (int k = 0; k < 4; k++)
            pn[k][i] = n[k];
    }
    g_autofree char *pairs = pvx_layout_study_analysis_pairs(name);
    g_autofree char *pa = pvx_layout_join(pairs, "a");
    g_autofree char *pb = pvx_layout_join(pairs, "b");
    static const char *const vnames[7] = {
        "mean", "a_preferred", "b_preferred", "equal", "alpha_nominal", "chi2", "p"};
    static const char *const nnames[4] = {"answers", "n_a", "n_b", "n_equal"};
    if (np > 0) {
        if (!pvx_store_write_strings(store, pa, a, error) ||
            !pvx_store_write_strings(store, pb, b, error))
            return FALSE;
        for (int k = 0; k < 7; k++)
            if (!write_f64(store, pairs, vnames[k], pv[k], np, error))
                return FALSE;
        for (int k = 0; k < 4; k++)
            if (!write_i64(store, pairs, nnames[k], pn[k], np, error))
                return FALSE;
    }
    g_autofree char *models = pvx_layout_study_analysis_models(name);
    int64_t n_tasks = 0;
    while (an->task_ids && an->task_ids[n_tasks])
        n_tasks++;
    return write_model_column(store, models, "explainability_index", an,
                              G_STRUCT_OFFSET(PvxStudyModel, index), error) &&
           write_model_column(store, models, "bradley_terry", an,
                              G_STRUCT_OFFSET(PvxStudyModel, bt), error) &&
           write_model_column(store, models, "bradley_terry_lo", an,
                              G_STRUCT_OFFSET(PvxStudyModel, bt_lo), error) &&
           write_model_column(store, models, "bradley_terry_hi", an,
                              G_STRUCT_OFFSET(PvxStudyModel, bt_hi), error) &&
           pvx_store_set_attr_double(store, base, "mean_task_std", an->mean_task_std, error) &&
           (n_tasks == 0 || write_f64(store, base, "task_std", an->task_std, n_tasks, error));
}

/* The identification analysis of study @name under its analysis group @base. */
static gboolean write_identify(PvxStore *store, const char *name, const char *base,
                               const PvxStudyAnalysis *an, GError **error)
{
    guint nm = an->models->len;
    g_autofree char *models = pvx_layout_study_analysis_models(name);
    if (!write_model_column(store, models, "accuracy", an, G_STRUCT_OFFSET(PvxStudyModel, accuracy),
                            error) ||
        !write_model_column(store, models, "error_rate", an,
                            G_STRUCT_OFFSET(PvxStudyModel, error_rate), error) ||
        !write_model_column(store, models, "indecisive", an,
                            G_STRUCT_OFFSET(PvxStudyModel, indecisive), error) ||
        !write_model_column(store, models, "alpha_nominal", an,
                            G_STRUCT_OFFSET(PvxStudyModel, alpha_nominal), error))
        return FALSE;
    /* confusion [model][true class][answered class + "don't know"] */
    int64_t shape[3] = {nm, an->n_classes, an->n_classes + 1};
    gsize per = (gsize)an->n_classes * (gsize)(an->n_classes + 1);
    g_autofree double *conf = g_new0(double, MAX((gsize)nm * per, 1));
    for (guint i = 0; i < nm; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        if (m->confusion)
            memcpy(conf + i * per, m->confusion, per * sizeof(double));
    }
    g_autofree char *cp = pvx_layout_join(models, "confusion");
    g_autofree char *cl = pvx_layout_join(base, "classes");
    return (an->n_classes == 0 || pvx_store_write_f64(store, cp, 3, shape, conf, error)) &&
           (!an->classes || !an->classes[0] ||
            pvx_store_write_strings(store, cl, (const char *const *)an->classes, error));
}

/* The key analysed must be the one the run exported for @name: same type, same tasks in the
 * same order. */
static gboolean check_key(PvxStore *store, const char *base, const char *name,
                          const PvxStudyKey *key, GError **error)
{
    g_autofree char *type = pvx_store_get_attr_string(store, base, "type", NULL);
    if (!type || strcmp(type, pvx_study_type_name(key->type)) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "study '%s' in %s is %s, but %s is a %s key", name, pvx_store_path(store),
                    type ? type : "of unknown type", key->path ? key->path : "the key",
                    pvx_study_type_name(key->type));
        return FALSE;
    }
    g_autofree char *ids_path = pvx_layout_study_key_column(name, "task_id");
    g_auto(GStrv) ids = pvx_store_read_strings(store, ids_path, error);
    if (!ids)
        return FALSE;
    guint n = g_strv_length(ids);
    for (guint r = 0; r < MAX(n, key->rows->len); r++) {
        const char *stored = r < n ? ids[r] : NULL;
        const char *given =
            r < key->rows->len ? ((const PvxStudyKeyRow *)key->rows->pdata[r])->task_id : NULL;
        if (stored && given && strcmp(stored, given) == 0)
            continue;
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s (%u tasks) is not the key the run stored for study '%s' (%u tasks): "
                    "row %u has task '%s' there and '%s' in the file",
                    key->path ? key->path : "the key", key->rows->len, name, n, r + 1,
                    stored ? stored : "(none)", given ? given : "(none)");
        return FALSE;
    }
    return TRUE;
}

gboolean pvx_study_store_analysis(PvxStore *store, const char *name, const PvxStudyKey *key,
                                  const PvxStudyAnswers *answers, const PvxStudyAnalysis *an,
                                  const char *dir, GError **error)
{
    g_return_val_if_fail(store && name && key && answers && an, FALSE);
    g_autofree char *base = pvx_layout_study_design(name);
    if (!pvx_store_exists(store, base)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s has no study '%s' (%s is written by the study stage of pvx run)",
                    pvx_store_path(store), name, base);
        return FALSE;
    }
    if (!check_key(store, base, name, key, error))
        return FALSE;
    g_autofree char *ans = pvx_layout_study_answers(name);
    g_autofree char *res = pvx_layout_study_analysis(name);
    g_autofree char *json = pvx_study_analysis_json(an);
    g_autofree char *models_group = pvx_layout_study_analysis_models(name);
    g_autofree char *models_path = pvx_layout_join(models_group, "model");
    g_autofree const char **models = g_new0(const char *, an->models->len + 1);
    for (guint i = 0; i < an->models->len; i++)
        models[i] = ((const PvxStudyModel *)an->models->pdata[i])->model;
    static const char *const alpha_names[3] = {"alpha_nominal", "alpha_ordinal", "alpha_interval"};
    g_autofree char *dir_abs = dir ? g_canonicalize_filename(dir, NULL) : g_strdup("");
    if (!pvx_store_delete(store, ans, error) || !pvx_store_delete(store, res, error) ||
        !write_answers(store, ans, answers, &an->issues, error) ||
        !pvx_store_write_strings(store, models_path, models, error) ||
        !pvx_store_set_attr_string(store, res, "summary", json, error) ||
        !pvx_store_set_attr_string(store, res, "type", pvx_study_type_name(an->type), error) ||
        !pvx_store_set_attr_int(store, res, "answers", an->answers, error) ||
        !pvx_store_set_attr_int(store, res, "tasks", an->tasks, error) ||
        !pvx_store_set_attr_int(store, res, "raters", an->raters, error) ||
        !pvx_store_set_attr_string(store, res, "dir", dir_abs, error))
        return FALSE;
    for (int k = 0; k < 3; k++)
        if (!pvx_store_set_attr_double(store, res, alpha_names[k], an->alpha[k], error))
            return FALSE;
    return an->type == PVX_STUDY_PAIRWISE ? write_pairwise(store, name, res, an, error)
                                          : write_identify(store, name, res, an, error);
}
