/* pvx — the channel dependency graph (rules in depgraph_private.h). */
#include <string.h>

#include "depgraph_private.h"
#include "pvx/error.h"
#include "pvx/model.h"

/* Union-find over channel slots, with the members attached to slots until the end. */
typedef struct {
    GArray *parent;  /* int */
    GArray *fixed;   /* gboolean */
    GArray *members; /* Slotted */
} Slots;

typedef struct {
    int slot;
    gboolean producer;
    PvxDepMember m;
} Slotted;

static int slot_new(Slots *s, gboolean fixed)
{
    int id = (int)s->parent->len;
    g_array_append_val(s->parent, id);
    g_array_append_val(s->fixed, fixed);
    return id;
}

static int slot_find(Slots *s, int a)
{
    int *p = (int *)s->parent->data;
    while (p[a] != a) {
        p[a] = p[p[a]];
        a = p[a];
    }
    return a;
}

static void slot_union(Slots *s, int a, int b)
{
    a = slot_find(s, a);
    b = slot_find(s, b);
    if (a == b)
        return;
    int *p = (int *)s->parent->data;
    gboolean *f = (gboolean *)s->fixed->data;
    p[b] = a;
    f[a] = f[a] || f[b];
}

static void slot_fix(Slots *s, int a)
{
    g_array_index(s->fixed, gboolean, a) = TRUE;
}

static void slot_member(Slots *s, int slot, gboolean producer, int layer, int64_t ch, int64_t b)
{
    Slotted x = {slot, producer, {layer, ch, b}};
    g_array_append_val(s->members, x);
}

/* The value index (0 = input, 1 + running index) of input @k of @l. */
static int value_of_input(const PvxModel *model, const PvxLayer *l, int k)
{
    const char *name = l->inputs[k];
    if (strcmp(name, PVX_MODEL_INPUT) == 0)
        return 0;
    const PvxLayer *src = pvx_model_find_layer(model, name, NULL);
    return src ? pvx_model_layer_index(model, src->name) + 1 : -1;
}

static int64_t input_channels(const PvxModel *model)
{
    int64_t chw[3];
    pvx_model_input_shape(model, chw);
    if (chw[0] > 0)
        return chw[0];
    for (int i = 0; i < pvx_model_n_layers(model); i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        for (int k = 0; k < l->n_inputs; k++)
            if (strcmp(l->inputs[k], PVX_MODEL_INPUT) == 0 &&
                (l->type == PVX_LAYER_CONV2D || l->type == PVX_LAYER_BATCHNORM2D))
                return l->in_features;
    }
    return 0;
}

static gboolean is_depthwise(const PvxLayer *l)
{
    return l->type == PVX_LAYER_CONV2D && l->groups > 1 && l->groups == l->in_features &&
           l->out_features == l->in_features;
}

PvxDepGraph *pvx_dep_graph_new(const PvxModel *model, GError **error)
{
    g_return_val_if_fail(model != NULL, NULL);
    if (!pvx_model_check_graph(model, error))
        return NULL;
    int64_t cin = input_channels(model);
    if (cin < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "model %s: cannot tell how many channels its input has", pvx_model_arch(model));
        return NULL;
    }
    int nl = pvx_model_n_layers(model);
    PvxDepGraph *g = g_new0(PvxDepGraph, 1);
    g->n_layers = nl;
    g->n_value_channels = g_new0(int64_t, nl + 1);
    g->value_channel = g_new0(int *, nl + 1);
    Slots s = {g_array_new(FALSE, FALSE, sizeof(int)), g_array_new(FALSE, FALSE, sizeof(gboolean)),
               g_array_new(FALSE, FALSE, sizeof(Slotted))};
    g->n_value_channels[0] = cin;
    g->value_channel[0] = g_new(int, cin);
    for (int64_t c = 0; c < cin; c++)
        g->value_channel[0][c] = slot_new(&s, TRUE);
    for (int i = 0; i < nl; i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        int v = i + 1;
        int in0 = value_of_input(model, l, 0);
        g_assert(in0 >= 0);
        int64_t n0 = g->n_value_channels[in0];
        const int *c0 = g->value_channel[in0];
        int64_t n = n0;
        int *out = NULL;
        switch (l->type) {
        case PVX_LAYER_CONV2D:
            n = l->out_features;
            out = g_new(int, n);
            if (is_depthwise(l)) {
                for (int64_t c = 0; c < n; c++) {
                    out[c] = c0[c];
                    slot_member(&s, c0[c], TRUE, i, c, 1);
                }
            } else if (l->groups <= 1) {
                for (int64_t c = 0; c < n; c++) {
                    out[c] = slot_new(&s, FALSE);
                    slot_member(&s, out[c], TRUE, i, c, 1);
                }
                for (int64_t c = 0; c < n0; c++)
                    slot_member(&s, c0[c], FALSE, i, c, 1);
            } else {
                for (int64_t c = 0; c < n; c++)
                    out[c] = slot_new(&s, TRUE);
                for (int64_t c = 0; c < n0; c++)
                    slot_fix(&s, slot_find(&s, c0[c]));
            }
            break;
        case PVX_LAYER_LINEAR:
            n = l->out_features;
            out = g_new(int, n);
            for (int64_t c = 0; c < n; c++)
                out[c] = slot_new(&s, TRUE);
            if (n0 > 0 && l->in_features % n0 == 0)
                for (int64_t c = 0; c < n0; c++)
                    slot_member(&s, c0[c], FALSE, i, c, l->in_features / n0);
            else
                for (int64_t c = 0; c < n0; c++)
                    slot_fix(&s, slot_find(&s, c0[c]));
            break;
        case PVX_LAYER_ADD:
            for (int k = 1; k < l->n_inputs; k++) {
                int vk = value_of_input(model, l, k);
                g_assert(vk >= 0 && g->n_value_channels[vk] == n0);
                for (int64_t c = 0; c < n0; c++)
                    slot_union(&s, c0[c], g->value_channel[vk][c]);
            }
            break;
        case PVX_LAYER_MUL: {
            int vs = value_of_input(model, l, 1);
            g_assert(vs >= 0);
            if (g->n_value_channels[vs] == n0)
                for (int64_t c = 0; c < n0; c++)
                    slot_union(&s, c0[c], g->value_channel[vs][c]);
            else /* a scale broadcast over channels: keep both sides whole */
                for (int64_t c = 0; c < g->n_value_channels[vs]; c++)
                    slot_fix(&s, slot_find(&s, g->value_channel[vs][c]));
            break;
        }
        case PVX_LAYER_CONCAT: {
            n = 0;
            for (int k = 0; k < l->n_inputs; k++)
                n += g->n_value_channels[value_of_input(model, l, k)];
            out = g_new(int, n);
            int64_t at = 0;
            for (int k = 0; k < l->n_inputs; k++) {
                int vk = value_of_input(model, l, k);
                memcpy(out + at, g->value_channel[vk], sizeof(int) * g->n_value_channels[vk]);
                at += g->n_value_channels[vk];
            }
            break;
        }
        case PVX_LAYER_RELU:
        case PVX_LAYER_MAXPOOL2D:
        case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        case PVX_LAYER_DROPOUT:
        case PVX_LAYER_BATCHNORM2D:
        case PVX_LAYER_FLATTEN:
        case PVX_LAYER_RELU6:
        case PVX_LAYER_SIGMOID:
        case PVX_LAYER_SILU:
        case PVX_LAYER_HARDSIGMOID:
        case PVX_LAYER_HARDSWISH:
        case PVX_LAYER_IDENTITY:
        case PVX_LAYER_STOCHASTIC_DEPTH:
            break;
        default: /* a type this file does not know: nothing through it is pruned */
            for (int k = 0; k < l->n_inputs; k++) {
                int vk = value_of_input(model, l, k);
                for (int64_t c = 0; c < g->n_value_channels[vk]; c++)
                    slot_fix(&s, slot_find(&s, g->value_channel[vk][c]));
            }
            n = MAX(n0, 1);
            out = g_new(int, n);
            for (int64_t c = 0; c < n; c++)
                out[c] = slot_new(&s, TRUE);
            break;
        }
        if (!out) {
            out = g_new(int, n);
            memcpy(out, c0, sizeof(int) * n);
        }
        g->n_value_channels[v] = n;
        g->value_channel[v] = out;
    }
    /* The output's channels are the model's answer. */
    for (int64_t c = 0; c < g->n_value_channels[nl]; c++)
        slot_fix(&s, slot_find(&s, g->value_channel[nl][c]));
    /* Roots become coupled channels, numbered in order of first appearance. */
    int ns = (int)s.parent->len;
    int *number = g_new(int, ns);
    for (int a = 0; a < ns; a++)
        number[a] = -1;
    for (int a = 0; a < ns; a++) {
        int r = slot_find(&s, a);
        if (number[r] < 0)
            number[r] = g->n_channels++;
    }
    g->channels = g_new0(PvxDepChannel, g->n_channels);
    for (int a = 0; a < ns; a++) {
        int r = slot_find(&s, a);
        PvxDepChannel *ch = &g->channels[number[r]];
        if (!ch->producers) {
            ch->fixed = g_array_index(s.fixed, gboolean, r);
            ch->producers = g_array_new(FALSE, FALSE, sizeof(PvxDepMember));
            ch->consumers = g_array_new(FALSE, FALSE, sizeof(PvxDepMember));
        }
    }
    for (guint k = 0; k < s.members->len; k++) {
        const Slotted *x = &g_array_index(s.members, Slotted, k);
        PvxDepChannel *ch = &g->channels[number[slot_find(&s, x->slot)]];
        g_array_append_val(x->producer ? ch->producers : ch->consumers, x->m);
    }
    for (int v = 0; v <= nl; v++)
        for (int64_t c = 0; c < g->n_value_channels[v]; c++)
            g->value_channel[v][c] = number[slot_find(&s, g->value_channel[v][c])];
    g_free(number);
    g_array_free(s.parent, TRUE);
    g_array_free(s.fixed, TRUE);
    g_array_free(s.members, TRUE);
    return g;
}

void pvx_dep_graph_free(PvxDepGraph *g)
{
    if (!g)
        return;
    for (int c = 0; c < g->n_channels; c++) {
        g_array_free(g->channels[c].producers, TRUE);
        g_array_free(g->channels[c].consumers, TRUE);
    }
    g_free(g->channels);
    for (int v = 0; v <= g->n_layers; v++)
        g_free(g->value_channel[v]);
    g_free(g->value_channel);
    g_free(g->n_value_channels);
    g_free(g);
}
