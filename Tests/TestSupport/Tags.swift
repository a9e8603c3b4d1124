import Testing

extension Tag {
    /// Talks the Kafka protocol to an embedded broker (librdkafka's mock cluster): slower, and
    /// skipped by `swift test --skip "Broker"`-style filters when only the fast suites should run.
    @Tag public static var broker: Self
    /// Runs the embedded demo end to end.
    @Tag public static var demo: Self
    /// Runs the built `margin-engine` executable.
    @Tag public static var cli: Self
}
