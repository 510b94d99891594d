#include "ZooWinograd.h"
#include "ZooKernels.h"

#include <stddef.h>

// ---- kernel transform (once per weight version) ------------------------------------------

void zoo_winograd_f2_kernel(const float *hwio, float *u, long in_channels, long out_channels) {
    const long C = in_channels, K = out_channels;
    for (long c = 0; c < C; c++) {
        for (long k = 0; k < K; k++) {
            double w[3][3], t[4][3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) w[i][j] = hwio[((i * 3 + j) * C + c) * K + k];
            // G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]: t = G w, then u = t Gᵀ.
            for (int j = 0; j < 3; j++) {
                t[0][j] = w[0][j];
                t[1][j] = 0.5 * (w[0][j] + w[1][j] + w[2][j]);
                t[2][j] = 0.5 * (w[0][j] - w[1][j] + w[2][j]);
                t[3][j] = w[2][j];
            }
            for (int i = 0; i < 4; i++) {
                double r[4] = {t[i][0], 0.5 * (t[i][0] + t[i][1] + t[i][2]), 0.5 * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; j++) u[((long)(i * 4 + j) * C + c) * K + k] = (float)r[j];
            }
        }
    }
}

// ---- where a tile reads and writes --------------------------------------------------------

/// The 16 input pixels of tile `tile` (NULL where the tile reaches into the padding).
static void input_pixels(const float *x, const zoo_winograd_geometry *g, long tile, const float *pixel[16]) {
    const long per_image = g->tiles_y * g->tiles_x;
    const long b = tile / per_image, r = tile % per_image;
    const long y0 = 2 * (r / g->tiles_x) - g->pad_top, x0 = 2 * (r % g->tiles_x) - g->pad_left;
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            const long yy = y0 + i, xx = x0 + j;
            const int inside = yy >= 0 && yy < g->height && xx >= 0 && xx < g->width;
            pixel[i * 4 + j] = inside ? x + ((b * g->height + yy) * g->width + xx) * g->in_channels : NULL;
        }
    }
}

/// The up to 4 output pixels of tile `tile` (NULL past the map's edge), row-major.
static void output_pixels(float *y, const zoo_winograd_geometry *g, long tile, float *pixel[4]) {
    const long per_image = g->tiles_y * g->tiles_x;
    const long b = tile / per_image, r = tile % per_image;
    const long oy = 2 * (r / g->tiles_x), ox = 2 * (r % g->tiles_x);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            const int inside = oy + i < g->out_height && ox + j < g->out_width;
            pixel[i * 2 + j] = inside ? y + ((b * g->out_height + oy + i) * g->out_width + ox + j) * g->out_channels : NULL;
        }
    }
}

static inline float clamp(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

// ---- portable versions (and the AVX2 versions' channel tails) ----------------------------

/// Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]; v = Bᵀ d B.
static void input_channels_portable(const float *pixel[16], float *v, long stride, long C, long c0) {
    for (long c = c0; c < C; c++) {
        float d[4][4], t[4][4];
        for (int i = 0; i < 16; i++) d[i / 4][i % 4] = pixel[i] ? pixel[i][c] : 0.0f;
        for (int j = 0; j < 4; j++) {
            t[0][j] = d[0][j] - d[2][j];
            t[1][j] = d[1][j] + d[2][j];
            t[2][j] = d[2][j] - d[1][j];
            t[3][j] = d[1][j] - d[3][j];
        }
        for (int i = 0; i < 4; i++) {
            v[(long)(i * 4 + 0) * stride * C + c] = t[i][0] - t[i][2];
            v[(long)(i * 4 + 1) * stride * C + c] = t[i][1] + t[i][2];
            v[(long)(i * 4 + 2) * stride * C + c] = t[i][2] - t[i][1];
            v[(long)(i * 4 + 3) * stride * C + c] = t[i][1] - t[i][3];
        }
    }
}

/// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]; o = Aᵀ m A, then the epilogue.
static void output_channels_portable(const float *m, long stride, float *pixel[4], long K, long k0, const float *bias,
                                     float lo1, float hi1, int sum, float lo2, float hi2) {
    for (long k = k0; k < K; k++) {
        float s[2][4], o[4];
        float a[4][4];
        for (int i = 0; i < 16; i++) a[i / 4][i % 4] = m[(long)i * stride * K + k];
        for (int j = 0; j < 4; j++) {
            s[0][j] = a[0][j] + a[1][j] + a[2][j];
            s[1][j] = a[1][j] - a[2][j] - a[3][j];
        }
        for (int i = 0; i < 2; i++) {
            o[i * 2 + 0] = s[i][0] + s[i][1] + s[i][2];
            o[i * 2 + 1] = s[i][1] - s[i][2] - s[i][3];
        }
        const float b = bias ? bias[k] : 0.0f;
        for (int p = 0; p < 4; p++) {
            if (!pixel[p]) continue;
            float value = clamp(o[p] + b, lo1, hi1);
            if (sum) value = clamp(value + pixel[p][k], lo2, hi2);
            pixel[p][k] = value;
        }
    }
}

// ---- AVX2 versions (x86-64) ---------------------------------------------------------------

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

AVX2 static long input_channels_avx2(const float *pixel[16], float *v, long stride, long C) {
    long c = 0;
    for (; c + 8 <= C; c += 8) {
        __m256 d[4][4], t[4][4];
        for (int i = 0; i < 16; i++) d[i / 4][i % 4] = pixel[i] ? _mm256_loadu_ps(pixel[i] + c) : _mm256_setzero_ps();
        for (int j = 0; j < 4; j++) {
            t[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
            t[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
            t[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
            t[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
        }
        for (int i = 0; i < 4; i++) {
            _mm256_storeu_ps(v + (long)(i * 4 + 0) * stride * C + c, _mm256_sub_ps(t[i][0], t[i][2]));
            _mm256_storeu_ps(v + (long)(i * 4 + 1) * stride * C + c, _mm256_add_ps(t[i][1], t[i][2]));
            _mm256_storeu_ps(v + (long)(i * 4 + 2) * stride * C + c, _mm256_sub_ps(t[i][2], t[i][1]));
            _mm256_storeu_ps(v + (long)(i * 4 + 3) * stride * C + c, _mm256_sub_ps(t[i][1], t[i][3]));
        }
    }
    return c;
}

AVX2 static long output_channels_avx2(const float *m, long stride, float *pixel[4], long K, const float *bias,
                                      float lo1, float hi1, int sum, float lo2, float hi2) {
    const __m256 vlo1 = _mm256_set1_ps(lo1), vhi1 = _mm256_set1_ps(hi1);
    const __m256 vlo2 = _mm256_set1_ps(lo2), vhi2 = _mm256_set1_ps(hi2);
    long k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 a[4][4], s[2][4], o[4];
        for (int i = 0; i < 16; i++) a[i / 4][i % 4] = _mm256_loadu_ps(m + (long)i * stride * K + k);
        for (int j = 0; j < 4; j++) {
            s[0][j] = _mm256_add_ps(_mm256_add_ps(a[0][j], a[1][j]), a[2][j]);
            s[1][j] = _mm256_sub_ps(_mm256_sub_ps(a[1][j], a[2][j]), a[3][j]);
        }
        for (int i = 0; i < 2; i++) {
            o[i * 2 + 0] = _mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), s[i][2]);
            o[i * 2 + 1] = _mm256_sub_ps(_mm256_sub_ps(s[i][1], s[i][2]), s[i][3]);
        }
        const __m256 b = bias ? _mm256_loadu_ps(bias + k) : _mm256_setzero_ps();
        for (int p = 0; p < 4; p++) {
            if (!pixel[p]) continue;
            // max(lo, v) returns v when v is NaN (the second operand), as the portable clamp keeps it.
            __m256 value = _mm256_min_ps(vhi1, _mm256_max_ps(vlo1, _mm256_add_ps(o[p], b)));
            if (sum) value = _mm256_min_ps(vhi2, _mm256_max_ps(vlo2, _mm256_add_ps(value, _mm256_loadu_ps(pixel[p] + k))));
            _mm256_storeu_ps(pixel[p] + k, value);
        }
    }
    return k;
}
#else
static long input_channels_avx2(const float *pixel[16], float *v, long stride, long C) {
    (void)pixel; (void)v; (void)stride; (void)C;
    return 0;
}
static long output_channels_avx2(const float *m, long stride, float *pixel[4], long K, const float *bias,
                                 float lo1, float hi1, int sum, float lo2, float hi2) {
    (void)m; (void)stride; (void)pixel; (void)K; (void)bias; (void)lo1; (void)hi1; (void)sum; (void)lo2; (void)hi2;
    return 0;
}
#endif

// ---- dispatch ------------------------------------------------------------------------------

void zoo_winograd_f2_input(const float *x, const zoo_winograd_geometry *g, long first_tile, long tiles,
                           float *v, long stride) {
    const long C = g->in_channels;
    const int wide = zoo_kernels_vector_width() == 8;
    for (long t = 0; t < tiles; t++) {
        const float *pixel[16];
        input_pixels(x, g, first_tile + t, pixel);
        float *tile = v + t * C;
        const long done = wide ? input_channels_avx2(pixel, tile, stride, C) : 0;
        input_channels_portable(pixel, tile, stride, C, done);
    }
}

void zoo_winograd_f2_output(const float *m, long stride, const zoo_winograd_geometry *g, long first_tile,
                            long tiles, const float *bias, float lo1, float hi1, int sum, float lo2, float hi2,
                            float *y) {
    const long K = g->out_channels;
    const int wide = zoo_kernels_vector_width() == 8;
    for (long t = 0; t < tiles; t++) {
        float *pixel[4];
        output_pixels(y, g, first_tile + t, pixel);
        const float *tile = m + t * K;
        const long done = wide ? output_channels_avx2(tile, stride, pixel, K, bias, lo1, hi1, sum, lo2, hi2) : 0;
        output_channels_portable(tile, stride, pixel, K, done, bias, lo1, hi1, sum, lo2, hi2);
    }
}

// ---- weight gradient -----------------------------------------------------------------------

void zoo_winograd_f2_output_gradient(const float *dy, const zoo_winograd_geometry *g, long first_tile, long tiles,
                                     float *m, long stride) {
    const long K = g->out_channels;
    for (long t = 0; t < tiles; t++) {
        float *pixel[4];
        output_pixels((float *)dy, g, first_tile + t, pixel);
        float *tile = m + t * K;
        for (long k = 0; k < K; k++) {
            const float d00 = pixel[0] ? pixel[0][k] : 0.0f, d01 = pixel[1] ? pixel[1][k] : 0.0f;
            const float d10 = pixel[2] ? pixel[2][k] : 0.0f, d11 = pixel[3] ? pixel[3][k] : 0.0f;
            // Rows: A·dy (4×2), then columns: (A·dy)·Aᵀ (4×4).
            const float r[4][2] = {{d00, d01}, {d00 + d10, d01 + d11}, {d00 - d10, d01 - d11}, {-d10, -d11}};
            for (int i = 0; i < 4; i++) {
                const float c[4] = {r[i][0], r[i][0] + r[i][1], r[i][0] - r[i][1], -r[i][1]};
                for (int j = 0; j < 4; j++) tile[(long)(i * 4 + j) * stride * K + k] = c[j];
            }
        }
    }
}

void zoo_winograd_f2_kernel_gradient(const float *du, float *hwio, long in_channels, long out_channels) {
    const long C = in_channels, K = out_channels;
    // Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]].
    for (long c = 0; c < C; c++) {
        for (long k = 0; k < K; k++) {
            double d[4][4], t[3][4];
            for (int i = 0; i < 16; i++) d[i / 4][i % 4] = du[((long)i * C + c) * K + k];
            for (int j = 0; j < 4; j++) {
                t[0][j] = d[0][j] + 0.5 * (d[1][j] + d[2][j]);
                t[1][j] = 0.5 * (d[1][j] - d[2][j]);
                t[2][j] = 0.5 * (d[1][j] + d[2][j]) + d[3][j];
            }
            for (int a = 0; a < 3; a++) {
                const double w[3] = {t[a][0] + 0.5 * (t[a][1] + t[a][2]), 0.5 * (t[a][1] - t[a][2]),
                                     0.5 * (t[a][1] + t[a][2]) + t[a][3]};
                for (int b = 0; b < 3; b++) hwio[((long)(a * 3 + b) * C + c) * K + k] = (float)w[b];
            }
        }
    }
}
