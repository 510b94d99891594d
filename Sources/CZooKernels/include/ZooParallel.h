// ZooNet's compute threads are OpenMP's (libgomp): the team oneDNN runs its primitives on.
// One thread team for the whole engine means no oversubscription and no second set of spinning
// workers competing for the cores: ZooNet's own element-wise regions and oneDNN's primitives
// take turns on the same threads. The package is compiled without -fopenmp (no unsafe flags),
// so regions are opened through libgomp's stable entry point GOMP_parallel, the call GCC emits
// for `#pragma omp parallel`.
#ifndef ZOO_PARALLEL_H
#define ZOO_PARALLEL_H

/// Work of one part of a region: `run(context, part)`.
typedef void (*zoo_part_function)(const void *context, long part);

/// Runs `run(context, part)` for every part in [0, parts), each exactly once, on at most
/// `threads` threads of the OpenMP team (the caller included); returns when all are done.
/// The parts are cut into one contiguous band per thread: thread t claims the parts of band t
/// first, in order, then whatever is left in the other bands, so balanced threads each work on
/// their own stretch (the same stretch of a tensor in every region, cache-local) and a thread
/// that starts late finds its band done by the others.
/// Inside another region (nested) or with threads <= 1 or parts <= 1 the parts run inline,
/// in order, on the calling thread.
void zoo_parallel_for(zoo_part_function run, const void *context, long parts, int threads);

/// Banded claiming on (nonzero, the default) or off (zero: every thread claims the next part
/// of one shared counter).
void zoo_set_banded_parts(int on);

/// Sets the calling thread's OpenMP thread count (the `nthreads-var` ICV that oneDNN's
/// primitives read when they run), if it differs.
void zoo_set_team_size(int threads);

/// The calling thread's OpenMP thread count.
int zoo_team_size(void);

/// Nonzero inside a region opened by zoo_parallel_for (or any active OpenMP region).
int zoo_in_parallel(void);

/// The calling thread's number in the innermost active region (0 … threads − 1; 0 outside any
/// region): which per-thread resources a part may use.
int zoo_thread_index(void);

#endif
