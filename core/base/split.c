/* pvx — names of dataset splits. */
#include <string.h>

#include "pvx/dataset.h"

static const char *const split_names[PVX_SPLIT_COUNT] = {"train", "val", "test"};

const char *pvx_split_name(PvxSplit split)
{
    return (unsigned)split < PVX_SPLIT_COUNT ? split_names[split] : "unknown";
}

gboolean pvx_split_from_name(const char *name, PvxSplit *out)
{
    for (int s = 0; s < PVX_SPLIT_COUNT; s++) {
        if (strcmp(name, split_names[s]) == 0) {
            *out = (PvxSplit)s;
            return TRUE;
        }
    }
    if (strcmp(name, "validation") == 0) {
        *out = PVX_SPLIT_VAL;
        return TRUE;
    }
    return FALSE;
}
