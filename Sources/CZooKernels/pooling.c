// Max pooling's inference forward on NHWC maps (see ZooPooling.h). Per output pixel the window's
// cells inside the input, channels innermost: each cell is one contiguous run of C floats, the
// running maximum of a 32-channel piece stays in four registers.
#include "ZooPooling.h"
#include "ZooKernels.h"

#include <math.h>

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
#endif

void zoo_max_pool_rows(const float *x, float *y, const zoo_pool_geometry *g, size_t first, size_t count) {
    const size_t c = g->channels;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    const int avx2 = zoo_kernels_vector_width() == 8;
#endif
    for (size_t r = first; r < first + count; r++) {
        const size_t image = r / g->out_height, p = r % g->out_height;
        const float *source = x + image * g->height * g->width * c;
        for (size_t q = 0; q < g->out_width; q++) {
            float *out = y + (r * g->out_width + q) * c;
            size_t h0, h1, w0, w1;
            window(g, p, q, &h0, &h1, &w0, &w1);
            if (h0 >= h1 || w0 >= w1) {  // a window wholly in the padding (shapes never build one)
                for (size_t k = 0; k < c; k++) out[k] = -INFINITY;
                continue;
            }
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
            if (avx2) { max_pixel_avx2(source, out, g, h0, h1, w0, w1); continue; }
#endif
            max_pixel_portable(source, out, g, h0, h1, w0, w1);
        }
    }
}
