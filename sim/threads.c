#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Windows are short (0.1 ms of simulated time is ~100 us of work), so a
 * condition-variable handshake per window costs more than the work. Workers
 * spin on a generation counter for a while and only then sleep. */
enum { SPIN_BEFORE_SLEEP = 200000 };

struct thread_pool {
    unsigned size;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go;
    atomic_ulong generation;
    atomic_uint pending;
    atomic_int quit;
    unsigned n_jobs;
    apical_job_fn fn;
    void *arg;
};

typedef struct worker_arg {
    thread_pool *pool;
    unsigned index;
} worker_arg;

static void run_share(thread_pool *pool, unsigned index)
{
    for (unsigned j = index; j < pool->n_jobs; j += pool->size)
        pool->fn(pool->arg, j);
}

static void *worker(void *p)
{
    worker_arg wa = *(worker_arg *)p;
    free(p);
    thread_pool *pool = wa.pool;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit) && spins < SPIN_BEFORE_SLEEP)
            spins++;
        if (g == seen && !atomic_load(&pool->quit)) {
            pthread_mutex_lock(&pool->mu);
            while ((g = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->go, &pool->mu);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->quit))
            break;
        seen = g;
        run_share(pool, wa.index);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
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
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->quit, 0);
    if (pool->size > 1) {
        pool->tid = calloc(pool->size, sizeof *pool->tid);
        if (!pool->tid) {
            apical_pool_free(pool);
            return NULL;
        }
        for (unsigned i = 1; i < pool->size; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (wa)
                *wa = (worker_arg){pool, i};
            if (!wa || pthread_create(&pool->tid[i], NULL, worker, wa)) {
                free(wa);
                pool->size = i; /* join only the ones started */
                apical_pool_free(pool);
                return NULL;
            }
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
    pool->n_jobs = n_jobs;
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->pending, pool->size - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->mu);
    run_share(pool, 0);
    unsigned spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire))
        if (++spins > 1000)
            sched_yield();
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
