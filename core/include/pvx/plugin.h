/* pvx — the plugin ABI.
 *
 * A plugin is a shared object that exports one symbol, PVX_PLUGIN_SYMBOL, a function returning a
 * pointer to a static PvxPluginDescriptor. The descriptor carries the ABI version the plugin was
 * compiled against, its own size, its kind, name, version, one-line description, its parameter
 * schema and a pointer to the function table of its kind. Every function table begins with its
 * own size in bytes: slots are only ever appended, and the core reads a slot only when the
 * table is large enough to hold it.
 *
 * Compatibility rule: same ABI major, and plugin minor <= core minor. A 1.0 plugin loads into a
 * 1.1 core unchanged (tests/registry/abi-1.0/ keeps the 1.0 headers and builds one to prove it).
 *
 * ABI 1.1 (docs/plugins.md has the whole story):
 *   - `open` and `close` are optional and come as a pair: a stateless plugin declares neither and
 *     its callbacks receive NULL as `self`. A table with only one of them is refused.
 *   - the core opens every plugin the same way (one function of its registry), which guarantees
 *     an error is set if and only if opening failed.
 *   - the descriptor records sizeof(PvxParamSpec) as the plugin saw it (param_spec_size), and
 *     the core reads the spec table with that stride, so PvxParamSpec can grow.
 *   - the required slots of each kind are one table in the loader (core/registry/registry.c).
 *   - the pruners' `scope` is the core's (prune.scope in the config); PvxPrunerClass.scope is
 *     no longer called.
 *
 * Write a plugin with PVX_PLUGIN_DEFINE, which fills in the ABI version and sizes so no plugin
 * can get them wrong:
 *
 *     static const PvxDatasetClass klass = { .size = sizeof klass, .open = my_open, ... };
 *     PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "idx", "1.0.0", "MNIST-style IDX files", my_params,
 * &klass)
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stdint.h>
#include <gmodule.h>
#include "params.h"

PVX_BEGIN_DECLS

#define PVX_ABI_MAJOR 1
#define PVX_ABI_MINOR 2
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
    /* Since 1.1: sizeof(PvxParamSpec) as the plugin saw it, the stride of `params`. 0 (every
     * 1.0 plugin) means the 1.0 size, PVX_PARAM_SPEC_SIZE_1_0. */
    uint32_t param_spec_size;
    uint32_t reserved32; /* 0 */
    void *reserved[7];   /* room to grow without changing the size check; NULL */
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
            .param_spec_size = sizeof(PvxParamSpec),                                               \
        };                                                                                         \
        return &desc;                                                                              \
    }

PVX_END_DECLS
