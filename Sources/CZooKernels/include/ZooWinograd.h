// Winograd F(2×2, 3×3) transforms for 3×3, stride-1 convolutions on NHWC maps (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016). A convolution becomes 16
// independent matrix products, one per position ξ of a 4×4 transformed tile:
//
//     V[ξ] = (Bᵀ d B)[ξ]    [tiles, C]   the input tiles d (4×4, overlapping by 2), per channel
//     U[ξ] = (G g Gᵀ)[ξ]    [C, K]       the kernel g (3×3), per input and output channel
//     M[ξ] = V[ξ] · U[ξ]    [tiles, K]   (the caller's sgemm)
//     y    = Aᵀ M A         2×2 outputs per tile, then bias, activation, residual add
//
// 2.25× fewer multiplications than the direct convolution (16 per 2×2 outputs instead of 36).
// The input and output transforms only add and subtract; the AVX2 and portable versions do
// the same operations in the same order, so they give bit-identical results.
#ifndef ZOO_WINOGRAD_H
#define ZOO_WINOGRAD_H

/// Geometry of one 3×3 stride-1 convolution of `batch` NHWC maps: input [batch, height, width,
/// in_channels], output [batch, out_height, out_width, out_channels], `pad_top`/`pad_left`
/// zero rows/columns before the input (the bottom/right padding follows from the output
/// size). Tiles are numbered (b·tiles_y + ty)·tiles_x + tx, tiles_y = ⌈out_height/2⌉,
/// tiles_x = ⌈out_width/2⌉; tile (ty, tx) computes outputs rows 2ty…2ty+1, columns 2tx…2tx+1
/// from input rows 2ty − pad_top … +3 and columns 2tx − pad_left … +3.
typedef struct {
    long batch, height, width, in_channels;
    long out_height, out_width, out_channels;
    long pad_top, pad_left;
    long tiles_y, tiles_x;
} zoo_winograd_geometry;

/// U = G g Gᵀ for a kernel in the Keras layout `hwio` [3, 3, C, K]; `u` is [16, C, K]
/// (row-major: u[(ξ·C + c)·K + k]), computed in double and rounded once.
void zoo_winograd_f2_kernel(const float *hwio, float *u, long in_channels, long out_channels);

/// V = Bᵀ d B for tiles first_tile ..< first_tile + tiles of `x`; `v` is [16, stride, C]
/// (v[(ξ·stride + t)·C + c] for the t-th tile of the range), stride ≥ tiles.
void zoo_winograd_f2_input(const float *x, const zoo_winograd_geometry *g, long first_tile, long tiles,
                           float *v, long stride);

/// y = f₂(f₁(Aᵀ M A + bias) + y) for tiles first_tile ..< first_tile + tiles, `m` laid out as
/// `v` above with K columns ([16, stride, K]). f₁(t) = min(max(t, lo1), hi1), f₂ likewise
/// (±infinity for none; relu: lo 0; relu6: lo 0, hi 6; a NaN stays NaN). `sum` nonzero adds
/// the value `y` holds (a residual), zero overwrites it; `bias` may be NULL. Outputs past
/// out_height/out_width (the last tile's overhang) are not written.
void zoo_winograd_f2_output(const float *m, long stride, const zoo_winograd_geometry *g, long first_tile,
                            long tiles, const float *bias, float lo1, float hi1, int sum, float lo2, float hi2,
                            float *y);

/// The weight gradient's transforms. For a tile's output gradient dy (2×2 per channel k),
/// dM = A dy Aᵀ (4×4; A = [[1, 0], [1, 1], [1, −1], [0, −1]]); then dU[ξ] = Σ_tiles V[ξ]ᵀ·dM[ξ]
/// ([C, K], the caller's sgemm) and dW = Gᵀ dU G ([3, 3, C, K]).
///
/// dM for tiles first_tile ..< first_tile + tiles of `dy` (the output gradient, [batch,
/// out_height, out_width, out_channels]); `m` is [16, stride, K]. Outputs past the map's edge
/// (the last tile's overhang) count as zero.
void zoo_winograd_f2_output_gradient(const float *dy, const zoo_winograd_geometry *g, long first_tile, long tiles,
                                     float *m, long stride);

/// dW = Gᵀ dU G: `du` [16, C, K] → `hwio` [3, 3, C, K] (overwritten), in double.
void zoo_winograd_f2_kernel_gradient(const float *du, float *hwio, long in_channels, long out_channels);

#endif
