import Foundation
import Testing
import TestSupport

/// `margin-engine run` as an operator starts it: a worker reachable from the network needs a
/// token or an explicit `--insecure-http`.
@Suite("margin-engine run", .tags(.cli))
struct RunCommandTests {
    @Test("A non-loopback http_host without bearer_token is refused at start, naming the way out")
    func exposedWithoutTokenIsRefused() throws {
        let run = try CLI.run(["run", "--brokers", "127.0.0.1:1", "--set", "http_host=0.0.0.0"], stdin: "", timeoutSeconds: 30)
        #expect(run.status != 0)
        #expect(run.stderr.contains("http_host") && run.stderr.contains("bearer_token") && run.stderr.contains("--insecure-http"),
                "stderr: \(run.stderr)")
    }
}
