// oneDNN 2.6's direct (not 1×1, not depthwise) convolutions on AVX2 with NHWC activations against the same
// convolution on nChw8c between two reorders (NHWC → nChw8c before, nChw8c → NHWC after): the shapes
// ResNet-50 runs without Winograd (stride 2, 7×7 maps) and its 14×14 3×3 layer, ReLU post-op, best of 7
// timings, 2 threads. Usage:
//
//     cc -O2 bench/conv/onednn/blocked_direct.c -o /tmp/blocked_direct -ldnnl && OMP_NUM_THREADS=2 /tmp/blocked_direct [batch]
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static dnnl_engine_t eng; static dnnl_stream_t st;
static dnnl_memory_t mem(const dnnl_memory_desc_t *d) {
  dnnl_memory_t m; CHK(dnnl_memory_create(&m, d, eng, DNNL_MEMORY_ALLOCATE));
  void *p; dnnl_memory_get_data_handle(m, &p); memset(p, 0, dnnl_memory_desc_get_size(d)); return m;
}
static dnnl_primitive_t reorder(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b) {
  dnnl_primitive_desc_t pd; CHK(dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL));
  dnnl_primitive_t p; CHK(dnnl_primitive_create(&p, pd)); dnnl_primitive_desc_destroy(pd); return p;
}
// Milliseconds per call, best of 7: NHWC (blocked = 0) or reorder + nChw8c + reorder (blocked = 1).
static double run(int mb, int ic, int oc, int ih, int kh, int sh, int blocked, const char **impl) {
  int ph = kh / 2, oh = (ih + 2 * ph - kh) / sh + 1;
  dnnl_dims_t sd = {mb, ic, ih, ih}, dd = {mb, oc, oh, oh}, wd = {oc, ic, kh, kh}, bd = {oc}, s = {sh, sh}, p = {ph, ph};
  dnnl_memory_desc_t src, dst, bsrc, bdst, wei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
  CHK(dnnl_memory_desc_init_by_tag(&bsrc, 4, sd, dnnl_f32, dnnl_nChw8c)); CHK(dnnl_memory_desc_init_by_tag(&bdst, 4, dd, dnnl_f32, dnnl_nChw8c));
  CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_convolution_desc_t cd;
  CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, blocked ? &bsrc : &src, &wei, &bia,
                                         blocked ? &bdst : &dst, s, p, p));
  dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr));
  dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po)); CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f));
  CHK(dnnl_primitive_attr_set_post_ops(attr, po));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl);
  dnnl_memory_t ms = mem(&src), md = mem(&dst), mbs = mem(&bsrc), mbd = mem(&bdst);
  dnnl_memory_t mw = mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)), mbias = mem(&bia);
  dnnl_primitive_t conv; CHK(dnnl_primitive_create(&conv, pd));
  dnnl_primitive_t in = reorder(&src, &bsrc), out = reorder(&bdst, &dst);
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, blocked ? mbs : ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mbias}, {DNNL_ARG_DST, blocked ? mbd : md}};
  dnnl_exec_arg_t rin[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, mbs}}, rout[2] = {{DNNL_ARG_FROM, mbd}, {DNNL_ARG_TO, md}};
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    int n = 0; double t0 = now();
    while (now() - t0 < 0.06) {
      if (blocked) CHK(dnnl_primitive_execute(in, st, 2, rin));
      CHK(dnnl_primitive_execute(conv, st, 4, args));
      if (blocked) CHK(dnnl_primitive_execute(out, st, 2, rout));
      n++;
    }
    double t = (now() - t0) / n; if (t < best) best = t;
  }
  return best * 1e3;
}
int main(int argc, char **argv) {
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  int mb = argc > 1 ? atoi(argv[1]) : 1;
  int shapes[][4] = {{128, 128, 56, 2}, {256, 256, 28, 2}, {512, 512, 14, 2}, {512, 512, 7, 1}, {256, 256, 14, 1}, {128, 128, 28, 1}, {64, 64, 56, 1}};
  double tn = 0, tb = 0;
  for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    int *s = shapes[i]; const char *a_impl, *b_impl;
    double a = run(mb, s[0], s[1], s[2], 3, s[3], 0, &a_impl), b = run(mb, s[0], s[1], s[2], 3, s[3], 1, &b_impl);
    printf("ic %4d oc %4d %3d×%-3d 3×3 s%d  nhwc %7.3f ms (%s)  reorder+nChw8c+reorder %7.3f ms (%s)  ratio %.2f\n",
           s[0], s[1], s[2], s[2], s[3], a, a_impl, b, b_impl, a / b);
    tn += a; tb += b;
  }
  printf("sum nhwc %.3f blocked %.3f ratio %.2f\n", tn, tb, tn / tb);
}
