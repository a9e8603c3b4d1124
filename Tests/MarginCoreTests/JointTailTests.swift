@testable import MarginCore
import MarginTesting
import Testing

/// The joint tail rule against the straightforward computation on random columns.
@Suite struct JointTailTests {
    @Test(arguments: [1, 3], [7, 500, 2_035])
    func compressedWorstAndTailMatchAPlainScan(width: Int, scenarios: Int) {
        var generator = SeededGenerator(seed: UInt64(width * 10_000 + scenarios))
        let rule = JointTail(scenarioCount: scenarios, columnsPerScenario: width, tailCount: max(1, scenarios / 100))
        let base = 5
        var columns = (0..<(base + scenarios * width)).map { _ in Double.random(in: -1_000...1_000, using: &generator) }
        // Ties between volatility columns keep the first (the explanation names it).
        if width > 1 { columns[base + scenarios + 1] = columns[base + 1] }
        // The plain scan: volatility-major columns, the worst per scenario and which column it was.
        var worst = [Double](repeating: 0, count: scenarios), which = [Int](repeating: 0, count: scenarios)
        for scenario in 0..<scenarios {
            worst[scenario] = columns[base + scenario]
            for variant in 1..<width where columns[base + variant * scenarios + scenario] < worst[scenario] {
                worst[scenario] = columns[base + variant * scenarios + scenario]
                which[scenario] = variant
            }
        }
        let k = rule.tailCount
        let sorted = worst.sorted()
        let expectedES = -sorted[0..<k].reduce(0, +) / Double(k)

        var fast = columns, explained = columns
        var variants = [Int](repeating: 0, count: scenarios)
        let measured = fast.withUnsafeMutableBufferPointer { rule.measure(compressing: $0, base: base) }
        explained.withUnsafeMutableBufferPointer { buffer in
            variants.withUnsafeMutableBufferPointer { rule.compress(buffer, base: base, variants: $0) }
        }
        #expect(Array(fast[base..<(base + scenarios)]) == worst)
        #expect(Array(explained[base..<(base + scenarios)]) == worst)
        #expect(variants == which)
        #expect(abs(measured.expectedShortfall - expectedES) <= 1e-9 * abs(expectedES))
        #expect(measured.valueAtRisk == -sorted[k - 1])
    }
}
