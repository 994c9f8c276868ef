/* The explain stage on a real run: kandinsky images, vgg-mini weights for CR 1 and CR 2 in the
 * run's store, Grad-CAM and occlusion; raw maps, ids and pictures where docs say. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "explain_test_util.h"

static char *out_dir;

static const char *config_text =
    "name: explain-test\n"
    "output: %s\n"
    "dataset:\n"
    "  plugin: kandinsky\n"
    "  params: {size: 32, classes: 2, train_size: 0, val_size: 0, test_size: 16}\n"
    "model:\n"
    "  plugin: vgg\n"
    "  params: {arch: vgg-mini}\n"
    "explain:\n"
    "  selection: %s\n"
    "  per_class: 2\n"
    "  batch_size: 3\n"
    "  methods:\n"
    "    - plugin: gradcam\n"
    "    - plugin: occlusion\n"
    "      params: {patch: 8, stride: 8}\n";

typedef struct {
    PvxConfig *cfg;
    PvxRun *run;
    PvxDataset *ds;
    PvxModel *model;
} Fixture;

static void fixture_open(Fixture *f, const char *selection, const char *run_id)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strdup_printf(config_text, out_dir, selection);
    f->cfg = pvx_config_load_string(text, "exp.yaml", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(f->cfg, ex_test_registry(), NULL, &error));
    g_assert_no_error(error);
    f->run = pvx_run_create(f->cfg, ex_test_registry(), run_id, &error);
    g_assert_no_error(error);
    const PvxParams *dp = NULL;
    const PvxPlugin *dpl = pvx_config_plugin(f->cfg, "dataset", 0, &dp);
    f->ds = pvx_dataset_open(dpl, dp, &error);
    g_assert_no_error(error);
    f->model = pvx_stage_build_model(f->run, ex_test_registry(), f->ds, &error);
    g_assert_no_error(error);
    /* CR 1: seed 0; CR 2: seed 5 with half of features.12 pruned */
    g_assert_true(pvx_run_stage_begin(f->run, "fake-train", &error));
    PvxStore *s = pvx_run_store(f->run);
    g_assert_true(pvx_model_save_weights(f->model, s, "/models/cr1/weights", &error));
    pvx_model_init(f->model, 5);
    PvxLayer *l = pvx_model_find_layer(f->model, "features.12", &error);
    g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
    for (int64_t i = 0; i < pvx_tensor_numel(mask); i++)
        mask->data[i] = (float)(i % 2);
    g_assert_true(pvx_model_set_mask(f->model, "features.12", mask, &error));
    g_assert_true(pvx_model_save_weights(f->model, s, "/models/cr2/weights", &error));
    g_assert_true(pvx_model_save_masks(f->model, s, "/models/cr2/masks", &error));
    g_assert_true(pvx_model_set_mask(f->model, "features.12", NULL, &error));
    g_assert_true(pvx_run_stage_end(f->run, &error));
    g_assert_no_error(error);
}

static void fixture_close(Fixture *f)
{
    pvx_model_free(f->model);
    pvx_dataset_close(f->ds);
    pvx_run_free(f->run);
    pvx_config_free(f->cfg);
}

static void stage_writes_raw_maps_ids_and_pictures(void)
{
    Fixture f;
    fixture_open(&f, "per_class", "per-class");
    g_autoptr(GError) error = NULL;
    const int crs[] = {1, 2};
    g_assert_true(pvx_stage_explain(f.run, ex_test_registry(), f.ds, f.model, crs, 2, &error));
    g_assert_no_error(error);
    PvxStore *s = pvx_run_store(f.run);
    g_autoptr(PvxTensor) g1 = pvx_store_read_tensor(s, "/maps/gradcam/cr1/raw", &error);
    g_assert_no_error(error);
    g_assert_cmpint(g1->shape[0], ==, 4); /* 2 classes × 2 */
    g_assert_cmpint(g1->shape[1], ==, 8);
    g_autoptr(PvxTensor) o2 = pvx_store_read_tensor(s, "/maps/occlusion/cr2/raw", &error);
    g_assert_no_error(error);
    g_assert_cmpint(o2->shape[1], ==, 32);
    g_auto(GStrv) ids = pvx_store_read_strings(s, "/maps/gradcam/cr2/ids", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(ids), ==, 4);
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *index = pvx_store_read_i64(s, "/dataset/explain/index", &nd, shape, &error);
    g_assert_no_error(error);
    /* 2 per class, the first of each class in split order */
    int per[2] = {0, 0};
    for (int i = 0; i < 4; i++)
        per[pvx_dataset_get_label(f.ds, PVX_SPLIT_TEST, index[i], NULL)]++;
    g_assert_cmpint(per[0], ==, 2);
    g_assert_cmpint(per[1], ==, 2);
    /* the stored CR 2 map is what pvx_explain gives with CR 2's weights and masks */
    g_autoptr(PvxExplainer) ex =
        pvx_explainer_open_by_name(ex_test_registry(), "gradcam", NULL, &error);
    g_autoptr(PvxModel) m2 = pvx_stage_build_model(f.run, ex_test_registry(), f.ds, &error);
    g_assert_true(pvx_model_load_weights(m2, s, "/models/cr2/weights", &error));
    g_assert_true(pvx_model_load_masks(m2, s, "/models/cr2/masks", &error));
    PvxLayer *l = pvx_model_find_layer(m2, "features.12", &error);
    g_assert_nonnull(l->mask);
    g_autoptr(PvxTensor) g2 = pvx_store_read_tensor(s, "/maps/gradcam/cr2/raw", &error);
    PvxDatasetItem it = {0};
    g_assert_true(pvx_dataset_get_item(f.ds, PVX_SPLIT_TEST, index[3], &it, &error));
    g_autoptr(PvxTensor) x = pvx_tensor_reshape(it.image, 4, (int64_t[]){1, 3, 32, 32}, &error);
    PvxExplainOptions o = {0};
    g_autoptr(PvxTensor) direct = pvx_explain(ex, m2, x, &o, NULL, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) stored = pvx_tensor_new_from_data(3, direct->shape, g2->data + 3 * 64);
    ex_test_expect_close("stage cr2 gradcam", stored, direct, 1e-2);
    pvx_dataset_item_clear(&it);
    /* pictures */
    const char *methods[] = {"gradcam", "occlusion"};
    for (int mi = 0; mi < 2; mi++)
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 2; c++)
                for (int k = 0; k < 2; k++) {
                    g_autofree char *n =
                        pvx_map_file_name(ids[i], methods[mi], crs[c], k ? "occl" : "heat");
                    g_autofree char *p =
                        g_build_filename(pvx_run_dir(f.run), "maps", methods[mi], n, NULL);
                    g_autoptr(PvxImage) img = pvx_image_load(p, &error);
                    g_assert_no_error(error);
                    g_assert_cmpint(img->width, ==, 32);
                }
            g_autofree char *n = pvx_map_file_name(ids[i], methods[mi], -1, "sheet");
            g_autofree char *p = g_build_filename(pvx_run_dir(f.run), "maps", methods[mi], n, NULL);
            g_autoptr(PvxImage) sheet = pvx_image_load(p, &error);
            g_assert_no_error(error);
            g_assert_cmpint(sheet->width, >, 3 * 32);
            g_assert_cmpint(sheet->height, >, 2 * 32);
        }
    /* a finished stage is skipped */
    g_assert_true(pvx_run_stage_finished(f.run, "explain"));
    g_assert_true(pvx_stage_explain(f.run, ex_test_registry(), f.ds, f.model, crs, 2, &error));
    fixture_close(&f);
}

static void stage_correct_selection_keeps_images_every_model_gets_right(void)
{
    Fixture f;
    fixture_open(&f, "correct", "correct");
    g_autoptr(GError) error = NULL;
    const int crs[] = {1, 2};
    g_autoptr(GArray) items = pvx_explain_select_items(f.run, f.ds, f.model, crs, 2, &error);
    g_assert_no_error(error);
    PvxStore *s = pvx_run_store(f.run);
    int checked = 0;
    for (int c = 0; c < 2; c++) {
        g_autofree char *w = g_strdup_printf("/models/cr%d/weights", crs[c]);
        g_assert_true(pvx_model_load_weights(f.model, s, w, &error));
        for (int64_t i = 0; i < 16; i++) {
            PvxDatasetItem it = {0};
            g_assert_true(pvx_dataset_get_item(f.ds, PVX_SPLIT_TEST, i, &it, &error));
            g_autoptr(PvxTensor) x =
                pvx_tensor_reshape(it.image, 4, (int64_t[]){1, 3, 32, 32}, &error);
            g_autoptr(PvxTensor) y = pvx_model_forward(f.model, x, PVX_FORWARD_INFERENCE, &error);
            gboolean right = (y->data[1] > y->data[0]) == (it.label == 1);
            for (guint k = 0; k < items->len; k++)
                if (g_array_index(items, int64_t, k) == i) {
                    g_assert_true(right);
                    checked++;
                }
            pvx_dataset_item_clear(&it);
        }
    }
    g_test_message("%u images selected", items->len);
    g_assert_cmpint(checked, ==, 2 * (int)items->len);
    fixture_close(&f);
}

static void stage_without_methods_or_weights_fails_clearly(void)
{
    Fixture f;
    fixture_open(&f, "per_class", "bad");
    g_autoptr(GError) error = NULL;
    const int crs[] = {1, 8};
    g_assert_false(pvx_stage_explain(f.run, ex_test_registry(), f.ds, f.model, crs, 2, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "CR 8"));
    g_assert_false(pvx_run_stage_finished(f.run, "explain"));
    fixture_close(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    out_dir = g_dir_make_tmp("pvx-explain-stage-XXXXXX", NULL);
    g_test_add_func("/explain-stage/writes_raw_maps_ids_and_pictures",
                    stage_writes_raw_maps_ids_and_pictures);
    g_test_add_func("/explain-stage/correct_selection_keeps_images_every_model_gets_right",
                    stage_correct_selection_keeps_images_every_model_gets_right);
    g_test_add_func("/explain-stage/without_weights_fails_clearly",
                    stage_without_methods_or_weights_fails_clearly);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", out_dir);
    if (system(cmd) != 0)
        g_warning("could not remove %s", out_dir);
    return rc;
}
