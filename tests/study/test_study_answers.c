/* CSV reading and writing (RFC 4180), Mechanical Turk results in both answer styles, the bad
 * inputs the analysis must count and name, and the analysis itself on answers with known
 * statistics (the paper's pair means → explainability indices, per-task standard deviations,
 * identify accuracy and confusion). */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/study.h"

static char *tmp_dir;

static char *write_tmp(const char *name, const char *text)
{
    char *path = g_build_filename(tmp_dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* ---- CSV ------------------------------------------------------------------------------------*/

static void csv_reads_quotes_commas_newlines_crlf_and_bom(void)
{
    const char *text = "\xEF\xBB\xBFid,text,n\r\n"
                       "1,\"a, b\",3\r\n"
                       "2,\"say \"\"hi\"\"\",4\r\n"
                       "3,\"two\r\nlines\",5\n"
                       "\n"
                       "4,,6";
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxCsv) csv = pvx_csv_parse(text, -1, "t.csv", &error);
    g_assert_no_error(error);
    g_assert_cmpint(csv->n_cols, ==, 3);
    g_assert_cmpstr(csv->header[0], ==, "id"); /* the BOM is not part of the name */
    g_assert_cmpuint(csv->rows->len, ==, 4);
    g_assert_cmpstr(pvx_csv_get(csv, 0, 1), ==, "a, b");
    g_assert_cmpstr(pvx_csv_get(csv, 1, 1), ==, "say \"hi\"");
    g_assert_cmpstr(pvx_csv_get(csv, 2, 1), ==, "two\r\nlines");
    g_assert_cmpstr(pvx_csv_get(csv, 3, 1), ==, "");
    g_assert_cmpint(g_array_index(csv->lines, int, 3), ==, 7); /* line 5 broke inside quotes */
    g_assert_cmpint(pvx_csv_column(csv, "n"), ==, 2);
    g_assert_cmpint(pvx_csv_column(csv, "missing"), ==, -1);
}

static void csv_errors_name_file_line_and_column(void)
{
    struct {
        const char *text, *want;
    } cases[] = {
        {"a,b\n1,2,3\n", "t.csv:2: the record has 3 fields, the header 2"},
        {"a,b\n1,\"x\n", "t.csv:2:3: the quoted field is never closed"},
        {"a,b\n1,\"x\"y\n", "t.csv:2:6: text after the closing quote"},
        {"a,b\n1,x\"y\n", "t.csv:2:4: a quote inside an unquoted field"},
        {"", "t.csv: empty file"},
        {"a,b\n\xff,1\n", "t.csv:2: not UTF-8"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxCsv) csv = pvx_csv_parse(cases[i].text, -1, "t.csv", &error);
        g_assert_null(csv);
        g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
        g_test_message("%s", error->message);
        if (!g_str_has_prefix(error->message, cases[i].want))
            g_error("case %zu: '%s' does not start with '%s'", i, error->message, cases[i].want);
    }
}

static void csv_writer_round_trips_awkward_fields(void)
{
    const char *header[] = {"a", "b", "c", NULL};
    const char *fields[] = {"plain", "with, comma", "quote \" and\nnewline"};
    const char *fields2[] = {" padded ", "", "ünïcode"};
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    g_ptr_array_add(rows,
                    g_strdupv((char **)(const char *[]){fields[0], fields[1], fields[2], NULL}));
    g_ptr_array_add(rows,
                    g_strdupv((char **)(const char *[]){fields2[0], fields2[1], fields2[2], NULL}));
    g_autofree char *path = g_build_filename(tmp_dir, "rt.csv", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_csv_write(path, header, rows, &error));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(
        g_str_has_prefix(text, "a,b,c\r\nplain,\"with, comma\",\"quote \"\" and\nnewline\"\r\n"));
    g_autoptr(PvxCsv) csv = pvx_csv_read(path, &error);
    g_assert_no_error(error);
    for (int c = 0; c < 3; c++) {
        g_assert_cmpstr(pvx_csv_get(csv, 0, c), ==, fields[c]);
        g_assert_cmpstr(pvx_csv_get(csv, 1, c), ==, fields2[c]);
    }
}

/* ---- answers --------------------------------------------------------------------------------*/

static const char *pair_key = "task_id,image_id,class,left,right\n"
                              "t1,test-1,dog,cr1,cr2\n"
                              "t2,test-2,fish,cr2,cr1\n"
                              "t3,test-3,dog,cr1,cr2\n";

/* Columns in another order than MTurk's, extra columns, Answer.* in lexicographic order. */
static const char *mturk_single =
    "Answer.choice,HITId,Input.task_id,AssignmentStatus,WorkerId,Answer.task_id,Approve\n"
    "cmr,H1,t1,Approved,W1,t1,\n"
    "smr,H1,t1,Submitted,W2,t1,\n"
    "clr,H2,t2,Approved,W1,t2,\n"
    "equal,H2,t2,Rejected,W3,t2,\n"
    "slr,H3,t3,Approved,W1,t3,\n"
    "EQUAL,H3,t3,Approved,W2,t3,\n";

/* The same answers as one-hot columns (True/false in mixed case). */
static const char *mturk_onehot =
    "HITId,WorkerId,AssignmentStatus,Input.task_id,Answer.choice.clr,Answer.choice.cmr,"
    "Answer.choice.equal,Answer.choice.slr,Answer.choice.smr\n"
    "H1,W1,Approved,t1,false,True,false,false,false\n"
    "H1,W2,Approved,t1,false,false,false,false,TRUE\n"
    "H2,W1,Approved,t2,true,false,false,false,false\n"
    "H2,W3,Rejected,t2,false,false,true,false,false\n"
    "H3,W1,Approved,t3,false,false,false,true,false\n"
    "H3,W2,Approved,t3,False,false,true,false,false\n";

static PvxStudyAnalysis *analyse_text(const char *key_text, const char *answers_text,
                                      const char *field, GError **error)
{
    g_autofree char *kp = write_tmp("key.csv", key_text);
    g_autofree char *ap = write_tmp("results.csv", answers_text);
    g_autoptr(PvxStudyKey) key = pvx_study_key_load(kp, error);
    if (!key)
        return NULL;
    g_autoptr(PvxStudyAnswers) a = pvx_study_answers_load(ap, field, NULL, error);
    if (!a)
        return NULL;
    PvxStudyCoding c;
    pvx_study_coding_init_defaults(&c);
    PvxStudyAnalysis *an = pvx_study_analyse(key, a, &c, error);
    pvx_study_coding_clear(&c);
    return an;
}

static void answers_single_and_one_hot_columns_give_the_same_analysis(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) a = analyse_text(pair_key, mturk_single, "choice", &error);
    g_assert_no_error(error);
    g_autoptr(PvxStudyAnalysis) b = analyse_text(pair_key, mturk_onehot, "choice", &error);
    g_assert_no_error(error);
    for (PvxStudyAnalysis *an = a; an; an = an == a ? b : NULL) {
        g_assert_cmpint(an->answers, ==, 5);
        g_assert_cmpint(an->issues.rejected, ==, 1);
        g_assert_cmpint(an->raters, ==, 2);
        g_assert_cmpuint(an->pairs->len, ==, 1);
        const PvxStudyPair *p = an->pairs->pdata[0];
        g_assert_cmpstr(p->a, ==, "cr1");
        /* from cr1's side: t1 +2, +1; t2 (cr2 left) clr −2 → +2; t3 −1, 0 */
        g_assert_cmpfloat(fabs(p->mean - 4.0 / 5), <, 1e-12);
        g_assert_cmpint(p->n_a, ==, 3);
        g_assert_cmpint(p->n_b, ==, 1);
        g_assert_cmpint(p->n_equal, ==, 1);
        g_assert_cmpfloat(fabs(p->a_preferred - 0.75), <, 1e-12);
        g_assert_cmpfloat(fabs(p->equal - 0.2), <, 1e-12);
        const PvxStudyModel *m1 = an->models->pdata[0], *m2 = an->models->pdata[1];
        g_assert_cmpfloat(fabs(m1->index - 0.8), <, 1e-12);
        g_assert_cmpfloat(fabs(m2->index + 0.8), <, 1e-12);
        g_assert_cmpfloat(m1->bt, >, m2->bt);
        /* t1 {2, 1} → 0.5, t2 one answer → none, t3 {−1, 0} → 0.5 */
        g_assert_cmpfloat(fabs(an->mean_task_std - 0.5), <, 1e-12);
        g_assert_true(isnan(an->task_std[1]));
    }
    g_autofree char *json = pvx_study_analysis_json(a);
    g_assert_nonnull(strstr(json, "\"a_preferred\": 0.75"));
    g_assert_nonnull(strstr(json, "\"rejected\": 1"));
}

static void answers_missing_columns_are_named(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) an =
        analyse_text(pair_key, "HITId,Answer.other\nH1,x\n", "choice", &error);
    g_assert_null(an);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "'WorkerId'"));
    g_assert_nonnull(strstr(error->message, "'Input.task_id'"));
    g_assert_nonnull(strstr(error->message, "'Answer.choice'"));
    g_assert_nonnull(strstr(error->message, "the file has: HITId, Answer.other"));
    g_clear_error(&error);
    /* a key without its columns */
    g_autofree char *kp = write_tmp("badkey.csv", "task_id,class\nt1,dog\n");
    g_autoptr(PvxStudyKey) key = pvx_study_key_load(kp, &error);
    g_assert_null(key);
    g_assert_nonnull(strstr(error->message, "'image_id'"));
    g_assert_nonnull(strstr(error->message, "'left'"));
}

static void answers_bad_rows_are_counted_and_reported(void)
{
    const char *text = "WorkerId,Input.task_id,Answer.choice\n"
                       "W1,t1,cmr\n"
                       "W1,t1,clr\n"   /* the same worker again */
                       "W2,t9,cmr\n"   /* no such task */
                       "W3,t1,maybe\n" /* no code */
                       "W4,t2,\n"      /* empty */
                       "W5,t3,alg1\n"; /* a code of another scale: still a code */
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) an = analyse_text(pair_key, text, "choice", &error);
    g_assert_no_error(error);
    const PvxStudyIssues *is = &an->issues;
    g_assert_cmpint(is->rows, ==, 6);
    g_assert_cmpint(is->used, ==, 2);
    g_assert_cmpint(is->duplicate, ==, 1);
    g_assert_cmpint(is->unknown_task, ==, 1);
    g_assert_cmpint(is->uncoded, ==, 1);
    g_assert_cmpint(is->empty, ==, 1);
    g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(is->uncoded_values, "maybe")), ==, 1);
    g_autoptr(GString) all = g_string_new(NULL);
    for (guint i = 0; i < is->notes->len; i++)
        g_string_append_printf(all, "%s\n", (char *)is->notes->pdata[i]);
    g_test_message("%s", all->str);
    g_assert_nonnull(strstr(all->str, "results.csv:3: worker 'W1' answered task 't1' again "
                                      "(the answer on line 2 is kept)"));
    g_assert_nonnull(strstr(all->str, "results.csv:4: task 't9'"));
    g_assert_nonnull(strstr(all->str, "'maybe' has no code"));
    g_autofree char *json = pvx_study_analysis_json(an);
    g_assert_nonnull(strstr(json, "\"maybe\": 1"));
    /* nothing usable: a clear error */
    g_clear_pointer(&an, pvx_study_analysis_free);
    an = analyse_text(pair_key, "WorkerId,Input.task_id,Answer.choice\nW1,t9,cmr\nW2,t1,?\n",
                      "choice", &error);
    g_assert_null(an);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "no usable answer"));
    g_assert_nonnull(strstr(error->message, "1 for tasks not in"));
}

static void answers_long_csv_and_custom_codes(void)
{
    g_autofree char *kp = write_tmp("key3.csv", pair_key);
    g_autofree char *ap = write_tmp("long.csv", "task_id,answer,worker_id\nt1,L,w1\nt2,L,w1\n"
                                                "t3,same,w1\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyKey) key = pvx_study_key_load(kp, &error);
    g_autoptr(PvxStudyAnswers) a = pvx_study_answers_load(ap, "choice", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(a->long_format);
    g_autofree char *ep = write_tmp("long-empty.csv", "worker_id,task_id,answer\nw1,t1,\n");
    g_autoptr(PvxStudyAnswers) e = pvx_study_answers_load(ep, "choice", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(e->issues.empty, ==, 1);
    g_assert_cmpuint(e->answers->len, ==, 0);
    PvxStudyCoding c;
    pvx_study_coding_init_defaults(&c);
    g_assert_false(pvx_study_coding_set_codes(&c, "L=1,R", &error));
    g_assert_nonnull(strstr(error->message, "'R'"));
    g_clear_error(&error);
    g_assert_true(pvx_study_coding_set_codes(&c, "{L: 1, same: 0, R: -1}", &error));
    g_autoptr(PvxStudyAnalysis) an = pvx_study_analyse(key, a, &c, &error);
    g_assert_no_error(error);
    const PvxStudyPair *p = an->pairs->pdata[0];
    g_assert_cmpint(p->n_a, ==, 1); /* t1: cr1 left */
    g_assert_cmpint(p->n_b, ==, 1); /* t2: cr2 left */
    g_assert_cmpint(p->n_equal, ==, 1);
    pvx_study_coding_clear(&c);
}

static void key_row_free(gpointer p)
{
    PvxStudyKeyRow *r = p;
    g_free(r->task_id);
    g_free(r->image_id);
    g_free(r->class_name);
    g_free(r->left);
    g_free(r->right);
    g_free(r->model);
    g_free(r);
}

/* The paper's Experiment 1: 4 models, 6 pairs × 500 tasks × 5 raters; answers chosen so that
 * each pair's mean is the published one. The explainability indices must follow. */
static void analysis_reproduces_paper_explainability_indices(void)
{
    const char *models[] = {"cr1", "cr2", "cr4", "cr8"};
    const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
    const double means[6] = {-0.0128, -0.0104, -0.0272, 0.0036, 0.0048, -0.0232};
    const char *labels[5] = {"clr", "slr", "equal", "smr", "cmr"}; /* code −2 .. +2 */
    g_autoptr(PvxStudyKey) key = g_new0(PvxStudyKey, 1);
    key->type = PVX_STUDY_PAIRWISE;
    key->path = g_strdup("paper-key");
    key->rows = g_ptr_array_new_with_free_func(key_row_free);
    key->by_task = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(PvxStudyAnswers) a = pvx_study_answers_new();
    GRand *rng = g_rand_new_with_seed(7);
    int t = 0;
    for (int p = 0; p < 6; p++) {
        /* sum of 2500 codes from the first model's side = mean · 2500 (an integer) */
        int target = (int)lround(means[p] * 2500);
        int sum = 0;
        int *codes = g_new(int, 2500);
        for (int i = 0; i < 2500; i++) {
            codes[i] = g_rand_int_range(rng, -2, 3);
            sum += codes[i];
        }
        for (int i = 0; sum != target; i = (i + 1) % 2500) {
            if (sum > target && codes[i] > -2) {
                codes[i]--;
                sum--;
            } else if (sum < target && codes[i] < 2) {
                codes[i]++;
                sum++;
            }
        }
        for (int task = 0; task < 500; task++, t++) {
            PvxStudyKeyRow *row = g_new0(PvxStudyKeyRow, 1);
            row->task_id = g_strdup_printf("t%d", t);
            row->image_id = g_strdup_printf("img%d", task);
            row->class_name = g_strdup(task % 2 ? "dog" : "fish");
            gboolean swap = g_rand_boolean(rng);
            row->left = g_strdup(models[pairs[p][swap]]);
            row->right = g_strdup(models[pairs[p][!swap]]);
            g_ptr_array_add(key->rows, row);
            g_hash_table_insert(key->by_task, row->task_id, row);
            for (int r = 0; r < 5; r++) {
                int c = codes[task * 5 + r] * (swap ? -1 : 1); /* from the left side */
                g_autofree char *w = g_strdup_printf("W%d", g_rand_int_range(rng, 0, 60));
                g_autofree char *wunique = g_strdup_printf("%s-%d", w, r);
                pvx_study_answers_add(a, wunique, row->task_id, labels[c + 2], 0);
            }
        }
        g_free(codes);
    }
    g_rand_free(rng);
    PvxStudyCoding c;
    pvx_study_coding_init_defaults(&c);
    c.scale = 5;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) an = pvx_study_analyse(key, a, &c, &error);
    g_assert_no_error(error);
    g_assert_cmpint(an->answers, ==, 15000);
    g_assert_cmpint(an->n_values, ==, 5);
    for (int p = 0; p < 6; p++) {
        const PvxStudyPair *pp = an->pairs->pdata[p];
        g_assert_cmpstr(pp->a, ==, models[pairs[p][0]]);
        g_assert_cmpstr(pp->b, ==, models[pairs[p][1]]);
        printf("# pair %s v %s mean %+.4f (paper %+.4f)\n", pp->a, pp->b, pp->mean, means[p]);
        g_assert_cmpfloat(fabs(pp->mean - means[p]), <, 1e-12);
    }
    const double index[4] = {-0.0168, 0.0071, -0.0055, 0.0152};
    const double exact[4] = {-126.0 / 7500, 53.0 / 7500, -41.0 / 7500, 114.0 / 7500};
    for (int m = 0; m < 4; m++) {
        const PvxStudyModel *pm = an->models->pdata[m];
        printf("# explainability index %s %+.5f (paper %+.4f)\n", pm->model, pm->index, index[m]);
        g_assert_cmpfloat(fabs(pm->index - exact[m]), <, 1e-12);
        g_assert_cmpfloat(fabs(pm->index - index[m]), <, 5e-5);
        g_assert_cmpint(pm->answers, ==, 7500);
    }
    pvx_study_coding_clear(&c);
}

/* Answers per option as in the paper's agreement examples, one task each. */
static void analysis_task_std_matches_paper_examples(void)
{
    const int per_option[5][5] = {
        {0, 0, 0, 0, 5}, {0, 0, 0, 1, 4}, {0, 1, 1, 2, 1}, {1, 1, 1, 1, 1}, {2, 0, 0, 0, 3}};
    const double want[5] = {0, 0.4, 1.0198, G_SQRT2, 1.9596};
    const char *labels[5] = {"cmr", "smr", "equal", "slr", "clr"};
    GString *key = g_string_new("task_id,image_id,class,left,right\n");
    GString *res = g_string_new("WorkerId,Input.task_id,Answer.choice\n");
    for (int e = 0; e < 5; e++) {
        g_string_append_printf(key, "t%d,i%d,dog,cr1,cr2\n", e, e);
        int w = 0;
        for (int o = 0; o < 5; o++)
            for (int k = 0; k < per_option[e][o]; k++)
                g_string_append_printf(res, "W%d,t%d,%s\n", w++, e, labels[o]);
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) an = analyse_text(key->str, res->str, "choice", &error);
    g_assert_no_error(error);
    double mean = 0;
    for (int e = 0; e < 5; e++) {
        printf("# task std t%d %.4f (paper %.4f)\n", e, an->task_std[e], want[e]);
        g_assert_cmpfloat(fabs(an->task_std[e] - want[e]), <, 5e-5);
        mean += an->task_std[e] / 5;
    }
    g_assert_cmpfloat(fabs(an->mean_task_std - mean), <, 1e-12);
    g_string_free(key, TRUE);
    g_string_free(res, TRUE);
}

static void analysis_identify_accuracy_and_confusion(void)
{
    const char *key = "task_id,image_id,class,model\n"
                      "t1,i1,dog,cr1\nt2,i1,dog,cr2\nt3,i2,fish,cr1\nt4,i2,fish,cr2\n";
    const char *res = "WorkerId,Input.task_id,Answer.category.label\n"
                      "A,t1,dog\nB,t1,dog\nC,t1,fish\n"
                      "A,t2,dog\nB,t2,I do not know\nC,t2,dog\n"
                      "A,t3,fish\nB,t3,fish\nC,t3,FISH\n"
                      "A,t4,dog\nB,t4,I do not know\nC,t4,cat\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnalysis) an = analyse_text(key, res, "category.label", &error);
    g_assert_no_error(error);
    g_assert_cmpint(an->type, ==, PVX_STUDY_IDENTIFY);
    g_assert_cmpint(an->answers, ==, 11);
    g_assert_cmpint(an->issues.uncoded, ==, 1); /* "cat" is no class here */
    g_assert_cmpstr(an->classes[0], ==, "dog");
    const PvxStudyModel *m1 = an->models->pdata[0], *m2 = an->models->pdata[1];
    g_assert_cmpstr(m1->model, ==, "cr1");
    g_assert_cmpfloat(fabs(m1->accuracy - 5.0 / 6), <, 1e-12);
    g_assert_cmpfloat(fabs(m1->error_rate - 1.0 / 6), <, 1e-12);
    g_assert_cmpfloat(fabs(m1->indecisive), <, 1e-12);
    g_assert_cmpfloat(fabs(m2->accuracy - 2.0 / 5), <, 1e-12);
    g_assert_cmpfloat(fabs(m2->error_rate - 1.0 / 5), <, 1e-12);
    g_assert_cmpfloat(fabs(m2->indecisive - 2.0 / 5), <, 1e-12);
    /* confusion rows = true class, columns dog, fish, don't know */
    const double want2[] = {2, 0, 1, 1, 0, 1};
    for (int i = 0; i < 6; i++)
        g_assert_cmpfloat(m2->confusion[i], ==, want2[i]);
    g_assert_cmpint(m2->class_correct[0], ==, 2);
    g_assert_cmpint(m2->class_wrong[1], ==, 1);
    /* α nominal over cr1's tasks: units {dog, dog, fish}, {fish ×3} */
    const double counts[] = {2, 1, 0, 0, 3, 0};
    g_assert_cmpfloat(
        fabs(m1->alpha_nominal - pvx_krippendorff_alpha(counts, 2, 3, NULL, PVX_ALPHA_NOMINAL)), <,
        1e-12);
    g_autofree char *out = g_build_filename(tmp_dir, "identify-out", NULL);
    g_assert_true(pvx_study_analysis_write(an, out, &error));
    g_assert_no_error(error);
    const char *files[] = {"summary.json",      "models.csv",        "per_class.csv",
                           "confusion_cr1.csv", "confusion_cr2.png", "identify_rates.png",
                           "issues.txt"};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(out, files[i], NULL);
        if (!g_file_test(p, G_FILE_TEST_IS_REGULAR))
            g_error("%s was not written", p);
    }
    g_autofree char *cp = g_build_filename(out, "confusion_cr2.csv", NULL);
    g_autoptr(PvxCsv) conf = pvx_csv_read(cp, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(conf->header[3], ==, "dont_know");
    g_assert_cmpstr(pvx_csv_get(conf, 1, 3), ==, "1");
}

/* A separate study file: the `study` section of the experiment schema, checked as strictly. */
static void designs_load_reads_a_study_file_strictly(void)
{
    g_autofree char *ok = write_tmp(
        "study.yaml", "study:\n"
                      "  base_url: https://x.org/s\n"
                      "  designs:\n"
                      "    - {name: pre, scale: 3, models: [1, 2, 32], pairs: reference}\n"
                      "    - {name: exp2, type: identify, models: [1, 8], per_class: 50}\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) d = pvx_study_designs_load(ok, 17, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(d->len, ==, 2);
    const PvxStudyDesign *pre = &g_array_index(d, PvxStudyDesign, 0);
    const PvxStudyDesign *ex2 = &g_array_index(d, PvxStudyDesign, 1);
    g_assert_cmpstr(pre->name, ==, "pre");
    g_assert_cmpint(pre->scale, ==, 3);
    g_assert_cmpint(pre->n_models, ==, 3);
    g_assert_true(pre->pairs_reference);
    g_assert_cmpint(pre->reference, ==, 1);
    g_assert_false(pre->occlusion);
    g_assert_cmpuint(pre->seed, ==, 17);
    g_assert_cmpstr(pre->base_url, ==, "https://x.org/s");
    g_assert_cmpint(ex2->type, ==, PVX_STUDY_IDENTIFY);
    g_assert_true(ex2->occlusion); /* identify shows occlusion maps by default */
    g_assert_cmpint(ex2->per_class, ==, 50);
    /* the paper's designs as shipped */
    g_autoptr(GArray) paper =
        pvx_study_designs_load(PVX_TEST_SOURCE_ROOT "/configs/study-paper.yaml", 1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(paper->len, ==, 4);
    g_assert_cmpint(g_array_index(paper, PvxStudyDesign, 1).scale, ==, 3);
    g_assert_true(g_array_index(paper, PvxStudyDesign, 1).occlusion);
    g_assert_cmpint(g_array_index(paper, PvxStudyDesign, 2).n_models, ==, 4);
    g_assert_cmpint(g_array_index(paper, PvxStudyDesign, 3).type, ==, PVX_STUDY_IDENTIFY);
    struct {
        const char *text, *want;
    } bad[] = {
        {"study:\n  designs:\n    - {name: a, scal: 3}\n", "bad.yaml:3:17: unknown key 'scal'"},
        {"study:\n  designs:\n    - {name: a, scale: 4}\n", "'scale' must be 3, 5 or 7"},
        {"study:\n  designs:\n    - {name: a, models: [2, 4], pairs: reference}\n",
         "the reference CR 1 is not among"},
        {"study:\n  designs:\n    - {name: a}\n    - {name: a}\n", "two designs are called 'a'"},
        {"study:\n  designs:\n    - {name: a/b}\n", "a design name is a folder name"},
        {"study:\n  designs:\n    - {name: a, models: [1]}\n", "at least 2 models"},
        {"designs: []\n", "unknown key 'designs' at the top level"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *p = write_tmp("bad.yaml", bad[i].text);
        g_autoptr(GError) e = NULL;
        g_autoptr(GArray) none = pvx_study_designs_load(p, 0, &e);
        g_assert_null(none);
        g_assert_nonnull(e);
        g_test_message("%s", e->message);
        if (!strstr(e->message, bad[i].want))
            g_error("case %zu: '%s' lacks '%s'", i, e->message, bad[i].want);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("pvx-study-answers-XXXXXX", NULL);
    g_test_add_func("/study-answers/csv_reads_quotes_commas_newlines_crlf_and_bom",
                    csv_reads_quotes_commas_newlines_crlf_and_bom);
    g_test_add_func("/study-answers/csv_errors_name_file_line_and_column",
                    csv_errors_name_file_line_and_column);
    g_test_add_func("/study-answers/csv_writer_round_trips_awkward_fields",
                    csv_writer_round_trips_awkward_fields);
    g_test_add_func("/study-answers/single_and_one_hot_columns_give_the_same_analysis",
                    answers_single_and_one_hot_columns_give_the_same_analysis);
    g_test_add_func("/study-answers/missing_columns_are_named", answers_missing_columns_are_named);
    g_test_add_func("/study-answers/bad_rows_are_counted_and_reported",
                    answers_bad_rows_are_counted_and_reported);
    g_test_add_func("/study-answers/long_csv_and_custom_codes", answers_long_csv_and_custom_codes);
    g_test_add_func("/study-answers/analysis_reproduces_paper_explainability_indices",
                    analysis_reproduces_paper_explainability_indices);
    g_test_add_func("/study-answers/analysis_task_std_matches_paper_examples",
                    analysis_task_std_matches_paper_examples);
    g_test_add_func("/study-answers/analysis_identify_accuracy_and_confusion",
                    analysis_identify_accuracy_and_confusion);
    g_test_add_func("/study-answers/designs_load_reads_a_study_file_strictly",
                    designs_load_reads_a_study_file_strictly);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        g_warning("could not remove %s", tmp_dir);
    return rc;
}
