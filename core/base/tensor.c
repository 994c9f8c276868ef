/* pvx — float32 tensors: allocation, reference counting, views. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pvx/error.h"
#include "pvx/tensor.h"

struct _PvxStorage {
    float *data;
    size_t numel;
    size_t mapped; /* bytes mmap'ed, 0 for heap memory */
    gint refcount;
};

/* Storage from this size up is mapped from the kernel: its pages arrive zeroed and are only made
 * resident when touched, so a gradient tensor that inference never uses costs no memory. */
#define MAP_THRESHOLD ((size_t)1 << 20)

void *pvx_aligned_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0)
        bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0)
        g_error("pvx: out of memory allocating %zu bytes", bytes);
    return p;
}

void pvx_aligned_free(void *p)
{
    free(p);
}

static PvxStorage *storage_new(size_t numel)
{
    PvxStorage *s = g_new0(PvxStorage, 1);
    size_t bytes = numel * sizeof(float);
    if (bytes >= MAP_THRESHOLD) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            g_error("pvx: out of memory mapping %zu bytes", bytes);
        s->data = p;
        s->mapped = bytes;
    } else {
        s->data = pvx_aligned_alloc(bytes);
        memset(s->data, 0, bytes);
    }
    s->numel = numel;
    s->refcount = 1;
    return s;
}

static void storage_unref(PvxStorage *s)
{
    if (s && g_atomic_int_dec_and_test(&s->refcount)) {
        if (s->mapped)
            munmap(s->data, s->mapped);
        else
            pvx_aligned_free(s->data);
        g_free(s);
    }
}

static void set_contiguous_strides(PvxTensor *t)
{
    int64_t stride = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        t->stride[d] = stride;
        stride *= t->shape[d];
    }
}

static int64_t shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

PvxTensor *pvx_tensor_new(int ndim, const int64_t *shape)
{
    g_return_val_if_fail(ndim >= 0 && ndim <= PVX_TENSOR_MAX_DIMS, NULL);
    for (int d = 0; d < ndim; d++)
        g_return_val_if_fail(shape[d] >= 0, NULL);
    PvxTensor *t = g_new0(PvxTensor, 1);
    t->ndim = ndim;
    if (ndim > 0)
        memcpy(t->shape, shape, (size_t)ndim * sizeof(int64_t));
    set_contiguous_strides(t);
    t->storage = storage_new((size_t)shape_numel(ndim, shape));
    t->data = t->storage->data;
    t->refcount = 1;
    return t;
}

PvxTensor *pvx_tensor_new_shape(int ndim, ...)
{
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_return_val_if_fail(ndim >= 0 && ndim <= PVX_TENSOR_MAX_DIMS, NULL);
    va_list ap;
    va_start(ap, ndim);
    for (int d = 0; d < ndim; d++)
        shape[d] = va_arg(ap, int64_t);
    va_end(ap);
    return pvx_tensor_new(ndim, shape);
}

PvxTensor *pvx_tensor_new_like(const PvxTensor *like)
{
    return pvx_tensor_new(like->ndim, like->shape);
}

PvxTensor *pvx_tensor_new_from_data(int ndim, const int64_t *shape, const float *data)
{
    PvxTensor *t = pvx_tensor_new(ndim, shape);
    memcpy(t->data, data, (size_t)pvx_tensor_numel(t) * sizeof(float));
    return t;
}

PvxTensor *pvx_tensor_ref(PvxTensor *t)
{
    g_return_val_if_fail(t != NULL, NULL);
    g_atomic_int_inc(&t->refcount);
    return t;
}

void pvx_tensor_unref(PvxTensor *t)
{
    if (t && g_atomic_int_dec_and_test(&t->refcount)) {
        storage_unref(t->storage);
        g_free(t);
    }
}

int64_t pvx_tensor_numel(const PvxTensor *t)
{
    return shape_numel(t->ndim, t->shape);
}

gboolean pvx_tensor_is_contiguous(const PvxTensor *t)
{
    int64_t stride = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != stride)
            return FALSE;
        stride *= t->shape[d];
    }
    return TRUE;
}

gboolean pvx_tensor_same_shape(const PvxTensor *a, const PvxTensor *b)
{
    if (a->ndim != b->ndim)
        return FALSE;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return FALSE;
    return TRUE;
}

char *pvx_shape_string(int ndim, const int64_t *shape)
{
    GString *s = g_string_new("[");
    for (int d = 0; d < ndim; d++)
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT, d ? ", " : "", (gint64)shape[d]);
    g_string_append_c(s, ']');
    return g_string_free(s, FALSE);
}

char *pvx_tensor_shape_string(const PvxTensor *t)
{
    return pvx_shape_string(t->ndim, t->shape);
}

static PvxTensor *view_of(PvxTensor *t)
{
    PvxTensor *v = g_new0(PvxTensor, 1);
    *v = *t;
    v->refcount = 1;
    g_atomic_int_inc(&t->storage->refcount);
    return v;
}

PvxTensor *pvx_tensor_reshape(PvxTensor *t, int ndim, const int64_t *shape, GError **error)
{
    g_return_val_if_fail(t != NULL && ndim >= 0 && ndim <= PVX_TENSOR_MAX_DIMS, NULL);
    g_return_val_if_fail(pvx_tensor_is_contiguous(t), NULL);
    int64_t resolved[PVX_TENSOR_MAX_DIMS];
    int infer = -1;
    int64_t known = 1;
    for (int d = 0; d < ndim; d++) {
        resolved[d] = shape[d];
        if (shape[d] == -1 && infer < 0)
            infer = d;
        else
            known *= shape[d];
    }
    int64_t numel = pvx_tensor_numel(t);
    if (infer >= 0 && known > 0 && numel % known == 0)
        resolved[infer] = numel / known;
    if (shape_numel(ndim, resolved) != numel || (infer >= 0 && resolved[infer] < 0)) {
        g_autofree char *from = pvx_tensor_shape_string(t);
        g_autofree char *to = pvx_shape_string(ndim, shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "cannot reshape %s into %s", from, to);
        return NULL;
    }
    PvxTensor *v = view_of(t);
    v->ndim = ndim;
    memcpy(v->shape, resolved, (size_t)ndim * sizeof(int64_t));
    set_contiguous_strides(v);
    return v;
}

PvxTensor *pvx_tensor_narrow0(PvxTensor *t, int64_t start, int64_t count)
{
    g_return_val_if_fail(t != NULL && t->ndim >= 1, NULL);
    g_return_val_if_fail(start >= 0 && count >= 0 && start + count <= t->shape[0], NULL);
    PvxTensor *v = view_of(t);
    v->shape[0] = count;
    v->data = t->data + start * t->stride[0];
    return v;
}

/* Calls fn on every element of a possibly strided tensor, in row-major order. */
static void copy_strided(float *dst, const PvxTensor *src)
{
    int64_t idx[PVX_TENSOR_MAX_DIMS] = {0};
    int64_t n = pvx_tensor_numel(src);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < src->ndim; d++)
            off += idx[d] * src->stride[d];
        dst[i] = src->data[off];
        for (int d = src->ndim - 1; d >= 0; d--) {
            if (++idx[d] < src->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

PvxTensor *pvx_tensor_copy(const PvxTensor *t)
{
    PvxTensor *c = pvx_tensor_new(t->ndim, t->shape);
    if (pvx_tensor_is_contiguous(t))
        memcpy(c->data, t->data, (size_t)pvx_tensor_numel(t) * sizeof(float));
    else
        copy_strided(c->data, t);
    return c;
}

gboolean pvx_tensor_copy_into(PvxTensor *dst, const PvxTensor *src, GError **error)
{
    if (!pvx_tensor_same_shape(dst, src)) {
        g_autofree char *a = pvx_tensor_shape_string(dst);
        g_autofree char *b = pvx_tensor_shape_string(src);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "cannot copy a %s tensor into a %s tensor",
                    b, a);
        return FALSE;
    }
    g_return_val_if_fail(pvx_tensor_is_contiguous(dst), FALSE);
    if (pvx_tensor_is_contiguous(src))
        memmove(dst->data, src->data, (size_t)pvx_tensor_numel(src) * sizeof(float));
    else
        copy_strided(dst->data, src);
    return TRUE;
}

void pvx_tensor_fill(PvxTensor *t, float value)
{
    g_return_if_fail(pvx_tensor_is_contiguous(t));
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = value;
}

void pvx_tensor_zero(PvxTensor *t)
{
    g_return_if_fail(pvx_tensor_is_contiguous(t));
    memset(t->data, 0, (size_t)pvx_tensor_numel(t) * sizeof(float));
}

double pvx_tensor_max_rel_diff(const PvxTensor *a, const PvxTensor *b, double floor)
{
    g_return_val_if_fail(pvx_tensor_same_shape(a, b), INFINITY);
    g_autoptr(PvxTensor) ca = pvx_tensor_copy(a);
    g_autoptr(PvxTensor) cb = pvx_tensor_copy(b);
    double worst = 0.0;
    int64_t n = pvx_tensor_numel(ca);
    for (int64_t i = 0; i < n; i++) {
        double x = ca->data[i], y = cb->data[i];
        double d = fabs(x - y) / fmax(fabs(y), floor);
        if (isnan(d))
            return INFINITY;
        if (d > worst)
            worst = d;
    }
    return worst;
}
