/* Tests of the kandinsky dataset plugin: determinism, the deciding-object rule, masks against the
 * drawn pixels, shape geometry, class balance, noise level and concurrent access. The scene code
 * (kandinsky_scene.c) is compiled into this test so scenes can be checked object by object. */
#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

#include "kandinsky_scene.h"

static PvxRegistry *registry;
static const PvxPlugin *plugin;

static PvxDataset *open_kd(const char *const *pairs, GError **error)
{
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(plugin->params, "dataset kandinsky", pairs, error);
    if (!params)
        return NULL;
    return pvx_dataset_open(plugin, params, error);
}

static PvxDataset *open_ok(const char *const *pairs)
{
    g_autoptr(GError) error = NULL;
    PvxDataset *ds = open_kd(pairs, &error);
    g_assert_no_error(error);
    g_assert_nonnull(ds);
    return ds;
}

static void get(PvxDataset *ds, PvxSplit split, int64_t index, PvxDatasetItem *item)
{
    g_autoptr(GError) error = NULL;
    memset(item, 0, sizeof *item);
    g_assert_true(pvx_dataset_get_item(ds, split, index, item, &error));
    g_assert_no_error(error);
}

static gboolean same_item(const PvxDatasetItem *a, const PvxDatasetItem *b)
{
    gsize n = (gsize)pvx_tensor_numel(a->image);
    gsize m = (gsize)pvx_tensor_numel(a->mask);
    return a->label == b->label && pvx_tensor_numel(b->image) == (int64_t)n &&
           memcmp(a->image->data, b->image->data, n * sizeof(float)) == 0 &&
           memcmp(a->mask->data, b->mask->data, m * sizeof(float)) == 0 &&
           memcmp(a->raw->data, b->raw->data, n) == 0 && strcmp(a->id, b->id) == 0;
}

static void same_seed_gives_identical_items_other_seed_differs(void)
{
    const char *s7[] = {"seed=7", NULL};
    const char *s8[] = {"seed=8", NULL};
    g_autoptr(PvxDataset) a = open_ok(s7);
    g_autoptr(PvxDataset) b = open_ok(s7);
    g_autoptr(PvxDataset) c = open_ok(s8);
    int differ = 0;
    for (int64_t i = 0; i < 20; i++) {
        PvxDatasetItem x, y, z;
        get(a, PVX_SPLIT_VAL, i, &x);
        get(b, PVX_SPLIT_VAL, i, &y);
        get(c, PVX_SPLIT_VAL, i, &z);
        g_assert_true(same_item(&x, &y));
        differ += memcmp(x.mask->data, z.mask->data, sizeof(float) * 64 * 64) != 0;
        g_assert_false(memcmp(x.raw->data, z.raw->data, 64 * 64 * 3) == 0);
        pvx_dataset_item_clear(&x);
        pvx_dataset_item_clear(&y);
        pvx_dataset_item_clear(&z);
    }
    /* Another seed moves the deciding object, not only the noise. */
    g_assert_cmpint(differ, >=, 18);
}

static void splits_have_their_sizes_and_differ(void)
{
    g_autoptr(PvxDataset) ds = open_ok(NULL);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN), ==, 5000);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_VAL), ==, 1000);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TEST), ==, 1000);
    g_assert_true(pvx_dataset_has_masks(ds));
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    g_assert_cmpint(chw[0], ==, 3);
    g_assert_cmpint(chw[1], ==, 64);
    g_assert_cmpint(chw[2], ==, 64);
    PvxDatasetItem a, b;
    get(ds, PVX_SPLIT_TRAIN, 3, &a);
    get(ds, PVX_SPLIT_TEST, 3, &b);
    g_assert_cmpstr(a.id, ==, "train-000003");
    g_assert_cmpstr(b.id, ==, "test-000003");
    g_assert_false(memcmp(a.raw->data, b.raw->data, 64 * 64 * 3) == 0);
    pvx_dataset_item_clear(&a);
    pvx_dataset_item_clear(&b);

    const char *no_val[] = {"val_size=0", NULL};
    g_autoptr(PvxDataset) nv = open_ok(no_val);
    g_assert_cmpint(pvx_dataset_split_size(nv, PVX_SPLIT_VAL), ==, -1);
}

static void class_names_are_colour_shape_pairs(void)
{
    g_autoptr(PvxDataset) ds = open_ok(NULL);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 4);
    g_assert_cmpstr(pvx_dataset_class_name(ds, 0), ==, "red circle");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 1), ==, "green square");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 2), ==, "blue triangle");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 3), ==, "yellow star");

    /* With many classes every name is still a distinct pair. */
    const char *many[] = {"classes=30", NULL};
    g_autoptr(PvxDataset) m = open_ok(many);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (int c = 0; c < 30; c++)
        g_assert_true(g_hash_table_add(seen, (gpointer)pvx_dataset_class_name(m, c)));
}

static KdConfig config(int size, int classes, int objects, double noise, double min_size,
                       double max_size, gboolean aa, uint64_t seed)
{
    return (KdConfig){.seed = seed,
                      .size = size,
                      .n_classes = classes,
                      .n_objects = objects,
                      .noise = noise,
                      .min_size = min_size,
                      .max_size = max_size,
                      .antialias = aa};
}

static void scenes_hold_one_deciding_object_and_distractors_apart(void)
{
    int classes_list[] = {2, 4, 12, 30};
    for (gsize k = 0; k < G_N_ELEMENTS(classes_list); k++) {
        KdConfig cfg = config(64, classes_list[k], 8, 0.1, 0.15, 0.3, TRUE, 11);
        int placed = 0, wanted = 0;
        for (int split = 0; split < 3; split++) {
            for (int64_t i = 0; i < 300; i++) {
                KdScene sc;
                kd_scene_generate(&cfg, split, i, &sc);
                const KdObject *d = &sc.objects[0];
                g_assert_cmpint(kd_combo_class(cfg.n_classes, d->shape, d->colour), ==, sc.label);
                g_assert_cmpint(sc.label, >=, 0);
                g_assert_cmpint(sc.label, <, cfg.n_classes);
                /* wholly inside the picture */
                g_assert_cmpfloat(d->cx - d->r, >=, 0.0);
                g_assert_cmpfloat(d->cx + d->r, <=, 64.0);
                for (int j = 1; j < sc.n_objects; j++) {
                    const KdObject *o = &sc.objects[j];
                    g_assert_cmpint(kd_combo_class(cfg.n_classes, o->shape, o->colour), ==, -1);
                    gboolean apart = fabs(o->cx - d->cx) >= o->r + d->r + 1.0 ||
                                     fabs(o->cy - d->cy) >= o->r + d->r + 1.0;
                    g_assert_true(apart);
                }
                placed += sc.n_objects;
                wanted += 8;
            }
        }
        /* Eight objects of up to 30 % of the side mostly fit. */
        g_assert_cmpfloat((double)placed / wanted, >, 0.9);
    }
}

/* Noise-free and crisp: the mask is exactly the pixels near the deciding object that carry its
 * colour, and nothing else; with antialiasing it is the pixels closer to its colour than to the
 * background. The scene is regenerated here to know where the deciding object lies. */
static void mask_is_exactly_the_deciding_objects_pixels(void)
{
    for (int aa = 0; aa < 2; aa++) {
        const char *pairs[] = {"noise=0",   aa ? "antialias=true" : "antialias=false",
                               "objects=6", "seed=3",
                               "classes=6", NULL};
        g_autoptr(PvxDataset) ds = open_ok(pairs);
        KdConfig cfg = config(64, 6, 6, 0.0, 0.15, 0.3, aa, 3);
        for (int64_t i = 0; i < 200; i++) {
            PvxDatasetItem item;
            get(ds, PVX_SPLIT_TRAIN, i, &item);
            KdScene sc;
            kd_scene_generate(&cfg, PVX_SPLIT_TRAIN, i, &sc);
            const KdObject *d = &sc.objects[0];
            g_assert_cmpint(item.label, ==, sc.label);
            int shape, colour;
            kd_class_combo(item.label, &shape, &colour);
            g_autofree char *name =
                g_strdup_printf("%s %s", kd_colour_name(colour), kd_shape_name(shape));
            g_assert_cmpstr(pvx_dataset_class_name(ds, item.label), ==, name);
            const uint8_t *rgb = kd_colour_rgb(colour);
            int in_mask = 0;
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    float m = item.mask->data[y * 64 + x];
                    g_assert_true(m == 0.0f || m == 1.0f);
                    const uint8_t *px = item.raw->data + (y * 64 + x) * 3;
                    /* Pixels the deciding object can touch have their centres within r + 0.375 of
                     * its centre; a distractor's start beyond r + 0.625. */
                    gboolean near =
                        fabs(x + 0.5 - d->cx) <= d->r + 0.5 && fabs(y + 0.5 - d->cy) <= d->r + 0.5;
                    if (!near) {
                        g_assert_cmpfloat(m, ==, 0.0f);
                        continue;
                    }
                    in_mask += m == 1.0f;
                    if (!aa) {
                        gboolean coloured = px[0] == rgb[0] && px[1] == rgb[1] && px[2] == rgb[2];
                        gboolean grey = px[0] == 128 && px[1] == 128 && px[2] == 128;
                        g_assert_true(coloured || grey); /* no distractor reaches in */
                        g_assert_cmpint(coloured, ==, m == 1.0f);
                    } else {
                        double dc = 0.0, dg = 0.0;
                        for (int c = 0; c < 3; c++) {
                            dc += fabs(px[c] - (double)rgb[c]);
                            dg += fabs(px[c] - 127.5);
                        }
                        if (m == 1.0f)
                            g_assert_cmpfloat(dc, <=, dg + 3.0);
                        else
                            g_assert_cmpfloat(dc, >=, dg - 3.0);
                    }
                    if (m == 1.0f)
                        for (int c = 0; c < 3; c++)
                            g_assert_cmpfloat_with_epsilon(item.image->data[c * 4096 + y * 64 + x],
                                                           (px[c] / 255.0 - 0.5) / 0.5, 1e-6);
                }
            }
            g_assert_cmpint(in_mask, >, 0);
            pvx_dataset_item_clear(&item);
        }
    }
}

/* Large single objects: the mask's share of the bounding box equals each shape's area. At
 * 1024 pixels the edge quantisation (under half a pixel along the outline) stays below 0.0025,
 * well inside the 0.01 that separates the closest pair (cross 0.51, diamond 0.5). */
static void masks_have_each_shapes_area(void)
{
    static const struct {
        const char *shape;
        double share; /* area / (2r)² */
    } want[] = {
        {"circle", G_PI / 4},        {"square", 0.81},
        {"triangle", 1.85 / 4},      {"star", 5 * 0.45 * 0.5877852523 / 4},
        {"cross", (2.4 - 0.36) / 4}, {"diamond", 0.5},
    };
    const char *pairs[] = {"size=1024", "objects=1", "min_size=0.8", "max_size=0.8", "noise=0",
                           "classes=6", NULL};
    g_autoptr(PvxDataset) ds = open_ok(pairs);
    for (int64_t i = 0; i < 6; i++) {
        PvxDatasetItem item;
        get(ds, PVX_SPLIT_TEST, i, &item);
        const char *name = pvx_dataset_class_name(ds, item.label);
        double sum = 0.0;
        for (int p = 0; p < 1024 * 1024; p++)
            sum += item.mask->data[p];
        double share = sum / (819.2 * 819.2);
        gboolean found = FALSE;
        for (gsize k = 0; k < G_N_ELEMENTS(want); k++) {
            if (g_str_has_suffix(name, want[k].shape)) {
                g_test_message("%s: %.4f of the box, expected %.4f", name, share, want[k].share);
                g_assert_cmpfloat_with_epsilon(share, want[k].share, 0.004);
                found = TRUE;
            }
        }
        g_assert_true(found);
        pvx_dataset_item_clear(&item);
    }
}

static void classes_are_balanced_over_a_split(void)
{
    const char *pairs[] = {"classes=5", "train_size=1000", NULL};
    g_autoptr(PvxDataset) ds = open_ok(pairs);
    int count[5] = {0};
    for (int64_t i = 0; i < 1000; i++) {
        PvxDatasetItem item;
        get(ds, PVX_SPLIT_TRAIN, i, &item);
        count[item.label]++;
        pvx_dataset_item_clear(&item);
    }
    for (int c = 0; c < 5; c++)
        g_assert_cmpint(count[c], ==, 200);
}

/* The cheap label query agrees with the label of the drawn item. */
static void item_label_matches_get_item(void)
{
    const char *pairs[] = {"classes=7", "test_size=50", NULL};
    g_autoptr(PvxDataset) ds = open_ok(pairs);
    for (int64_t i = 0; i < 50; i++) {
        PvxDatasetItem item;
        get(ds, PVX_SPLIT_TEST, i, &item);
        g_assert_cmpint(pvx_dataset_get_label(ds, PVX_SPLIT_TEST, i, NULL), ==, item.label);
        pvx_dataset_item_clear(&item);
    }
}

/* Background pixels far from every object: mean 0.5 and std equal to the requested noise. */
static void background_noise_has_requested_std(void)
{
    const char *pairs[] = {"objects=1", "noise=0.1", "seed=5", NULL};
    g_autoptr(PvxDataset) ds = open_ok(pairs);
    KdConfig cfg = config(64, 4, 1, 0.1, 0.15, 0.3, TRUE, 5);
    double sum = 0.0, sum2 = 0.0;
    long n = 0;
    for (int64_t i = 0; i < 50; i++) {
        PvxDatasetItem item;
        get(ds, PVX_SPLIT_TRAIN, i, &item);
        KdScene sc;
        kd_scene_generate(&cfg, PVX_SPLIT_TRAIN, i, &sc);
        g_assert_cmpint(sc.n_objects, ==, 1);
        const KdObject *d = &sc.objects[0];
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) {
                if (fabs(x + 0.5 - d->cx) <= d->r + 1 && fabs(y + 0.5 - d->cy) <= d->r + 1)
                    continue;
                for (int c = 0; c < 3; c++) {
                    double v = item.raw->data[(y * 64 + x) * 3 + c] / 255.0;
                    sum += v;
                    sum2 += v * v;
                    n++;
                }
            }
        pvx_dataset_item_clear(&item);
    }
    double mean = sum / n, std = sqrt(sum2 / n - mean * mean);
    g_test_message("background: mean %.4f std %.4f over %ld values", mean, std, n);
    g_assert_cmpfloat_with_epsilon(mean, 0.5, 0.003);
    g_assert_cmpfloat_with_epsilon(std, 0.1, 0.003);
}

typedef struct {
    PvxDataset *ds;
    PvxDatasetItem items[100];
} FetchJob;

static gpointer fetch_all(gpointer data)
{
    FetchJob *job = data;
    for (int64_t i = 0; i < 100; i++)
        get(job->ds, PVX_SPLIT_TEST, i, &job->items[i]);
    return NULL;
}

static void concurrent_fetches_match_sequential_ones(void)
{
    g_autoptr(PvxDataset) ds = open_ok(NULL);
    FetchJob *a = g_new0(FetchJob, 1), *b = g_new0(FetchJob, 1), *ref = g_new0(FetchJob, 1);
    a->ds = b->ds = ref->ds = ds;
    GThread *ta = g_thread_new("fetch-a", fetch_all, a);
    GThread *tb = g_thread_new("fetch-b", fetch_all, b);
    g_thread_join(ta);
    g_thread_join(tb);
    fetch_all(ref);
    for (int i = 0; i < 100; i++) {
        g_assert_true(same_item(&a->items[i], &ref->items[i]));
        g_assert_true(same_item(&b->items[i], &ref->items[i]));
        pvx_dataset_item_clear(&a->items[i]);
        pvx_dataset_item_clear(&b->items[i]);
        pvx_dataset_item_clear(&ref->items[i]);
    }
    g_free(a);
    g_free(b);
    g_free(ref);
}

static void min_size_above_max_size_is_refused(void)
{
    const char *pairs[] = {"min_size=0.4", "max_size=0.2", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_kd(pairs, &error);
    g_assert_null(ds);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE);
    g_assert_nonnull(strstr(error->message, "min_size"));
    g_assert_nonnull(strstr(error->message, "max_size"));

    const char *tiny[] = {"size=16", "min_size=0.1", NULL};
    g_clear_error(&error);
    g_autoptr(PvxDataset) t = open_kd(tiny, &error);
    g_assert_null(t);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) error = NULL;
    registry = pvx_registry_new();
    if (!pvx_registry_load_file(registry, PVX_KANDINSKY_PLUGIN, &error))
        g_error("%s", error->message);
    plugin = pvx_registry_find(registry, PVX_KIND_DATASET, "kandinsky");
    g_assert_nonnull(plugin);

    g_test_add_func("/kandinsky/same_seed_gives_identical_items_other_seed_differs",
                    same_seed_gives_identical_items_other_seed_differs);
    g_test_add_func("/kandinsky/splits_have_their_sizes_and_differ",
                    splits_have_their_sizes_and_differ);
    g_test_add_func("/kandinsky/class_names_are_colour_shape_pairs",
                    class_names_are_colour_shape_pairs);
    g_test_add_func("/kandinsky/scenes_hold_one_deciding_object_and_distractors_apart",
                    scenes_hold_one_deciding_object_and_distractors_apart);
    g_test_add_func("/kandinsky/mask_is_exactly_the_deciding_objects_pixels",
                    mask_is_exactly_the_deciding_objects_pixels);
    g_test_add_func("/kandinsky/masks_have_each_shapes_area", masks_have_each_shapes_area);
    g_test_add_func("/kandinsky/classes_are_balanced_over_a_split",
                    classes_are_balanced_over_a_split);
    g_test_add_func("/kandinsky/item_label_matches_get_item", item_label_matches_get_item);
    g_test_add_func("/kandinsky/background_noise_has_requested_std",
                    background_noise_has_requested_std);
    g_test_add_func("/kandinsky/concurrent_fetches_match_sequential_ones",
                    concurrent_fetches_match_sequential_ones);
    g_test_add_func("/kandinsky/min_size_above_max_size_is_refused",
                    min_size_above_max_size_is_refused);
    int rc = g_test_run();
    pvx_registry_free(registry);
    return rc;
}
