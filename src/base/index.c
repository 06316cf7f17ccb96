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
 * ever half full never needs cleaning.  Growth doubles the array and moves
 * the slots by their stored hashes, touching no item.
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
            return NULL;
        if (s->hash == h && key_is(key_of(s->item), key, len))
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

int em_index_reserve(em_index *ix, size_t n)
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
    for (size_t i = 0; i < have; i++)
        if (ix->slots[i].item)
            place(slots, want - 1, ix->slots[i].hash, ix->slots[i].item);
    em_free(ix->slots);
    ix->slots = slots;
    ix->mask = want - 1;
    return 0;
}

int em_index_insert(em_index *ix, void *item, em_index_key key_of)
{
    if (em_index_reserve(ix, 1) < 0)
        return -1;
    const char *k = key_of(item);
    place(ix->slots, ix->mask, em_hash_key(k, strlen(k)), item);
    ix->count++;
    return 0;
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
            return false;
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
    while (*pos <= ix->mask) {
        void *item = ix->slots[(*pos)++].item;
        if (item)
            return item;
    }
    return NULL;
}

void em_index_release(em_index *ix)
{
    em_free(ix->slots);
    memset(ix, 0, sizeof *ix);
}
