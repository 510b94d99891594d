// MobileNetV2's stride-2 blocks: the 1×1 expansion and the 3×3 depthwise convolution as two oneDNN
// 2.6 primitives against one with the depthwise post-op (dnnl_post_ops_append_dw_k3s2p1), NHWC,
// ReLU6 after each, batch 1 and 4, best of 9, 2 threads.
//
//     cc -O2 bench/conv/onednn/fused_depthwise.c -o /tmp/fused_dw -ldnnl && OMP_NUM_THREADS=2 /tmp/fused_dw
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define CHK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { fprintf(stderr, "%s failed %d line %d\n", #x, st_, __LINE__); exit(1);} } while(0)
dnnl_engine_t eng; dnnl_stream_t st;
static dnnl_memory_t mem(const dnnl_memory_desc_t *d) { dnnl_memory_t m; CHK(dnnl_memory_create(&m, d, eng, DNNL_MEMORY_ALLOCATE)); void *p; dnnl_memory_get_data_handle(m, &p); memset(p, 0, dnnl_memory_desc_get_size(d)); return m; }
static double timeit(dnnl_primitive_t p, int n, dnnl_exec_arg_t *a, dnnl_primitive_t p2, int n2, dnnl_exec_arg_t *a2) {
  double best = 1e9;
  for (int r = 0; r < 9; r++) { int k = 0; double t0 = now(); while (now() - t0 < 0.05) { CHK(dnnl_primitive_execute(p, st, n, a)); if (p2) CHK(dnnl_primitive_execute(p2, st, n2, a2)); k++; } double t = (now() - t0) / k; if (t < best) best = t; }
  return best * 1e3;
}
void run(int mb, int ic, int oc, int h) {
  int oh = h / 2;
  dnnl_dims_t sd = {mb, ic, h, h}, md_ = {mb, oc, h, h}, dd = {mb, oc, oh, oh}, wd = {oc, ic, 1, 1}, dwd = {oc, 1, 1, 3, 3}, bd = {oc};
  dnnl_memory_desc_t src, mid, dst, wei, dwei, bia;
  CHK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc)); CHK(dnnl_memory_desc_init_by_tag(&mid, 4, md_, dnnl_f32, dnnl_nhwc));
  CHK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
  CHK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any)); CHK(dnnl_memory_desc_init_by_tag(&dwei, 5, dwd, dnnl_f32, dnnl_format_tag_any));
  CHK(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a));
  dnnl_dims_t s1 = {1, 1}, s2 = {2, 2}, p0 = {0, 0}, p1 = {1, 1};
  // separate
  dnnl_convolution_desc_t c1, c2;
  CHK(dnnl_convolution_forward_desc_init(&c1, dnnl_forward_inference, dnnl_convolution_direct, &src, &wei, &bia, &mid, s1, p0, p0));
  CHK(dnnl_convolution_forward_desc_init(&c2, dnnl_forward_inference, dnnl_convolution_direct, &mid, &dwei, &bia, &dst, s2, p1, p1));
  dnnl_primitive_attr_t at; CHK(dnnl_primitive_attr_create(&at)); dnnl_post_ops_t po; CHK(dnnl_post_ops_create(&po));
  CHK(dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f)); CHK(dnnl_primitive_attr_set_post_ops(at, po));
  dnnl_primitive_desc_t pd1, pd2; CHK(dnnl_primitive_desc_create(&pd1, &c1, at, eng, NULL)); CHK(dnnl_primitive_desc_create(&pd2, &c2, at, eng, NULL));
  dnnl_primitive_t P1, P2; CHK(dnnl_primitive_create(&P1, pd1)); CHK(dnnl_primitive_create(&P2, pd2));
  dnnl_memory_t ms = mem(&src), mm = mem(&mid), mdst = mem(&dst), mw = mem(dnnl_primitive_desc_query_md(pd1, dnnl_query_weights_md, 0)),
    mdw = mem(dnnl_primitive_desc_query_md(pd2, dnnl_query_weights_md, 0)), mb_ = mem(&bia);
  dnnl_exec_arg_t a1[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb_}, {DNNL_ARG_DST, mm}};
  dnnl_exec_arg_t a2[4] = {{DNNL_ARG_SRC, mm}, {DNNL_ARG_WEIGHTS, mdw}, {DNNL_ARG_BIAS, mb_}, {DNNL_ARG_DST, mdst}};
  double ts = timeit(P1, 4, a1, P2, 4, a2);
  // fused
  dnnl_primitive_attr_t af; CHK(dnnl_primitive_attr_create(&af)); dnnl_post_ops_t pf; CHK(dnnl_post_ops_create(&pf));
  CHK(dnnl_post_ops_append_eltwise(pf, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f));
  CHK(dnnl_post_ops_append_dw_k3s2p1(pf, dnnl_f32, dnnl_f32, dnnl_f32, 0, 0, NULL));
  CHK(dnnl_post_ops_append_eltwise(pf, 1.f, dnnl_eltwise_clip_v2, 0.f, 6.f)); CHK(dnnl_primitive_attr_set_post_ops(af, pf));
  dnnl_primitive_desc_t pdf; CHK(dnnl_primitive_desc_create(&pdf, &c1, af, eng, NULL));
  const char *impl; dnnl_primitive_desc_query(pdf, dnnl_query_impl_info_str, 0, &impl);
  const dnnl_memory_desc_t *fdst = dnnl_primitive_desc_query_md(pdf, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *fdw = dnnl_primitive_desc_query_md(pdf, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS);
  dnnl_primitive_t PF; CHK(dnnl_primitive_create(&PF, pdf));
  dnnl_memory_t mfd = mem(fdst), mfw = mem(dnnl_primitive_desc_query_md(pdf, dnnl_query_weights_md, 0)), mfdw = mem(fdw);
  dnnl_exec_arg_t af_[6] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mfw}, {DNNL_ARG_BIAS, mb_}, {DNNL_ARG_DST, mfd},
    {DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, mfdw}, {DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, mb_}};
  double tf = timeit(PF, 6, af_, NULL, 0, NULL);
  printf("mb%d ic%d oc%d h%d separate %.3f fused %.3f (%s, dst dims %ld) ratio %.2f\n", mb, ic, oc, h, ts, tf, impl, (long)fdst->dims[2], ts / tf);
}
int main() {
  dnnl_engine_create(&eng, dnnl_cpu, 0); dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
  int mbs[] = {1, 4};
  for (int i = 0; i < 2; i++) { run(mbs[i], 16, 96, 112); run(mbs[i], 24, 144, 56); run(mbs[i], 32, 192, 28); run(mbs[i], 96, 576, 14); }
}
