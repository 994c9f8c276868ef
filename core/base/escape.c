/* pvx — text escaping for HTML, CSV, JSON, YAML, JavaScript and Markdown (pvx-private/escape.h). */
#include <string.h>

#include "pvx-private/escape.h"

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

/* A double-quoted literal as JSON and YAML write it: " and \\ backslashed, \n \r \t spelled so;
 * the other bytes below 0x20 (and DEL with @escape_del) in @control_format. */
static void append_double_quoted(GString *out, const char *s, const char *control_format,
                                 gboolean escape_del)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (*p < 0x20 || (escape_del && *p == 0x7f))
                g_string_append_printf(out, control_format, *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

void pvx_escape_json(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    append_double_quoted(out, s, "\\u%04x", FALSE);
}

void pvx_escape_yaml(GString *out, const char *s)
{
    g_return_if_fail(out != NULL);
    append_double_quoted(out, s, "\\x%02x", TRUE);
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
