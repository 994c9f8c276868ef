/* pvx — human-grounded studies: export of rating tasks, statistics of the raters' answers,
 * simulated raters (core/study/). docs/study.md describes the designs, the files and every
 * formula; the statistics are pvx's own C code, checked against published values in tests/study.
 *
 * The pieces, bottom up:
 *   CSV        RFC 4180 reading and writing (quoted fields, CRLF, BOM), errors with file:line
 *   statistics Krippendorff's α (coincidence matrix, missing data), population standard
 *              deviation, χ² goodness of fit (regularised incomplete gamma), Bradley–Terry
 *   key        key.csv: which task showed which image and model(s)
 *   answers    Mechanical Turk batch results (or a long CSV) → (worker, task, value) rows
 *   analysis   coded answers → α, pair and model tables, explainability index, identify
 *              accuracy, confusion matrices; written as summary.json, CSV tables and PNGs
 *   export     a run's maps → images, tasks.csv, layout.html, key.csv, design.yaml
 *   simulate   raters with a chosen preference and noise → results in MTurk's format; power
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "dataset_handle.h"
#include "experiment.h"
#include "registry.h"

G_BEGIN_DECLS

/* ---- CSV ------------------------------------------------------------------------------------
 * Reading accepts RFC 4180: fields separated by ',', optionally quoted with '"' ("" inside a
 * quoted field is one quote; quoted fields may hold ',', CR and LF), records ending in CRLF or LF,
 * a UTF-8 byte-order mark at the start. The first record is the header. Empty lines are skipped.
 * A record with a different number of fields than the header, a quote inside an unquoted field,
 * text after a closing quote or an unterminated quote is PVX_ERROR_FORMAT naming file, line and
 * column. */
typedef struct {
    char *name;    /* the file, for messages */
    char **header; /* NULL-terminated */
    int n_cols;
    GPtrArray *rows; /* char ** (n_cols entries, NULL-terminated) per record */
    GArray *lines;   /* int: the 1-based line each record starts on */
} PvxCsv;

/* Parses @text (@len bytes, -1: NUL-terminated); @name names it in messages.
 * Returns: (transfer full). */
PvxCsv *pvx_csv_parse(const char *text, gssize len, const char *name, GError **error);
/* Returns: (transfer full). */
PvxCsv *pvx_csv_read(const char *path, GError **error);
void pvx_csv_free(PvxCsv *csv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxCsv, pvx_csv_free)
/* Index of the column named exactly @name, -1 when absent. */
int pvx_csv_column(const PvxCsv *csv, const char *name);
/* Field @col of record @row (transfer none). */
const char *pvx_csv_get(const PvxCsv *csv, guint row, int col);
/* Appends one record to @out: fields quoted when they hold ',', '"', CR, LF or outer spaces,
 * ended by CRLF (RFC 4180). */
void pvx_csv_append_row(GString *out, const char *const *fields, int n_fields);
/* Writes @header and @rows (char ** of the header's length each) to @path through a temporary
 * file and a rename. */
gboolean pvx_csv_write(const char *path, const char *const *header, const GPtrArray *rows,
                       GError **error);

/* ---- statistics -----------------------------------------------------------------------------*/
/* Append-only. */
typedef enum {
    PVX_ALPHA_NOMINAL = 0,
    PVX_ALPHA_ORDINAL,
    PVX_ALPHA_INTERVAL,
    PVX_ALPHA_RATIO,
} PvxAlphaLevel;

/* Krippendorff's α from value counts: @counts is n_units × n_values, row-major, counts[u·V + v]
 * = how many coders gave value v to unit u (missing data are simply not counted). @values are
 * the V values in ascending order (used by interval and ratio; ordinal uses only their order,
 * nominal neither). Units with fewer than two values are not pairable and drop out. Returns α,
 * or NaN when it is undefined (fewer than two pairable values, or no expected disagreement,
 * e.g. every value the same). */
double pvx_krippendorff_alpha(const double *counts, int n_units, int n_values, const double *values,
                              PvxAlphaLevel level);
/* Population standard deviation (divisor n) of @x; 0 for n ≤ 1. */
double pvx_population_std(const double *x, int n);
/* Regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), a > 0, x ≥ 0 (series
 * below a + 1, continued fraction above, as Numerical Recipes). */
double pvx_gamma_q(double a, double x);
/* P(X ≥ x) for X ~ χ²(df). */
double pvx_chi2_sf(double x, double df);
/* Pearson's χ² goodness-of-fit statistic of @observed against the shares @expected (summing to
 * 1; NULL: equal shares) over @k categories; *p_out gets the p-value with k − 1 degrees of
 * freedom. NaN (and p NaN) when there are no observations. */
double pvx_chi2_gof(const double *observed, const double *expected, int k, double *p_out);
/* p of Pearson's χ² test (1 degree of freedom, no continuity correction) that @c1 of @n1 and
 * @c2 of @n2 are draws of one proportion; NaN when a margin of the 2×2 table is empty. */
double pvx_two_proportions_p(int c1, int n1, int c2, int n2);
/* Bradley–Terry strengths θ (P(i beats j) = σ(θ_i − θ_j)), centred to mean 0, by Newton's method
 * on the log-likelihood with the penalty @ridge·Σθ² (ridge 0: maximum likelihood, which exists
 * only when the comparison graph is strongly connected). @wins is n × n, wins[i·n + j] = times
 * i beat j (fractions allowed: a tie is half a win each way). @se_out (may be NULL) gets
 * standard errors from the inverse Fisher information (observed information + 2·ridge, restricted
 * to sum-zero θ). FALSE + PVX_ERROR_NUMERIC when the iteration does not converge. */
gboolean pvx_bradley_terry(int n, const double *wins, double ridge, double *theta_out,
                           double *se_out, GError **error);

/* ---- key and answers ------------------------------------------------------------------------*/
/* Append-only. */
typedef enum {
    PVX_STUDY_PAIRWISE = 0,
    PVX_STUDY_IDENTIFY,
} PvxStudyType;

const char *pvx_study_type_name(PvxStudyType type); /* "pairwise", "identify" */

typedef struct {
    char *task_id, *image_id, *class_name;
    char *left, *right; /* pairwise: model labels ("cr1") */
    char *model;        /* identify */
} PvxStudyKeyRow;

typedef struct {
    PvxStudyType type;
    char *path;
    GPtrArray *rows;     /* PvxStudyKeyRow * */
    GHashTable *by_task; /* task_id → PvxStudyKeyRow * (transfer none) */
} PvxStudyKey;

/* Reads key.csv: task_id,image_id,class,left,right (pairwise) or task_id,image_id,class,model
 * (identify), columns by name. Missing columns are named; a task listed twice is an error.
 * Returns: (transfer full). */
PvxStudyKey *pvx_study_key_load(const char *path, GError **error);
void pvx_study_key_free(PvxStudyKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxStudyKey, pvx_study_key_free)

/* One answer as read, before coding. */
typedef struct {
    char *worker, *task, *value;
    int line; /* 1-based line in the results file (0: made in memory) */
} PvxStudyAnswer;

/* Problems found in the answers. Each kind is counted; notes holds readable lines (at most 10
 * per kind) such as "results.csv:12: task 't9' is not in the key". */
typedef struct {
    int rows;         /* answer records read */
    int used;         /* answers that entered the statistics */
    int rejected;     /* AssignmentStatus Rejected (left out) */
    int empty;        /* no value (empty column, or no one-hot column true) */
    int ambiguous;    /* several one-hot columns true */
    int unknown_task; /* task not in the key */
    int duplicate;    /* a worker answering the same task again (the first answer is kept) */
    int uncoded;      /* a value with no code */
    GPtrArray *notes; /* char * */
    GHashTable *uncoded_values; /* value → GINT_TO_POINTER(count) */
} PvxStudyIssues;

typedef struct {
    char *path;
    GPtrArray *answers; /* PvxStudyAnswer * */
    PvxStudyIssues issues;
    gboolean long_format; /* worker_id,task_id,answer */
} PvxStudyAnswers;

/* Reads a results file. Mechanical Turk's batch results (`WorkerId`, @join (default
 * "Input.task_id"), `Answer.<field>` or one-hot `Answer.<field>.<value>` columns holding
 * true/false in any case; `AssignmentStatus` Rejected rows are counted and left out) or a long
 * CSV with the columns worker_id,task_id,answer. Columns are found by name in any order; a
 * missing one is PVX_ERROR_NOT_FOUND naming it and listing the columns the file has.
 * Returns: (transfer full). */
PvxStudyAnswers *pvx_study_answers_load(const char *path, const char *field, const char *join,
                                        GError **error);
/* An empty answer set (for answers made in memory); add with pvx_study_answers_add.
 * Returns: (transfer full). */
PvxStudyAnswers *pvx_study_answers_new(void);
void pvx_study_answers_add(PvxStudyAnswers *a, const char *worker, const char *task,
                           const char *value, int line);
void pvx_study_answers_free(PvxStudyAnswers *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxStudyAnswers, pvx_study_answers_free)

/* How answer values become numbers (pairwise) or classes (identify). */
typedef struct {
    GHashTable *codes; /* pairwise: value → double * (coded from the LEFT model's side) */
    char **dont_know;  /* identify: values meaning "I don't know" (NULL-terminated) */
    char **classes;    /* identify: answerable class names, NULL: those in the key */
    double ridge;      /* Bradley–Terry penalty (default 1e-3) */
    int scale;         /* 3, 5 or 7 when known (design.yaml): the full scale is the value
                        * domain; 0: the values that occur (and their negatives) */
} PvxStudyCoding;

/* Defaults: every label export writes (scale 3: alg1 +1, none 0, alg2 −1; scale 5: cmr +2,
 * smr +1, equal 0, slr −1, clr −2; scale 7: l3..l1 +3..+1, equal 0, r1..r3 −1..−3) and "I do
 * not know" / "dont_know" for identify. */
void pvx_study_coding_init_defaults(PvxStudyCoding *c);
/* Replaces the codes with "label=value,label=value" (or YAML flow "{label: value, ...}").
 * FALSE + PVX_ERROR_INVALID_ARGUMENT naming the bad entry. */
gboolean pvx_study_coding_set_codes(PvxStudyCoding *c, const char *spec, GError **error);
/* Reads what export wrote into design.yaml (codes, scale, dont_know, classes). *field_out (may
 * be NULL) receives the answer field (transfer full), *raters_out (may be NULL) the raters per
 * task. */
gboolean pvx_study_coding_load_design(PvxStudyCoding *c, const char *design_path, char **field_out,
                                      int *raters_out, GError **error);
void pvx_study_coding_clear(PvxStudyCoding *c);

/* The labels of a scale from the left model's side, best first (scale 3, 5 or 7): @codes_out
 * (may be NULL) gets their values. Returns: (transfer none) NULL-terminated, NULL for others. */
const char *const *pvx_study_scale_labels(int scale, const int **codes_out);

/* ---- analysis --------------------------------------------------------------------------------*/
typedef struct {
    char *a, *b; /* model labels, a before b in model order */
    int answers, tasks;
    double mean;                     /* mean coded answer from a's side */
    int n_a, n_b, n_equal;           /* answers preferring a, b, neither */
    double a_preferred, b_preferred; /* shares of the non-equal answers (NaN when none) */
    double equal;                    /* share of all answers */
    double alpha[3];                 /* nominal, ordinal, interval over this pair's tasks */
    double chi2, p;                  /* n_a vs n_b against 50:50, 1 degree of freedom */
    int *distribution;               /* answers per code value (n_values of the analysis) */
    int *class_answers;              /* per class */
    double *class_mean;              /* per class, from a's side (NaN: none) */
} PvxStudyPair;

typedef struct {
    char *model;
    int answers, tasks;
    /* pairwise */
    double index;    /* explainability index: mean coded answer from this model's side */
    double alpha[3]; /* over the tasks that contain the model, from its side */
    double bt, bt_se, bt_lo, bt_hi; /* Bradley–Terry θ and its 95 % interval θ ± 1.96·se */
    int *class_answers;
    double *class_index;
    /* identify */
    int correct, wrong, dont_know;
    double accuracy, error_rate, indecisive, alpha_nominal;
    int *class_n, *class_correct, *class_wrong, *class_dont_know; /* per true class */
    double *confusion; /* n_classes × (n_classes + 1): true class × answered (last: don't know) */
} PvxStudyModel;

typedef struct {
    PvxStudyType type;
    double alpha[3]; /* nominal, ordinal, interval (identify: nominal only, others NaN) */
    int answers, tasks, raters;
    double mean_task_std; /* pairwise: mean over tasks with ≥ 2 answers */
    char **task_ids;      /* per key row, NULL-terminated */
    double *task_std;     /* per key row (NaN: fewer than 2 answers) */
    int n_values;
    double *values; /* pairwise code domain, ascending */
    char **classes; /* NULL-terminated */
    int n_classes;
    GPtrArray *pairs;    /* PvxStudyPair * */
    GPtrArray *models;   /* PvxStudyModel * */
    double *class_alpha; /* identify: nominal α per class */
    int *class_answers;
    PvxStudyIssues issues; /* copied from the answers, plus the analysis' own findings */
    double ridge;
} PvxStudyAnalysis;

/* Codes @answers against @key and computes every statistic. Unknown tasks, repeated answers and
 * values without a code are counted in ->issues and left out, never dropped silently. FALSE +
 * error when nothing can be analysed (no usable answer). Returns: (transfer full). */
PvxStudyAnalysis *pvx_study_analyse(const PvxStudyKey *key, const PvxStudyAnswers *answers,
                                    const PvxStudyCoding *coding, GError **error);
void pvx_study_analysis_free(PvxStudyAnalysis *an);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxStudyAnalysis, pvx_study_analysis_free)
/* summary.json, pairs.csv / models.csv / per_class.csv / task_std.csv (pairwise) or
 * models.csv / per_class.csv / confusion_<model>.csv (identify), issues.txt, and PNG figures
 * when pvx was built with the plot module. Creates @dir. */
gboolean pvx_study_analysis_write(const PvxStudyAnalysis *an, const char *dir, GError **error);
/* summary.json as text. Returns: (transfer full). */
char *pvx_study_analysis_json(const PvxStudyAnalysis *an);
/* Writes @answers (as read) and @an into a run's store under /study/@name/answers
 * (worker_id, task_id, answer; attrs with the issue counts) and /study/@name/analysis (attr
 * `summary`: summary.json; α and counts as attrs; per model and per pair datasets), replacing
 * an earlier analysis. The study must be there (/study/@name, written by the study stage):
 * else PVX_ERROR_NOT_FOUND; and @key must be the key stored with it (same type, same task ids
 * in the same order): else PVX_ERROR_INVALID_ARGUMENT naming the first difference. @dir
 * (nullable): where the analysis files went. Call inside a transaction. */
gboolean pvx_study_store_analysis(PvxStore *store, const char *name, const PvxStudyKey *key,
                                  const PvxStudyAnswers *answers, const PvxStudyAnalysis *an,
                                  const char *dir, GError **error);

/* ---- export ----------------------------------------------------------------------------------*/
typedef struct {
    char *name;
    PvxStudyType type;
    char *method; /* explanation method; NULL: the first one of the run */
    int *models;  /* CRs */
    int n_models;
    gboolean pairs_reference; /* FALSE: every pair; TRUE: each model against @reference */
    int reference;
    int scale;          /* 3, 5 or 7 */
    gboolean occlusion; /* rendering: FALSE heat map, TRUE occlusion map */
    int per_class;      /* images per class, 0: every eligible one */
    int raters;         /* assignments per task (MaxAssignments; simulate's default) */
    char *dont_know;    /* identify: the label of "I don't know" */
    char *base_url;     /* prefix of image URLs in tasks.csv ("" → relative "images/…") */
    int display_size;   /* shown pictures are enlarged (integer factor) to at least this */
    guint64 seed;
} PvxStudyDesign;

void pvx_study_design_clear(PvxStudyDesign *d);
/* The designs of a validated config's `study` section (study.designs[i]), with the section's
 * base_url, display_size and seed (null: the config's seed). Returns: (transfer full) array
 * of PvxStudyDesign (clear with pvx_study_design_clear). */
GArray *pvx_study_designs_from_config(const PvxConfig *cfg, GError **error);
/* The same from a study YAML file holding a `study:` section as in an experiment file.
 * Returns: (transfer full). */
GArray *pvx_study_designs_load(const char *path, guint64 default_seed, GError **error);

/* What export made (for the stage and for tests). */
typedef struct {
    char *dir;              /* the design's folder: key.csv, design.yaml, upload/ */
    GPtrArray *task_header; /* char *: tasks.csv columns */
    GPtrArray *tasks;       /* char ** rows of tasks.csv */
    GPtrArray *key;         /* char ** rows of key.csv */
    int images;             /* images selected */
    int pictures;           /* PNG files written */
} PvxStudyExport;

void pvx_study_export_free(PvxStudyExport *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxStudyExport, pvx_study_export_free)

/* Exports design @d of the run in @store (maps of the explain stage) with pictures from @ds
 * (opened from the run's config) into @out_dir/<name>/:
 *   upload/images/<opaque>.png  upload/tasks.csv  upload/layout.html   (what raters see)
 *   key.csv  design.yaml                                              (kept apart)
 * @cfg is the run's config (explain section: split and rendering options).
 * Returns: (transfer full). */
PvxStudyExport *pvx_study_export(PvxStore *store, const PvxConfig *cfg, const PvxDataset *ds,
                                 const PvxStudyDesign *d, const char *out_dir, GError **error);

/* The study stage of `pvx run`: every design of the config's `study` section exported into
 * <run dir>/study/<name>/ and its tasks and key stored under /study/<name>/ (tasks/<column>,
 * key/<column>: string datasets; attributes type, scale, method, rendering, models, dir).
 * Skips itself when finished already or when the config has no designs. */
gboolean pvx_stage_study(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds, GError **error);

/* ---- simulated raters ------------------------------------------------------------------------*/
typedef struct {
    int raters;          /* answers per task */
    int workers;         /* size of the worker pool (0: 4 × raters) */
    double noise;        /* σ of a rater's Gaussian noise, in scale units */
    int scale;           /* pairwise labels (3, 5, 7) */
    GHashTable *quality; /* model label → double: pairwise latent quality (default 0);
                          * identify: probability of a correct answer (default 0.85) */
    double dont_know;    /* identify: probability of "I don't know" */
    const char *dont_know_label;
    const char *const *classes; /* identify: class names a wrong answer is drawn from (NULL:
                                 * the key's) */
    guint64 seed;
} PvxStudySimOptions;

void pvx_study_sim_options_init(PvxStudySimOptions *o);
/* Pairwise: a rater sees d = q_left − q_right + noise·N(0, 1) and answers the label of
 * clamp(round(d), −K, K), K = (scale − 1)/2. Identify: with u uniform in [0, 1), correct when
 * u < q_model, "don't know" when u < q_model + dont_know, else a uniformly drawn wrong class. Every
 * task gets @raters distinct workers from the pool. Returns: (transfer full). */
PvxStudyAnswers *pvx_study_simulate(const PvxStudyKey *key, const PvxStudySimOptions *o,
                                    GError **error);
/* Writes @answers as Mechanical Turk batch results (HITId, …, WorkerId, AssignmentStatus, …,
 * Input.<tasks.csv columns>, Answer.task_id, Answer.<field> — or one-hot Answer.<field>.<value>
 * columns with @one_hot — Approve, Reject) or, with @long_format, as worker_id,task_id,answer.
 * @tasks (may be NULL) supplies the Input.* columns; @labels lists the one-hot values. */
gboolean pvx_study_answers_write(const PvxStudyAnswers *answers, const PvxCsv *tasks,
                                 const char *field, const char *const *labels, gboolean one_hot,
                                 gboolean long_format, const char *path, GError **error);

/* Power by simulation: for each of the @n_raters rater counts, @reps studies of @key are
 * simulated with @o (its raters replaced, its seed varied per study) and analysed with @coding.
 * *power_out (n_raters × n_pairs, row-major) receives the share of studies in which a pair's
 * test gives p < @level — pairwise designs: the χ² goodness-of-fit test of the pair's preference
 * counts; identify designs: every pair of models, the χ² test of the 2×2 table of correct and
 * not correct answers (pvx_two_proportions_p) — and *pairs_out the pairs as "a vs b"
 * (NULL-terminated). Both (transfer full). */
gboolean pvx_study_power(const PvxStudyKey *key, const PvxStudySimOptions *o,
                         const PvxStudyCoding *coding, const int *raters, int n_raters, int reps,
                         double level, double **power_out, char ***pairs_out, GError **error);

G_END_DECLS
