/* pvx — text escaping for the files the core writes: HTML, CSV, JSON, YAML, JavaScript strings
 * and Markdown table cells, one function per format (core-private, not plugin surface).
 *
 * Every function appends to @out and treats @s as UTF-8 bytes: bytes ≥ 0x80 (non-ASCII
 * characters) pass through unchanged. A NULL @s is the empty string.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* HTML text or a double-quoted attribute value: & < > " become &amp; &lt; &gt; &quot;. Apostrophes
 * stay as they are (JavaScript arrays of single-quoted strings sit inside attributes), as do
 * control characters. */
void pvx_escape_html(GString *out, const char *s);
/* pvx_escape_html into a new string. Returns: (transfer full). */
char *pvx_escape_html_new(const char *s);

/* One RFC 4180 CSV field: written as it is unless it contains a comma, a double quote, CR or LF,
 * or starts or ends with a space; then it is enclosed in double quotes with each quote doubled.
 * The empty field stays empty. */
void pvx_escape_csv_field(GString *out, const char *s);

/* A JSON string literal, quotes included: " and \ are backslashed, \n \r \t spelled so, other
 * bytes below 0x20 written as \u00XX. */
void pvx_escape_json(GString *out, const char *s);

/* A YAML double-quoted scalar, quotes included: " and \ are backslashed, \n \t \r spelled so,
 * other bytes below 0x20 and DEL written as \xXX. YAML reads it back to @s. */
void pvx_escape_yaml(GString *out, const char *s);

/* A JavaScript single-quoted string literal, quotes included: ' and \ are backslashed; nothing
 * else changes (the caller escapes the result for its context, such as an HTML attribute). */
void pvx_escape_js_single(GString *out, const char *s);

/* The text of a Markdown table cell: | becomes \|, < becomes &lt; (no tag starts), a newline a
 * space (a cell is one line). */
void pvx_escape_markdown_cell(GString *out, const char *s);

G_END_DECLS
