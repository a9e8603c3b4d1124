import Foundation

/// Test data shipped in `Fixtures/` (sources noted in `Fixtures/README.md`).
enum Fixtures {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(relativePath))
    }

    static func files(in subdirectory: String, withExtension ext: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory.appendingPathComponent(subdirectory), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == ext }
            .sorted { $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending }
    }
}
