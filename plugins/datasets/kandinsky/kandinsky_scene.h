/* pvx dataset plugin "kandinsky": scene generation and rasterisation, free of plugin glue so the
 * tests can compile it and check scenes against the plugin's pictures and masks.
 *
 * A class is one (shape, colour) combination. Class c uses shape c % KD_N_SHAPES and colour
 * (c % KD_N_SHAPES + c / KD_N_SHAPES) % KD_N_COLOURS: the first six classes walk the diagonal of
 * the shape × colour table (red circle, green square, blue triangle, yellow star, purple cross,
 * cyan diamond), the next six the diagonal beside it, and so on, so the first few classes share
 * neither shape nor colour, while distractors (every combination that is not a class) reuse both
 * — a red square next to a green circle — so neither colour nor shape alone gives the class away.
 *
 * A scene holds exactly one deciding object (objects[0], a class combination) and distractors
 * (never a class combination) whose bounding boxes keep at least one pixel clear of the deciding
 * object's, so the deciding object is always wholly visible and no pixel is shared.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
    KD_SHAPE_CIRCLE = 0,
    KD_SHAPE_SQUARE,
    KD_SHAPE_TRIANGLE,
    KD_SHAPE_STAR,
    KD_SHAPE_CROSS,
    KD_SHAPE_DIAMOND,
} KdShape;
#define KD_N_SHAPES 6
#define KD_N_COLOURS 6
/* At least KD_N_COLOURS combinations stay free for distractors. */
#define KD_MAX_CLASSES (KD_N_SHAPES * KD_N_COLOURS - KD_N_COLOURS)
#define KD_MAX_OBJECTS 32
/* The grey of the background before noise, in [0, 1]. */
#define KD_BACKGROUND 0.5

typedef struct {
    uint64_t seed;
    int size;        /* image side in pixels */
    int n_classes;   /* 2 .. KD_MAX_CLASSES */
    int n_objects;   /* objects per image, the deciding one included: 1 .. KD_MAX_OBJECTS */
    double noise;    /* std of the Gaussian pixel noise, in [0, 1] intensity units */
    double min_size; /* object diameter as a fraction of the image side */
    double max_size;
    gboolean antialias;
} KdConfig;

typedef struct {
    int shape, colour;
    double cx, cy; /* centre in pixels (pixel (x, y) covers [x, x+1) × [y, y+1)) */
    double r;      /* half the side of the bounding box, in pixels */
} KdObject;

typedef struct {
    int label;
    int n_objects;                    /* may be below n_objects when distractors did not fit */
    KdObject objects[KD_MAX_OBJECTS]; /* [0] is the deciding object */
} KdScene;

const char *kd_shape_name(int shape);
const char *kd_colour_name(int colour);
/* The colour's 8-bit RGB before noise. */
const uint8_t *kd_colour_rgb(int colour);

/* The (shape, colour) of class @cls. */
void kd_class_combo(int cls, int *shape, int *colour);
/* The class of a combination among the first @n_classes, or -1 when it is no class. */
int kd_combo_class(int n_classes, int shape, int colour);
/* "red circle". Returns: (transfer full). */
char *kd_class_name(int cls);

/* TRUE when the point (x, y), in units of the object's half-size and relative to its centre
 * (y pointing down), lies inside @shape. */
gboolean kd_shape_contains(int shape, double x, double y);

/* The scene of item @index of split @split; a pure function of its arguments. */
void kd_scene_generate(const KdConfig *cfg, int split, int64_t index, KdScene *scene);

/* Draws @scene: @rgb receives size×size×3 interleaved bytes, @mask size×size floats, 1 where the
 * deciding object covers at least half of the pixel (its centre with antialias off), else 0.
 * Noise is drawn from its own stream of (seed, split, index), after rasterising. */
void kd_scene_render(const KdConfig *cfg, const KdScene *scene, int split, int64_t index,
                     uint8_t *rgb, float *mask);

G_END_DECLS
