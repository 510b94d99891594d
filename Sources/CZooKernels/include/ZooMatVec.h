// Matrix-vector products of a dense layer on few rows (a classifier at batch 1), in C for AVX2
// (chosen at run time, like ZooKernels.h; the portable version does the same operations in the
// same order — no fused multiply-add — so both give bit-identical results).
#ifndef ZOO_MATVEC_H
#define ZOO_MATVEC_H

#include <stddef.h>

/// y[r, 0..<n] = Σ_{i < k} x[r, i]·w[i, 0..<n] for r < rows: x rows `ldx` floats apart, w rows
/// `ldw` apart, y rows n apart (overwritten). W is read once, front to back, four rows at a
/// time: `s = (x₀w₀ + x₁w₁) + (x₂w₂ + x₃w₃); y += s`, then the k mod 4 last rows one by one.
void zoo_matvec_rows(const float *x, size_t ldx, size_t rows, const float *w, size_t ldw, size_t k, size_t n, float *y);

#endif
