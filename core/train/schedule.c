/* pvx — learning-rate schedules, as torch.optim.lr_scheduler computes them. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/train.h"

static const char *const schedule_names[] = {"constant", "step", "cosine", "onecycle", NULL};

const char *pvx_lr_schedule_name(PvxLrSchedule s)
{
    return (unsigned)s < G_N_ELEMENTS(schedule_names) - 1 ? schedule_names[s] : "unknown";
}

const char *const *pvx_lr_schedule_names(void)
{
    return schedule_names;
}

gboolean pvx_lr_schedule_from_name(const char *name, PvxLrSchedule *out)
{
    for (int i = 0; schedule_names[i]; i++) {
        if (strcmp(name, schedule_names[i]) == 0) {
            *out = (PvxLrSchedule)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean pvx_lr_params_check(const PvxLrParams *p, GError **error)
{
    const char *why = NULL;
    if (!(p->lr > 0) || !isfinite(p->lr))
        why = "the learning rate must be finite and > 0";
    else if (p->epochs < 1 || p->steps_per_epoch < 1)
        why = "training needs at least one epoch of at least one batch";
    else if (p->warmup_epochs < 0 || p->warmup_epochs >= p->epochs)
        why = "warmup_epochs must be >= 0 and less than epochs";
    else if (p->schedule == PVX_LR_ONECYCLE && p->warmup_epochs > 0)
        why = "the one-cycle schedule has its own warm-up; set warmup_epochs to 0";
    else if (p->schedule == PVX_LR_STEP && (p->step_size < 1 || !(p->gamma > 0)))
        why = "the step schedule needs step_size >= 1 and gamma > 0";
    else if ((unsigned)p->schedule > PVX_LR_ONECYCLE)
        why = "unknown schedule";
    if (why) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "learning-rate schedule %s: %s",
                    pvx_lr_schedule_name(p->schedule), why);
        return FALSE;
    }
    return TRUE;
}

/* torch.optim.lr_scheduler._annealing_cos */
static double anneal_cos(double start, double end, double pct)
{
    return end + (start - end) / 2.0 * (cos(G_PI * pct) + 1.0);
}

static double onecycle(const PvxLrParams *p, int64_t t)
{
    const double total = (double)p->epochs * (double)p->steps_per_epoch;
    const double initial = p->lr / 25.0, min_lr = initial / 1e4;
    const double end1 = 0.3 * total - 1.0, end2 = total - 1.0;
    double step = (double)t;
    if (step <= end1)
        return anneal_cos(initial, p->lr, step / end1);
    return anneal_cos(p->lr, min_lr, (step - end1) / (end2 - end1));
}

double pvx_lr_at(const PvxLrParams *p, int64_t t)
{
    if (p->schedule == PVX_LR_ONECYCLE)
        return onecycle(p, t);
    const int64_t warm = (int64_t)p->warmup_epochs * p->steps_per_epoch;
    if (t < warm)
        return p->lr * (double)(t + 1) / (double)warm;
    t -= warm;
    switch (p->schedule) {
    case PVX_LR_STEP: {
        int64_t epoch = t / p->steps_per_epoch;
        return p->lr * pow(p->gamma, (double)(epoch / p->step_size));
    }
    case PVX_LR_COSINE: {
        double total = (double)(p->epochs - p->warmup_epochs) * (double)p->steps_per_epoch;
        return p->lr * 0.5 * (1.0 + cos(G_PI * (double)t / total));
    }
    default:
        return p->lr;
    }
}
