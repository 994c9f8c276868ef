/* pvx — study key, raters' answers (Mechanical Turk batch results or a long CSV) and how answer
 * values are coded. */
#include <math.h>
#include <string.h>

#include "pvx-private/config.h"
#include "pvx/error.h"
#include "pvx-private/study.h"
#include "study_private.h"

const char *pvx_study_type_name(PvxStudyType type)
{
    return type == PVX_STUDY_IDENTIFY ? "identify" : "pairwise";
}

/* ---- key ------------------------------------------------------------------------------------*/

static void key_row_free(PvxStudyKeyRow *r)
{
    g_free(r->task_id);
    g_free(r->image_id);
    g_free(r->class_name);
    g_free(r->left);
    g_free(r->right);
    g_free(r->model);
    g_free(r);
}

void pvx_study_key_free(PvxStudyKey *key)
{
    if (!key)
        return;
    g_free(key->path);
    if (key->by_task)
        g_hash_table_destroy(key->by_task);
    if (key->rows)
        g_ptr_array_free(key->rows, TRUE);
    g_free(key);
}

char *pvx_study_columns_list(const PvxCsv *csv)
{
    g_autoptr(GString) s = g_string_new(NULL);
    for (int i = 0; i < csv->n_cols; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", csv->header[i]);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

PvxStudyKey *pvx_study_key_load(const char *path, GError **error)
{
    g_autoptr(PvxCsv) csv = pvx_csv_read(path, error);
    if (!csv)
        return NULL;
    int task = pvx_csv_column(csv, "task_id"), image = pvx_csv_column(csv, "image_id");
    int cls = pvx_csv_column(csv, "class"), left = pvx_csv_column(csv, "left");
    int right = pvx_csv_column(csv, "right"), model = pvx_csv_column(csv, "model");
    gboolean pairwise = left >= 0 || right >= 0 || model < 0;
    g_autoptr(GString) missing = g_string_new(NULL);
    const char *names[] = {"task_id", "image_id", "class", "left", "right", "model"};
    int cols[] = {task, image, cls, left, right, model};
    for (int i = 0; i < 6; i++) {
        if ((pairwise && i == 5) || (!pairwise && (i == 3 || i == 4)) || cols[i] >= 0)
            continue;
        g_string_append_printf(missing, "%s'%s'", missing->len ? ", " : "", names[i]);
    }
    if (missing->len) {
        g_autofree char *have = pvx_study_columns_list(csv);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: missing column(s) %s (a key has task_id,image_id,class and left,right "
                    "for pairwise or model for identify); the file has: %s",
                    path, missing->str, have);
        return NULL;
    }
    g_autoptr(PvxStudyKey) key = g_new0(PvxStudyKey, 1);
    key->type = pairwise ? PVX_STUDY_PAIRWISE : PVX_STUDY_IDENTIFY;
    key->path = g_strdup(path);
    key->rows = g_ptr_array_new_with_free_func((GDestroyNotify)key_row_free);
    key->by_task = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint r = 0; r < csv->rows->len; r++) {
        int line = g_array_index(csv->lines, int, r);
        PvxStudyKeyRow *row = g_new0(PvxStudyKeyRow, 1);
        row->task_id = g_strstrip(g_strdup(pvx_csv_get(csv, r, task)));
        row->image_id = g_strdup(pvx_csv_get(csv, r, image));
        row->class_name = g_strdup(pvx_csv_get(csv, r, cls));
        if (pairwise) {
            row->left = g_strstrip(g_strdup(pvx_csv_get(csv, r, left)));
            row->right = g_strstrip(g_strdup(pvx_csv_get(csv, r, right)));
        } else {
            row->model = g_strstrip(g_strdup(pvx_csv_get(csv, r, model)));
        }
        g_ptr_array_add(key->rows, row);
        if (!*row->task_id || (pairwise && (!*row->left || !*row->right)) ||
            (!pairwise && !*row->model)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s:%d: empty task_id or model", path,
                        line);
            return NULL;
        }
        if (pairwise && strcmp(row->left, row->right) == 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s:%d: task '%s' compares model '%s' with itself", path, line,
                        row->task_id, row->left);
            return NULL;
        }
        if (g_hash_table_contains(key->by_task, row->task_id)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s:%d: task '%s' is listed twice",
                        path, line, row->task_id);
            return NULL;
        }
        g_hash_table_insert(key->by_task, row->task_id, row);
    }
    if (key->rows->len == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: the key lists no tasks", path);
        return NULL;
    }
    return g_steal_pointer(&key);
}

/* ---- answers --------------------------------------------------------------------------------*/

static void answer_free(PvxStudyAnswer *a)
{
    g_free(a->worker);
    g_free(a->task);
    g_free(a->value);
    g_free(a);
}

PvxStudyAnswers *pvx_study_answers_new(void)
{
    PvxStudyAnswers *a = g_new0(PvxStudyAnswers, 1);
    a->answers = g_ptr_array_new_with_free_func((GDestroyNotify)answer_free);
    pvx_study_issues_init(&a->issues);
    return a;
}

void pvx_study_answers_add(PvxStudyAnswers *a, const char *worker, const char *task,
                           const char *value, int line)
{
    PvxStudyAnswer *x = g_new0(PvxStudyAnswer, 1);
    x->worker = g_strdup(worker);
    x->task = g_strdup(task);
    x->value = g_strdup(value);
    x->line = line;
    g_ptr_array_add(a->answers, x);
    a->issues.rows++;
}

void pvx_study_answers_free(PvxStudyAnswers *a)
{
    if (!a)
        return;
    g_free(a->path);
    g_ptr_array_free(a->answers, TRUE);
    pvx_study_issues_clear(&a->issues);
    g_free(a);
}

void pvx_study_issues_init(PvxStudyIssues *is)
{
    memset(is, 0, sizeof *is);
    is->notes = g_ptr_array_new_with_free_func(g_free);
    is->uncoded_values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void pvx_study_issues_clear(PvxStudyIssues *is)
{
    if (is->notes)
        g_ptr_array_free(is->notes, TRUE);
    if (is->uncoded_values)
        g_hash_table_destroy(is->uncoded_values);
    memset(is, 0, sizeof *is);
}

void pvx_study_issues_copy(PvxStudyIssues *dst, const PvxStudyIssues *src)
{
    pvx_study_issues_init(dst);
    GPtrArray *notes = dst->notes;
    GHashTable *unc = dst->uncoded_values;
    *dst = *src;
    dst->notes = notes;
    dst->uncoded_values = unc;
    for (guint i = 0; i < src->notes->len; i++)
        g_ptr_array_add(dst->notes, g_strdup(src->notes->pdata[i]));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, src->uncoded_values);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(dst->uncoded_values, g_strdup(k), v);
}

void pvx_study_issue_note(PvxStudyIssues *is, int count, const char *format, ...)
{
    if (count > 10)
        return;
    va_list ap;
    va_start(ap, format);
    char *s = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (count == 10) {
        char *t = g_strconcat(s, " (further ones of this kind are only counted)", NULL);
        g_free(s);
        s = t;
    }
    g_ptr_array_add(is->notes, s);
}

static gboolean truthy(const char *s)
{
    g_autofree char *t = g_ascii_strdown(s, -1);
    g_strstrip(t);
    return strcmp(t, "true") == 0 || strcmp(t, "1") == 0 || strcmp(t, "yes") == 0 ||
           strcmp(t, "on") == 0 || strcmp(t, "x") == 0;
}

PvxStudyAnswers *pvx_study_answers_load(const char *path, const char *field, const char *join,
                                        GError **error)
{
    g_return_val_if_fail(path && field, NULL);
    if (!join)
        join = "Input.task_id";
    g_autoptr(PvxCsv) csv = pvx_csv_read(path, error);
    if (!csv)
        return NULL;
    g_autoptr(PvxStudyAnswers) a = pvx_study_answers_new();
    a->path = g_strdup(path);
    int worker = pvx_csv_column(csv, "WorkerId");
    int lw = pvx_csv_column(csv, "worker_id"), lt = pvx_csv_column(csv, "task_id"),
        la = pvx_csv_column(csv, "answer");
    if (worker < 0 && lw >= 0 && lt >= 0 && la >= 0) {
        a->long_format = TRUE;
        for (guint r = 0; r < csv->rows->len; r++) {
            int line = g_array_index(csv->lines, int, r);
            g_autofree char *v = g_strstrip(g_strdup(pvx_csv_get(csv, r, la)));
            g_autofree char *w = g_strstrip(g_strdup(pvx_csv_get(csv, r, lw)));
            g_autofree char *t = g_strstrip(g_strdup(pvx_csv_get(csv, r, lt)));
            if (!*v || !*w) {
                a->issues.rows++;
                a->issues.empty++;
                pvx_study_issue_note(&a->issues, a->issues.empty,
                                     "%s:%d: worker '%s', task "
                                     "'%s': %s; left out",
                                     path, line, w, t, *w ? "no answer" : "no worker_id");
                continue;
            }
            pvx_study_answers_add(a, w, t, v, line);
        }
        return g_steal_pointer(&a);
    }
    int task = pvx_csv_column(csv, join);
    g_autofree char *single_name = g_strdup_printf("Answer.%s", field);
    g_autofree char *prefix = g_strdup_printf("Answer.%s.", field);
    int single = pvx_csv_column(csv, single_name);
    g_autoptr(GArray) onehot = g_array_new(FALSE, FALSE, sizeof(int));
    if (single < 0)
        for (int c = 0; c < csv->n_cols; c++)
            if (g_str_has_prefix(csv->header[c], prefix) && csv->header[c][strlen(prefix)])
                g_array_append_val(onehot, c);
    g_autoptr(GString) missing = g_string_new(NULL);
    if (worker < 0)
        g_string_append(missing, "'WorkerId'");
    if (task < 0)
        g_string_append_printf(missing,
                               "%s'%s' (the column that joins to the key's task_id; "
                               "see --join)",
                               missing->len ? ", " : "", join);
    if (single < 0 && onehot->len == 0)
        g_string_append_printf(missing, "%s'%s' (or one-hot columns '%s<value>'; see --field)",
                               missing->len ? ", " : "", single_name, prefix);
    if (missing->len) {
        g_autofree char *have = pvx_study_columns_list(csv);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: missing column(s) %s; the file has: %s (a long CSV needs "
                    "worker_id,task_id,answer)",
                    path, missing->str, have);
        return NULL;
    }
    int status = pvx_csv_column(csv, "AssignmentStatus");
    PvxStudyIssues *is = &a->issues;
    for (guint r = 0; r < csv->rows->len; r++) {
        int line = g_array_index(csv->lines, int, r);
        g_autofree char *w = g_strstrip(g_strdup(pvx_csv_get(csv, r, worker)));
        g_autofree char *t = g_strstrip(g_strdup(pvx_csv_get(csv, r, task)));
        if (status >= 0 && g_ascii_strcasecmp(pvx_csv_get(csv, r, status), "Rejected") == 0) {
            is->rows++;
            is->rejected++;
            pvx_study_issue_note(is, is->rejected,
                                 "%s:%d: assignment of worker '%s' for task "
                                 "'%s' was rejected; left out",
                                 path, line, w, t);
            continue;
        }
        g_autofree char *value = NULL;
        if (single >= 0) {
            value = g_strstrip(g_strdup(pvx_csv_get(csv, r, single)));
        } else {
            int chosen = 0;
            for (guint k = 0; k < onehot->len; k++) {
                int c = g_array_index(onehot, int, k);
                if (!truthy(pvx_csv_get(csv, r, c)))
                    continue;
                if (chosen++ == 0)
                    value = g_strdup(csv->header[c] + strlen(prefix));
            }
            if (chosen > 1) {
                is->rows++;
                is->ambiguous++;
                pvx_study_issue_note(is, is->ambiguous,
                                     "%s:%d: worker '%s', task '%s': %d of "
                                     "the %s* columns are true; left out",
                                     path, line, w, t, chosen, prefix);
                continue;
            }
        }
        if (!value || !*value || !*w) {
            is->rows++;
            is->empty++;
            pvx_study_issue_note(is, is->empty, "%s:%d: worker '%s', task '%s': %s; left out", path,
                                 line, w, t, *w ? "no answer" : "no WorkerId");
            continue;
        }
        pvx_study_answers_add(a, w, t, value, line);
    }
    return g_steal_pointer(&a);
}

/* ---- coding ---------------------------------------------------------------------------------*/

static const char *const scale3[] = {"alg1", "none", "alg2", NULL};
static const int codes3[] = {1, 0, -1};
static const char *const scale5[] = {"cmr", "smr", "equal", "slr", "clr", NULL};
static const int codes5[] = {2, 1, 0, -1, -2};
static const char *const scale7[] = {"l3", "l2", "l1", "equal", "r1", "r2", "r3", NULL};
static const int codes7[] = {3, 2, 1, 0, -1, -2, -3};

const char *const *pvx_study_scale_labels(int scale, const int **codes_out)
{
    const char *const *labels = NULL;
    const int *codes = NULL;
    if (scale == 3)
        labels = scale3, codes = codes3;
    else if (scale == 5)
        labels = scale5, codes = codes5;
    else if (scale == 7)
        labels = scale7, codes = codes7;
    if (codes_out)
        *codes_out = codes;
    return labels;
}

static void codes_add(GHashTable *codes, const char *label, double v)
{
    double *d = g_new(double, 1);
    *d = v;
    g_hash_table_replace(codes, g_strdup(label), d);
}

static GHashTable *codes_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void pvx_study_coding_init_defaults(PvxStudyCoding *c)
{
    memset(c, 0, sizeof *c);
    c->codes = codes_new();
    for (int s = 3; s <= 7; s += 2) {
        const int *v;
        const char *const *l = pvx_study_scale_labels(s, &v);
        for (int i = 0; l[i]; i++)
            codes_add(c->codes, l[i], v[i]);
    }
    const char *dk[] = {"I do not know", "dont_know", NULL};
    c->dont_know = g_strdupv((char **)dk);
    c->ridge = 1e-3;
}

void pvx_study_coding_clear(PvxStudyCoding *c)
{
    if (c->codes)
        g_hash_table_destroy(c->codes);
    g_strfreev(c->dont_know);
    g_strfreev(c->classes);
    memset(c, 0, sizeof *c);
}

gboolean pvx_study_coding_set_codes(PvxStudyCoding *c, const char *spec, GError **error)
{
    g_autofree char *s = g_strstrip(g_strdup(spec));
    if (*s == '{' && s[strlen(s) - 1] == '}') {
        s[strlen(s) - 1] = '\0';
        memmove(s, s + 1, strlen(s));
    }
    g_auto(GStrv) entries = g_strsplit(s, ",", -1);
    g_autoptr(GHashTable) codes = codes_new();
    for (char **e = entries; *e; e++) {
        g_strstrip(*e);
        if (!**e)
            continue;
        char *sep = strrchr(*e, '=');
        if (!sep)
            sep = strrchr(*e, ':');
        char *end = NULL;
        double v = sep ? g_ascii_strtod(sep + 1, &end) : NAN;
        if (!sep || end == sep + 1 || !isfinite(v) || *g_strstrip(end) != '\0') {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "--codes: '%s' is not LABEL=NUMBER (e.g. alg1=1,none=0,alg2=-1)", *e);
            return FALSE;
        }
        *sep = '\0';
        g_autofree char *label = g_strstrip(g_strdup(*e));
        size_t n = strlen(label);
        if (n >= 2 && (label[0] == '"' || label[0] == '\'') && label[n - 1] == label[0]) {
            label[n - 1] = '\0';
            memmove(label, label + 1, n - 1);
        }
        codes_add(codes, label, v);
    }
    if (g_hash_table_size(codes) == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "--codes: no LABEL=NUMBER given");
        return FALSE;
    }
    g_hash_table_destroy(c->codes);
    c->codes = g_steal_pointer(&codes);
    c->scale = 0;
    return TRUE;
}

/* design.yaml as export writes it (docs/study.md). */
static const char *const design_types[] = {"pairwise", "identify", NULL};
static const PvxParamSpec design_file_params[] = {
    {"name", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "design name"},
    {"type", PVX_PARAM_CHOICE, "pairwise", 0, 0, 0, design_types, "design type"},
    {"scale", PVX_PARAM_INT, "0", 0, 0, 0, NULL, "answer scale (pairwise)"},
    {"field", PVX_PARAM_STRING, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL, "answer field"},
    {"join", PVX_PARAM_STRING, "Input.task_id", 0, 0, 0, NULL, "results column of task_id"},
    {"codes", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL, "LABEL=VALUE from the left side"},
    {"dont_know", PVX_PARAM_STRING, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL, "identify"},
    {"classes", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL, "class names, dataset order"},
    {"models", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL, "model labels"},
    {"method", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "explanation method"},
    {"rendering", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "heat or occlusion"},
    {"pairs", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "all or reference"},
    {"raters", PVX_PARAM_INT, "5", 0, 0, 0, NULL, "assignments per task"},
    {"tasks", PVX_PARAM_INT, "0", 0, 0, 0, NULL, "tasks"},
    {"images", PVX_PARAM_INT, "0", 0, 0, 0, NULL, "images"},
    {"seed", PVX_PARAM_INT, "0", 0, 0, 0, NULL, "seed"},
    {"base_url", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "URL prefix"},
    {"run", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "the run folder"},
    PVX_PARAM_SPEC_END,
};

const PvxParams *pvx_study_design_file_load(const char *path, PvxConfig **cfg_out, GError **error)
{
    static const PvxConfigSectionSpec root = {"", 0, 0, design_file_params, NULL, "a study design"};
    g_autoptr(PvxConfig) cfg = pvx_config_load(path, NULL, error);
    if (!cfg || !pvx_config_validate(cfg, NULL, &root, error))
        return NULL;
    *cfg_out = g_steal_pointer(&cfg);
    return pvx_config_section(*cfg_out, "");
}

gboolean pvx_study_coding_load_design(PvxStudyCoding *c, const char *design_path, char **field_out,
                                      int *raters_out, GError **error)
{
    g_autoptr(PvxConfig) cfg = NULL;
    const PvxParams *p = pvx_study_design_file_load(design_path, &cfg, error);
    if (!p)
        return FALSE;
    gsize n = 0;
    const char *const *codes = pvx_params_get_string_list(p, "codes", &n);
    if (n > 0) {
        g_autofree char *joined = g_strjoinv(",", (char **)codes);
        if (!pvx_study_coding_set_codes(c, joined, error)) {
            g_prefix_error(error, "%s: ", design_path);
            return FALSE;
        }
    }
    c->scale = (int)pvx_params_get_int(p, "scale");
    const char *dk = pvx_params_get_string(p, "dont_know");
    if (dk) {
        g_strfreev(c->dont_know);
        const char *v[] = {dk, NULL};
        c->dont_know = g_strdupv((char **)v);
    }
    const char *const *classes = pvx_params_get_string_list(p, "classes", &n);
    if (n > 0) {
        g_strfreev(c->classes);
        c->classes = g_strdupv((char **)classes);
    }
    if (field_out)
        *field_out = g_strdup(pvx_params_get_string(p, "field"));
    if (raters_out)
        *raters_out = (int)pvx_params_get_int(p, "raters");
    return TRUE;
}

const double *pvx_study_coding_lookup(const PvxStudyCoding *c, const char *value)
{
    const double *d = g_hash_table_lookup(c->codes, value);
    if (d)
        return d;
    /* Case and surrounding spaces do not matter. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, c->codes);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_ascii_strcasecmp(k, value) == 0)
            return v;
    return NULL;
}
