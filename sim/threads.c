#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Windows are short (0.1 ms of simulated time is ~100 us of work), so a
 * condition-variable handshake per window costs more than the work. Jobs
 * are claimed from a shared counter, the calling thread included: when a
 * worker has not woken (a busy machine, more threads than free cores), the
 * caller runs its jobs instead of waiting a whole time slice for it. Workers
 * spin briefly, then poll while yielding the core, and only then sleep. */
enum { SPIN = 2000, YIELDS_BEFORE_SLEEP = 20000 };

struct thread_pool {
    unsigned size;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go;
    atomic_ulong generation;
    atomic_uint next_job; /* next job index to claim */
    atomic_uint done;     /* jobs finished in this generation */
    atomic_int quit;
    atomic_uint n_jobs;
    apical_job_fn fn;
    void *arg;
};

static void run_jobs(thread_pool *pool)
{
    for (;;) {
        unsigned j = atomic_fetch_add_explicit(&pool->next_job, 1, memory_order_acq_rel);
        if (j >= atomic_load_explicit(&pool->n_jobs, memory_order_acquire))
            return;
        pool->fn(pool->arg, j);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

static void *worker(void *p)
{
    thread_pool *pool = p;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit) && spins < SPIN + YIELDS_BEFORE_SLEEP)
            if (++spins > SPIN)
                sched_yield();
        if (g == seen && !atomic_load(&pool->quit)) {
            pthread_mutex_lock(&pool->mu);
            while ((g = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->go, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->quit))
            break;
        seen = g;
        run_jobs(pool);
    }
    return NULL;
}

thread_pool *apical_pool_new(unsigned size)
{
    thread_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->size = size ? size : 1;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->go, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->next_job, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->quit, 0);
    atomic_init(&pool->n_jobs, 0);
    if (pool->size > 1) {
        pool->tid = calloc(pool->size, sizeof *pool->tid);
        if (!pool->tid) {
            apical_pool_free(pool);
            return NULL;
        }
        for (unsigned i = 1; i < pool->size; i++)
            if (pthread_create(&pool->tid[i], NULL, worker, pool)) {
                pool->size = i; /* join only the ones started */
                apical_pool_free(pool);
                return NULL;
            }
    }
    return pool;
}

void apical_pool_run(thread_pool *pool, unsigned n_jobs, apical_job_fn fn, void *arg)
{
    if (pool->size == 1) {
        for (unsigned j = 0; j < n_jobs; j++)
            fn(arg, j);
        return;
    }
    /* Publish the jobs before opening the counter: a worker that claims an
     * index below n_jobs then sees this generation's fn and arg. */
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->n_jobs, n_jobs, memory_order_release);
    atomic_store_explicit(&pool->next_job, 0, memory_order_release);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->mu);
    run_jobs(pool);
    unsigned spins = 0;
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < n_jobs)
        if (++spins > SPIN)
            sched_yield();
    /* Close the counter so a late worker claims nothing of a finished
     * generation. */
    atomic_store_explicit(&pool->n_jobs, 0, memory_order_release);
}

void apical_pool_free(thread_pool *pool)
{
    if (!pool)
        return;
    if (pool->tid) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->quit, 1);
        pthread_cond_broadcast(&pool->go);
        pthread_mutex_unlock(&pool->mu);
        for (unsigned i = 1; i < pool->size; i++)
            pthread_join(pool->tid[i], NULL);
        free(pool->tid);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->go);
    free(pool);
}
