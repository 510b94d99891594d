// Direct convolutions on NHWC maps (see ZooDirectConvolution.h).
//
// Why ZooNet has its own: oneDNN 2.6's AVX2 direct kernel (`jit:avx2`) is written for the
// blocked layout nChw8c; on NHWC maps it falls back to a slower path, and even on nChw8c it ran
// ResNet-50's stride-2 and 7×7 3×3 convolutions at 66–81 GFLOP/s on 2 Zen 3 cores where ONNX
// Runtime's NCHWc kernels (MLAS) ran them at 110–135 (profiles of 2026-12-01). This is the
// register tile such kernels use, on NHWC directly (no reorders).
#include "ZooDirectConvolution.h"
#include "ZooKernels.h"
#include "ZooParallel.h"

#include <math.h>
#include <string.h>

#define TILE 6         // output pixels per register tile
#define BLOCK 16       // output channels per register tile
#define MAX_CHANNELS 8192
#define MAX_TAPS 64    // taps of the kernel (8×8; a tile's pointer table is on the stack)

size_t zoo_direct_packed_count(const zoo_direct_geometry *g) {
    return (size_t)(g->kernel_height * g->kernel_width * g->in_channels * g->out_channels);
}

void zoo_direct_pack(const zoo_direct_geometry *g, const float *hwio, float *packed) {
    const long taps = g->kernel_height * g->kernel_width, C = g->in_channels, K = g->out_channels;
    for (long b = 0; b < K / BLOCK; b++)
        for (long t = 0; t < taps; t++)
            for (long c = 0; c < C; c++) {
                const float *from = hwio + (t * C + c) * K + b * BLOCK;
                float *to = packed + ((b * taps + t) * C + c) * BLOCK;
                memcpy(to, from, BLOCK * sizeof(float));
            }
}

zoo_direct_schedule zoo_direct_default_schedule(const zoo_direct_geometry *g, int threads, long l2_bytes) {
    const long blocks = g->out_channels / BLOCK;
    const long block_bytes = g->kernel_height * g->kernel_width * g->in_channels * BLOCK * (long)sizeof(float);
    long per_group = (l2_bytes / 2) / (block_bytes > 0 ? block_bytes : 1);
    if (per_group < 1) per_group = 1;
    if (per_group > blocks) per_group = blocks;
    const long groups = (blocks + per_group - 1) / per_group;
    const long pixels = g->batch * g->out_height * g->out_width, tiles = (pixels + TILE - 1) / TILE;
    long wanted = 4L * (threads > 0 ? threads : 1);
    long chunks = (wanted + groups - 1) / groups;
    if (chunks < 1) chunks = 1;
    if (chunks > tiles) chunks = tiles;
    zoo_direct_schedule s = {per_group, (tiles + chunks - 1) / chunks};
    return s;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// Zeros that taps in the padding read (in_channels ≤ MAX_CHANNELS).
static const float zeros[MAX_CHANNELS] __attribute__((aligned(64)));

#define KERNEL __attribute__((target("avx2,fma")))

/// R pixels × 16 channels: acc[r] += Σ_t Σ_c x_t,r[c] · w_t[c][0..<16] over `taps` taps, tap t
/// reading pixel r's channels at pixel[t·R + r] and the weights at w + tap[t]·C·16.
#define DEFINE_TILE(R)                                                                                              \
    KERNEL static void tile_##R(const float *const *pixel, const long *tap, long taps, long C, const float *w,      \
                                const float *bias, const zoo_direct_epilogue *e, float *const *out) {              \
        __m256 a0[R], a1[R];                                                                                        \
        const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();                                       \
        const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();                                   \
        for (int r = 0; r < R; r++) { a0[r] = b0; a1[r] = b1; }                                                     \
        for (long t = 0; t < taps; t++) {                                                                           \
            const float *p[R];                                                                                      \
            for (int r = 0; r < R; r++) p[r] = pixel[t * R + r];                                                    \
            const float *wt = w + tap[t] * C * BLOCK;                                                               \
            for (long c = 0; c < C; c++, wt += BLOCK) {                                                             \
                const __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8);                                \
                for (int r = 0; r < R; r++) {                                                                       \
                    const __m256 v = _mm256_broadcast_ss(p[r] + c);                                                 \
                    a0[r] = _mm256_fmadd_ps(v, w0, a0[r]);                                                          \
                    a1[r] = _mm256_fmadd_ps(v, w1, a1[r]);                                                          \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
        /* A NaN stays NaN: max_ps and min_ps return their second operand when either is NaN. */                    \
        const __m256 l1 = _mm256_set1_ps(e->lo1), h1 = _mm256_set1_ps(e->hi1);                                      \
        const __m256 l2 = _mm256_set1_ps(e->lo2), h2 = _mm256_set1_ps(e->hi2);                                      \
        for (int r = 0; r < R; r++) {                                                                               \
            __m256 v0 = _mm256_min_ps(h1, _mm256_max_ps(l1, a0[r])), v1 = _mm256_min_ps(h1, _mm256_max_ps(l1, a1[r])); \
            if (e->sum) {                                                                                           \
                v0 = _mm256_min_ps(h2, _mm256_max_ps(l2, _mm256_add_ps(v0, _mm256_loadu_ps(out[r]))));              \
                v1 = _mm256_min_ps(h2, _mm256_max_ps(l2, _mm256_add_ps(v1, _mm256_loadu_ps(out[r] + 8))));          \
            }                                                                                                       \
            _mm256_storeu_ps(out[r], v0);                                                                           \
            _mm256_storeu_ps(out[r] + 8, v1);                                                                       \
        }                                                                                                           \
    }

DEFINE_TILE(1)
DEFINE_TILE(2)
DEFINE_TILE(3)
DEFINE_TILE(4)
DEFINE_TILE(5)
DEFINE_TILE(6)

typedef void (*tile_function)(const float *const *, const long *, long, long, const float *, const float *,
                              const zoo_direct_epilogue *, float *const *);
static const tile_function tiles_by_width[TILE + 1] = {0, tile_1, tile_2, tile_3, tile_4, tile_5, tile_6};

struct job {
    const zoo_direct_geometry *g;
    const zoo_direct_schedule *s;
    const float *x, *packed, *bias;
    const zoo_direct_epilogue *e;
    float *y;
    long chunks, tiles, pixels;
};

/// One part: the tiles of one chunk against the blocks of one group.
static void run_part(const void *context, long part) {
    const struct job *job = context;
    const zoo_direct_geometry *g = job->g;
    const long group = part / job->chunks, chunk = part % job->chunks;
    const long blocks = g->out_channels / BLOCK;
    const long first_block = group * job->s->blocks_per_group;
    long last_block = first_block + job->s->blocks_per_group;
    if (last_block > blocks) last_block = blocks;
    const long first_tile = chunk * job->s->tiles_per_chunk;
    long last_tile = first_tile + job->s->tiles_per_chunk;
    if (last_tile > job->tiles) last_tile = job->tiles;
    const long C = g->in_channels, K = g->out_channels, taps = g->kernel_height * g->kernel_width;
    const long map = g->out_height * g->out_width;

    const float *pixel[MAX_TAPS * TILE];
    long tap[MAX_TAPS];
    float *out[TILE];
    for (long tile = first_tile; tile < last_tile; tile++) {
        const long first_pixel = tile * TILE;
        int width = (int)(job->pixels - first_pixel < TILE ? job->pixels - first_pixel : TILE);
        long n[TILE], iy[TILE], ix[TILE];
        for (int r = 0; r < width; r++) {
            const long q = first_pixel + r, m = q % map;
            n[r] = q / map;
            iy[r] = (m / g->out_width) * g->stride_y - g->pad_top;
            ix[r] = (m % g->out_width) * g->stride_x - g->pad_left;
            out[r] = job->y + q * K;
        }
        // The pointer table, built once for all blocks of the group: taps in the padding for every
        // pixel of the tile are left out, the others read zeros for the pixels they miss.
        long used = 0;
        for (long t = 0; t < taps; t++) {
            const long ky = t / g->kernel_width, kx = t % g->kernel_width;
            int any = 0;
            for (int r = 0; r < width; r++) {
                const long y = iy[r] + ky * g->dilation_y, x = ix[r] + kx * g->dilation_x;
                const int inside = y >= 0 && y < g->height && x >= 0 && x < g->width;
                pixel[used * width + r] = inside ? job->x + ((n[r] * g->height + y) * g->width + x) * C : zeros;
                any |= inside;
            }
            if (any) tap[used++] = t;
        }
        for (long b = first_block; b < last_block; b++) {
            float *o[TILE];
            for (int r = 0; r < width; r++) o[r] = out[r] + b * BLOCK;
            tiles_by_width[width](pixel, tap, used, C, job->packed + b * taps * C * BLOCK,
                                  job->bias ? job->bias + b * BLOCK : NULL, job->e, o);
        }
    }
}

int zoo_direct_supports(const zoo_direct_geometry *g) {
    if (!zoo_cpu_has_avx2_fma()) return 0;
    if (g->batch < 1 || g->height < 1 || g->width < 1 || g->in_channels < 1 || g->out_height < 1 ||
        g->out_width < 1 || g->out_channels < BLOCK || g->kernel_height < 1 || g->kernel_width < 1 ||
        g->stride_y < 1 || g->stride_x < 1 || g->dilation_y < 1 || g->dilation_x < 1)
        return 0;
    return g->out_channels % BLOCK == 0 && g->in_channels <= MAX_CHANNELS &&
           g->kernel_height * g->kernel_width <= MAX_TAPS;
}

void zoo_direct_convolution(const zoo_direct_geometry *g, const zoo_direct_schedule *s, const float *x,
                            const float *packed, const float *bias, const zoo_direct_epilogue *e, float *y,
                            int threads) {
    struct job job = {g, s, x, packed, bias, e, y, 0, 0, 0};
    job.pixels = g->batch * g->out_height * g->out_width;
    job.tiles = (job.pixels + TILE - 1) / TILE;
    const long per_chunk = s->tiles_per_chunk > 0 ? s->tiles_per_chunk : job.tiles;
    zoo_direct_schedule fixed = {s->blocks_per_group > 0 ? s->blocks_per_group : 1, per_chunk};
    job.s = &fixed;
    job.chunks = (job.tiles + per_chunk - 1) / per_chunk;
    const long blocks = g->out_channels / BLOCK;
    const long groups = (blocks + fixed.blocks_per_group - 1) / fixed.blocks_per_group;
    zoo_parallel_for(run_part, &job, groups * job.chunks, threads);
}

#else
int zoo_direct_supports(const zoo_direct_geometry *g) { (void)g; return 0; }
void zoo_direct_convolution(const zoo_direct_geometry *g, const zoo_direct_schedule *s, const float *x,
                            const float *packed, const float *bias, const zoo_direct_epilogue *e, float *y,
                            int threads) {
    (void)g; (void)s; (void)x; (void)packed; (void)bias; (void)e; (void)y; (void)threads;
}
#endif
