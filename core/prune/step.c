/* pvx — one pruning step: scores from a pruner plugin, the core's count and tie rules, masks
 * (rules in pvx-private/prune.h). */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/prune.h"
#include "pvx-private/registry.h"

#include "depgraph_private.h"

struct _PvxPruner {
    const PvxPlugin *plugin;
    const PvxPrunerClass *klass;
    gpointer self;
};

PvxPruner *pvx_pruner_open(const PvxPlugin *plugin, const PvxParams *params, GError **error)
{
    g_return_val_if_fail(plugin != NULL && plugin->desc->kind == PVX_KIND_PRUNER, NULL);
    const PvxPrunerClass *k = plugin->desc->klass;
    gpointer self = NULL;
    if (!pvx_plugin_open_instance(plugin, params, &self, error))
        return NULL;
    PvxPruner *p = g_new0(PvxPruner, 1);
    p->plugin = plugin;
    p->klass = k;
    p->self = self;
    return p;
}

void pvx_pruner_close(PvxPruner *p)
{
    if (!p)
        return;
    pvx_plugin_close_instance(p->plugin, p->self);
    g_free(p);
}

const char *pvx_pruner_name(const PvxPruner *p)
{
    return p->plugin->desc->name;
}

guint32 pvx_pruner_flags(const PvxPruner *p)
{
    return p->klass->flags;
}

gboolean pvx_pruner_legacy_scope(const PvxPruner *p, PvxPruneScope *out)
{
    const PvxPrunerClass *k = p->klass;
    if (p->plugin->desc->abi_minor >= 1 ||
        k->size < offsetof(PvxPrunerClass, scope) + sizeof(void *) || !k->scope)
        return FALSE;
    *out = k->scope(p->self) == PVX_PRUNE_SCOPE_GLOBAL ? PVX_PRUNE_SCOPE_GLOBAL
                                                       : PVX_PRUNE_SCOPE_LOCAL;
    return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Selection of the k lowest scores.
 */

/* The k-th smallest (0-based) of v[0..n-1], reordering v (Hoare partitioning, median of three). */
static float kth_smallest(float *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi];
        float pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

typedef struct {
    const float *score; /* n entries */
    float *mask;        /* n entries, the new mask (starts as the old one, or all ones) */
    int64_t n;
} Segment;

/* Prunes the @k lowest-scored kept entries over @segs in order (ties: lower position first). */
static void prune_lowest(Segment *segs, int nseg, int64_t k)
{
    if (k <= 0)
        return;
    int64_t kept = 0;
    for (int s = 0; s < nseg; s++)
        for (int64_t i = 0; i < segs[s].n; i++)
            kept += segs[s].mask[i] != 0.0f;
    g_assert(k <= kept);
    float *v = g_new(float, kept);
    int64_t m = 0;
    for (int s = 0; s < nseg; s++)
        for (int64_t i = 0; i < segs[s].n; i++)
            if (segs[s].mask[i] != 0.0f)
                v[m++] = segs[s].score[i];
    float t = kth_smallest(v, kept, k - 1);
    g_free(v);
    int64_t below = 0;
    for (int s = 0; s < nseg; s++)
        for (int64_t i = 0; i < segs[s].n; i++)
            below += segs[s].mask[i] != 0.0f && segs[s].score[i] < t;
    int64_t ties = k - below; /* entries equal to t still to prune, in position order */
    for (int s = 0; s < nseg; s++)
        for (int64_t i = 0; i < segs[s].n; i++) {
            if (segs[s].mask[i] == 0.0f)
                continue;
            if (segs[s].score[i] < t)
                segs[s].mask[i] = 0.0f;
            else if (segs[s].score[i] == t && ties > 0) {
                segs[s].mask[i] = 0.0f;
                ties--;
            }
        }
}

/* round-half-to-even, as Python's round() (torch.nn.utils.prune's count rule). */
static int64_t round_even(double x)
{
    return (int64_t)nearbyint(x);
}

/* ---------------------------------------------------------------------------------------------
 * Structured: whole coupled channels (depgraph_private.h).
 */

typedef struct {
    PvxLayer *layer;
    int64_t cout, cpg, kk; /* weight [cout, cpg, kk]: cpg input channels per group */
    int64_t out_per_group;
    gboolean depthwise;
    int64_t *cnt;      /* [cout · cpg] kept entries of the old mask per (filter, column) */
    const int *out_ch; /* coupled channel of each output channel */
    const int *in_ch;  /* coupled channel of each input channel of the layer's input */
} SelLayer;

/* The input channel that column @c of filter @o reads. */
static int64_t input_channel(const SelLayer *s, int64_t o, int64_t c)
{
    if (s->depthwise)
        return o;
    return (o / s->out_per_group) * s->cpg + c;
}

/* Channels pruned together (one coupled channel per entry), with the same producers. */
typedef struct {
    GArray *members; /* int: coupled channels */
    int *order;      /* alive members, lowest score first */
    int64_t n_alive;
} ChannelGroup;

static const float *order_scores;
static int compare_by_score(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    float si = order_scores[i], sj = order_scores[j];
    if (si != sj)
        return si < sj ? -1 : 1;
    return (i > j) - (i < j);
}

typedef struct {
    PvxModel *model;
    PvxDepGraph *g;
    SelLayer *sel;
    int n_sel;
    int *sel_of;        /* running index → index in sel, or -1 */
    gboolean *prunable; /* per coupled channel */
    gboolean *alive;    /* per coupled channel */
    gboolean *dead;     /* per coupled channel, the candidate */
    float *score;       /* per coupled channel: sum of its selected producers' filter scores */
    GPtrArray *groups;  /* ChannelGroup* */
} Structured;

static void choose_channels(Structured *st, double frac)
{
    for (int c = 0; c < st->g->n_channels; c++)
        st->dead[c] = st->prunable[c] && !st->alive[c];
    for (guint i = 0; i < st->groups->len; i++) {
        const ChannelGroup *grp = g_ptr_array_index(st->groups, i);
        int64_t k = MIN(round_even(frac * (double)grp->n_alive), grp->n_alive - 1);
        for (int64_t j = 0; j < k; j++)
            st->dead[grp->order[j]] = TRUE;
    }
}

static double candidate_cr(Structured *st, int64_t total, double frac)
{
    choose_channels(st, frac);
    int64_t kept = 0;
    for (int i = 0; i < st->n_sel; i++) {
        const SelLayer *s = &st->sel[i];
        for (int64_t o = 0; o < s->cout; o++) {
            if (st->dead[s->out_ch[o]])
                continue;
            for (int64_t c = 0; c < s->cpg; c++)
                if (!st->dead[s->in_ch[input_channel(s, o, c)]])
                    kept += s->cnt[o * s->cpg + c];
        }
    }
    return kept > 0 ? (double)total / (double)kept : INFINITY;
}

static float *new_mask_of(GHashTable *new_masks, PvxLayer *l)
{
    PvxTensor *m = g_hash_table_lookup(new_masks, l);
    if (!m) {
        m = l->mask ? pvx_tensor_copy(l->mask) : pvx_tensor_new(l->weight->ndim, l->weight->shape);
        if (!l->mask)
            pvx_tensor_fill(m, 1.0f);
        g_hash_table_insert(new_masks, l, m);
    }
    return m->data;
}

/* Masks of the dead coupled channels: every producer's filter, every consumer's input slice. */
static void write_masks(Structured *st, GHashTable *new_masks)
{
    for (int c = 0; c < st->g->n_channels; c++) {
        if (!st->dead[c])
            continue;
        const PvxDepChannel *ch = &st->g->channels[c];
        for (guint k = 0; k < ch->producers->len; k++) {
            const PvxDepMember *p = &g_array_index(ch->producers, PvxDepMember, k);
            PvxLayer *l = pvx_model_layer(st->model, p->layer);
            int64_t row = pvx_tensor_numel(l->weight) / l->weight->shape[0];
            memset(new_mask_of(new_masks, l) + p->channel * row, 0, sizeof(float) * row);
        }
        for (guint k = 0; k < ch->consumers->len; k++) {
            const PvxDepMember *p = &g_array_index(ch->consumers, PvxDepMember, k);
            PvxLayer *l = pvx_model_layer(st->model, p->layer);
            float *m = new_mask_of(new_masks, l);
            int64_t rows = l->weight->shape[0], cols = l->weight->shape[1];
            int64_t kk =
                l->type == PVX_LAYER_CONV2D ? l->weight->shape[2] * l->weight->shape[3] : p->block;
            for (int64_t o = 0; o < rows; o++) {
                float *at = l->type == PVX_LAYER_CONV2D ? m + (o * cols + p->channel) * kk
                                                        : m + o * cols + p->channel * p->block;
                memset(at, 0, sizeof(float) * kk);
            }
        }
    }
}

/* Coupled channels that can go: not fixed, read by some layer, made by at least one selected
 * layer, and by no unselected layer other than a depthwise conv (which follows its input). */
static void find_prunable(Structured *st)
{
    for (int c = 0; c < st->g->n_channels; c++) {
        const PvxDepChannel *ch = &st->g->channels[c];
        gboolean ok = !ch->fixed && ch->consumers->len > 0, any = FALSE;
        for (guint k = 0; k < ch->producers->len && ok; k++) {
            const PvxDepMember *p = &g_array_index(ch->producers, PvxDepMember, k);
            const PvxLayer *l = pvx_model_layer(st->model, p->layer);
            if (st->sel_of[p->layer] >= 0)
                any = TRUE;
            else if (!(l->groups > 1 && l->groups == l->in_features))
                ok = FALSE;
        }
        st->prunable[c] = ok && any;
    }
}

static void build_groups(Structured *st, PvxTensor **scores)
{
    GHashTable *by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int c = 0; c < st->g->n_channels; c++) {
        if (!st->prunable[c])
            continue;
        const PvxDepChannel *ch = &st->g->channels[c];
        g_autoptr(GString) key = g_string_new(NULL);
        st->score[c] = 0.0f;
        st->alive[c] = FALSE;
        for (guint k = 0; k < ch->producers->len; k++) {
            const PvxDepMember *p = &g_array_index(ch->producers, PvxDepMember, k);
            int si = st->sel_of[p->layer];
            g_string_append_printf(key, "%d,", p->layer);
            if (si < 0)
                continue;
            const SelLayer *s = &st->sel[si];
            st->score[c] += scores[si]->data[p->channel];
            for (int64_t j = 0; j < s->cpg && !st->alive[c]; j++)
                st->alive[c] = s->cnt[p->channel * s->cpg + j] > 0;
        }
        ChannelGroup *grp = g_hash_table_lookup(by_key, key->str);
        if (!grp) {
            grp = g_new0(ChannelGroup, 1);
            grp->members = g_array_new(FALSE, FALSE, sizeof(int));
            g_ptr_array_add(st->groups, grp);
            g_hash_table_insert(by_key, g_strdup(key->str), grp);
        }
        g_array_append_val(grp->members, c);
    }
    g_hash_table_unref(by_key);
    order_scores = st->score;
    for (guint i = 0; i < st->groups->len; i++) {
        ChannelGroup *grp = g_ptr_array_index(st->groups, i);
        grp->order = g_new(int, grp->members->len);
        for (guint k = 0; k < grp->members->len; k++) {
            int c = g_array_index(grp->members, int, k);
            if (st->alive[c])
                grp->order[grp->n_alive++] = c;
        }
        qsort(grp->order, grp->n_alive, sizeof(int), compare_by_score);
    }
}

static void group_free(gpointer p)
{
    ChannelGroup *grp = p;
    g_array_free(grp->members, TRUE);
    g_free(grp->order);
    g_free(grp);
}

/* New masks for every layer touched (selected layers, tied producers, consumers), keyed by
 * layer. */
static gboolean structured_masks(PvxModel *model, PvxLayer **layers, int n, PvxTensor **scores,
                                 double to_cr, GHashTable *new_masks, GError **error)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        PvxLayer *l = layers[i];
        if (l->type != PVX_LAYER_CONV2D) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "structured (filter) pruning works on conv layers; %s is a %s layer — "
                        "select conv layers only (kinds: [conv2d, depthwise])",
                        l->name, pvx_layer_type_name(l->type));
            return FALSE;
        }
        total += pvx_tensor_numel(l->weight);
        const float *s = scores[i]->data;
        for (int64_t o = 0; o < l->out_features; o++)
            if (isnan(s[o])) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                            "the pruner's score of filter %" G_GINT64_FORMAT " of %s is NaN", o,
                            l->name);
                return FALSE;
            }
    }
    g_autoptr(PvxDepGraph) g = pvx_dep_graph_new(model, error);
    if (!g)
        return FALSE;
    int nl = pvx_model_n_layers(model);
    Structured st = {
        .model = model,
        .g = g,
        .sel = g_new0(SelLayer, n),
        .n_sel = n,
        .sel_of = g_new(int, nl),
        .prunable = g_new0(gboolean, g->n_channels),
        .alive = g_new0(gboolean, g->n_channels),
        .dead = g_new0(gboolean, g->n_channels),
        .score = g_new0(float, g->n_channels),
        .groups = g_ptr_array_new_with_free_func(group_free),
    };
    for (int i = 0; i < nl; i++)
        st.sel_of[i] = -1;
    for (int i = 0; i < n; i++) {
        SelLayer *s = &st.sel[i];
        PvxLayer *l = layers[i];
        int idx = pvx_model_layer_index(model, l->name);
        st.sel_of[idx] = i;
        s->layer = l;
        s->cout = l->weight->shape[0];
        s->cpg = l->weight->shape[1];
        s->kk = l->weight->shape[2] * l->weight->shape[3];
        s->out_per_group = s->cout / MAX(l->groups, 1);
        s->depthwise = l->groups > 1 && l->groups == l->in_features;
        s->out_ch = g->value_channel[idx + 1];
        int in_v = strcmp(l->inputs[0], PVX_MODEL_INPUT) == 0
                       ? 0
                       : pvx_model_layer_index(
                             model, pvx_model_find_layer(model, l->inputs[0], NULL)->name) +
                             1;
        s->in_ch = g->value_channel[in_v];
        s->cnt = g_new0(int64_t, s->cout * s->cpg);
        const float *m = l->mask ? l->mask->data : NULL;
        for (int64_t o = 0; o < s->cout; o++)
            for (int64_t c = 0; c < s->cpg; c++) {
                int64_t k = 0;
                for (int64_t e = 0; e < s->kk; e++)
                    k += m ? m[(o * s->cpg + c) * s->kk + e] != 0.0f : 1;
                s->cnt[o * s->cpg + c] = k;
            }
    }
    find_prunable(&st);
    build_groups(&st, scores);
    gboolean ok = FALSE;
    /* The smallest fraction of each group's alive channels that reaches the target. */
    double lo = 0.0, hi = 1.0;
    double best = candidate_cr(&st, total, 1.0);
    if (best < to_cr * (1.0 - 1e-12)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "filter pruning cannot reach CR %g: keeping one channel per group of tied "
                    "channels gives CR %.3g",
                    to_cr, best);
        goto out;
    }
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (lo + hi);
        if (candidate_cr(&st, total, mid) >= to_cr)
            hi = mid;
        else
            lo = mid;
    }
    choose_channels(&st, hi);
    for (int i = 0; i < n; i++) /* selected layers get a mask even when nothing of theirs goes */
        new_mask_of(new_masks, layers[i]);
    write_masks(&st, new_masks);
    ok = TRUE;
out:
    for (int i = 0; i < n; i++)
        g_free(st.sel[i].cnt);
    g_free(st.sel);
    g_free(st.sel_of);
    g_free(st.prunable);
    g_free(st.alive);
    g_free(st.dead);
    g_free(st.score);
    g_ptr_array_unref(st.groups);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * The step.
 */

gboolean pvx_prune_step(PvxModel *model, const char *const *names, PvxPruner *p,
                        PvxPruneScope scope, double from_cr, double to_cr, guint64 seed, int step,
                        const PvxPruneGradients *grads, GError **error)
{
    g_return_val_if_fail(model != NULL && names != NULL && p != NULL, FALSE);
    if (!(from_cr >= 1.0) || !(to_cr > from_cr)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "a pruning step needs 1 <= from CR < to CR (got %g -> %g)", from_cr, to_cr);
        return FALSE;
    }
    guint32 flags = p->klass->flags;
    if ((flags & PVX_PRUNER_NEEDS_GRADIENTS) && (!grads || !grads->gradients)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "pruner %s needs gradients of training data, and none were provided",
                    pvx_pruner_name(p));
        return FALSE;
    }
    guint un = g_strv_length((char **)names);
    int n = (int)un;
    g_autofree PvxLayer **layers = g_new0(PvxLayer *, un + 1);
    for (int i = 0; i < n; i++) {
        layers[i] = pvx_model_find_layer(model, names[i], error);
        if (!layers[i])
            return FALSE;
        if (layers[i]->type != PVX_LAYER_CONV2D && layers[i]->type != PVX_LAYER_LINEAR) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "layer %s is a %s layer; only conv2d and linear layers can be pruned",
                        names[i], pvx_layer_type_name(layers[i]->type));
            return FALSE;
        }
    }
    gboolean structured = (flags & PVX_PRUNER_STRUCTURED) != 0;
    PvxTensor **scores = g_new0(PvxTensor *, un);
    for (int i = 0; i < n; i++) {
        const PvxTensor *w = layers[i]->weight;
        scores[i] =
            structured ? pvx_tensor_new(1, &w->shape[0]) : pvx_tensor_new(w->ndim, w->shape);
        pvx_tensor_fill(scores[i], 0.0f);
    }
    PvxPruneContext ctx = {
        .size = sizeof ctx,
        .n_layers = n,
        .layers = layers,
        .model = model,
        .seed = seed,
        .step = step,
        .target_cr = to_cr,
        .n_batches = grads ? grads->n_batches : 0,
        .gradients = grads ? grads->gradients : NULL,
        .core_data = grads ? grads->data : NULL,
    };
    gboolean ok = p->klass->score(p->self, &ctx, scores, error);
    if (!ok)
        g_prefix_error(error, "pruner %s: ", pvx_pruner_name(p));
    GHashTable *new_masks =
        g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)pvx_tensor_unref);
    if (ok && structured) {
        ok = structured_masks(model, layers, n, scores, to_cr, new_masks, error);
    } else if (ok) {
        Segment *segs = g_new0(Segment, un);
        for (int i = 0; i < n && ok; i++) {
            PvxLayer *l = layers[i];
            PvxTensor *m = l->mask ? pvx_tensor_copy(l->mask)
                                   : pvx_tensor_new(l->weight->ndim, l->weight->shape);
            if (!l->mask)
                pvx_tensor_fill(m, 1.0f);
            g_hash_table_insert(new_masks, l, m);
            segs[i] = (Segment){scores[i]->data, m->data, pvx_tensor_numel(m)};
            for (int64_t j = 0; j < segs[i].n; j++)
                if (segs[i].mask[j] != 0.0f && isnan(segs[i].score[j])) {
                    g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                                "pruner %s: the score of %s.weight[%" G_GINT64_FORMAT "] is NaN",
                                pvx_pruner_name(p), l->name, j);
                    ok = FALSE;
                    break;
                }
        }
        double frac = 1.0 - from_cr / to_cr;
        if (ok && scope == PVX_PRUNE_SCOPE_GLOBAL) {
            int64_t kept = 0;
            for (int i = 0; i < n; i++)
                for (int64_t j = 0; j < segs[i].n; j++)
                    kept += segs[i].mask[j] != 0.0f;
            prune_lowest(segs, n, round_even(frac * (double)kept));
        } else if (ok) {
            for (int i = 0; i < n; i++) {
                int64_t kept = 0;
                for (int64_t j = 0; j < segs[i].n; j++)
                    kept += segs[i].mask[j] != 0.0f;
                prune_lowest(&segs[i], 1, round_even(frac * (double)kept));
            }
        }
        g_free(segs);
    }
    if (ok) {
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, new_masks);
        while (ok && g_hash_table_iter_next(&it, &key, &value))
            ok = pvx_model_set_mask(model, ((PvxLayer *)key)->name, value, error);
    }
    g_hash_table_unref(new_masks);
    for (int i = 0; i < n; i++)
        pvx_tensor_unref(scores[i]);
    g_free(scores);
    return ok;
}
