// AVX2 twins of the elementwise kernels in Tensor/Kernels.swift and Training/AdamW.swift.
// Only functions marked AVX2 use 256-bit instructions, so the library still loads on any
// x86-64; Tensor calls them only when ck_has_avx2() says so. Every expression mirrors the
// Swift twin operation for operation (no fused multiply-add, the same lane-then-sequential
// reductions), which keeps the two paths bit-identical.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <float.h>
#include <math.h>

#pragma clang fp contract(off)

#define AVX2 __attribute__((target("avx2")))
#define INLINE static inline __attribute__((always_inline))

int ck_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}

// Constants as the Swift literals round them (bit patterns checked against Float).
#define EXP_LO -0x1.5d3334p+6f      // -87.3
#define EXP_HI 0x1.613334p+6f       // 88.3
#define SHIFTER 0x1.8p+23f          // 1.5·2²³
#define LOG2E 0x1.715476p+0f
#define LN2_HI 0x1.63p-1f           // 0.693359375
#define LN2_LO 0x1.bd0106p-13f      // 2.1219444e-4
#define P0 0x1.a0d2cep-13f
#define P1 0x1.6e879cp-10f
#define P2 0x1.111210p-7f
#define P3 0x1.555382p-5f
#define P4 0x1.555554p-3f
#define GELU_K 0x1.988454p-1f       // √(2/π)
#define GELU_A 0x1.6e4e26p-5f       // 0.044715
#define GELU_3A 0x1.12ba9cp-3f      // 3 · 0.044715 in float

INLINE AVX2 __m256 bc(float x) { return _mm256_set1_ps(x); }
INLINE AVX2 __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
INLINE AVX2 __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
INLINE AVX2 __m256 mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
INLINE AVX2 __m256 ld(const float *p) { return _mm256_loadu_ps(p); }
INLINE AVX2 void st(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
// Swift's max8(a, b) is `a < b ? b : a` lane-wise, which maxps gives with the operands swapped
// (maxps(x, y) = x > y ? x : y), NaN handling included; min8 likewise.
INLINE AVX2 __m256 max8(__m256 a, __m256 b) { return _mm256_max_ps(b, a); }
INLINE AVX2 __m256 min8(__m256 a, __m256 b) { return _mm256_min_ps(b, a); }

/// SIMD8.sum(): -0 + lane 0 + lane 1 + … + lane 7, in that order.
INLINE AVX2 float lanesum(__m256 v) {
    float a[8];
    _mm256_storeu_ps(a, v);
    float s = -0.0f;
    for (int i = 0; i < 8; i++) s += a[i];
    return s;
}

/// horizontalMax: lane 0, then each lane that is greater.
INLINE AVX2 float lanemax(__m256 v) {
    float a[8];
    _mm256_storeu_ps(a, v);
    float m = a[0];
    for (int i = 1; i < 8; i++) m = a[i] > m ? a[i] : m;
    return m;
}

/// exp8 of VectorMath.swift.
INLINE AVX2 __m256 exp8(__m256 x) {
    x = min8(max8(x, bc(EXP_LO)), bc(EXP_HI));
    const __m256 shifter = bc(SHIFTER);
    __m256 shifted = add(mul(x, bc(LOG2E)), shifter);
    __m256 n = sub(shifted, shifter);
    __m256 r = add(sub(x, mul(n, bc(LN2_HI))), mul(n, bc(LN2_LO)));
    __m256 p = bc(P0);
    p = add(mul(p, r), bc(P1));
    p = add(mul(p, r), bc(P2));
    p = add(mul(p, r), bc(P3));
    p = add(mul(p, r), bc(P4));
    p = add(mul(p, r), bc(0.5f));
    __m256 y = add(add(mul(p, mul(r, r)), r), bc(1.0f));
    __m256i bits = _mm256_castps_si256(shifted);
    bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(bits, _mm256_set1_epi32(0x4B400000)),
                                              _mm256_set1_epi32(127)), 23);
    return mul(y, _mm256_castsi256_ps(bits));
}

INLINE AVX2 __m256 tanh8(__m256 x) { return sub(bc(1.0f), _mm256_div_ps(bc(2.0f), add(exp8(add(x, x)), bc(1.0f)))); }
INLINE AVX2 float expf32(float x) { return _mm256_cvtss_f32(exp8(bc(x))); }
INLINE AVX2 float tanhf32(float x) { return _mm256_cvtss_f32(tanh8(bc(x))); }

AVX2 void ck_gelu_forward_avx2(float *y, float *slope, const float *x, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = ld(x + i);
        __m256 v2 = mul(v, v);
        __m256 inner = mul(bc(GELU_K), add(v, mul(mul(bc(GELU_A), v2), v)));
        __m256 t = tanh8(inner);
        __m256 half = mul(bc(0.5f), add(bc(1.0f), t));
        __m256 d = mul(bc(GELU_K), add(bc(1.0f), mul(bc(GELU_3A), v2)));
        st(y + i, mul(half, v));
        st(slope + i, add(half, mul(mul(mul(bc(0.5f), v), sub(bc(1.0f), mul(t, t))), d)));
    }
    for (; i < n; i++) {
        float v = x[i];
        float t = tanhf32(GELU_K * (v + GELU_A * v * v * v));
        y[i] = 0.5f * v * (1 + t);
        slope[i] = 0.5f * (1 + t) + 0.5f * v * (1 - t * t) * GELU_K * (1 + GELU_3A * v * v);
    }
}

/// softmaxInPlace of Kernels.swift over p[0..<n].
INLINE AVX2 void softmax_row(float *p, long n) {
    __m256 mx8 = bc(-FLT_MAX);
    long i = 0;
    for (; i + 8 <= n; i += 8) mx8 = max8(mx8, ld(p + i));
    float mx = lanemax(mx8);
    for (; i < n; i++) mx = p[i] >= mx ? p[i] : mx;        // Swift.max(mx, p[i])
    __m256 m8 = bc(mx), acc = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) { __m256 e = exp8(sub(ld(p + i), m8)); st(p + i, e); acc = add(acc, e); }
    float s = lanesum(acc);
    for (; i < n; i++) { float e = expf32(p[i] - mx); p[i] = e; s += e; }
    __m256 inv8 = bc(1 / s);
    for (i = 0; i + 8 <= n; i += 8) st(p + i, mul(ld(p + i), inv8));
    float inv = 1 / s;
    for (; i < n; i++) p[i] *= inv;
}

AVX2 void ck_causal_softmax_avx2(float *p, long T) {
    for (long t = 0; t < T; t++) {
        float *row = p + t * T;
        softmax_row(row, t + 1);
        for (long j = t + 1; j < T; j++) row[j] = 0;
    }
}

AVX2 void ck_causal_softmax_backward_avx2(float *ds, const float *p, long T) {
    for (long t = 0; t < T; t++) {
        const float *pr = p + t * T;
        float *dr = ds + t * T;
        long n = t + 1, i = 0;
        __m256 acc = _mm256_setzero_ps();
        for (; i + 8 <= n; i += 8) acc = add(acc, mul(ld(pr + i), ld(dr + i)));
        float dot = lanesum(acc);
        for (; i < n; i++) dot += pr[i] * dr[i];
        __m256 dot8 = bc(dot);
        for (i = 0; i + 8 <= n; i += 8) st(dr + i, mul(ld(pr + i), sub(ld(dr + i), dot8)));
        for (; i < n; i++) dr[i] = pr[i] * (dr[i] - dot);
        for (long j = n; j < T; j++) dr[j] = 0;
    }
}

AVX2 double ck_cross_entropy_avx2(float *dlogits, const float *logits, const int32_t *targets,
                                  long rows, long V, float invRows) {
    double total = 0;
    for (long r = 0; r < rows; r++) {
        const float *row = logits + r * V;
        __m256 mx8 = bc(-FLT_MAX);
        long i = 0;
        for (; i + 8 <= V; i += 8) mx8 = max8(mx8, ld(row + i));
        float mx = lanemax(mx8);
        for (; i < V; i++) mx = row[i] >= mx ? row[i] : mx;
        __m256 m8 = bc(mx), acc = _mm256_setzero_ps();
        long target = targets[r];
        float targetLogit = row[target];
        if (dlogits) {
            float *dr = dlogits + r * V;
            for (i = 0; i + 8 <= V; i += 8) { __m256 e = exp8(sub(ld(row + i), m8)); st(dr + i, e); acc = add(acc, e); }
            float s = lanesum(acc);
            for (; i < V; i++) { float e = expf32(row[i] - mx); dr[i] = e; s += e; }
            total += (double)(logf(s) - (targetLogit - mx));
            float k = invRows / s;
            __m256 k8 = bc(k);
            for (i = 0; i + 8 <= V; i += 8) st(dr + i, mul(ld(dr + i), k8));
            for (; i < V; i++) dr[i] *= k;
            dr[target] -= invRows;
        } else {
            for (i = 0; i + 8 <= V; i += 8) acc = add(acc, exp8(sub(ld(row + i), m8)));
            float s = lanesum(acc);
            for (; i < V; i++) s += expf32(row[i] - mx);
            total += (double)(logf(s) - (targetLogit - mx));
        }
    }
    return total;
}

AVX2 void ck_layernorm_forward_avx2(float *y, float *mean, float *rstd, const float *x,
                                    const float *gain, const float *bias, long rows, long cols) {
    float invC = 1 / (float)cols;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        __m256 acc = _mm256_setzero_ps();
        long i = 0;
        for (; i + 8 <= cols; i += 8) acc = add(acc, ld(xr + i));
        float s0 = lanesum(acc);
        for (; i < cols; i++) s0 += xr[i];
        float m = s0 * invC;
        __m256 m8 = bc(m);
        acc = _mm256_setzero_ps();
        for (i = 0; i + 8 <= cols; i += 8) { __m256 d = sub(ld(xr + i), m8); acc = add(acc, mul(d, d)); }
        float v = lanesum(acc);
        for (; i < cols; i++) { float d = xr[i] - m; v += d * d; }
        float s = 1 / sqrtf(v * invC + 1e-5f);
        __m256 s8 = bc(s);
        for (i = 0; i + 8 <= cols; i += 8)
            st(yr + i, add(mul(mul(sub(ld(xr + i), m8), s8), ld(gain + i)), ld(bias + i)));
        for (; i < cols; i++) yr[i] = (xr[i] - m) * s * gain[i] + bias[i];
        mean[r] = m;
        rstd[r] = s;
    }
}

AVX2 void ck_layernorm_backward_avx2(float *dx, float *dgain, float *dbias, const float *dy,
                                     const float *x, const float *gain, const float *mean,
                                     const float *rstd, long rows, long cols, int accumulate) {
    float invC = 1 / (float)cols;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        float m = mean[r], s = rstd[r];
        __m256 m8 = bc(m), s8 = bc(s), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
        long i = 0;
        for (; i + 8 <= cols; i += 8) {
            __m256 n = mul(sub(ld(xr + i), m8), s8);
            __m256 g = mul(ld(dyr + i), ld(gain + i));
            a1 = add(a1, g);
            a2 = add(a2, mul(g, n));
        }
        float gMean = lanesum(a1), gnMean = lanesum(a2);
        for (; i < cols; i++) {
            float n = (xr[i] - m) * s, g = dyr[i] * gain[i];
            gMean += g;
            gnMean += g * n;
        }
        gMean *= invC;
        gnMean *= invC;
        __m256 gm8 = bc(gMean), gn8 = bc(gnMean);
        for (i = 0; i + 8 <= cols; i += 8) {
            __m256 n = mul(sub(ld(xr + i), m8), s8);
            __m256 d = ld(dyr + i);
            st(dbias + i, add(ld(dbias + i), d));
            st(dgain + i, add(ld(dgain + i), mul(d, n)));
            __m256 g = mul(sub(sub(mul(d, ld(gain + i)), gm8), mul(n, gn8)), s8);
            st(dxr + i, accumulate ? add(ld(dxr + i), g) : g);
        }
        for (; i < cols; i++) {
            float n = (xr[i] - m) * s, d = dyr[i];
            dbias[i] += d;
            dgain[i] += d * n;
            float g = (d * gain[i] - gMean - n * gnMean) * s;
            dxr[i] = accumulate ? dxr[i] + g : g;
        }
    }
}

AVX2 void ck_adamw_avx2(float *p, const float *g, float *m, float *v, long n, float gradScale,
                        float beta1, float beta2, float c1, float c2, float stepSize,
                        float inverseRootBC2, float eps, float shrink) {
    __m256 gs = bc(gradScale), b1 = bc(beta1), b2 = bc(beta2), k1 = bc(c1), k2 = bc(c2);
    __m256 lr = bc(stepSize), irb = bc(inverseRootBC2), e = bc(eps), sh = bc(shrink);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = mul(ld(g + i), gs);
        __m256 mi = add(mul(b1, ld(m + i)), mul(k1, gi));
        __m256 vi = add(mul(b2, ld(v + i)), mul(mul(k2, gi), gi));
        st(m + i, mi);
        st(v + i, vi);
        __m256 den = add(mul(_mm256_sqrt_ps(vi), irb), e);
        st(p + i, sub(mul(ld(p + i), sh), _mm256_div_ps(mul(lr, mi), den)));
    }
    for (; i < n; i++) {
        float gi = g[i] * gradScale;
        float mi = beta1 * m[i] + c1 * gi;
        float vi = beta2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * shrink - stepSize * mi / (sqrtf(vi) * inverseRootBC2 + eps);
    }
}

#else
// Not x86-64: the portable Swift kernels run; these are never called.
int ck_has_avx2(void) { return 0; }
void ck_gelu_forward_avx2(float *y, float *slope, const float *x, long n) {}
void ck_causal_softmax_avx2(float *p, long T) {}
void ck_causal_softmax_backward_avx2(float *ds, const float *p, long T) {}
double ck_cross_entropy_avx2(float *dlogits, const float *logits, const int32_t *targets,
                             long rows, long V, float invRows) { return 0; }
void ck_layernorm_forward_avx2(float *y, float *mean, float *rstd, const float *x,
                               const float *gain, const float *bias, long rows, long cols) {}
void ck_layernorm_backward_avx2(float *dx, float *dgain, float *dbias, const float *dy,
                                const float *x, const float *gain, const float *mean,
                                const float *rstd, long rows, long cols, int accumulate) {}
void ck_adamw_avx2(float *p, const float *g, float *m, float *v, long n, float gradScale,
                   float beta1, float beta2, float c1, float c2, float stepSize,
                   float inverseRootBC2, float eps, float shrink) {}
#endif
