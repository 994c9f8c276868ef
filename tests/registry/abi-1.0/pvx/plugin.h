/* pvx — the plugin ABI.
 *
 * A plugin is a shared object that exports one symbol, PVX_PLUGIN_SYMBOL, a function returning a
 * pointer to a static PvxPluginDescriptor. The descriptor carries the ABI version the plugin was
 * compiled against, its own size, its kind, name, version, one-line description, its parameter
 * schema and a pointer to the function table of its kind. Every function table begins with its
 * own size in bytes: slots are only ever appended, and the core reads a slot only when the
 * table is large enough to hold it.
 *
 * Compatibility rule: same ABI major, and plugin minor <= core minor.
 *
 * Write a plugin with PVX_PLUGIN_DEFINE, which fills in the ABI version and sizes so no plugin
 * can get them wrong:
 *
 *     static const PvxDatasetClass klass = { .size = sizeof klass, .open = my_open, ... };
 *     PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "idx", "1.0.0", "MNIST-style IDX files", my_params,
 * &klass)
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <gmodule.h>
#include "params.h"

G_BEGIN_DECLS

#define PVX_ABI_MAJOR 1
#define PVX_ABI_MINOR 0
#define PVX_PLUGIN_MAGIC 0x31585650u /* "PVX1" little-endian */
#define PVX_PLUGIN_SYMBOL "pvx_plugin_descriptor"

/* Append-only. */
typedef enum {
    PVX_KIND_DATASET = 1,
    PVX_KIND_MODEL,
    PVX_KIND_PRUNER,
    PVX_KIND_EXPLAINER,
    PVX_KIND_METRIC,
} PvxPluginKind;
#define PVX_KIND_LAST PVX_KIND_METRIC

/* "dataset", "model", ... (transfer none); NULL for an unknown kind. */
const char *pvx_plugin_kind_name(PvxPluginKind kind);
/* The kind of a name; 0 when unknown. */
PvxPluginKind pvx_plugin_kind_from_name(const char *name);

typedef struct {
    uint32_t magic;             /* PVX_PLUGIN_MAGIC */
    uint16_t abi_major;         /* PVX_ABI_MAJOR the plugin was compiled with */
    uint16_t abi_minor;         /* PVX_ABI_MINOR the plugin was compiled with */
    uint32_t size;              /* sizeof(PvxPluginDescriptor) as the plugin saw it */
    uint32_t kind;              /* PvxPluginKind */
    const char *name;           /* unique per kind: [a-z0-9][a-z0-9_+-]* */
    const char *version;        /* the plugin's own version, e.g. "1.0.0" */
    const char *description;    /* one line */
    const PvxParamSpec *params; /* terminated by PVX_PARAM_SPEC_END; NULL means none */
    const void *klass;          /* the kind's function table; begins with uint32_t size */
    void *reserved[8];          /* room to grow without changing the size check */
} PvxPluginDescriptor;

typedef const PvxPluginDescriptor *(*PvxPluginDescribeFunc)(void);

#define PVX_PLUGIN_DEFINE(kind_, name_, version_, description_, params_, klass_)                   \
    G_MODULE_EXPORT const PvxPluginDescriptor *pvx_plugin_descriptor(void);                        \
    G_MODULE_EXPORT const PvxPluginDescriptor *pvx_plugin_descriptor(void)                         \
    {                                                                                              \
        static const PvxPluginDescriptor desc = {                                                  \
            .magic = PVX_PLUGIN_MAGIC,                                                             \
            .abi_major = PVX_ABI_MAJOR,                                                            \
            .abi_minor = PVX_ABI_MINOR,                                                            \
            .size = sizeof(PvxPluginDescriptor),                                                   \
            .kind = (kind_),                                                                       \
            .name = (name_),                                                                       \
            .version = (version_),                                                                 \
            .description = (description_),                                                         \
            .params = (params_),                                                                   \
            .klass = (klass_),                                                                     \
        };                                                                                         \
        return &desc;                                                                              \
    }

G_END_DECLS
