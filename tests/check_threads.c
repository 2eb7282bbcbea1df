/* The thread pool (sim/threads.c): every job of every generation runs exactly
 * once, whatever thread claims it, including when generations follow each
 * other faster than a worker wakes (a worker late by a generation must claim
 * nothing of the next one), and with fewer, equal or more jobs than threads. */
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "../sim/threads.h"

enum { MAX_JOBS = 7, GENERATIONS = 20000 };

typedef struct {
    atomic_uint runs[MAX_JOBS];
    unsigned generation;         /* written by the caller between runs */
    atomic_uint wrong_generation; /* a job that saw another generation's data */
    unsigned seen[MAX_JOBS];     /* last generation each job ran in */
} counts;

static void count_job(void *arg, unsigned job)
{
    counts *c = arg;
    atomic_fetch_add(&c->runs[job], 1);
    if (c->seen[job] + 1 != c->generation)
        atomic_fetch_add(&c->wrong_generation, 1);
    c->seen[job] = c->generation;
}

static void run_generations(unsigned threads, unsigned n_jobs)
{
    thread_pool *pool = apical_pool_new(threads, MAX_JOBS);
    ck_assert_ptr_nonnull(pool);
    counts *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    for (unsigned g = 1; g <= GENERATIONS; g++) {
        c->generation = g;
        apical_pool_run(pool, n_jobs, count_job, c);
    }
    apical_pool_free(pool);
    for (unsigned j = 0; j < MAX_JOBS; j++) {
        const unsigned runs = atomic_load(&c->runs[j]);
        ck_assert_msg(runs == (j < n_jobs ? GENERATIONS : 0),
                      "%u threads, %u jobs: job %u ran %u times in %u generations", threads,
                      n_jobs, j, runs, GENERATIONS);
    }
    const unsigned wrong = atomic_load(&c->wrong_generation);
    ck_assert_msg(wrong == 0, "%u job runs saw another generation's data", wrong);
    free(c);
}

START_TEST(test_pool_each_job_once)
{
    static const unsigned shapes[][2] = {{2, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 7}, {4, 4}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++)
        run_generations(shapes[k][0], shapes[k][1]);
}
END_TEST

/* More jobs than the pool was made for: run on the caller, still once each. */
START_TEST(test_pool_more_jobs_than_slots)
{
    thread_pool *pool = apical_pool_new(2, 2);
    ck_assert_ptr_nonnull(pool);
    counts *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    for (unsigned g = 1; g <= 100; g++) {
        c->generation = g;
        apical_pool_run(pool, 5, count_job, c);
    }
    apical_pool_free(pool);
    for (unsigned j = 0; j < 5; j++)
        ck_assert_uint_eq(atomic_load(&c->runs[j]), 100);
    ck_assert_uint_eq(atomic_load(&c->wrong_generation), 0);
    free(c);
}
END_TEST

/* A worker that has gone to sleep between runs (it polls ~20 000 yields,
 * then waits on the condition variable) is woken by the next run. Job 0,
 * claimed by the caller, waits for job 1 to start: only a worker can run
 * job 1 then, so a missed wake-up shows as a wait that times out (the pool
 * broadcasts only when a worker sleeps, and a sleeper counted late would
 * miss the generation). */
typedef struct {
    atomic_int started1;
    atomic_int timeouts;
} rendezvous;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void rendezvous_job(void *arg, unsigned job)
{
    rendezvous *r = arg;
    if (job == 1) {
        atomic_store(&r->started1, 1);
        return;
    }
    const double t0 = now_s();
    while (!atomic_load(&r->started1))
        if (now_s() - t0 > 5.0) { /* a worker wakes within a time slice */
            atomic_fetch_add(&r->timeouts, 1);
            return;
        }
}

START_TEST(test_pool_wakes_sleeping_worker)
{
    thread_pool *pool = apical_pool_new(2, 2);
    ck_assert_ptr_nonnull(pool);
    for (int k = 0; k < 4; k++) {
        /* long enough for the worker's polling to end in a sleep */
        nanosleep(&(struct timespec){0, 150 * 1000 * 1000}, NULL);
        rendezvous r = {0};
        apical_pool_run(pool, 2, rendezvous_job, &r);
        ck_assert_msg(atomic_load(&r.timeouts) == 0, "run %d: the sleeping worker was not woken",
                      k);
    }
    apical_pool_free(pool);
}
END_TEST

Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pool_each_job_once);
    tcase_add_test(tc, test_pool_more_jobs_than_slots);
    tcase_add_test(tc, test_pool_wakes_sleeping_worker);
    suite_add_tcase(s, tc);
    return s;
}
