// ZooNet's own direct convolution (Sources/CZooKernels/direct_convolution.c) against oneDNN 2.6's on the
// same NHWC maps, and against oneDNN's on nChw8c between two reorders (what ZooNet ran before on AVX2):
// ResNet-50's 3×3 shapes (those without Winograd: stride 2, 7×7 maps; then the others) and its 1×1s (the closing
// ones with their residual add as oneDNN's sum post-op), ReLU, best of
// 7 timings (FLUSH=1: median of 21 calls from flushed caches), 2 threads; max |own − oneDNN| per shape. Usage:
//
//     clang -O2 -I Sources/CZooKernels/include bench/conv/onednn/own_direct.c Sources/CZooKernels/direct_convolution.c \
//        Sources/CZooKernels/kernels.c Sources/CZooKernels/parallel.c -o /tmp/own_direct -ldnnl -lgomp -lm && OMP_NUM_THREADS=2 /tmp/own_direct [batch]
#include <dnnl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ZooDirectConvolution.h"
#include "ZooParallel.h"
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static dnnl_engine_t eng; static dnnl_stream_t st;
static dnnl_memory_t mem(const dnnl_memory_desc_t *d, void *data) {
  dnnl_memory_t m; CHK(dnnl_memory_create(&m, d, eng, data ? data : DNNL_MEMORY_ALLOCATE));
  if (!data) { void *p; dnnl_memory_get_data_handle(m, &p); memset(p, 0, dnnl_memory_desc_get_size(d)); }
  return m;
}
static dnnl_primitive_t reorder(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b) {
  dnnl_primitive_desc_t pd; CHK(dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL));
  dnnl_primitive_t p; CHK(dnnl_primitive_create(&p, pd)); dnnl_primitive_desc_destroy(pd); return p;
}
static float *randoms(size_t n, float scale) {
  float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
  for (size_t i = 0; i < n; i++) p[i] = scale * ((float)rand() / (float)RAND_MAX - 0.5f);
  return p;
}
// FLUSH=1: every call starts with the caches flushed (a 64 MB buffer read first, outside the timing; read, not
// written, so no dirty lines are written back during the call),
// as in a network where each layer's weights come from memory; then the median of 21 calls.
static int flush;
static void flush_caches(void) {
  static char *junk; const size_t n = 64u << 20;
  if (!junk) { junk = malloc(n); memset(junk, 1, n); }
  volatile char sink = 0;
  for (size_t i = 0; i < n; i += 64) sink += junk[i];
}
static double median21(double *t) {
  for (int i = 0; i < 21; i++) for (int j = i + 1; j < 21; j++) if (t[j] < t[i]) { double u = t[i]; t[i] = t[j]; t[j] = u; }
  return t[10];
}
#define TIME(ms, body) do { if (flush) { double t_[21]; for (int r_ = 0; r_ < 21; r_++) { flush_caches(); double t0_ = now(); body; \
  t_[r_] = now() - t0_; } ms = median21(t_) * 1e3; break; } double best_ = 1e9; for (int r_ = 0; r_ < 7; r_++) { int n_ = 0; double t0_ = now(); \
  while (now() - t0_ < 0.06) { body; n_++; } double t_ = (now() - t0_) / n_; if (t_ < best_) best_ = t_; } ms = best_ * 1e3; } while (0)

int main(int argc, char **argv) {
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  int mb = argc > 1 ? atoi(argv[1]) : 1;
  flush = getenv("FLUSH") && atoi(getenv("FLUSH"));
  long l2 = argc > 2 ? atol(argv[2]) : 512 * 1024;
  // {in channels, out channels, input size, kernel size, stride, residual add}: ResNet-50's 3×3s, then its
  // closing 1×1s (+ residual add, ReLU) and opening 1×1s.
  int shapes[][6] = {{128, 128, 56, 3, 2, 0}, {256, 256, 28, 3, 2, 0}, {512, 512, 14, 3, 2, 0}, {512, 512, 7, 3, 1, 0},
                     {256, 256, 14, 3, 1, 0}, {128, 128, 28, 3, 1, 0}, {64, 64, 56, 3, 1, 0},
                     {64, 256, 56, 1, 1, 1}, {128, 512, 28, 1, 1, 1}, {256, 1024, 14, 1, 1, 1}, {512, 2048, 7, 1, 1, 1},
                     {256, 64, 56, 1, 1, 0}, {512, 128, 28, 1, 1, 0}, {1024, 256, 14, 1, 1, 0}, {2048, 512, 7, 1, 1, 0}};
  double tn = 0, tb = 0, to = 0;
  for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    int ic = shapes[i][0], oc = shapes[i][1], ih = shapes[i][2], kh = shapes[i][3], sh = shapes[i][4], sum = shapes[i][5];
    int ph = kh / 2, oh = (ih + 2 * ph - kh) / sh + 1;
    size_t outs = (size_t)mb * oh * oh * oc;
    float *x = randoms((size_t)mb * ih * ih * ic, 2), *w = randoms((size_t)kh * kh * ic * oc, 0.1f), *bias = randoms(oc, 1);
    float *addend = randoms(outs, 2), *y1 = calloc(outs, 4), *y2 = calloc(outs, 4);
    dnnl_dims_t sd = {mb, ic, ih, ih}, dd = {mb, oc, oh, oh}, wd = {oc, ic, kh, kh}, bd = {oc}, s = {sh, sh}, p = {ph, ph};
    dnnl_memory_desc_t src, dst, bsrc, bdst, wany, whwio, bia;
    CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
    CHK(dnnl_memory_desc_init_by_tag(&bsrc, 4, sd, dnnl_f32, dnnl_nChw8c)); CHK(dnnl_memory_desc_init_by_tag(&bdst, 4, dd, dnnl_f32, dnnl_nChw8c));
    CHK(dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any)); CHK(dnnl_memory_desc_init_by_tag(&whwio, 4, wd, dnnl_f32, dnnl_hwio));
    CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
    dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr));
    dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po));
    if (sum) CHK(dnnl_post_ops_append_sum(po, 1.f));
    CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f));
    CHK(dnnl_primitive_attr_set_post_ops(attr, po));
    double ms[2] = {0, 0}; const char *impl[2] = {"", "-"};
    for (int blocked = 0; blocked < (sum ? 1 : 2); blocked++) {  // a residual add on nChw8c would need the addend reordered too
      dnnl_convolution_desc_t cd;
      CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, blocked ? &bsrc : &src, &wany, &bia,
                                             blocked ? &bdst : &dst, s, p, p));
      dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
      dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl[blocked]);
      const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
      dnnl_memory_t ms_ = mem(&src, x), md = mem(&dst, y1), mbs = mem(&bsrc, NULL), mbd = mem(&bdst, NULL);
      dnnl_memory_t mwh = mem(&whwio, w), mw = mem(wmd, NULL), mbias = mem(&bia, bias);
      dnnl_primitive_t wr = reorder(&whwio, wmd);
      dnnl_exec_arg_t wa[2] = {{DNNL_ARG_FROM, mwh}, {DNNL_ARG_TO, mw}};
      CHK(dnnl_primitive_execute(wr, st, 2, wa));
      dnnl_primitive_t conv; CHK(dnnl_primitive_create(&conv, pd));
      dnnl_primitive_t in = reorder(&src, &bsrc), out = reorder(&bdst, &dst);
      dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, blocked ? mbs : ms_}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mbias}, {DNNL_ARG_DST, blocked ? mbd : md}};
      dnnl_exec_arg_t rin[2] = {{DNNL_ARG_FROM, ms_}, {DNNL_ARG_TO, mbs}}, rout[2] = {{DNNL_ARG_FROM, mbd}, {DNNL_ARG_TO, md}};
      if (!blocked) { memcpy(y1, addend, outs * 4); CHK(dnnl_primitive_execute(conv, st, 4, args)); }  // the reference output
      float *kept = malloc(outs * 4); memcpy(kept, y1, outs * 4);
      TIME(ms[blocked], {
        if (blocked) CHK(dnnl_primitive_execute(in, st, 2, rin));
        CHK(dnnl_primitive_execute(conv, st, 4, args));
        if (blocked) CHK(dnnl_primitive_execute(out, st, 2, rout));
      });
      memcpy(y1, kept, outs * 4); free(kept);
    }
    zoo_direct_geometry g = {mb, ih, ih, ic, oh, oh, oc, kh, kh, sh, sh, 1, 1, ph, ph};
    if (!zoo_direct_supports(&g)) { fprintf(stderr, "own kernel unsupported\n"); return 1; }
    float *packed = aligned_alloc(64, zoo_direct_packed_count(&g) * 4);
    zoo_direct_pack(&g, w, packed);
    zoo_direct_schedule sc = zoo_direct_default_schedule(&g, 2, l2);
    if (getenv("GROUP")) sc.blocks_per_group = atol(getenv("GROUP"));
    if (getenv("CHUNK")) sc.tiles_per_chunk = atol(getenv("CHUNK"));
    zoo_direct_epilogue e = {0, INFINITY, sum, -INFINITY, INFINITY};
    if (sum) { e.lo1 = -INFINITY; e.lo2 = 0; }  // oneDNN's order: conv + bias, + addend, ReLU
    memcpy(y2, addend, outs * 4);
    zoo_direct_convolution(&g, &sc, x, packed, bias, &e, y2, 2);
    double diff = 0, top = 0;
    for (size_t k = 0; k < outs; k++) { diff = fmax(diff, fabs(y1[k] - y2[k])); top = fmax(top, fabs(y1[k])); }
    double own;
    TIME(own, zoo_direct_convolution(&g, &sc, x, packed, bias, &e, y2, 2));
    double gflop = 2.0 * mb * oh * oh * oc * ic * kh * kh / 1e9;
    printf("ic %4d oc %4d %3d×%-3d %d×%d s%d%s nhwc %6.3f ms  blocked %6.3f  own %6.3f (%3.0f GFLOP/s, group %ld chunk %ld)  nhwc/own %.2f  max|Δ| %.1e of %.1f  [%s | %s]\n",
           ic, oc, ih, ih, kh, kh, sh, sum ? " +add" : "     ", ms[0], ms[1], own, gflop / own * 1e3, sc.blocks_per_group, sc.tiles_per_chunk,
           ms[0] / own, diff, top, impl[0], impl[1]);
    tn += ms[0]; tb += ms[1]; to += own;
  }
  printf("sum nhwc %.3f own %.3f  nhwc/own %.2f\n", tn, to, tn / to);
}
