import MarginCore

/// The risk console's queries at this moment (the HTTP routes read the published snapshot; see
/// ``EngineSnapshot/consoleOverview(group:nearestCount:)``).
extension MarginEngine {
    public func consoleOverview(group: String, nearestCount: Int = 20) -> ConsoleOverview {
        makeSnapshot().consoleOverview(group: group, nearestCount: nearestCount)
    }

    public func consoleAccount(id: String) -> ConsoleAccount? {
        makeSnapshot().consoleAccount(id: id)
    }
}
