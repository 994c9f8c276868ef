/* pvx — the study stage of `pvx run`: every design of the config's `study` section exported into
 * <run dir>/study/<name>/, its tasks and key stored under /study/<name>/ in results.h5. */
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/study.h"
#include "pvx-private/run_layout.h"

#define STAGE "study"

/* Column @col of @rows (char ** each) as a string dataset. */
static gboolean write_column(PvxStore *store, const char *path, const GPtrArray *rows, int col,
                             GError **error)
{
    g_autofree const char **v = g_new0(const char *, rows->len + 1);
    for (guint r = 0; r < rows->len; r++)
        v[r] = ((char **)rows->pdata[r])[col];
    return pvx_store_write_strings(store, path, v, error);
}

static gboolean store_export(PvxStore *store, const PvxStudyDesign *d, const PvxStudyExport *ex,
                             GError **error)
{
    g_autofree char *base = pvx_layout_study_design(d->name);
    if (!pvx_store_delete(store, base, error))
        return FALSE;
    for (guint c = 0; c + 1 < ex->task_header->len; c++) {
        g_autofree char *p =
            pvx_layout_study_task_column(d->name, (char *)ex->task_header->pdata[c]);
        if (!write_column(store, p, ex->tasks, (int)c, error))
            return FALSE;
    }
    static const char *const pk[] = {"task_id", "image_id", "class", "left", "right", NULL};
    static const char *const ik[] = {"task_id", "image_id", "class", "model", NULL};
    const char *const *kh = d->type == PVX_STUDY_PAIRWISE ? pk : ik;
    for (int c = 0; kh[c]; c++) {
        g_autofree char *p = pvx_layout_study_key_column(d->name, kh[c]);
        if (!write_column(store, p, ex->key, c, error))
            return FALSE;
    }
    g_autoptr(GString) models = g_string_new(NULL);
    for (int m = 0; m < d->n_models; m++) {
        g_autofree char *name = pvx_layout_model_name(d->models[m]);
        g_string_append_printf(models, "%s%s", m ? "," : "", name);
    }
    return pvx_store_set_attr_string(store, base, "type", pvx_study_type_name(d->type), error) &&
           pvx_store_set_attr_int(store, base, "scale", d->scale, error) &&
           pvx_store_set_attr_string(store, base, "rendering", d->occlusion ? "occlusion" : "heat",
                                     error) &&
           pvx_store_set_attr_string(store, base, "models", models->str, error) &&
           pvx_store_set_attr_int(store, base, "images", ex->images, error) &&
           pvx_store_set_attr_int(store, base, "tasks", ex->tasks->len, error) &&
           pvx_store_set_attr_string(store, base, "dir", ex->dir, error);
}

gboolean pvx_stage_study(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds, GError **error)
{
    (void)reg;
    g_return_val_if_fail(run && ds, FALSE);
    if (pvx_run_stage_finished(run, STAGE)) {
        g_message("study: already finished");
        return TRUE;
    }
    const PvxConfig *cfg = pvx_run_config(run);
    g_autoptr(GArray) designs = pvx_study_designs_from_config(cfg, error);
    if (!designs)
        return FALSE;
    if (designs->len == 0)
        return TRUE;
    g_autofree char *out = g_build_filename(pvx_run_dir(run), "study", NULL);
    if (!pvx_run_stage_begin(run, STAGE, error))
        return FALSE;
    PvxStore *store = pvx_run_store(run);
    for (guint i = 0; i < designs->len; i++) {
        const PvxStudyDesign *d = &g_array_index(designs, PvxStudyDesign, i);
        g_autoptr(PvxStudyExport) ex = pvx_study_export(store, cfg, ds, d, out, error);
        if (!ex || !store_export(store, d, ex, error)) {
            pvx_store_abort(store);
            return FALSE;
        }
        printf("study %s: %u tasks in %s\n", d->name, ex->tasks->len, ex->dir);
    }
    return pvx_run_stage_end(run, error);
}
