import MarginCore

/// The calibrator's settings (`calibration:` in the YAML configuration,
/// `MARGIN_ENGINE_CALIBRATION_<KEY>`, `--set calibration.<key>=…`, and the flags of `calibrate` and
/// `backtest`, which go through the same settings table). Typed: parsed once at load, validated by
/// ``validate()``. The model's defaults are ``RiskModelSettings``'s and the schedule's
/// ``LiveCalibration/Settings``'s (documented there with their sources); nothing is restated here.
public struct CalibrationSettings: Sendable, Hashable {
    /// Seed history: `UNDERLYING=file.csv,…`, bare files, or `builtin`.
    public var prices = "builtin"
    /// The preset whose grid the calibration rescales.
    public var base = "deribit-like"
    /// The dynamic risk model (volatility model, horizon, confidence, APC, price-range floor, …).
    public var model = RiskModelSettings()
    /// When the live calibrator recalibrates (market time) besides new days.
    public var live = LiveCalibration.Settings()
    /// The calibrator's compacted topic of daily closes.
    public var riskFactorsTopic = "margin.riskfactors.v1"

    public init() {}

    /// Refuses settings the model cannot run with (``RiskModelSettings/validate()``).
    public func validate() throws(MarginError) {
        try model.validate()
        guard live.intervalMs >= 0 else { throw .invalidInput(field: "calibration.interval_ms", reason: "must be ≥ 0") }
        guard live.volatilityMoveThreshold.isFinite, live.volatilityMoveThreshold > 0 else {
            throw .invalidInput(field: "calibration.vol_move_threshold", reason: "must be a positive number")
        }
    }
}
