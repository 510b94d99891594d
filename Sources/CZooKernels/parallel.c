#include "ZooParallel.h"

// libgomp's ABI (stable since GCC 4.9) and the OpenMP runtime calls ZooNet needs. Declared
// here so the package needs no -fopenmp and no omp.h on the include path.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int);
extern int omp_in_parallel(void);
extern int omp_get_thread_num(void);

// Parts are cut into one contiguous band per thread; each thread claims the parts of its own
// band first (in order), then those left in the other bands. Parts are numbered in memory
// order by every region (rows, images, strips), so with balanced threads thread t works on
// the same stretch of each tensor in every region, as oneDNN's primitives (which give thread t
// the t-th stretch of the batch) do: a map written by one core is read and written again by
// that core, from its own cache. When the two cores of a VM sit on different dies of the host,
// a line taken from the other core costs a 300 ns round trip instead of 60-100; a thread the
// host slows down still has its band finished by the others.
#define ZOO_MAX_BANDS 64

struct band {
    long next;  // claimed with __atomic_fetch_add
    long end;
} __attribute__((aligned(64)));  // one cache line per band: claims on different bands do not share lines

struct region {
    zoo_part_function run;
    const void *context;
    int bands;
    struct band band[ZOO_MAX_BANDS];
};

static int banded = 1;

void zoo_set_banded_parts(int on) { __atomic_store_n(&banded, on ? 1 : 0, __ATOMIC_RELAXED); }

static void run_band(struct region *region, struct band *band) {
    for (;;) {
        long part = __atomic_fetch_add(&band->next, 1, __ATOMIC_RELAXED);
        if (part >= band->end) return;
        region->run(region->context, part);
    }
}

static void run_parts(void *data) {
    struct region *region = data;
    int first = omp_get_thread_num() % region->bands;
    for (int k = 0; k < region->bands; k++) run_band(region, &region->band[(first + k) % region->bands]);
}

void zoo_parallel_for(zoo_part_function run, const void *context, long parts, int threads) {
    if (parts <= 0) return;
    if (threads > parts) threads = (int)parts;
    if (threads <= 1 || omp_in_parallel()) {
        for (long part = 0; part < parts; part++) run(context, part);
        return;
    }
    if (threads > ZOO_MAX_BANDS) threads = ZOO_MAX_BANDS;
    struct region region;
    region.run = run;
    region.context = context;
    // One band of all the parts: any thread claims the next part (the order of the unbanded mode).
    region.bands = __atomic_load_n(&banded, __ATOMIC_RELAXED) ? threads : 1;
    for (int b = 0; b < region.bands; b++) {
        region.band[b].next = parts * b / region.bands;
        region.band[b].end = parts * (b + 1) / region.bands;
    }
    // GOMP_parallel returns after the team's closing barrier: every part has run.
    GOMP_parallel(run_parts, &region, (unsigned)threads, 0);
}

void zoo_set_team_size(int threads) {
    if (threads >= 1 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

int zoo_team_size(void) { return omp_get_max_threads(); }

int zoo_in_parallel(void) { return omp_in_parallel(); }

int zoo_thread_index(void) { return omp_get_thread_num(); }
