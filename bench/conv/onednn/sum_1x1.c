// ResNet-50's bottleneck-closing 1×1 convolution (C → 4C) with its residual add as a sum post-op and ReLU, on
// oneDNN 2.6, NHWC and nChw8c, with and without the sum, batch 1 and 6 (ResNet-50's inference pass at 224), best of
// 7 loops of 0.1 s, milliseconds per image, 2 threads:
//
//     gcc -O2 bench/conv/onednn/sum_1x1.c -o /tmp/sum_1x1 -ldnnl && OMP_NUM_THREADS=2 /tmp/sum_1x1
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static dnnl_engine_t eng; static dnnl_stream_t st;
static dnnl_memory_t mem(const dnnl_memory_desc_t *d) { dnnl_memory_t m; CHK(dnnl_memory_create(&m, d, eng, DNNL_MEMORY_ALLOCATE)); void *p; dnnl_memory_get_data_handle(m, &p); memset(p, 0, dnnl_memory_desc_get_size(d)); return m; }
static double run(int mb, int ic, int oc, int h, int sum, dnnl_format_tag_t tag, const char **impl) {
  dnnl_dims_t sd = {mb, ic, h, h}, dd = {mb, oc, h, h}, wd = {oc, ic, 1, 1}, bd = {oc}, s = {1, 1}, p = {0, 0};
  dnnl_memory_desc_t src, dst, wei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, tag)); CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, tag));
  CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_convolution_desc_t cd;
  CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bia, &dst, s, p, p));
  dnnl_primitive_attr_t attr; CHK(dnnl_primitive_attr_create(&attr));
  dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po));
  if (sum) CHK(dnnl_post_ops_append_sum(po, 1.f));
  CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f));
  CHK(dnnl_primitive_attr_set_post_ops(attr, po));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl);
  dnnl_memory_t ms = mem(&src), md = mem(&dst), mw = mem(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)), mbias = mem(&bia);
  dnnl_primitive_t conv; CHK(dnnl_primitive_create(&conv, pd));
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mbias}, {DNNL_ARG_DST, md}};
  double best = 1e9;
  for (int r = 0; r < 7; r++) {
    int n = 0; double t0 = now();
    while (now() - t0 < 0.1) { CHK(dnnl_primitive_execute(conv, st, 4, args)); n++; }
    double t = (now() - t0) / n; if (t < best) best = t;
  }
  return best * 1e3 / mb;
}
int main() {
  CHK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  int shapes[][3] = {{64, 256, 56}, {128, 512, 28}, {256, 1024, 14}, {512, 2048, 7}};
  for (int mb = 1; mb <= 6; mb += 5)
    for (int i = 0; i < 4; i++) {
      const char *a, *b, *c, *d;
      double ns = run(mb, shapes[i][0], shapes[i][1], shapes[i][2], 0, dnnl_nhwc, &a), ws = run(mb, shapes[i][0], shapes[i][1], shapes[i][2], 1, dnnl_nhwc, &b);
      double bn = run(mb, shapes[i][0], shapes[i][1], shapes[i][2], 0, dnnl_nChw8c, &c), bs = run(mb, shapes[i][0], shapes[i][1], shapes[i][2], 1, dnnl_nChw8c, &d);
      printf("mb %d %4d->%4d %2dx%-2d ms/img: nhwc %.3f, +sum %.3f (%s) | nChw8c %.3f, +sum %.3f (%s)\n", mb, shapes[i][0], shapes[i][1],
             shapes[i][2], shapes[i][2], ns, ws, b, bn, bs, d);
    }
}
