// 1×1 convolutions of MobileNetV2 on oneDNN 2.6's jit_1x1 kernel (NHWC, ReLU6 post-op) against the
// same product as one dnnl_sgemm ([N·H·W, C]·[C, K], threaded by oneDNN), best of 7, 2 threads.
//
//     cc -O2 bench/conv/onednn/gemm_1x1.c -o /tmp/gemm_1x1 -ldnnl && OMP_NUM_THREADS=2 /tmp/gemm_1x1 [batch]
// 1x1 conv (oneDNN jit_1x1, nhwc) vs dnnl_sgemm [HW, C] x [C, K] (threaded by oneDNN) for MobileNetV2 shapes
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
dnnl_engine_t eng; dnnl_stream_t st;
double conv(int mb, int ic, int oc, int h) {
  dnnl_dims_t sd = {mb, ic, h, h}, dd = {mb, oc, h, h}, wd = {oc, ic, 1, 1}, bd = {oc};
  dnnl_memory_desc_t src, dst, wei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
  CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_dims_t s = {1, 1}, p = {0, 0};
  dnnl_convolution_desc_t cd; CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bia, &dst, s, p, p));
  dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr)); dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po));
  CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f)); CHK(dnnl_primitive_attr_set_post_ops(attr, po));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
  const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t ms, md, mw, mb_;
  CHK(dnnl_memory_create(&ms, &src, eng, DNNL_MEMORY_ALLOCATE)); CHK(dnnl_memory_create(&md, &dst, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mw, wmd, eng, DNNL_MEMORY_ALLOCATE)); CHK(dnnl_memory_create(&mb_, &bia, eng, DNNL_MEMORY_ALLOCATE));
  dnnl_primitive_t prim; CHK(dnnl_primitive_create(&prim, pd));
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb_}, {DNNL_ARG_DST, md}};
  double best = 1e9;
  for (int r = 0; r < 7; r++) { int n = 0; double t0 = now(); while (now() - t0 < 0.05) { CHK(dnnl_primitive_execute(prim, st, 4, args)); n++; } double t = (now() - t0) / n; if (t < best) best = t; }
  return best * 1e3;
}
double gemm(int mb, int ic, int oc, int h) {
  long m = (long)mb * h * h; float *a = calloc(m * ic, 4), *b = calloc((long)ic * oc, 4), *c = calloc(m * oc, 4);
  double best = 1e9;
  for (int r = 0; r < 7; r++) { int n = 0; double t0 = now(); while (now() - t0 < 0.05) { dnnl_sgemm('N', 'N', m, oc, ic, 1.f, a, ic, b, oc, 0.f, c, oc); n++; } double t = (now() - t0) / n; if (t < best) best = t; }
  free(a); free(b); free(c); return best * 1e3;
}
int main(int argc, char **argv) {
  dnnl_engine_create(&eng, dnnl_cpu, 0); dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
  int mb = argc > 1 ? atoi(argv[1]) : 1;
  int sh[][3] = {{96,576,14},{160,960,7},{320,1280,7},{24,144,56},{16,96,112},{576,96,14},{64,384,14},{144,24,56},{32,16,112},{384,64,14},{32,192,28},{192,32,28}};
  double tc = 0, tg = 0;
  for (int i = 0; i < 12; i++) { double a = conv(mb, sh[i][0], sh[i][1], sh[i][2]), b = gemm(mb, sh[i][0], sh[i][1], sh[i][2]); tc += a; tg += b;
    printf("ic%4d oc%4d h%4d conv %.4f gemm %.4f ratio %.2f\n", sh[i][0], sh[i][1], sh[i][2], a, b, a / b); }
  printf("sum conv %.3f gemm %.3f\n", tc, tg);
}
