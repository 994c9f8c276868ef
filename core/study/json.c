/* pvx — a small JSON writer for summary.json, and label ordering. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pvx-private/escape.h"
#include "study_private.h"

void pvx_json_init(PvxJson *j)
{
    j->s = g_string_new(NULL);
    j->depth = 0;
    j->first[0] = TRUE;
}

char *pvx_json_finish(PvxJson *j)
{
    g_string_append_c(j->s, '\n');
    return g_string_free(j->s, FALSE);
}

/* Comma, newline and indent before a member; then the key. */
static void member(PvxJson *j, const char *key)
{
    if (j->depth > 0) {
        if (!j->first[j->depth])
            g_string_append_c(j->s, ',');
        g_string_append_c(j->s, '\n');
        g_string_append_printf(j->s, "%*s", 2 * j->depth, "");
    }
    j->first[j->depth] = FALSE;
    if (key) {
        pvx_escape_json(j->s, key);
        g_string_append(j->s, ": ");
    }
}

static void json_open(PvxJson *j, const char *key, char c)
{
    member(j, key);
    g_string_append_c(j->s, c);
    g_return_if_fail(j->depth + 1 < (int)G_N_ELEMENTS(j->first));
    j->first[++j->depth] = TRUE;
}

static void json_close(PvxJson *j, char c)
{
    gboolean empty = j->first[j->depth];
    j->depth--;
    if (!empty) {
        g_string_append_c(j->s, '\n');
        g_string_append_printf(j->s, "%*s", 2 * j->depth, "");
    }
    g_string_append_c(j->s, c);
}

void pvx_json_begin_object(PvxJson *j, const char *key)
{
    json_open(j, key, '{');
}

void pvx_json_end_object(PvxJson *j)
{
    json_close(j, '}');
}

void pvx_json_begin_array(PvxJson *j, const char *key)
{
    json_open(j, key, '[');
}

void pvx_json_end_array(PvxJson *j)
{
    json_close(j, ']');
}

void pvx_json_string(PvxJson *j, const char *key, const char *value)
{
    member(j, key);
    if (value)
        pvx_escape_json(j->s, value);
    else
        g_string_append(j->s, "null");
}

void pvx_json_number(PvxJson *j, const char *key, double value)
{
    member(j, key);
    if (!isfinite(value)) {
        g_string_append(j->s, "null");
        return;
    }
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(buf, sizeof buf, "%.17g", value);
    g_string_append(j->s, buf);
}

void pvx_json_int(PvxJson *j, const char *key, int64_t value)
{
    member(j, key);
    g_string_append_printf(j->s, "%" G_GINT64_FORMAT, (gint64)value);
}

int pvx_study_label_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (g_ascii_isdigit(*a) && g_ascii_isdigit(*b)) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

int pvx_study_cmp_i64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
