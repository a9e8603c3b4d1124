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
    ],
    targets: [
        // Pure margin mathematics: no Kafka, network or file I/O.
        .target(
            name: "MarginCore",
            swiftSettings: strictSwift + kernelSettings
        ),
        // The wire contract: code generated from Schemas/ (scripts/generate-protos) plus
        // conversions to and from the margin model.
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
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "MarginEngineCLI",
            dependencies: [
                "MarginCore",
                "MarginConformance",
                "MarginSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "CRdKafka"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "MarginCoreTests",
            dependencies: ["MarginCore", "MarginConformance", "MarginSchema"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSwift
        ),
    ]
)
