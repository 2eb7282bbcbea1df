/* The event queue: a binary min-heap ordered by (time, insertion sequence),
 * so events at equal times come out in the order they were pushed, in every
 * run. Push is amortised O(1) allocation (the array doubles); pop never
 * allocates. */
#ifndef APICAL_QUEUE_H
#define APICAL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct apical_event {
    double t;
    uint64_t seq;
    uint32_t kind; /* what to do; the engine's enum */
    uint32_t a;    /* payload, meaning depends on kind */
    uint64_t b;
} apical_event;

typedef struct apical_queue {
    apical_event *heap;
    size_t n, cap;
    uint64_t next_seq;
} apical_queue;

void apical_queue_init(apical_queue *q);
void apical_queue_free(apical_queue *q);
/* Returns 0, or -1 when out of memory (the queue is unchanged). */
int apical_queue_push(apical_queue *q, double t, uint32_t kind, uint32_t a, uint64_t b);
/* Time of the earliest event, or +inf when empty. */
double apical_queue_top_time(const apical_queue *q);
/* Remove the earliest event into *ev. Returns 0, or -1 when empty. */
int apical_queue_pop(apical_queue *q, apical_event *ev);
static inline size_t apical_queue_size(const apical_queue *q) { return q->n; }

#endif
