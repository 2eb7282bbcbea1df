/* A fixed pool of worker threads that run "for p in 0..n-1: fn(arg, p)" with
 * the calling thread taking part. Job p runs on thread p mod size when that
 * thread is awake, so a partition keeps its core's cache; an idle thread
 * takes jobs left unclaimed, so which thread runs a partition can vary;
 * results never depend on it. */
#ifndef APICAL_THREADS_H
#define APICAL_THREADS_H

typedef struct thread_pool thread_pool;
typedef void (*apical_job_fn)(void *arg, unsigned job);

/* size >= 1; size 1 starts no thread. A run of more than max_jobs jobs runs
 * them all on the caller. NULL when threads cannot start. */
thread_pool *apical_pool_new(unsigned size, unsigned max_jobs);
void apical_pool_run(thread_pool *pool, unsigned n_jobs, apical_job_fn fn, void *arg);
void apical_pool_free(thread_pool *pool);

#endif
