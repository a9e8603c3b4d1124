// Aggregation baseline: see CKernelBaseline.h. Plain C loops with `omp simd` over the scenarios
// (-fopenmp-simd, -ffast-math for the minimum reduction); the compiler vectorises them.
#include "CKernelBaseline.h"

double ckb_worst_scenarios(const double *rows, int64_t scenarios, const double *dampening,
                           int64_t accounts, int64_t positions, const int64_t *offsets, const double *quantities,
                           double *worst) {
    const int64_t columns = scenarios + 1; // the scenarios, then the current value
    double acc[columns];
    double checksum = 0;
    for (int64_t a = 0; a < accounts; a++) {
        const int64_t *offset = offsets + a * positions;
        const double *quantity = quantities + a * positions;
        #pragma omp simd
        for (int64_t s = 0; s < columns; s++) acc[s] = 0;
        for (int64_t p = 0; p < positions; p++) {
            const double q = quantity[p];
            const double *row = rows + offset[p];
            #pragma omp simd
            for (int64_t s = 0; s < columns; s++) acc[s] += q * row[s];
        }
        const double current = acc[scenarios];
        double minimum = 0;
        #pragma omp simd reduction(min:minimum)
        for (int64_t s = 0; s < scenarios; s++) {
            const double pnl = (acc[s] - current) * dampening[s];
            minimum = pnl < minimum ? pnl : minimum;
        }
        worst[a] = minimum;
        checksum += minimum;
    }
    return checksum;
}
