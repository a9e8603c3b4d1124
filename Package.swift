// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The margin kernels use SIMD multiply-adds; without FMA in the target, each lane's
/// `addingProduct` becomes a call to libm's `fma`. Build MarginCore for Haswell-class x86-64 (AVX2 + FMA)
/// when this machine has it, or for `MARGIN_ENGINE_TARGET_CPU` when set (`generic` disables it).
let kernelTargetCPU: String? = {
    if let configured = ProcessInfo.processInfo.environment["MARGIN_ENGINE_TARGET_CPU"] {
        return configured == "generic" ? nil : configured
    }
    #if arch(x86_64) && os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let set = Set(flags.split(separator: " ").map(String.init))
    return ["avx2", "fma", "bmi2", "movbe"].allSatisfy(set.contains) ? "haswell" : nil
    #else
    return nil
    #endif
}()

let kernelSettings: [SwiftSetting] = kernelTargetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

/// The C baselines `margin-engine bench` compares the kernels with: -O3 and the same CPU as MarginCore
/// (`haswell` → `-march=haswell -mtune=haswell`; the compiler's default target when generic).
let baselineCSettings: [CSetting] = {
    #if arch(x86_64)
    let cpuFlags = kernelTargetCPU.map { ["-march=\($0)", "-mtune=\($0)"] } ?? []
    #else
    let cpuFlags = kernelTargetCPU.map { ["-mcpu=\($0)"] } ?? []
    #endif
    return [.unsafeFlags(["-O3"] + cpuFlags), .define("CKB_TARGET_CPU", to: "\"\(kernelTargetCPU ?? "generic")\"")]
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
        // The Kafka margin worker: shards, reference data, outputs, guards, HTTP, metrics.
        .target(
            name: "MarginWorker",
            dependencies: [
                "MarginCore", "MarginSchema", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"],
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
                "MarginCore", "MarginSchema", "MarginConformance", "MarginWorker", "MarginBacktest", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        // C baselines for `margin-engine bench` (Black-76 with glibc's vector erfc, the aggregation
        // loop); only the CLI links them.
        .target(
            name: "CKernelBaseline",
            cSettings: baselineCSettings,
            linkerSettings: baselineLinkerSettings
        ),
        .executableTarget(
            name: "MarginEngineCLI",
            dependencies: [
                "MarginCore",
                "MarginTesting",
                "CKernelBaseline",
                "MarginConformance",
                "MarginSchema",
                "MarginWorker",
                "MarginDemo",
                "MarginBacktest",
                "KafkaClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
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
        // Bounded waits and awaitable logs shared by the asynchronous test targets.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "CRdKafka", "TestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginWorkerTests",
            dependencies: [
                "MarginWorker", "KafkaClient", "MarginCore", "MarginSchema", "MarginDemo", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
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
            dependencies: ["MarginSchema", "MarginCore", "MarginTesting"],
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
