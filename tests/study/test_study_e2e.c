/* End to end on a real run: a small vgg-mini trained for four epochs on 2400 Fashion-MNIST images
 * (CR 1), hand-pruned copies (CR 2, CR 4), Grad-CAM maps from the explain stage; the study stage
 * exports a pairwise and an identify design; simulated raters with a known preference answer in
 * Mechanical Turk's format; the analysis recovers the preference. The same through the pvx command
 * line, with its exit codes. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvx-private/core.h"
#include "pvx-private/study.h"

static char *out_dir;

static const char *config_text =
    "name: study-test\n"
    "seed: 3\n"
    "output: %s\n"
    "dataset:\n"
    "  plugin: idx\n"
    "  params: {root: /usr/share/datasets/fashion-mnist, limit_train: 2400, limit_test: 200}\n"
    "model:\n"
    "  plugin: vgg\n"
    "  params: {arch: vgg-mini, channels: [16, -1, 32, -1], hidden: 64, batch_norm: true,\n"
    "           avgpool: 3, dropout: 0, seed: 2}\n"
    "train: {epochs: 4, batch_size: 32, lr: 0.05, schedule: constant, prefetch: false}\n"
    "explain:\n"
    "  selection: per_class\n"
    "  per_class: 8\n"
    "  batch_size: 25\n"
    "  pngs: false\n"
    "  methods:\n"
    "    - plugin: gradcam\n"
    "study:\n"
    "  base_url: https://example.org/pvx/\n"
    "  display_size: 56\n"
    "  designs:\n"
    "    - name: likert\n"
    "      models: [1, 2, 4]\n"
    "      scale: 5\n"
    "      raters: 5\n"
    "    - name: ident\n"
    "      type: identify\n"
    "      models: [1, 2]\n"
    "      per_class: 2\n";

static PvxRegistry *registry(void)
{
    static PvxRegistry *reg;
    if (!reg) {
        reg = pvx_registry_new();
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) failures =
            g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
        if (!pvx_registry_scan_dir(reg, PVX_TEST_BUILD_ROOT "/plugins", failures, &e))
            g_error("cannot scan plugins: %s", e->message);
    }
    return reg;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Keeps the larger-magnitude 1/k of every conv layer's weights (local magnitude pruning). */
static void prune_model(PvxModel *model, int k)
{
    for (int i = 0; i < pvx_model_n_layers(model); i++) {
        PvxLayer *l = pvx_model_layer(model, i);
        if (l->type != PVX_LAYER_CONV2D)
            continue;
        int64_t n = pvx_tensor_numel(l->weight);
        g_autofree float *sorted = g_new(float, n);
        for (int64_t j = 0; j < n; j++)
            sorted[j] = fabsf(l->weight->data[j]);
        qsort(sorted, n, sizeof(float), cmp_float);
        float thr = sorted[n - n / k];
        g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
        for (int64_t j = 0; j < n; j++)
            mask->data[j] = fabsf(l->weight->data[j]) >= thr ? 1.0f : 0.0f;
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_model_set_mask(model, l->name, mask, &error));
    }
}

typedef struct {
    PvxConfig *cfg;
    PvxRun *run;
    PvxDataset *ds;
    PvxModel *model;
} Fixture;

static Fixture fx;

/* The stages print their one-line summaries on stdout, which here carries the TAP stream: while
 * they run, stdout goes to /dev/null (silenced_stdout_end restores it). */
static int silenced_stdout_begin(void)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    g_assert_cmpint(saved, >=, 0);
    g_assert_cmpint(null, >=, 0);
    dup2(null, STDOUT_FILENO);
    close(null);
    return saved;
}

static void silenced_stdout_end(int saved)
{
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

static void build_run(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strdup_printf(config_text, out_dir);
    fx.cfg = pvx_config_load_string(text, "study.yaml", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(fx.cfg, registry(), NULL, &error));
    g_assert_no_error(error);
    fx.run = pvx_run_create(fx.cfg, registry(), "run", &error);
    g_assert_no_error(error);
    const PvxParams *dp = NULL;
    const PvxPlugin *dpl = pvx_config_plugin(fx.cfg, "dataset", 0, &dp);
    fx.ds = pvx_dataset_open(dpl, dp, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_run_stage_begin(fx.run, "dataset", &error) &&
                  pvx_run_record_dataset(fx.run, fx.ds, &error) &&
                  pvx_run_stage_end(fx.run, &error));
    fx.model = pvx_stage_build_model(fx.run, registry(), fx.ds, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_stage_train(fx.run, fx.ds, fx.model, &error));
    g_assert_no_error(error);
    g_assert_true(pvx_run_stage_begin(fx.run, "fake-prune", &error));
    PvxStore *s = pvx_run_store(fx.run);
    for (int k = 2; k <= 4; k *= 2) {
        g_assert_true(pvx_model_load_weights(fx.model, s, "/models/cr1/weights", &error));
        prune_model(fx.model, k);
        g_autofree char *w = g_strdup_printf("/models/cr%d/weights", k);
        g_autofree char *m = g_strdup_printf("/models/cr%d/masks", k);
        g_assert_true(pvx_model_save_weights(fx.model, s, w, &error));
        g_assert_true(pvx_model_save_masks(fx.model, s, m, &error));
        for (int i = 0; i < pvx_model_n_layers(fx.model); i++) {
            PvxLayer *l = pvx_model_layer(fx.model, i);
            if (l->mask)
                g_assert_true(pvx_model_set_mask(fx.model, l->name, NULL, &error));
        }
    }
    g_assert_true(pvx_run_stage_end(fx.run, &error));
    g_assert_no_error(error);
    const int crs[] = {1, 2, 4};
    g_assert_true(pvx_stage_explain(fx.run, registry(), fx.ds, fx.model, crs, 3, &error));
    g_assert_no_error(error);
}

/* "cr2" < "cr4" by the number after "cr". */
static int label_cmp(const char *a, const char *b)
{
    return atoi(a + 2) - atoi(b + 2);
}

static char *read_text(const char *a, const char *b, const char *c)
{
    g_autofree char *p = g_build_filename(a, b, c, NULL);
    char *text = NULL;
    if (!g_file_get_contents(p, &text, NULL, NULL))
        g_error("cannot read %s", p);
    return text;
}

/* id → class the CR explains (its prediction) */
static GHashTable *predictions(int cr)
{
    PvxStore *s = pvx_run_store(fx.run);
    g_autoptr(GError) error = NULL;
    g_autofree char *tp = g_strdup_printf("/maps/gradcam/cr%d/target", cr);
    g_autofree char *ip = g_strdup_printf("/maps/gradcam/cr%d/ids", cr);
    int nd;
    int64_t shape[8];
    g_autofree int64_t *t = pvx_store_read_i64(s, tp, &nd, shape, &error);
    g_auto(GStrv) ids = pvx_store_read_strings(s, ip, &error);
    g_assert_no_error(error);
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int64_t i = 0; i < shape[0]; i++)
        g_hash_table_insert(h, g_strdup(ids[i]), GINT_TO_POINTER((int)t[i] + 1));
    return h;
}

static void stage_exports_opaque_tasks_key_and_layout(void)
{
    g_autoptr(GError) error = NULL;
    int saved = silenced_stdout_begin();
    gboolean ok = pvx_stage_study(fx.run, registry(), fx.ds, &error);
    silenced_stdout_end(saved);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_assert_true(pvx_run_stage_finished(fx.run, "study"));
    g_autofree char *dir = g_build_filename(pvx_run_dir(fx.run), "study", "likert", NULL);
    g_autofree char *kp = g_build_filename(dir, "key.csv", NULL);
    g_autofree char *tp = g_build_filename(dir, "upload", "tasks.csv", NULL);
    g_autoptr(PvxCsv) key = pvx_csv_read(kp, &error);
    g_assert_no_error(error);
    g_autoptr(PvxCsv) tasks = pvx_csv_read(tp, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(key->rows->len, ==, tasks->rows->len);
    guint images = key->rows->len / 3; /* three pairs per image */
    g_test_message("likert: %u images, %u tasks", images, key->rows->len);
    printf("# likert: %u images eligible of 80, %u tasks\n", images, key->rows->len);
    g_assert_cmpuint(images, >=, 4);
    g_assert_cmpuint(key->rows->len % 3, ==, 0);
    /* the layout uses exactly the tasks.csv columns */
    g_autofree char *html = read_text(dir, "upload", "layout.html");
    g_assert_nonnull(strstr(html, "crowd-form"));
    g_autoptr(GRegex) re = g_regex_new("\\$\\{(\\w+)\\}", 0, 0, NULL);
    g_autoptr(GMatchInfo) mi = NULL;
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_regex_match(re, html, 0, &mi);
    while (g_match_info_matches(mi)) {
        char *v = g_match_info_fetch(mi, 1);
        if (pvx_csv_column(tasks, v) < 0)
            g_error("layout.html uses ${%s}, tasks.csv has no such column", v);
        g_hash_table_add(used, v);
        g_match_info_next(mi, NULL);
    }
    for (int c = 0; c < tasks->n_cols; c++)
        g_assert_true(g_hash_table_contains(used, tasks->header[c]));
    for (const char *const *l = pvx_study_scale_labels(5, NULL); *l; l++) {
        g_autofree char *v = g_strdup_printf("value=\"%s\"", *l);
        g_assert_nonnull(strstr(html, v));
    }
    /* raters cannot tell models or images apart by name */
    g_autofree char *tasks_text = read_text(dir, "upload", "tasks.csv");
    g_assert_null(strstr(tasks_text, "cr1"));
    g_assert_null(strstr(tasks_text, "cr2"));
    g_assert_null(strstr(tasks_text, "test-"));
    g_autoptr(GRegex) url =
        g_regex_new("^https://example\\.org/pvx/images/[0-9a-f]{16}\\.png$", 0, 0, NULL);
    int lc = pvx_csv_column(tasks, "left_url");
    g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint r = 0; r < tasks->rows->len; r++)
        for (int c = 1; c <= 3; c++) {
            const char *u = pvx_csv_get(tasks, r, c);
            if (!g_regex_match(url, u, 0, NULL))
                g_error("not an opaque URL: %s", u);
            g_hash_table_add(files, (gpointer)u);
        }
    g_assert_cmpuint(g_hash_table_size(files), ==, images * 4); /* original + 3 maps */
    g_autofree char *one = g_build_filename(dir, "upload", "images",
                                            strrchr(pvx_csv_get(tasks, 0, lc), '/') + 1, NULL);
    g_autoptr(PvxImage) img = pvx_image_load(one, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 56); /* 28 px enlarged to display_size */
    /* the key: every image classified correctly by all three models; sides drawn at random */
    GHashTable *pred[3] = {predictions(1), predictions(2), predictions(4)};
    int ti = pvx_csv_column(key, "task_id"), ii = pvx_csv_column(key, "image_id");
    int ci = pvx_csv_column(key, "class"), li = pvx_csv_column(key, "left");
    int left_first = 0;
    for (guint r = 0; r < key->rows->len; r++) {
        g_assert_cmpstr(pvx_csv_get(key, r, ti), ==, pvx_csv_get(tasks, r, 0));
        const char *cls = pvx_csv_get(key, r, ci);
        g_assert_cmpstr(pvx_csv_get(tasks, r, pvx_csv_column(tasks, "class_name")), ==, cls);
        for (int m = 0; m < 3; m++) {
            int p = GPOINTER_TO_INT(g_hash_table_lookup(pred[m], pvx_csv_get(key, r, ii))) - 1;
            g_assert_cmpint(p, >=, 0);
            g_assert_cmpstr(pvx_dataset_class_name(fx.ds, p), ==, cls);
        }
        const char *l = pvx_csv_get(key, r, li), *rr = pvx_csv_get(key, r, li + 1);
        left_first += label_cmp(l, rr) < 0;
    }
    for (int m = 0; m < 3; m++)
        g_hash_table_destroy(pred[m]);
    g_test_message("lower CR on the left in %d of %u tasks", left_first, key->rows->len);
    g_assert_cmpint(left_first, >, 0);
    g_assert_cmpint(left_first, <, (int)key->rows->len);
    /* stored in the run */
    PvxStore *s = pvx_run_store(fx.run);
    g_auto(GStrv) stored = pvx_store_read_strings(s, "/study/likert/key/left", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(stored), ==, key->rows->len);
    g_auto(GStrv) urls = pvx_store_read_strings(s, "/study/ident/tasks/image_url", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(urls) % 2, ==, 0); /* two models per image */
    g_autofree char *type = pvx_store_get_attr_string(s, "/study/ident", "type", &error);
    g_assert_cmpstr(type, ==, "identify");
    /* identify: occlusion maps by default, at most 2 per class, crowd-classifier layout */
    g_autofree char *design = read_text(pvx_run_dir(fx.run), "study", "ident/design.yaml");
    g_assert_nonnull(strstr(design, "rendering: occlusion"));
    g_autofree char *ihtml = read_text(pvx_run_dir(fx.run), "study", "ident/upload/layout.html");
    g_assert_nonnull(strstr(ihtml, "crowd-classifier"));
    g_assert_nonnull(strstr(ihtml, "${image_url}"));
    g_assert_nonnull(strstr(ihtml, "'Ankle boot', 'I do not know']"));
    g_assert_cmpuint(g_strv_length(urls), <=, 2 * 2 * 10);
    /* the resolved config stored in the run (what --resume reads) holds the same designs */
    g_autofree char *resolved = pvx_run_read_config(pvx_run_dir(fx.run), &error);
    g_assert_no_error(error);
    g_autoptr(PvxConfig) back = pvx_config_load_string(resolved, "resolved", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(back, registry(), NULL, &error));
    g_autoptr(GArray) back_designs = pvx_study_designs_from_config(back, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(back_designs->len, ==, 2);
    g_assert_cmpstr(g_array_index(back_designs, PvxStudyDesign, 1).name, ==, "ident");
    g_assert_cmpint(g_array_index(back_designs, PvxStudyDesign, 1).per_class, ==, 2);
    /* the same seed gives the same study */
    g_autoptr(GArray) designs = pvx_study_designs_from_config(fx.cfg, &error);
    g_autofree char *again = g_build_filename(out_dir, "again", NULL);
    g_autoptr(PvxStudyExport) ex = pvx_study_export(
        s, fx.cfg, fx.ds, &g_array_index(designs, PvxStudyDesign, 0), again, &error);
    g_assert_no_error(error);
    g_autofree char *k1 = read_text(dir, "key.csv", NULL);
    g_autofree char *k2 = read_text(again, "likert", "key.csv");
    g_autofree char *t2 = read_text(again, "likert", "upload/tasks.csv");
    g_assert_cmpstr(k1, ==, k2);
    g_assert_cmpstr(tasks_text, ==, t2);
}

static void simulated_preference_is_recovered(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(pvx_run_dir(fx.run), "study", "likert", NULL);
    g_autofree char *kp = g_build_filename(dir, "key.csv", NULL);
    g_autofree char *dp = g_build_filename(dir, "design.yaml", NULL);
    g_autofree char *tp = g_build_filename(dir, "upload", "tasks.csv", NULL);
    g_autoptr(PvxStudyKey) key = pvx_study_key_load(kp, &error);
    g_assert_no_error(error);
    g_autoptr(PvxCsv) tasks = pvx_csv_read(tp, &error);
    PvxStudyCoding coding;
    pvx_study_coding_init_defaults(&coding);
    g_autofree char *field = NULL;
    int raters = 0;
    g_assert_true(pvx_study_coding_load_design(&coding, dp, &field, &raters, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(field, ==, "choice");
    g_assert_cmpint(coding.scale, ==, 5);
    g_assert_cmpint(raters, ==, 5);
    PvxStudySimOptions o;
    pvx_study_sim_options_init(&o);
    o.raters = raters;
    o.noise = 0.8;
    o.seed = 11;
    g_autoptr(GHashTable) q = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    const char *models[] = {"cr1", "cr2", "cr4"};
    const double qual[] = {0.0, 0.7, -0.7};
    for (int m = 0; m < 3; m++)
        g_hash_table_insert(q, (gpointer)models[m], g_memdup2(&qual[m], sizeof(double)));
    o.quality = q;
    g_autoptr(PvxStudyAnswers) sim = pvx_study_simulate(key, &o, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sim->answers->len, ==, 5 * key->rows->len);
    const char *const *labels = pvx_study_scale_labels(5, NULL);
    for (int one_hot = 0; one_hot <= 1; one_hot++) {
        g_autofree char *rp =
            g_build_filename(out_dir, one_hot ? "onehot.csv" : "single.csv", NULL);
        g_assert_true(
            pvx_study_answers_write(sim, tasks, field, labels, one_hot, FALSE, rp, &error));
        g_assert_no_error(error);
        g_autoptr(PvxStudyAnswers) a = pvx_study_answers_load(rp, field, NULL, &error);
        g_assert_no_error(error);
        g_autoptr(PvxStudyAnalysis) an = pvx_study_analyse(key, a, &coding, &error);
        g_assert_no_error(error);
        g_assert_cmpint(an->answers, ==, (int)sim->answers->len);
        g_assert_cmpint(an->issues.used, ==, an->issues.rows);
        const PvxStudyModel *m1 = an->models->pdata[0], *m2 = an->models->pdata[1],
                            *m4 = an->models->pdata[2];
        g_assert_cmpstr(m4->model, ==, "cr4");
        printf("# %s: index cr1 %+.3f cr2 %+.3f cr4 %+.3f; BT %+.3f [%+.3f, %+.3f] / %+.3f / "
               "%+.3f; alpha ordinal %.3f\n",
               one_hot ? "one-hot" : "single", m1->index, m2->index, m4->index, m1->bt, m1->bt_lo,
               m1->bt_hi, m2->bt, m4->bt, an->alpha[1]);
        g_assert_cmpfloat(m2->index, >, m1->index);
        g_assert_cmpfloat(m1->index, >, m4->index);
        g_assert_cmpfloat(m2->bt_lo, >, m1->bt_hi); /* cr2 clearly better than cr1 */
        g_assert_cmpfloat(m1->bt_lo, >, m4->bt_hi);
        for (guint p = 0; p < an->pairs->len; p++) {
            const PvxStudyPair *pp = an->pairs->pdata[p];
            double want =
                (strcmp(pp->a, "cr1") == 0 ? 0 : 0.7) - (strcmp(pp->b, "cr2") == 0   ? 0.7
                                                         : strcmp(pp->b, "cr4") == 0 ? -0.7
                                                                                     : 0);
            printf("#   %s v %s: mean %+.3f (latent %+.2f), p %.2g\n", pp->a, pp->b, pp->mean, want,
                   pp->p);
            g_assert_cmpfloat(pp->mean * want, >, 0); /* the sign is recovered */
            g_assert_cmpfloat(pp->p, <, 0.01);
        }
        g_autofree char *adir = g_build_filename(out_dir, one_hot ? "an-onehot" : "an", NULL);
        g_assert_true(pvx_study_analysis_write(an, adir, &error));
        g_assert_no_error(error);
    }
    pvx_study_coding_clear(&coding);
}

static int run_pvx_at(const char *cwd, const char *const *args, char **out_text);

static int run_pvx(const char *const *args, char **out_text)
{
    return run_pvx_at(NULL, args, out_text);
}

/* pvx with @args in the working folder @cwd (NULL: this one); its exit code. */
static int run_pvx_at(const char *cwd, const char *const *args, char **out_text)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)PVX_EXE);
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(
        g_spawn_sync(cwd, (char **)argv->pdata, NULL, 0, NULL, NULL, &out, &err, &status, &error));
    g_ptr_array_free(argv, TRUE);
    g_test_message("stdout: %s\nstderr: %s", out, err);
    if (out_text)
        *out_text = g_strconcat(out, err, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void command_line_exports_simulates_and_analyses(void)
{
    g_autofree char *cli = g_build_filename(out_dir, "cli", NULL);
    const char *exp[] = {"study", "export", pvx_run_dir(fx.run), "--design", "likert", "--out", cli,
                         "-q",    NULL};
    g_assert_cmpint(run_pvx(exp, NULL), ==, 0);
    g_autofree char *key = g_build_filename(cli, "likert", "key.csv", NULL);
    g_autofree char *res = g_build_filename(cli, "results.csv", NULL);
    const char *sim[] = {"study",     "simulate", "--key",
                         key,         "--out",    res,
                         "--one-hot", "--prefer", "cr1=0.6,cr2=0,cr4=0",
                         "--noise",   "0.8",      NULL};
    g_assert_cmpint(run_pvx(sim, NULL), ==, 0);
    g_autofree char *an = g_build_filename(cli, "analysis", NULL);
    const char *ana[] = {"study", "analyse", "--key", key, "--answers", res, "--out", an, NULL};
    g_autofree char *text = NULL;
    g_assert_cmpint(run_pvx(ana, &text), ==, 0);
    g_assert_nonnull(strstr(text, "Krippendorff"));
    /* summary.json is valid JSON with the documented keys, and cr1 is preferred */
    g_autofree char *summary = g_build_filename(an, "summary.json", NULL);
    const char *py[] = {
        "/usr/bin/python3", "-c",
        "import json, sys\n"
        "d = json.load(open(sys.argv[1]))\n"
        "for k in ('alpha', 'answers', 'tasks', 'raters', 'mean_task_std', 'pairs', 'models'):\n"
        "    assert k in d, k\n"
        "assert set(d['alpha']) == {'nominal', 'ordinal', 'interval'}\n"
        "for p in d['pairs']:\n"
        "    for k in "
        "('a','b','answers','mean','a_preferred','b_preferred','equal','alpha_nominal','chi2','p'):"
        "\n"
        "        assert k in p, k\n"
        "    assert 0 <= p['equal'] <= 1 and 0 <= p['a_preferred'] <= 1\n"
        "m = {x['model']: x for x in d['models']}\n"
        "assert m['cr1']['explainability_index'] > 0.2, m\n"
        "assert m['cr1']['ci'][0] > m['cr2']['ci'][1], m\n"
        "assert d['answers'] == d['issues']['used'] == d['issues']['rows']\n",
        summary, NULL};
    g_autofree char *pout = NULL, *perr = NULL;
    int status = 0;
    g_assert_true(
        g_spawn_sync(NULL, (char **)py, NULL, 0, NULL, NULL, &pout, &perr, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_error("summary.json check failed: %s", perr);
    const char *figs[] = {"distribution.png",  "explainability_index.png",
                          "bradley_terry.png", "pairs.csv",
                          "models.csv",        "per_class.csv",
                          "task_std.csv"};
    for (gsize i = 0; i < G_N_ELEMENTS(figs); i++) {
        g_autofree char *p = g_build_filename(an, figs[i], NULL);
        if (!g_file_test(p, G_FILE_TEST_IS_REGULAR))
            g_error("%s missing", p);
    }
    /* power: more raters, more power */
    g_autofree char *pw = g_build_filename(cli, "power.csv", NULL);
    const char *pow[] = {"study", "simulate", "--key", key,        "--out",   pw,  "--power",
                         "1,6",   "--reps",   "20",    "--prefer", "cr2=0.3", NULL};
    g_autofree char *ptext = NULL;
    g_assert_cmpint(run_pvx(pow, &ptext), ==, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxCsv) pc = pvx_csv_read(pw, &error);
    g_assert_no_error(error);
    double p1 = 0, p6 = 0;
    for (guint r = 0; r < pc->rows->len; r++)
        if (strcmp(pvx_csv_get(pc, r, 1), "cr1 vs cr2") == 0)
            *(strcmp(pvx_csv_get(pc, r, 0), "1") == 0 ? &p1 : &p6) =
                g_ascii_strtod(pvx_csv_get(pc, r, 2), NULL);
    printf("# power cr1 vs cr2 (latent 0.3): 1 rater %.2f, 6 raters %.2f\n", p1, p6);
    g_assert_cmpfloat(p6, >, p1);
    /* bad input: exit code 2 with the missing column named */
    g_autofree char *bad = g_build_filename(cli, "bad.csv", NULL);
    g_assert_true(g_file_set_contents(bad, "HITId,WorkerId\nH,W\n", -1, NULL));
    const char *badargs[] = {"study", "analyse", "--key", key, "--answers", bad, NULL};
    g_autofree char *btext = NULL;
    g_assert_cmpint(run_pvx(badargs, &btext), ==, 2);
    g_assert_nonnull(strstr(btext, "'Input.task_id'"));
    const char *nokey[] = {"study",     "analyse", "--key", "/nonexistent/key.csv",
                           "--answers", bad,       NULL};
    g_assert_cmpint(run_pvx(nokey, NULL), ==, 2);
    const char *nodesign[] = {"study", "export", pvx_run_dir(fx.run), "--design", "nope", NULL};
    g_autofree char *ntext = NULL;
    g_assert_cmpint(run_pvx(nodesign, &ntext), ==, 2);
    g_assert_nonnull(strstr(ntext, "likert, ident"));
}

static void identify_simulation_recovers_accuracy(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(pvx_run_dir(fx.run), "study", "ident", NULL);
    g_autofree char *kp = g_build_filename(dir, "key.csv", NULL);
    g_autofree char *res = g_build_filename(out_dir, "ident.csv", NULL);
    const char *sim[] = {"study",
                         "simulate",
                         "--key",
                         kp,
                         "--out",
                         res,
                         "--raters",
                         "40",
                         "--accuracy",
                         "cr1=0.9,cr2=0.5",
                         "--dont-know-rate",
                         "0.2",
                         NULL};
    g_assert_cmpint(run_pvx(sim, NULL), ==, 0);
    g_autoptr(PvxStudyKey) key = pvx_study_key_load(kp, &error);
    g_autoptr(PvxStudyAnswers) a = pvx_study_answers_load(res, "category.label", NULL, &error);
    g_assert_no_error(error);
    PvxStudyCoding c;
    pvx_study_coding_init_defaults(&c);
    g_autofree char *dp = g_build_filename(dir, "design.yaml", NULL);
    g_assert_true(pvx_study_coding_load_design(&c, dp, NULL, NULL, &error));
    g_autoptr(PvxStudyAnalysis) an = pvx_study_analyse(key, a, &c, &error);
    g_assert_no_error(error);
    const PvxStudyModel *m1 = an->models->pdata[0], *m2 = an->models->pdata[1];
    printf("# identify: cr1 accuracy %.3f (0.9), cr2 %.3f (0.5), don't know %.3f (0.2), "
           "alpha %.3f\n",
           m1->accuracy, m2->accuracy, m2->indecisive, an->alpha[0]);
    g_assert_cmpfloat(fabs(m1->accuracy - 0.9), <, 0.07);
    g_assert_cmpfloat(fabs(m2->accuracy - 0.5), <, 0.1);
    g_assert_cmpfloat(fabs(m2->indecisive - 0.2), <, 0.1);
    g_assert_cmpint(an->issues.uncoded, ==, 0);
    pvx_study_coding_clear(&c);

    /* power: a clear accuracy difference is found more often with more raters; equal accuracy
     * is "found" about as often as the level says */
    double diff[2] = {-1, -1}, same = -1;
    for (int run = 0; run < 2; run++) {
        g_autofree char *pw = g_build_filename(out_dir, "ident-power.csv", NULL);
        const char *pow[] = {
            "study",  "simulate", "--key",      kp,
            "--out",  pw,         "--power",    run == 0 ? "1,8" : "8",
            "--reps", "100",      "--accuracy", run == 0 ? "cr1=0.9,cr2=0.7" : "cr1=0.85,cr2=0.85",
            NULL};
        g_assert_cmpint(run_pvx(pow, NULL), ==, 0);
        g_autoptr(PvxCsv) pc = pvx_csv_read(pw, &error);
        g_assert_no_error(error);
        for (guint r = 0; r < pc->rows->len; r++) {
            g_assert_cmpstr(pvx_csv_get(pc, r, 1), ==, "cr1 vs cr2");
            double v = g_ascii_strtod(pvx_csv_get(pc, r, 2), NULL);
            if (run == 1)
                same = v;
            else
                diff[atoi(pvx_csv_get(pc, r, 0)) == 8] = v;
        }
    }
    printf("# identify power cr1 0.9 vs cr2 0.7: 1 rater %.2f, 8 raters %.2f; 0.85 vs 0.85: "
           "%.2f\n",
           diff[0], diff[1], same);
    g_assert_cmpfloat(diff[1], >, diff[0]);
    g_assert_cmpfloat(diff[1], >, 0.8);
    g_assert_cmpfloat(same, >=, 0);
    g_assert_cmpfloat(same, <, 0.2);
}

/* `pvx study analyse` on a key inside a run's study folder stores the answers and the analysis
 * in that run's results.h5 (/study/<name>/answers, /analysis), `pvx show` prints them, and
 * h5py reads the same numbers as summary.json. Run on a copy of the run folder, which this
 * process keeps open. */
static void analysis_is_stored_in_the_run(void)
{
    g_autofree char *copy = g_build_filename(out_dir, "run-copy", NULL);
    const char *cp[] = {"/bin/cp", "-r", pvx_run_dir(fx.run), copy, NULL};
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)cp, NULL, 0, NULL, NULL, NULL, NULL, &status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_autofree char *key = g_build_filename(copy, "study", "likert", "key.csv", NULL);
    g_autofree char *ikey = g_build_filename(copy, "study", "ident", "key.csv", NULL);
    g_autofree char *res = g_build_filename(out_dir, "stored.csv", NULL);
    g_autofree char *ires = g_build_filename(out_dir, "stored-ident.csv", NULL);
    const char *sim[] = {"study", "simulate", "--key",    key,
                         "--out", res,        "--prefer", "cr1=0.8,cr2=0,cr4=-0.8",
                         NULL};
    g_assert_cmpint(run_pvx(sim, NULL), ==, 0);
    const char *isim[] = {"study", "simulate", "--key", ikey, "--out", ires, NULL};
    g_assert_cmpint(run_pvx(isim, NULL), ==, 0);

    /* --no-store: the files only */
    const char *nostore[] = {"study", "analyse",    "--key", ikey, "--answers",
                             ires,    "--no-store", "-q",    NULL};
    g_assert_cmpint(run_pvx(nostore, NULL), ==, 0);
    g_autofree char *show_text = NULL;
    const char *show[] = {"show", copy, NULL};
    g_assert_cmpint(run_pvx(show, &show_text), ==, 0);
    g_assert_nonnull(strstr(show_text, "no answers analysed yet"));

    /* found from the key's place; stored; shown */
    g_autofree char *text = NULL;
    const char *ana[] = {"study", "analyse", "--key", key, "--answers", res, NULL};
    g_assert_cmpint(run_pvx(ana, &text), ==, 0);
    g_assert_nonnull(strstr(text, "stored:"));
    const char *iana[] = {"study", "analyse", "--key", ikey, "--answers", ires, "-q", NULL};
    g_assert_cmpint(run_pvx(iana, NULL), ==, 0);
    g_clear_pointer(&show_text, g_free);
    g_assert_cmpint(run_pvx(show, &show_text), ==, 0);
    g_assert_nonnull(strstr(show_text, "explainability index: cr1 +"));
    g_assert_nonnull(strstr(show_text, "human accuracy: cr1 "));
    g_assert_null(strstr(show_text, "no answers analysed yet"));

    /* what h5py reads equals summary.json; the answers are all there */
    g_autofree char *h5 = g_build_filename(copy, "results.h5", NULL);
    g_autofree char *summary =
        g_build_filename(copy, "study", "likert", "analysis", "summary.json", NULL);
    const char *py[] = {
        "/usr/bin/python3",
        "-c",
        "import json, sys, h5py\n"
        "d = json.load(open(sys.argv[2]))\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "a = f['/study/likert/analysis']\n"
        "assert json.loads(a.attrs['summary']) == d\n"
        "assert abs(a.attrs['alpha_ordinal'] - d['alpha']['ordinal']) < 1e-12\n"
        "names = [x.decode() for x in a['models/model'][:]]\n"
        "idx = dict(zip(names, a['models/explainability_index'][:]))\n"
        "for m in d['models']:\n"
        "    assert abs(idx[m['model']] - m['explainability_index']) < 1e-12, m\n"
        "assert idx['cr1'] > idx['cr2'] > idx['cr4'], idx\n"
        "ans = f['/study/likert/answers']\n"
        "assert len(ans['answer']) == d['answers'] == ans.attrs['used'], d['answers']\n"
        "assert len(a['task_std']) == len(f['/study/likert/key/task_id'])\n"
        "c = f['/study/ident/analysis/models/confusion']\n"
        "assert c.shape[0] == len(f['/study/ident/analysis/models/model'])\n"
        "assert c.shape[2] == c.shape[1] + 1\n",
        h5,
        summary,
        NULL};
    g_autofree char *pout = NULL, *perr = NULL;
    g_assert_true(
        g_spawn_sync(NULL, (char **)py, NULL, 0, NULL, NULL, &pout, &perr, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_error("results.h5 check failed: %s", perr);

    /* --run naming a folder that is no run, and a run without that study: exit 2, named */
    const char *norun[] = {"study", "analyse", "--key", key,  "--answers",
                           res,     "--run",   out_dir, "-q", NULL};
    g_autofree char *ntext = NULL;
    g_assert_cmpint(run_pvx(norun, &ntext), ==, 2);
    g_assert_nonnull(strstr(ntext, "no results.h5"));
    g_autofree char *zdir = g_build_filename(out_dir, "zzz", NULL);
    g_autofree char *zkey = g_build_filename(zdir, "key.csv", NULL);
    g_autofree char *ktext = NULL;
    g_assert_true(g_file_get_contents(key, &ktext, NULL, NULL));
    g_assert_cmpint(g_mkdir_with_parents(zdir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(zkey, ktext, -1, NULL));
    const char *nostudy[] = {"study", "analyse", "--key", zkey, "--answers",
                             res,     "--run",   copy,    "-q", NULL};
    g_autofree char *stext = NULL;
    g_assert_cmpint(run_pvx(nostudy, &stext), ==, 2);
    g_assert_nonnull(strstr(stext, "no study 'zzz'"));

    /* an identify key offered as the pairwise study 'likert': refused, both types named */
    g_autofree char *ldir = g_build_filename(out_dir, "elsewhere", "likert", NULL);
    g_autofree char *lkey = g_build_filename(ldir, "key.csv", NULL);
    g_autofree char *itext = NULL;
    g_assert_true(g_file_get_contents(ikey, &itext, NULL, NULL));
    g_assert_cmpint(g_mkdir_with_parents(ldir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(lkey, itext, -1, NULL));
    const char *wrongtype[] = {"study", "analyse", "--key", lkey, "--answers",
                               ires,    "--run",   copy,    "-q", NULL};
    g_autofree char *wtext = NULL;
    g_assert_cmpint(run_pvx(wrongtype, &wtext), ==, 2);
    g_assert_nonnull(strstr(wtext, "is pairwise, but"));
    g_assert_nonnull(strstr(wtext, "identify key"));
    const char *both[] = {"study", "analyse", "--key", key,          "--answers",
                          res,     "--run",   copy,    "--no-store", NULL};
    g_assert_cmpint(run_pvx(both, NULL), ==, 2);

    /* a relative key path from inside the study folder finds the run as well */
    g_autofree char *sdir = g_path_get_dirname(key);
    const char *rel[] = {"study", "analyse", "--key", "key.csv", "--answers", res, NULL};
    g_autofree char *rtext = NULL;
    g_assert_cmpint(run_pvx_at(sdir, rel, &rtext), ==, 0);
    g_assert_nonnull(strstr(rtext, "stored:"));

    /* a key that no longer matches the one the run stored, found from its place: the analysis
     * stands (exit 0), storing is refused with a warning naming the difference */
    g_autofree char *short_text = g_strdup(ktext);
    char *cut = strchr(short_text, '\n');
    cut = cut ? strchr(cut + 1, '\n') : NULL; /* header and one task */
    g_assert_nonnull(cut);
    cut[1] = '\0';
    g_assert_true(g_file_set_contents(key, short_text, -1, NULL));
    const char *mismatch[] = {"study", "analyse", "--key", key, "--answers", res, "-q", NULL};
    g_autofree char *mtext = NULL;
    g_assert_cmpint(run_pvx(mismatch, &mtext), ==, 0);
    g_assert_nonnull(strstr(mtext, "not stored in the run"));
    g_assert_nonnull(strstr(mtext, "is not the key the run stored"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    out_dir = g_dir_make_tmp("pvx-study-e2e-XXXXXX", NULL);
    int saved = silenced_stdout_begin();
    build_run();
    silenced_stdout_end(saved);
    g_test_add_func("/study-e2e/stage_exports_opaque_tasks_key_and_layout",
                    stage_exports_opaque_tasks_key_and_layout);
    g_test_add_func("/study-e2e/simulated_preference_is_recovered",
                    simulated_preference_is_recovered);
    g_test_add_func("/study-e2e/command_line_exports_simulates_and_analyses",
                    command_line_exports_simulates_and_analyses);
    g_test_add_func("/study-e2e/identify_simulation_recovers_accuracy",
                    identify_simulation_recovers_accuracy);
    g_test_add_func("/study-e2e/analysis_is_stored_in_the_run", analysis_is_stored_in_the_run);
    int rc = g_test_run();
    pvx_model_free(fx.model);
    pvx_dataset_close(fx.ds);
    pvx_run_free(fx.run);
    pvx_config_free(fx.cfg);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", out_dir);
    if (!g_getenv("PVX_KEEP_TEST_OUTPUT") && system(cmd) != 0)
        g_warning("could not remove %s", out_dir);
    return rc;
}
