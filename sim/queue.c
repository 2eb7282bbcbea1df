#include "apical/queue.h"

#include <math.h>
#include <stdlib.h>

void apical_queue_init(apical_queue *q)
{
    q->heap = NULL;
    q->n = q->cap = 0;
    q->next_seq = 0;
}

void apical_queue_free(apical_queue *q)
{
    free(q->heap);
    apical_queue_init(q);
}

static inline int before(const apical_event *x, const apical_event *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

int apical_queue_push(apical_queue *q, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 256;
        apical_event *h = realloc(q->heap, cap * sizeof *h);
        if (!h)
            return -1;
        q->heap = h;
        q->cap = cap;
    }
    apical_event ev = {t, q->next_seq++, kind, a, b};
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    return 0;
}

double apical_queue_top_time(const apical_queue *q)
{
    return q->n ? q->heap[0].t : HUGE_VAL;
}

int apical_queue_pop(apical_queue *q, apical_event *ev)
{
    if (!q->n)
        return -1;
    *ev = q->heap[0];
    apical_event last = q->heap[--q->n];
    size_t i = 0, n = q->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&q->heap[c + 1], &q->heap[c]))
            c++;
        if (!before(&q->heap[c], &last))
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (n)
        q->heap[i] = last;
    return 0;
}
