/// What the demo reports at the end (also written as JSON with `--json`).
public struct DemoSummary: Codable, Sendable {
    public struct Instruction: Codable, Sendable {
        public var id: String
        public var account: String
        public var severity: Double
        public var reason: String
        public var equity: Double
        public var maintenance: Double
        public var legs: [String]
    }

    public var accounts: Int
    public var seed: UInt64
    public var sviFitRMSVolPoints: [String: Double]
    public var healthBefore: [String: Int]
    public var healthAfter: [String: Int]
    public var maintenanceBefore: Double
    public var maintenanceAfter: Double
    public var initialBefore: Double
    public var initialAfter: Double
    public var instructions: Int
    public var cancels: Int
    public var legs: Int
    public var notionalInstructedUSD: Double
    public var maxQueuedByAntiCascade: Int
    /// Liquidatable accounts without an instruction at the end, per reason (budget, no_depth, plan_error).
    public var waitingAtEnd: [String: Int]
    public var bankruptAccounts: Int
    public var estimatedDeficit: Double
    public var resultsRead: Int
    public var instructionsRead: Int
    public var remarginLatencyP50Ms: Double
    public var remarginLatencyP99Ms: Double
    public var topInstructions: [Instruction]
    /// Liquidatable or bankrupt at the end with neither an instruction nor a place in the queue.
    public var unhandledLiquidatable: [String]
    /// Instructions issued while the account was not below MM (must be empty).
    public var instructionsOnHealthyAccounts: [String]
    public var instructionIDs: [String]
    public var wallSeconds: Double
    /// Every parameter version the in-process calibrator published, in order.
    public var calibration: [CalibrationPoint]
    /// Partitions whose log start the embedded broker moved (records dropped: it keeps about 5 MiB
    /// per partition), as `topic[partition]` → first offset kept. Empty when nothing was dropped.
    public var droppedByEmbeddedBroker: [String: Int64]
    /// Liquidity and concentration add-ons (IM, USDC) over all accounts at the opening snapshot,
    /// and for the ten accounts with the largest IM: their share of IM.
    public var liquidityAddOnInitial: Double
    public var concentrationAddOnInitial: Double
    public var addOnsLargestAccounts: [AddOnShare]

    /// One account's IM and the part of it that the liquidity and concentration add-ons make.
    public struct AddOnShare: Codable, Sendable {
        public var account: String
        public var initialRequirement: Double
        public var liquidity: Double
        public var concentration: Double
        /// `(liquidity + concentration) / initialRequirement`.
        public var share: Double
        /// The position with the largest add-ons: instrument, quantity and displayed depth on its
        /// closing side (contracts).
        public var largestPosition: String
    }

    /// One version of the calibrated parameter set: the BTC grid range with and without APC, the
    /// Forecast volatility (annualised), how much APC added, and the FHS ES of a $1M long BTC position.
    public struct CalibrationPoint: Codable, Sendable {
        public var version: Int64
        public var simulatedSeconds: Double
        public var reason: String
        public var priceRange: Double
        public var priceRangeWithoutAPC: Double
        public var forecastVolatility: Double
        public var apcAddOn: Double
        public var expectedShortfallPerMillionLong: Double
    }
}
