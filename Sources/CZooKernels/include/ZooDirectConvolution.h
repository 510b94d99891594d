// Direct convolutions on NHWC maps for AVX2 + FMA, an implicit GEMM: each output pixel is a dot
// product of its input window (kernel_height × kernel_width taps of C channels) with the kernel.
// A register tile of R output pixels × 16 output channels (2R accumulators, R ≤ 6) walks the
// taps and channels, broadcasting one input value per pixel and loading 16 weights per channel;
// the R pixels are consecutive in (image, row, column) order, so a tile may span rows. Taps
// that fall into the padding read a zero vector; taps in the padding for all R pixels are
// skipped. Written for the convolutions oneDNN 2.6's AVX2 kernels run slowest in NHWC (stride 2,
// 7×7 maps): see the note in direct_convolution.c.
#ifndef ZOO_DIRECT_CONVOLUTION_H
#define ZOO_DIRECT_CONVOLUTION_H

#include <stddef.h>

/// Geometry of one convolution of `batch` NHWC maps: input [batch, height, width, in_channels],
/// output [batch, out_height, out_width, out_channels], kernel [kernel_height, kernel_width,
/// in_channels, out_channels]; output pixel (oy, ox) reads input rows oy·stride_y − pad_top +
/// ky·dilation_y and columns ox·stride_x − pad_left + kx·dilation_x (outside the map: zero).
typedef struct {
    long batch, height, width, in_channels;
    long out_height, out_width, out_channels;
    long kernel_height, kernel_width;
    long stride_y, stride_x, dilation_y, dilation_x;
    long pad_top, pad_left;
} zoo_direct_geometry;

/// How the work is cut: output channels in groups of `blocks_per_group` blocks of 16 (a group's
/// packed weights should stay in the L2 cache while the group's pixels pass), output pixels in
/// chunks of `tiles_per_chunk` tiles of 6 pixels. Parts are (group, chunk) pairs, group-major.
typedef struct {
    long blocks_per_group;
    long tiles_per_chunk;
} zoo_direct_schedule;

/// Whether the kernels can run here (x86-64 with AVX2 and FMA, the OS saving YMM state) and
/// take `g`: out_channels a multiple of 16, in_channels at most 8192, at most 64 taps
/// (kernel_height · kernel_width), every size positive.
int zoo_direct_supports(const zoo_direct_geometry *g);

/// Floats of the packed kernel: kernel_height · kernel_width · in_channels · out_channels.
size_t zoo_direct_packed_count(const zoo_direct_geometry *g);

/// Packs a kernel in the Keras layout `hwio` [kh, kw, C, K] into blocks of 16 output channels:
/// packed[((b·kh + y)·kw + x)·C + c][j] = hwio[y, x, c, 16b + j], each block contiguous.
void zoo_direct_pack(const zoo_direct_geometry *g, const float *hwio, float *packed);

/// What is applied to a tile's sums t as they are stored: f₁(t) = min(max(t, lo1), hi1), then,
/// with `sum` nonzero, y = f₂(f₁(t) + y) (a residual add of what y holds, f₂ likewise), else
/// y = f₁(t). ±infinity for no bound (relu: lo 0; relu6: lo 0, hi 6); a NaN stays NaN.
typedef struct {
    float lo1, hi1;
    int sum;
    float lo2, hi2;
} zoo_direct_epilogue;

/// y = f₂(f₁(conv(x, W) + bias) + y) or f₁(conv(x, W) + bias) (`e`) for the whole batch, on at
/// most `threads` threads of ZooNet's team (`zoo_parallel_for`). `bias` may be NULL. Channels
/// are summed in order per tap, taps in (ky, kx) order, with fused multiply-adds: not
/// bit-identical to other kernels.
void zoo_direct_convolution(const zoo_direct_geometry *g, const zoo_direct_schedule *s, const float *x,
                            const float *packed, const float *bias, const zoo_direct_epilogue *e, float *y,
                            int threads);

/// The schedule the kernels choose for `g` on `threads` threads when the caller has no better:
/// groups of at most `l2_bytes / 2` of packed weights (at least one block), then chunks so there
/// are at least four parts per thread where the pixels allow.
zoo_direct_schedule zoo_direct_default_schedule(const zoo_direct_geometry *g, int threads, long l2_bytes);

#endif
