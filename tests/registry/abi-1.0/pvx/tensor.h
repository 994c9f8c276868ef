/* pvx — float32 tensors.
 *
 * A PvxTensor is an n-dimensional float32 array in PyTorch's order (NCHW for images, OIHW for
 * conv weights), row-major and contiguous unless made as a view. Tensors are reference counted;
 * a view (reshape, batch slice) shares the storage of its source and keeps it alive.
 * Data is 64-byte aligned. Element access: t->data[i] for a contiguous tensor.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define PVX_TENSOR_MAX_DIMS 6

typedef struct _PvxStorage PvxStorage;

typedef struct {
    int ndim;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    int64_t stride[PVX_TENSOR_MAX_DIMS]; /* in elements */
    float *data;                         /* first element of this tensor (inside storage) */
    PvxStorage *storage;                 /* owner of the memory; shared by views */
    gint refcount;
} PvxTensor;

/* New zero-filled tensor of the given shape (ndim 0 means a scalar with one element).
 * Returns: (transfer full). */
PvxTensor *pvx_tensor_new(int ndim, const int64_t *shape);
/* Convenience: pvx_tensor_new_shape(3, C, H, W). Returns: (transfer full). */
PvxTensor *pvx_tensor_new_shape(int ndim, ...);
/* New tensor with the same shape as @like, zero-filled. Returns: (transfer full). */
PvxTensor *pvx_tensor_new_like(const PvxTensor *like);
/* New tensor wrapping a copy of @n floats from @data with the given shape. Returns: (transfer
 * full). */
PvxTensor *pvx_tensor_new_from_data(int ndim, const int64_t *shape, const float *data);

PvxTensor *pvx_tensor_ref(PvxTensor *t);
void pvx_tensor_unref(PvxTensor *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxTensor, pvx_tensor_unref)

int64_t pvx_tensor_numel(const PvxTensor *t);
gboolean pvx_tensor_is_contiguous(const PvxTensor *t);
/* TRUE if both tensors have the same ndim and shape. */
gboolean pvx_tensor_same_shape(const PvxTensor *a, const PvxTensor *b);
/* Writes "[8, 3, 224, 224]" into a newly allocated string. Returns: (transfer full). */
char *pvx_tensor_shape_string(const PvxTensor *t);
char *pvx_shape_string(int ndim, const int64_t *shape);

/* A view with a new shape over the same storage; @t must be contiguous and the element counts
 * equal. One entry of @shape may be -1 (inferred). Returns: (transfer full), NULL + error on
 * a count mismatch. */
PvxTensor *pvx_tensor_reshape(PvxTensor *t, int ndim, const int64_t *shape, GError **error);
/* A view of rows [start, start+count) along dimension 0. Returns: (transfer full). */
PvxTensor *pvx_tensor_narrow0(PvxTensor *t, int64_t start, int64_t count);
/* A contiguous deep copy. Returns: (transfer full). */
PvxTensor *pvx_tensor_copy(const PvxTensor *t);
/* Copies the elements of @src into @dst (same shape). */
gboolean pvx_tensor_copy_into(PvxTensor *dst, const PvxTensor *src, GError **error);

void pvx_tensor_fill(PvxTensor *t, float value);
void pvx_tensor_zero(PvxTensor *t);

/* Largest |a - b| / max(|b|, floor) over all elements, for tests. */
double pvx_tensor_max_rel_diff(const PvxTensor *a, const PvxTensor *b, double floor);

/* 64-byte aligned allocation used by tensors and kernels' scratch buffers. */
void *pvx_aligned_alloc(size_t bytes);
void pvx_aligned_free(void *p);

G_END_DECLS
