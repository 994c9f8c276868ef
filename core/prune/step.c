/* pvx — one pruning step: scores from a pruner plugin, the core's count and tie rules, masks
 * (rules in pvx-private/prune.h). */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/prune.h"
#include "pvx-private/registry.h"

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
 * Structured: whole filters.
 */

typedef struct {
    PvxLayer *layer;
    int64_t cout, cin, kk; /* weight [cout, cin, kk] (kk = KH·KW, or 1 for linear) */
    int64_t *cnt;          /* [cout · cin] kept entries of the old mask per (filter, channel) */
    gboolean *alive;       /* [cout] filter alive before the step */
    int64_t n_alive;
    int64_t *order;       /* alive filters, lowest score first (ties: lower index) */
    gboolean *pruned_out; /* [cout] for the candidate */
    int next;             /* index in @conv of the layer that consumes this one, or -1 */
    PvxLayer *next_layer; /* the consumer (conv2d or linear), selected or not */
    int64_t next_block;   /* features per channel when next_layer is linear */
    gboolean selected;
} FilterLayer;

static const float *order_scores;
static int compare_by_score(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float si = order_scores[i], sj = order_scores[j];
    if (si != sj)
        return si < sj ? -1 : 1;
    return (i > j) - (i < j);
}

static void fill_counts(FilterLayer *f)
{
    PvxLayer *l = f->layer;
    f->cnt = g_new0(int64_t, f->cout * f->cin);
    const float *m = l->mask ? l->mask->data : NULL;
    for (int64_t o = 0; o < f->cout; o++)
        for (int64_t c = 0; c < f->cin; c++) {
            int64_t n = 0;
            for (int64_t k = 0; k < f->kk; k++)
                n += m ? m[(o * f->cin + c) * f->kk + k] != 0.0f : 1;
            f->cnt[o * f->cin + c] = n;
        }
}

/* Kept weights of selected layer @f with the candidate pruned filters of itself and of its
 * producer @prev (NULL if its input is not a selected conv's output). */
static int64_t candidate_kept(const FilterLayer *f, const FilterLayer *prev)
{
    int64_t n = 0;
    for (int64_t o = 0; o < f->cout; o++) {
        if (f->pruned_out[o])
            continue;
        for (int64_t c = 0; c < f->cin; c++)
            if (!prev || !prev->pruned_out[c])
                n += f->cnt[o * f->cin + c];
    }
    return n;
}

static void choose_filters(FilterLayer *fl, int n, double frac)
{
    for (int i = 0; i < n; i++) {
        FilterLayer *f = &fl[i];
        for (int64_t o = 0; o < f->cout; o++)
            f->pruned_out[o] = !f->alive[o];
        int64_t k = MIN(round_even(frac * (double)f->n_alive), f->n_alive - 1);
        for (int64_t j = 0; j < k; j++)
            f->pruned_out[f->order[j]] = TRUE;
    }
}

static double candidate_cr(FilterLayer *fl, int n, int64_t total, double frac)
{
    choose_filters(fl, n, frac);
    int64_t kept = 0;
    for (int i = 0; i < n; i++) {
        const FilterLayer *prev = NULL;
        for (int j = 0; j < n; j++)
            if (fl[j].next == i)
                prev = &fl[j];
        kept += candidate_kept(&fl[i], prev);
    }
    return kept > 0 ? (double)total / (double)kept : INFINITY;
}

/* New masks for every layer touched (selected layers and their consumers), keyed by layer. */
static gboolean structured_masks(PvxModel *model, PvxLayer **layers, int n, PvxTensor **scores,
                                 double to_cr, GHashTable *new_masks, GError **error)
{
    FilterLayer *fl = g_new0(FilterLayer, n);
    gboolean ok = FALSE;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        PvxLayer *l = layers[i];
        if (l->type != PVX_LAYER_CONV2D) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "structured (filter) pruning works on conv layers; %s is a %s layer — "
                        "select conv layers only (kinds: [conv])",
                        l->name, pvx_layer_type_name(l->type));
            goto out;
        }
        total += pvx_tensor_numel(l->weight);
    }
    for (int i = 0; i < n; i++) {
        FilterLayer *f = &fl[i];
        PvxLayer *l = layers[i];
        f->layer = l;
        f->cout = l->weight->shape[0];
        f->cin = l->weight->shape[1];
        f->kk = l->weight->shape[2] * l->weight->shape[3];
        f->next = -1;
        fill_counts(f);
        f->alive = g_new0(gboolean, f->cout);
        f->pruned_out = g_new0(gboolean, f->cout);
        f->order = g_new(int64_t, f->cout);
        for (int64_t o = 0; o < f->cout; o++) {
            for (int64_t c = 0; c < f->cin && !f->alive[o]; c++)
                f->alive[o] = f->cnt[o * f->cin + c] > 0;
            if (f->alive[o])
                f->order[f->n_alive++] = o;
        }
        const float *s = scores[i]->data;
        for (int64_t o = 0; o < f->cout; o++)
            if (isnan(s[o])) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                            "the pruner's score of filter %" G_GINT64_FORMAT " of %s is NaN", o,
                            l->name);
                goto out;
            }
        order_scores = s;
        qsort(f->order, f->n_alive, sizeof(int64_t), compare_by_score);
        /* The consumer: the next conv2d or linear layer in running order. */
        int idx = pvx_model_layer_index(model, l->name);
        for (int j = idx + 1; j < pvx_model_n_layers(model); j++) {
            PvxLayer *c = pvx_model_layer(model, j);
            if (c->type != PVX_LAYER_CONV2D && c->type != PVX_LAYER_LINEAR)
                continue;
            f->next_layer = c;
            if (c->type == PVX_LAYER_CONV2D && c->in_features != f->cout) {
                f->next_layer = NULL; /* not a plain chain: leave it alone */
            } else if (c->type == PVX_LAYER_LINEAR) {
                if (c->in_features % f->cout != 0)
                    f->next_layer = NULL;
                else
                    f->next_block = c->in_features / f->cout;
            }
            for (int k = 0; k < n && f->next_layer; k++)
                if (layers[k] == c && c->type == PVX_LAYER_CONV2D)
                    f->next = k;
            break;
        }
    }
    /* The smallest fraction of the alive filters that reaches the target. */
    double lo = 0.0, hi = 1.0;
    double best = candidate_cr(fl, n, total, 1.0);
    if (best < to_cr * (1.0 - 1e-12)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "filter pruning cannot reach CR %g: keeping one filter per layer gives CR %.3g",
                    to_cr, best);
        goto out;
    }
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (lo + hi);
        if (candidate_cr(fl, n, total, mid) >= to_cr)
            hi = mid;
        else
            lo = mid;
    }
    choose_filters(fl, n, hi);
    for (int i = 0; i < n; i++) {
        FilterLayer *f = &fl[i];
        PvxLayer *touched[2] = {f->layer, f->next_layer};
        for (int t = 0; t < 2; t++) {
            PvxLayer *l = touched[t];
            if (!l || g_hash_table_contains(new_masks, l))
                continue;
            PvxTensor *m = l->mask ? pvx_tensor_copy(l->mask)
                                   : pvx_tensor_new(l->weight->ndim, l->weight->shape);
            if (!l->mask)
                pvx_tensor_fill(m, 1.0f);
            g_hash_table_insert(new_masks, l, m);
        }
        float *m = ((PvxTensor *)g_hash_table_lookup(new_masks, f->layer))->data;
        int64_t row = f->cin * f->kk;
        for (int64_t o = 0; o < f->cout; o++)
            if (f->pruned_out[o])
                memset(m + o * row, 0, sizeof(float) * row);
        if (f->next_layer) {
            PvxLayer *c = f->next_layer;
            float *nm = ((PvxTensor *)g_hash_table_lookup(new_masks, c))->data;
            if (c->type == PVX_LAYER_CONV2D) {
                int64_t ckk = c->weight->shape[2] * c->weight->shape[3];
                for (int64_t o = 0; o < c->out_features; o++)
                    for (int64_t ch = 0; ch < f->cout; ch++)
                        if (f->pruned_out[ch])
                            memset(nm + (o * c->in_features + ch) * ckk, 0, sizeof(float) * ckk);
            } else {
                for (int64_t o = 0; o < c->out_features; o++)
                    for (int64_t ch = 0; ch < f->cout; ch++)
                        if (f->pruned_out[ch])
                            memset(nm + o * c->in_features + ch * f->next_block, 0,
                                   sizeof(float) * f->next_block);
            }
        }
    }
    ok = TRUE;
out:
    for (int i = 0; i < n; i++) {
        g_free(fl[i].cnt);
        g_free(fl[i].alive);
        g_free(fl[i].order);
        g_free(fl[i].pruned_out);
    }
    g_free(fl);
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
