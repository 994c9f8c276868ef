/* pvx — text escaping for HTML, CSV, JSON, YAML, JavaScript and Markdown (pvx/escape.h). */
#include <string.h>

#include "pvx/escape.h"

void pvx_escape_html(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        default:
            g_string_append_c(out, *p);
        }
    }
}

char *pvx_escape_html_new(const char *s)
{
    GString *out = g_string_new(NULL);
    pvx_escape_html(out, s);
    return g_string_free(out, FALSE);
}

static gboolean csv_needs_quotes(const char *s)
{
    if (!*s)
        return FALSE;
    if (s[0] == ' ' || s[strlen(s) - 1] == ' ')
        return TRUE;
    return strpbrk(s, ",\"\r\n") != NULL;
}

void pvx_escape_csv_field(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    if (!s)
        return;
    if (!csv_needs_quotes(s)) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* The escapes JSON and YAML share inside double quotes; FALSE for a byte they spell
 * differently or not at all. */
static gboolean append_c_escape(GString *out, unsigned char c)
{
    switch (c) {
    case '"':
        g_string_append(out, "\\\"");
        return TRUE;
    case '\\':
        g_string_append(out, "\\\\");
        return TRUE;
    case '\n':
        g_string_append(out, "\\n");
        return TRUE;
    case '\r':
        g_string_append(out, "\\r");
        return TRUE;
    case '\t':
        g_string_append(out, "\\t");
        return TRUE;
    default:
        return FALSE;
    }
}

void pvx_escape_json(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (append_c_escape(out, *p))
            continue;
        if (*p < 0x20)
            g_string_append_printf(out, "\\u%04x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '"');
}

void pvx_escape_yaml(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (append_c_escape(out, *p))
            continue;
        if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(out, "\\x%02x", *p);
        else
            g_string_append_c(out, (char)*p);
    }
    g_string_append_c(out, '"');
}

void pvx_escape_js_single(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    g_string_append_c(out, '\'');
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\'' || *p == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '\'');
}

void pvx_escape_markdown_cell(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '|')
            g_string_append(out, "\\|");
        else if (*p == '<')
            g_string_append(out, "&lt;");
        else if (*p == '\n')
            g_string_append_c(out, ' ');
        else
            g_string_append_c(out, *p);
    }
}
