import Testing
@testable import MarginHTTP

/// The connection cap's arithmetic (the flood itself is tested from outside by
/// `scripts/connection-test`, under `ulimit -n 256`).
@Suite("Connection limit")
struct ConnectionLimitTests {
    @Test("The cap leaves 128 descriptors of the open-file limit, never below 8; no limit known keeps the setting")
    func effectiveCap() {
        #expect(ConnectionLimit.effective(configured: 512, fileLimit: 256) == 128)
        #expect(ConnectionLimit.effective(configured: 512, fileLimit: 1_048_576) == 512)
        #expect(ConnectionLimit.effective(configured: 100, fileLimit: 1_024) == 100)
        #expect(ConnectionLimit.effective(configured: 512, fileLimit: 64) == 8)
        #expect(ConnectionLimit.effective(configured: 512, fileLimit: nil) == 512)
    }

    @Test("Places are taken up to the cap, refused past it, and given back")
    func admitAndLeave() {
        let limit = ConnectionLimit(limit: 2, instance: "test")
        #expect(limit.admit() && limit.admit())
        #expect(!limit.admit())
        limit.leave()
        #expect(limit.openCount == 1)
        #expect(limit.admit())
        #expect(!limit.admit())
    }

    @Test("The process's open-file limit is readable")
    func fileLimit() throws {
        let limits = try #require(FileDescriptorLimit.current())
        #expect(limits.soft > 0 && limits.soft <= limits.hard)
    }
}
