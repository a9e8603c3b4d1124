// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The margin kernels use SIMD multiply-adds; without FMA in the target, each lane's
/// `addingProduct` becomes a call to libm's `fma`. MarginCore builds for the compiler's default
/// target (no `unsafeFlags`, so other packages can depend on it) unless `MARGIN_ENGINE_TARGET_CPU`
/// names a CPU (`haswell` for AVX2 + FMA x86-64, `native`); `scripts/demo`, `scripts/test` and the
/// Dockerfile opt in on machines that have it.
let kernelTargetCPU: String? = {
    guard let configured = ProcessInfo.processInfo.environment["MARGIN_ENGINE_TARGET_CPU"],
          !configured.isEmpty, configured != "generic" else { return nil }
    return configured
}()

let kernelSettings: [SwiftSetting] = kernelTargetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

/// The C baselines `margin-engine-bench` compares the kernels with: -O3 -ffast-math -fopenmp-simd
/// (the aggregation's scenario loops carry `#pragma omp simd`) and the same CPU as MarginCore
/// (`haswell` → `-march=haswell -mtune=haswell`; the compiler's default target when generic).
let baselineCSettings: [CSetting] = {
    #if arch(x86_64)
    let cpuFlags = kernelTargetCPU.map { ["-march=\($0)", "-mtune=\($0)"] } ?? []
    #else
    let cpuFlags = kernelTargetCPU.map { ["-mcpu=\($0)"] } ?? []
    #endif
    return [.unsafeFlags(["-O3", "-ffast-math", "-fopenmp-simd"] + cpuFlags), .define("CKB_TARGET_CPU", to: "\"\(kernelTargetCPU ?? "generic")\"")]
}()

/// glibc's vector math (libmvec, for the Black-76 baseline's vector erfc) on x86-64 Linux.
let baselineLinkerSettings: [LinkerSetting] = {
    #if arch(x86_64) && os(Linux)
    return [.linkedLibrary("mvec"), .linkedLibrary("m")]
    #else
    return []
    #endif
}()

/// Strict settings shared by every target of ours.
let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "margin-engine",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "margin-engine", targets: ["MarginEngineCLI"]),
        .executable(name: "margin-engine-bench", targets: ["MarginBench"]),
        .library(name: "MarginCore", targets: ["MarginCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.27.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        // Benchmarks only; the malloc interposer counts allocations (no jemalloc needed).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Pure margin mathematics: no Kafka, network or file I/O.
        .target(
            name: "MarginCore",
            swiftSettings: strictSwift + kernelSettings
        ),
        // The wire contract: code generated from Schemas/ (scripts/generate-protos) plus
        // conversions to and from the margin model.
        // Synthetic inputs for tests and benchmarks (books, accounts, a liquidity world); never in the worker.
        .target(
            name: "MarginTesting",
            dependencies: ["MarginCore"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "MarginSchema",
            dependencies: ["MarginCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            resources: [.copy("Presets")],
            swiftSettings: strictSwift
        ),
        // librdkafka (Debian librdkafka-dev 2.0.2) with its mock cluster, as a C module.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // A small Sendable Swift API over librdkafka: no C type in its public interface.
        .target(
            name: "KafkaClient",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),
        // Reference-model conformance: Derive PMRM_2 golden cases, Deribit chain marks.
        .target(
            name: "MarginConformance",
            dependencies: ["MarginCore"],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/btc_options_2020-05-14.csv")],
            swiftSettings: strictSwift
        ),
        // The engine core: domain events in, domain actions out. Shards, reference data, the
        // re-margin pass, the liquidation coordinator and the publication rules; no Kafka, no protobuf.
        .target(
            name: "MarginEngineCore",
            dependencies: [
                "MarginCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // The Kafka adapter around the engine: settings, decoding, encoding, offsets, transactions.
        .target(
            name: "MarginWorker",
            dependencies: [
                "MarginCore", "MarginSchema", "MarginEngineCore", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        // Health, readiness, queries, what-if, metrics exposition and the HTML risk console.
        .target(
            name: "MarginHTTP",
            dependencies: [
                "MarginCore", "MarginSchema", "MarginEngineCore", "MarginWorker", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strictSwift
        ),
        // The calibrator role: re-fits the risk model on the index history and publishes parameter sets.
        .target(
            name: "MarginCalibrator",
            dependencies: [
                "MarginCore", "MarginSchema", "MarginWorker", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        // Backtesting: margin against realised losses on price history, coverage statistics
        // (Kupiec, Christoffersen, Basel traffic light), procyclicality and the HTML report.
        .target(
            name: "MarginBacktest",
            dependencies: ["MarginCore"],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/btc_usd_daily.csv"), .copy("Resources/eth_usd_daily.csv")],
            swiftSettings: strictSwift
        ),
        // The self-contained demo: Deribit chain market, generated accounts, crash replay.
        .target(
            name: "MarginDemo",
            dependencies: [
                "MarginCore", "MarginSchema", "MarginConformance", "MarginEngineCore", "MarginWorker", "MarginHTTP",
                "MarginCalibrator", "MarginBacktest", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        // `margin-engine cascade`: liquidation cascades simulated in-process with the worker's
        // calculator, risk books, planner and coordinator; the fills move the books and the index.
        .target(
            name: "MarginCascade",
            dependencies: ["MarginCore", "MarginEngineCore", "MarginDemo", "MarginBacktest"],
            swiftSettings: strictSwift
        ),
        // Exit codes and plain output shared by the two executables.
        .target(
            name: "CommandLineSupport",
            dependencies: ["MarginEngineCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSwift
        ),
        // C baselines for `margin-engine-bench` (Black-76 with glibc's vector erfc, the aggregation loop).
        .target(
            name: "CKernelBaseline",
            cSettings: baselineCSettings,
            linkerSettings: baselineLinkerSettings
        ),
        // `margin-engine`: the worker, the calibrator, the demo and the margin tools. Links no fixtures
        // and no C baselines.
        .executableTarget(
            name: "MarginEngineCLI",
            dependencies: [
                "MarginCore", "MarginConformance", "MarginSchema", "MarginEngineCore", "MarginWorker",
                "MarginHTTP", "MarginCalibrator", "MarginDemo", "MarginBacktest", "MarginCascade", "KafkaClient", "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSwift
        ),
        // `margin-engine-bench`: kernels against the C baselines, the in-process and through-Kafka
        // worker, growth. Synthetic fixtures from MarginTesting.
        .executableTarget(
            name: "MarginBench",
            dependencies: [
                "MarginCore", "MarginTesting", "CKernelBaseline", "MarginSchema", "MarginEngineCore",
                "MarginWorker", "MarginDemo", "KafkaClient", "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // `swift package --disable-sandbox benchmark`: the hot paths under ordo-one/benchmark.
        .executableTarget(
            name: "MarginBenchmarks",
            dependencies: ["MarginCore", "MarginTesting", "MarginSchema", "MarginDemo", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/MarginBenchmarks",
            swiftSettings: strictSwift,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Bounded waits, awaitable logs and the suites' tags, shared by the asynchronous test targets.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictSwift
        ),
        // Engines fed domain events (no broker, no wire format) and the small test world.
        .target(
            name: "EngineTestSupport",
            dependencies: ["MarginEngineCore", "MarginCore", "MarginSchema", .product(name: "Logging", package: "swift-log")],
            path: "Tests/EngineTestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "CRdKafka", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginEngineCoreTests",
            dependencies: ["MarginEngineCore", "MarginCore", "EngineTestSupport", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginWorkerTests",
            dependencies: [
                "MarginEngineCore", "MarginWorker", "MarginCalibrator", "KafkaClient", "MarginCore", "MarginSchema", "MarginDemo",
                "EngineTestSupport", "TestSupport",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginHTTPTests",
            dependencies: [
                "MarginHTTP", "MarginEngineCore", "MarginWorker", "MarginCore", "MarginSchema", "EngineTestSupport", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift
        ),
        // Runs the built `margin-engine` as users do (documented examples, exit codes).
        .testTarget(
            name: "MarginEngineCLITests",
            dependencies: ["MarginCore", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginCascadeTests",
            dependencies: ["MarginCascade", "MarginCore", "MarginDemo", "MarginEngineCore", "MarginSchema"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginBacktestTests",
            dependencies: ["MarginBacktest", "MarginCore", "MarginSchema", "MarginTesting"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginCoreTests",
            dependencies: ["MarginCore", "MarginTesting"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginSchemaTests",
            dependencies: ["MarginSchema", "MarginCore", "MarginTesting", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginConformanceTests",
            dependencies: ["MarginConformance", "MarginCore", "MarginSchema"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwift
        ),
    ]
)
