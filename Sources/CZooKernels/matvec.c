// A dense layer's product on few rows, W streamed once (see ZooMatVec.h): one driver walks W four
// rows at a time and hands each (four rows of W, one row of x) to a portable or an AVX2 kernel.
#include "ZooMatVec.h"
#include "ZooKernels.h"

#include <string.h>

/// y[0..<n] += (a₀w₀ + a₁w₁) + (a₂w₂ + a₃w₃), w_i the rows of `w` `ldw` apart.
typedef void (*quad_kernel)(float *y, const float *w, size_t ldw, const float a[4], size_t n);
/// y[0..<n] += a·w.
typedef void (*single_kernel)(float *y, const float *w, float a, size_t n);

static void quad_portable(float *y, const float *w, size_t ldw, const float a[4], size_t n) {
    const float *w0 = w, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    for (size_t j = 0; j < n; j++) y[j] += (a[0] * w0[j] + a[1] * w1[j]) + (a[2] * w2[j] + a[3] * w3[j]);
}

static void single_portable(float *y, const float *w, float a, size_t n) {
    for (size_t j = 0; j < n; j++) y[j] += a * w[j];
}

static void matvec(const float *x, size_t ldx, size_t rows, const float *w, size_t ldw, size_t k, size_t n, float *y,
                   quad_kernel quad, single_kernel single) {
    memset(y, 0, rows * n * sizeof(float));
    size_t i = 0;
    for (; i + 4 <= k; i += 4)
        for (size_t r = 0; r < rows; r++) quad(y + r * n, w + i * ldw, ldw, x + r * ldx + i, n);
    for (; i < k; i++)
        for (size_t r = 0; r < rows; r++) single(y + r * n, w + i * ldw, x[r * ldx + i], n);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

AVX2 static void quad_avx2(float *y, const float *w, size_t ldw, const float a[4], size_t n) {
    const float *w0 = w, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    const __m256 a0 = _mm256_set1_ps(a[0]), a1 = _mm256_set1_ps(a[1]), a2 = _mm256_set1_ps(a[2]), a3 = _mm256_set1_ps(a[3]);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 s = _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(a0, _mm256_loadu_ps(w0 + j)), _mm256_mul_ps(a1, _mm256_loadu_ps(w1 + j))),
            _mm256_add_ps(_mm256_mul_ps(a2, _mm256_loadu_ps(w2 + j)), _mm256_mul_ps(a3, _mm256_loadu_ps(w3 + j))));
        _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_loadu_ps(y + j), s));
    }
    quad_portable(y + j, w + j, ldw, a, n - j);
}

AVX2 static void single_avx2(float *y, const float *w, float a, size_t n) {
    const __m256 va = _mm256_set1_ps(a);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_loadu_ps(y + j), _mm256_mul_ps(va, _mm256_loadu_ps(w + j))));
    single_portable(y + j, w + j, a, n - j);
}
#endif

void zoo_matvec_rows(const float *x, size_t ldx, size_t rows, const float *w, size_t ldw, size_t k, size_t n, float *y) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (zoo_kernels_vector_width() == 8) { matvec(x, ldx, rows, w, ldw, k, n, y, quad_avx2, single_avx2); return; }
#endif
    matvec(x, ldx, rows, w, ldw, k, n, y, quad_portable, single_portable);
}
