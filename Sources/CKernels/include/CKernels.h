// AVX2 twins of the elementwise kernels in Tensor/Kernels.swift, for CPUs that have AVX2.
// Each one computes the same float operations in the same order as its portable Swift
// twin, so both give bit-identical results; Tensor chooses one at run time.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

/// 1 when this CPU and the operating system support AVX2 (256-bit integer and float ops).
int ck_has_avx2(void);

void ck_gelu_forward_avx2(float *y, float *slope, const float *x, long n);

/// For each row t of a T×T block: softmax over columns 0…t in place, zeros above the diagonal.
void ck_causal_softmax_avx2(float *p, long T);

/// For each row t of a T×T block: ds = p ⊙ (ds − Σ p ⊙ ds) over columns 0…t, zeros above.
void ck_causal_softmax_backward_avx2(float *ds, const float *p, long T);

/// Sum over rows of −log softmax(logits[r])[targets[r]] in double; writes
/// (softmax − onehot) · invRows into dlogits when it is not null.
double ck_cross_entropy_avx2(float *dlogits, const float *logits, const int32_t *targets,
                             long rows, long V, float invRows);

void ck_layernorm_forward_avx2(float *y, float *mean, float *rstd, const float *x,
                               const float *gain, const float *bias, long rows, long cols);

void ck_layernorm_backward_avx2(float *dx, float *dgain, float *dbias, const float *dy,
                                const float *x, const float *gain, const float *mean,
                                const float *rstd, long rows, long cols, int accumulate);

void ck_adamw_avx2(float *p, const float *g, float *m, float *v, long n, float gradScale,
                   float beta1, float beta2, float c1, float c2, float stepSize,
                   float inverseRootBC2, float eps, float shrink);

#endif
