// The weight gradient of a depthwise convolution (see ZooDepthwise.h). oneDNN 2.6 runs it on
// a generic kernel for most shapes (`jit:avx2` for 5×5 filters, an im2col GEMM when the filter
// is larger than the map): 10–21 ms per 5×5 layer on a 3×3 map at batch 32 (2 Zen 3 cores), where
// the layer's whole backward step (data and weights) now takes 0.6–2 ms.
#include "ZooDepthwise.h"
#include "ZooKernels.h"

#include <string.h>

/// The output range [*lo, *hi) whose tap at offset `offset` (a·d − pad) lands in [0, extent):
/// 0 ≤ o·stride + offset < extent.
static inline void tap_range(long offset, size_t stride, size_t extent, size_t outputs, size_t *lo, size_t *hi) {
    long s = (long)stride;
    long first = offset >= 0 ? 0 : (-offset + s - 1) / s;
    long end = (long)extent - offset <= 0 ? 0 : ((long)extent - offset + s - 1) / s;
    if (end > (long)outputs) end = (long)outputs;
    if (first > end) first = end;
    *lo = (size_t)first;
    *hi = (size_t)end;
}

/// One sample's contribution to channels [k, k + count) of every tap, scalar.
static void sample_portable(const float *x, const float *dy, float *dw, const zoo_depthwise_geometry *g, size_t k,
                            size_t count) {
    const size_t c = g->channels;
    for (size_t a = 0; a < g->kernel_height; a++) {
        size_t p0, p1;
        tap_range((long)(a * g->dilation_height) - (long)g->pad_top, g->stride_height, g->height, g->out_height, &p0, &p1);
        for (size_t b = 0; b < g->kernel_width; b++) {
            size_t q0, q1;
            long column = (long)(b * g->dilation_width) - (long)g->pad_left;
            tap_range(column, g->stride_width, g->width, g->out_width, &q0, &q1);
            float *sum = dw + (a * g->kernel_width + b) * c + k;
            for (size_t p = p0; p < p1; p++) {
                const size_t row = p * g->stride_height + a * g->dilation_height - g->pad_top;
                const float *xr = x + row * g->width * c + k, *dr = dy + p * g->out_width * c + k;
                for (size_t q = q0; q < q1; q++) {
                    const float *xs = xr + (size_t)((long)(q * g->stride_width) + column) * c, *ds = dr + q * c;
                    for (size_t j = 0; j < count; j++) sum[j] += ds[j] * xs[j];
                }
            }
        }
    }
}

static void bias_portable(const float *dy, float *db, size_t positions, size_t c, size_t k, size_t count) {
    for (size_t r = 0; r < positions; r++)
        for (size_t j = 0; j < count; j++) db[k + j] += dy[r * c + k + j];
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

/// sample_portable for `lanes` × 8 channels from k (lanes 1 or 2) and the `taps` (≤ 5) taps of
/// each kernel row from column b0: per kernel row a, their sums stay in registers over the rows p
/// and columns q (each dy piece loaded once for the row's taps: taps · lanes independent sums,
/// where one tap at a time is a single chain of dependent adds), added in the same order.
AVX2 __attribute__((always_inline)) static inline void tap_group_avx2(const float *x, const float *dy, float *dw,
                                                                     const zoo_depthwise_geometry *g, size_t k, size_t b0,
                                                                     const int lanes, const int taps) {
    const size_t c = g->channels;
    size_t q0[5], q1[5];
    long column[5];
    for (int b = 0; b < taps; b++) {
        column[b] = (long)((b0 + (size_t)b) * g->dilation_width) - (long)g->pad_left;
        tap_range(column[b], g->stride_width, g->width, g->out_width, &q0[b], &q1[b]);
    }
    for (size_t a = 0; a < g->kernel_height; a++) {
        size_t p0, p1;
        tap_range((long)(a * g->dilation_height) - (long)g->pad_top, g->stride_height, g->height, g->out_height, &p0, &p1);
        float *sum = dw + (a * g->kernel_width + b0) * c + k;
        __m256 s[5][2];
        for (int b = 0; b < taps; b++)
            for (int l = 0; l < lanes; l++) s[b][l] = _mm256_loadu_ps(sum + (size_t)b * c + 8 * l);
        for (size_t p = p0; p < p1; p++) {
            const size_t row = p * g->stride_height + a * g->dilation_height - g->pad_top;
            const float *xr = x + row * g->width * c + k, *dr = dy + p * g->out_width * c + k;
            for (size_t q = 0; q < g->out_width; q++) {
                const float *ds = dr + q * c;
                __m256 d[2];
                for (int l = 0; l < lanes; l++) d[l] = _mm256_loadu_ps(ds + 8 * l);
                const long base = (long)(q * g->stride_width);
                for (int b = 0; b < taps; b++) {
                    if (q < q0[b] || q >= q1[b]) continue;
                    const float *xs = xr + (size_t)(base + column[b]) * c;
                    for (int l = 0; l < lanes; l++) s[b][l] = _mm256_add_ps(s[b][l], _mm256_mul_ps(d[l], _mm256_loadu_ps(xs + 8 * l)));
                }
            }
        }
        for (int b = 0; b < taps; b++)
            for (int l = 0; l < lanes; l++) _mm256_storeu_ps(sum + (size_t)b * c + 8 * l, s[b][l]);
    }
}

#define TAP_GROUP(lanes, taps) \
    AVX2 static void tap_group_##lanes##_##taps(const float *x, const float *dy, float *dw, const zoo_depthwise_geometry *g, \
                                                size_t k, size_t b0) { tap_group_avx2(x, dy, dw, g, k, b0, lanes, taps); }
TAP_GROUP(1, 1) TAP_GROUP(1, 2) TAP_GROUP(1, 3) TAP_GROUP(1, 4) TAP_GROUP(1, 5)
TAP_GROUP(2, 1) TAP_GROUP(2, 2) TAP_GROUP(2, 3) TAP_GROUP(2, 4) TAP_GROUP(2, 5)

typedef void (*tap_group_kernel)(const float *, const float *, float *, const zoo_depthwise_geometry *, size_t, size_t);
static const tap_group_kernel tap_groups[2][5] = {
    {tap_group_1_1, tap_group_1_2, tap_group_1_3, tap_group_1_4, tap_group_1_5},
    {tap_group_2_1, tap_group_2_2, tap_group_2_3, tap_group_2_4, tap_group_2_5},
};

/// sample_portable for `lanes` × 8 channels from k: each kernel row's taps in groups of up to 5.
static void sample_avx2(const float *x, const float *dy, float *dw, const zoo_depthwise_geometry *g, size_t k, int lanes) {
    for (size_t b0 = 0; b0 < g->kernel_width; b0 += 5) {
        const size_t taps = g->kernel_width - b0 < 5 ? g->kernel_width - b0 : 5;
        tap_groups[lanes - 1][taps - 1](x, dy, dw, g, k, b0);
    }
}

AVX2 static void bias_avx2(const float *dy, float *db, size_t positions, size_t c, size_t k, size_t count) {
    size_t j = 0;
    for (; j + 8 <= count; j += 8) {
        __m256 s = _mm256_loadu_ps(db + k + j);
        for (size_t r = 0; r < positions; r++) s = _mm256_add_ps(s, _mm256_loadu_ps(dy + r * c + k + j));
        _mm256_storeu_ps(db + k + j, s);
    }
    bias_portable(dy, db, positions, c, k + j, count - j);
}
#endif

void zoo_depthwise_weight_gradient(const float *x, const float *dy, float *dw, float *db, const zoo_depthwise_geometry *g,
                                   size_t first, size_t last) {
    const size_t c = g->channels, taps = g->kernel_height * g->kernel_width;
    if (first >= last) return;
    for (size_t t = 0; t < taps; t++) memset(dw + t * c + first, 0, (last - first) * sizeof(float));
    if (db) memset(db + first, 0, (last - first) * sizeof(float));
    const size_t in_size = g->height * g->width * c, out_positions = g->out_height * g->out_width;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    const int avx2 = zoo_kernels_vector_width() == 8;
#endif
    for (size_t n = 0; n < g->batch; n++) {
        const float *xn = x + n * in_size, *dn = dy + n * out_positions * c;
        size_t k = first;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
        if (avx2) {
            for (; k + 16 <= last; k += 16) sample_avx2(xn, dn, dw, g, k, 2);
            for (; k + 8 <= last; k += 8) sample_avx2(xn, dn, dw, g, k, 1);
            if (db) bias_avx2(dn, db, out_positions, c, first, last - first);
        } else if (db) {
            bias_portable(dn, db, out_positions, c, first, last - first);
        }
#else
        if (db) bias_portable(dn, db, out_positions, c, first, last - first);
#endif
        if (k < last) sample_portable(xn, dn, dw, g, k, last - k);
    }
}
