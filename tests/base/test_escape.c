/* Tests of pvx-private/escape.h: each format on the same awkward inputs — quotes, commas, newlines,
 * markup characters, control characters and non-ASCII UTF-8. */
#include "pvx-private/escape.h"

typedef void (*EscapeFunc)(GString *out, const char *s);

/* Appends after a prefix, so a function that overwrote @out instead of appending fails too. */
static void assert_escapes(EscapeFunc f, const char *in, const char *want)
{
    g_autoptr(GString) out = g_string_new(">");
    f(out, in);
    g_assert_cmpstr(out->str + 1, ==, want);
    g_assert_cmpint(out->str[0], ==, '>');
}

static void html_escapes_markup_and_keeps_the_rest(void)
{
    assert_escapes(pvx_escape_html, "a<b>&\"c\"", "a&lt;b&gt;&amp;&quot;c&quot;");
    assert_escapes(pvx_escape_html, "it's, fine\nnext", "it's, fine\nnext");
    assert_escapes(pvx_escape_html, "tab\there\x01", "tab\there\x01");
    assert_escapes(pvx_escape_html, "Größe ≥ 5 — ok", "Größe ≥ 5 — ok");
    assert_escapes(pvx_escape_html, "&amp;", "&amp;amp;");
    assert_escapes(pvx_escape_html, NULL, "");
    g_autofree char *dup = pvx_escape_html_new("<i>Ölfarbe</i> & 'x'");
    g_assert_cmpstr(dup, ==, "&lt;i&gt;Ölfarbe&lt;/i&gt; &amp; 'x'");
    g_autofree char *empty = pvx_escape_html_new(NULL);
    g_assert_cmpstr(empty, ==, "");
}

static void csv_quotes_only_what_needs_it(void)
{
    assert_escapes(pvx_escape_csv_field, "plain", "plain");
    assert_escapes(pvx_escape_csv_field, "", "");
    assert_escapes(pvx_escape_csv_field, NULL, "");
    assert_escapes(pvx_escape_csv_field, "a,b", "\"a,b\"");
    assert_escapes(pvx_escape_csv_field, "say \"hi\"", "\"say \"\"hi\"\"\"");
    assert_escapes(pvx_escape_csv_field, "two\nlines", "\"two\nlines\"");
    assert_escapes(pvx_escape_csv_field, "cr\rhere", "\"cr\rhere\"");
    assert_escapes(pvx_escape_csv_field, " padded", "\" padded\"");
    assert_escapes(pvx_escape_csv_field, "padded ", "\"padded \"");
    assert_escapes(pvx_escape_csv_field, "in side", "in side");
    assert_escapes(pvx_escape_csv_field, "<a>&'b'\t\x01", "<a>&'b'\t\x01");
    assert_escapes(pvx_escape_csv_field, "Zürich, 東京", "\"Zürich, 東京\"");
}

static void json_writes_a_valid_string_literal(void)
{
    assert_escapes(pvx_escape_json, "plain", "\"plain\"");
    assert_escapes(pvx_escape_json, NULL, "\"\"");
    assert_escapes(pvx_escape_json, "say \"hi\" \\ o/", "\"say \\\"hi\\\" \\\\ o/\"");
    assert_escapes(pvx_escape_json, "a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    assert_escapes(pvx_escape_json, "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    assert_escapes(pvx_escape_json, "<a>&'b', c", "\"<a>&'b', c\"");
    assert_escapes(pvx_escape_json, "naïve — 東京", "\"naïve — 東京\"");
}

static void yaml_writes_a_double_quoted_scalar(void)
{
    assert_escapes(pvx_escape_yaml, "plain", "\"plain\"");
    assert_escapes(pvx_escape_yaml, NULL, "\"\"");
    assert_escapes(pvx_escape_yaml, "say \"hi\" \\ o/", "\"say \\\"hi\\\" \\\\ o/\"");
    assert_escapes(pvx_escape_yaml, "a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    assert_escapes(pvx_escape_yaml, "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"");
    assert_escapes(pvx_escape_yaml, "<a>&'b', c: d # e", "\"<a>&'b', c: d # e\"");
    assert_escapes(pvx_escape_yaml, "naïve — 東京", "\"naïve — 東京\"");
}

static void js_single_backslashes_quote_and_backslash(void)
{
    assert_escapes(pvx_escape_js_single, "cat", "'cat'");
    assert_escapes(pvx_escape_js_single, NULL, "''");
    assert_escapes(pvx_escape_js_single, "it's a \\ \"x\"", "'it\\'s a \\\\ \"x\"'");
    assert_escapes(pvx_escape_js_single, "<a>&, b\nc", "'<a>&, b\nc'");
    assert_escapes(pvx_escape_js_single, "Ölfarbe ≠ 東京", "'Ölfarbe ≠ 東京'");
}

static void markdown_cell_stays_one_cell_on_one_line(void)
{
    assert_escapes(pvx_escape_markdown_cell, "a | b", "a \\| b");
    assert_escapes(pvx_escape_markdown_cell, "<b>&\"x\"'", "&lt;b>&\"x\"'");
    assert_escapes(pvx_escape_markdown_cell, "two\nlines, ok", "two lines, ok");
    assert_escapes(pvx_escape_markdown_cell, NULL, "");
    assert_escapes(pvx_escape_markdown_cell, "\t\x01 größer ≥", "\t\x01 größer ≥");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/escape/html_escapes_markup_and_keeps_the_rest",
                    html_escapes_markup_and_keeps_the_rest);
    g_test_add_func("/escape/csv_quotes_only_what_needs_it", csv_quotes_only_what_needs_it);
    g_test_add_func("/escape/json_writes_a_valid_string_literal",
                    json_writes_a_valid_string_literal);
    g_test_add_func("/escape/yaml_writes_a_double_quoted_scalar",
                    yaml_writes_a_double_quoted_scalar);
    g_test_add_func("/escape/js_single_backslashes_quote_and_backslash",
                    js_single_backslashes_quote_and_backslash);
    g_test_add_func("/escape/markdown_cell_stays_one_cell_on_one_line",
                    markdown_cell_stays_one_cell_on_one_line);
    return g_test_run();
}
