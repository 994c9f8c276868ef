/* pvx — the data loader: seeded shuffling, batching, augmentation, a loader thread one batch
 * ahead of the consumer (double buffer). */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/train.h"
#include "pvx/random.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t *pvx_split_carve(int64_t n, double fraction, guint64 seed, int64_t *n_train, int64_t **val,
                         int64_t *n_val)
{
    int64_t *perm = g_new(int64_t, MAX(n, 1));
    pvx_permutation(n, seed, perm);
    int64_t nv = (int64_t)llround((double)n * fraction);
    nv = CLAMP(nv, 0, n);
    *val = g_new(int64_t, MAX(nv, 1));
    memcpy(*val, perm, (size_t)nv * sizeof(int64_t));
    qsort(*val, (size_t)nv, sizeof(int64_t), cmp_i64);
    int64_t nt = n - nv;
    int64_t *train = g_new(int64_t, MAX(nt, 1));
    memcpy(train, perm + nv, (size_t)nt * sizeof(int64_t));
    qsort(train, (size_t)nt, sizeof(int64_t), cmp_i64);
    g_free(perm);
    *n_train = nt;
    *n_val = nv;
    return train;
}

typedef enum { SLOT_EMPTY = 0, SLOT_READY } SlotState;

typedef struct {
    PvxTensor *x; /* [batch_size, C, H, W] */
    int64_t *labels;
    int64_t n, index;
    GError *error;
    SlotState state;
} Slot;

struct _PvxLoader {
    const PvxDataset *ds;
    PvxSplit split;
    int64_t *indices; /* NULL = identity */
    int64_t n;
    int batch_size;
    PvxAugment aug;
    gboolean threaded;
    int64_t chw[3];
    /* The pass. */
    int64_t *order;
    gboolean shuffle;
    guint64 seed;
    int64_t epoch;
    int64_t next; /* the batch the consumer gets next */
    int held;     /* slot the consumer holds, or -1 */
    gboolean started;
    Slot slots[2];
    PvxTensor *view; /* what the consumer got last (a view of a slot for a short batch) */
    /* The producer thread of the pass. */
    GThread *thread;
    GMutex lock;
    GCond cond;
    gboolean cancel;
};

PvxLoader *pvx_loader_new(const PvxDataset *ds, PvxSplit split, const int64_t *indices, int64_t n,
                          int batch_size, const PvxAugment *aug, gboolean threaded)
{
    g_return_val_if_fail(ds != NULL && batch_size > 0, NULL);
    PvxLoader *l = g_new0(PvxLoader, 1);
    l->ds = ds;
    l->split = split;
    if (indices) {
        l->indices = g_memdup2(indices, (gsize)MAX(n, 1) * sizeof(int64_t));
        l->n = n;
    } else {
        l->n = MAX(pvx_dataset_split_size(ds, split), 0);
    }
    l->batch_size = batch_size;
    if (aug)
        l->aug = *aug;
    l->threaded = threaded;
    pvx_dataset_item_shape(ds, l->chw);
    l->order = g_new(int64_t, MAX(l->n, 1));
    l->held = -1;
    for (int s = 0; s < 2; s++) {
        l->slots[s].x =
            pvx_tensor_new_shape(4, (int64_t)batch_size, l->chw[0], l->chw[1], l->chw[2]);
        l->slots[s].labels = g_new0(int64_t, batch_size);
    }
    g_mutex_init(&l->lock);
    g_cond_init(&l->cond);
    return l;
}

static void stop_thread(PvxLoader *l)
{
    if (!l->thread)
        return;
    g_mutex_lock(&l->lock);
    l->cancel = TRUE;
    g_cond_broadcast(&l->cond);
    g_mutex_unlock(&l->lock);
    g_thread_join(l->thread);
    l->thread = NULL;
    l->cancel = FALSE;
}

void pvx_loader_free(PvxLoader *l)
{
    if (!l)
        return;
    stop_thread(l);
    for (int s = 0; s < 2; s++) {
        pvx_tensor_unref(l->slots[s].x);
        g_free(l->slots[s].labels);
        g_clear_error(&l->slots[s].error);
    }
    if (l->view)
        pvx_tensor_unref(l->view);
    g_mutex_clear(&l->lock);
    g_cond_clear(&l->cond);
    g_free(l->indices);
    g_free(l->order);
    g_free(l);
}

int64_t pvx_loader_num_items(const PvxLoader *l)
{
    return l->n;
}

int64_t pvx_loader_num_batches(const PvxLoader *l)
{
    return (l->n + l->batch_size - 1) / l->batch_size;
}

/* Copies @src (C×H×W) into @dst with a random crop of the zero-padded image and a random flip,
 * both drawn from @rng. */
static void augment_copy(const PvxLoader *l, const float *src, float *dst, guint64 rng)
{
    const int64_t C = l->chw[0], H = l->chw[1], W = l->chw[2];
    const int pad = l->aug.crop_padding;
    int64_t oy = 0, ox = 0;
    gboolean flip = FALSE;
    if (pad > 0) {
        oy = (int64_t)pvx_hash_below(rng, 1, (guint64)(2 * pad + 1)) - pad;
        ox = (int64_t)pvx_hash_below(rng, 2, (guint64)(2 * pad + 1)) - pad;
    }
    if (l->aug.hflip)
        flip = pvx_hash_below(rng, 3, 2) == 1;
    if (oy == 0 && ox == 0 && !flip) {
        memcpy(dst, src, (size_t)(C * H * W) * sizeof(float));
        return;
    }
    for (int64_t c = 0; c < C; c++) {
        for (int64_t y = 0; y < H; y++) {
            float *row = dst + (c * H + y) * W;
            int64_t sy = y + oy;
            if (sy < 0 || sy >= H) {
                memset(row, 0, (size_t)W * sizeof(float));
                continue;
            }
            const float *srow = src + (c * H + sy) * W;
            for (int64_t x = 0; x < W; x++) {
                int64_t sx = (flip ? W - 1 - x : x) + ox;
                row[x] = sx >= 0 && sx < W ? srow[sx] : 0.0f;
            }
        }
    }
}

/* Loads batch @b of the pass into @slot (no locking: the slot belongs to the caller). */
static void fill_slot(PvxLoader *l, Slot *slot, int64_t b)
{
    const int64_t first = b * l->batch_size, count = MIN((int64_t)l->batch_size, l->n - first);
    const int64_t item_numel = l->chw[0] * l->chw[1] * l->chw[2];
    const gboolean augment = l->aug.crop_padding > 0 || l->aug.hflip;
    g_clear_error(&slot->error);
    slot->n = count;
    slot->index = b;
    for (int64_t i = 0; i < count; i++) {
        int64_t pos = first + i, k = l->order[pos];
        int64_t item_index = l->indices ? l->indices[k] : k;
        PvxDatasetItem item = {0};
        if (!pvx_dataset_get_item(l->ds, l->split, item_index, &item, &slot->error)) {
            g_prefix_error(&slot->error, "%s item %" G_GINT64_FORMAT ": ", pvx_split_name(l->split),
                           item_index);
            pvx_dataset_item_clear(&item);
            return;
        }
        float *dst = slot->x->data + i * item_numel;
        if (augment)
            augment_copy(l, item.image->data, dst,
                         pvx_hash64(l->seed ^ 0xa0a0a0a0ull, (guint64)l->epoch, (guint64)pos));
        else
            memcpy(dst, item.image->data, (size_t)item_numel * sizeof(float));
        slot->labels[i] = item.label;
        pvx_dataset_item_clear(&item);
    }
}

static gpointer producer(gpointer data)
{
    PvxLoader *l = data;
    const int64_t nb = pvx_loader_num_batches(l);
    for (int64_t b = 0; b < nb; b++) {
        Slot *slot = &l->slots[b % 2];
        g_mutex_lock(&l->lock);
        while (slot->state != SLOT_EMPTY && !l->cancel)
            g_cond_wait(&l->cond, &l->lock);
        gboolean cancel = l->cancel;
        g_mutex_unlock(&l->lock);
        if (cancel)
            break;
        fill_slot(l, slot, b);
        g_mutex_lock(&l->lock);
        slot->state = SLOT_READY;
        g_cond_broadcast(&l->cond);
        gboolean failed = slot->error != NULL;
        g_mutex_unlock(&l->lock);
        if (failed)
            break;
    }
    return NULL;
}

void pvx_loader_start(PvxLoader *l, gboolean shuffle, guint64 seed, int64_t epoch)
{
    stop_thread(l);
    l->shuffle = shuffle;
    l->seed = seed;
    l->epoch = epoch;
    if (shuffle)
        pvx_permutation(l->n, pvx_hash64(seed, (guint64)epoch, 0x5f1e), l->order);
    else
        for (int64_t i = 0; i < l->n; i++)
            l->order[i] = i;
    for (int s = 0; s < 2; s++) {
        l->slots[s].state = SLOT_EMPTY;
        g_clear_error(&l->slots[s].error);
    }
    l->next = 0;
    l->held = -1;
    l->started = TRUE;
    if (l->threaded && l->n > 0)
        l->thread = g_thread_new("pvx-loader", producer, l);
}

gboolean pvx_loader_next(PvxLoader *l, PvxBatch *batch, GError **error)
{
    g_return_val_if_fail(l->started, FALSE);
    if (l->held >= 0) {
        g_mutex_lock(&l->lock);
        l->slots[l->held].state = SLOT_EMPTY;
        g_cond_broadcast(&l->cond);
        g_mutex_unlock(&l->lock);
        l->held = -1;
    }
    if (l->next >= pvx_loader_num_batches(l))
        return FALSE;
    int s = (int)(l->next % 2);
    Slot *slot = &l->slots[s];
    if (l->threaded) {
        g_mutex_lock(&l->lock);
        while (slot->state != SLOT_READY)
            g_cond_wait(&l->cond, &l->lock);
        g_mutex_unlock(&l->lock);
    } else {
        fill_slot(l, slot, l->next);
        slot->state = SLOT_READY;
    }
    if (slot->error) {
        g_propagate_error(error, g_error_copy(slot->error));
        l->next = pvx_loader_num_batches(l);
        return FALSE;
    }
    l->held = s;
    l->next++;
    g_clear_pointer(&l->view, pvx_tensor_unref);
    l->view = slot->n == l->batch_size ? pvx_tensor_ref(slot->x)
                                       : pvx_tensor_narrow0(slot->x, 0, slot->n);
    batch->x = l->view;
    batch->labels = slot->labels;
    batch->n = slot->n;
    batch->index = slot->index;
    return TRUE;
}
