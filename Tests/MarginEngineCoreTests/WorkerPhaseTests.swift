import Testing
@testable import MarginEngineCore

/// The engine's lifecycle machine alone: it only decides, the engine acts on what it returns.
@Suite("Engine phase machine")
struct WorkerPhaseTests {
    @Test("restoringReference → serving once every target is reached (or its partition ends) → draining; the timeout is reported once")
    func phaseMachine() {
        let instruments = InputPartition(topic: "instruments", partition: 0)
        let market = InputPartition(topic: "market", partition: 0)
        var phase = WorkerPhase()
        #expect(phase.state == .restoringReference && !phase.referenceRestored)
        #expect(phase.setReferenceTargets([instruments: 2, market: 4], now: 0) == .none)
        #expect(phase.referenceRead(instruments, next: 2) == .none, "market still behind")
        #expect(phase.checkTimeout(now: 500, timeoutMs: 1_000) == .none)
        #expect(phase.checkTimeout(now: 1_500, timeoutMs: 1_000) == .reportReferenceTimeout(afterMs: 1_500, behind: [market]))
        #expect(phase.checkTimeout(now: 2_500, timeoutMs: 1_000) == .none, "reported once")
        #expect(phase.referenceRead(market, next: 3) == .none)
        #expect(phase.referenceRead(market, next: 3, partitionEnd: true) == .startServing, "a commit marker hid the last offset")
        #expect(phase.isServing && phase.referenceRestored)
        #expect(phase.referenceRead(market, next: 9) == .none, "serving starts once")
        phase.drain()
        #expect(phase.state == .draining && !phase.isServing && phase.referenceRestored)
    }

    @Test("No targets: the phase waits (an empty target set is not 'caught up' before it is set)")
    func phaseWithoutTargets() {
        var phase = WorkerPhase()
        #expect(phase.referenceRead(InputPartition(topic: "market", partition: 0), next: 1) == .none)
        #expect(phase.state == .restoringReference)
    }
}
