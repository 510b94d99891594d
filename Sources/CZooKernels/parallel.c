#include "ZooParallel.h"

// libgomp's ABI (stable since GCC 4.9) and the OpenMP runtime calls ZooNet needs. Declared
// here so the package needs no -fopenmp and no omp.h on the include path.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int);
extern int omp_in_parallel(void);
extern int omp_get_thread_num(void);

struct region {
    zoo_part_function run;
    const void *context;
    long parts;
    long next;  // claimed with __atomic_fetch_add
};

static void run_parts(void *data) {
    struct region *region = data;
    for (;;) {
        long part = __atomic_fetch_add(&region->next, 1, __ATOMIC_RELAXED);
        if (part >= region->parts) return;
        region->run(region->context, part);
    }
}

void zoo_parallel_for(zoo_part_function run, const void *context, long parts, int threads) {
    if (parts <= 0) return;
    if (threads > parts) threads = (int)parts;
    if (threads <= 1 || omp_in_parallel()) {
        for (long part = 0; part < parts; part++) run(context, part);
        return;
    }
    struct region region = {run, context, parts, 0};
    // GOMP_parallel returns after the team's closing barrier: every part has run.
    GOMP_parallel(run_parts, &region, (unsigned)threads, 0);
}

void zoo_set_team_size(int threads) {
    if (threads >= 1 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

int zoo_team_size(void) { return omp_get_max_threads(); }

int zoo_in_parallel(void) { return omp_in_parallel(); }

int zoo_thread_index(void) { return omp_get_thread_num(); }
