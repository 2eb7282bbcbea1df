/* A fixed pool of worker threads that run "for p in 0..n-1: fn(arg, p)" with
 * the calling thread taking part. Jobs are claimed from a shared counter, so
 * which thread runs a partition varies; results never depend on it. */
#ifndef APICAL_THREADS_H
#define APICAL_THREADS_H

typedef struct thread_pool thread_pool;
typedef void (*apical_job_fn)(void *arg, unsigned job);

/* size >= 1; size 1 starts no thread. NULL when threads cannot start. */
thread_pool *apical_pool_new(unsigned size);
void apical_pool_run(thread_pool *pool, unsigned n_jobs, apical_job_fn fn, void *arg);
void apical_pool_free(thread_pool *pool);

#endif
