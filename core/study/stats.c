/* pvx — statistics of rating studies: Krippendorff's α, standard deviation, χ² goodness of fit,
 * Bradley–Terry. Formulas and sources: ../shared/reference/human-study-refs.md, docs/study.md. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/study.h"

double pvx_krippendorff_alpha(const double *counts, int n_units, int n_values, const double *values,
                              PvxAlphaLevel level)
{
    g_return_val_if_fail(n_values >= 0 && n_units >= 0, NAN);
    int V = n_values;
    if (V == 0)
        return NAN;
    /* Coincidences o_ck = Σ_u n_uc (n_uk − [c = k]) / (m_u − 1) over pairable units. */
    g_autofree double *o = g_new0(double, (gsize)V *V);
    for (int u = 0; u < n_units; u++) {
        const double *row = counts + (gsize)u * V;
        double m = 0;
        for (int v = 0; v < V; v++)
            m += row[v];
        if (m < 2)
            continue;
        for (int c = 0; c < V; c++) {
            if (row[c] == 0)
                continue;
            for (int k = 0; k < V; k++)
                o[c * V + k] += row[c] * (row[k] - (c == k)) / (m - 1);
        }
    }
    g_autofree double *nc = g_new0(double, V);
    double n = 0;
    for (int c = 0; c < V; c++) {
        for (int k = 0; k < V; k++)
            nc[c] += o[c * V + k];
        n += nc[c];
    }
    if (n < 2)
        return NAN;
    double num = 0, den = 0;
    for (int c = 0; c < V; c++)
        for (int k = 0; k < V; k++) {
            if (c == k)
                continue;
            double d2 = 0;
            switch (level) {
            case PVX_ALPHA_NOMINAL:
                d2 = 1;
                break;
            case PVX_ALPHA_ORDINAL: {
                int lo = MIN(c, k), hi = MAX(c, k);
                double s = 0;
                for (int g = lo; g <= hi; g++)
                    s += nc[g];
                s -= (nc[lo] + nc[hi]) / 2;
                d2 = s * s;
                break;
            }
            case PVX_ALPHA_INTERVAL:
                d2 = (values[c] - values[k]) * (values[c] - values[k]);
                break;
            case PVX_ALPHA_RATIO: {
                double sum = values[c] + values[k];
                d2 = sum == 0 ? 0 : pow((values[c] - values[k]) / sum, 2);
                break;
            }
            }
            num += o[c * V + k] * d2;
            den += nc[c] * nc[k] * d2;
        }
    if (den == 0)
        return NAN;
    return 1.0 - (n - 1) * num / den;
}

double pvx_population_std(const double *x, int n)
{
    if (n <= 1)
        return 0;
    double mean = 0, ss = 0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / n);
}

/* Series for P(a, x), good for x < a + 1. */
static double gamma_p_series(double a, double x)
{
    double ap = a, sum = 1.0 / a, del = sum;
    for (int i = 0; i < 100000; i++) {
        ap += 1;
        del *= x / ap;
        sum += del;
        if (fabs(del) < fabs(sum) * 1e-16)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Continued fraction for Q(a, x) (modified Lentz), good for x ≥ a + 1. */
static double gamma_q_cf(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double pvx_gamma_q(double a, double x)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return 1;
    if (isinf(x))
        return 0;
    return x < a + 1 ? 1 - gamma_p_series(a, x) : gamma_q_cf(a, x);
}

double pvx_chi2_sf(double x, double df)
{
    if (isnan(x) || !(df > 0))
        return NAN;
    if (x <= 0)
        return 1;
    return pvx_gamma_q(df / 2, x / 2);
}

double pvx_chi2_gof(const double *observed, const double *expected, int k, double *p_out)
{
    double total = 0;
    for (int i = 0; i < k; i++)
        total += observed[i];
    if (p_out)
        *p_out = NAN;
    if (k < 2 || total <= 0)
        return NAN;
    double chi2 = 0;
    for (int i = 0; i < k; i++) {
        double e = total * (expected ? expected[i] : 1.0 / k);
        if (e <= 0)
            return NAN;
        chi2 += (observed[i] - e) * (observed[i] - e) / e;
    }
    if (p_out)
        *p_out = pvx_chi2_sf(chi2, k - 1);
    return chi2;
}

double pvx_two_proportions_p(int c1, int n1, int c2, int n2)
{
    double n = (double)n1 + n2, c = (double)c1 + c2;
    if (n1 <= 0 || n2 <= 0 || c1 < 0 || c2 < 0 || c1 > n1 || c2 > n2 || c <= 0 || c >= n)
        return NAN;
    const double obs[4] = {c1, n1 - c1, c2, n2 - c2};
    const double exp[4] = {n1 * c / n, n1 * (n - c) / n, n2 * c / n, n2 * (n - c) / n};
    double chi2 = 0;
    for (int i = 0; i < 4; i++)
        chi2 += (obs[i] - exp[i]) * (obs[i] - exp[i]) / exp[i];
    return pvx_chi2_sf(chi2, 1);
}

/* LAPACK's LU solve, shipped in OpenBLAS; declared here because no LAPACK(E) header is installed.
 * blasint (cblas.h) is OpenBLAS's integer width, 32 or 64 bits as it was built. */
extern void dgesv_(const blasint *n, const blasint *nrhs, double *a, const blasint *lda,
                   blasint *ipiv, double *b, const blasint *ldb, blasint *info);

/* Solves A X = B for @nrhs right-hand sides by LU with partial pivoting (LAPACK dgesv). @A is n × n
 * row-major and is overwritten (by the LU factors of Aᵀ); @B holds the right-hand sides one after
 * another (column-major n × nrhs) and is overwritten by the solutions. FALSE when A is singular:
 * a pivot below 1e-12 in magnitude, the threshold the comparison graph's disconnection shows up
 * under. */
static gboolean solve(double *A, double *B, int n, int nrhs)
{
    for (int i = 0; i < n; i++) /* LAPACK is column-major: transpose in place */
        for (int k = i + 1; k < n; k++) {
            double t = A[i * n + k];
            A[i * n + k] = A[k * n + i];
            A[k * n + i] = t;
        }
    g_autofree blasint *ipiv = g_new(blasint, n);
    blasint nn = n, nr = nrhs, info = 0;
    dgesv_(&nn, &nr, A, &nn, ipiv, B, &nn, &info);
    if (info != 0)
        return FALSE;
    for (int i = 0; i < n; i++)
        if (fabs(A[i * n + i]) < 1e-12)
            return FALSE;
    return TRUE;
}

static double log_sigmoid(double z)
{
    return z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z));
}

static double sigmoid(double z)
{
    return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

/* The penalised negative log-likelihood. */
static double bt_objective(int n, const double *w, const double *th, double ridge)
{
    double f = 0;
    for (int i = 0; i < n; i++) {
        f += ridge * th[i] * th[i];
        for (int j = 0; j < n; j++)
            if (i != j && w[i * n + j] > 0)
                f -= w[i * n + j] * log_sigmoid(th[i] - th[j]);
    }
    return f;
}

/* M = observed information + 2·ridge·I + J/n (J = all ones): on sum-zero vectors it is the
 * Hessian of the objective, and it is invertible when the comparison graph is connected. */
static void bt_matrix(int n, const double *w, const double *th, double ridge, double *M)
{
    for (int i = 0; i < n * n; i++)
        M[i] = 1.0 / n;
    for (int i = 0; i < n; i++) {
        M[i * n + i] += 2 * ridge;
        for (int j = 0; j < n; j++) {
            if (i == j)
                continue;
            double nij = w[i * n + j] + w[j * n + i];
            if (nij == 0)
                continue;
            double p = sigmoid(th[i] - th[j]);
            double h = nij * p * (1 - p);
            M[i * n + i] += h;
            M[i * n + j] -= h;
        }
    }
}

gboolean pvx_bradley_terry(int n, const double *wins, double ridge, double *theta_out,
                           double *se_out, GError **error)
{
    g_return_val_if_fail(n >= 1 && wins && theta_out && ridge >= 0, FALSE);
    g_autofree double *th = g_new0(double, n);
    g_autofree double *g = g_new(double, n);
    g_autofree double *M = g_new(double, (gsize)n *n);
    g_autofree double *trial = g_new(double, n);
    gboolean converged = FALSE;
    double f = bt_objective(n, wins, th, ridge);
    for (int it = 0; it < 500 && !converged; it++) {
        /* gradient of the objective: −Σ_j (w_ij − n_ij p_ij) + 2·ridge·θ_i */
        for (int i = 0; i < n; i++) {
            g[i] = 2 * ridge * th[i];
            for (int j = 0; j < n; j++) {
                if (i == j)
                    continue;
                double nij = wins[i * n + j] + wins[j * n + i];
                g[i] -= wins[i * n + j] - nij * sigmoid(th[i] - th[j]);
            }
        }
        bt_matrix(n, wins, th, ridge, M);
        for (int i = 0; i < n; i++)
            g[i] = -g[i];
        if (!solve(M, g, n, 1)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                        "Bradley-Terry: the comparison graph is not connected (some models "
                        "were never compared); no strengths can be estimated");
            return FALSE;
        }
        /* Newton step with halving until the objective does not increase. */
        double step = 1, fn = f;
        for (int h = 0; h < 60; h++, step /= 2) {
            for (int i = 0; i < n; i++)
                trial[i] = th[i] + step * g[i];
            fn = bt_objective(n, wins, trial, ridge);
            if (fn <= f + 1e-12 * fabs(f))
                break;
        }
        double mx = 0, mean = 0;
        for (int i = 0; i < n; i++) {
            mx = fmax(mx, fabs(trial[i] - th[i]));
            mean += trial[i] / n;
        }
        for (int i = 0; i < n; i++)
            th[i] = trial[i] - mean;
        f = bt_objective(n, wins, th, ridge);
        converged = mx < 1e-11;
        for (int i = 0; i < n; i++)
            if (fabs(th[i]) > 40) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                            "Bradley-Terry: the strengths diverge (a model never loses or never "
                            "wins, so no maximum-likelihood estimate exists); use a ridge > 0");
                return FALSE;
            }
    }
    if (!converged) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                    "Bradley-Terry: Newton's method did not converge in 500 steps");
        return FALSE;
    }
    memcpy(theta_out, th, sizeof(double) * n);
    if (se_out) {
        /* Covariance on sum-zero θ: M⁻¹ − J/(n·(2·ridge + 1)); M⁻¹ solved for all columns at once.
         */
        g_autofree double *inv = g_new0(double, (gsize)n *n);
        for (int k = 0; k < n; k++)
            inv[(gsize)k * n + k] = 1;
        bt_matrix(n, wins, th, ridge, M);
        gboolean ok = solve(M, inv, n, n);
        for (int k = 0; k < n; k++) {
            double v = inv[(gsize)k * n + k] - 1.0 / (n * (2 * ridge + 1));
            se_out[k] = !ok ? NAN : v > 0 ? sqrt(v) : 0;
        }
    }
    return TRUE;
}
