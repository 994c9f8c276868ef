/* pvx — writing an analysis: summary.json, CSV tables, issues.txt and figures. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/study.h"
#include "study_private.h"

static const char *alpha_names[] = {"nominal", "ordinal", "interval"};

static void json_alpha(PvxJson *j, const char *key, const double a[3])
{
    pvx_json_begin_object(j, key);
    for (int i = 0; i < 3; i++)
        pvx_json_number(j, alpha_names[i], a[i]);
    pvx_json_end_object(j);
}

static char *value_name(double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.10g", v));
}

static void json_issues(PvxJson *j, const PvxStudyIssues *is)
{
    pvx_json_begin_object(j, "issues");
    pvx_json_int(j, "rows", is->rows);
    pvx_json_int(j, "used", is->used);
    pvx_json_int(j, "rejected", is->rejected);
    pvx_json_int(j, "empty", is->empty);
    pvx_json_int(j, "ambiguous", is->ambiguous);
    pvx_json_int(j, "unknown_task", is->unknown_task);
    pvx_json_int(j, "duplicate", is->duplicate);
    pvx_json_int(j, "uncoded", is->uncoded);
    pvx_json_begin_object(j, "uncoded_values");
    g_autoptr(GList) keys = g_hash_table_get_keys(is->uncoded_values);
    keys = g_list_sort(keys, (GCompareFunc)strcmp);
    for (GList *k = keys; k; k = k->next)
        pvx_json_int(j, k->data, GPOINTER_TO_INT(g_hash_table_lookup(is->uncoded_values, k->data)));
    pvx_json_end_object(j);
    pvx_json_begin_array(j, "notes");
    for (guint i = 0; i < is->notes->len; i++)
        pvx_json_string(j, NULL, is->notes->pdata[i]);
    pvx_json_end_array(j);
    pvx_json_end_object(j);
}

static void json_pairwise(PvxJson *j, const PvxStudyAnalysis *an)
{
    pvx_json_number(j, "mean_task_std", an->mean_task_std);
    pvx_json_begin_array(j, "values");
    for (int v = 0; v < an->n_values; v++)
        pvx_json_number(j, NULL, an->values[v]);
    pvx_json_end_array(j);
    pvx_json_begin_array(j, "pairs");
    for (guint i = 0; i < an->pairs->len; i++) {
        const PvxStudyPair *p = an->pairs->pdata[i];
        pvx_json_begin_object(j, NULL);
        pvx_json_string(j, "a", p->a);
        pvx_json_string(j, "b", p->b);
        pvx_json_int(j, "answers", p->answers);
        pvx_json_int(j, "tasks", p->tasks);
        pvx_json_number(j, "mean", p->mean);
        pvx_json_number(j, "a_preferred", p->a_preferred);
        pvx_json_number(j, "b_preferred", p->b_preferred);
        pvx_json_number(j, "equal", p->equal);
        pvx_json_int(j, "n_a", p->n_a);
        pvx_json_int(j, "n_b", p->n_b);
        pvx_json_int(j, "n_equal", p->n_equal);
        pvx_json_number(j, "alpha_nominal", p->alpha[0]);
        pvx_json_number(j, "alpha_ordinal", p->alpha[1]);
        pvx_json_number(j, "alpha_interval", p->alpha[2]);
        pvx_json_number(j, "chi2", p->chi2);
        pvx_json_number(j, "p", p->p);
        pvx_json_begin_object(j, "distribution");
        for (int v = 0; v < an->n_values; v++) {
            g_autofree char *name = value_name(an->values[v]);
            pvx_json_int(j, name, p->distribution[v]);
        }
        pvx_json_end_object(j);
        pvx_json_end_object(j);
    }
    pvx_json_end_array(j);
    pvx_json_begin_array(j, "models");
    for (guint i = 0; i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        pvx_json_begin_object(j, NULL);
        pvx_json_string(j, "model", m->model);
        pvx_json_number(j, "explainability_index", m->index);
        pvx_json_number(j, "bradley_terry", m->bt);
        pvx_json_begin_array(j, "ci");
        pvx_json_number(j, NULL, m->bt_lo);
        pvx_json_number(j, NULL, m->bt_hi);
        pvx_json_end_array(j);
        pvx_json_number(j, "bradley_terry_se", m->bt_se);
        pvx_json_int(j, "answers", m->answers);
        pvx_json_int(j, "tasks", m->tasks);
        json_alpha(j, "alpha", m->alpha);
        pvx_json_end_object(j);
    }
    pvx_json_end_array(j);
    pvx_json_begin_object(j, "bradley_terry");
    pvx_json_number(j, "ridge", an->ridge);
    pvx_json_string(j, "ci",
                    "95 % Wald interval, theta +- 1.96 se, se from the inverse Fisher "
                    "information on sum-zero strengths; ties count half a win each");
    pvx_json_end_object(j);
    pvx_json_begin_object(j, "per_class");
    for (int k = 0; k < an->n_classes; k++) {
        pvx_json_begin_object(j, an->classes[k]);
        pvx_json_begin_array(j, "pairs");
        for (guint i = 0; i < an->pairs->len; i++) {
            const PvxStudyPair *p = an->pairs->pdata[i];
            pvx_json_begin_object(j, NULL);
            pvx_json_string(j, "a", p->a);
            pvx_json_string(j, "b", p->b);
            pvx_json_int(j, "answers", p->class_answers[k]);
            pvx_json_number(j, "mean", p->class_mean[k]);
            pvx_json_end_object(j);
        }
        pvx_json_end_array(j);
        pvx_json_begin_array(j, "models");
        for (guint i = 0; i < an->models->len; i++) {
            const PvxStudyModel *m = an->models->pdata[i];
            pvx_json_begin_object(j, NULL);
            pvx_json_string(j, "model", m->model);
            pvx_json_int(j, "answers", m->class_answers[k]);
            pvx_json_number(j, "explainability_index", m->class_index[k]);
            pvx_json_end_object(j);
        }
        pvx_json_end_array(j);
        pvx_json_end_object(j);
    }
    pvx_json_end_object(j);
}

static double ratio(int a, int n)
{
    return n ? (double)a / n : NAN;
}

static void json_identify(PvxJson *j, const PvxStudyAnalysis *an)
{
    int C = an->n_classes;
    pvx_json_begin_array(j, "classes");
    for (int k = 0; k < C; k++)
        pvx_json_string(j, NULL, an->classes[k]);
    pvx_json_end_array(j);
    pvx_json_begin_array(j, "models");
    for (guint i = 0; i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        pvx_json_begin_object(j, NULL);
        pvx_json_string(j, "model", m->model);
        pvx_json_int(j, "answers", m->answers);
        pvx_json_int(j, "tasks", m->tasks);
        pvx_json_number(j, "accuracy", m->accuracy);
        pvx_json_number(j, "error_rate", m->error_rate);
        pvx_json_number(j, "indecisive", m->indecisive);
        pvx_json_number(j, "alpha_nominal", m->alpha_nominal);
        pvx_json_begin_object(j, "per_class");
        for (int k = 0; k < C; k++) {
            pvx_json_begin_object(j, an->classes[k]);
            pvx_json_int(j, "answers", m->class_n[k]);
            pvx_json_number(j, "accuracy", ratio(m->class_correct[k], m->class_n[k]));
            pvx_json_number(j, "error_rate", ratio(m->class_wrong[k], m->class_n[k]));
            pvx_json_number(j, "indecisive", ratio(m->class_dont_know[k], m->class_n[k]));
            pvx_json_end_object(j);
        }
        pvx_json_end_object(j);
        pvx_json_begin_object(j, "confusion");
        pvx_json_string(j, "rows", "true class (classes)");
        pvx_json_string(j, "columns", "answered class (classes), then don't know");
        pvx_json_begin_array(j, "counts");
        for (int k = 0; k < C; k++) {
            pvx_json_begin_array(j, NULL);
            for (int v = 0; v <= C; v++)
                pvx_json_number(j, NULL, m->confusion[(gsize)k * (C + 1) + v]);
            pvx_json_end_array(j);
        }
        pvx_json_end_array(j);
        pvx_json_end_object(j);
        pvx_json_end_object(j);
    }
    pvx_json_end_array(j);
    pvx_json_begin_object(j, "per_class");
    for (int k = 0; k < C; k++) {
        pvx_json_begin_object(j, an->classes[k]);
        pvx_json_int(j, "answers", an->class_answers[k]);
        pvx_json_number(j, "alpha_nominal", an->class_alpha[k]);
        pvx_json_end_object(j);
    }
    pvx_json_end_object(j);
}

char *pvx_study_analysis_json(const PvxStudyAnalysis *an)
{
    PvxJson j;
    pvx_json_init(&j);
    pvx_json_begin_object(&j, NULL);
    pvx_json_string(&j, "type", pvx_study_type_name(an->type));
    json_alpha(&j, "alpha", an->alpha);
    pvx_json_int(&j, "answers", an->answers);
    pvx_json_int(&j, "tasks", an->tasks);
    pvx_json_int(&j, "raters", an->raters);
    if (an->type == PVX_STUDY_PAIRWISE)
        json_pairwise(&j, an);
    else
        json_identify(&j, an);
    json_issues(&j, &an->issues);
    pvx_json_end_object(&j);
    return pvx_json_finish(&j);
}

/* ---- CSV tables ------------------------------------------------------------------------------*/

static char *num(double v)
{
    if (!isfinite(v))
        return g_strdup("");
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.10g", v));
}

static char **row_new(int n)
{
    return g_new0(char *, n + 1);
}

static gboolean write_table(const char *dir, const char *name, const char *const *header,
                            GPtrArray *rows, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return pvx_csv_write(path, header, rows, error);
}

static gboolean write_pairwise_tables(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    const char *ph[] = {"a",
                        "b",
                        "answers",
                        "tasks",
                        "mean",
                        "n_a",
                        "n_b",
                        "n_equal",
                        "a_preferred",
                        "b_preferred",
                        "equal",
                        "alpha_nominal",
                        "alpha_ordinal",
                        "alpha_interval",
                        "chi2",
                        "p",
                        NULL};
    for (guint i = 0; i < an->pairs->len; i++) {
        const PvxStudyPair *p = an->pairs->pdata[i];
        char **r = row_new(16);
        r[0] = g_strdup(p->a);
        r[1] = g_strdup(p->b);
        r[2] = g_strdup_printf("%d", p->answers);
        r[3] = g_strdup_printf("%d", p->tasks);
        r[4] = num(p->mean);
        r[5] = g_strdup_printf("%d", p->n_a);
        r[6] = g_strdup_printf("%d", p->n_b);
        r[7] = g_strdup_printf("%d", p->n_equal);
        r[8] = num(p->a_preferred);
        r[9] = num(p->b_preferred);
        r[10] = num(p->equal);
        for (int k = 0; k < 3; k++)
            r[11 + k] = num(p->alpha[k]);
        r[14] = num(p->chi2);
        r[15] = num(p->p);
        g_ptr_array_add(rows, r);
    }
    if (!write_table(dir, "pairs.csv", ph, rows, error))
        return FALSE;
    g_ptr_array_set_size(rows, 0);
    const char *mh[] = {"model",         "answers",       "tasks",          "explainability_index",
                        "bradley_terry", "bt_se",         "ci_low",         "ci_high",
                        "alpha_nominal", "alpha_ordinal", "alpha_interval", NULL};
    for (guint i = 0; i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        char **r = row_new(11);
        r[0] = g_strdup(m->model);
        r[1] = g_strdup_printf("%d", m->answers);
        r[2] = g_strdup_printf("%d", m->tasks);
        r[3] = num(m->index);
        r[4] = num(m->bt);
        r[5] = num(m->bt_se);
        r[6] = num(m->bt_lo);
        r[7] = num(m->bt_hi);
        for (int k = 0; k < 3; k++)
            r[8 + k] = num(m->alpha[k]);
        g_ptr_array_add(rows, r);
    }
    if (!write_table(dir, "models.csv", mh, rows, error))
        return FALSE;
    g_ptr_array_set_size(rows, 0);
    const char *ch[] = {"class", "what", "a", "b", "answers", "mean", NULL};
    for (int k = 0; k < an->n_classes; k++) {
        for (guint i = 0; i < an->pairs->len; i++) {
            const PvxStudyPair *p = an->pairs->pdata[i];
            char **r = row_new(6);
            r[0] = g_strdup(an->classes[k]);
            r[1] = g_strdup("pair_mean");
            r[2] = g_strdup(p->a);
            r[3] = g_strdup(p->b);
            r[4] = g_strdup_printf("%d", p->class_answers[k]);
            r[5] = num(p->class_mean[k]);
            g_ptr_array_add(rows, r);
        }
        for (guint i = 0; i < an->models->len; i++) {
            const PvxStudyModel *m = an->models->pdata[i];
            char **r = row_new(6);
            r[0] = g_strdup(an->classes[k]);
            r[1] = g_strdup("explainability_index");
            r[2] = g_strdup(m->model);
            r[3] = g_strdup("");
            r[4] = g_strdup_printf("%d", m->class_answers[k]);
            r[5] = num(m->class_index[k]);
            g_ptr_array_add(rows, r);
        }
    }
    if (!write_table(dir, "per_class.csv", ch, rows, error))
        return FALSE;
    g_ptr_array_set_size(rows, 0);
    /* answer distribution per pair: one column per code value */
    GPtrArray *dh = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(dh, g_strdup("a"));
    g_ptr_array_add(dh, g_strdup("b"));
    for (int v = 0; v < an->n_values; v++)
        g_ptr_array_add(dh, value_name(an->values[v]));
    g_ptr_array_add(dh, NULL);
    for (guint i = 0; i < an->pairs->len; i++) {
        const PvxStudyPair *p = an->pairs->pdata[i];
        char **r = row_new(2 + an->n_values);
        r[0] = g_strdup(p->a);
        r[1] = g_strdup(p->b);
        for (int v = 0; v < an->n_values; v++)
            r[2 + v] = g_strdup_printf("%d", p->distribution[v]);
        g_ptr_array_add(rows, r);
    }
    gboolean ok = write_table(dir, "distribution.csv", (const char *const *)dh->pdata, rows, error);
    g_ptr_array_free(dh, TRUE);
    return ok;
}

static gboolean write_task_std(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    const char *h[] = {"task_id", "std", NULL};
    for (int r = 0; an->task_ids && an->task_ids[r]; r++) {
        char **row = row_new(2);
        row[0] = g_strdup(an->task_ids[r]);
        row[1] = num(an->task_std[r]);
        g_ptr_array_add(rows, row);
    }
    return write_table(dir, "task_std.csv", h, rows, error);
}

static gboolean write_identify_tables(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    int C = an->n_classes;
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    const char *mh[] = {"model",      "answers",       "tasks",    "correct",
                        "wrong",      "dont_know",     "accuracy", "error_rate",
                        "indecisive", "alpha_nominal", NULL};
    for (guint i = 0; i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        char **r = row_new(10);
        r[0] = g_strdup(m->model);
        r[1] = g_strdup_printf("%d", m->answers);
        r[2] = g_strdup_printf("%d", m->tasks);
        r[3] = g_strdup_printf("%d", m->correct);
        r[4] = g_strdup_printf("%d", m->wrong);
        r[5] = g_strdup_printf("%d", m->dont_know);
        r[6] = num(m->accuracy);
        r[7] = num(m->error_rate);
        r[8] = num(m->indecisive);
        r[9] = num(m->alpha_nominal);
        g_ptr_array_add(rows, r);
    }
    if (!write_table(dir, "models.csv", mh, rows, error))
        return FALSE;
    g_ptr_array_set_size(rows, 0);
    const char *ch[] = {"model", "class", "answers", "accuracy", "error_rate", "indecisive", NULL};
    for (guint i = 0; i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        for (int k = 0; k < C; k++) {
            char **r = row_new(6);
            r[0] = g_strdup(m->model);
            r[1] = g_strdup(an->classes[k]);
            r[2] = g_strdup_printf("%d", m->class_n[k]);
            r[3] = num(ratio(m->class_correct[k], m->class_n[k]));
            r[4] = num(ratio(m->class_wrong[k], m->class_n[k]));
            r[5] = num(ratio(m->class_dont_know[k], m->class_n[k]));
            g_ptr_array_add(rows, r);
        }
    }
    if (!write_table(dir, "per_class.csv", ch, rows, error))
        return FALSE;
    GPtrArray *hh = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(hh, g_strdup("true_class"));
    for (int k = 0; k < C; k++)
        g_ptr_array_add(hh, g_strdup(an->classes[k]));
    g_ptr_array_add(hh, g_strdup("dont_know"));
    g_ptr_array_add(hh, NULL);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < an->models->len; i++) {
        const PvxStudyModel *m = an->models->pdata[i];
        g_ptr_array_set_size(rows, 0);
        for (int k = 0; k < C; k++) {
            char **r = row_new(C + 2);
            r[0] = g_strdup(an->classes[k]);
            for (int v = 0; v <= C; v++)
                r[1 + v] = num(m->confusion[(gsize)k * (C + 1) + v]);
            g_ptr_array_add(rows, r);
        }
        g_autofree char *name = g_strdup_printf("confusion_%s.csv", m->model);
        g_strdelimit(name, "/\\ ", '_');
        ok = write_table(dir, name, (const char *const *)hh->pdata, rows, error);
    }
    g_ptr_array_free(hh, TRUE);
    return ok;
}

gboolean pvx_study_analysis_write(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot create %s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    g_autofree char *json = pvx_study_analysis_json(an);
    g_autofree char *jp = g_build_filename(dir, "summary.json", NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(jp, json, -1, &e)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    g_autoptr(GString) notes = g_string_new(NULL);
    const PvxStudyIssues *is = &an->issues;
    g_string_append_printf(notes,
                           "answers read %d, used %d; rejected %d, empty %d, ambiguous %d, "
                           "task not in the key %d, repeated %d, no code %d\n",
                           is->rows, is->used, is->rejected, is->empty, is->ambiguous,
                           is->unknown_task, is->duplicate, is->uncoded);
    for (guint i = 0; i < is->notes->len; i++)
        g_string_append_printf(notes, "%s\n", (char *)is->notes->pdata[i]);
    g_autofree char *np = g_build_filename(dir, "issues.txt", NULL);
    if (!g_file_set_contents(np, notes->str, (gssize)notes->len, &e)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    if (an->type == PVX_STUDY_PAIRWISE) {
        if (!write_pairwise_tables(an, dir, error) || !write_task_std(an, dir, error))
            return FALSE;
    } else if (!write_identify_tables(an, dir, error)) {
        return FALSE;
    }
    return pvx_study_figures_write(an, dir, error);
}
