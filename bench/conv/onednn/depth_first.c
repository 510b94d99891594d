// MobileNetV2's inverted-residual blocks (1×1 expansion → 3×3 depthwise → 1×1 projection, ReLU6, NHWC) on
// oneDNN 2.6 three ways, batch 32, best of 7: layer by layer in passes of 4 images, each primitive on both
// threads (what ZooNet did before `DepthFirstBlock`); per image, one thread per image, layer by layer;
// depth-first, one thread per image, stripes of R output rows (the expanded rows kept in a per-thread
// buffer, the overlap moved up, not recomputed). Run it alone and again with a busy loop on one core
// (a noisy neighbour):
//
//     cc -O2 -fopenmp bench/conv/onednn/depth_first.c -o /tmp/depth_first -ldnnl && OMP_NUM_THREADS=2 /tmp/depth_first
//     taskset -c 1 sh -c 'while :; do :; done' & OMP_NUM_THREADS=2 /tmp/depth_first; kill %1
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
dnnl_engine_t eng;
typedef struct { dnnl_primitive_t p; dnnl_memory_t src, wei, bia, dst; dnnl_stream_t st; } prim_t;
static float *wbuf, *bbuf;
// conv: mb, ic, oc, ih, iw, oh, ow, k, stride, pt, pb, pl, pr, groups(0=none), sum
static prim_t conv(int mb, int ic, int oc, int ih, int iw, int oh, int ow, int k, int s, int pt, int pb, int pl, int pr, int dw, int sum) {
  prim_t r;
  dnnl_dims_t sd = {mb, ic, ih, iw}, dd = {mb, oc, oh, ow}, bd = {oc};
  dnnl_memory_desc_t src, dst, wei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
  if (dw) { dnnl_dims_t wd = {oc, 1, 1, k, k}; CHK(dnnl_memory_desc_init_by_tag(&wei, 5, wd, dnnl_f32, dnnl_format_tag_any)); }
  else { dnnl_dims_t wd = {oc, ic, k, k}; CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); }
  CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_dims_t st = {s, s}, pl_ = {pt, pl}, pr_ = {pb, pr};
  dnnl_convolution_desc_t cd; CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bia, &dst, st, pl_, pr_));
  dnnl_primitive_attr_t at; CHK(dnnl_primitive_attr_create(&at)); dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po));
  if (sum) CHK(dnnl_post_ops_append_sum(po, 1.f)); else CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f));
  CHK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, at, eng, NULL));
  CHK(dnnl_primitive_create(&r.p, pd));
  CHK(dnnl_memory_create(&r.src, &src, eng, DNNL_MEMORY_NONE)); CHK(dnnl_memory_create(&r.dst, &dst, eng, DNNL_MEMORY_NONE));
  CHK(dnnl_memory_create(&r.wei, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), eng, wbuf));
  CHK(dnnl_memory_create(&r.bia, &bia, eng, bbuf));
  CHK(dnnl_stream_create(&r.st, eng, dnnl_stream_default_flags));
  return r;
}
static void run(prim_t *p, const float *x, float *y) {
  CHK(dnnl_memory_set_data_handle(p->src, (void *)x)); CHK(dnnl_memory_set_data_handle(p->dst, y));
  dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->wei}, {DNNL_ARG_BIAS, p->bia}, {DNNL_ARG_DST, p->dst}};
  CHK(dnnl_primitive_execute(p->p, p->st, 4, a));
}
// block: H (input), cin, t (expansion, 1 = none), s, cout
typedef struct { int h, cin, ce, s, cout, res; } block_t;
#define N 32
#define MB 4
static double layerwise(block_t b, float *x, float *e, float *d, float *y) {
  int ho = b.h / b.s;
  prim_t pe, pd, pp;
  if (b.ce != b.cin) pe = conv(MB, b.cin, b.ce, b.h, b.h, b.h, b.h, 1, 1, 0, 0, 0, 0, 0, 0);
  pd = conv(MB, b.ce, b.ce, b.h, b.h, ho, ho, 3, b.s, 1, 1, 1, 1, 1, 0);
  pp = conv(MB, b.ce, b.cout, ho, ho, ho, ho, 1, 1, 0, 0, 0, 0, 0, b.res);
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    double t0 = now();
    for (int i = 0; i < N; i += MB) {
      const float *xi = x + (long)i * b.h * b.h * b.cin;
      if (b.ce != b.cin) { run(&pe, xi, e); run(&pd, e, d); } else run(&pd, xi, d);
      run(&pp, d, y + (long)i * ho * ho * b.cout);
    }
    double t = now() - t0; if (t < best) best = t;
  }
  return best * 1e3;
}
static double depthfirst(block_t b, float *x, float *y, int R) {
  int H = b.h, W = b.h, ho = H / b.s, s = b.s, rin = (R - 1) * s + 3;
  int threads = omp_get_max_threads();
  // per thread: primitives for expansion of n rows (n = 1..rin), dw steady + tail, projection steady + tail
  prim_t pe[8][32], pdw[8][2], pp[8][2]; float *E[8], *D[8];
  int tail = ho % R ? ho % R : R;
  for (int t = 0; t < threads; t++) {
    if (b.ce != b.cin) for (int n = 1; n <= rin; n++) pe[t][n] = conv(1, b.cin, b.ce, n, W, n, W, 1, 1, 0, 0, 0, 0, 0, 0);
    pdw[t][0] = conv(1, b.ce, b.ce, rin, W, R, ho, 3, s, 0, 0, 1, 1, 1, 0);
    pdw[t][1] = conv(1, b.ce, b.ce, (tail - 1) * s + 3, W, tail, ho, 3, s, 0, 0, 1, 1, 1, 0);
    pp[t][0] = conv(1, b.ce, b.cout, R, ho, R, ho, 1, 1, 0, 0, 0, 0, 0, b.res);
    pp[t][1] = conv(1, b.ce, b.cout, tail, ho, tail, ho, 1, 1, 0, 0, 0, 0, 0, b.res);
    E[t] = aligned_alloc(64, (size_t)rin * W * b.ce * 4); D[t] = aligned_alloc(64, (size_t)R * ho * b.ce * 4);
  }
  long rowE = (long)W * b.ce;
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    double t0 = now();
    #pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < N; i++) {
      int t = omp_get_thread_num();
      const float *xi = x + (long)i * H * W * b.cin; float *yi = y + (long)i * ho * ho * b.cout;
      float *e = E[t];
      int have = -1 - 1;  // next input row index the buffer's row 0 stands for
      int filled = 0;     // rows valid in buffer
      for (int o0 = 0; o0 < ho; o0 += R) {
        int rr = o0 + R <= ho ? R : ho - o0, need = (rr - 1) * s + 3, first = o0 * s - 1;
        // keep the overlap
        if (filled > 0) { int keep = have + filled - first; memmove(e, e + (long)(filled - keep) * rowE, keep * rowE * 4); filled = keep; }
        have = first;
        // rows first+filled .. first+need-1
        int r0 = first + filled, r1 = first + need;  // [r0, r1)
        while (r0 < r1 && r0 < 0) { memset(e + (long)(r0 - first) * rowE, 0, rowE * 4); r0++; }
        int hi = r1 < H ? r1 : H;
        if (hi > r0) {
          if (b.ce != b.cin) run(&pe[t][hi - r0], xi + (long)r0 * W * b.cin, e + (long)(r0 - first) * rowE);
          else memcpy(e + (long)(r0 - first) * rowE, xi + (long)r0 * W * b.cin, (long)(hi - r0) * rowE * 4);
        }
        for (int q = hi > r0 ? hi : r0; q < r1; q++) memset(e + (long)(q - first) * rowE, 0, rowE * 4);
        filled = need;
        run(&pdw[t][rr == R ? 0 : 1], e, D[t]);
        run(&pp[t][rr == R ? 0 : 1], D[t], yi + (long)o0 * ho * b.cout);
      }
    }
    double t = now() - t0; if (t < best) best = t;
  }
  return best * 1e3;
}

static double perimage(block_t b, float *x, float *y) {
  int ho = b.h / b.s, threads = omp_get_max_threads();
  prim_t pe[8], pd[8], pp[8]; float *E[8], *D[8];
  for (int t = 0; t < threads; t++) {
    if (b.ce != b.cin) pe[t] = conv(1, b.cin, b.ce, b.h, b.h, b.h, b.h, 1, 1, 0, 0, 0, 0, 0, 0);
    pd[t] = conv(1, b.ce, b.ce, b.h, b.h, ho, ho, 3, b.s, 1, 1, 1, 1, 1, 0);
    pp[t] = conv(1, b.ce, b.cout, ho, ho, ho, ho, 1, 1, 0, 0, 0, 0, 0, b.res);
  }
  static float *e, *d; if (!e) { e = aligned_alloc(64, (size_t)MB * 112 * 112 * 96 * 4); d = aligned_alloc(64, (size_t)MB * 112 * 112 * 96 * 4); }
  long xe = (long)b.h * b.h * b.cin, ee = (long)b.h * b.h * b.ce, de = (long)ho * ho * b.ce, ye = (long)ho * ho * b.cout;
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    double t0 = now();
    for (int i = 0; i < N; i += MB) {
      if (b.ce != b.cin) {
        #pragma omp parallel for schedule(dynamic, 1)
        for (int j = 0; j < MB; j++) run(&pe[omp_get_thread_num()], x + (i + j) * xe, e + j * ee);
      }
      #pragma omp parallel for schedule(dynamic, 1)
      for (int j = 0; j < MB; j++) run(&pd[omp_get_thread_num()], b.ce != b.cin ? e + j * ee : x + (i + j) * xe, d + j * de);
      #pragma omp parallel for schedule(dynamic, 1)
      for (int j = 0; j < MB; j++) run(&pp[omp_get_thread_num()], d + j * de, y + (i + j) * ye);
    }
    double t = now() - t0; if (t < best) best = t;
  }
  return best * 1e3;
}
int main(int argc, char **argv) {
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  wbuf = calloc(1 << 22, 4); bbuf = calloc(4096, 4);
  for (int i = 0; i < 1 << 22; i++) wbuf[i] = (i % 7) * 0.01f;
  block_t blocks[] = {{112, 32, 32, 1, 16, 0}, {112, 16, 96, 2, 24, 0}, {56, 24, 144, 1, 24, 1}, {56, 24, 144, 2, 32, 0}, {28, 32, 192, 1, 32, 1}, {14, 64, 384, 1, 64, 1}};
  float *x = calloc((long)N * 112 * 112 * 32, 4), *e = calloc((long)MB * 112 * 112 * 96, 4), *d = calloc((long)MB * 112 * 112 * 96, 4), *y = calloc((long)N * 112 * 112 * 32, 4);
  for (long i = 0; i < (long)N * 112 * 112 * 32; i++) x[i] = (i % 13) * 0.1f;
  for (int k = 0; k < 6; k++) {
    block_t b = blocks[k];
    double l = layerwise(b, x, e, d, y);
    printf("block h%d %d->%d->%d s%d: layerwise %.2f ms", b.h, b.cin, b.ce, b.cout, b.s, l);
    double pi = perimage(b, x, y); printf(" | per-image %.2f (%.2fx)", pi, l / pi);
    for (int R = 4; R <= 8; R *= 2) { double df = depthfirst(b, x, y, R); printf(" | R%d %.2f (%.2fx)", R, df, l / df); }
    printf("\n");
  }
}
