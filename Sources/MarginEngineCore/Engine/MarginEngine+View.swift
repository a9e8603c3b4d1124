extension MarginEngine {
    /// The snapshot of this moment (see ``EngineView``).
    func makeSnapshot() -> EngineSnapshot {
        EngineSnapshot(status: status(), isReady: isReady, calculator: calculator, parameters: parameters, reference: reference.data,
                       accounts: accounts, liquidation: liquidation, inputBounds: settings.inputBounds, paramsID: settings.paramsID,
                       instanceID: settings.instanceID, nowMs: clock())
    }

    /// Publishes the current snapshot to ``view`` (after each step that changes what it shows).
    /// With `reference: false` (a reference record, whose market the books do not reflect until the
    /// window rebuilds them) the reference part of the last snapshot stays, so that a what-if
    /// margins against books and markets that belong together and never rebuilds a book itself.
    func publishView(reference withReference: Bool = true) {
        var snapshot = makeSnapshot()
        if !withReference, let last = view.snapshot {
            snapshot.calculator = last.calculator
            snapshot.parameters = last.parameters
            snapshot.reference = last.reference
        }
        view.publish(snapshot)
    }
}
