import Foundation
import NICSimFuzz
import XCTest

/// The seed files under `fixtures/fuzz/<target>/` are what `FuzzSeeds`
/// builds: real inputs in each harness's current format. After a
/// deliberate change to a harness, a driver or a model, rewrite them with
/// `NICSIM_FUZZ_REGENERATE_SEEDS=1 swift test --filter FuzzSeedTests` and
/// review the difference.
final class FuzzSeedTests: XCTestCase {
    static let regenerate = ProcessInfo.processInfo.environment["NICSIM_FUZZ_REGENERATE_SEEDS"] == "1"

    func testSeedFilesAreWhatTheBuildersMake() throws {
        for target in FuzzTarget.allCases {
            let directory = FuzzCorpusTests.corpusRoot.appendingPathComponent(target.name)
            let seeds = FuzzSeeds.seeds(for: target)
            XCTAssertGreaterThanOrEqual(seeds.count, 3, "\(target.name) has too few seeds")
            for seed in seeds {
                XCTAssertFalse(seed.bytes.isEmpty, "\(target.name)/\(seed.name): its builder failed")
                XCTAssertLessThanOrEqual(seed.bytes.count, 16 << 10, "\(target.name)/\(seed.name) is not small")
                XCTAssertLessThanOrEqual(seed.bytes.count, target.maxInputSize)
                let url = directory.appendingPathComponent(seed.name)
                if Self.regenerate {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    try Data(seed.bytes).write(to: url)
                    continue
                }
                let kept = (try? [UInt8](Data(contentsOf: url))) ?? []
                let firstDifference = zip(kept, seed.bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(kept.count, seed.bytes.count)
                XCTAssertTrue(kept == seed.bytes,
                              "fixtures/fuzz/\(target.name)/\(seed.name) (\(kept.count) bytes) differs from its builder's "
                              + "\(seed.bytes.count) bytes at offset \(firstDifference); "
                              + "regenerate with NICSIM_FUZZ_REGENERATE_SEEDS=1 and review")
            }
        }
    }
}
