/*
 * em_index: a table from string keys to items, by open addressing.
 *
 * A flat array of {hash, item} slots, 16 bytes, four to a cache line.  A key
 * goes to the slot its em_hash_key names (the low bits) and, when that slot is
 * taken, to the next free one after it (linear probing).  A lookup reads slots
 * from there until it meets an empty one, and looks at an item's key only
 * where the slot's 32-bit hash is the key's: a miss reads about one cache
 * line of slots, a hit that line and the item's key.  A removal shifts the
 * slots after it back into the gap (no tombstones), so a table that is only
 * ever half full never needs cleaning.
 *
 * Growth doubles the array and moves the slots by their stored hashes,
 * touching no item, a few at a time: all at once, the move of 131,072
 * slots into an 8 MiB array took one insert 10-40 ms on this VM, nearly all
 * of it page faults (bench/PROFILE.md).  While the old array is being
 * emptied, each insert first moves INDEX_MOVE_STEP of its slots on, from
 * the front; a lookup that misses in the new array looks in the old one
 * from `moved` on (the slots before it are in the new array already); a
 * removal from the old array leaves a tombstone there (the old array takes
 * no inserts, and is freed whole when the last slot has moved).  The move
 * ends before the new array is half full: old/2 items at most are left
 * when it starts, and old/INDEX_MOVE_STEP inserts move them all.
 *
 * uthash chains items through a handle in each item (56 bytes); a lookup
 * there reads the bucket, then each item of the chain until the key's, each
 * a cache miss in a table bigger than the cache, and growth relinks every
 * item.  At 100,000 images that was most of a call's misses
 * (bench/PROFILE.md, "Open-addressing index").
 */
#include "base/base.h"

/* The table grows when an insert would fill more than this share of its
 * slots (numerator over 8).  At 1/2 a miss reads 2.5 slots on average (one
 * line) and a hit 1.5; at 3/4 a miss reads 8.5 (three lines).  The bench's
 * figures are in bench/PROFILE.md. */
#ifndef EM_INDEX_LOAD_EIGHTHS
#define EM_INDEX_LOAD_EIGHTHS 4
#endif
#define INDEX_MIN_SLOTS 16 /* 256 bytes: uthash began at 32 buckets, 512 */
/* The slot comes from the hash's bits: no more slots than a hash has values. */
#define INDEX_MAX_SLOTS ((size_t)1 << 31)
/* Old slots moved on by each insert while the index grows (at least 2: see
 * above). */
#define INDEX_MOVE_STEP 8

/* A removed item's mark in the old array: not empty (a probe goes on past
 * it), never an item. */
static const char tombstone;
#define TOMBSTONE ((void *)&tombstone)

static bool key_is(const char *k, const char *key, size_t len)
{
    return memcmp(k, key, len) == 0 && k[len] == '\0';
}

void *em_index_find(const em_index *ix, const char *key, size_t len, em_index_key key_of)
{
    if (!ix->count)
        return NULL;
    uint32_t h = em_hash_key(key, len);
    for (size_t i = h & ix->mask;; i = (i + 1) & ix->mask) {
        const em_index_slot *s = &ix->slots[i];
        if (!s->item)
            break;
        if (s->hash == h && key_is(key_of(s->item), key, len))
            return s->item;
    }
    if (!ix->old)
        return NULL;
    /* Slots before `moved` were moved on (their items are in the new
     * array, or were removed since): a probe passes them without a look. */
    for (size_t i = h & ix->old_mask;; i = (i + 1) & ix->old_mask) {
        const em_index_slot *s = &ix->old[i];
        if (!s->item)
            return NULL;
        if (i >= ix->moved && s->item != TOMBSTONE && s->hash == h && key_is(key_of(s->item), key, len))
            return s->item;
    }
}

/* Places (h, item) in slots[0..mask] at the first free slot from its home. */
static void place(em_index_slot *slots, size_t mask, uint32_t h, void *item)
{
    size_t i = h & mask;
    while (slots[i].item)
        i = (i + 1) & mask;
    slots[i].hash = h;
    slots[i].item = item;
}

/* Moves the old array's slots [moved, moved + n) on; frees it after its
 * last. */
static void move_on(em_index *ix, size_t n)
{
    size_t end = ix->old_mask + 1;
    if (n > end - ix->moved)
        n = end - ix->moved;
    for (size_t i = ix->moved; i < ix->moved + n; i++) {
        em_index_slot s = ix->old[i];
        if (s.item && s.item != TOMBSTONE)
            place(ix->slots, ix->mask, s.hash, s.item);
    }
    ix->moved += n;
    if (ix->moved == end) {
        em_free(ix->old);
        ix->old = NULL;
        ix->old_mask = ix->moved = 0;
    }
}

/* The number of slots that holds n items under the load factor: a power of
 * two, or 0 when that would pass INDEX_MAX_SLOTS. */
static size_t slots_for(size_t n)
{
    size_t want = INDEX_MIN_SLOTS;
    while (n > want / 8 * EM_INDEX_LOAD_EIGHTHS) {
        if (want >= INDEX_MAX_SLOTS)
            return 0;
        want *= 2;
    }
    return want;
}

/* Room for n more items: 0, or -1 (no memory, or too many): ix unchanged.
 * An insert's growth (gradual) moves the slots on a few at a time, any
 * other moves them all now. */
static int room_for(em_index *ix, size_t n, bool gradual)
{
    if (n > SIZE_MAX - ix->count)
        return -1;
    size_t want = slots_for(ix->count + n);
    if (!want)
        return -1;
    size_t have = ix->slots ? ix->mask + 1 : 0;
    if (want <= have)
        return 0;
    em_index_slot *slots = em_calloc(want, sizeof *slots);
    if (!slots)
        return -1;
    if (gradual && !ix->old && have) {
        ix->old = ix->slots;
        ix->old_mask = ix->mask;
        ix->moved = 0;
        ix->slots = slots;
        ix->mask = want - 1;
        return 0;
    }
    em_index_slot *prev = ix->slots;
    ix->slots = slots;
    ix->mask = want - 1;
    if (ix->old)
        move_on(ix, SIZE_MAX);
    for (size_t i = 0; i < have; i++)
        if (prev[i].item)
            place(slots, want - 1, prev[i].hash, prev[i].item);
    em_free(prev);
    return 0;
}

int em_index_reserve(em_index *ix, size_t n)
{
    return n ? room_for(ix, n, false) : 0;
}

int em_index_insert(em_index *ix, void *item, em_index_key key_of)
{
    if (room_for(ix, 1, true) < 0)
        return -1;
    if (ix->old)
        move_on(ix, INDEX_MOVE_STEP);
    const char *k = key_of(item);
    place(ix->slots, ix->mask, em_hash_key(k, strlen(k)), item);
    ix->count++;
    return 0;
}

/* Takes item out of the old array (from `moved` on): a tombstone. */
static bool old_remove(em_index *ix, const void *item, uint32_t h)
{
    for (size_t i = h & ix->old_mask;; i = (i + 1) & ix->old_mask) {
        em_index_slot *s = &ix->old[i];
        if (!s->item)
            return false;
        if (i >= ix->moved && s->item == item) {
            s->item = TOMBSTONE;
            ix->count--;
            return true;
        }
    }
}

bool em_index_remove(em_index *ix, const void *item, em_index_key key_of)
{
    if (!ix->count)
        return false;
    const char *k = key_of(item);
    uint32_t h = em_hash_key(k, strlen(k));
    size_t mask = ix->mask, i = h & mask;
    while (ix->slots[i].item != item) {
        if (!ix->slots[i].item)
            return ix->old && old_remove(ix, item, h);
        i = (i + 1) & mask;
    }
    /* Backward shift: each later slot of the run whose home is not in
     * (gap, j] (cyclically) moves into the gap, which moves to it. */
    for (size_t j = (i + 1) & mask; ix->slots[j].item; j = (j + 1) & mask) {
        size_t home = ix->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->slots[i] = ix->slots[j];
            i = j;
        }
    }
    ix->slots[i].item = NULL;
    ix->slots[i].hash = 0;
    ix->count--;
    return true;
}

void *em_index_next(const em_index *ix, size_t *pos)
{
    if (!ix->slots)
        return NULL;
    size_t n = ix->mask + 1;
    while (*pos < n) {
        void *item = ix->slots[(*pos)++].item;
        if (item)
            return item;
    }
    /* then the old array's slots not moved yet */
    while (ix->old && *pos - n + ix->moved <= ix->old_mask) {
        void *item = ix->old[*pos - n + ix->moved].item;
        (*pos)++;
        if (item && item != TOMBSTONE)
            return item;
    }
    return NULL;
}

void em_index_release(em_index *ix)
{
    em_free(ix->slots);
    em_free(ix->old);
    memset(ix, 0, sizeof *ix);
}
