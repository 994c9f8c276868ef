/* pvx — helpers shared inside core/study (not installed). */
#pragma once

#include <glib.h>

#include "pvx-private/config.h"
#include "pvx-private/study.h"

/* "a, b, c": the columns of @csv. Returns: (transfer full). */
char *pvx_study_columns_list(const PvxCsv *csv);

void pvx_study_issues_init(PvxStudyIssues *is);
void pvx_study_issues_clear(PvxStudyIssues *is);
void pvx_study_issues_copy(PvxStudyIssues *dst, const PvxStudyIssues *src);
/* Adds a note when @count (the kind's count after this one) is at most 10. */
void pvx_study_issue_note(PvxStudyIssues *is, int count, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

/* The code of @value (exact, else ignoring ASCII case), NULL when it has none. */
const double *pvx_study_coding_lookup(const PvxStudyCoding *c, const char *value);

/* design.yaml validated against its schema; *cfg_out owns the returned params.
 * Returns: (transfer none). */
const PvxParams *pvx_study_design_file_load(const char *path, PvxConfig **cfg_out, GError **error);

/* "cr2" < "cr16": numbers inside labels compare by value. */
int pvx_study_label_cmp(const char *a, const char *b);

/* ---- a small JSON writer: keys in insertion order, NaN/Inf as null, numbers %.17g ---------- */
typedef struct {
    GString *s;
    int depth;
    gboolean first[32];
} PvxJson;

void pvx_json_init(PvxJson *j);
/* Returns: (transfer full) the text (the writer is spent). */
char *pvx_json_finish(PvxJson *j);
/* @key NULL inside arrays and at the top. */
void pvx_json_begin_object(PvxJson *j, const char *key);
void pvx_json_end_object(PvxJson *j);
void pvx_json_begin_array(PvxJson *j, const char *key);
void pvx_json_end_array(PvxJson *j);
void pvx_json_string(PvxJson *j, const char *key, const char *value);
void pvx_json_number(PvxJson *j, const char *key, double value);
void pvx_json_int(PvxJson *j, const char *key, int64_t value);

/* PNG figures of an analysis into @dir (core/study/figures.c). */
gboolean pvx_study_figures_write(const PvxStudyAnalysis *an, const char *dir, GError **error);

/* qsort-style comparison of int64_t. */
int pvx_study_cmp_i64(gconstpointer a, gconstpointer b);
