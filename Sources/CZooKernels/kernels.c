#include "ZooKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// ---- portable versions ------------------------------------------------------------------

static inline float exp_cephes(float input) {
    float x = input < -87.3f ? -87.3f : (input > 88.3f ? 88.3f : input);
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &t, sizeof bits);
    int32_t exponent = (int32_t)((uint32_t)(bits - 0x4B400000 + 127) << 23);
    float scale;
    memcpy(&scale, &exponent, sizeof scale);
    return p * scale;
}

static void adam_portable(float *w, const float *g, float *m, float *v, size_t n,
                          float alpha, float c1, float c2, float eps) {
    for (size_t i = 0; i < n; i++) {
        float mi = m[i] + (g[i] - m[i]) * c1;
        float vi = v[i] + (g[i] * g[i] - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] - mi * alpha / (sqrtf(vi) + eps);
    }
}

static void elu_portable(float *y, size_t n, float scale, float scale_alpha) {
    for (size_t i = 0; i < n; i++) {
        float x = y[i];
        y[i] = x > 0 ? scale * x : scale_alpha * (exp_cephes(x) - 1.0f);
    }
}

static void elu_backward_portable(float *dx, const float *dy, const float *y, size_t n, float scale,
                                  float scale_alpha) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] > 0 ? scale : y[i] + scale_alpha);
}

static void sigmoid_portable(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + exp_cephes(-x[i]));
}

static void swish_portable(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + exp_cephes(-x[i]));
}

static void swish_backward_portable(float *dx, const float *dy, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + exp_cephes(-x[i]));
        dx[i] = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
    }
}

static void moments_portable(const float *x, const float *first, float *sum, float *sq, size_t n) {
    for (size_t j = 0; j < n; j++) { float d = x[j] - first[j]; sum[j] += d; sq[j] += d * d; }
}

static void scale_shift_portable(const float *x, float *y, const float *a, const float *d, size_t n) {
    for (size_t j = 0; j < n; j++) y[j] = x[j] * a[j] + d[j];
}

static void gradient_sums_portable(const float *g, const float *x, const float *mu, float *sum_g, float *sum_gx,
                                   size_t n) {
    for (size_t j = 0; j < n; j++) { sum_g[j] += g[j]; sum_gx[j] += g[j] * (x[j] - mu[j]); }
}

/// lo < x*a + d < hi: the clamp kept its input (lo < clamp(v) < hi exactly when lo < v < hi).
static inline int clamp_kept(float x, float a, float d, float lo, float hi) {
    float v = x * a + d;
    return v > lo && v < hi;
}

static void clamped_gradient_sums_portable(const float *g, const float *x, const float *a, const float *d, float lo,
                                           float hi, const float *mu, float *sum_g, float *sum_gx, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float gj = clamp_kept(x[j], a[j], d[j], lo, hi) ? g[j] : 0.0f;
        sum_g[j] += gj;
        sum_gx[j] += gj * (x[j] - mu[j]);
    }
}

static void clamp_gradient_portable(float *g, const float *y, float lo, float hi, size_t n) {
    for (size_t j = 0; j < n; j++) g[j] = (y[j] > lo && y[j] < hi) ? g[j] : 0.0f;
}

static void scale_shift_clamp_portable(const float *x, float *y, const float *a, const float *d, float lo, float hi,
                                       size_t n) {
    for (size_t j = 0; j < n; j++) {
        float v = x[j] * a[j] + d[j];
        v = v < lo ? lo : v;
        y[j] = v > hi ? hi : v;
    }
}

static void bn_input_gradient_portable(const float *g, const float *x, float *dx, const float *a, const float *e,
                                       const float *f, size_t n) {
    for (size_t j = 0; j < n; j++) dx[j] = (a[j] * g[j] + x[j] * e[j]) + f[j];
}

static void bn_clamped_input_gradient_portable(const float *g, const float *x, float *dx, const float *a, const float *d,
                                               float lo, float hi, const float *e, const float *f, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float gj = clamp_kept(x[j], a[j], d[j], lo, hi) ? g[j] : 0.0f;
        dx[j] = (a[j] * gj + x[j] * e[j]) + f[j];
    }
}

static void add_portable(float *sum, const float *g, size_t n) {
    for (size_t j = 0; j < n; j++) sum[j] += g[j];
}

// Multi-row versions: `rows` rows of n features, row r at x + r*ld (likewise y, g, dx). The
// sums run down each feature's column in row order, as one call of the row kernel per row would.
static void moments_rows_portable(const float *x, size_t ld, size_t rows, const float *first, float *sum, float *sq,
                                  size_t n) {
    for (size_t r = 0; r < rows; r++) moments_portable(x + r * ld, first, sum, sq, n);
}

static void scale_shift_rows_portable(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d,
                                      size_t n) {
    for (size_t r = 0; r < rows; r++) scale_shift_portable(x + r * ld, y + r * ld, a, d, n);
}

static void gradient_sums_rows_portable(const float *g, const float *x, size_t ld, size_t rows, const float *mu,
                                        float *sum_g, float *sum_gx, size_t n) {
    for (size_t r = 0; r < rows; r++) gradient_sums_portable(g + r * ld, x + r * ld, mu, sum_g, sum_gx, n);
}

static void clamped_gradient_sums_rows_portable(const float *g, const float *x, size_t ld, size_t rows, const float *a,
                                                const float *d, float lo, float hi, const float *mu, float *sum_g,
                                                float *sum_gx, size_t n) {
    for (size_t r = 0; r < rows; r++)
        clamped_gradient_sums_portable(g + r * ld, x + r * ld, a, d, lo, hi, mu, sum_g, sum_gx, n);
}

static void clamp_gradient_rows_portable(float *g, const float *y, float lo, float hi, size_t ld, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) clamp_gradient_portable(g + r * ld, y + r * ld, lo, hi, n);
}

static void add_clamp_portable(float *y, const float *t, float lo, float hi, size_t n) {
    for (size_t j = 0; j < n; j++) {
        float v = t[j] + y[j];
        v = v < lo ? lo : v;
        y[j] = v > hi ? hi : v;
    }
}

static void scale_shift_clamp_rows_portable(const float *x, float *y, size_t ld, size_t rows, const float *a,
                                            const float *d, float lo, float hi, size_t n) {
    for (size_t r = 0; r < rows; r++) scale_shift_clamp_portable(x + r * ld, y + r * ld, a, d, lo, hi, n);
}

static void bn_input_gradient_rows_portable(const float *g, const float *x, float *dx, size_t ld, size_t rows,
                                            const float *a, const float *e, const float *f, size_t n) {
    for (size_t r = 0; r < rows; r++) bn_input_gradient_portable(g + r * ld, x + r * ld, dx + r * ld, a, e, f, n);
}

static void bn_clamped_input_gradient_rows_portable(const float *g, const float *x, float *dx, size_t ld, size_t rows,
                                                    const float *a, const float *d, float lo, float hi, const float *e,
                                                    const float *f, size_t n) {
    for (size_t r = 0; r < rows; r++)
        bn_clamped_input_gradient_portable(g + r * ld, x + r * ld, dx + r * ld, a, d, lo, hi, e, f, n);
}

// ---- AVX2 versions (x86-64) ------------------------------------------------------------

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

AVX2 static void adam_avx2(float *w, const float *g, float *m, float *v, size_t n,
                           float alpha, float c1, float c2, float eps) {
    const __m256 vc1 = _mm256_set1_ps(c1), vc2 = _mm256_set1_ps(c2);
    const __m256 va = _mm256_set1_ps(alpha), ve = _mm256_set1_ps(eps);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i), mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(gi, mi), vc1));
        vi = _mm256_add_ps(vi, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(gi, gi), vi), vc2));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(mi, va), _mm256_add_ps(_mm256_sqrt_ps(vi), ve));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
    }
    adam_portable(w + i, g + i, m + i, v + i, n - i, alpha, c1, c2, eps);
}

AVX2 static inline __m256 exp_cephes8(__m256 input) {
    __m256 x = _mm256_min_ps(_mm256_max_ps(input, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic);
    __m256 nf = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_add_ps(_mm256_sub_ps(x, _mm256_mul_ps(nf, _mm256_set1_ps(0.693359375f))),
                             _mm256_mul_ps(nf, _mm256_set1_ps(2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_castps_si256(t);
    __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127 - 0x4B400000)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

AVX2 static void elu_avx2(float *y, size_t n, float scale, float scale_alpha) {
    const __m256 vs = _mm256_set1_ps(scale), vsa = _mm256_set1_ps(scale_alpha);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(y + i);
        __m256 negative = _mm256_mul_ps(vsa, _mm256_sub_ps(exp_cephes8(x), one));
        __m256 positive = _mm256_mul_ps(vs, x);
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(negative, positive, _mm256_cmp_ps(x, zero, _CMP_GT_OQ)));
    }
    elu_portable(y + i, n - i, scale, scale_alpha);
}

AVX2 static void elu_backward_avx2(float *dx, const float *dy, const float *y, size_t n, float scale,
                                   float scale_alpha) {
    const __m256 vs = _mm256_set1_ps(scale), vsa = _mm256_set1_ps(scale_alpha), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 yi = _mm256_loadu_ps(y + i);
        __m256 slope = _mm256_blendv_ps(_mm256_add_ps(yi, vsa), vs, _mm256_cmp_ps(yi, zero, _CMP_GT_OQ));
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), slope));
    }
    elu_backward_portable(dx + i, dy + i, y + i, n - i, scale, scale_alpha);
}


AVX2 static void sigmoid_avx2(float *y, const float *x, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xi = _mm256_loadu_ps(x + i);
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp_cephes8(_mm256_xor_ps(xi, sign))));
        // exp_cephes8's clamp maps a NaN to a bound (max/min return their second operand); keep it NaN.
        _mm256_storeu_ps(y + i, _mm256_blendv_ps(s, xi, _mm256_cmp_ps(xi, xi, _CMP_UNORD_Q)));
    }
    sigmoid_portable(y + i, x + i, n - i);
}

AVX2 static void swish_avx2(float *y, const float *x, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xi = _mm256_loadu_ps(x + i);
        __m256 e = exp_cephes8(_mm256_xor_ps(xi, sign));
        _mm256_storeu_ps(y + i, _mm256_div_ps(xi, _mm256_add_ps(one, e)));
    }
    swish_portable(y + i, x + i, n - i);
}

AVX2 static void swish_backward_avx2(float *dx, const float *dy, const float *x, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xi = _mm256_loadu_ps(x + i);
        __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp_cephes8(_mm256_xor_ps(xi, sign))));
        __m256 slope = _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(xi, _mm256_sub_ps(one, s))));
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), slope));
    }
    swish_backward_portable(dx + i, dy + i, x + i, n - i);
}

AVX2 static void scale_shift_avx2(const float *x, float *y, const float *a, const float *d, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(a + j));
        _mm256_storeu_ps(y + j, _mm256_add_ps(v, _mm256_loadu_ps(d + j)));
    }
    scale_shift_portable(x + j, y + j, a + j, d + j, n - j);
}



AVX2 static void clamp_gradient_avx2(float *g, const float *y, float lo, float hi, size_t n) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 yj = _mm256_loadu_ps(y + j);
        __m256 inside = _mm256_and_ps(_mm256_cmp_ps(yj, vlo, _CMP_GT_OQ), _mm256_cmp_ps(yj, vhi, _CMP_LT_OQ));
        _mm256_storeu_ps(g + j, _mm256_and_ps(_mm256_loadu_ps(g + j), inside));
    }
    clamp_gradient_portable(g + j, y + j, lo, hi, n - j);
}

AVX2 static void scale_shift_clamp_avx2(const float *x, float *y, const float *a, const float *d, float lo, float hi,
                                        size_t n) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(a + j)), _mm256_loadu_ps(d + j));
        // max_ps(a, b) = a > b ? a : b, min_ps(a, b) = a < b ? a : b: with the bound first, a NaN
        // passes through, as in the portable version (and as PyTorch's relu keeps it).
        v = _mm256_max_ps(vlo, v);
        _mm256_storeu_ps(y + j, _mm256_min_ps(vhi, v));
    }
    scale_shift_clamp_portable(x + j, y + j, a + j, d + j, lo, hi, n - j);
}

AVX2 static void add_clamp_avx2(float *y, const float *t, float lo, float hi, size_t n) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_add_ps(_mm256_loadu_ps(t + j), _mm256_loadu_ps(y + j));
        _mm256_storeu_ps(y + j, _mm256_min_ps(vhi, _mm256_max_ps(vlo, v)));
    }
    add_clamp_portable(y + j, t + j, lo, hi, n - j);
}

AVX2 static void bn_input_gradient_avx2(const float *g, const float *x, float *dx, const float *a, const float *e,
                                        const float *f, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(g + j)),
                                 _mm256_mul_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(e + j)));
        _mm256_storeu_ps(dx + j, _mm256_add_ps(v, _mm256_loadu_ps(f + j)));
    }
    bn_input_gradient_portable(g + j, x + j, dx + j, a + j, e + j, f + j, n - j);
}

AVX2 static void add_avx2(float *sum, const float *g, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(sum + j, _mm256_add_ps(_mm256_loadu_ps(sum + j), _mm256_loadu_ps(g + j)));
    add_portable(sum + j, g + j, n - j);
}

// The multi-row sums keep a strip of up to 4 vectors' column sums in registers down the rows
// (the row kernels' loads and stores of the sums are a store-to-load chain per row), in the
// same order and with the same operations as the row kernels. The rows go in tiles of about
// 16 KB per array, every strip of a tile before the next tile, so that a row's later strips
// find its cache lines in L1 (going down all the rows strip by strip read each line again
// from memory).
#define ALWAYS_INLINE __attribute__((always_inline)) inline

/// Rows per tile for rows `ld` floats apart.
static inline size_t row_tile(size_t ld) { return ld >= 1024 ? 4 : 4096 / (ld ? ld : 1); }

AVX2 static ALWAYS_INLINE void moments_strip_avx2(const float *x, size_t ld, size_t rows, const float *first,
                                                  float *sum, float *sq, const int v) {
    __m256 s[4], q[4], f[4];
    for (int k = 0; k < v; k++) {
        s[k] = _mm256_loadu_ps(sum + 8 * k); q[k] = _mm256_loadu_ps(sq + 8 * k); f[k] = _mm256_loadu_ps(first + 8 * k);
    }
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ld;
        for (int k = 0; k < v; k++) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + 8 * k), f[k]);
            s[k] = _mm256_add_ps(s[k], d);
            q[k] = _mm256_add_ps(q[k], _mm256_mul_ps(d, d));
        }
    }
    for (int k = 0; k < v; k++) { _mm256_storeu_ps(sum + 8 * k, s[k]); _mm256_storeu_ps(sq + 8 * k, q[k]); }
}

AVX2 static void moments_rows_avx2(const float *x, size_t ld, size_t rows, const float *first, float *sum, float *sq,
                                   size_t n) {
    for (size_t r0 = 0, tile = row_tile(ld); r0 < rows; r0 += tile) {
        const size_t count = rows - r0 < tile ? rows - r0 : tile;
        const float *xt = x + r0 * ld;
        size_t j = 0;
        for (; j + 32 <= n; j += 32) moments_strip_avx2(xt + j, ld, count, first + j, sum + j, sq + j, 4);
        for (; j + 8 <= n; j += 8) moments_strip_avx2(xt + j, ld, count, first + j, sum + j, sq + j, 1);
        if (j < n) moments_rows_portable(xt + j, ld, count, first + j, sum + j, sq + j, n - j);
    }
}

/// With `clamp`, g counts only where lo < x*a + d < hi (the clamp kept its input).
AVX2 static ALWAYS_INLINE void gradient_sums_strip_avx2(const float *g, const float *x, size_t ld, size_t rows,
                                                        const float *a, const float *d, float lo, float hi,
                                                        const float *mu, float *sum_g, float *sum_gx, const int v,
                                                        const int clamp) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    __m256 s[4], sx[4], m[4], va[4], vd[4];
    for (int k = 0; k < v; k++) {
        s[k] = _mm256_loadu_ps(sum_g + 8 * k); sx[k] = _mm256_loadu_ps(sum_gx + 8 * k); m[k] = _mm256_loadu_ps(mu + 8 * k);
        if (clamp) { va[k] = _mm256_loadu_ps(a + 8 * k); vd[k] = _mm256_loadu_ps(d + 8 * k); }
    }
    for (size_t r = 0; r < rows; r++) {
        const float *gr = g + r * ld, *xr = x + r * ld;
        for (int k = 0; k < v; k++) {
            __m256 gj = _mm256_loadu_ps(gr + 8 * k), xj = _mm256_loadu_ps(xr + 8 * k);
            if (clamp) {
                __m256 vj = _mm256_add_ps(_mm256_mul_ps(xj, va[k]), vd[k]);
                __m256 kept = _mm256_and_ps(_mm256_cmp_ps(vj, vlo, _CMP_GT_OQ), _mm256_cmp_ps(vj, vhi, _CMP_LT_OQ));
                gj = _mm256_and_ps(gj, kept);
            }
            s[k] = _mm256_add_ps(s[k], gj);
            sx[k] = _mm256_add_ps(sx[k], _mm256_mul_ps(gj, _mm256_sub_ps(xj, m[k])));
        }
    }
    for (int k = 0; k < v; k++) { _mm256_storeu_ps(sum_g + 8 * k, s[k]); _mm256_storeu_ps(sum_gx + 8 * k, sx[k]); }
}

AVX2 static void gradient_sums_rows_avx2(const float *g, const float *x, size_t ld, size_t rows, const float *mu,
                                         float *sum_g, float *sum_gx, size_t n) {
    for (size_t r0 = 0, tile = row_tile(ld); r0 < rows; r0 += tile) {
        const size_t count = rows - r0 < tile ? rows - r0 : tile;
        const float *gt = g + r0 * ld, *xt = x + r0 * ld;
        size_t j = 0;
        for (; j + 32 <= n; j += 32)
            gradient_sums_strip_avx2(gt + j, xt + j, ld, count, 0, 0, 0, 0, mu + j, sum_g + j, sum_gx + j, 4, 0);
        for (; j + 8 <= n; j += 8)
            gradient_sums_strip_avx2(gt + j, xt + j, ld, count, 0, 0, 0, 0, mu + j, sum_g + j, sum_gx + j, 1, 0);
        if (j < n) gradient_sums_rows_portable(gt + j, xt + j, ld, count, mu + j, sum_g + j, sum_gx + j, n - j);
    }
}

AVX2 static void clamped_gradient_sums_rows_avx2(const float *g, const float *x, size_t ld, size_t rows, const float *a,
                                                 const float *d, float lo, float hi, const float *mu, float *sum_g,
                                                 float *sum_gx, size_t n) {
    for (size_t r0 = 0, tile = row_tile(ld); r0 < rows; r0 += tile) {
        const size_t count = rows - r0 < tile ? rows - r0 : tile;
        const float *gt = g + r0 * ld, *xt = x + r0 * ld;
        size_t j = 0;
        for (; j + 32 <= n; j += 32)
            gradient_sums_strip_avx2(gt + j, xt + j, ld, count, a + j, d + j, lo, hi, mu + j, sum_g + j, sum_gx + j, 4, 1);
        for (; j + 8 <= n; j += 8)
            gradient_sums_strip_avx2(gt + j, xt + j, ld, count, a + j, d + j, lo, hi, mu + j, sum_g + j, sum_gx + j, 1, 1);
        if (j < n)
            clamped_gradient_sums_rows_portable(gt + j, xt + j, ld, count, a + j, d + j, lo, hi, mu + j, sum_g + j, sum_gx + j,
                                                n - j);
    }
}

// The streaming multi-row kernels: the row kernels row after row, in one call.
AVX2 static void scale_shift_rows_avx2(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d,
                                       size_t n) {
    for (size_t r = 0; r < rows; r++) scale_shift_avx2(x + r * ld, y + r * ld, a, d, n);
}

AVX2 static void clamp_gradient_rows_avx2(float *g, const float *y, float lo, float hi, size_t ld, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) clamp_gradient_avx2(g + r * ld, y + r * ld, lo, hi, n);
}

AVX2 static void scale_shift_clamp_rows_avx2(const float *x, float *y, size_t ld, size_t rows, const float *a,
                                             const float *d, float lo, float hi, size_t n) {
    for (size_t r = 0; r < rows; r++) scale_shift_clamp_avx2(x + r * ld, y + r * ld, a, d, lo, hi, n);
}

AVX2 static void bn_input_gradient_rows_avx2(const float *g, const float *x, float *dx, size_t ld, size_t rows,
                                             const float *a, const float *e, const float *f, size_t n) {
    for (size_t r = 0; r < rows; r++) bn_input_gradient_avx2(g + r * ld, x + r * ld, dx + r * ld, a, e, f, n);
}

AVX2 static void bn_clamped_input_gradient_avx2(const float *g, const float *x, float *dx, const float *a, const float *d,
                                                float lo, float hi, const float *e, const float *f, size_t n) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 xj = _mm256_loadu_ps(x + j), aj = _mm256_loadu_ps(a + j);
        __m256 vj = _mm256_add_ps(_mm256_mul_ps(xj, aj), _mm256_loadu_ps(d + j));
        __m256 kept = _mm256_and_ps(_mm256_cmp_ps(vj, vlo, _CMP_GT_OQ), _mm256_cmp_ps(vj, vhi, _CMP_LT_OQ));
        __m256 gj = _mm256_and_ps(_mm256_loadu_ps(g + j), kept);
        __m256 w = _mm256_add_ps(_mm256_mul_ps(aj, gj), _mm256_mul_ps(xj, _mm256_loadu_ps(e + j)));
        _mm256_storeu_ps(dx + j, _mm256_add_ps(w, _mm256_loadu_ps(f + j)));
    }
    bn_clamped_input_gradient_portable(g + j, x + j, dx + j, a + j, d + j, lo, hi, e + j, f + j, n - j);
}

AVX2 static void bn_clamped_input_gradient_rows_avx2(const float *g, const float *x, float *dx, size_t ld, size_t rows,
                                                     const float *a, const float *d, float lo, float hi, const float *e,
                                                     const float *f, size_t n) {
    for (size_t r = 0; r < rows; r++)
        bn_clamped_input_gradient_avx2(g + r * ld, x + r * ld, dx + r * ld, a, d, lo, hi, e, f, n);
}

/// AVX2 needs the CPU flag and the OS saving YMM state (OSXSAVE + XCR0 bits 1 and 2).
static int detect_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & bit_AVX2) != 0;
}

static int forced_portable = 0;

static int use_avx2(void) {
    static int cached = -1;  // benign race: every thread computes the same value
    if (cached < 0) cached = detect_avx2();
    return cached && !forced_portable;
}

void zoo_kernels_force_portable(int on) { forced_portable = on; }

int zoo_cpu_has_avx2(void) { return detect_avx2(); }

int zoo_cpu_has_avx2_fma(void) {
    static int cached = -1;  // benign race: every thread computes the same value
    if (cached < 0) {
        unsigned a, b, c, d;
        cached = detect_avx2() && __get_cpuid(1, &a, &b, &c, &d) && (c & bit_FMA) != 0;
    }
    return cached;
}
#else
int zoo_cpu_has_avx2(void) { return 0; }
int zoo_cpu_has_avx2_fma(void) { return 0; }
static int use_avx2(void) { return 0; }
void zoo_kernels_force_portable(int on) { (void)on; }
#endif

// ---- dispatch ---------------------------------------------------------------------------

void zoo_adam(float *w, const float *g, float *m, float *v, size_t n, float alpha, float c1, float c2, float eps) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { adam_avx2(w, g, m, v, n, alpha, c1, c2, eps); return; }
#endif
    adam_portable(w, g, m, v, n, alpha, c1, c2, eps);
}

void zoo_elu(float *y, size_t n, float scale, float scale_alpha) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { elu_avx2(y, n, scale, scale_alpha); return; }
#endif
    elu_portable(y, n, scale, scale_alpha);
}

void zoo_elu_backward(float *dx, const float *dy, const float *y, size_t n, float scale, float scale_alpha) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { elu_backward_avx2(dx, dy, y, n, scale, scale_alpha); return; }
#endif
    elu_backward_portable(dx, dy, y, n, scale, scale_alpha);
}

void zoo_sigmoid(float *y, const float *x, size_t n) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { sigmoid_avx2(y, x, n); return; }
#endif
    sigmoid_portable(y, x, n);
}

void zoo_swish(float *y, const float *x, size_t n) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { swish_avx2(y, x, n); return; }
#endif
    swish_portable(y, x, n);
}

void zoo_swish_backward(float *dx, const float *dy, const float *x, size_t n) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (use_avx2()) { swish_backward_avx2(dx, dy, x, n); return; }
#endif
    swish_backward_portable(dx, dy, x, n);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define DISPATCH(name, ...) do { if (use_avx2()) { name##_avx2(__VA_ARGS__); return; } name##_portable(__VA_ARGS__); } while (0)
#else
#define DISPATCH(name, ...) name##_portable(__VA_ARGS__)
#endif

void zoo_moments_rows(const float *x, size_t ld, size_t rows, const float *first, float *sum, float *sq, size_t n) {
    DISPATCH(moments_rows, x, ld, rows, first, sum, sq, n);
}

void zoo_scale_shift_rows(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d, size_t n) {
    DISPATCH(scale_shift_rows, x, y, ld, rows, a, d, n);
}

void zoo_gradient_sums_rows(const float *g, const float *x, size_t ld, size_t rows, const float *mu, float *sum_g,
                            float *sum_gx, size_t n) {
    DISPATCH(gradient_sums_rows, g, x, ld, rows, mu, sum_g, sum_gx, n);
}

void zoo_bn_input_gradient_rows(const float *g, const float *x, float *dx, size_t ld, size_t rows, const float *a,
                                const float *e, const float *f, size_t n) {
    DISPATCH(bn_input_gradient_rows, g, x, dx, ld, rows, a, e, f, n);
}

void zoo_add_row(float *sum, const float *g, size_t n) { DISPATCH(add, sum, g, n); }

void zoo_clamped_gradient_sums_rows(const float *g, const float *x, size_t ld, size_t rows, const float *a, const float *d,
                                    float lo, float hi, const float *mu, float *sum_g, float *sum_gx, size_t n) {
    DISPATCH(clamped_gradient_sums_rows, g, x, ld, rows, a, d, lo, hi, mu, sum_g, sum_gx, n);
}

void zoo_bn_clamped_input_gradient_rows(const float *g, const float *x, float *dx, size_t ld, size_t rows, const float *a,
                                        const float *d, float lo, float hi, const float *e, const float *f, size_t n) {
    DISPATCH(bn_clamped_input_gradient_rows, g, x, dx, ld, rows, a, d, lo, hi, e, f, n);
}

void zoo_clamp_gradient_rows(float *g, const float *y, float lo, float hi, size_t ld, size_t rows, size_t n) {
    DISPATCH(clamp_gradient_rows, g, y, lo, hi, ld, rows, n);
}

void zoo_scale_shift_clamp_rows(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d,
                                float lo, float hi, size_t n) {
    DISPATCH(scale_shift_clamp_rows, x, y, ld, rows, a, d, lo, hi, n);
}

void zoo_add_clamp(float *y, const float *t, float lo, float hi, size_t n) { DISPATCH(add_clamp, y, t, lo, hi, n); }

int zoo_kernels_vector_width(void) { return use_avx2() ? 8 : 1; }
