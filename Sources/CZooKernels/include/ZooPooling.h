// Max pooling's inference forward on NHWC maps, in C for AVX2 (chosen at run time, like
// ZooKernels.h; the portable version gives bit-identical results: max is exact).
#ifndef ZOO_POOLING_H
#define ZOO_POOLING_H

#include <stddef.h>
#include <stdint.h>

/// One image's window geometry: input [height, width, channels] → output [out_height,
/// out_width, channels]; windows kernel_height × kernel_width, stride_height × stride_width
/// apart, the first starting pad_top rows above and pad_left columns left of the input.
typedef struct {
    size_t height, width, channels;
    size_t out_height, out_width;
    size_t kernel_height, kernel_width, stride_height, stride_width;
    size_t pad_top, pad_left;
} zoo_pool_geometry;

/// y[r, q, :] = max over the window's cells inside the input of x (padded cells never win), for
/// the `count` output rows from `first` of the batch (row r: image r / out_height, row
/// r % out_height). Per channel `m = v > m ? v : m` from the window's first cell in row order:
/// a NaN in that first cell stays, NaNs after it are skipped. x: [N, height, width, C];
/// y: [N, out_height, out_width, C].
void zoo_max_pool_rows(const float *x, float *y, const zoo_pool_geometry *g, size_t first, size_t count);

/// Max pooling's training forward: y as zoo_max_pool_rows (the same values), and for every
/// output value the index of the input cell it came from, within its image's input
/// [height, width, C] (the first maximum in the window's row order, as above; -1 for a window
/// wholly in the padding). winner: [N, out_height, out_width, C].
void zoo_max_pool_train_rows(const float *x, float *y, int32_t *winner, const zoo_pool_geometry *g, size_t first,
                             size_t count);

/// Max pooling's backward pass for the images [first, first + count): their dx zeroed, then
/// dx[image, winner] += dy for every output value (in output order; -1 skipped).
void zoo_max_pool_backward_images(const float *dy, const int32_t *winner, float *dx, const zoo_pool_geometry *g,
                                  size_t first, size_t count);

#endif
