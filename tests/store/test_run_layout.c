/* Pins every path of the run file's layout (pvx-private/run_layout.h) to the string
 * docs/hdf5-layout.md promises: a change to the layout fails here before it reaches a reader of
 * results.h5. */
#include "pvx-private/run_layout.h"

/* Compares a (transfer full) path with its expected spelling and frees it. */
static void check_owned(char *got, const char *want)
{
    g_assert_cmpstr(got, ==, want);
    g_free(got);
}

static void run_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_config(), ==, "/config");
    g_assert_cmpstr(pvx_layout_provenance(), ==, "/provenance");
    g_assert_cmpstr(pvx_layout_provenance_plugins(), ==, "/provenance/plugins");
    g_assert_cmpstr(pvx_layout_stages(), ==, "/stages");
    check_owned(pvx_layout_stage("train"), "/stages/train");
    check_owned(pvx_layout_stage("prune-cr4"), "/stages/prune-cr4");
    check_owned(pvx_layout_prune_stage_name(4), "prune-cr4");
    check_owned(pvx_layout_prune_stage_name(16), "prune-cr16");
}

static void dataset_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_dataset(), ==, "/dataset");
    g_assert_cmpstr(pvx_layout_dataset_class_names(), ==, "/dataset/class_names");
    g_assert_cmpstr(pvx_layout_dataset_split_sizes(), ==, "/dataset/split_sizes");
    g_assert_cmpstr(pvx_layout_dataset_item_shape(), ==, "/dataset/item_shape");
    g_assert_cmpstr(pvx_layout_explain_ids(), ==, "/dataset/explain/ids");
    g_assert_cmpstr(pvx_layout_explain_index(), ==, "/dataset/explain/index");
}

static void model_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_models(), ==, "/models");
    check_owned(pvx_layout_model_name(1), "cr1");
    check_owned(pvx_layout_model_name(32), "cr32");
    check_owned(pvx_layout_model(1), "/models/cr1");
    check_owned(pvx_layout_model(4), "/models/cr4");
    check_owned(pvx_layout_model_weights(4), "/models/cr4/weights");
    check_owned(pvx_layout_model_masks(4), "/models/cr4/masks");
    check_owned(pvx_layout_model_pruned(4), "/models/cr4/pruned");
    check_owned(pvx_layout_model_train(1), "/models/cr1/train");
    check_owned(pvx_layout_model_train_history(2), "/models/cr2/train/history");
    check_owned(pvx_layout_model_train_checkpoint(2), "/models/cr2/train/checkpoint");
    check_owned(pvx_layout_train_history("/models/cr2/train"), "/models/cr2/train/history");
    check_owned(pvx_layout_train_checkpoint("/models/cr2/train"), "/models/cr2/train/checkpoint");
    check_owned(pvx_layout_train_val_indices("/models/cr1/train"), "/models/cr1/train/val_indices");
    check_owned(pvx_layout_eval_splits("/models/cr4"), "/models/cr4/eval");
    check_owned(pvx_layout_eval("/models/cr4", "test"), "/models/cr4/eval/test");
    check_owned(pvx_layout_eval("/models/cr4/pruned", "val"), "/models/cr4/pruned/eval/val");
    check_owned(pvx_layout_layers("/models/cr8"), "/models/cr8/layers");
    check_owned(pvx_layout_layer_size("/models/cr8"), "/models/cr8/layer_size");
    check_owned(pvx_layout_layer_kept("/models/cr8"), "/models/cr8/layer_kept");
    check_owned(pvx_layout_layer_density("/models/cr8"), "/models/cr8/layer_density");
}

static void model_names_parse_back(void)
{
    for (int cr = 1; cr <= 1024; cr *= 2) {
        g_autofree char *name = pvx_layout_model_name(cr);
        int back = 0;
        g_assert_true(pvx_layout_parse_model_name(name, &back));
        g_assert_cmpint(back, ==, cr);
    }
    g_assert_true(pvx_layout_parse_model_name("cr12", NULL));
    static const char *const not_names[] = {"cr",  "cr0",  "cr04", "cr-1",          "cr+2", "cr2x",
                                            "CR2", "xcr2", "cr 2", "cr99999999999", ""};
    for (gsize i = 0; i < G_N_ELEMENTS(not_names); i++) {
        int cr = -7;
        g_assert_false(pvx_layout_parse_model_name(not_names[i], &cr));
        g_assert_cmpint(cr, ==, -7);
    }
    g_assert_false(pvx_layout_parse_model_name(NULL, NULL));
}

static void prune_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_prune(), ==, "/prune");
    g_assert_cmpstr(pvx_layout_prune_layers(), ==, "/prune/layers");
}

static void map_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_maps(), ==, "/maps");
    check_owned(pvx_layout_maps_method("gradcam"), "/maps/gradcam");
    check_owned(pvx_layout_maps_group("gradcam", 4), "/maps/gradcam/cr4");
    check_owned(pvx_layout_maps_raw("gradcam", 4), "/maps/gradcam/cr4/raw");
    check_owned(pvx_layout_maps_target("gradcam", 4), "/maps/gradcam/cr4/target");
    check_owned(pvx_layout_maps_ids("integrated-gradients", 1),
                "/maps/integrated-gradients/cr1/ids");
}

static void metric_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_metrics(), ==, "/metrics");
    check_owned(pvx_layout_metric("deletion"), "/metrics/deletion");
    check_owned(pvx_layout_metric_method("deletion", "gradcam"), "/metrics/deletion/gradcam");
    check_owned(pvx_layout_metric_group("deletion", "gradcam", 2), "/metrics/deletion/gradcam/cr2");
    check_owned(pvx_layout_metric_result("deletion", "gradcam", 2, "auc"),
                "/metrics/deletion/gradcam/cr2/auc");
}

static void study_paths_are_pinned(void)
{
    g_assert_cmpstr(pvx_layout_study(), ==, "/study");
    check_owned(pvx_layout_study_design("pairs"), "/study/pairs");
    check_owned(pvx_layout_study_task_column("pairs", "left_url"), "/study/pairs/tasks/left_url");
    check_owned(pvx_layout_study_key_column("pairs", "task_id"), "/study/pairs/key/task_id");
    check_owned(pvx_layout_study_answers("pairs"), "/study/pairs/answers");
    check_owned(pvx_layout_study_analysis("pairs"), "/study/pairs/analysis");
    check_owned(pvx_layout_study_analysis_models("pairs"), "/study/pairs/analysis/models");
    check_owned(pvx_layout_study_analysis_pairs("pairs"), "/study/pairs/analysis/pairs");
}

static void join_appends_one_name(void)
{
    check_owned(pvx_layout_join("/models/cr1/train/history", "loss"),
                "/models/cr1/train/history/loss");
    check_owned(pvx_layout_join("/study/x/analysis/models", "model"),
                "/study/x/analysis/models/model");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/run-layout/run_paths_are_pinned", run_paths_are_pinned);
    g_test_add_func("/run-layout/dataset_paths_are_pinned", dataset_paths_are_pinned);
    g_test_add_func("/run-layout/model_paths_are_pinned", model_paths_are_pinned);
    g_test_add_func("/run-layout/model_names_parse_back", model_names_parse_back);
    g_test_add_func("/run-layout/prune_paths_are_pinned", prune_paths_are_pinned);
    g_test_add_func("/run-layout/map_paths_are_pinned", map_paths_are_pinned);
    g_test_add_func("/run-layout/metric_paths_are_pinned", metric_paths_are_pinned);
    g_test_add_func("/run-layout/study_paths_are_pinned", study_paths_are_pinned);
    g_test_add_func("/run-layout/join_appends_one_name", join_appends_one_name);
    return g_test_run();
}
