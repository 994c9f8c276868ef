/* pvx — simulated raters: answers with a chosen preference and noise, written in Mechanical
 * Turk's batch results format; power by simulation. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx/random.h"
#include "pvx-private/study.h"
#include "study_private.h"

void pvx_study_sim_options_init(PvxStudySimOptions *o)
{
    memset(o, 0, sizeof *o);
    o->raters = 5;
    o->noise = 1.0;
    o->scale = 5;
    o->dont_know = 0.1;
    o->dont_know_label = "I do not know";
    o->seed = 1;
}

static double quality(const PvxStudySimOptions *o, const char *model, double fallback)
{
    const double *q = o->quality ? g_hash_table_lookup(o->quality, model) : NULL;
    return q ? *q : fallback;
}

PvxStudyAnswers *pvx_study_simulate(const PvxStudyKey *key, const PvxStudySimOptions *o,
                                    GError **error)
{
    g_return_val_if_fail(key && o, NULL);
    const int *codes = NULL;
    const char *const *labels = pvx_study_scale_labels(o->scale, &codes);
    if (key->type == PVX_STUDY_PAIRWISE && !labels) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "simulate: the scale must be 3, 5 or 7, got %d", o->scale);
        return NULL;
    }
    int W = o->workers > 0 ? o->workers : 4 * o->raters;
    if (o->raters < 1 || W < o->raters) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "simulate: %d raters per task need a pool of at least as many workers "
                    "(got %d)",
                    o->raters, W);
        return NULL;
    }
    /* one stream, drawn from in this order: worker ids, then for every key row its raters and
     * their answers */
    PvxRng rng;
    pvx_rng_init(&rng, pvx_hash64_str(o->seed, "simulate"));
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    g_auto(GStrv) workers = g_new0(char *, W + 1);
    for (int w = 0; w < W; w++) {
        char id[15] = "A";
        for (int k = 1; k < 14; k++)
            id[k] = alnum[pvx_rng_below(&rng, 36)];
        workers[w] = g_strdup(id);
    }
    /* classes a wrong answer is drawn from */
    g_autoptr(GPtrArray) classes = g_ptr_array_new();
    if (o->classes) {
        for (int i = 0; o->classes[i]; i++)
            g_ptr_array_add(classes, (gpointer)o->classes[i]);
    } else {
        for (guint r = 0; r < key->rows->len; r++) {
            const char *c = ((PvxStudyKeyRow *)key->rows->pdata[r])->class_name;
            gboolean seen = FALSE;
            for (guint k = 0; k < classes->len && !seen; k++)
                seen = strcmp(classes->pdata[k], c) == 0;
            if (!seen)
                g_ptr_array_add(classes, (gpointer)c);
        }
    }
    int K = (o->scale - 1) / 2;
    g_autofree int *pool = g_new(int, W);
    PvxStudyAnswers *out = pvx_study_answers_new();
    for (guint r = 0; r < key->rows->len; r++) {
        const PvxStudyKeyRow *k = key->rows->pdata[r];
        for (int w = 0; w < W; w++)
            pool[w] = w;
        pvx_rng_shuffle(&rng, pool, (gsize)W, sizeof(int), (gsize)o->raters);
        for (int a = 0; a < o->raters; a++) {
            const char *value;
            if (key->type == PVX_STUDY_PAIRWISE) {
                double d = quality(o, k->left, 0) - quality(o, k->right, 0) +
                           o->noise * pvx_rng_gaussian(&rng);
                int c = (int)CLAMP(lround(d), -K, K);
                value = labels[K - c]; /* labels run from +K down to −K */
                g_assert(codes[K - c] == c);
            } else {
                double q = CLAMP(quality(o, k->model, 0.85), 0, 1);
                double u = pvx_rng_uniform(&rng);
                if (u < q) {
                    value = k->class_name;
                } else if (u < q + o->dont_know || classes->len < 2) {
                    value = o->dont_know_label;
                } else {
                    const char *wrong;
                    do
                        wrong = classes->pdata[pvx_rng_below(&rng, classes->len)];
                    while (strcmp(wrong, k->class_name) == 0);
                    value = wrong;
                }
            }
            pvx_study_answers_add(out, workers[pool[a]], k->task_id, value, 0);
        }
    }
    return out;
}

/* A stable opaque id of MTurk's shape (30 upper-case hex-like characters) for @what. */
static char *fake_id(const char *prefix, const char *what)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, what, -1);
    char *id = g_strdup_printf("%s%.*s", prefix, 30 - (int)strlen(prefix), sum);
    for (char *p = id; *p; p++)
        *p = g_ascii_toupper(*p);
    return id;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

gboolean pvx_study_answers_write(const PvxStudyAnswers *answers, const PvxCsv *tasks,
                                 const char *field, const char *const *labels, gboolean one_hot,
                                 gboolean long_format, const char *path, GError **error)
{
    g_autoptr(GPtrArray) header = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    if (long_format) {
        g_ptr_array_add(header, g_strdup("worker_id"));
        g_ptr_array_add(header, g_strdup("task_id"));
        g_ptr_array_add(header, g_strdup("answer"));
        g_ptr_array_add(header, NULL);
        for (guint i = 0; i < answers->answers->len; i++) {
            const PvxStudyAnswer *a = answers->answers->pdata[i];
            char **r = g_new0(char *, 4);
            r[0] = g_strdup(a->worker);
            r[1] = g_strdup(a->task);
            r[2] = g_strdup(a->value);
            g_ptr_array_add(rows, r);
        }
        return pvx_csv_write(path, (const char *const *)header->pdata, rows, error);
    }
    static const char *const before[] = {
        "HITId",
        "HITTypeId",
        "Title",
        "Description",
        "Keywords",
        "Reward",
        "CreationTime",
        "MaxAssignments",
        "RequesterAnnotation",
        "AssignmentDurationInSeconds",
        "AutoApprovalDelayInSeconds",
        "Expiration",
        "NumberOfSimilarHITs",
        "LifetimeInSeconds",
        "AssignmentId",
        "WorkerId",
        "AssignmentStatus",
        "AcceptTime",
        "SubmitTime",
        "AutoApprovalTime",
        "ApprovalTime",
        "RejectionTime",
        "RequesterFeedback",
        "WorkTimeInSeconds",
        "LifetimeApprovalRate",
        "Last30DaysApprovalRate",
        "Last7DaysApprovalRate",
    };
    int nb = G_N_ELEMENTS(before);
    for (int i = 0; i < nb; i++)
        g_ptr_array_add(header, g_strdup(before[i]));
    int tcol = tasks ? pvx_csv_column(tasks, "task_id") : -1;
    if (tasks && tcol < 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: no column 'task_id'", tasks->name);
        return FALSE;
    }
    int ni = tasks ? tasks->n_cols : 1;
    for (int i = 0; i < ni; i++)
        g_ptr_array_add(header, g_strdup_printf("Input.%s", tasks ? tasks->header[i] : "task_id"));
    g_autoptr(GHashTable) task_row = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint r = 0; tasks && r < tasks->rows->len; r++)
        g_hash_table_insert(task_row, (gpointer)pvx_csv_get(tasks, r, tcol),
                            GUINT_TO_POINTER(r + 1));
    /* one-hot columns in lexicographic order, as MTurk's download has them */
    g_autoptr(GPtrArray) values = g_ptr_array_new();
    if (one_hot) {
        for (int i = 0; labels && labels[i]; i++)
            g_ptr_array_add(values, (gpointer)labels[i]);
        g_ptr_array_sort(values, cmp_str);
    }
    g_ptr_array_add(header, g_strdup("Answer.task_id"));
    int na = 1;
    if (one_hot) {
        for (guint v = 0; v < values->len; v++)
            g_ptr_array_add(header,
                            g_strdup_printf("Answer.%s.%s", field, (char *)values->pdata[v]));
        na += (int)values->len;
    } else {
        g_ptr_array_add(header, g_strdup_printf("Answer.%s", field));
        na++;
    }
    g_ptr_array_add(header, g_strdup("Approve"));
    g_ptr_array_add(header, g_strdup("Reject"));
    int n = (int)header->len;
    g_ptr_array_add(header, NULL);
    for (guint i = 0; i < answers->answers->len; i++) {
        const PvxStudyAnswer *a = answers->answers->pdata[i];
        char **r = g_new0(char *, n + 1);
        g_autofree char *wa = g_strdup_printf("%s/%s", a->worker, a->task);
        r[0] = fake_id("3", a->task);
        r[1] = fake_id("3PVX", "study");
        r[2] = g_strdup("Which explanation is more reasonable?");
        r[3] = g_strdup("pvx study (simulated raters)");
        r[4] = g_strdup("image, explanation");
        r[5] = g_strdup("$0.05");
        r[6] = g_strdup("Mon Jan 05 09:00:00 PST 2026");
        r[7] = g_strdup("5");
        r[8] = g_strdup("BatchId:0;OriginalHitTemplateId:0;");
        r[9] = g_strdup("3600");
        r[10] = g_strdup("259200");
        r[11] = g_strdup("Mon Jan 12 09:00:00 PST 2026");
        r[12] = g_strdup("");
        r[13] = g_strdup("604800");
        r[14] = fake_id("3A", wa);
        r[15] = g_strdup(a->worker);
        r[16] = g_strdup("Approved");
        r[17] = g_strdup("Mon Jan 05 10:00:00 PST 2026");
        r[18] = g_strdup("Mon Jan 05 10:00:42 PST 2026");
        r[19] = g_strdup("Thu Jan 08 10:00:42 PST 2026");
        r[20] = g_strdup("Tue Jan 06 08:00:00 PST 2026");
        r[21] = g_strdup("");
        r[22] = g_strdup("");
        r[23] = g_strdup("42");
        r[24] = g_strdup("0% (0/0)");
        r[25] = g_strdup("0% (0/0)");
        r[26] = g_strdup("0% (0/0)");
        guint tr = GPOINTER_TO_UINT(g_hash_table_lookup(task_row, a->task));
        for (int c = 0; c < ni; c++)
            r[nb + c] = g_strdup(tasks ? (tr          ? pvx_csv_get(tasks, tr - 1, c)
                                          : c == tcol ? a->task
                                                      : "")
                                       : a->task);
        int c0 = nb + ni;
        r[c0] = g_strdup(a->task);
        if (one_hot) {
            for (guint v = 0; v < values->len; v++)
                r[c0 + 1 + v] =
                    g_strdup(strcmp(values->pdata[v], a->value) == 0 ? "true" : "false");
        } else {
            r[c0 + 1] = g_strdup(a->value);
        }
        r[c0 + na] = g_strdup("");
        r[c0 + na + 1] = g_strdup("");
        g_ptr_array_add(rows, r);
    }
    return pvx_csv_write(path, (const char *const *)header->pdata, rows, error);
}

gboolean pvx_study_power(const PvxStudyKey *key, const PvxStudySimOptions *o,
                         const PvxStudyCoding *coding, const int *raters, int n_raters, int reps,
                         double level, double **power_out, char ***pairs_out, GError **error)
{
    g_return_val_if_fail(key && o && coding && raters && n_raters > 0 && reps > 0, FALSE);
    gboolean pairwise = key->type == PVX_STUDY_PAIRWISE;
    double *power = NULL;
    char **pairs = NULL;
    int P = 0;
    for (int ri = 0; ri < n_raters; ri++) {
        for (int rep = 0; rep < reps; rep++) {
            PvxStudySimOptions so = *o;
            so.raters = raters[ri];
            if (so.workers > 0 && so.workers < so.raters)
                so.workers = so.raters;
            /* one study per (rater count, repetition), every pair its own seed */
            so.seed = pvx_hash64(o->seed, (guint64)ri, (guint64)rep);
            g_autoptr(PvxStudyAnswers) a = pvx_study_simulate(key, &so, error);
            if (!a)
                goto fail;
            g_autoptr(PvxStudyAnalysis) an = pvx_study_analyse(key, a, coding, error);
            if (!an)
                goto fail;
            int M = (int)an->models->len;
            if (M < 2) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                            "power: %s has %d model; power compares models, it needs two or "
                            "more",
                            key->path ? key->path : "the key", M);
                goto fail;
            }
            if (!power) {
                P = pairwise ? (int)an->pairs->len : M * (M - 1) / 2;
                power = g_new0(double, (gsize)n_raters *MAX(P, 1));
                pairs = g_new0(char *, P + 1);
                for (int p = 0; pairwise && p < P; p++) {
                    const PvxStudyPair *pp = an->pairs->pdata[p];
                    pairs[p] = g_strdup_printf("%s vs %s", pp->a, pp->b);
                }
                for (int i = 0, p = 0; !pairwise && i < M; i++)
                    for (int k = i + 1; k < M; k++, p++)
                        pairs[p] = g_strdup_printf(
                            "%s vs %s", ((const PvxStudyModel *)an->models->pdata[i])->model,
                            ((const PvxStudyModel *)an->models->pdata[k])->model);
            }
            for (int p = 0; pairwise && p < P && p < (int)an->pairs->len; p++) {
                const PvxStudyPair *pp = an->pairs->pdata[p];
                if (isfinite(pp->p) && pp->p < level)
                    power[ri * P + p] += 1.0 / reps;
            }
            for (int i = 0, p = 0; !pairwise && i < M; i++) {
                for (int k = i + 1; k < M && p < P; k++, p++) {
                    const PvxStudyModel *a = an->models->pdata[i], *b = an->models->pdata[k];
                    double pv =
                        pvx_two_proportions_p(a->correct, a->answers, b->correct, b->answers);
                    if (isfinite(pv) && pv < level)
                        power[ri * P + p] += 1.0 / reps;
                }
            }
        }
    }
    *power_out = power;
    *pairs_out = pairs;
    return TRUE;
fail:
    g_free(power);
    g_strfreev(pairs);
    return FALSE;
}
