// Max pooling on NHWC maps (see ZooPooling.h): the inference forward, and the training forward (with
// each maximum's cell) and backward. Per output pixel the window's cells inside the input, channels innermost:
// each cell is one contiguous run of C floats; a 32-channel piece's running maximum stays in four registers.
#include "ZooPooling.h"
#include "ZooKernels.h"

#include <math.h>
#include <string.h>

/// The window of output (p, q) clipped to the input: rows [*h0, *h1), columns [*w0, *w1).
static inline void window(const zoo_pool_geometry *g, size_t p, size_t q, size_t *h0, size_t *h1, size_t *w0, size_t *w1) {
    long top = (long)(p * g->stride_height) - (long)g->pad_top, left = (long)(q * g->stride_width) - (long)g->pad_left;
    long bottom = top + (long)g->kernel_height, right = left + (long)g->kernel_width;
    *h0 = top < 0 ? 0 : (size_t)top;
    *w0 = left < 0 ? 0 : (size_t)left;
    *h1 = bottom > (long)g->height ? g->height : (size_t)(bottom < 0 ? 0 : bottom);
    *w1 = right > (long)g->width ? g->width : (size_t)(right < 0 ? 0 : right);
}

// `m = v > m ? v : m`: what _mm256_max_ps(v, m) computes, NaN in m kept, NaN in v skipped.
static void max_pixel_portable(const float *x, float *out, const zoo_pool_geometry *g, size_t h0, size_t h1, size_t w0,
                               size_t w1) {
    const size_t c = g->channels;
    const float *first = x + (h0 * g->width + w0) * c;
    for (size_t k = 0; k < c; k++) out[k] = first[k];
    for (size_t i = h0; i < h1; i++)
        for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) {
            const float *cell = x + (i * g->width + j) * c;
            for (size_t k = 0; k < c; k++) out[k] = cell[k] > out[k] ? cell[k] : out[k];
        }
}

/// max_pixel_portable for the channels [k0, C) that also records each maximum's cell (index
/// within the image's input).
static void max_train_pixel_portable(const float *x, float *out, int32_t *win, const zoo_pool_geometry *g, size_t h0,
                                     size_t h1, size_t w0, size_t w1, size_t k0) {
    const size_t c = g->channels;
    const size_t first = (h0 * g->width + w0) * c;
    for (size_t k = k0; k < c; k++) { out[k] = x[first + k]; win[k] = (int32_t)(first + k); }
    for (size_t i = h0; i < h1; i++)
        for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) {
            const size_t cell = (i * g->width + j) * c;
            for (size_t k = k0; k < c; k++)
                if (x[cell + k] > out[k]) { out[k] = x[cell + k]; win[k] = (int32_t)(cell + k); }
        }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

AVX2 static void max_pixel_avx2(const float *x, float *out, const zoo_pool_geometry *g, size_t h0, size_t h1, size_t w0,
                                size_t w1) {
    const size_t c = g->channels, row = g->width * c;
    const float *first = x + (h0 * g->width + w0) * c;
    size_t k = 0;
    for (; k + 32 <= c; k += 32) {
        __m256 m0 = _mm256_loadu_ps(first + k), m1 = _mm256_loadu_ps(first + k + 8);
        __m256 m2 = _mm256_loadu_ps(first + k + 16), m3 = _mm256_loadu_ps(first + k + 24);
        for (size_t i = h0; i < h1; i++)
            for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) {
                const float *cell = x + i * row + j * c + k;
                m0 = _mm256_max_ps(_mm256_loadu_ps(cell), m0);
                m1 = _mm256_max_ps(_mm256_loadu_ps(cell + 8), m1);
                m2 = _mm256_max_ps(_mm256_loadu_ps(cell + 16), m2);
                m3 = _mm256_max_ps(_mm256_loadu_ps(cell + 24), m3);
            }
        _mm256_storeu_ps(out + k, m0); _mm256_storeu_ps(out + k + 8, m1);
        _mm256_storeu_ps(out + k + 16, m2); _mm256_storeu_ps(out + k + 24, m3);
    }
    for (; k + 8 <= c; k += 8) {
        __m256 m = _mm256_loadu_ps(first + k);
        for (size_t i = h0; i < h1; i++)
            for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) m = _mm256_max_ps(_mm256_loadu_ps(x + i * row + j * c + k), m);
        _mm256_storeu_ps(out + k, m);
    }
    for (; k < c; k++) {
        float m = first[k];
        for (size_t i = h0; i < h1; i++)
            for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) {
                float v = x[i * row + j * c + k];
                m = v > m ? v : m;
            }
        out[k] = m;
    }
}

AVX2 static void max_train_pixel_avx2(const float *x, float *out, int32_t *win, const zoo_pool_geometry *g, size_t h0,
                                      size_t h1, size_t w0, size_t w1) {
    const size_t c = g->channels;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t k = 0;
    for (; k + 8 <= c; k += 8) {
        const size_t first = (h0 * g->width + w0) * c + k;
        __m256 m = _mm256_loadu_ps(x + first);
        __m256i at = _mm256_add_epi32(_mm256_set1_epi32((int32_t)first), lane);
        for (size_t i = h0; i < h1; i++)
            for (size_t j = (i == h0 ? w0 + 1 : w0); j < w1; j++) {
                const size_t cell = (i * g->width + j) * c + k;
                __m256 v = _mm256_loadu_ps(x + cell);
                __m256 greater = _mm256_cmp_ps(v, m, _CMP_GT_OQ);
                m = _mm256_blendv_ps(m, v, greater);
                __m256i here = _mm256_add_epi32(_mm256_set1_epi32((int32_t)cell), lane);
                at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(here), greater));
            }
        _mm256_storeu_ps(out + k, m);
        _mm256_storeu_si256((__m256i *)(win + k), at);
    }
    max_train_pixel_portable(x, out, win, g, h0, h1, w0, w1, k);  // the last c - k < 8 channels
}
#endif

/// The output rows [first, first + count) of the batch: maxima into y, and with `winner` (training)
/// each maximum's cell.
static void max_pool_rows(const float *x, float *y, int32_t *winner, const zoo_pool_geometry *g, size_t first, size_t count) {
    const size_t c = g->channels;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    const int avx2 = zoo_kernels_vector_width() == 8;
#endif
    for (size_t r = first; r < first + count; r++) {
        const size_t image = r / g->out_height, p = r % g->out_height;
        const float *source = x + image * g->height * g->width * c;
        for (size_t q = 0; q < g->out_width; q++) {
            const size_t at = (r * g->out_width + q) * c;
            float *out = y + at;
            int32_t *win = winner ? winner + at : NULL;
            size_t h0, h1, w0, w1;
            window(g, p, q, &h0, &h1, &w0, &w1);
            if (h0 >= h1 || w0 >= w1) {  // a window wholly in the padding (shapes never build one)
                for (size_t k = 0; k < c; k++) out[k] = -INFINITY;
                if (win) for (size_t k = 0; k < c; k++) win[k] = -1;
                continue;
            }
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
            if (avx2) {
                if (win) max_train_pixel_avx2(source, out, win, g, h0, h1, w0, w1);
                else max_pixel_avx2(source, out, g, h0, h1, w0, w1);
                continue;
            }
#endif
            if (win) max_train_pixel_portable(source, out, win, g, h0, h1, w0, w1, 0);
            else max_pixel_portable(source, out, g, h0, h1, w0, w1);
        }
    }
}

void zoo_max_pool_rows(const float *x, float *y, const zoo_pool_geometry *g, size_t first, size_t count) {
    max_pool_rows(x, y, NULL, g, first, count);
}

void zoo_max_pool_train_rows(const float *x, float *y, int32_t *winner, const zoo_pool_geometry *g, size_t first,
                             size_t count) {
    max_pool_rows(x, y, winner, g, first, count);
}

void zoo_max_pool_backward_images(const float *dy, const int32_t *winner, float *dx, const zoo_pool_geometry *g,
                                  size_t first, size_t count) {
    const size_t in_size = g->height * g->width * g->channels, out_size = g->out_height * g->out_width * g->channels;
    for (size_t image = first; image < first + count; image++) {
        float *target = dx + image * in_size;
        memset(target, 0, in_size * sizeof(float));
        const float *gradient = dy + image * out_size;
        const int32_t *win = winner + image * out_size;
        for (size_t e = 0; e < out_size; e++)
            if (win[e] >= 0) target[win[e]] += gradient[e];
    }
}
