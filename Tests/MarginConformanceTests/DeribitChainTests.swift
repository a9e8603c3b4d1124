import Foundation
import MarginConformance
import Testing
@testable import MarginCore

/// Deribit's published marks of the bundled 2020-05-14 BTC chain (`MarginConformance/Resources`).
@Suite("Deribit chain")
struct DeribitChainTests {
    @Test("Deribit BTC chain: marks reproduced to a median error ≤ 1e-5 BTC, deltas too")
    func deribitChain() throws {
        let options = try DeribitChain.bundledSnapshot()
        #expect(options.count == 310)
        let report = DeribitChain.compare(options)
        #expect(report.priceMedian <= 1e-5)
        #expect(report.deltaMedian <= 1e-3)
        #expect(report.passes)
    }

    @Test("Fits the Deribit chain: under 2 vol points rms beyond two days (Deribit caps short-dated wing marks flat)")
    func fitsDeribitChain() throws {
        let options = try DeribitChain.bundledSnapshot()
        let byExpiry = Dictionary(grouping: options, by: \.expiryMs)
        for (_, chain) in byExpiry where chain.count >= 5 {
            let t = chain[0].timeToExpiry
            let fit = try SVIFit.fit(points: chain.map { (k: log($0.strike / $0.forward), volatility: $0.markVolatility) }, timeToExpiry: t)
            // Marks of the one-day and same-day expiries are capped flat (~172%) in the wings, which
            // no SVI smile follows: those fits are looser.
            let bound = t > 2.0 / 365 ? 0.02 : 0.12
            #expect(fit.rmsVolatilityError < bound, "expiry \(chain[0].expiryMs): rms \(fit.rmsVolatilityError)")
            try fit.parameters.validate(field: "fit")
        }
    }
}
