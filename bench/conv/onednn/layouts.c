// oneDNN 2.6 forward convolutions of MobileNetV2's and ResNet-50's shapes with NHWC activations
// (what ZooNet keeps between layers) against the blocked nChw8c layout (what ONNX Runtime's NCHWc
// kernels use), ReLU6 post-op, best of 7 timings, 2 threads: per shape and summed.
//
//     cc -O2 bench/conv/onednn/layouts.c -o /tmp/layouts -ldnnl && OMP_NUM_THREADS=2 /tmp/layouts [batch]
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
dnnl_engine_t eng; dnnl_stream_t st;
static double cmp(int mb, int ic, int oc, int ih, int kh, int sh, int groups, dnnl_format_tag_t act) {
  int ph = kh / 2; int oh = (ih + 2 * ph - kh) / sh + 1;
  dnnl_dims_t sd = {mb, ic, ih, ih}, dd = {mb, oc, oh, oh};
  dnnl_memory_desc_t src, dst, wei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, act));
  CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, act));
  if (groups == 1) { dnnl_dims_t wd = {oc, ic, kh, kh}; CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); }
  else { dnnl_dims_t wd = {groups, oc/groups, ic/groups, kh, kh}; CHK(dnnl_memory_desc_init_by_tag(&wei, 5, wd, dnnl_f32, dnnl_format_tag_any)); }
  dnnl_dims_t bd = {oc}; CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_dims_t s = {sh, sh}, p = {ph, ph};
  dnnl_convolution_desc_t cd;
  CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bia, &dst, s, p, p));
  dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr));
  dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po)); CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f));
  CHK(dnnl_primitive_attr_set_post_ops(attr, po));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
  const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t ms, md, mw, mb_;
  CHK(dnnl_memory_create(&ms, &src, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&md, &dst, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mw, wmd, eng, DNNL_MEMORY_ALLOCATE));
  CHK(dnnl_memory_create(&mb_, &bia, eng, DNNL_MEMORY_ALLOCATE));
  float *p0; dnnl_memory_get_data_handle(ms, (void**)&p0); memset(p0, 0, dnnl_memory_desc_get_size(&src));
  dnnl_memory_get_data_handle(mw, (void**)&p0); memset(p0, 0, dnnl_memory_desc_get_size(wmd));
  dnnl_primitive_t prim; CHK(dnnl_primitive_create(&prim, pd));
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb_}, {DNNL_ARG_DST, md}};
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    int n = 0; double t0 = now();
    while (now() - t0 < 0.06) { CHK(dnnl_primitive_execute(prim, st, 4, args)); dnnl_stream_wait(st); n++; }
    double t = (now() - t0) / n; if (t < best) best = t;
  }
  dnnl_primitive_destroy(prim); dnnl_primitive_desc_destroy(pd);
  dnnl_memory_destroy(ms); dnnl_memory_destroy(md); dnnl_memory_destroy(mw); dnnl_memory_destroy(mb_);
  fprintf(stderr, "   %s\n", impl);
  return best * 1e3;
}
int main(int argc, char **argv) {
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  int mb = argc > 1 ? atoi(argv[1]) : 1;
  int shapes[][6] = { // ic oc ih kh sh groups
    {96,576,14,1,1,1},{160,960,7,1,1,1},{320,1280,7,1,1,1},{24,144,56,1,1,1},{16,96,112,1,1,1},{576,96,14,1,1,1},{64,384,14,1,1,1},
    {144,24,56,1,1,1},{32,16,112,1,1,1},
    {96,96,112,3,2,96},{144,144,56,3,1,144},{32,32,112,3,1,32},{384,384,14,3,1,384},
    {64,64,56,3,1,1},{256,64,56,1,1,1},{64,256,56,1,1,1},{128,128,28,3,1,1},{256,256,14,3,1,1},{512,512,7,3,1,1},{1024,256,14,1,1,1},{256,1024,14,1,1,1},
  };
  double tn = 0, tb = 0;
  for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    int *s = shapes[i];
    double a = cmp(mb, s[0], s[1], s[2], s[3], s[4], s[5], dnnl_nhwc);
    double b = cmp(mb, s[0], s[1], s[2], s[3], s[4], s[5], dnnl_nChw8c);
    printf("ic%4d oc%4d ih%4d k%d s%d g%4d  nhwc %.4f ms  nChw8c %.4f ms  ratio %.2f\n", s[0], s[1], s[2], s[3], s[4], s[5], a, b, a / b);
    tn += a; tb += b;
  }
  printf("sum nhwc %.3f nChw8c %.3f ratio %.2f\n", tn, tb, tn / tb);
}
