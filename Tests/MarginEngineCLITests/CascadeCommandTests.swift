import Foundation
import Testing
import TestSupport

/// `margin-engine cascade` as a user runs it: bad input exits 2 naming what is wrong, before any
/// account is generated.
@Suite("margin-engine cascade", .tags(.cli))
struct CascadeCommandTests {
    @Test("An unknown policy, a missing scenario file or an impossible account count exits 2 with an error line")
    func badInput() throws {
        for (arguments, expected) in [
            (["cascade", "--policy", "default,reckless"], "reckless"),
            (["cascade", "--scenario", "/nonexistent/scenario.json"], "/nonexistent/scenario.json"),
            (["cascade", "--accounts", "0", "--params", "deribit-like"], "accounts"),
            (["cascade", "--params", "deribit-like", "--accounts", "10", "--insurance-fund=-5"], "insurance_fund"),
        ] {
            let run = try CLI.run(arguments, stdin: "", timeoutSeconds: 120)
            #expect(run.status == 2, "\(arguments): status \(run.status)")
            #expect(run.stderr.hasPrefix("error: ") && run.stderr.contains(expected), "\(arguments): \(run.stderr)")
        }
    }
}
