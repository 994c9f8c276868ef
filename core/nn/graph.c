/* pvx — a model's layer graph: resolving input names, running order, checks, shapes. */
#include <string.h>

#include "nn_private.h"

/* Index (in m->layers' current order) of the layer @name or alias; -1 for the model's input,
 * -2 when unknown. */
static int input_index(const PvxModel *m, const char *name)
{
    if (strcmp(name, PVX_MODEL_INPUT) == 0)
        return -1;
    const PvxLayer *l = pvx_model_lookup(m, name);
    if (!l)
        return -2;
    return GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, l->name)) - 1;
}

static void rebuild_index(PvxModel *m)
{
    g_hash_table_remove_all(m->by_name);
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        g_hash_table_insert(m->by_name, l->name, GINT_TO_POINTER(i + 1));
    }
}

/* The graph's problem, or NULL. Sorts m->layers into running order when there is none: Kahn's
 * algorithm taking, of the layers ready to run, always the one added first. */
static char *sort_graph(PvxModel *m)
{
    guint n = m->layers->len;
    if (n == 0)
        return g_strdup_printf("model %s has no layers", m->arch);
    /* Positions now (add order, or the last running order, which keeps add order's ties). */
    g_autofree int *pending = g_new0(int, n); /* inputs not yet run */
    g_autofree int *consumers = g_new0(int, n);
    for (guint i = 0; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++) {
            int j = input_index(m, l->inputs[k]);
            if (j == -2) {
                g_autofree char *names = pvx_model_layer_names_string(m);
                return g_strdup_printf("layer %s reads '%s', which is no layer of model %s (its "
                                       "layers are: %s; the model's input is '%s')",
                                       l->name, l->inputs[k], m->arch, names, PVX_MODEL_INPUT);
            }
            if (j >= 0) {
                pending[i]++;
                consumers[j]++;
            }
        }
    }
    g_autofree gboolean *done = g_new0(gboolean, n);
    GPtrArray *order = g_ptr_array_new();
    for (guint step = 0; step < n; step++) {
        guint pick = n;
        for (guint i = 0; i < n && pick == n; i++)
            if (!done[i] && pending[i] == 0)
                pick = i;
        if (pick == n) {
            GString *cycle = g_string_new(NULL);
            for (guint i = 0; i < n; i++)
                if (!done[i])
                    g_string_append_printf(cycle, "%s%s", cycle->len ? ", " : "",
                                           ((PvxLayer *)g_ptr_array_index(m->layers, i))->name);
            g_ptr_array_free(order, TRUE);
            g_autofree char *names = g_string_free(cycle, FALSE);
            return g_strdup_printf("model %s: the layers %s read each other in a cycle", m->arch,
                                   names);
        }
        done[pick] = TRUE;
        g_ptr_array_add(order, g_ptr_array_index(m->layers, pick));
        for (guint i = 0; i < n; i++) {
            PvxLayer *l = g_ptr_array_index(m->layers, i);
            if (done[i])
                continue;
            for (int k = 0; k < l->n_inputs; k++)
                if (input_index(m, l->inputs[k]) == (int)pick)
                    pending[i]--;
        }
    }
    /* Adopt the order (the same pointers, moved). */
    for (guint i = 0; i < n; i++)
        m->layers->pdata[i] = g_ptr_array_index(order, i);
    g_ptr_array_free(order, TRUE);
    rebuild_index(m);
    return NULL;
}

/* Fills in_idx and n_consumers; the problem when a layer does not feed the output. */
static char *link_graph(PvxModel *m)
{
    guint n = m->layers->len;
    m->input_consumers = 0;
    for (guint i = 0; i < n; i++)
        ((PvxLayer *)g_ptr_array_index(m->layers, i))->state->n_consumers = 0;
    for (guint i = 0; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        PvxLayerState *s = l->state;
        g_free(s->in_idx);
        s->in_idx = g_new(int, l->n_inputs);
        for (int k = 0; k < l->n_inputs; k++) {
            int j = input_index(m, l->inputs[k]);
            s->in_idx[k] = j;
            if (j < 0)
                m->input_consumers++;
            else
                ((PvxLayer *)g_ptr_array_index(m->layers, j))->state->n_consumers++;
        }
    }
    /* Every layer must reach the output: walk back from it. */
    g_autofree gboolean *live = g_new0(gboolean, n);
    int out = GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, m->output->name)) - 1;
    live[out] = TRUE;
    for (int i = out; i >= 0; i--) {
        if (!live[i])
            continue;
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++)
            if (l->state->in_idx[k] >= 0)
                live[l->state->in_idx[k]] = TRUE;
    }
    for (guint i = 0; i < n; i++)
        if (!live[i])
            return g_strdup_printf("model %s: the output of layer %s reaches no layer on the way "
                                   "to the model's output (%s, the last layer added)",
                                   m->arch, ((PvxLayer *)g_ptr_array_index(m->layers, i))->name,
                                   m->output->name);
    if (out != (int)n - 1)
        return g_strdup_printf("model %s: layer %s runs after the output layer %s", m->arch,
                               ((PvxLayer *)g_ptr_array_index(m->layers, n - 1))->name,
                               m->output->name);
    return NULL;
}

gboolean pvx_model_resolve(PvxModel *m, GError **error)
{
    if (m->dirty) {
        g_clear_pointer(&m->graph_error, g_free);
        m->graph_error = sort_graph(m);
        if (!m->graph_error)
            m->graph_error = link_graph(m);
        m->dirty = FALSE;
        m->kept = FALSE;
    }
    if (m->graph_error) {
        g_set_error_literal(error, PVX_ERROR,
                            strstr(m->graph_error, "which is no layer")
                                ? PVX_ERROR_NOT_FOUND
                                : PVX_ERROR_INVALID_ARGUMENT,
                            m->graph_error);
        return FALSE;
    }
    return TRUE;
}

gboolean pvx_model_check_graph(const PvxModel *m, GError **error)
{
    g_return_val_if_fail(m != NULL, FALSE);
    return pvx_model_resolve((PvxModel *)m, error);
}

GPtrArray *pvx_model_consumers(const PvxModel *cm, const char *name)
{
    g_return_val_if_fail(cm != NULL, NULL);
    PvxModel *m = (PvxModel *)cm;
    GPtrArray *out = g_ptr_array_new();
    if (!name || !pvx_model_resolve(m, NULL))
        return out;
    int target;
    if (strcmp(name, PVX_MODEL_INPUT) == 0) {
        target = -1;
    } else {
        const PvxLayer *t = pvx_model_lookup(m, name);
        if (!t)
            return out;
        target = GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, t->name)) - 1;
    }
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++)
            if (l->state->in_idx[k] == target) {
                g_ptr_array_add(out, l);
                break;
            }
    }
    return out;
}

gboolean pvx_model_propagate_shapes(PvxModel *m, const int64_t input_shape[4], int *ndims,
                                    PvxShape *shapes, GError **error)
{
    if (!pvx_model_resolve(m, error))
        return FALSE;
    int max_in = 1;
    for (guint i = 0; i < m->layers->len; i++)
        max_in = MAX(max_in, ((PvxLayer *)g_ptr_array_index(m->layers, i))->n_inputs);
    g_autofree int *nd = g_new(int, max_in);
    g_autofree PvxShape *in = g_new0(PvxShape, max_in);
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++) {
            int j = l->state->in_idx[k];
            nd[k] = j < 0 ? 4 : ndims[j];
            memcpy(in[k], j < 0 ? input_shape : shapes[j], sizeof(int64_t) * nd[k]);
        }
        if (!pvx_layer_output_shape_n(l, l->n_inputs, nd, (const PvxShape *)in, &ndims[i],
                                      shapes[i], error))
            return FALSE;
    }
    return TRUE;
}

gboolean pvx_model_layer_shape(const PvxModel *cm, const int64_t input_shape[4], const char *name,
                               int *ndim, int64_t shape[PVX_TENSOR_MAX_DIMS], GError **error)
{
    PvxModel *m = (PvxModel *)cm;
    const PvxLayer *l = pvx_model_find_layer(m, name, error);
    if (!l || !pvx_model_resolve(m, error))
        return FALSE;
    guint n = m->layers->len;
    g_autofree int *nds = g_new(int, n);
    g_autofree PvxShape *shapes = g_new(PvxShape, n);
    if (!pvx_model_propagate_shapes(m, input_shape, nds, shapes, error))
        return FALSE;
    int i = pvx_model_layer_index(m, l->name);
    *ndim = nds[i];
    memcpy(shape, shapes[i], sizeof(int64_t) * nds[i]);
    return TRUE;
}
