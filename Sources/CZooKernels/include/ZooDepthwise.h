// The weight gradient of a depthwise convolution on NHWC maps, in C for AVX2 (chosen at run
// time, like ZooKernels.h; the portable version adds in the same order, so both give
// bit-identical results).
#ifndef ZOO_DEPTHWISE_H
#define ZOO_DEPTHWISE_H

#include <stddef.h>

/// A depthwise convolution's geometry: input [batch, height, width, channels] → output
/// [batch, out_height, out_width, channels], one kernel_height × kernel_width filter per
/// channel, taps dilation apart, windows stride apart, the first starting pad_top rows above
/// and pad_left columns left of the input.
typedef struct {
    size_t batch, height, width, channels;
    size_t out_height, out_width;
    size_t kernel_height, kernel_width, stride_height, stride_width, dilation_height, dilation_width;
    size_t pad_top, pad_left;
} zoo_depthwise_geometry;

/// For the channels k in [first, last):
///   dw[a, b, k] = Σ_n Σ_p Σ_q dy[n, p, q, k] · x[n, p·sh + a·dh − pad_top, q·sw + b·dw − pad_left, k]
/// over the output positions whose tap (a, b) falls inside the input (taps on the padding add
/// nothing), summed in the order n, p, q; and, when db is not NULL, db[k] = Σ_n Σ_p Σ_q dy[n, p, q, k].
/// dw is [kernel_height, kernel_width, channels] (Keras' depthwise kernel layout with multiplier 1);
/// only the columns [first, last) of dw and db are written. Per sample and piece of 16 or 8
/// channels, a kernel row's taps (in groups of up to 5) sum in registers over the sample's
/// positions.
void zoo_depthwise_weight_gradient(const float *x, const float *dy, float *dw, float *db, const zoo_depthwise_geometry *g,
                                   size_t first, size_t last);

#endif
