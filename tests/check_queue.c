/* Event queue: (time, insertion sequence) order, ties in push order. */
#include <check.h>
#include <stdlib.h>

#include "apical/queue.h"

START_TEST(test_order_and_ties)
{
    apical_queue q;
    apical_queue_init(&q);
    const double t[] = {5.0, 1.0, 3.0, 1.0, 5.0, 0.5, 3.0, 1.0};
    for (uint32_t i = 0; i < 8; i++)
        ck_assert_int_eq(apical_queue_push(&q, t[i], 7, i, 100 + i), 0);
    /* expected: by time, equal times in push order */
    const uint32_t want[] = {5, 1, 3, 7, 2, 6, 0, 4};
    apical_event ev;
    for (int k = 0; k < 8; k++) {
        ck_assert_int_eq(apical_queue_pop(&q, &ev), 0);
        ck_assert_uint_eq(ev.a, want[k]);
        ck_assert_uint_eq(ev.b, 100 + want[k]);
        ck_assert_uint_eq(ev.kind, 7);
    }
    ck_assert_int_eq(apical_queue_pop(&q, &ev), -1);
    ck_assert(apical_queue_top_time(&q) > 1e300);
    apical_queue_free(&q);
}
END_TEST

static int cmp_ev(const void *x, const void *y)
{
    const apical_event *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Interleaved pushes and pops against a sorted reference. */
START_TEST(test_random_against_sort)
{
    apical_queue q;
    apical_queue_init(&q);
    enum { N = 3000 };
    apical_event *ref = malloc(N * sizeof *ref);
    size_t nref = 0;
    unsigned s = 12345;
    double now = 0.0;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        /* coarse times make many ties */
        double t = now + (double)((s >> 16) % 50) * 0.25;
        ck_assert_int_eq(apical_queue_push(&q, t, 0, (uint32_t)i, 0), 0);
        ref[nref++] = (apical_event){t, (uint64_t)i, 0, (uint32_t)i, 0};
        if (i % 3 == 2) {
            qsort(ref, nref, sizeof *ref, cmp_ev);
            apical_event ev;
            ck_assert_int_eq(apical_queue_pop(&q, &ev), 0);
            ck_assert_uint_eq(ev.a, ref[0].a);
            now = ev.t;
            ref[0] = ref[--nref];
        }
    }
    qsort(ref, nref, sizeof *ref, cmp_ev);
    for (size_t k = 0; k < nref; k++) {
        apical_event ev;
        ck_assert_int_eq(apical_queue_pop(&q, &ev), 0);
        ck_assert_uint_eq(ev.a, ref[k].a);
    }
    ck_assert_uint_eq(apical_queue_size(&q), 0);
    free(ref);
    apical_queue_free(&q);
}
END_TEST

Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_random_against_sort);
    suite_add_tcase(s, tc);
    return s;
}
