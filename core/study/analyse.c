/* pvx — statistics of a study's answers: coding against the key, Krippendorff's α, pair and
 * model tables, the explainability index, Bradley–Terry, identify accuracy and confusion. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/study.h"
#include "study_private.h"

typedef struct {
    int row; /* key row */
    int worker;
    double v; /* pairwise: code from the left model's side */
    int cat;  /* identify: answered class, n_classes for "don't know" */
} Coded;

static void pair_free(PvxStudyPair *p)
{
    g_free(p->a);
    g_free(p->b);
    g_free(p->distribution);
    g_free(p->class_answers);
    g_free(p->class_mean);
    g_free(p);
}

static void model_free(PvxStudyModel *m)
{
    g_free(m->model);
    g_free(m->class_answers);
    g_free(m->class_index);
    g_free(m->class_n);
    g_free(m->class_correct);
    g_free(m->class_wrong);
    g_free(m->class_dont_know);
    g_free(m->confusion);
    g_free(m);
}

void pvx_study_analysis_free(PvxStudyAnalysis *an)
{
    if (!an)
        return;
    g_strfreev(an->task_ids);
    g_free(an->task_std);
    g_free(an->values);
    g_strfreev(an->classes);
    if (an->pairs)
        g_ptr_array_free(an->pairs, TRUE);
    if (an->models)
        g_ptr_array_free(an->models, TRUE);
    g_free(an->class_alpha);
    g_free(an->class_answers);
    pvx_study_issues_clear(&an->issues);
    g_free(an);
}

static int cmp_labels(gconstpointer a, gconstpointer b)
{
    return pvx_study_label_cmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int value_index(const double *values, int n, double v)
{
    for (int i = 0; i < n; i++)
        if (values[i] == v)
            return i;
    return -1;
}

/* α at three levels from a units × V count matrix. */
static void alpha3(const double *counts, int units, int V, const double *values, double out[3])
{
    out[0] = pvx_krippendorff_alpha(counts, units, V, values, PVX_ALPHA_NOMINAL);
    out[1] = pvx_krippendorff_alpha(counts, units, V, values, PVX_ALPHA_ORDINAL);
    out[2] = pvx_krippendorff_alpha(counts, units, V, values, PVX_ALPHA_INTERVAL);
}

/* The classes: the coding's (dataset order) and then any other class of the key, sorted. */
static char **collect_classes(const PvxStudyKey *key, const PvxStudyCoding *coding)
{
    GPtrArray *out = g_ptr_array_new();
    for (char **c = coding->classes; c && *c; c++)
        g_ptr_array_add(out, g_strdup(*c));
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (guint r = 0; r < key->rows->len; r++) {
        const char *c = ((PvxStudyKeyRow *)key->rows->pdata[r])->class_name;
        gboolean seen = FALSE;
        for (guint i = 0; i < out->len && !seen; i++)
            seen = strcmp(out->pdata[i], c) == 0;
        for (guint i = 0; i < extra->len && !seen; i++)
            seen = strcmp(extra->pdata[i], c) == 0;
        if (!seen)
            g_ptr_array_add(extra, (gpointer)c);
    }
    g_ptr_array_sort(extra, cmp_labels);
    for (guint i = 0; i < extra->len; i++)
        g_ptr_array_add(out, g_strdup(extra->pdata[i]));
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static int strv_index(char **v, const char *s, gboolean fold)
{
    for (int i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    for (int i = 0; fold && v && v[i]; i++)
        if (g_ascii_strcasecmp(v[i], s) == 0)
            return i;
    return -1;
}

/* A pairwise analysis at work: each key row seen from its pair of models (a before b in model
 * order), and the coded answers counted per row. */
typedef struct {
    GArray *coded;        /* Coded */
    char **models;        /* model order */
    const int *row_class; /* [R] class index of each row */
    int R, M, V, C;       /* rows, models, values, classes */
    int *ra, *rb;         /* [R] the models of each row, ra < rb */
    int *sign;            /* [R] +1 when a is the row's left model, else -1 */
    double *ca, *cb;      /* [R, V] answers per value from a's and from b's side */
    GPtrArray *per_row;   /* [R] GArray of double: the row's codes from a's side */
    int *pair_of;         /* [M, M] index in an->pairs of the pair (a, b), -1 when none */
    double *wins;         /* [M, M] wins of the row's model over the column's, ties as halves */
} Pairwise;

static void pairwise_clear(Pairwise *pw)
{
    g_free(pw->ra);
    g_free(pw->rb);
    g_free(pw->sign);
    g_free(pw->ca);
    g_free(pw->cb);
    if (pw->per_row)
        g_ptr_array_unref(pw->per_row);
    g_free(pw->pair_of);
    g_free(pw->wins);
}

/* The two models of each row, a before b. */
static void pairwise_rows(Pairwise *pw, const PvxStudyKey *key)
{
    pw->ra = g_new(int, pw->R);
    pw->rb = g_new(int, pw->R);
    pw->sign = g_new(int, pw->R);
    for (int r = 0; r < pw->R; r++) {
        const PvxStudyKeyRow *k = key->rows->pdata[r];
        int l = strv_index(pw->models, k->left, FALSE),
            rr = strv_index(pw->models, k->right, FALSE);
        pw->ra[r] = MIN(l, rr);
        pw->rb[r] = MAX(l, rr);
        pw->sign[r] = l < rr ? 1 : -1;
    }
}

/* The value domain into an->values and an->n_values: the full scale when known (an->n_values
 * holds K on entry), and every value that occurs, with negatives; sorted, each once. */
static void pairwise_values(PvxStudyAnalysis *an, const GArray *coded)
{
    g_autoptr(GArray) dom = g_array_new(FALSE, FALSE, sizeof(double));
    for (int v = -(an->n_values); v <= an->n_values; v++) {
        double d = v;
        g_array_append_val(dom, d);
    }
    an->n_values = 0;
    for (guint i = 0; i < coded->len; i++) {
        double v = g_array_index(coded, Coded, i).v;
        for (int s = -1; s <= 1; s += 2) {
            double d = s * v + 0.0;
            g_array_append_val(dom, d);
        }
    }
    g_array_sort(dom, cmp_double);
    an->values = g_new(double, dom->len);
    for (guint i = 0; i < dom->len; i++) {
        double d = g_array_index(dom, double, i);
        if (an->n_values == 0 || an->values[an->n_values - 1] != d)
            an->values[an->n_values++] = d;
    }
}

/* The counts per row from a's side and from b's side, and each row's codes. */
static void pairwise_counts(Pairwise *pw, const PvxStudyAnalysis *an)
{
    int V = pw->V;
    pw->ca = g_new0(double, (gsize)pw->R *V);
    pw->cb = g_new0(double, (gsize)pw->R *V);
    pw->per_row = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    for (int r = 0; r < pw->R; r++)
        g_ptr_array_add(pw->per_row, g_array_new(FALSE, FALSE, sizeof(double)));
    for (guint i = 0; i < pw->coded->len; i++) {
        const Coded *c = &g_array_index(pw->coded, Coded, i);
        double va = pw->sign[c->row] * c->v + 0.0, vb = -va + 0.0;
        pw->ca[(gsize)c->row * V + value_index(an->values, V, va)] += 1;
        pw->cb[(gsize)c->row * V + value_index(an->values, V, vb)] += 1;
        g_array_append_val(g_ptr_array_index(pw->per_row, c->row), va);
    }
}

/* Per-task agreement: an->tasks answered, an->task_std (population std of each task's codes,
 * NaN under two answers) and their mean. */
static void pairwise_task_agreement(const Pairwise *pw, PvxStudyAnalysis *an)
{
    an->task_std = g_new(double, pw->R);
    double std_sum = 0;
    int std_n = 0;
    for (int r = 0; r < pw->R; r++) {
        GArray *vals = g_ptr_array_index(pw->per_row, r);
        if (vals->len > 0)
            an->tasks++;
        if (vals->len < 2) {
            an->task_std[r] = NAN;
            continue;
        }
        an->task_std[r] = pvx_population_std((double *)(void *)vals->data, (int)vals->len);
        std_sum += an->task_std[r];
        std_n++;
    }
    an->mean_task_std = std_n ? std_sum / std_n : NAN;
}

/* A pair into an->pairs for every two models some row compares, in model order. */
static void pairwise_add_pairs(Pairwise *pw, PvxStudyAnalysis *an)
{
    int M = pw->M;
    pw->pair_of = g_new(int, (gsize)M *M);
    for (int i = 0; i < M * M; i++)
        pw->pair_of[i] = -1;
    for (int r = 0; r < pw->R; r++)
        pw->pair_of[pw->ra[r] * M + pw->rb[r]] = 0;
    for (int a = 0; a < M; a++)
        for (int b = a + 1; b < M; b++) {
            if (pw->pair_of[a * M + b] < 0)
                continue;
            pw->pair_of[a * M + b] = (int)an->pairs->len;
            PvxStudyPair *p = g_new0(PvxStudyPair, 1);
            p->a = g_strdup(pw->models[a]);
            p->b = g_strdup(pw->models[b]);
            p->distribution = g_new0(int, pw->V);
            p->class_answers = g_new0(int, pw->C);
            p->class_mean = g_new0(double, pw->C);
            g_ptr_array_add(an->pairs, p);
        }
}

/* Every answer counted into its pair (sums, not yet means) and into the wins. */
static void pairwise_tally(Pairwise *pw, PvxStudyAnalysis *an)
{
    int M = pw->M;
    const int *ra = pw->ra, *rb = pw->rb;
    pw->wins = g_new0(double, (gsize)M *M);
    for (guint i = 0; i < pw->coded->len; i++) {
        const Coded *c = &g_array_index(pw->coded, Coded, i);
        int r = c->row;
        PvxStudyPair *p = an->pairs->pdata[pw->pair_of[ra[r] * M + rb[r]]];
        double va = pw->sign[r] * c->v;
        p->answers++;
        p->mean += va;
        p->distribution[value_index(an->values, pw->V, va + 0.0)]++;
        p->class_answers[pw->row_class[r]]++;
        p->class_mean[pw->row_class[r]] += va;
        if (va > 0) {
            p->n_a++;
            pw->wins[ra[r] * M + rb[r]] += 1;
        } else if (va < 0) {
            p->n_b++;
            pw->wins[rb[r] * M + ra[r]] += 1;
        } else {
            p->n_equal++;
            pw->wins[ra[r] * M + rb[r]] += 0.5;
            pw->wins[rb[r] * M + ra[r]] += 0.5;
        }
    }
}

/* Each pair's means, shares, chi-squared test, tasks and α from its rows. */
static void pairwise_finish_pairs(const Pairwise *pw, PvxStudyAnalysis *an)
{
    int V = pw->V;
    for (guint pi = 0; pi < an->pairs->len; pi++) {
        PvxStudyPair *p = an->pairs->pdata[pi];
        int a = strv_index(pw->models, p->a, FALSE), b = strv_index(pw->models, p->b, FALSE);
        p->mean = p->answers ? p->mean / p->answers : NAN;
        int ne = p->n_a + p->n_b;
        p->a_preferred = ne ? (double)p->n_a / ne : NAN;
        p->b_preferred = ne ? (double)p->n_b / ne : NAN;
        p->equal = p->answers ? (double)p->n_equal / p->answers : NAN;
        double obs[2] = {p->n_a, p->n_b};
        p->chi2 = pvx_chi2_gof(obs, NULL, 2, &p->p);
        for (int k = 0; k < pw->C; k++)
            p->class_mean[k] = p->class_answers[k] ? p->class_mean[k] / p->class_answers[k] : NAN;
        g_autoptr(GArray) sub = g_array_new(FALSE, FALSE, sizeof(double));
        for (int r = 0; r < pw->R; r++) {
            if (pw->ra[r] != a || pw->rb[r] != b)
                continue;
            g_array_append_vals(sub, pw->ca + (gsize)r * V, V);
            if (((GArray *)g_ptr_array_index(pw->per_row, r))->len > 0)
                p->tasks++;
        }
        alpha3((double *)(void *)sub->data, (int)(sub->len / V), V, an->values, p->alpha);
    }
}

/* Model @m: its explainability index (mean code from its side), overall and per class, α from
 * its side, and its Bradley–Terry strength @theta ± @se (NaN without @bt_ok). Returns: (transfer
 * full). */
static PvxStudyModel *pairwise_model(const Pairwise *pw, const PvxStudyAnalysis *an, int m,
                                     gboolean bt_ok, double theta, double se)
{
    int V = pw->V;
    const int *ra = pw->ra, *rb = pw->rb;
    PvxStudyModel *pm = g_new0(PvxStudyModel, 1);
    pm->model = g_strdup(pw->models[m]);
    pm->class_answers = g_new0(int, pw->C);
    pm->class_index = g_new0(double, pw->C);
    g_autoptr(GArray) sub = g_array_new(FALSE, FALSE, sizeof(double));
    for (int r = 0; r < pw->R; r++) {
        if (ra[r] != m && rb[r] != m)
            continue;
        g_array_append_vals(sub, (ra[r] == m ? pw->ca : pw->cb) + (gsize)r * V, V);
        if (((GArray *)g_ptr_array_index(pw->per_row, r))->len > 0)
            pm->tasks++;
    }
    alpha3((double *)(void *)sub->data, (int)(sub->len / V), V, an->values, pm->alpha);
    for (guint i = 0; i < pw->coded->len; i++) {
        const Coded *c = &g_array_index(pw->coded, Coded, i);
        int r = c->row;
        if (ra[r] != m && rb[r] != m)
            continue;
        double va = pw->sign[r] * c->v, vm = ra[r] == m ? va : -va;
        pm->answers++;
        pm->index += vm;
        pm->class_answers[pw->row_class[r]]++;
        pm->class_index[pw->row_class[r]] += vm;
    }
    pm->index = pm->answers ? pm->index / pm->answers : NAN;
    for (int k = 0; k < pw->C; k++)
        pm->class_index[k] = pm->class_answers[k] ? pm->class_index[k] / pm->class_answers[k] : NAN;
    pm->bt = bt_ok ? theta : NAN;
    pm->bt_se = bt_ok ? se : NAN;
    pm->bt_lo = pm->bt - 1.959963984540054 * pm->bt_se;
    pm->bt_hi = pm->bt + 1.959963984540054 * pm->bt_se;
    pm->accuracy = pm->error_rate = pm->indecisive = pm->alpha_nominal = NAN;
    return pm;
}

/* The models: Bradley–Terry from the wins (a failure is noted as an issue), then each model. */
static void pairwise_models(const Pairwise *pw, PvxStudyAnalysis *an)
{
    g_autofree double *theta = g_new0(double, pw->M), *se = g_new0(double, pw->M);
    g_autoptr(GError) bt_error = NULL;
    gboolean bt_ok = pvx_bradley_terry(pw->M, pw->wins, an->ridge, theta, se, &bt_error);
    if (!bt_ok)
        pvx_study_issue_note(&an->issues, 1, "Bradley-Terry: %s", bt_error->message);
    for (int m = 0; m < pw->M; m++)
        g_ptr_array_add(an->models, pairwise_model(pw, an, m, bt_ok, theta[m], se[m]));
}

static void analyse_pairwise(PvxStudyAnalysis *an, const PvxStudyKey *key, GArray *coded,
                             char **models, int M, const int *row_class)
{
    Pairwise pw = {
        .coded = coded,
        .models = models,
        .row_class = row_class,
        .R = (int)key->rows->len,
        .M = M,
        .C = an->n_classes,
    };
    pairwise_rows(&pw, key);
    pairwise_values(an, coded);
    pw.V = an->n_values;
    pairwise_counts(&pw, an);
    alpha3(pw.ca, pw.R, pw.V, an->values, an->alpha);
    pairwise_task_agreement(&pw, an);
    pairwise_add_pairs(&pw, an);
    pairwise_tally(&pw, an);
    pairwise_finish_pairs(&pw, an);
    pairwise_models(&pw, an);
    pairwise_clear(&pw);
}

static void analyse_identify(PvxStudyAnalysis *an, const PvxStudyKey *key, GArray *coded,
                             char **models, int M, const int *row_class)
{
    int R = (int)key->rows->len, C = an->n_classes, V = C + 1;
    g_autofree int *row_model = g_new(int, R);
    for (int r = 0; r < R; r++)
        row_model[r] = strv_index(models, ((PvxStudyKeyRow *)key->rows->pdata[r])->model, FALSE);
    g_autofree double *counts = g_new0(double, (gsize)R *V);
    g_autofree int *row_answers = g_new0(int, R);
    for (guint i = 0; i < coded->len; i++) {
        const Coded *c = &g_array_index(coded, Coded, i);
        counts[(gsize)c->row * V + c->cat] += 1;
        row_answers[c->row]++;
    }
    for (int r = 0; r < R; r++)
        an->tasks += row_answers[r] > 0;
    an->alpha[0] = pvx_krippendorff_alpha(counts, R, V, NULL, PVX_ALPHA_NOMINAL);
    an->alpha[1] = an->alpha[2] = NAN;
    an->mean_task_std = NAN;
    an->class_alpha = g_new(double, C);
    an->class_answers = g_new0(int, C);
    for (int k = 0; k < C; k++) {
        g_autoptr(GArray) sub = g_array_new(FALSE, FALSE, sizeof(double));
        for (int r = 0; r < R; r++)
            if (row_class[r] == k) {
                g_array_append_vals(sub, counts + (gsize)r * V, V);
                an->class_answers[k] += row_answers[r];
            }
        an->class_alpha[k] = pvx_krippendorff_alpha(
            (double *)(void *)sub->data, (int)(sub->len / V), V, NULL, PVX_ALPHA_NOMINAL);
    }
    for (int m = 0; m < M; m++) {
        PvxStudyModel *pm = g_new0(PvxStudyModel, 1);
        pm->model = g_strdup(models[m]);
        pm->class_n = g_new0(int, C);
        pm->class_correct = g_new0(int, C);
        pm->class_wrong = g_new0(int, C);
        pm->class_dont_know = g_new0(int, C);
        pm->confusion = g_new0(double, (gsize)C *V);
        g_autoptr(GArray) sub = g_array_new(FALSE, FALSE, sizeof(double));
        for (int r = 0; r < R; r++)
            if (row_model[r] == m) {
                g_array_append_vals(sub, counts + (gsize)r * V, V);
                pm->tasks += row_answers[r] > 0;
            }
        pm->alpha_nominal = pvx_krippendorff_alpha((double *)(void *)sub->data, (int)(sub->len / V),
                                                   V, NULL, PVX_ALPHA_NOMINAL);
        pm->alpha[0] = pm->alpha_nominal;
        pm->alpha[1] = pm->alpha[2] = NAN;
        for (guint i = 0; i < coded->len; i++) {
            const Coded *c = &g_array_index(coded, Coded, i);
            if (row_model[c->row] != m)
                continue;
            int truth = row_class[c->row];
            pm->answers++;
            pm->class_n[truth]++;
            pm->confusion[(gsize)truth * V + c->cat] += 1;
            if (c->cat == C) {
                pm->dont_know++;
                pm->class_dont_know[truth]++;
            } else if (c->cat == truth) {
                pm->correct++;
                pm->class_correct[truth]++;
            } else {
                pm->wrong++;
                pm->class_wrong[truth]++;
            }
        }
        double n = pm->answers;
        pm->accuracy = n ? pm->correct / n : NAN;
        pm->error_rate = n ? pm->wrong / n : NAN;
        pm->indecisive = n ? pm->dont_know / n : NAN;
        pm->index = pm->bt = pm->bt_se = pm->bt_lo = pm->bt_hi = NAN;
        g_ptr_array_add(an->models, pm);
    }
}

PvxStudyAnalysis *pvx_study_analyse(const PvxStudyKey *key, const PvxStudyAnswers *answers,
                                    const PvxStudyCoding *coding, GError **error)
{
    g_return_val_if_fail(key && answers && coding, NULL);
    g_autoptr(PvxStudyAnalysis) an = g_new0(PvxStudyAnalysis, 1);
    an->type = key->type;
    an->ridge = coding->ridge;
    pvx_study_issues_copy(&an->issues, &answers->issues);
    PvxStudyIssues *is = &an->issues;
    int R = (int)key->rows->len;
    an->task_ids = g_new0(char *, R + 1);
    for (int r = 0; r < R; r++)
        an->task_ids[r] = g_strdup(((PvxStudyKeyRow *)key->rows->pdata[r])->task_id);
    g_autoptr(GHashTable) row_of = g_hash_table_new(g_str_hash, g_str_equal);
    for (int r = 0; r < R; r++)
        g_hash_table_insert(row_of, ((PvxStudyKeyRow *)key->rows->pdata[r])->task_id,
                            GINT_TO_POINTER(r + 1));
    /* models and classes */
    g_autoptr(GPtrArray) mlist = g_ptr_array_new();
    g_autoptr(GHashTable) mseen = g_hash_table_new(g_str_hash, g_str_equal);
    for (int r = 0; r < R; r++) {
        const PvxStudyKeyRow *k = key->rows->pdata[r];
        const char *ms[2] = {key->type == PVX_STUDY_PAIRWISE ? k->left : k->model, k->right};
        for (int i = 0; i < (key->type == PVX_STUDY_PAIRWISE ? 2 : 1); i++)
            if (g_hash_table_add(mseen, (gpointer)ms[i]))
                g_ptr_array_add(mlist, (gpointer)ms[i]);
    }
    g_ptr_array_sort(mlist, cmp_labels);
    g_ptr_array_add(mlist, NULL);
    char **models = (char **)mlist->pdata;
    int M = (int)mlist->len - 1;
    an->classes = collect_classes(key, coding);
    an->n_classes = (int)g_strv_length(an->classes);
    g_autofree int *row_class = g_new(int, R);
    for (int r = 0; r < R; r++)
        row_class[r] =
            strv_index(an->classes, ((PvxStudyKeyRow *)key->rows->pdata[r])->class_name, FALSE);
    /* code every answer */
    g_autoptr(GArray) coded = g_array_new(FALSE, FALSE, sizeof(Coded));
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) workers = g_hash_table_new(g_str_hash, g_str_equal);
    const char *src = answers->path ? answers->path : "answers";
    for (guint i = 0; i < answers->answers->len; i++) {
        const PvxStudyAnswer *a = answers->answers->pdata[i];
        int row = GPOINTER_TO_INT(g_hash_table_lookup(row_of, a->task)) - 1;
        if (row < 0) {
            is->unknown_task++;
            pvx_study_issue_note(is, is->unknown_task,
                                 "%s:%d: task '%s' (worker '%s') is not "
                                 "in the key; left out",
                                 src, a->line, a->task, a->worker);
            continue;
        }
        g_autofree char *wt = g_strdup_printf("%s\x1f%s", a->worker, a->task);
        gpointer first = g_hash_table_lookup(seen, wt);
        if (first) {
            is->duplicate++;
            pvx_study_issue_note(is, is->duplicate,
                                 "%s:%d: worker '%s' answered task '%s' "
                                 "again (the answer on line %d is kept)",
                                 src, a->line, a->worker, a->task, GPOINTER_TO_INT(first));
            continue;
        }
        Coded c = {.row = row};
        gboolean ok;
        if (key->type == PVX_STUDY_PAIRWISE) {
            const double *v = pvx_study_coding_lookup(coding, a->value);
            ok = v != NULL;
            if (ok)
                c.v = *v;
        } else {
            c.cat = strv_index(an->classes, a->value, TRUE);
            if (c.cat < 0 && strv_index(coding->dont_know, a->value, TRUE) >= 0)
                c.cat = an->n_classes;
            ok = c.cat >= 0;
        }
        if (!ok) {
            is->uncoded++;
            gpointer n = g_hash_table_lookup(is->uncoded_values, a->value);
            g_hash_table_replace(is->uncoded_values, g_strdup(a->value),
                                 GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
            pvx_study_issue_note(is, is->uncoded,
                                 "%s:%d: worker '%s', task '%s': the answer "
                                 "'%s' has no code; left out",
                                 src, a->line, a->worker, a->task, a->value);
            continue;
        }
        g_hash_table_insert(seen, g_steal_pointer(&wt), GINT_TO_POINTER(MAX(a->line, 1)));
        gpointer w = g_hash_table_lookup(workers, a->worker);
        if (!w) {
            w = GINT_TO_POINTER(g_hash_table_size(workers) + 1);
            g_hash_table_insert(workers, a->worker, w);
        }
        c.worker = GPOINTER_TO_INT(w) - 1;
        g_array_append_val(coded, c);
    }
    is->used = (int)coded->len;
    an->answers = is->used;
    an->raters = (int)g_hash_table_size(workers);
    if (coded->len == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: no usable answer (%d read: %d rejected, %d empty, %d ambiguous, %d for "
                    "tasks not in %s, %d repeated, %d without a code)%s%s",
                    src, is->rows, is->rejected, is->empty, is->ambiguous, is->unknown_task,
                    key->path, is->duplicate, is->uncoded, is->notes->len ? "; first: " : "",
                    is->notes->len ? (char *)is->notes->pdata[0] : "");
        return NULL;
    }
    an->pairs = g_ptr_array_new_with_free_func((GDestroyNotify)pair_free);
    an->models = g_ptr_array_new_with_free_func((GDestroyNotify)model_free);
    if (key->type == PVX_STUDY_PAIRWISE) {
        an->n_values = coding->scale >= 3 ? (coding->scale - 1) / 2 : 0; /* K, see below */
        analyse_pairwise(an, key, coded, models, M, row_class);
    } else {
        analyse_identify(an, key, coded, models, M, row_class);
    }
    return g_steal_pointer(&an);
}
