// Element-wise kernels of ZooNet's training step, in C so that x86-64 builds can use AVX2
// (8 floats per instruction) when the CPU has it, chosen once at run time, while the package
// itself is compiled for the baseline target (SSE2: Swift's SIMD types run 4 lanes wide
// there). Every kernel has a portable version with the same operations in the same order (no
// fused multiply-add), so both paths give bit-identical results.
#ifndef ZOO_KERNELS_H
#define ZOO_KERNELS_H

#include <stddef.h>

/// Keras Adam step over n elements:
/// m += (g - m)*c1; v += (g*g - v)*c2; w -= m*alpha / (sqrt(v) + eps).
void zoo_adam(float *w, const float *g, float *m, float *v, size_t n,
              float alpha, float c1, float c2, float eps);

/// In place, y = x if x > 0 else alpha*(exp(x) - 1) (ELU; SELU with `scale` != 1:
/// y = scale*x if x > 0 else scale*alpha*(exp(x) - 1), pass `scale_alpha` = scale*alpha).
/// exp is the Cephes expf scheme (relative error ~2e-7), inputs clamped to [-87.3, 88.3].
void zoo_elu(float *y, size_t n, float scale, float scale_alpha);

/// dx = dy * (y > 0 ? scale : y + scale_alpha) for ELU/SELU outputs y; dx may equal dy.
void zoo_elu_backward(float *dx, const float *dy, const float *y, size_t n, float scale, float scale_alpha);

/// y = 1 / (1 + exp(-x)) (logistic sigmoid), exp as in zoo_elu; y may equal x. Saturates to
/// 0 below x ≈ -88 and to 1 above x ≈ 17; a NaN stays NaN.
void zoo_sigmoid(float *y, const float *x, size_t n);

/// y = x / (1 + exp(-x)) = x·sigmoid(x) (swish / SiLU), exp as in zoo_elu; y may equal x.
void zoo_swish(float *y, const float *x, size_t n);

/// dx = dy * s*(1 + x*(1 - s)) with s = sigmoid(x), the swish derivative from its input x;
/// dx may equal dy.
void zoo_swish_backward(float *dx, const float *dy, const float *x, size_t n);

/// The kernels of batch normalization over `rows` rows of n features, row r at x + r*ld (and
/// likewise y, g, dx), the sums added down each column in row order:
/// moments: d = x - first; sum += d; sq += d*d.
void zoo_moments_rows(const float *x, size_t ld, size_t rows, const float *first, float *sum, float *sq, size_t n);
/// y = x*a + d.
void zoo_scale_shift_rows(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d, size_t n);
/// sum_g += g; sum_gx += g*(x - mu).
void zoo_gradient_sums_rows(const float *g, const float *x, size_t ld, size_t rows, const float *mu, float *sum_g,
                            float *sum_gx, size_t n);
/// dx = a*g + x*e + f.
void zoo_bn_input_gradient_rows(const float *g, const float *x, float *dx, size_t ld, size_t rows, const float *a,
                                const float *e, const float *f, size_t n);
/// A clamp's gradient fused with the sums (ReLU: lo 0, hi +inf; ReLU6: lo 0, hi 6) after
/// y = x*a + d: the clamp's mask m = (lo < x*a + d < hi), recomputed from x (it equals
/// lo < clamp(x*a + d) < hi), so neither the clamp's output nor a masked g is stored:
/// sum_g += m ? g : 0; sum_gx += (m ? g : 0)*(x - mu); g is not written.
void zoo_clamped_gradient_sums_rows(const float *g, const float *x, size_t ld, size_t rows, const float *a, const float *d,
                                    float lo, float hi, const float *mu, float *sum_g, float *sum_gx, size_t n);
/// dx = a*(m ? g : 0) + x*e + f with the mask m as above (a is both y's and dx's coefficient).
void zoo_bn_clamped_input_gradient_rows(const float *g, const float *x, float *dx, size_t ld, size_t rows, const float *a,
                                        const float *d, float lo, float hi, const float *e, const float *f, size_t n);
/// g = (lo < y < hi) ? g : 0 in place, y the clamp's output.
void zoo_clamp_gradient_rows(float *g, const float *y, float lo, float hi, size_t ld, size_t rows, size_t n);
/// y = min(max(x*a + d, lo), hi); a NaN stays NaN.
void zoo_scale_shift_clamp_rows(const float *x, float *y, size_t ld, size_t rows, const float *a, const float *d,
                                float lo, float hi, size_t n);

/// One row of n floats (bias gradients, partial sums): sum += g.
void zoo_add_row(float *sum, const float *g, size_t n);

/// A residual add and a clamp activation in place: y = min(max(t + y, lo), hi) (NaN passes through).
void zoo_add_clamp(float *y, const float *t, float lo, float hi, size_t n);

/// A spin-wait hint (x86 PAUSE, arm64 YIELD): lets a hyperthread sibling or the hypervisor
/// know this thread is only polling, and saves power while it does.
static inline void zoo_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// 8 when the AVX2 versions are in use, 1 for the portable ones (for benchmarks and tests).
int zoo_kernels_vector_width(void);

/// Nonzero when the CPU has AVX2 and the OS saves the YMM registers (whatever the forcing below).
int zoo_cpu_has_avx2(void);

/// Nonzero if the CPU has AVX2 and FMA and the OS saves YMM state (the direct convolution's
/// kernel needs both; cached after the first call).
int zoo_cpu_has_avx2_fma(void);

/// Tests: nonzero forces the portable versions (to compare both paths), zero restores detection.
void zoo_kernels_force_portable(int on);

#endif
