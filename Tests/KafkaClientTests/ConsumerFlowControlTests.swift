import Testing
@testable import KafkaClient

/// The consumer's flow-control machine alone (no broker): it decides, the consumer runs.
@Suite("Consumer flow control")
struct ConsumerFlowControlTests {
    static let a = TopicPartition(topic: "t", partition: 0)
    static let b = TopicPartition(topic: "t", partition: 1)

    @Test("running → backPressured at capacity (the assignment paused except what the application paused) → running at half")
    func backPressure() throws {
        var flow = ConsumerFlowControl()
        _ = try flow.pause([Self.a])
        #expect(flow.bufferLevel(99, capacity: 100) == .none)
        #expect(flow.bufferLevel(100, capacity: 100) == .pauseAssignment(except: [Self.a]))
        #expect(flow.state == .backPressured)
        #expect(flow.bufferLevel(100, capacity: 100) == .none, "paused once")
        #expect(flow.bufferLevel(51, capacity: 100) == .none, "still above half")
        #expect(flow.bufferLevel(50, capacity: 100) == .resumeAssignment(except: [Self.a]), "the application's pause stays")
        #expect(flow.state == .running)
    }

    @Test("A failed pause or resume reverts the state, so the next turn tries again")
    func failedActionRetries() {
        var flow = ConsumerFlowControl()
        let pause = flow.bufferLevel(10, capacity: 10)
        flow.assignmentActionFailed(pause)
        #expect(flow.state == .running)
        #expect(flow.bufferLevel(10, capacity: 10) == pause, "retried")
        let resume = flow.bufferLevel(0, capacity: 10)
        flow.assignmentActionFailed(resume)
        #expect(flow.state == .backPressured)
        #expect(flow.bufferLevel(0, capacity: 10) == resume)
    }

    @Test("The application's resume waits for the buffer while back-pressured; new partitions stay paused as they must")
    func userPauseAndAssignments() throws {
        var flow = ConsumerFlowControl()
        #expect(try flow.pause([Self.a, Self.b]) == .pause([Self.a, Self.b]))
        #expect(flow.assigned([Self.a]) == .pause([Self.a]), "a paused partition reassigned stays paused")
        #expect(try flow.resume([Self.b]) == .resume([Self.b]))
        #expect(flow.assigned([Self.b]) == .none)
        _ = flow.bufferLevel(8, capacity: 8)
        #expect(try flow.resume([Self.a]) == .none, "resumed with the assignment once the buffer drains")
        #expect(flow.assigned([Self.b]) == .pause([Self.b]), "while back-pressured everything new is paused")
        #expect(flow.bufferLevel(4, capacity: 8) == .resumeAssignment(except: []))
    }

    @Test("After close nothing is paused or resumed and the application's calls throw closed")
    func closing() {
        var flow = ConsumerFlowControl()
        flow.close()
        #expect(flow.state == .closing && flow.isClosed)
        #expect(flow.bufferLevel(100, capacity: 10) == .none)
        #expect(throws: KafkaError.closed) { _ = try flow.pause([Self.a]) }
        #expect(throws: KafkaError.closed) { _ = try flow.resume([Self.a]) }
        flow.closed()
        #expect(flow.state == .closed)
        #expect(flow.assigned([Self.a]) == .none)
    }
}
