/* pvx — the hyper-parameters of a convolution and a max-pool, as a layer (nn.h) holds them and
 * the core's kernels take them. Zero-initialised means PyTorch's defaults where a comment says so.
 */
#pragma once

#include "api.h"

PVX_BEGIN_DECLS

/* Conv2d: stride, zero padding on each side and dilation, per direction. */
typedef struct {
    int stride_h, stride_w;     /* 0 means 1 */
    int pad_h, pad_w;           /* zero padding on each side */
    int dilation_h, dilation_w; /* 0 means 1 */
} PvxConv2dParams;

/* Max-pool 2d (PyTorch's MaxPool2d with ceil_mode = False, dilation 1). */
typedef struct {
    int kernel_h, kernel_w;
    int stride_h, stride_w; /* 0 means = kernel (PyTorch's default) */
    int pad_h, pad_w;       /* at most half the kernel, as PyTorch requires */
} PvxMaxPool2dParams;

PVX_END_DECLS
