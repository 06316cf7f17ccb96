/*
 * The open-addressing index (src/base/index.c): insert, find and remove
 * across growth against a plain list of what is in it, growth a step at a
 * time (finds, removals and walks while the old array still holds items),
 * removal with the backward shift across the array's wrap-around, keys
 * whose 32-bit hashes are equal, every allocation failed in turn, and the
 * size edge of growth.  After each step the probing invariant is checked:
 * every item is reached from its home slot without passing an empty slot.
 */
#include <stdint.h>

#include "alloc_fail.h"
#include "base/base.h"
#include "helpers.h"

typedef struct item {
    char key[ECRMOCK_DIGEST_SIZE];
} item;

static const char *key_of(const void *p)
{
    return ((const item *)p)->key;
}

static void *find(const em_index *ix, const char *key)
{
    return em_index_find(ix, key, strlen(key), key_of);
}

static uint32_t hash_of(const char *key)
{
    return em_hash_key(key, strlen(key));
}

/* The index's invariants: the slot count a power of two, each slot's hash
 * its item's, no empty slot between an item and its home, count items in
 * the walk (the array's and, while it grows, the old array's not moved
 * yet), and each item found by its key. */
static void check(const em_index *ix)
{
    if (!ix->slots) {
        assert_int_equal(ix->count, 0);
        assert_null(ix->old);
        return;
    }
    size_t n = ix->mask + 1, count = 0;
    assert_int_equal(n & ix->mask, 0);
    for (size_t i = 0; i < n; i++) {
        const em_index_slot *s = &ix->slots[i];
        if (!s->item)
            continue;
        assert_int_equal(s->hash, hash_of(key_of(s->item)));
        for (size_t j = s->hash & ix->mask; j != i; j = (j + 1) & ix->mask)
            if (!ix->slots[j].item)
                fail_msg("slot %zu: an empty slot %zu between it and its home", i, j);
    }
    if (ix->old) {
        assert_int_equal((ix->old_mask + 1) * 2, n); /* one doubling */
        assert_true(ix->moved <= ix->old_mask);
    }
    size_t pos = 0;
    for (const item *it; (it = em_index_next(ix, &pos)); count++)
        assert_ptr_equal(find(ix, key_of(it)), it);
    assert_int_equal(count, ix->count);
}

/* Keys k0, k1, ... whose home in an index of `slots` slots is `home`. */
static void keys_at(item *out, size_t n, size_t slots, size_t home, const char *prefix)
{
    size_t got = 0;
    for (unsigned long k = 0; got < n; k++) {
        item it;
        snprintf(it.key, sizeof it.key, "%s%lu", prefix, k);
        if ((hash_of(it.key) & (slots - 1)) == home)
            out[got++] = it;
    }
}

static void test_index_empty(void **state)
{
    (void)state;
    em_index ix = {0};
    assert_null(find(&ix, "anything"));
    /* room for none: nothing made */
    alloc_fail_arm(-1);
    assert_int_equal(em_index_reserve(&ix, 0), 0);
    assert_int_equal(alloc_fail_disarm(), 0);
    assert_null(ix.slots);
    item a = {"a"};
    assert_false(em_index_remove(&ix, &a, key_of));
    size_t pos = 0;
    assert_null(em_index_next(&ix, &pos));
    em_index_release(&ix);
    check(&ix);
}

/* 5,000 items in, then every other out, then the rest, against what was
 * put: growth from 16 slots to 16,384 with every lookup right throughout,
 * the walk giving each item once, and misses for keys never put. */
static void test_index_insert_find_remove_across_growth(void **state)
{
    (void)state;
    enum { N = 5000 };
    item *items = calloc(N, sizeof *items);
    em_index ix = {0};
    size_t grown = 0, last_slots = 0;
    for (size_t i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof items[i].key, "sha256:%064zx", i * 2654435761u);
        assert_int_equal(em_index_insert(&ix, &items[i], key_of), 0);
        assert_int_equal(ix.count, i + 1);
        if (ix.mask + 1 != last_slots) {
            grown++;
            last_slots = ix.mask + 1;
            check(&ix);
        }
        /* at most half full */
        assert_true(ix.count <= (ix.mask + 1) / 2);
    }
    check(&ix);
    assert_int_equal(ix.mask + 1, 16384);
    assert_int_equal(grown, 11); /* 16, 32, ..., 16384 */
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(find(&ix, items[i].key), &items[i]);
    assert_null(find(&ix, "sha256:absent"));
    assert_null(find(&ix, ""));
    /* a key that is a prefix of a stored one, and one longer */
    char shorter[ECRMOCK_DIGEST_SIZE], longer[ECRMOCK_DIGEST_SIZE + 8];
    snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(items[7].key) - 1, items[7].key);
    snprintf(longer, sizeof longer, "%sx", items[7].key);
    assert_null(find(&ix, shorter));
    assert_null(find(&ix, longer));

    /* the walk: each item once */
    unsigned char *seen = calloc(N, 1);
    size_t pos = 0, walked = 0;
    for (item *it; (it = em_index_next(&ix, &pos)); walked++) {
        size_t k = (size_t)(it - items);
        assert_true(k < N);
        assert_int_equal(seen[k], 0);
        seen[k] = 1;
    }
    assert_int_equal(walked, N);
    assert_null(em_index_next(&ix, &pos));

    for (size_t i = 0; i < N; i += 2)
        assert_true(em_index_remove(&ix, &items[i], key_of));
    check(&ix);
    for (size_t i = 0; i < N; i++)
        assert_ptr_equal(find(&ix, items[i].key), i % 2 ? &items[i] : NULL);
    /* removing what is not there, or a look-alike of what is */
    assert_false(em_index_remove(&ix, &items[0], key_of));
    item twin = items[1];
    assert_false(em_index_remove(&ix, &twin, key_of));
    assert_ptr_equal(find(&ix, items[1].key), &items[1]);
    for (size_t i = 1; i < N; i += 2)
        assert_true(em_index_remove(&ix, &items[i], key_of));
    assert_int_equal(ix.count, 0);
    check(&ix);
    for (size_t i = 0; i < N; i++)
        assert_null(find(&ix, items[i].key));
    /* emptied, it takes items again */
    assert_int_equal(em_index_insert(&ix, &items[3], key_of), 0);
    assert_ptr_equal(find(&ix, items[3].key), &items[3]);
    em_index_release(&ix);
    assert_null(ix.slots);
    assert_int_equal(ix.count, 0);
    free(seen);
    free(items);
}

/* A run that wraps from the last slot to the first: removing its head
 * shifts the items back across the wrap into their right places, and
 * an item at home after the run stays. */
static void test_index_backward_shift_across_wrap(void **state)
{
    (void)state;
    item last[4], first[2];
    keys_at(last, 4, 16, 15, "w");   /* home: slot 15, the last */
    keys_at(first, 2, 16, 1, "f");   /* home: slot 1 */
    em_index ix = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(em_index_insert(&ix, &last[i], key_of), 0);
    assert_int_equal(em_index_insert(&ix, &first[0], key_of), 0);
    assert_int_equal(ix.mask, 15);
    /* slots 15, 0, 1, 2: last[0..3]; first[0] pushed on to 3 */
    assert_ptr_equal(ix.slots[15].item, &last[0]);
    assert_ptr_equal(ix.slots[0].item, &last[1]);
    assert_ptr_equal(ix.slots[1].item, &last[2]);
    assert_ptr_equal(ix.slots[2].item, &last[3]);
    assert_ptr_equal(ix.slots[3].item, &first[0]);
    check(&ix);

    /* out goes the head, at 15: each moves back one, across the wrap */
    assert_true(em_index_remove(&ix, &last[0], key_of));
    assert_ptr_equal(ix.slots[15].item, &last[1]);
    assert_ptr_equal(ix.slots[0].item, &last[2]);
    assert_ptr_equal(ix.slots[1].item, &last[3]);
    assert_ptr_equal(ix.slots[2].item, &first[0]); /* home 1, taken: next best */
    assert_null(ix.slots[3].item);
    check(&ix);

    /* out goes the one at 0: last[3] (home 15) moves to 0, first[0] to
     * its home, 1 */
    assert_true(em_index_remove(&ix, &last[2], key_of));
    assert_ptr_equal(ix.slots[15].item, &last[1]);
    assert_ptr_equal(ix.slots[0].item, &last[3]);
    assert_ptr_equal(ix.slots[1].item, &first[0]);
    assert_null(ix.slots[2].item);
    check(&ix);

    /* first[1] (home 1) goes to 2, behind first[0]; first[0] out, it
     * moves up to its home */
    assert_int_equal(em_index_insert(&ix, &first[1], key_of), 0);
    assert_ptr_equal(ix.slots[2].item, &first[1]);
    assert_true(em_index_remove(&ix, &first[0], key_of));
    assert_ptr_equal(ix.slots[1].item, &first[1]);
    assert_null(ix.slots[2].item);
    check(&ix);

    /* last[3] (home 15) out of 0: first[1], at its home 1 after it, stays */
    assert_true(em_index_remove(&ix, &last[3], key_of));
    assert_ptr_equal(ix.slots[15].item, &last[1]);
    assert_null(ix.slots[0].item);
    assert_ptr_equal(ix.slots[1].item, &first[1]);
    check(&ix);
    em_index_release(&ix);
}

/* Growth a step at a time: the insert that passes half full makes the
 * doubled array and moves 8 old slots on; the items left in the old array
 * are found, walked and removed there; later inserts move the rest, and
 * the old array goes once its last slot has moved. */
static void test_index_growth_moves_gradually(void **state)
{
    (void)state;
    item items[24];
    em_index ix = {0};
    for (size_t i = 0; i < 24; i++)
        snprintf(items[i].key, sizeof items[i].key, "sha256:%zu", i);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(em_index_insert(&ix, &items[i], key_of), 0);
    assert_int_equal(ix.mask, 15);
    assert_null(ix.old);
    em_index_slot *first = ix.slots;

    assert_int_equal(em_index_insert(&ix, &items[8], key_of), 0);
    assert_int_equal(ix.mask, 31);
    assert_ptr_equal(ix.old, first);
    assert_int_equal(ix.moved, 8);
    check(&ix);
    /* the old array's second half has not moved: its items are there */
    size_t left = 0;
    item *in_old = NULL;
    for (size_t i = 8; i < 16; i++)
        if (ix.old[i].item) {
            left++;
            in_old = ix.old[i].item;
        }
    assert_true(left > 0); /* 8 items over 16 slots: some in the second half */
    assert_ptr_equal(find(&ix, in_old->key), in_old);
    /* removed from the old array: not found, not walked, not moved on */
    assert_true(em_index_remove(&ix, in_old, key_of));
    assert_false(em_index_remove(&ix, in_old, key_of));
    assert_null(find(&ix, in_old->key));
    assert_int_equal(ix.count, 8);
    check(&ix);
    size_t pos = 0, walked = 0;
    for (item *it; (it = em_index_next(&ix, &pos)); walked++)
        assert_ptr_not_equal(it, in_old);
    assert_int_equal(walked, 8);
    /* it comes back in, into the new array */
    assert_int_equal(em_index_insert(&ix, in_old, key_of), 0);
    assert_null(ix.old); /* the second step moved the last 8 */
    check(&ix);
    for (size_t i = 0; i < 9; i++)
        assert_ptr_equal(find(&ix, items[i].key), &items[i]);
    /* the next growth, at 17, while nothing is moving */
    for (size_t i = 9; i < 17; i++)
        assert_int_equal(em_index_insert(&ix, &items[i], key_of), 0);
    assert_int_equal(ix.mask, 63);
    assert_non_null(ix.old);
    /* a reserve while it moves: every slot moved at once */
    assert_int_equal(em_index_reserve(&ix, 40), 0);
    assert_null(ix.old);
    assert_int_equal(ix.mask, 127);
    check(&ix);
    for (size_t i = 0; i < 17; i++)
        assert_ptr_equal(find(&ix, items[i].key), &items[i]);
    em_index_release(&ix);
}

/* Two keys with the same 32-bit hash, found among 300,000: each is found
 * as itself (the key decides, not the hash), and removing one leaves the
 * other. */
static int by_hash(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x >> 32) < (y >> 32) ? -1 : (x >> 32) > (y >> 32) ? 1 : 0;
}

static void test_index_same_hash_keys(void **state)
{
    (void)state;
    enum { N = 300000 };
    uint64_t *h = malloc(N * sizeof *h); /* hash << 32 | k */
    for (uint32_t k = 0; k < N; k++) {
        char key[40];
        snprintf(key, sizeof key, "tag-%u", k);
        h[k] = (uint64_t)hash_of(key) << 32 | k;
    }
    qsort(h, N, sizeof *h, by_hash);
    size_t i = 1;
    while (i < N && h[i] >> 32 != h[i - 1] >> 32)
        i++;
    assert_true(i < N); /* about 10 pairs are expected among 300,000 */
    item a, b, c;
    snprintf(a.key, sizeof a.key, "tag-%u", (uint32_t)h[i - 1]);
    snprintf(b.key, sizeof b.key, "tag-%u", (uint32_t)h[i]);
    free(h);
    assert_string_not_equal(a.key, b.key);
    assert_int_equal(hash_of(a.key), hash_of(b.key));
    /* a third key at the same home, between them */
    keys_at(&c, 1, 16, hash_of(a.key) & 15, "c");

    em_index ix = {0};
    assert_int_equal(em_index_insert(&ix, &a, key_of), 0);
    assert_null(find(&ix, b.key));
    assert_int_equal(em_index_insert(&ix, &c, key_of), 0);
    assert_int_equal(em_index_insert(&ix, &b, key_of), 0);
    check(&ix);
    assert_ptr_equal(find(&ix, a.key), &a);
    assert_ptr_equal(find(&ix, b.key), &b);
    assert_ptr_equal(find(&ix, c.key), &c);
    assert_true(em_index_remove(&ix, &a, key_of));
    assert_null(find(&ix, a.key));
    assert_ptr_equal(find(&ix, b.key), &b);
    check(&ix);
    /* b out, a back in: a found, not b */
    assert_true(em_index_remove(&ix, &b, key_of));
    assert_int_equal(em_index_insert(&ix, &a, key_of), 0);
    assert_ptr_equal(find(&ix, a.key), &a);
    assert_null(find(&ix, b.key));
    assert_false(em_index_remove(&ix, &b, key_of));
    check(&ix);
    em_index_release(&ix);
}

/* An index's contents, to compare before and after a failed call. */
typedef struct picture {
    em_index_slot *slots, *old;
    size_t mask, count, moved;
    em_index_slot copy[128];
} picture;

static picture picture_of(const em_index *ix)
{
    picture p = {ix->slots, ix->old, ix->mask, ix->count, ix->moved, {{0}}};
    assert_true(ix->mask < sizeof p.copy / sizeof *p.copy);
    if (ix->slots)
        memcpy(p.copy, ix->slots, (ix->mask + 1) * sizeof *ix->slots);
    return p;
}

static void same_picture(const em_index *ix, const picture *p)
{
    assert_ptr_equal(ix->slots, p->slots);
    assert_ptr_equal(ix->old, p->old);
    assert_int_equal(ix->moved, p->moved);
    assert_int_equal(ix->mask, p->mask);
    assert_int_equal(ix->count, p->count);
    if (ix->slots)
        assert_memory_equal(ix->slots, p->copy, (ix->mask + 1) * sizeof *ix->slots);
}

/* The first insert and each one that grows the array allocate once; with
 * that allocation failed the insert returns -1 and the index is as it was,
 * and the same insert then succeeds.  Inserts that do not grow and every
 * removal allocate nothing. */
static void test_index_allocation_failure(void **state)
{
    (void)state;
    enum { N = 40 };
    item items[N];
    em_index ix = {0};
    for (size_t i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof items[i].key, "image-%zu", i);
        bool grows = !ix.slots || ix.count + 1 > (ix.mask + 1) / 2;
        picture before = picture_of(&ix);
        alloc_fail_arm(1);
        int rc = em_index_insert(&ix, &items[i], key_of);
        long n = alloc_fail_disarm();
        if (grows) {
            assert_int_equal(n, 1);
            assert_int_equal(rc, -1);
            same_picture(&ix, &before);
            assert_null(find(&ix, items[i].key));
            for (size_t k = 0; k < i; k++)
                assert_ptr_equal(find(&ix, items[k].key), &items[k]);
            alloc_fail_arm(-1);
            assert_int_equal(em_index_insert(&ix, &items[i], key_of), 0);
            assert_int_equal(alloc_fail_disarm(), 1);
        } else {
            assert_int_equal(n, 0);
            assert_int_equal(rc, 0);
        }
        check(&ix);
    }
    assert_int_equal(ix.mask + 1, 128);
    /* reserve: failed, unchanged; room already there, no allocation */
    picture before = picture_of(&ix);
    alloc_fail_arm(1);
    assert_int_equal(em_index_reserve(&ix, 100), -1);
    assert_int_equal(alloc_fail_disarm(), 1);
    same_picture(&ix, &before);
    alloc_fail_arm(1);
    assert_int_equal(em_index_reserve(&ix, 24), 0);
    assert_int_equal(alloc_fail_disarm(), 0);
    alloc_fail_arm(1);
    for (size_t i = 0; i < N; i++)
        assert_true(em_index_remove(&ix, &items[i], key_of));
    assert_int_equal(alloc_fail_disarm(), 0);
    check(&ix);
    em_index_release(&ix);
}

/* Growth past what an index holds (2^30 items, 2^31 slots) is refused with
 * no allocation and the index unchanged, however the count is asked for:
 * SIZE_MAX, a count that wraps size_t when added to what is held, one past
 * the limit.  At the limit itself the one allocation (32 GiB) is asked for,
 * failed here, and the index is as it was. */
static void test_index_size_edge(void **state)
{
    (void)state;
    item a = {"a"}, b = {"b"};
    em_index ix = {0};
    const size_t limit = (size_t)1 << 30;
    size_t asks[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, limit + 1};
    for (size_t k = 0; k < sizeof asks / sizeof *asks; k++) {
        alloc_fail_arm(-1);
        assert_int_equal(em_index_reserve(&ix, asks[k]), -1);
        assert_int_equal(alloc_fail_disarm(), 0);
        assert_null(ix.slots);
    }
    assert_int_equal(em_index_insert(&ix, &a, key_of), 0);
    assert_int_equal(em_index_insert(&ix, &b, key_of), 0);
    picture before = picture_of(&ix);
    size_t held_asks[] = {SIZE_MAX, SIZE_MAX - 1, limit - 1};
    for (size_t k = 0; k < sizeof held_asks / sizeof *held_asks; k++) {
        alloc_fail_arm(-1);
        assert_int_equal(em_index_reserve(&ix, held_asks[k]), -1);
        assert_int_equal(alloc_fail_disarm(), 0);
        same_picture(&ix, &before);
    }
    alloc_fail_arm(1);
    assert_int_equal(em_index_reserve(&ix, limit - 2), -1);
    assert_int_equal(alloc_fail_disarm(), 1);
    same_picture(&ix, &before);
    assert_ptr_equal(find(&ix, "a"), &a);
    assert_ptr_equal(find(&ix, "b"), &b);
    em_index_release(&ix);
}

/* Random inserts and removals against a list of what is in: 20,000 steps
 * over 3,000 keys, so the index grows and shrinks through many runs and
 * wraps. */
static void test_index_random_against_list(void **state)
{
    (void)state;
    enum { KEYS = 3000, STEPS = 20000 };
    item *items = calloc(KEYS, sizeof *items);
    unsigned char *in = calloc(KEYS, 1);
    for (size_t i = 0; i < KEYS; i++)
        snprintf(items[i].key, sizeof items[i].key, "t%zu", i);
    em_index ix = {0};
    uint64_t r = 88172645463325252u;
    size_t count = 0;
    for (int s = 0; s < STEPS; s++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        size_t k = (size_t)(r % KEYS);
        if (in[k]) {
            assert_true(em_index_remove(&ix, &items[k], key_of));
            in[k] = 0;
            count--;
        } else {
            assert_int_equal(em_index_insert(&ix, &items[k], key_of), 0);
            in[k] = 1;
            count++;
        }
        assert_int_equal(ix.count, count);
        if (s % 1000 == 0)
            check(&ix);
    }
    check(&ix);
    for (size_t i = 0; i < KEYS; i++)
        assert_ptr_equal(find(&ix, items[i].key), in[i] ? &items[i] : NULL);
    em_index_release(&ix);
    free(in);
    free(items);
}

/* em_hash_key as it was, its last 0-7 bytes read by memcpy: the value the
 * tail's byte loop and shifted word must give on a little-endian machine. */
static unsigned hash_by_memcpy(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)len, w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9u;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0x94d049bb133111ebu;
    h ^= h >> 29;
    return (unsigned)(h ^ (h >> 32));
}

/* A key's hash reads the key's bytes and no other: keys of 0 to 40 bytes
 * at the very end of their block (ASan sees a read past it) and after
 * bytes that differ, each hashed as the memcpy form hashes it. */
static void test_hash_key_reads_the_key_alone(void **state)
{
    (void)state;
    const uint16_t one = 1;
    bool little = *(const unsigned char *)&one == 1;
    for (size_t len = 0; len <= 40; len++) {
        char *a = malloc(len + 16), *b = malloc(len ? len : 1);
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < len + 16; i++)
            a[i] = (char)(0x5a ^ i);
        for (size_t i = 0; i < len; i++)
            b[i] = a[16 + i] = (char)('a' + (i * 7) % 26);
        unsigned h = em_hash_key(b, len);
        assert_int_equal(em_hash_key(a + 16, len), h);
        for (size_t i = 0; i < 16; i++) /* the bytes before it changed */
            a[i] = (char)~a[i];
        assert_int_equal(em_hash_key(a + 16, len), h);
        if (little)
            assert_int_equal(h, hash_by_memcpy(b, len));
        if (len) { /* its last byte counts */
            b[len - 1] ^= 1;
            assert_int_not_equal(em_hash_key(b, len), h);
        }
        free(a);
        free(b);
    }
}

int main(void)
{
    alloc_fail_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_empty),
        cmocka_unit_test(test_index_insert_find_remove_across_growth),
        cmocka_unit_test(test_index_backward_shift_across_wrap),
        cmocka_unit_test(test_index_growth_moves_gradually),
        cmocka_unit_test(test_index_same_hash_keys),
        cmocka_unit_test(test_index_allocation_failure),
        cmocka_unit_test(test_index_size_edge),
        cmocka_unit_test(test_index_random_against_list),
        cmocka_unit_test(test_hash_key_reads_the_key_alone),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
