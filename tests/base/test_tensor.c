/* Tests of tensors: allocation, views, reshape, copies. */
#include <string.h>

#include "pvx-private/core.h"

static void tensor_new_is_zeroed_contiguous(void)
{
    g_autoptr(PvxTensor) t =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)3, (int64_t)4, (int64_t)5);
    g_assert_cmpint(pvx_tensor_numel(t), ==, 120);
    g_assert_true(pvx_tensor_is_contiguous(t));
    g_assert_cmpint(t->stride[0], ==, 60);
    g_assert_cmpint(t->stride[3], ==, 1);
    for (int i = 0; i < 120; i++)
        g_assert_cmpfloat(t->data[i], ==, 0.0f);
    g_assert_cmpuint(GPOINTER_TO_SIZE(t->data) % 64, ==, 0);
}

static void tensor_views_share_storage(void)
{
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(2, (int64_t)4, (int64_t)3);
    for (int i = 0; i < 12; i++)
        t->data[i] = (float)i;
    g_autoptr(PvxTensor) rows = pvx_tensor_narrow0(t, 1, 2);
    g_assert_cmpint(rows->shape[0], ==, 2);
    g_assert_cmpfloat(rows->data[0], ==, 3.0f);
    rows->data[0] = 42.0f;
    g_assert_cmpfloat(t->data[3], ==, 42.0f);
    int64_t flat = -1;
    g_autoptr(PvxTensor) r = pvx_tensor_reshape(t, 1, &flat, NULL);
    g_assert_nonnull(r);
    g_assert_cmpint(r->shape[0], ==, 12);
    /* The view keeps the storage alive after the source is gone. */
    g_clear_pointer(&t, pvx_tensor_unref);
    g_assert_cmpfloat(r->data[11], ==, 11.0f);
}

static void tensor_reshape_mismatch_names_both_shapes(void)
{
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(2, (int64_t)4, (int64_t)3);
    g_autoptr(GError) error = NULL;
    int64_t shape[2] = {5, 2};
    g_autoptr(PvxTensor) r = pvx_tensor_reshape(t, 2, shape, &error);
    g_assert_null(r);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[4, 3]"));
    g_assert_nonnull(strstr(error->message, "[5, 2]"));
}

static void tensor_copy_into_checks_shape(void)
{
    g_autoptr(PvxTensor) a = pvx_tensor_new_shape(1, (int64_t)3);
    g_autoptr(PvxTensor) b = pvx_tensor_new_shape(1, (int64_t)4);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_tensor_copy_into(a, b, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    pvx_tensor_fill(b, 2.5f);
    g_autoptr(PvxTensor) c = pvx_tensor_copy(b);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(b, c, 1e-6), ==, 0.0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tensor/new_is_zeroed_contiguous", tensor_new_is_zeroed_contiguous);
    g_test_add_func("/tensor/views_share_storage", tensor_views_share_storage);
    g_test_add_func("/tensor/reshape_mismatch_names_both_shapes",
                    tensor_reshape_mismatch_names_both_shapes);
    g_test_add_func("/tensor/copy_into_checks_shape", tensor_copy_into_checks_shape);
    return g_test_run();
}
