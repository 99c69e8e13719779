import Foundation
import NICSimFuzz
import XCTest

/// Every input kept under `fixtures/fuzz/<target>/` (the seeds, and in
/// `regressions/` every input that once crashed or hung a target) runs
/// through the same harness libFuzzer runs. A defect the fuzzers found
/// stays fixed because its reproducer runs here on every `swift test`.
final class FuzzCorpusTests: XCTestCase {
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/fuzz")

    /// The files of `target`'s corpus, seeds and regressions, in a stable order.
    static func corpus(_ target: FuzzTarget) -> [URL] {
        let directory = corpusRoot.appendingPathComponent(target.name)
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var files: [URL] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(url)
        }
        return files.sorted { $0.path < $1.path }
    }

    private func replay(_ target: FuzzTarget, file: StaticString = #filePath, line: UInt = #line) throws {
        let files = Self.corpus(target)
        XCTAssertGreaterThanOrEqual(files.count, 3, "fixtures/fuzz/\(target.name) needs a handful of seeds", file: file, line: line)
        for url in files {
            let bytes = try [UInt8](Data(contentsOf: url))
            XCTAssertLessThanOrEqual(bytes.count, target.maxInputSize, "\(url.lastPathComponent) is longer than the target reads",
                                     file: file, line: line)
            target.run(bytes)
        }
    }

    func testNE2000PCICorpus() throws { try replay(.ne2000PCI) }
    func testNE2000ISACorpus() throws { try replay(.ne2000ISA) }
    func testRTL8139Corpus() throws { try replay(.rtl8139) }
    func testRTL8139CPlusCorpus() throws { try replay(.rtl8139CPlus) }
    func testVirtioNetLegacyCorpus() throws { try replay(.virtioNetLegacy) }
    func testVirtioNetModernCorpus() throws { try replay(.virtioNetModern) }
    func testVirtQueueSplitCorpus() throws { try replay(.virtqueueSplit) }
    func testVirtQueuePackedCorpus() throws { try replay(.virtqueuePacked) }
    func testPcapCorpus() throws { try replay(.pcap) }
    func testPcapNGCorpus() throws { try replay(.pcapng) }
    func testQEMUStreamBridgeCorpus() throws { try replay(.qemuStreamBridge) }
    func testQEMUStreamQTestCorpus() throws { try replay(.qemuStreamQTest) }
    func testWireCorpus() throws { try replay(.wire) }
    func testBootServerCorpus() throws { try replay(.bootServer) }
    func testPXEClientCorpus() throws { try replay(.pxeClient) }
    func testPXEAPICorpus() throws { try replay(.pxeAPI) }
    func testPXELinuxConfigCorpus() throws { try replay(.pxelinuxConfig) }
    func testOptionROMCorpus() throws { try replay(.optionROM) }
    func testQTestProtocolCorpus() throws { try replay(.qtestProtocol) }
    func testMachineCorpus() throws { try replay(.machine) }
    func testOffloadCorpus() throws { try replay(.offload) }
    func testHTTPServerCorpus() throws { try replay(.httpServer) }
    func testCABICorpus() throws { try replay(.cABI) }
    func testUEFIImageCorpus() throws { try replay(.uefiImage) }
    func testTFTPLogCorpus() throws { try replay(.tftpLog) }

    /// Every target has a test above, and every corpus directory names a target.
    func testEveryTargetHasACorpusAndEveryCorpusATarget() throws {
        XCTAssertEqual(FuzzTarget.allCases.count, 25)
        let directories = try FileManager.default.contentsOfDirectory(atPath: Self.corpusRoot.path).sorted()
        XCTAssertEqual(directories, FuzzTarget.allCases.map(\.name).sorted())
    }

    /// Nothing reads past its input: empty and one-byte inputs are valid runs.
    func testEmptyAndTinyInputsRun() {
        for target in FuzzTarget.allCases {
            target.run([])
            target.run([0xFF])
        }
    }
}
