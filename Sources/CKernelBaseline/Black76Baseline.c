// Black-76 risk-array baseline: see CKernelBaseline.h.
#include "CKernelBaseline.h"

#include <math.h>

#ifndef CKB_TARGET_CPU
#define CKB_TARGET_CPU "generic"
#endif

const char *ckb_target_cpu(void) { return CKB_TARGET_CPU; }

#define CKB_SQRT1_2 0.70710678118654752440

/// One option in one column, with libm's scalar log and erfc.
static inline double black76_scalar(double f, double k, double v, double s, double scale) {
    double d1 = (log(f / k) + 0.5 * v * v) / v;
    double d2 = d1 - v;
    double price = s * 0.5 * (f * erfc(-s * d1 * CKB_SQRT1_2) - k * erfc(-s * d2 * CKB_SQRT1_2));
    return (price > 0 ? price : 0) * scale;
}

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

// glibc's libmvec, AVX2 variants (x86-64 vector function ABI).
__m256d _ZGVdN4v_log(__m256d x);
__m256d _ZGVdN4v_erfc(__m256d x);

int ckb_uses_vector_math(void) { return 1; }

/// Black-76 values of four lanes: forward f, strike k, total volatility v, sign s, scale sc, and
/// x = ln(f/k); scale · max(0, s·(f·N(s·d1) − k·N(s·d2))) with N(y) = erfc(−y/√2)/2.
static inline __m256d black76_lanes(__m256d f, __m256d k, __m256d v, __m256d s, __m256d sc, __m256d x) {
    const __m256d half = _mm256_set1_pd(0.5);
    const __m256d minusRoot = _mm256_set1_pd(-CKB_SQRT1_2);
    __m256d d1 = _mm256_div_pd(_mm256_fmadd_pd(_mm256_mul_pd(half, v), v, x), v);
    __m256d d2 = _mm256_sub_pd(d1, v);
    __m256d e1 = _ZGVdN4v_erfc(_mm256_mul_pd(_mm256_mul_pd(s, d1), minusRoot));
    __m256d e2 = _ZGVdN4v_erfc(_mm256_mul_pd(_mm256_mul_pd(s, d2), minusRoot));
    __m256d price = _mm256_mul_pd(_mm256_mul_pd(s, half), _mm256_fmsub_pd(f, e1, _mm256_mul_pd(k, e2)));
    return _mm256_mul_pd(_mm256_max_pd(price, _mm256_setzero_pd()), sc);
}

void ckb_black76_fill(int64_t options, const double *forward, const double *strike, const double *sign,
                      const double *scale, const double *volatility,
                      int64_t columns, const double *shock, const int32_t *variant,
                      double *out, int64_t out_stride) {
    int64_t i = 0;
    for (; i + 4 <= options; i += 4) {
        __m256d f0 = _mm256_loadu_pd(forward + i), k = _mm256_loadu_pd(strike + i);
        __m256d s = _mm256_loadu_pd(sign + i), sc = _mm256_loadu_pd(scale + i);
        __m256d vols[3] = {_mm256_loadu_pd(volatility + i), _mm256_loadu_pd(volatility + options + i),
                           _mm256_loadu_pd(volatility + 2 * options + i)};
        for (int64_t c = 0; c < columns; c++) {
            __m256d f = _mm256_mul_pd(f0, _mm256_set1_pd(shock[c]));
            __m256d v = vols[variant[c]];
            double lanes[4];
            _mm256_storeu_pd(lanes, black76_lanes(f, k, v, s, sc, _ZGVdN4v_log(_mm256_div_pd(f, k))));
            for (int lane = 0; lane < 4; lane++) out[(i + lane) * out_stride + c] = lanes[lane];
        }
    }
    for (; i < options; i++) {
        for (int64_t c = 0; c < columns; c++) {
            out[i * out_stride + c] = black76_scalar(forward[i] * shock[c], strike[i], volatility[variant[c] * options + i],
                                                     sign[i], scale[i]);
        }
    }
}

/// Four columns of one option at a time (contiguous stores), with ln(F·shock/K) formed as
/// ln(F/K) + ln(shock): one log per option and per column, two vector erfc per option-column.
void ckb_black76_fill_columns(int64_t options, const double *forward, const double *strike, const double *sign,
                              const double *scale, const double *volatility,
                              int64_t columns, const double *shock, const int32_t *variant,
                              double *out, int64_t out_stride) {
    double logShock[columns + 4];
    int64_t c = 0;
    for (; c + 4 <= columns; c += 4) _mm256_storeu_pd(logShock + c, _ZGVdN4v_log(_mm256_loadu_pd(shock + c)));
    for (; c < columns; c++) logShock[c] = log(shock[c]);
    for (int64_t i = 0; i < options; i++) {
        const double vols[3] = {volatility[i], volatility[options + i], volatility[2 * options + i]};
        const __m256d f0 = _mm256_set1_pd(forward[i]), k = _mm256_set1_pd(strike[i]);
        const __m256d s = _mm256_set1_pd(sign[i]), sc = _mm256_set1_pd(scale[i]);
        const __m256d logMoneyness = _mm256_set1_pd(log(forward[i] / strike[i]));
        double *row = out + i * out_stride;
        for (c = 0; c + 4 <= columns; c += 4) {
            __m256d f = _mm256_mul_pd(f0, _mm256_loadu_pd(shock + c));
            __m256d v = _mm256_setr_pd(vols[variant[c]], vols[variant[c + 1]], vols[variant[c + 2]], vols[variant[c + 3]]);
            __m256d x = _mm256_add_pd(logMoneyness, _mm256_loadu_pd(logShock + c));
            _mm256_storeu_pd(row + c, black76_lanes(f, k, v, s, sc, x));
        }
        for (; c < columns; c++) row[c] = black76_scalar(forward[i] * shock[c], strike[i], vols[variant[c]], sign[i], scale[i]);
    }
}

#else

int ckb_uses_vector_math(void) { return 0; }

void ckb_black76_fill_columns(int64_t options, const double *forward, const double *strike, const double *sign,
                              const double *scale, const double *volatility,
                              int64_t columns, const double *shock, const int32_t *variant,
                              double *out, int64_t out_stride) {
    ckb_black76_fill(options, forward, strike, sign, scale, volatility, columns, shock, variant, out, out_stride);
}

void ckb_black76_fill(int64_t options, const double *forward, const double *strike, const double *sign,
                      const double *scale, const double *volatility,
                      int64_t columns, const double *shock, const int32_t *variant,
                      double *out, int64_t out_stride) {
    for (int64_t i = 0; i < options; i++) {
        for (int64_t c = 0; c < columns; c++) {
            out[i * out_stride + c] = black76_scalar(forward[i] * shock[c], strike[i], volatility[variant[c] * options + i],
                                                     sign[i], scale[i]);
        }
    }
}

#endif
