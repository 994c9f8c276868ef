/* pvx — reading validated parameters. Asking for an undeclared name, or with the getter of
 * another type, is a programmer error (g_critical). */
#include "pvx-private/params_internal.h"

#include <string.h>

static const PvxParamValue *lookup(const PvxParams *p, const char *name, const char *getter)
{
    g_return_val_if_fail(p != NULL && name != NULL, NULL);
    for (guint k = 0; k < p->n; k++)
        if (!strcmp(p->values[k].name, name))
            return &p->values[k];
    g_critical("%s: %s declares no parameter '%s'", getter, *p->owner ? p->owner : "params", name);
    return NULL;
}

static const PvxParamValue *lookup_typed(const PvxParams *p, const char *name, const char *getter,
                                         PvxParamType t1, PvxParamType t2, PvxParamType t3)
{
    const PvxParamValue *v = lookup(p, name, getter);
    if (v && v->type != t1 && v->type != t2 && v->type != t3) {
        g_critical("%s: parameter '%s' of %s has another type", getter, name,
                   *p->owner ? p->owner : "params");
        return NULL;
    }
    return v;
}

gboolean pvx_params_get_bool(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_BOOL, 0, 0);
    return v ? v->b : FALSE;
}

int64_t pvx_params_get_int(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_INT, 0, 0);
    return v ? v->i : 0;
}

double pvx_params_get_double(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_DOUBLE, PVX_PARAM_INT, 0);
    if (!v)
        return 0.0;
    return v->type == PVX_PARAM_INT ? (double)v->i : v->d;
}

const char *pvx_params_get_string(const PvxParams *p, const char *name)
{
    const PvxParamValue *v =
        lookup_typed(p, name, G_STRFUNC, PVX_PARAM_STRING, PVX_PARAM_CHOICE, PVX_PARAM_PATH);
    return v && v->has_value ? v->s : NULL;
}

gboolean pvx_params_is_set(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup(p, name, G_STRFUNC);
    return v && v->given && v->has_value;
}

gboolean pvx_params_has_value(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup(p, name, G_STRFUNC);
    return v && v->has_value;
}

const int64_t *pvx_params_get_int_list(const PvxParams *p, const char *name, gsize *n_out)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_INT_LIST, 0, 0);
    if (n_out)
        *n_out = v && v->has_value ? v->n : 0;
    return v && v->has_value ? v->ilist : NULL;
}

const double *pvx_params_get_double_list(const PvxParams *p, const char *name, gsize *n_out)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_DOUBLE_LIST, 0, 0);
    if (n_out)
        *n_out = v && v->has_value ? v->n : 0;
    return v && v->has_value ? v->dlist : NULL;
}

const char *const *pvx_params_get_string_list(const PvxParams *p, const char *name, gsize *n_out)
{
    const PvxParamValue *v = lookup_typed(p, name, G_STRFUNC, PVX_PARAM_STRING_LIST, 0, 0);
    if (n_out)
        *n_out = v && v->has_value ? v->n : 0;
    return v && v->has_value ? (const char *const *)v->slist : NULL;
}

const char *pvx_params_where(const PvxParams *p, const char *name)
{
    const PvxParamValue *v = lookup(p, name, G_STRFUNC);
    return v ? v->where : NULL;
}

const char *pvx_params_owner(const PvxParams *p)
{
    g_return_val_if_fail(p != NULL, NULL);
    return p->owner;
}
