/* pvx dataset plugin "kandinsky": scenes and their rasterisation (see kandinsky_scene.h). */
#include "kandinsky_scene.h"

#include <math.h>
#include <string.h>

#include <pvx/random.h>

static const char *const shape_names[KD_N_SHAPES] = {
    "circle", "square", "triangle", "star", "cross", "diamond",
};

static const char *const colour_names[KD_N_COLOURS] = {
    "red", "green", "blue", "yellow", "purple", "cyan",
};

/* Saturated and far apart from each other and from the grey background, so that pixel noise of
 * std 0.1 (~25 levels) never makes one colour pass for another. */
static const uint8_t colour_rgb[KD_N_COLOURS][3] = {
    {220, 40, 40}, {40, 170, 60}, {40, 90, 230}, {240, 210, 40}, {150, 60, 190}, {40, 200, 210},
};

/* Five-pointed star, point up: outer radius 1, inner 0.45 (a little fatter than the regular
 * star's 0.382, so small stars keep their arms at 64×64). */
static const double star_xy[10][2] = {
    {0.000000000, -1.000000000},  {0.264503364, -0.364057647}, {0.951056516, -0.309016994},
    {0.427975432, 0.139057647},   {0.587785252, 0.809016994},  {0.000000000, 0.450000000},
    {-0.587785252, 0.809016994},  {-0.427975432, 0.139057647}, {-0.951056516, -0.309016994},
    {-0.264503364, -0.364057647},
};

const char *kd_shape_name(int shape)
{
    g_return_val_if_fail(shape >= 0 && shape < KD_N_SHAPES, NULL);
    return shape_names[shape];
}

const char *kd_colour_name(int colour)
{
    g_return_val_if_fail(colour >= 0 && colour < KD_N_COLOURS, NULL);
    return colour_names[colour];
}

const uint8_t *kd_colour_rgb(int colour)
{
    g_return_val_if_fail(colour >= 0 && colour < KD_N_COLOURS, NULL);
    return colour_rgb[colour];
}

void kd_class_combo(int cls, int *shape, int *colour)
{
    int s = cls % KD_N_SHAPES;
    *shape = s;
    *colour = (s + cls / KD_N_SHAPES) % KD_N_COLOURS;
}

int kd_combo_class(int n_classes, int shape, int colour)
{
    int diagonal = ((colour - shape) % KD_N_COLOURS + KD_N_COLOURS) % KD_N_COLOURS;
    int cls = diagonal * KD_N_SHAPES + shape;
    return cls < n_classes ? cls : -1;
}

char *kd_class_name(int cls)
{
    int shape, colour;
    kd_class_combo(cls, &shape, &colour);
    return g_strdup_printf("%s %s", colour_names[colour], shape_names[shape]);
}

static gboolean polygon_contains(const double (*xy)[2], int n, double x, double y)
{
    gboolean inside = FALSE;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        double xi = xy[i][0], yi = xy[i][1], xj = xy[j][0], yj = xy[j][1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            inside = !inside;
    }
    return inside;
}

gboolean kd_shape_contains(int shape, double x, double y)
{
    double ax = fabs(x), ay = fabs(y);
    switch (shape) {
    case KD_SHAPE_CIRCLE:
        return x * x + y * y <= 1.0;
    case KD_SHAPE_SQUARE:
        return ax <= 0.9 && ay <= 0.9;
    case KD_SHAPE_TRIANGLE: /* apex (0, -0.95), base from (-1, 0.9) to (1, 0.9) */
        return y >= -0.95 && y <= 0.9 && ax <= (y + 0.95) / 1.85;
    case KD_SHAPE_STAR:
        return polygon_contains(star_xy, 10, x, y);
    case KD_SHAPE_CROSS:
        return (ax <= 0.3 && ay <= 1.0) || (ay <= 0.3 && ax <= 1.0);
    case KD_SHAPE_DIAMOND:
        return ax + ay <= 1.0;
    default:
        return FALSE;
    }
}

/* Counter-based randomness: splitmix64's finaliser hashes (seed, split, index, stream) into a
 * start state, so an item depends on nothing but its coordinates — not on access order or on
 * which thread asks. */
typedef struct {
    guint64 state; /* a splitmix64 generator */
} KdRng;

static KdRng rng_for(uint64_t seed, int split, int64_t index, int stream)
{
    guint64 h = pvx_mix64(seed ^ UINT64_C(0x6b616e64696e736b)); /* "kandinsk" */
    h = pvx_mix64(h ^ ((uint64_t)(split + 1) * UINT64_C(0x9e3779b97f4a7c15)));
    h = pvx_mix64(h ^ (uint64_t)index);
    h = pvx_mix64(h ^ ((uint64_t)(stream + 1) * UINT64_C(0xd1b54a32d192ed03)));
    return (KdRng){h};
}

static uint64_t rng_next(KdRng *r)
{
    return pvx_splitmix64(&r->state);
}

/* Uniform in [0, 1). */
static double rng_uniform(KdRng *r)
{
    return pvx_u64_to_unit(rng_next(r));
}

static double rng_range(KdRng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

static int rng_int(KdRng *r, int n)
{
    return (int)(rng_uniform(r) * n);
}

/* Bounding boxes at least one pixel apart, so no pixel is touched by both objects even with
 * antialiasing. */
static gboolean apart(const KdObject *a, const KdObject *b)
{
    double gap = a->r + b->r + 1.0;
    return fabs(a->cx - b->cx) >= gap || fabs(a->cy - b->cy) >= gap;
}

static void place(const KdConfig *cfg, KdRng *rng, KdObject *o)
{
    o->r = 0.5 * cfg->size * rng_range(rng, cfg->min_size, cfg->max_size);
    o->cx = rng_range(rng, o->r, cfg->size - o->r);
    o->cy = rng_range(rng, o->r, cfg->size - o->r);
}

void kd_scene_generate(const KdConfig *cfg, int split, int64_t index, KdScene *scene)
{
    memset(scene, 0, sizeof *scene);
    KdRng rng = rng_for(cfg->seed, split, index, 0);

    /* Round-robin labels give every split an exact class balance; the position in the split is
     * not visible to a model, and samplers shuffle anyway. */
    scene->label = (int)(index % cfg->n_classes);
    KdObject *decider = &scene->objects[0];
    kd_class_combo(scene->label, &decider->shape, &decider->colour);
    place(cfg, &rng, decider);
    scene->n_objects = 1;

    int free_combos[KD_N_SHAPES * KD_N_COLOURS];
    int n_free = 0;
    for (int s = 0; s < KD_N_SHAPES; s++)
        for (int c = 0; c < KD_N_COLOURS; c++)
            if (kd_combo_class(cfg->n_classes, s, c) < 0)
                free_combos[n_free++] = s * KD_N_COLOURS + c;

    /* Reject-sample: first try to keep every object clear of all others, then settle for being
     * clear of the deciding object only; a distractor that still finds no room is left out. */
    enum { TRIES_ALL_APART = 64, TRIES_DECIDER_APART = 64 };
    int n_objects = MIN(cfg->n_objects, KD_MAX_OBJECTS);
    for (int k = 1; k < n_objects; k++) {
        KdObject o;
        int combo = free_combos[rng_int(&rng, n_free)];
        o.shape = combo / KD_N_COLOURS;
        o.colour = combo % KD_N_COLOURS;
        gboolean placed = FALSE;
        for (int t = 0; t < TRIES_ALL_APART + TRIES_DECIDER_APART && !placed; t++) {
            place(cfg, &rng, &o);
            placed = apart(&o, decider);
            for (int j = 1; placed && t < TRIES_ALL_APART && j < scene->n_objects; j++)
                placed = apart(&o, &scene->objects[j]);
        }
        if (placed)
            scene->objects[scene->n_objects++] = o;
    }
}

/* Standard normal deviates, two at a time (Box–Muller). */
static void gauss_pair(KdRng *rng, double *a, double *b)
{
    double u1 = 1.0 - rng_uniform(rng); /* (0, 1]: log stays finite */
    double u2 = rng_uniform(rng);
    double m = sqrt(-2.0 * log(u1));
    *a = m * cos(2.0 * G_PI * u2);
    *b = m * sin(2.0 * G_PI * u2);
}

static void draw_object(const KdConfig *cfg, const KdObject *o, double *img, float *mask)
{
    int n = cfg->size;
    int ss = cfg->antialias ? 4 : 1; /* ss×ss samples per pixel */
    const uint8_t *rgb = colour_rgb[o->colour];
    int x0 = MAX(0, (int)floor(o->cx - o->r)), x1 = MIN(n - 1, (int)ceil(o->cx + o->r));
    int y0 = MAX(0, (int)floor(o->cy - o->r)), y1 = MIN(n - 1, (int)ceil(o->cy + o->r));
    for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
            int hits = 0;
            for (int j = 0; j < ss; j++) {
                double v = (y + (j + 0.5) / ss - o->cy) / o->r;
                for (int i = 0; i < ss; i++) {
                    double u = (x + (i + 0.5) / ss - o->cx) / o->r;
                    hits += kd_shape_contains(o->shape, u, v);
                }
            }
            if (!hits)
                continue;
            double cover = (double)hits / (ss * ss);
            double *px = img + ((size_t)y * n + x) * 3;
            for (int c = 0; c < 3; c++)
                px[c] = (1.0 - cover) * px[c] + cover * (rgb[c] / 255.0);
            if (mask)
                mask[(size_t)y * n + x] = cover >= 0.5 ? 1.0f : 0.0f;
        }
    }
}

void kd_scene_render(const KdConfig *cfg, const KdScene *scene, int split, int64_t index,
                     uint8_t *rgb, float *mask)
{
    size_t n = (size_t)cfg->size * cfg->size * 3;
    double *img = g_new(double, n);
    for (size_t i = 0; i < n; i++)
        img[i] = KD_BACKGROUND;
    memset(mask, 0, sizeof(float) * cfg->size * cfg->size);

    for (int k = 1; k < scene->n_objects; k++)
        draw_object(cfg, &scene->objects[k], img, NULL);
    draw_object(cfg, &scene->objects[0], img, mask);

    /* A separate stream, so the noise level does not change the geometry of a scene. */
    KdRng rng = rng_for(cfg->seed, split, index, 1);
    for (size_t i = 0; i < n; i += 2) {
        double a = 0.0, b = 0.0;
        if (cfg->noise > 0.0)
            gauss_pair(&rng, &a, &b);
        for (size_t k = 0; k < 2 && i + k < n; k++) {
            double v = img[i + k] + cfg->noise * (k ? b : a);
            v = CLAMP(v, 0.0, 1.0);
            rgb[i + k] = (uint8_t)lround(v * 255.0);
        }
    }
    g_free(img);
}
