/* pvx ABI 1.0, frozen: an excerpt of core/include/pvx/ops.h as of commit a057819 — only the two
 * structs PvxLayer (nn.h) embeds, text unchanged. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int stride_h, stride_w;     /* 0 means 1 */
    int pad_h, pad_w;           /* zero padding on each side */
    int dilation_h, dilation_w; /* 0 means 1 */
} PvxConv2dParams;

typedef struct {
    int kernel_h, kernel_w;
    int stride_h, stride_w; /* 0 means = kernel (PyTorch's default) */
    int pad_h, pad_w;       /* at most half the kernel, as PyTorch requires */
} PvxMaxPool2dParams;

G_END_DECLS
