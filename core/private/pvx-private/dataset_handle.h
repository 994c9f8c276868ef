/* pvx — the core's handle on an open dataset plugin instance (core side). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/dataset.h"
#include "registry.h"

G_BEGIN_DECLS

/* The core's handle on an open dataset instance: a plugin plus its state. */
typedef struct _PvxDataset PvxDataset;

/* Opens @plugin (which must be a dataset plugin) with validated @params.
 * Returns: (transfer full). */
PvxDataset *pvx_dataset_open(const PvxPlugin *plugin, const PvxParams *params, GError **error);
void pvx_dataset_close(PvxDataset *ds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxDataset, pvx_dataset_close)

const char *pvx_dataset_name(const PvxDataset *ds); /* the plugin's name (transfer none) */
const PvxPlugin *pvx_dataset_plugin(const PvxDataset *ds);
int pvx_dataset_num_classes(const PvxDataset *ds);
const char *pvx_dataset_class_name(const PvxDataset *ds, int index);  /* (transfer none) */
int64_t pvx_dataset_split_size(const PvxDataset *ds, PvxSplit split); /* -1: no such split */
void pvx_dataset_item_shape(const PvxDataset *ds, int64_t chw[3]);
gboolean pvx_dataset_has_masks(const PvxDataset *ds);
/* Loads one item; checks what the plugin returned (image shape, label range, mask shape) so a
 * faulty plugin is reported, not trusted. */
gboolean pvx_dataset_get_item(const PvxDataset *ds, PvxSplit split, int64_t index,
                              PvxDatasetItem *item, GError **error);
/* The label of an item (through item_label when the plugin has it, else get_item);
 * -1 + error on failure. */
int pvx_dataset_get_label(const PvxDataset *ds, PvxSplit split, int64_t index, GError **error);

G_END_DECLS
