/* pvx — the experiment schema the core knows.
 *
 * Top-level keys are the specs of the root section; each entry of `sections` is a top-level
 * section. New stages add their section to `sections` (before the terminator) and, for core
 * keys, a PvxParamSpec table next to it. docs/config.md describes every key listed here.
 */
#include "config_private.h"

static const char *const preview_splits[] = {"train", "val", "test", NULL};

static const PvxParamSpec root_params[] = {
    {"name", PVX_PARAM_STRING, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL,
     "experiment name: letters, digits, '_', '.' and '-'"},
    {"description", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "free text"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL, "seed of every random stream"},
    {"output", PVX_PARAM_STRING, "results", 0, 0, 0, NULL,
     "folder the run folders go into; relative to the folder pvx runs in"},
    {"plugin_path", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "extra plugin folders, relative to the config file's folder"},
    PVX_PARAM_SPEC_END,
};

static const PvxParamSpec preview_params[] = {
    {"split", PVX_PARAM_CHOICE, "test", 0, 0, 0, preview_splits, "split the preview shows"},
    {"per_class", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 64, NULL,
     "images per class"},
    {"out", PVX_PARAM_PATH, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL,
     "PNG to write; null means <run dir>/preview.png"},
    PVX_PARAM_SPEC_END,
};

static const char *const lr_schedules[] = {"constant", "step", "cosine", "onecycle", NULL};

/* Defaults match pvx_train_params_init (core/train/trainer.c). */
static const PvxParamSpec train_params[] = {
    {"epochs", PVX_PARAM_INT, "10", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 100000, NULL,
     "passes over the train split (the most, with early stopping)"},
    {"batch_size", PVX_PARAM_INT, "128", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 65536, NULL,
     "images per SGD step"},
    {"eval_batch_size", PVX_PARAM_INT, "512", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 65536, NULL,
     "images per forward when validating and evaluating"},
    {"lr", PVX_PARAM_DOUBLE, "0.05", PVX_PARAM_HAS_MIN, 1e-12, 0, NULL,
     "learning rate (the peak for onecycle)"},
    {"momentum", PVX_PARAM_DOUBLE, "0.9", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 0.999, NULL,
     "SGD momentum (0: plain SGD)"},
    {"nesterov", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL, "Nesterov momentum (needs momentum > 0)"},
    {"weight_decay", PVX_PARAM_DOUBLE, "5e-4", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "L2 penalty on every weight and bias, as torch.optim.SGD's weight_decay"},
    {"clip_norm", PVX_PARAM_DOUBLE, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "clip the global gradient L2 norm to this (0: no clipping)"},
    {"schedule", PVX_PARAM_CHOICE, "cosine", 0, 0, 0, lr_schedules,
     "learning-rate schedule: constant, step (per epoch), cosine (per batch, to 0), onecycle"},
    {"step_size", PVX_PARAM_INT, "10", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "step schedule: epochs between decays"},
    {"gamma", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN, 1e-12, 0, NULL,
     "step schedule: factor per decay"},
    {"warmup_epochs", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "linear warm-up epochs in front of constant/step/cosine (counted in epochs)"},
    {"early_stopping", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL,
     "stop when val accuracy has not improved for `patience` epochs; keep the best epoch"},
    {"patience", PVX_PARAM_INT, "3", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "early stopping: epochs without improvement before stopping"},
    {"min_delta", PVX_PARAM_DOUBLE, "0", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "early stopping: val accuracy must improve by more than this"},
    {"val_fraction", PVX_PARAM_DOUBLE, "0", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 0.9, NULL,
     "carve this seeded fraction of train off as val when the dataset has no val split"},
    {"augment_crop_padding", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 64, NULL,
     "random crop after zero padding by this many pixels (0: off)"},
    {"augment_hflip", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL,
     "random horizontal flip (off where orientation matters)"},
    {"prefetch", PVX_PARAM_BOOL, "true", 0, 0, 0, NULL,
     "load and augment the next batch in a background thread while the model computes"},
    {"epoch_fraction", PVX_PARAM_DOUBLE, "1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.001, 1, NULL,
     "share of the training items an epoch uses: a different seeded subset each epoch "
     "(fine-tuning after a pruning step rarely needs a full pass)"},
    PVX_PARAM_SPEC_END,
};

static const PvxParamSpec evaluate_params[] = {
    {"split", PVX_PARAM_CHOICE, "test", 0, 0, 0, preview_splits, "split the model is evaluated on"},
    PVX_PARAM_SPEC_END,
};

static const char *const explain_selections[] = {"per_class", "ids", "correct", NULL};
static const char *const explain_targets[] = {"predicted", "label", NULL};
static const char *const explain_colormaps[] = {"jet", "viridis", NULL};
static const char *const explain_fills[] = {"black", "grey", "blur", NULL};

/* The explain stage (core/experiment/explain_stage.c). */
static const PvxParamSpec explain_params[] = {
    {"split", PVX_PARAM_CHOICE, "test", 0, 0, 0, preview_splits, "split the images come from"},
    {"selection", PVX_PARAM_CHOICE, "correct", 0, 0, 0, explain_selections,
     "per_class: the first per_class items of each class; ids: the items listed in ids; "
     "correct: the first per_class items of each class that every CR model classifies "
     "correctly (the paper's rule)"},
    {"per_class", PVX_PARAM_INT, "5", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 100000, NULL,
     "images per class (selection per_class and correct)"},
    {"ids", PVX_PARAM_INT_LIST, "[]", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "item indices in the split (selection ids)"},
    {"target", PVX_PARAM_CHOICE, "predicted", 0, 0, 0, explain_targets,
     "class explained: each model's predicted class or the true label"},
    {"layer", PVX_PARAM_STRING, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL,
     "target layer of CAM methods; null: the model's default (features.29 for vgg16)"},
    {"batch_size", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 4096, NULL,
     "images per explanation batch, and masked inputs per forward of perturbation methods"},
    {"pngs", PVX_PARAM_BOOL, "true", 0, 0, 0, NULL,
     "write heat-map and occlusion-map PNGs and one sheet per image and method"},
    {"colormap", PVX_PARAM_CHOICE, "jet", 0, 0, 0, explain_colormaps, "heat-map colours"},
    {"opacity", PVX_PARAM_DOUBLE, "0.4", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "heat-map opacity over the image"},
    {"keep_fraction", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "occlusion map: fraction of most relevant pixels left visible"},
    {"fill", PVX_PARAM_CHOICE, "black", 0, 0, 0, explain_fills,
     "occlusion map: what hides the other pixels"},
    {"blur_sigma", PVX_PARAM_DOUBLE, "8", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "occlusion map with fill blur: Gaussian sigma in pixels"},
    PVX_PARAM_SPEC_END,
};

static const PvxConfigSectionSpec explain_children[] = {
    {"methods", PVX_SECTION_LIST, PVX_KIND_EXPLAINER, NULL, NULL,
     "explainer plugins, each {plugin: NAME, params: {...}} (the stage needs at least one)"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* The prune stage (core/experiment/prune_stage.c): the section names the pruner plugin. */
static const char *const prune_schedules[] = {"one-shot", "iterative", "gradual", NULL};
static const char *const prune_scopes[] = {"local", "global", NULL};

static const PvxParamSpec prune_params[] = {
    {"schedule", PVX_PARAM_CHOICE, "iterative", 0, 0, 0, prune_schedules,
     "iterative: each rate from the previous one, fine-tuning after each (the paper); "
     "one-shot: each rate from the unpruned model in one step; gradual: AGP (Zhu & Gupta) "
     "to the last rate over span_epochs epochs"},
    {"rates", PVX_PARAM_INT_LIST, "[2, 4, 8, 16, 32]", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "compression rates, increasing: weights of the selected layers before / kept after"},
    {"scope", PVX_PARAM_CHOICE, "local", 0, 0, 0, prune_scopes,
     "unstructured pruners: local, every selected layer keeps the same fraction (the paper); "
     "global, one ranking of the scores across all selected layers"},
    {"kinds", PVX_PARAM_STRING_LIST, "[conv]", 0, 0, 0, NULL,
     "layer kinds to prune: conv2d (every conv that is not depthwise; conv is the same), "
     "depthwise, linear (the paper: conv only)"},
    {"include", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "more layers to prune, by name or glob (features.1*)"},
    {"exclude", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "layers not to prune, by name or glob; each pattern must match a prunable layer"},
    {"span_epochs", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 100000, NULL,
     "gradual: epochs over which the cubic schedule prunes (one pruning step per epoch)"},
    PVX_PARAM_SPEC_END,
};

/* prune.finetune: the train keys, each nullable with no default — null (or absent) means "the
 * train section's value", which the resolved config keeps as null, so a resumed run inherits
 * the same way. Filled from train_params by pvx_config_schema(). */
static PvxParamSpec finetune_params[G_N_ELEMENTS(train_params)];
static char *finetune_docs[G_N_ELEMENTS(train_params)];

static const PvxConfigSectionSpec prune_children[] = {
    {"finetune", 0, 0, finetune_params, NULL,
     "fine-tuning after each pruning step: any train key; keys left out take the train "
     "section's values"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* The metrics stage (core/experiment/metrics_stage.c, docs/metrics.md). */
static const PvxParamSpec metrics_params[] = {
    {"bootstrap", PVX_PARAM_INT, "1000", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1000000, NULL,
     "bootstrap resamples for the confidence interval of each mean (0: no interval)"},
    {"confidence", PVX_PARAM_DOUBLE, "0.95", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.5, 0.999,
     NULL, "level of the bootstrap confidence interval"},
    {"seed", PVX_PARAM_INT, NULL, PVX_PARAM_NULLABLE | PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of the bootstrap and of randomised models; null: the experiment's seed"},
    {"batch_size", PVX_PARAM_INT, "64", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 4096, NULL,
     "images per forward of the metrics' perturbed inputs"},
    {"methods", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "explanation methods scored (their maps under /maps); empty: every one"},
    PVX_PARAM_SPEC_END,
};

static const PvxConfigSectionSpec metrics_children[] = {
    {"compute", PVX_SECTION_LIST, PVX_KIND_METRIC, NULL, NULL,
     "metric plugins, each {plugin: NAME, params: {...}} (the stage needs at least one)"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static const char *const study_types[] = {"pairwise", "identify", NULL};
static const char *const study_pairs[] = {"all", "reference", NULL};
static const char *const study_renderings[] = {"heat", "occlusion", NULL};

/* The study stage and pvx study export (core/study/export.c, docs/study.md). */
static const PvxParamSpec study_params[] = {
    {"base_url", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL,
     "prefix of the image URLs in tasks.csv (where upload/ is hosted); empty: relative URLs"},
    {"display_size", PVX_PARAM_INT, "224", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 4096, NULL,
     "pictures are enlarged by an integer factor until their shorter side reaches this"},
    {"seed", PVX_PARAM_INT, NULL, PVX_PARAM_NULLABLE | PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of image choice, sides and task order; null: the experiment's seed"},
    PVX_PARAM_SPEC_END,
};

static const PvxParamSpec study_design_params[] = {
    {"name", PVX_PARAM_STRING, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL,
     "design name, the folder <run dir>/study/<name>"},
    {"type", PVX_PARAM_CHOICE, "pairwise", 0, 0, 0, study_types,
     "pairwise: two maps side by side, which is more reasonable; identify: which class an "
     "occlusion map shows"},
    {"method", PVX_PARAM_STRING, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL,
     "explanation method whose maps are shown; null: the run's first"},
    {"models", PVX_PARAM_INT_LIST, "[1, 2]", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "compression rates compared (CR 1 is the unpruned model)"},
    {"pairs", PVX_PARAM_CHOICE, "all", 0, 0, 0, study_pairs,
     "pairwise: every pair of models, or each model against `reference`"},
    {"reference", PVX_PARAM_INT, "1", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "pairwise with pairs reference: the CR every other model is compared with"},
    {"scale", PVX_PARAM_INT, "5", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 3, 7, NULL,
     "pairwise answer scale: 3 (pre-study), 5 (Likert, Experiment 1) or 7"},
    {"rendering", PVX_PARAM_CHOICE, "heat", 0, 0, 0, study_renderings,
     "heat map or occlusion map (identify uses occlusion unless this is given)"},
    {"per_class", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "images per class, drawn among those every model classifies correctly; 0: all of them"},
    {"raters", PVX_PARAM_INT, "5", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 1000, NULL,
     "raters (assignments) per task; simulate's default"},
    {"dont_know", PVX_PARAM_STRING, "\"I do not know\"", 0, 0, 0, NULL,
     "identify: the answer for \"I don't know / none of these\""},
    PVX_PARAM_SPEC_END,
};

static const PvxConfigSectionSpec study_children[] = {
    {"designs", PVX_SECTION_LIST, 0, study_design_params, NULL,
     "study designs, each exported to <run dir>/study/<name>"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Core keys of the model section, besides plugin and params. */
static const PvxParamSpec model_params[] = {
    {"weights", PVX_PARAM_PATH, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL,
     "HDF5 weights to start from (FILE or FILE:/group; default group /weights), e.g. "
     "torchvision's converted with tools/convert_torchvision.py; null: the plugin's seeded "
     "initialisation"},
    {"weights_exclude", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "state tensors (names or globs) not taken from `weights`, e.g. [classifier.6.*] for a new "
     "head with another number of classes"},
    PVX_PARAM_SPEC_END,
};

static const PvxConfigSectionSpec sections[] = {
    {"dataset", PVX_SECTION_REQUIRED, PVX_KIND_DATASET, NULL, NULL,
     "the dataset plugin and its params"},
    {"preview", 0, 0, preview_params, NULL, "a grid of dataset images (pvx data preview)"},
    {"model", 0, PVX_KIND_MODEL, model_params, NULL,
     "the model plugin and its params (the train stage needs it)"},
    {"train", 0, 0, train_params, NULL, "training of the unpruned model (CR 1) with SGD"},
    {"evaluate", 0, 0, evaluate_params, NULL,
     "accuracy of the trained model (top-1, top-5, "
     "per class, confusion)"},
    {"prune", 0, PVX_KIND_PRUNER, prune_params, prune_children,
     "pruning of the trained model to each compression rate, with fine-tuning"},
    {"explain", 0, 0, explain_params, explain_children,
     "explanation maps of every CR model for selected images (heat and occlusion maps)"},
    {"metrics", 0, 0, metrics_params, metrics_children,
     "objective metrics of every method's maps at every CR, with bootstrap CIs and tests"},
    {"study", 0, 0, study_params, study_children,
     "human-study designs exported from the maps (pvx study export)"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static const PvxConfigSectionSpec root = {
    "", 0, 0, root_params, sections, "an experiment",
};

const PvxConfigSectionSpec *pvx_config_schema(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        for (gsize i = 0; i < G_N_ELEMENTS(train_params); i++) {
            finetune_params[i] = train_params[i];
            if (!train_params[i].name)
                break;
            finetune_params[i].default_value = NULL;
            finetune_params[i].flags =
                (train_params[i].flags & ~PVX_PARAM_REQUIRED) | PVX_PARAM_NULLABLE;
            finetune_docs[i] =
                g_strdup_printf("%s (null: the train section's value)", train_params[i].doc);
            finetune_params[i].doc = finetune_docs[i];
        }
        g_once_init_leave(&once, 1);
    }
    return &root;
}
