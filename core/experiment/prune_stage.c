/* pvx — the prune stage of `pvx run`: schedules over the core's pruning step, fine-tuning,
 * evaluation and storage per compression rate (what it writes: pvx-private/prune_stage.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/prune_stage.h"
#include "pvx-private/run_layout.h"

/* ---------------------------------------------------------------------------------------------
 * Config.
 */

static const char *const *string_list(const PvxParams *p, const char *key)
{
    gsize n = 0;
    return pvx_params_get_string_list(p, key, &n);
}

static char **select_layers(const PvxConfig *cfg, const PvxModel *model, GError **error)
{
    const PvxParams *p = pvx_config_section(cfg, "prune");
    PvxLayerSelection sel = {
        .kinds = string_list(p, "kinds"),
        .include = string_list(p, "include"),
        .exclude = string_list(p, "exclude"),
    };
    char **layers = pvx_prune_select_layers(model, &sel, error);
    if (!layers)
        g_prefix_error(error, "%s: prune: ", pvx_config_path(cfg));
    return layers;
}

static double *rates_of(const PvxConfig *cfg, int *n)
{
    gsize len = 0;
    const int64_t *r = pvx_params_get_int_list(pvx_config_section(cfg, "prune"), "rates", &len);
    double *out = g_new0(double, len + 1);
    for (gsize i = 0; i < len; i++)
        out[i] = (double)r[i];
    *n = (int)len;
    return out;
}

static PvxPruneSchedule schedule_of(const PvxConfig *cfg)
{
    PvxPruneSchedule s = PVX_PRUNE_ITERATIVE;
    pvx_prune_schedule_from_name(
        pvx_params_get_string(pvx_config_section(cfg, "prune"), "schedule"), &s);
    return s;
}

/* The ranking of this run: prune.scope, or what an ABI 1.0 pruner asks for through its own scope
 * slot when prune.scope is left at its default (1.0 pruners declared the scope as their own
 * parameter). Both given and different is an error naming both, so a 1.0 config never silently
 * changes its masks. */
static gboolean resolve_scope(const PvxConfig *cfg, const PvxPruner *pruner, gboolean say,
                              PvxPruneScope *out, GError **error)
{
    const PvxParams *p = pvx_config_section(cfg, "prune");
    /* The schema allows only the scope names. */
    pvx_prune_scope_from_name(pvx_params_get_string(p, "scope"), out);
    PvxPruneScope legacy;
    if (!pvx_pruner_legacy_scope(pruner, &legacy) || legacy == *out)
        return TRUE;
    const char *asked = legacy == PVX_PRUNE_SCOPE_GLOBAL ? "global" : "local";
    if (pvx_params_is_set(p, "scope")) {
        g_set_error(
            error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
            "%s: prune.scope is %s, but pruner %s (plugin ABI 1.0) ranks %s through its own "
            "scope parameter: make them agree (since ABI 1.1 the scope is prune.scope)",
            pvx_params_where(p, "scope"), pvx_params_get_string(p, "scope"),
            pvx_pruner_name(pruner), asked);
        return FALSE;
    }
    if (say)
        g_message("prune: pruner %s (plugin ABI 1.0) ranks %s through its own scope parameter; "
                  "following it (prune.scope is not set)",
                  pvx_pruner_name(pruner), asked);
    *out = legacy;
    return TRUE;
}

gboolean pvx_prune_check_config(const PvxConfig *cfg, const PvxModel *model, GError **error)
{
    if (!pvx_config_has_section(cfg, "prune"))
        return TRUE;
    const PvxParams *p = pvx_config_section(cfg, "prune");
    int n = 0;
    g_autofree double *rates = rates_of(cfg, &n);
    if (!pvx_prune_check_rates(rates, n, pvx_params_where(p, "rates"), error))
        return FALSE;
    if (rates[0] == 1.0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: leave 1 out of the rates: the unpruned model (CR 1) is always evaluated "
                    "and stored",
                    pvx_params_where(p, "rates"));
        return FALSE;
    }
    if (!pvx_config_has_section(cfg, "train")) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the prune section needs a train section (the model is trained, then "
                    "pruned and fine-tuned)",
                    pvx_config_path(cfg));
        return FALSE;
    }
    g_auto(GStrv) layers = select_layers(cfg, model, error);
    if (!layers)
        return FALSE;
    const PvxParams *pp = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "prune", 0, &pp);
    g_autoptr(PvxPruner) pruner = pvx_pruner_open(plugin, pp, error);
    PvxPruneScope scope;
    if (!pruner || !resolve_scope(cfg, pruner, FALSE, &scope, error))
        return FALSE;
    const PvxPrunerClass *k = plugin->desc->klass;
    if (k->flags & PVX_PRUNER_STRUCTURED)
        for (char **l = layers; *l; l++) {
            const PvxLayer *layer = pvx_model_find_layer(model, *l, NULL);
            if (layer->type != PVX_LAYER_CONV2D) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                            "%s: pruner %s removes whole conv filters, but the selection includes "
                            "%s, a %s layer (use kinds: [conv2d, depthwise])",
                            pvx_params_where(p, "kinds"), plugin->desc->name, *l,
                            pvx_layer_type_name(layer->type));
                return FALSE;
            }
        }
    return TRUE;
}

GArray *pvx_prune_run_crs(const PvxConfig *cfg)
{
    GArray *crs = g_array_new(FALSE, FALSE, sizeof(int));
    int one = 1;
    g_array_append_val(crs, one);
    if (!pvx_config_has_section(cfg, "prune"))
        return crs;
    int n = 0;
    g_autofree double *rates = rates_of(cfg, &n);
    for (int i = schedule_of(cfg) == PVX_PRUNE_GRADUAL ? n - 1 : 0; i < n; i++) {
        int cr = (int)rates[i];
        g_array_append_val(crs, cr);
    }
    return crs;
}

/* ---------------------------------------------------------------------------------------------
 * Gradients for pruners that need them: batches of training data in a seeded order.
 */

typedef struct {
    PvxLoader *loader;
    PvxModel *model;
    int next; /* batches handed out so far in this pass */
} GradientSource;

static gboolean gradients_of_batch(const PvxPruneContext *ctx, int batch, GError **error)
{
    GradientSource *g = ctx->core_data;
    if (batch == 0 || batch != g->next) {
        pvx_loader_start(g->loader, TRUE, ctx->seed, 0);
        g->next = 0;
        for (; g->next < batch; g->next++) {
            PvxBatch skip;
            if (!pvx_loader_next(g->loader, &skip, error))
                return FALSE;
        }
    }
    PvxBatch b;
    if (!pvx_loader_next(g->loader, &b, error)) {
        if (error && !*error)
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "batch %d asked for, the training split has %" G_GINT64_FORMAT, batch,
                        pvx_loader_num_batches(g->loader));
        return FALSE;
    }
    g->next++;
    pvx_model_zero_grad(g->model);
    g_autoptr(PvxTensor) logits = pvx_model_forward(g->model, b.x, PVX_FORWARD_EXPLAIN, error);
    if (!logits)
        return FALSE;
    double loss;
    g_autoptr(PvxTensor) dlogits = NULL;
    return pvx_cross_entropy_forward(logits, b.labels, &loss, error) &&
           pvx_cross_entropy_backward(logits, b.labels, 1.0, &dlogits, error) &&
           pvx_model_backward(g->model, dlogits, TRUE, NULL, error);
}

/* ---------------------------------------------------------------------------------------------
 * The stage.
 */

typedef struct {
    PvxRun *run;
    const PvxRegistry *reg;
    const PvxDataset *ds;
    PvxModel *model;
    const PvxConfig *cfg;
    char **layers;
    PvxPruner *pruner;
    PvxPruneScope scope; /* prune.scope */
    const char *pruner_name;
    const char *schedule;
    GradientSource grads;
    PvxPruneGradients grad_source;
    GString *table;
} Pruning;

static void table_row(Pruning *p, int cr, const PvxPruneStats *st, double before, double top1,
                      double top5, double seconds)
{
    char row[256];
    g_snprintf(row, sizeof row, "  %6d %9.2f %11.4f %8.4f %8.4f %11.2f %10.2f %8.1f\n", cr,
               st ? st->cr : 1.0, before, top1, top5, st ? st->model_ratio : 1.0,
               st ? st->flop_reduction : 1.0, seconds);
    g_string_append(p->table, row);
}

gboolean pvx_load_cr_model(PvxModel *model, PvxStore *store, int cr, GError **error)
{
    g_autofree char *w = pvx_layout_model_weights(cr);
    g_autofree char *m = pvx_layout_model_masks(cr);
    if (!pvx_store_exists(store, w)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s has no weights for CR %d (%s); train or prune that CR first",
                    pvx_store_path(store), cr, w);
        return FALSE;
    }
    pvx_model_clear_masks(model);
    return pvx_model_load_weights(model, store, w, error) &&
           (!pvx_store_exists(store, m) || pvx_model_load_masks(model, store, m, error));
}

/* Fine-tunes rate @cr with prune.finetune under its train group; resumes from a checkpoint
 * there. */
static gboolean finetune(Pruning *p, int cr, int *epochs_out, GError **error)
{
    PvxTrainParams tp;
    pvx_train_params_from_config(p->cfg, "prune.finetune", &tp);
    *epochs_out = tp.epochs;
    if (tp.epochs == 0)
        return TRUE;
    g_autoptr(PvxTrainer) trainer = pvx_trainer_new(p->model, p->ds, &tp, error);
    if (!trainer) {
        g_prefix_error(error, "%s: prune.finetune: ", pvx_config_path(p->cfg));
        return FALSE;
    }
    PvxStore *store = pvx_run_store(p->run);
    g_autofree char *train = pvx_layout_model_train(cr);
    g_autofree char *ckpt = pvx_layout_model_train_checkpoint(cr);
    g_autofree char *hist = pvx_layout_model_train_history(cr);
    if (!pvx_trainer_run(trainer, store, train, error) ||
        !pvx_trainer_write_history(trainer, store, hist, error) ||
        !pvx_store_delete(store, ckpt, error))
        return FALSE;
    int n = 0;
    pvx_trainer_history(trainer, &n);
    return pvx_store_set_attr_int(store, train, "epochs", n, error) &&
           pvx_store_set_attr_int(store, train, "final_epoch", pvx_trainer_final_epoch(trainer),
                                  error);
}

/* Stats, weights, masks, evaluation and attributes of the model at rate @cr. */
static gboolean store_cr(Pruning *p, int cr, double before, double seconds, GError **error)
{
    PvxStore *store = pvx_run_store(p->run);
    g_autofree char *group = pvx_layout_model(cr);
    g_autofree char *w = pvx_layout_model_weights(cr);
    g_autofree char *m = pvx_layout_model_masks(cr);
    PvxPruneStats st;
    if (!pvx_prune_stats(p->model, (const char *const *)p->layers, NULL, &st, error))
        return FALSE;
    double top1 = NAN, top5 = NAN;
    gboolean ok =
        pvx_store_delete(store, w, error) && pvx_model_save_weights(p->model, store, w, error) &&
        pvx_store_delete(store, m, error) && pvx_model_save_masks(p->model, store, m, error) &&
        pvx_prune_stats_write(&st, store, group, error) &&
        pvx_run_evaluate_model(p->run, p->reg, p->ds, p->model, group, FALSE, &top1, &top5,
                               error) &&
        pvx_store_set_attr_string(store, group, "arch", pvx_model_arch(p->model), error) &&
        pvx_store_set_attr_int(store, group, "compression_rate", cr, error) &&
        pvx_store_set_attr_string(store, group, "pruner", p->pruner_name, error) &&
        pvx_store_set_attr_string(store, group, "schedule", p->schedule, error) &&
        pvx_store_set_attr_double(store, group, "top1_before_finetune", before, error) &&
        pvx_store_set_attr_double(store, group, "seconds", seconds, error);
    if (ok) {
        printf("prune: CR %d (achieved %.2f, %s): top-1 %.4f before fine-tuning, %.4f after "
               "(top-5 %.4f), %.1f s\n",
               cr, st.cr, p->pruner_name, before, top1, top5, seconds);
        fflush(stdout);
        table_row(p, cr, &st, before, top1, top5, seconds);
    }
    pvx_prune_stats_clear(&st);
    return ok;
}

/* Accuracy right after pruning, before fine-tuning (ShrinkBench reports both). */
static gboolean accuracy_now(Pruning *p, int cr, double *top1, GError **error)
{
    g_autofree char *pre = pvx_layout_model_pruned(cr);
    return pvx_run_evaluate_model(p->run, p->reg, p->ds, p->model, pre, FALSE, top1, NULL, error);
}

/* One rate of the iterative and one-shot schedules. */
static gboolean prune_rate(Pruning *p, int step, double from_cr, int cr, GError **error)
{
    PvxStore *store = pvx_run_store(p->run);
    g_autofree char *stage = pvx_layout_prune_stage_name(cr);
    g_autofree char *group = pvx_layout_model(cr);
    g_autofree char *masks = pvx_layout_model_masks(cr);
    if (pvx_run_stage_finished(p->run, stage)) {
        g_message("stage %s: finished before; loading %s", stage, group);
        if (!pvx_load_cr_model(p->model, store, cr, error))
            return FALSE;
        double before = NAN, top1 = NAN, top5 = NAN, seconds = NAN;
        PvxPruneStats st;
        if (!pvx_prune_stats(p->model, (const char *const *)p->layers, NULL, &st, error))
            return FALSE;
        pvx_store_get_attr_double(store, group, "top1_before_finetune", &before, NULL);
        pvx_store_get_attr_double(store, group, "seconds", &seconds, NULL);
        const char *split = pvx_params_get_string(pvx_config_section(p->cfg, "evaluate"), "split");
        g_autofree char *eval = pvx_layout_eval(group, split);
        pvx_store_get_attr_double(store, eval, "top1", &top1, NULL);
        pvx_store_get_attr_double(store, eval, "top5", &top5, NULL);
        table_row(p, cr, &st, before, top1, top5, seconds);
        pvx_prune_stats_clear(&st);
        return TRUE;
    }
    gint64 t0 = g_get_monotonic_time();
    if (!pvx_run_stage_begin(p->run, stage, error))
        return FALSE;
    double before = NAN;
    if (pvx_store_exists(store, masks)) {
        /* A fine-tuning that was interrupted: its masks were committed with its first
         * checkpoint; the trainer continues from the checkpoint. */
        g_message("stage %s: resuming the fine-tuning", stage);
        if (!pvx_model_load_masks(p->model, store, masks, error))
            return FALSE;
        pvx_store_get_attr_double(store, group, "top1_before_finetune", &before, NULL);
    } else {
        if (from_cr == 1.0 && step > 0 && !pvx_load_cr_model(p->model, store, 1, error))
            return FALSE; /* one-shot: every rate starts from the unpruned model */
        guint64 seed =
            pvx_hash64((guint64)pvx_params_get_int(pvx_config_section(p->cfg, ""), "seed"),
                       0x7072756e65ULL, (guint64)step);
        p->grads.model = p->model;
        if (!pvx_prune_step(p->model, (const char *const *)p->layers, p->pruner, p->scope, from_cr,
                            cr, seed, step, &p->grad_source, error))
            return FALSE;
        if (!accuracy_now(p, cr, &before, error) ||
            !pvx_model_save_masks(p->model, store, masks, error) ||
            !pvx_store_set_attr_double(store, group, "top1_before_finetune", before, error))
            return FALSE;
    }
    int epochs = 0;
    if (!finetune(p, cr, &epochs, error))
        return FALSE;
    double seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    return store_cr(p, cr, before, seconds, error) && pvx_run_stage_end(p->run, error);
}

/* The gradual (AGP) schedule: one step per epoch towards the last rate, then the fine-tuning. */
static gboolean prune_gradual(Pruning *p, int cr, GError **error)
{
    PvxStore *store = pvx_run_store(p->run);
    if (pvx_run_stage_finished(p->run, "prune-gradual"))
        return pvx_load_cr_model(p->model, store, cr, error);
    gint64 t0 = g_get_monotonic_time();
    /* Interrupted gradual runs start over from the trained model: one stage, one commit. */
    if (!pvx_load_cr_model(p->model, store, 1, error) ||
        !pvx_run_stage_begin(p->run, "prune-gradual", error))
        return FALSE;
    int span = (int)pvx_params_get_int(pvx_config_section(p->cfg, "prune"), "span_epochs");
    PvxTrainParams tp;
    pvx_train_params_from_config(p->cfg, "prune.finetune", &tp);
    tp.epochs = 1;
    tp.early_stopping = FALSE;
    tp.schedule = PVX_LR_CONSTANT;
    tp.warmup_epochs = 0;
    double from = 1.0;
    guint64 root = (guint64)pvx_params_get_int(pvx_config_section(p->cfg, ""), "seed");
    for (int t = 1; t <= span; t++) {
        double to = pvx_prune_agp_cr(cr, t, span);
        p->grads.model = p->model;
        if (to > from &&
            !pvx_prune_step(p->model, (const char *const *)p->layers, p->pruner, p->scope, from, to,
                            pvx_hash64(root, 0x61677000ULL, (guint64)t), t - 1, &p->grad_source,
                            error))
            return FALSE;
        from = MAX(from, to);
        tp.seed = pvx_hash64(root, 0x61677001ULL, (guint64)t);
        g_autoptr(PvxTrainer) trainer = pvx_trainer_new(p->model, p->ds, &tp, error);
        if (!trainer || !pvx_trainer_run(trainer, NULL, NULL, error))
            return FALSE;
        g_message("gradual: epoch %d of %d at CR %.2f", t, span, to);
    }
    g_autofree char *group = pvx_layout_model(cr);
    double before = NAN;
    int epochs = 0;
    if (!accuracy_now(p, cr, &before, error) || !finetune(p, cr, &epochs, error))
        return FALSE;
    double seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
    return store_cr(p, cr, before, seconds, error) &&
           pvx_store_set_attr_int(store, group, "span_epochs", span, error) &&
           pvx_run_stage_end(p->run, error);
}

gboolean pvx_stage_prune(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds, PvxModel *model,
                         GError **error)
{
    const PvxConfig *cfg = pvx_run_config(run);
    if (!pvx_config_has_section(cfg, "prune"))
        return TRUE;
    if (!pvx_prune_check_config(cfg, model, error))
        return FALSE;
    const PvxParams *pp = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "prune", 0, &pp);
    g_autoptr(PvxPruner) pruner = pvx_pruner_open(plugin, pp, error);
    if (!pruner)
        return FALSE;
    Pruning p = {
        .run = run,
        .reg = reg,
        .ds = ds,
        .model = model,
        .cfg = cfg,
        .pruner = pruner,
        .pruner_name = plugin->desc->name,
        .schedule = pvx_params_get_string(pvx_config_section(cfg, "prune"), "schedule"),
        .table = g_string_new(NULL),
    };
    if (!resolve_scope(cfg, pruner, TRUE, &p.scope, error)) {
        g_string_free(p.table, TRUE);
        return FALSE;
    }
    p.layers = select_layers(cfg, model, error);
    if (!p.layers) {
        g_string_free(p.table, TRUE);
        return FALSE;
    }
    PvxTrainParams tp;
    pvx_train_params_from_config(cfg, "prune.finetune", &tp);
    p.grads.loader = pvx_loader_new(ds, PVX_SPLIT_TRAIN, NULL, 0, tp.batch_size, NULL, FALSE);
    p.grad_source = (PvxPruneGradients){
        .n_batches = (int)pvx_loader_num_batches(p.grads.loader),
        .gradients = gradients_of_batch,
        .data = &p.grads,
    };
    g_autofree char *names = g_strjoinv(", ", p.layers);
    printf("prune: %s, %s, layers %s\n", p.pruner_name, p.schedule, names);
    fflush(stdout);
    int n = 0;
    g_autofree double *rates = rates_of(cfg, &n);
    PvxStore *store = pvx_run_store(run);
    const char *split = pvx_params_get_string(pvx_config_section(cfg, "evaluate"), "split");
    g_autofree char *cr1 = pvx_layout_model(1);
    g_autofree char *eval1 = pvx_layout_eval(cr1, split);
    double top1 = NAN, top5 = NAN;
    pvx_store_get_attr_double(store, eval1, "top1", &top1, NULL);
    pvx_store_get_attr_double(store, eval1, "top5", &top5, NULL);
    table_row(&p, 1, NULL, top1, top1, top5, 0.0);
    gboolean ok = TRUE;
    PvxPruneSchedule schedule = schedule_of(cfg);
    if (schedule == PVX_PRUNE_GRADUAL) {
        ok = prune_gradual(&p, (int)rates[n - 1], error);
    } else {
        for (int i = 0; i < n && ok; i++) {
            double from = schedule == PVX_PRUNE_ITERATIVE && i > 0 ? rates[i - 1] : 1.0;
            ok = prune_rate(&p, i, from, (int)rates[i], error);
        }
    }
    if (ok) {
        /* The selection and the schedule, for readers of the store (pvx show, reports). */
        ok = pvx_store_begin(store, error) &&
             pvx_store_write_strings(store, pvx_layout_prune_layers(),
                                     (const char *const *)p.layers, error) &&
             pvx_store_set_attr_string(store, pvx_layout_prune(), "pruner", p.pruner_name, error) &&
             pvx_store_set_attr_string(store, pvx_layout_prune(), "schedule", p.schedule, error) &&
             pvx_store_commit(store, error);
        printf("\nprune: %s (%s), test split '%s'\n"
               "  %6s %9s %11s %8s %8s %11s %10s %8s\n%s",
               p.pruner_name, p.schedule, split, "CR", "achieved", "top1 pruned", "top1", "top5",
               "param ratio", "FLOPs red.", "seconds", p.table->str);
        fflush(stdout);
    }
    pvx_loader_free(p.grads.loader);
    g_strfreev(p.layers);
    g_string_free(p.table, TRUE);
    return ok;
}
