/* pvx — the dataset plugin kind.
 *
 * A dataset plugin opens an instance from validated params and then answers questions about it:
 * how many classes and what they are called, how large each split is, the shape of an item, and
 * item i of a split. get_item must be safe to call from several threads at once on the same
 * instance (the data pipeline loads in parallel); open/close (when declared) are called from one
 * thread.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stdint.h>
#include "image.h"
#include "params.h"
#include "tensor.h"

PVX_BEGIN_DECLS

/* Append-only. */
typedef enum {
    PVX_SPLIT_TRAIN = 0,
    PVX_SPLIT_VAL,
    PVX_SPLIT_TEST,
} PvxSplit;
#define PVX_SPLIT_COUNT 3

const char *pvx_split_name(PvxSplit split); /* "train", "val", "test" */
/* Parses "train"/"val"/"test" ("validation" too); FALSE if unknown. */
gboolean pvx_split_from_name(const char *name, PvxSplit *out);

typedef struct {
    PvxTensor *image; /* C×H×W float32, normalised as the model expects (transfer full) */
    int label;        /* 0 .. num_classes-1 */
    PvxTensor *mask;  /* H×W float32 in {0, 1}: ground-truth relevance, or NULL */
    PvxImage *raw;    /* the picture a person would see (8-bit, H×W, after resize/crop), or NULL */
    char *id; /* stable item id for file names and studies, e.g. "test-000042" (transfer full) */
} PvxDatasetItem;

/* Frees what an item holds and zeroes it. */
void pvx_dataset_item_clear(PvxDatasetItem *item);

typedef struct {
    uint32_t size; /* sizeof(PvxDatasetClass) as the plugin saw it */

    /* Optional since ABI 1.1, and only as a pair: a stateless plugin declares neither and its
     * callbacks get self = NULL. open returns (transfer full) the plugin's state, or NULL + error
     * naming the param (pvx_params_where) or file that is wrong (the core opens every
     * kind the same way); close frees it. */
    gpointer (*open)(const PvxParams *params, GError **error);
    void (*close)(gpointer self);

    int (*num_classes)(gpointer self);
    /* Returns: (transfer none), valid until close. */
    const char *(*class_name)(gpointer self, int index);
    /* Items in a split; -1 when the dataset has no such split (e.g. no "val"). */
    int64_t (*split_size)(gpointer self, PvxSplit split);
    /* Shape of item images: chw[0] = channels, chw[1] = height, chw[2] = width. */
    void (*item_shape)(gpointer self, int64_t chw[3]);
    /* TRUE when items carry a ground-truth relevance mask. */
    gboolean (*has_masks)(gpointer self);
    /* Loads item @index of @split into @item (which the caller zeroed). */
    gboolean (*get_item)(gpointer self, PvxSplit split, int64_t index, PvxDatasetItem *item,
                         GError **error);

    /* Optional (NULL: the core calls get_item): the label of an item without loading its image,
     * for selecting items by class cheaply. -1 when it cannot be told. */
    int (*item_label)(gpointer self, PvxSplit split, int64_t index);
} PvxDatasetClass;

/* The minimum table size the core accepts for this kind (all slots above present). */
#define PVX_DATASET_CLASS_MIN_SIZE (offsetof(PvxDatasetClass, get_item) + sizeof(void *))

PVX_END_DECLS
