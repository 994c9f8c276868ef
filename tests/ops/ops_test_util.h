/* Helpers shared by the op tests (ops_test_util.c). Tensors returned are (transfer full). */
#pragma once

#include "pvx-private/core.h"

/* The xorshift state rnd_uniform draws from; each test sets it for reproducible data. */
extern guint64 rng_state;

/* Uniform in [0, 1), from rng_state. */
double rnd_uniform(void);
/* A tensor of @shape with values uniform in [lo, hi). */
PvxTensor *rand_tensor(int ndim, const int64_t *shape, double lo, double hi);
/* Random values at least @gap apart and away from zero by gap/2: a shuffled ladder. */
PvxTensor *ladder_tensor(int ndim, const int64_t *shape, double gap);
/* A ReLU's output: random values with about a third exactly zero. */
PvxTensor *relu_output(int ndim, const int64_t *shape);

/* An op's forward on the inputs held by @ctx (transfer full). */
typedef PvxTensor *(*ForwardFn)(void *ctx);
/* Compares @analytic, dL/d@param for L = Σ dy ⊙ f(ctx), with central differences over every
 * element of @param (perturbed in place and restored); g_error naming @what when they differ by
 * more than the tolerance (see ops_test_util.c). */
void check_grad(const char *what, ForwardFn f, void *ctx, PvxTensor *param,
                const PvxTensor *analytic, const PvxTensor *dy);
/* a == b element for element, bit for bit (NaN-free); else g_error naming @what. */
void expect_identical(const char *what, const PvxTensor *a, const PvxTensor *b);
