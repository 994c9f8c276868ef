/* pvx — run folders, provenance and stage records. */
#include <errno.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/experiment.h"
#include "pvx-private/run_layout.h"

struct _PvxRun {
    const PvxConfig *cfg;
    char *dir;
    PvxStore *store;
    char *stage;        /* the open stage, or NULL */
    gint64 stage_start; /* monotonic µs */
    char *stage_started_at;
    char *work_stage;  /* pvx_run_stage_work_begins: the stage whose work began before */
    gint64 work_start; /* its transaction, and when (monotonic µs, ISO 8601) */
    char *work_started_at;
};

static char *utc_now_iso8601(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

static char *pick_run_dir(const char *parent, const char *run_id)
{
    if (run_id)
        return g_build_filename(parent, run_id, NULL);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    char *dir = g_build_filename(parent, stamp, NULL);
    for (int n = 2; g_file_test(dir, G_FILE_TEST_EXISTS); n++) {
        g_free(dir);
        g_autofree char *id = g_strdup_printf("%s-%d", stamp, n);
        dir = g_build_filename(parent, id, NULL);
    }
    return dir;
}

static gboolean write_provenance(PvxRun *run, const PvxRegistry *reg, GError **error)
{
    PvxStore *s = run->store;
    const PvxParams *root = pvx_config_section(run->cfg, "");
    g_autofree char *resolved = pvx_config_resolved_text(run->cfg);
    g_autofree char *started = utc_now_iso8601();
    g_autofree char *abi = g_strdup_printf("%d.%d", PVX_ABI_MAJOR, PVX_ABI_MINOR);
    const char *const *overrides = pvx_config_overrides(run->cfg);
    g_autofree char *overrides_text =
        overrides ? g_strjoinv("\n", (char **)overrides) : g_strdup("");

    g_autoptr(GPtrArray) plugins = pvx_registry_list(reg, 0);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < plugins->len; i++) {
        const PvxPlugin *p = g_ptr_array_index(plugins, i);
        g_ptr_array_add(lines, g_strdup_printf("%s %s %s %s", pvx_plugin_kind_name(p->desc->kind),
                                               p->desc->name, p->desc->version, p->path));
    }
    g_ptr_array_add(lines, NULL);

    return pvx_store_set_attr_string(s, pvx_layout_config(), "path", pvx_config_path(run->cfg),
                                     error) &&
           pvx_store_set_attr_string(s, pvx_layout_config(), "given", pvx_config_text(run->cfg),
                                     error) &&
           pvx_store_set_attr_string(s, pvx_layout_config(), "overrides", overrides_text, error) &&
           pvx_store_set_attr_string(s, pvx_layout_config(), "resolved", resolved, error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "pvx_version", pvx_version(),
                                     error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "abi", abi, error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "host", g_get_host_name(),
                                     error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "experiment",
                                     pvx_params_get_string(root, "name"), error) &&
           pvx_store_set_attr_int(s, pvx_layout_provenance(), "seed",
                                  pvx_params_get_int(root, "seed"), error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "start_time", started, error) &&
           pvx_store_set_attr_string(s, pvx_layout_provenance(), "state", "running", error) &&
           pvx_store_write_strings(s, pvx_layout_provenance_plugins(),
                                   (const char *const *)lines->pdata, error);
}

PvxRun *pvx_run_create(const PvxConfig *cfg, const PvxRegistry *reg, const char *run_id,
                       GError **error)
{
    const PvxParams *root = pvx_config_section(cfg, "");
    g_return_val_if_fail(root != NULL, NULL);
    /* A run stays inside <output>/<name>/: both names are one folder each. */
    if ((run_id && !pvx_folder_name_check("--run-id", run_id, error)) ||
        !pvx_folder_name_check("the experiment's name", pvx_params_get_string(root, "name"), error))
        return NULL;
    /* Runs go under the folder pvx runs in (not the config's), as researchers expect of
     * `pvx run configs/x.yaml` from the project root. */
    g_autofree char *output = g_canonicalize_filename(pvx_params_get_string(root, "output"), NULL);
    g_autofree char *parent = g_build_filename(output, pvx_params_get_string(root, "name"), NULL);
    g_autofree char *dir = pick_run_dir(parent, run_id);
    if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: a run folder of that name already exists", dir);
        return NULL;
    }
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: cannot create run folder: %s", dir,
                    g_strerror(e));
        return NULL;
    }
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    PvxStore *store = pvx_store_create(path, error);
    if (!store)
        return NULL;
    PvxRun *run = g_new0(PvxRun, 1);
    run->cfg = cfg;
    run->dir = g_steal_pointer(&dir);
    run->store = store;
    if (!pvx_store_begin(store, error) || !write_provenance(run, reg, error) ||
        !pvx_store_commit(store, error)) {
        pvx_store_abort(store);
        pvx_run_free(run);
        return NULL;
    }
    g_message("run folder: %s", run->dir);
    return run;
}

char *pvx_run_read_config(const char *dir, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    g_autoptr(PvxStore) store = pvx_store_open(path, FALSE, error);
    if (!store)
        return NULL;
    return pvx_store_get_attr_string(store, pvx_layout_config(), "resolved", error);
}

PvxRun *pvx_run_open(const char *dir, const PvxConfig *cfg, GError **error)
{
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    PvxStore *store = pvx_store_open(path, TRUE, error);
    if (!store)
        return NULL;
    PvxRun *run = g_new0(PvxRun, 1);
    run->cfg = cfg;
    run->dir = g_canonicalize_filename(dir, NULL);
    run->store = store;
    g_autofree char *resumed = utc_now_iso8601();
    if (!pvx_store_begin(store, error) ||
        !pvx_store_set_attr_string(store, pvx_layout_provenance(), "state", "running", error) ||
        !pvx_store_set_attr_string(store, pvx_layout_provenance(), "resumed_time", resumed,
                                   error) ||
        !pvx_store_commit(store, error)) {
        pvx_store_abort(store);
        pvx_run_free(run);
        return NULL;
    }
    g_message("resuming run: %s", run->dir);
    return run;
}

gboolean pvx_run_stage_finished(PvxRun *run, const char *stage)
{
    g_autofree char *group = pvx_layout_stage(stage);
    if (!pvx_store_exists(run->store, group))
        return FALSE;
    g_autofree char *state = pvx_store_get_attr_string(run->store, group, "state", NULL);
    return state && strcmp(state, "finished") == 0;
}

void pvx_run_free(PvxRun *run)
{
    if (!run)
        return;
    if (run->store)
        pvx_store_close(run->store);
    g_free(run->dir);
    g_free(run->stage);
    g_free(run->stage_started_at);
    g_free(run->work_stage);
    g_free(run->work_started_at);
    g_free(run);
}

const char *pvx_run_dir(const PvxRun *run)
{
    return run->dir;
}

PvxStore *pvx_run_store(const PvxRun *run)
{
    return run->store;
}

const PvxConfig *pvx_run_config(const PvxRun *run)
{
    return run->cfg;
}

gboolean pvx_run_stage_begin(PvxRun *run, const char *stage, GError **error)
{
    g_return_val_if_fail(run->stage == NULL, FALSE);
    if (!pvx_store_begin(run->store, error))
        return FALSE;
    run->stage = g_strdup(stage);
    if (run->work_stage && strcmp(run->work_stage, stage) == 0) {
        run->stage_start = run->work_start;
        run->stage_started_at = g_steal_pointer(&run->work_started_at);
    } else {
        run->stage_start = g_get_monotonic_time();
        run->stage_started_at = utc_now_iso8601();
        g_message("stage %s", stage);
    }
    g_clear_pointer(&run->work_stage, g_free);
    g_clear_pointer(&run->work_started_at, g_free);
    return TRUE;
}

void pvx_run_stage_work_begins(PvxRun *run, const char *stage)
{
    g_return_if_fail(run != NULL && stage != NULL);
    g_free(run->work_stage);
    g_free(run->work_started_at);
    run->work_stage = g_strdup(stage);
    run->work_start = g_get_monotonic_time();
    run->work_started_at = utc_now_iso8601();
    g_message("stage %s", stage);
}

gboolean pvx_run_stage_end(PvxRun *run, GError **error)
{
    g_return_val_if_fail(run->stage != NULL, FALSE);
    g_autofree char *group = pvx_layout_stage(run->stage);
    g_autofree char *ended = utc_now_iso8601();
    double seconds = (double)(g_get_monotonic_time() - run->stage_start) / 1e6;
    gboolean ok =
        pvx_store_set_attr_string(run->store, group, "state", "finished", error) &&
        pvx_store_set_attr_string(run->store, group, "start_time", run->stage_started_at, error) &&
        pvx_store_set_attr_string(run->store, group, "end_time", ended, error) &&
        pvx_store_set_attr_double(run->store, group, "seconds", seconds, error) &&
        pvx_store_commit(run->store, error);
    if (!ok)
        pvx_store_abort(run->store);
    else
        g_message("stage %s finished in %.1f s", run->stage, seconds);
    g_clear_pointer(&run->stage, g_free);
    g_clear_pointer(&run->stage_started_at, g_free);
    return ok;
}

gboolean pvx_run_record_dataset(PvxRun *run, const PvxDataset *ds, GError **error)
{
    PvxStore *s = run->store;
    int n = pvx_dataset_num_classes(ds);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (int c = 0; c < n; c++)
        g_ptr_array_add(names, (gpointer)pvx_dataset_class_name(ds, c));
    g_ptr_array_add(names, NULL);
    int64_t sizes[PVX_SPLIT_COUNT];
    for (int sp = 0; sp < PVX_SPLIT_COUNT; sp++)
        sizes[sp] = pvx_dataset_split_size(ds, (PvxSplit)sp);
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    int64_t n_splits = PVX_SPLIT_COUNT, three = 3;
    return pvx_store_set_attr_string(s, pvx_layout_dataset(), "plugin", pvx_dataset_name(ds),
                                     error) &&
           pvx_store_set_attr_string(s, pvx_layout_dataset(), "plugin_version",
                                     pvx_dataset_plugin(ds)->desc->version, error) &&
           pvx_store_set_attr_int(s, pvx_layout_dataset(), "has_masks", pvx_dataset_has_masks(ds),
                                  error) &&
           pvx_store_write_strings(s, pvx_layout_dataset_class_names(),
                                   (const char *const *)names->pdata, error) &&
           pvx_store_write_i64(s, pvx_layout_dataset_split_sizes(), 1, &n_splits, sizes, error) &&
           pvx_store_set_attr_string(s, pvx_layout_dataset_split_sizes(), "order",
                                     "train,val,test (-1: none)", error) &&
           pvx_store_write_i64(s, pvx_layout_dataset_item_shape(), 1, &three, chw, error);
}

static gboolean set_final_state(PvxRun *run, const char *state, const char *message, GError **error)
{
    g_autofree char *ended = utc_now_iso8601();
    gboolean ok =
        pvx_store_begin(run->store, error) &&
        pvx_store_set_attr_string(run->store, pvx_layout_provenance(), "state", state, error) &&
        pvx_store_set_attr_string(run->store, pvx_layout_provenance(), "end_time", ended, error) &&
        (!message || pvx_store_set_attr_string(run->store, pvx_layout_provenance(), "failure",
                                               message, error)) &&
        pvx_store_commit(run->store, error);
    if (!ok)
        pvx_store_abort(run->store);
    return ok;
}

gboolean pvx_run_finish(PvxRun *run, GError **error)
{
    g_return_val_if_fail(run->stage == NULL, FALSE);
    return set_final_state(run, "finished", NULL, error);
}

void pvx_run_fail(PvxRun *run, const GError *reason)
{
    if (pvx_store_in_transaction(run->store))
        pvx_store_abort(run->store);
    g_clear_pointer(&run->stage, g_free);
    g_clear_pointer(&run->stage_started_at, g_free);
    g_autoptr(GError) error = NULL;
    if (!set_final_state(run, "failed", reason ? reason->message : "unknown", &error))
        g_warning("could not record the failure in %s: %s", pvx_store_path(run->store),
                  error->message);
}
