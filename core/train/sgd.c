/* pvx — SGD with momentum, Nesterov, weight decay, masks and gradient clipping. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/optim.h"

typedef struct {
    char *name;
    PvxTensor *param, *grad, *mask;
    PvxTensor *buf; /* NULL until the first step with momentum */
    gboolean decay;
} Slot;

struct _PvxSgd {
    PvxSgdParams p;
    GPtrArray *slots;
    int64_t steps;
    double last_norm;
};

static void slot_free(Slot *s)
{
    g_free(s->name);
    pvx_tensor_unref(s->param);
    pvx_tensor_unref(s->grad);
    if (s->mask)
        pvx_tensor_unref(s->mask);
    if (s->buf)
        pvx_tensor_unref(s->buf);
    g_free(s);
}

PvxSgd *pvx_sgd_new(const PvxSgdParams *p, GError **error)
{
    if (p->momentum < 0 || p->weight_decay < 0 || p->dampening < 0 || p->clip_norm < 0 ||
        !isfinite(p->momentum) || !isfinite(p->weight_decay)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "SGD: momentum, dampening, weight decay and clip norm must be finite and >= 0");
        return NULL;
    }
    if (p->nesterov && (p->momentum <= 0 || p->dampening != 0)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "SGD: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum %g, "
                    "dampening %g)",
                    p->momentum, p->dampening);
        return NULL;
    }
    PvxSgd *sgd = g_new0(PvxSgd, 1);
    sgd->p = *p;
    sgd->slots = g_ptr_array_new_with_free_func((GDestroyNotify)slot_free);
    return sgd;
}

void pvx_sgd_free(PvxSgd *sgd)
{
    if (!sgd)
        return;
    g_ptr_array_unref(sgd->slots);
    g_free(sgd);
}

static void apply_mask(PvxTensor *t, const PvxTensor *mask)
{
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] *= mask->data[i];
}

void pvx_sgd_add_param(PvxSgd *sgd, const char *name, PvxTensor *param, PvxTensor *grad,
                       PvxTensor *mask, gboolean weight_decay)
{
    g_return_if_fail(pvx_tensor_same_shape(param, grad));
    g_return_if_fail(!mask || pvx_tensor_same_shape(param, mask));
    g_return_if_fail(pvx_tensor_is_contiguous(param) && pvx_tensor_is_contiguous(grad));
    Slot *s = g_new0(Slot, 1);
    s->name = g_strdup(name);
    s->param = pvx_tensor_ref(param);
    s->grad = pvx_tensor_ref(grad);
    s->mask = mask ? pvx_tensor_ref(mask) : NULL;
    s->decay = weight_decay;
    if (mask)
        apply_mask(param, mask);
    g_ptr_array_add(sgd->slots, s);
}

static Slot *find_slot(const PvxSgd *sgd, const char *name)
{
    for (guint i = 0; i < sgd->slots->len; i++) {
        Slot *s = g_ptr_array_index(sgd->slots, i);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

gboolean pvx_sgd_set_mask(PvxSgd *sgd, const char *name, PvxTensor *mask, GError **error)
{
    Slot *s = find_slot(sgd, name);
    if (!s) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "SGD has no parameter '%s'", name);
        return FALSE;
    }
    if (mask && !pvx_tensor_same_shape(mask, s->param)) {
        g_autofree char *a = pvx_tensor_shape_string(mask);
        g_autofree char *b = pvx_tensor_shape_string(s->param);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "mask of '%s' has shape %s, the parameter %s", name, a, b);
        return FALSE;
    }
    if (s->mask)
        pvx_tensor_unref(s->mask);
    s->mask = mask ? pvx_tensor_ref(mask) : NULL;
    if (mask) {
        apply_mask(s->param, mask);
        if (s->buf)
            apply_mask(s->buf, mask);
    }
    return TRUE;
}

void pvx_sgd_zero_grad(PvxSgd *sgd)
{
    for (guint i = 0; i < sgd->slots->len; i++)
        pvx_tensor_zero(((Slot *)g_ptr_array_index(sgd->slots, i))->grad);
}

double pvx_sgd_last_grad_norm(const PvxSgd *sgd)
{
    return sgd->last_norm;
}

/* Σ x² in double, in four interleaved sums (one running sum waits on every add: it took a
 * millisecond per step on the training benchmark's 0.6 M parameters, with the pool idle). */
static double sum_squares(const float *restrict x, int64_t n)
{
    double acc[4] = {0, 0, 0, 0};
    int64_t k = 0;
    for (; k + 4 <= n; k += 4)
        for (int l = 0; l < 4; l++)
            acc[l] += (double)x[k + l] * x[k + l];
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; k < n; k++)
        s += (double)x[k] * x[k];
    return s;
}

/* The update without momentum: p -= rate · (g · clip + decay · p). Kept as functions with
 * restrict parameters and no branch inside the loops, so that they vectorise; same operations
 * per element as PyTorch's SGD. */
static void update_plain(float *restrict p, const float *restrict g, int64_t n, float clip,
                         float decay, float rate)
{
    for (int64_t k = 0; k < n; k++)
        p[k] -= rate * (g[k] * clip + decay * p[k]);
}

/* With momentum m: buf = keep · m · buf + (first step: d; else damp · d), then the step along
 * buf (or, Nesterov, d + m · buf). @keep is 0 on the first step, where buf = d. */
static void update_momentum(float *restrict p, const float *restrict g, float *restrict buf,
                            int64_t n, float clip, float decay, float rate, float m, float keep,
                            float damp, gboolean nesterov)
{
    if (keep == 0.0f) {
        for (int64_t k = 0; k < n; k++)
            buf[k] = g[k] * clip + decay * p[k];
    } else {
        for (int64_t k = 0; k < n; k++)
            buf[k] = m * buf[k] + damp * (g[k] * clip + decay * p[k]);
    }
    if (nesterov) {
        for (int64_t k = 0; k < n; k++)
            p[k] -= rate * ((g[k] * clip + decay * p[k]) + m * buf[k]);
    } else {
        for (int64_t k = 0; k < n; k++)
            p[k] -= rate * buf[k];
    }
}

gboolean pvx_sgd_step(PvxSgd *sgd, double lr, GError **error)
{
    /* Check every gradient before touching any parameter, so a NaN leaves the model intact. */
    double sq = 0;
    for (guint i = 0; i < sgd->slots->len; i++) {
        Slot *s = g_ptr_array_index(sgd->slots, i);
        if (s->mask)
            apply_mask(s->grad, s->mask);
        double local = sum_squares(s->grad->data, pvx_tensor_numel(s->grad));
        if (!isfinite(local)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                        "the gradient of '%s' holds NaN or Inf (step %" G_GINT64_FORMAT ")",
                        s->name, (gint64)sgd->steps + 1);
            return FALSE;
        }
        sq += local;
    }
    sgd->last_norm = sqrt(sq);
    float clip = 1.0f;
    if (sgd->p.clip_norm > 0) {
        double coef = sgd->p.clip_norm / (sgd->last_norm + 1e-6);
        if (coef < 1.0)
            clip = (float)coef;
    }
    const float m = (float)sgd->p.momentum, damp = (float)(1.0 - sgd->p.dampening);
    const float wd = (float)sgd->p.weight_decay, rate = (float)lr;
    for (guint i = 0; i < sgd->slots->len; i++) {
        Slot *s = g_ptr_array_index(sgd->slots, i);
        int64_t n = pvx_tensor_numel(s->param);
        float *p = s->param->data, *g = s->grad->data;
        const float decay = s->decay ? wd : 0.0f;
        gboolean first = FALSE;
        if (m != 0 && !s->buf) {
            s->buf = pvx_tensor_new_like(s->param);
            first = TRUE;
        }
        float *buf = s->buf ? s->buf->data : NULL;
        if (m == 0)
            update_plain(p, g, n, clip, decay, rate);
        else
            update_momentum(p, g, buf, n, clip, decay, rate, m, first ? 0.0f : 1.0f, damp,
                            sgd->p.nesterov);
        if (s->mask) {
            apply_mask(s->param, s->mask);
            if (s->buf)
                apply_mask(s->buf, s->mask);
        }
    }
    sgd->steps++;
    return TRUE;
}

gboolean pvx_sgd_save(const PvxSgd *sgd, PvxStore *store, const char *group, GError **error)
{
    if (!pvx_store_delete(store, group, error) ||
        !pvx_store_set_attr_int(store, group, "steps", sgd->steps, error))
        return FALSE;
    for (guint i = 0; i < sgd->slots->len; i++) {
        Slot *s = g_ptr_array_index(sgd->slots, i);
        if (!s->buf)
            continue;
        g_autofree char *path = g_strconcat(group, "/", s->name, NULL);
        if (!pvx_store_write_tensor(store, path, s->buf, error))
            return FALSE;
    }
    return TRUE;
}

gboolean pvx_sgd_load(PvxSgd *sgd, PvxStore *store, const char *group, GError **error)
{
    int64_t steps = 0;
    if (!pvx_store_get_attr_int(store, group, "steps", &steps, error))
        return FALSE;
    for (guint i = 0; i < sgd->slots->len; i++) {
        Slot *s = g_ptr_array_index(sgd->slots, i);
        g_autofree char *path = g_strconcat(group, "/", s->name, NULL);
        g_clear_pointer(&s->buf, pvx_tensor_unref);
        if (!pvx_store_exists(store, path))
            continue;
        s->buf = pvx_tensor_new_like(s->param);
        if (!pvx_store_read_tensor_into(store, path, s->buf, error))
            return FALSE;
    }
    sgd->steps = steps;
    return TRUE;
}
