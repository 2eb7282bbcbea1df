#include "threads.h"

#include <pthread.h>
#include <stdlib.h>

struct thread_pool {
    unsigned size;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;
    unsigned pending;
    int quit;
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
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->generation == seen && !pool->quit)
            pthread_cond_wait(&pool->go, &pool->mu);
        if (pool->quit)
            break;
        seen = pool->generation;
        pthread_mutex_unlock(&pool->mu);
        run_share(pool, wa.index);
        pthread_mutex_lock(&pool->mu);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->mu);
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
    pthread_cond_init(&pool->done, NULL);
    if (pool->size > 1) {
        pool->tid = calloc(pool->size, sizeof *pool->tid);
        if (!pool->tid) {
            apical_pool_free(pool);
            return NULL;
        }
        for (unsigned i = 1; i < pool->size; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa || pthread_create(&pool->tid[i], NULL, worker, wa ? (*wa = (worker_arg){pool, i}, wa) : NULL)) {
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
    pthread_mutex_lock(&pool->mu);
    pool->n_jobs = n_jobs;
    pool->fn = fn;
    pool->arg = arg;
    pool->pending = pool->size - 1;
    pool->generation++;
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->mu);
    run_share(pool, 0);
    pthread_mutex_lock(&pool->mu);
    while (pool->pending)
        pthread_cond_wait(&pool->done, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void apical_pool_free(thread_pool *pool)
{
    if (!pool)
        return;
    if (pool->tid) {
        pthread_mutex_lock(&pool->mu);
        pool->quit = 1;
        pthread_cond_broadcast(&pool->go);
        pthread_mutex_unlock(&pool->mu);
        for (unsigned i = 1; i < pool->size; i++)
            pthread_join(pool->tid[i], NULL);
        free(pool->tid);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->go);
    pthread_cond_destroy(&pool->done);
    free(pool);
}
