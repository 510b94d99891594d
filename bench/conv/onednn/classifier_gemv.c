// The classifier at batch 1, y[1, N] = x[1, K]·W[K, N] (W in Keras' [in, out] layout), on two threads with W cold
// (a 64 MiB buffer written between calls) and warm, medians of 41: sgemm strips of W's columns (ZooNet's `Dense`
// before `zoo_matvec_rows`), one sgemm, bands of W's rows into partial sums (what `Dense` does now on up to 4
// rows), dot products on a transposed copy (PyTorch's / ONNX Runtime's [out, in] layout). K = 1280 (MobileNetV2) by
// default, 2048 for ResNet-50's:
//
//     gcc -O2 -fopenmp bench/conv/onednn/classifier_gemv.c -o /tmp/gemv -ldnnl && /tmp/gemv [K]
#include <dnnl.h>
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int K = 1280, N = 1000;
static float *W, *WT, *x, *y, *part[2], *flush;
static size_t flushN = 16 << 20;
__attribute__((target("avx2"))) static void splitk(int t) {
  int k0 = t * K / 2, k1 = (t + 1) * K / 2;
  float *out = part[t];
  memset(out, 0, N * 4);
  int k = k0;
  for (; k + 4 <= k1; k += 4) {
    __m256 a0 = _mm256_set1_ps(x[k]), a1 = _mm256_set1_ps(x[k + 1]), a2 = _mm256_set1_ps(x[k + 2]), a3 = _mm256_set1_ps(x[k + 3]);
    const float *w0 = W + (size_t)k * N, *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
    for (int j = 0; j + 8 <= N; j += 8) {
      __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(a0, _mm256_loadu_ps(w0 + j)), _mm256_mul_ps(a1, _mm256_loadu_ps(w1 + j))),
                               _mm256_add_ps(_mm256_mul_ps(a2, _mm256_loadu_ps(w2 + j)), _mm256_mul_ps(a3, _mm256_loadu_ps(w3 + j))));
      _mm256_storeu_ps(out + j, _mm256_add_ps(_mm256_loadu_ps(out + j), s));
    }
  }
}
__attribute__((target("avx2"))) static void transposed(int t) {
  int n0 = t * N / 2, n1 = (t + 1) * N / 2;
  for (int n = n0; n < n1; n++) {
    const float *w = WT + (size_t)n * K; __m256 s = _mm256_setzero_ps();
    for (int k = 0; k < K; k += 8) s = _mm256_add_ps(s, _mm256_mul_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(w + k)));
    float b[8]; _mm256_storeu_ps(b, s); y[n] = b[0]+b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7];
  }
}
static void strips(int t) {
  int n0 = t * N / 2, n1 = (t + 1) * N / 2;
  dnnl_sgemm('N', 'N', 1, n1 - n0, K, 1.f, x, K, W + n0, N, 0.f, y + n0, N);
}
static void strips1(int t) { if (t == 0) dnnl_sgemm('N', 'N', 1, N, K, 1.f, x, K, W, N, 0.f, y, N); }
static double run(void (*f)(int), int cold) {
  double ts[41];
  for (int r = 0; r < 41; r++) {
    if (cold) {
#pragma omp parallel for num_threads(2)
      for (size_t i = 0; i < flushN; i++) flush[i] += 1;
    }
    double t0 = now();
#pragma omp parallel num_threads(2)
    { f(omp_get_thread_num()); }
    if (f == splitk) for (int j = 0; j < N; j++) y[j] = part[0][j] + part[1][j];
    ts[r] = now() - t0;
  }
  for (int i = 0; i < 41; i++) for (int j = i + 1; j < 41; j++) if (ts[j] < ts[i]) { double u = ts[i]; ts[i] = ts[j]; ts[j] = u; }
  return ts[20] * 1e6;
}
int main(int argc, char **argv) {
  if (argc > 1) K = atoi(argv[1]);
  W = aligned_alloc(64, (size_t)K * N * 4); WT = aligned_alloc(64, (size_t)K * N * 4); x = malloc(K * 4); y = malloc(N * 4);
  part[0] = malloc(N * 4); part[1] = malloc(N * 4); flush = malloc(flushN * 4); memset(flush, 0, flushN * 4);
  for (size_t i = 0; i < (size_t)K * N; i++) W[i] = (i % 97) * 0.01f;
  for (int k = 0; k < K; k++) for (int n = 0; n < N; n++) WT[(size_t)n * K + k] = W[(size_t)k * N + n];
  for (int k = 0; k < K; k++) x[k] = (k % 13) * 0.1f;
  for (int rep = 0; rep < 3; rep++)
    for (int cold = 1; cold >= 0; cold--)
      printf("K %d %s strips %.0f µs  one sgemm %.0f  split-K %.0f  transposed %.0f\n", K, cold ? "cold" : "warm", run(strips, cold),
             run(strips1, cold), run(splitk, cold), run(transposed, cold));
}
