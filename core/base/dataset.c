/* pvx — dataset items. */
#include "pvx/dataset.h"

void pvx_dataset_item_clear(PvxDatasetItem *item)
{
    if (!item)
        return;
    g_clear_pointer(&item->image, pvx_tensor_unref);
    g_clear_pointer(&item->mask, pvx_tensor_unref);
    g_clear_pointer(&item->raw, pvx_image_free);
    g_clear_pointer(&item->id, g_free);
    item->label = 0;
}
