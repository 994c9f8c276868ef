/* Helpers shared by the metric plugins that score explanation maps (header-only: each plugin is
 * its own shared module). */
#pragma once

#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

/* The size maps are compared at: the images' H × W when the input has images, else the
 * masks', else the maps' own h × w. */
static inline void xai_pixel_size(const PvxMetricInput *in, int64_t *h, int64_t *w)
{
    if (PVX_METRIC_INPUT_HAS(in, images) && in->images) {
        *h = in->images->shape[2];
        *w = in->images->shape[3];
    } else if (in->masks) {
        *h = in->masks->shape[1];
        *w = in->masks->shape[2];
    } else {
        *h = in->maps->shape[1];
        *w = in->maps->shape[2];
    }
}

/* Fails unless the input carries the fields this pvx's metrics need (a core older than them). */
static inline gboolean xai_input_is_new(const PvxMetricInput *in, GError **error)
{
    if (PVX_METRIC_INPUT_HAS(in, method))
        return TRUE;
    g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                "the metric input (%u bytes) predates the explanation metrics", in->size);
    return FALSE;
}

static inline int xai_batch_size(const PvxMetricInput *in)
{
    return in->batch_size > 0 ? in->batch_size : 32;
}
