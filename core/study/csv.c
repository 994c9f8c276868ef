/* pvx — RFC 4180 CSV: a reader that names file, line and column in its errors, and a writer. */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/study.h"
#include "pvx-private/escape.h"

void pvx_csv_free(PvxCsv *csv)
{
    if (!csv)
        return;
    g_free(csv->name);
    g_strfreev(csv->header);
    if (csv->rows)
        g_ptr_array_free(csv->rows, TRUE);
    if (csv->lines)
        g_array_free(csv->lines, TRUE);
    g_free(csv);
}

/* Position in the text: line and column advance as characters are consumed. */
typedef struct {
    const char *p, *end, *name;
    int line, col;
} Cursor;

static void advance(Cursor *c)
{
    if (*c->p == '\n') {
        c->line++;
        c->col = 1;
    } else if ((*c->p & 0xC0) != 0x80) {
        c->col++; /* columns count code points, as an editor shows them */
    }
    c->p++;
}

/* Reads one record into @fields. Returns FALSE at the end of the text (nothing read) or on an
 * error (set). */
static gboolean read_record(Cursor *c, GPtrArray *fields, gboolean *eof, GError **error)
{
    *eof = FALSE;
    if (c->p >= c->end) {
        *eof = TRUE;
        return FALSE;
    }
    GString *f = g_string_new(NULL);
    for (;;) {
        g_string_truncate(f, 0);
        if (c->p < c->end && *c->p == '"') {
            int qline = c->line, qcol = c->col;
            advance(c);
            for (;;) {
                if (c->p >= c->end) {
                    g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                                "%s:%d:%d: the quoted field is never closed", c->name, qline, qcol);
                    g_string_free(f, TRUE);
                    return FALSE;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        g_string_append_c(f, '"');
                        advance(c);
                        advance(c);
                        continue;
                    }
                    advance(c);
                    break;
                }
                g_string_append_c(f, *c->p);
                advance(c);
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                            "%s:%d:%d: text after the closing quote of a field (a quote inside "
                            "a quoted field must be doubled: \"\")",
                            c->name, c->line, c->col);
                g_string_free(f, TRUE);
                return FALSE;
            }
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
                if (*c->p == '"') {
                    g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                                "%s:%d:%d: a quote inside an unquoted field (quote the whole "
                                "field and double the quote)",
                                c->name, c->line, c->col);
                    g_string_free(f, TRUE);
                    return FALSE;
                }
                g_string_append_c(f, *c->p);
                advance(c);
            }
        }
        g_ptr_array_add(fields, g_strdup(f->str));
        if (c->p < c->end && *c->p == ',') {
            advance(c);
            continue;
        }
        if (c->p < c->end && *c->p == '\r')
            advance(c);
        if (c->p < c->end && *c->p == '\n')
            advance(c);
        break;
    }
    g_string_free(f, TRUE);
    return TRUE;
}

static gboolean record_is_blank(const GPtrArray *fields)
{
    return fields->len == 1 && *(char *)fields->pdata[0] == '\0';
}

PvxCsv *pvx_csv_parse(const char *text, gssize len, const char *name, GError **error)
{
    g_return_val_if_fail(text != NULL, NULL);
    gsize n = len < 0 ? strlen(text) : (gsize)len;
    if (!g_utf8_validate(text, n, NULL)) {
        const char *bad = NULL;
        g_utf8_validate(text, n, &bad);
        int line = 1;
        for (const char *q = text; q < bad; q++)
            line += *q == '\n';
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s:%d: not UTF-8 text", name, line);
        return NULL;
    }
    Cursor c = {text, text + n, name, 1, 1};
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.p += 3;
    g_autoptr(PvxCsv) csv = g_new0(PvxCsv, 1);
    csv->name = g_strdup(name);
    csv->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    csv->lines = g_array_new(FALSE, FALSE, sizeof(int));
    gboolean eof;
    for (;;) {
        int start = c.line;
        g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
        if (!read_record(&c, fields, &eof, error)) {
            if (!eof)
                return NULL;
            break;
        }
        if (record_is_blank(fields))
            continue;
        g_ptr_array_add(fields, NULL);
        int nf = (int)fields->len - 1;
        char **strv = (char **)g_ptr_array_steal(fields, NULL);
        if (!csv->header) {
            csv->header = strv;
            csv->n_cols = nf;
            continue;
        }
        if (nf != csv->n_cols) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s:%d: the record has %d fields, the header %d", name, start, nf,
                        csv->n_cols);
            g_strfreev(strv);
            return NULL;
        }
        g_ptr_array_add(csv->rows, strv);
        g_array_append_val(csv->lines, start);
    }
    if (!csv->header) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: empty file (no header row)", name);
        return NULL;
    }
    return g_steal_pointer(&csv);
}

PvxCsv *pvx_csv_read(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(error, PVX_ERROR,
                    e->code == G_FILE_ERROR_NOENT ? PVX_ERROR_NOT_FOUND : PVX_ERROR_IO, "%s",
                    e->message);
        return NULL;
    }
    return pvx_csv_parse(text, (gssize)len, path, error);
}

int pvx_csv_column(const PvxCsv *csv, const char *name)
{
    for (int i = 0; i < csv->n_cols; i++)
        if (strcmp(csv->header[i], name) == 0)
            return i;
    return -1;
}

const char *pvx_csv_get(const PvxCsv *csv, guint row, int col)
{
    g_return_val_if_fail(row < csv->rows->len && col >= 0 && col < csv->n_cols, NULL);
    return ((char **)csv->rows->pdata[row])[col];
}

void pvx_csv_append_row(GString *out, const char *const *fields, int n_fields)
{
    for (int i = 0; i < n_fields; i++) {
        if (i)
            g_string_append_c(out, ',');
        pvx_escape_csv_field(out, fields[i]);
    }
    g_string_append(out, "\r\n");
}

gboolean pvx_csv_write(const char *path, const char *const *header, const GPtrArray *rows,
                       GError **error)
{
    int n = (int)g_strv_length((char **)header);
    g_autoptr(GString) out = g_string_new(NULL);
    pvx_csv_append_row(out, header, n);
    for (guint r = 0; rows && r < rows->len; r++)
        pvx_csv_append_row(out, (const char *const *)rows->pdata[r], n);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(path, out->str, (gssize)out->len, &e)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    return TRUE;
}
