// C baselines for `margin-engine-bench`: the same work as MarginCore's risk-array and aggregation
// kernels, written the plain C way and compiled with the same CPU policy as MarginCore
// (Package.swift `kernelTargetCPU`: -O3 -march=<cpu> -mtune=<cpu>, or the default x86-64 when
// MARGIN_ENGINE_TARGET_CPU=generic), plus -ffast-math and -fopenmp-simd (`#pragma omp simd` on
// the scenario loops): a reference at least as strong as `gcc -O3 -mavx2 -mfma -ffast-math
// -fopenmp-simd`. Only the benchmark links this target; MarginCore never does.
#ifndef CKERNEL_BASELINE_H
#define CKERNEL_BASELINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Black-76 value of `options` options under `columns` columns, row-major into
/// `out[option * out_stride + column]` (out_stride ≥ columns).
///
/// Option i (SoA arrays of `options` doubles): `forward[i]` (USD, the expiry's forward),
/// `strike[i]` (USD), `sign[i]` (+1 call, −1 put), `scale[i]` (discount × contract size, so that the
/// value is in valuation units per contract for linear options), and three total volatilities
/// σ√T in `volatility[variant * options + i]` for variants 0 = unchanged, 1 = up, 2 = down.
/// Column c: `shock[c]` multiplies the forward, `variant[c]` (0, 1, 2) picks the volatility.
///
/// value = scale · max(0, sign · (F·N(sign·d1) − K·N(sign·d2))), N(x) = erfc(−x/√2)/2,
/// d1 = (ln(F/K) + v²/2)/v, d2 = d1 − v: one log and two erfc per option-column. With AVX2 + FMA on
/// x86-64 glibc, four options at a time through libmvec (`_ZGVdN4v_log`, `_ZGVdN4v_erfc`);
/// otherwise libm's scalar log and erfc.
void ckb_black76_fill(int64_t options, const double *forward, const double *strike, const double *sign,
                      const double *scale, const double *volatility,
                      int64_t columns, const double *shock, const int32_t *variant,
                      double *out, int64_t out_stride);

/// The same values, vectorised over columns instead of options: four columns of one option at a
/// time with contiguous stores, `ln(F·shock/K)` as `ln(F/K) + ln(shock)` (the logarithm per
/// column and per option, as MarginCore's kernel forms it). `margin-engine-bench` times both
/// layouts and compares with the faster.
void ckb_black76_fill_columns(int64_t options, const double *forward, const double *strike, const double *sign,
                              const double *scale, const double *volatility,
                              int64_t columns, const double *shock, const int32_t *variant,
                              double *out, int64_t out_stride);

/// Worst scenario PnL (≤ 0, valuation units) of `accounts` accounts of `positions` option positions
/// each, written to `worst[account]`; returns their sum (a checksum).
///
/// Rows are the risk book's layout: row r starts at `rows + offsets[k]` (in doubles), columns
/// `0..<scenarios` are the scenario values and column `scenarios` the current value. Position k of
/// account a is `offsets[a * positions + k]`, `quantities[a * positions + k]` (contracts).
/// Per account: acc[s] = Σ q·row[s] over s ≤ scenarios, pnl[s] = (acc[s] − acc[scenarios]) ·
/// dampening[s], worst = min(0, min_s pnl[s]).
double ckb_worst_scenarios(const double *rows, int64_t scenarios, const double *dampening,
                           int64_t accounts, int64_t positions, const int64_t *offsets, const double *quantities,
                           double *worst);

/// The CPU the baseline was compiled for ("generic" without the kernel CPU flag).
const char *ckb_target_cpu(void);

/// 1 when the Black-76 baseline uses glibc's vector math (libmvec), 0 for scalar libm.
int ckb_uses_vector_math(void);

#ifdef __cplusplus
}
#endif

#endif
