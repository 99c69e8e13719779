import NICCore
import XCTest
@testable import Wire

/// The TFTP transfer log, fed frames synthesized as a client and a server
/// would exchange them (RFC 1350, RFC 2347 OACK, RFC 2348 blksize, RFC 7440
/// windowsize), in the order a card would send and receive them.
final class TFTPTransferLogTests: XCTestCase {
    /// A client at 10.0.2.100 and a server at 10.0.2.2 whose transfer
    /// answers from port `tid`; each call builds one frame and feeds it.
    struct Wire {
        let log: TFTPTransferLog
        var client = UDPEndpoint(mac: clientMAC, ip: IPv4Address(10, 0, 2, 100), port: 2070)
        var server = UDPEndpoint(mac: serverMAC, ip: IPv4Address(10, 0, 2, 2), port: 69)
        var tid: UInt16 = 50001
        let buffer = FrameBuffer(capacity: 70_000)
        /// Bytes spliced in after the MAC addresses (an 802.1Q tag, say).
        var tag: [UInt8] = []

        init(_ log: TFTPTransferLog) { self.log = log }

        func frame(from: UDPEndpoint, to: UDPEndpoint, _ write: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows -> [UInt8] {
            let n = try write(UDPFrame.payloadArea(of: buffer))
            try! UDPFrame.finish(buffer, from: from, to: to, payloadCount: n)
            var bytes = Array(buffer.bytes)
            if !tag.isEmpty { bytes.insert(contentsOf: tag, at: 12) }
            return bytes
        }

        func feed(_ bytes: [UInt8]) { bytes.withUnsafeBytes { log.observe($0) } }

        func rrq(_ file: String, _ options: [TFTPOption] = []) {
            feed(frame(from: client, to: server) { try! TFTPPacket.writeRequest(.readRequest, TFTPRequest(filename: file, options: options), to: $0) })
        }

        func oack(_ options: [TFTPOption], from port: UInt16? = nil) {
            feed(frame(from: serverTID(port), to: client) { try! TFTPPacket.writeOptionAcknowledgement(options, to: $0) })
        }

        func data(_ block: UInt16, _ bytes: ArraySlice<UInt8>, from port: UInt16? = nil) {
            feed(frame(from: serverTID(port), to: client) { area in
                try! TFTPPacket.writeDataHeader(block: block, to: area)
                for (i, b) in bytes.enumerated() { area[4 + i] = b }
                return 4 + bytes.count
            })
        }

        func ack(_ block: UInt16) {
            feed(frame(from: client, to: serverTID(nil)) { try! TFTPPacket.writeAcknowledgement(block: block, to: $0) })
        }

        func serverError(_ code: TFTPErrorCode, _ message: String) {
            feed(frame(from: serverTID(nil), to: client) { try! TFTPPacket.writeError(code, message: message, to: $0) })
        }

        func clientError(_ code: TFTPErrorCode, _ message: String) {
            feed(frame(from: client, to: serverTID(nil)) { try! TFTPPacket.writeError(code, message: message, to: $0) })
        }

        private func serverTID(_ port: UInt16?) -> UDPEndpoint {
            var s = server
            s.port = port ?? tid
            return s
        }

        /// Serves `file` in lock step from block 1: DATA n, ACK n.
        func send(_ file: [UInt8], blockSize: Int = 512) {
            var block: UInt16 = 1
            var offset = 0
            while true {
                let end = min(offset + blockSize, file.count)
                data(block, file[offset..<end])
                ack(block)
                if end - offset < blockSize { return }
                offset = end
                block &+= 1
            }
        }
    }

    private func file(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    private func assertCompleted(_ record: TFTPTransferRecord?, _ name: String, _ bytes: [UInt8],
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(record?.file, name, file: file, line: line)
        XCTAssertEqual(record?.size, bytes.count, file: file, line: line)
        XCTAssertEqual(record?.sha256, SHA256.hex(bytes), file: file, line: line)
    }

    // MARK: Reassembly

    func testLockStepTransferCompletesWithSizeAndHash() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(3 * 512 + 100)
        wire.rrq("pxelinux.0")
        wire.send(bytes)
        XCTAssertEqual(log.openTransfers, 0)
        XCTAssertEqual(log.entries.count, 1)
        assertCompleted(log.entries.first, "pxelinux.0", bytes)
        XCTAssertEqual(log.entries.first?.client, clientMAC)
        XCTAssertEqual(log.entries.first?.server, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(log.entries.first?.clientPort, 2070)
    }

    /// A file with the Linux boot protocol's "HdrS" at 202h is marked a
    /// kernel, whichever blocks the four bytes fall in; other files are not.
    func testLinuxKernelsAreRecognisedByTheirBootHeader() {
        for blockSize in [512, 8, 515, 1432] {
            let log = TFTPTransferLog()
            let wire = Wire(log)
            var kernel = file(4000)
            kernel.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
            var almost = kernel
            almost[0x205] = 0x73
            let options = blockSize == 512 ? [] : [TFTPOption("blksize", String(blockSize))]
            for (name, bytes) in [("vmlinuz", kernel), ("initrd.img", file(4000, seed: 2)), ("not-a-kernel", almost), ("short", Array(kernel[0..<0x204]))] {
                wire.rrq(name, options)
                if !options.isEmpty { wire.oack(options) ; wire.ack(0) }
                wire.send(bytes, blockSize: blockSize)
            }
            XCTAssertEqual(log.entries.map(\.file), ["vmlinuz", "initrd.img", "not-a-kernel", "short"], "blksize \(blockSize)")
            XCTAssertEqual(log.entries.map(\.linuxKernel), [true, false, false, false], "blksize \(blockSize)")
        }
    }

    /// RFC 1350: a file whose size is a multiple of the block size ends
    /// with an empty DATA block.
    func testExactMultipleOfBlockSizeEndsWithAnEmptyBlock() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(1024)
        wire.rrq("two-blocks")
        wire.data(1, bytes[0..<512])
        wire.data(2, bytes[512..<1024])
        XCTAssertEqual(log.openTransfers, 1, "a full block never ends a transfer")
        wire.data(3, [])
        assertCompleted(log.entries.first, "two-blocks", bytes)
    }

    func testDuplicatesAndRetransmitsAreIgnored() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(2 * 512 + 7)
        wire.rrq("f")
        wire.data(1, bytes[0..<512])
        wire.data(1, bytes[0..<512])           // the wire duplicated it
        wire.ack(1)
        wire.data(2, bytes[512..<1024])
        wire.data(1, bytes[0..<512])           // a stale retransmit
        wire.data(2, bytes[512..<1024])        // the server timed out and resent
        wire.ack(2)
        wire.data(3, bytes[1024...])
        wire.data(3, bytes[1024...])           // after completion: nothing to match
        assertCompleted(log.entries.first, "f", bytes)
        XCTAssertEqual(log.entries.count, 1)
    }

    /// RFC 7440: with windowsize 4 the server sends four blocks per ACK; a
    /// lost block makes the client ACK the last one in order, and the next
    /// window starts after it. Blocks past the gap are not taken.
    func testWindowWithALostBlockIsTakenInOrder() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(6 * 512 + 1)
        let block = { (n: Int) in bytes[((n - 1) * 512)..<min(n * 512, bytes.count)] }
        wire.rrq("win", [TFTPOption("windowsize", "4")])
        wire.oack([TFTPOption("windowsize", "4")])
        wire.ack(0)
        wire.data(1, block(1))
        wire.data(2, block(2))
        wire.data(4, block(4))                 // 3 was lost
        wire.ack(2)
        for n in 3...6 { wire.data(UInt16(n), block(n)) }
        wire.ack(6)
        wire.data(7, block(7))
        wire.ack(7)
        assertCompleted(log.entries.first, "win", bytes)
    }

    /// RFC 2348: the OACK's blksize is the size of every block but the last.
    func testOptionAcknowledgementSetsTheBlockSize() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(3 * 1432 + 600)
        wire.rrq("vmlinuz", [TFTPOption("blksize", "1432"), TFTPOption("tsize", "0")])
        wire.oack([TFTPOption("blksize", "1432"), TFTPOption("tsize", String(bytes.count))])
        wire.ack(0)
        wire.send(bytes, blockSize: 1432)
        assertCompleted(log.entries.first, "vmlinuz", bytes)
    }

    /// A server that ignores the options answers with DATA 1 at 512 bytes.
    func testServerIgnoringOptionsMeansDefaultBlockSize() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(512 + 3)
        wire.rrq("f", [TFTPOption("blksize", "1432")])
        wire.send(bytes)
        assertCompleted(log.entries.first, "f", bytes)
    }

    /// iPXE and pxelinux take files past 65535 blocks: the 16-bit number
    /// goes on from 65535 to 0. 65537 blocks of 8 bytes: numbers 1...65535, 0, 1.
    func testBlockNumberRollsOverPast65535() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(65536 * 8 + 3)
        wire.rrq("big", [TFTPOption("blksize", "8")])
        wire.oack([TFTPOption("blksize", "8")])
        wire.ack(0)
        var offset = 0
        var block: UInt16 = 1
        while offset <= bytes.count {
            let end = min(offset + 8, bytes.count)
            wire.data(block, bytes[offset..<end])
            if block == 0 { wire.data(65535, bytes[(offset - 8)..<offset]) }  // a late duplicate across the wrap
            offset += 8
            block &+= 1
        }
        XCTAssertEqual(log.openTransfers, 0)
        assertCompleted(log.entries.first, "big", bytes)
    }

    /// Some servers (tftp-hpa's rollover=1) go on from 65535 to 1 when the
    /// client asks; the log follows only when the OACK grants it.
    func testRolloverToOneWhenNegotiated() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(65536 * 8 + 3)
        wire.rrq("big", [TFTPOption("blksize", "8"), TFTPOption("rollover", "1")])
        wire.oack([TFTPOption("blksize", "8"), TFTPOption("rollover", "1")])
        wire.ack(0)
        var offset = 0
        var block: UInt16 = 1
        while offset <= bytes.count {
            wire.data(block, bytes[offset..<min(offset + 8, bytes.count)])
            offset += 8
            block = block == 65535 ? 1 : block + 1
        }
        assertCompleted(log.entries.first, "big", bytes)
    }

    // MARK: Failures and probes

    func testServerErrorFailsTheTransferWithCodeAndMessage() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        wire.rrq("pxelinux.cfg/01-52-54-00-12-34-56", [TFTPOption("tsize", "0")])
        wire.serverError(.fileNotFound, "File not found")
        XCTAssertEqual(log.openTransfers, 0)
        let r = log.entries.first
        XCTAssertEqual(r?.outcome, .serverError(code: 1, message: "File not found"))
        XCTAssertEqual(r?.errorCode, 1)
        XCTAssertEqual(r?.failure, "TFTP error 1 (File not found)")
        XCTAssertNil(r?.sha256)
        // dnsmasq says more than the code's name: its message follows.
        wire.rrq("pxelinux.cfg/0A")
        wire.serverError(.fileNotFound, "file /srv/tftp/pxelinux.cfg/0A not found")
        XCTAssertEqual(log.entries.last?.failure, "TFTP error 1 (File not found): file /srv/tftp/pxelinux.cfg/0A not found")
    }

    /// Text from the wire never reaches a terminal raw: an ESC sequence or
    /// a newline in a message or file name is escaped.
    func testControlCharactersInNamesAndMessagesAreEscaped() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        wire.rrq("evil\u{1B}[2J\nname\u{202E}")
        wire.serverError(.accessViolation, "no\u{7}\r\n")
        XCTAssertEqual(log.entries.first?.file, "evil\\x1B[2J\\x0Aname\\u{202E}")
        XCTAssertEqual(log.entries.first?.outcome, .serverError(code: 2, message: "no\\x07\\x0D\\x0A"))
    }

    /// PXE ROMs and pxelinux ask for a file's size with tsize, then abort
    /// (ERROR 8, or ERROR 0 "transfer aborted") or just stop: the client
    /// kept nothing, so the probe is counted, not listed.
    func testAbandonedSizeProbesAreCountedNotListed() {
        let log = TFTPTransferLog()
        var wire = Wire(log)
        wire.rrq("pxelinux.0", [TFTPOption("tsize", "0")])
        wire.oack([TFTPOption("tsize", "42430")])
        wire.clientError(.optionNegotiation, "size only")
        wire.client.port = 2071
        wire.tid = 50002
        wire.rrq("ldlinux.c32", [TFTPOption("tsize", "0")])
        wire.oack([TFTPOption("tsize", "119524")])
        wire.client.port = 2072
        wire.tid = 50003
        wire.rrq("vmlinuz", [TFTPOption("tsize", "0")])
        wire.oack([TFTPOption("tsize", "5120")])
        log.finish()
        XCTAssertEqual(log.entries, [])
        XCTAssertEqual(log.records.probes, 3)
        XCTAssertEqual(log.openTransfers, 0)
    }

    func testClientAbortAfterDataIsAFailure() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(4 * 512)
        wire.rrq("initrd.img")
        wire.data(1, bytes[0..<512])
        wire.ack(1)
        wire.data(2, bytes[512..<1024])
        wire.clientError(.notDefined, "transfer aborted")
        let r = log.entries.first
        XCTAssertEqual(r?.outcome, .clientError(code: 0, message: "transfer aborted"))
        XCTAssertEqual(r?.size, 1024)
        XCTAssertEqual(r?.failure, "aborted by the client after 1024 bytes: TFTP error 0: transfer aborted")
    }

    /// What a client sends again because no answer reached it counts as a
    /// retransmission: an unanswered request repeated (same port or a new
    /// one) and an ACK repeated. A size probe followed by the real request
    /// does not.
    func testClientRetransmissionsAreCounted() {
        let log = TFTPTransferLog()
        var wire = Wire(log)
        let bytes = file(3 * 512 + 7)
        wire.rrq("pxelinux.cfg/default")
        wire.rrq("pxelinux.cfg/default")
        XCTAssertEqual(log.clientRetransmissions, 1, "the same port")
        wire.client.port += 1
        wire.rrq("pxelinux.cfg/default")
        XCTAssertEqual(log.clientRetransmissions, 2, "a new port")
        wire.client.port += 1
        wire.rrq("another-file")
        XCTAssertEqual(log.clientRetransmissions, 2, "a different file is a new request")
        wire.send(bytes)
        XCTAssertEqual(log.clientRetransmissions, 2)

        wire.client.port += 1
        wire.rrq("vmlinuz", [TFTPOption("tsize", "0")])
        wire.oack([TFTPOption("tsize", String(bytes.count))])
        wire.clientError(.notDefined, "size probe")
        wire.client.port += 1
        wire.rrq("vmlinuz")
        XCTAssertEqual(log.clientRetransmissions, 2, "a probe, then the transfer")
        wire.data(1, bytes[0..<512])
        wire.ack(1)
        wire.ack(1)
        XCTAssertEqual(log.clientRetransmissions, 3, "ACK 1 again: block 2 never came")
        wire.data(2, bytes[512..<1024])
        wire.ack(2)
        XCTAssertEqual(log.clientRetransmissions, 3)
    }

    func testTransferStillOpenAtTheEndIsUnfinished() {
        let log = TFTPTransferLog()
        var wire = Wire(log)
        let bytes = file(4 * 512)
        wire.rrq("initrd.img")
        wire.data(1, bytes[0..<512])
        wire.ack(1)
        wire.client.port += 1
        wire.rrq("never-answered")
        XCTAssertEqual(log.openTransfers, 2, "another client port: a second transfer")
        log.finish()
        XCTAssertEqual(log.entries.map(\.outcome), [.unfinished, .unfinished])
        XCTAssertEqual(log.entries.map(\.size), [512, 0])
        XCTAssertEqual(log.openTransfers, 0)
    }

    /// A client that repeats an unanswered RRQ is one transfer; a new RRQ
    /// from the same port after data restarts it.
    func testRequestsFromTheSamePort() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let first = file(3 * 512), second = file(100, seed: 2)
        wire.rrq("a")
        wire.rrq("a")
        XCTAssertEqual(log.openTransfers, 1)
        wire.data(1, first[0..<512])
        wire.ack(1)
        wire.rrq("b")
        wire.send(second)
        XCTAssertEqual(log.entries.map(\.outcome), [.restarted, .completed(sha256: SHA256.hex(second))])
        XCTAssertEqual(log.entries.map(\.file), ["a", "b"])
        XCTAssertEqual(log.entries.first?.size, 512)
    }

    /// RFC 1350 section 4: packets from a port other than the transfer's
    /// TID belong to someone else and change nothing.
    func testPacketsFromAnotherTIDAreIgnored() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(700)
        wire.rrq("f")
        wire.data(1, bytes[0..<512])           // binds TID 50001
        wire.data(2, file(9, seed: 3)[...], from: 50999)
        wire.feed(wire.frame(from: UDPEndpoint(mac: serverMAC, ip: IPv4Address(10, 0, 2, 2), port: 50999), to: wire.client) {
            try! TFTPPacket.writeError(.unknownTransferID, message: "x", to: $0)
        })
        XCTAssertEqual(log.entries, [])
        wire.data(2, bytes[512...])
        assertCompleted(log.entries.first, "f", bytes)
    }

    /// A switch floods frames for unknown destinations to every port: the
    /// card's port carries another station's transfer too. With `station`
    /// set, only the card's own requests are followed; and answers must be
    /// addressed to the client's MAC either way.
    func testOtherStationsTransfersAreNotFollowed() {
        let other = MACAddress(0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC)
        let log = TFTPTransferLog(station: clientMAC)
        var wire = Wire(log)
        wire.client.mac = other
        wire.rrq("theirs")
        wire.send(file(100))
        XCTAssertEqual(log.entries, [])
        XCTAssertEqual(log.openTransfers, 0)

        let any = TFTPTransferLog()
        let mine = Wire(any)
        let bytes = file(700)
        mine.rrq("mine")
        mine.data(1, bytes[0..<512])
        var flooded = mine
        flooded.client.mac = other             // same IP and port, another station's copy
        flooded.data(2, [9, 9, 9])
        XCTAssertEqual(any.entries, [])
        mine.data(2, bytes[512...])
        assertCompleted(any.entries.first, "mine", bytes)
    }

    func testTwoConcurrentTransfersAreKeptApart() {
        let log = TFTPTransferLog()
        var a = Wire(log), b = Wire(log)
        b.client.port = 3000
        b.tid = 60000
        let fa = file(2 * 512 + 10, seed: 4), fb = file(3 * 512 + 20, seed: 5)
        a.rrq("a")
        b.rrq("b")
        for n in 1...4 {
            let block = UInt16(n)
            let lo = (n - 1) * 512
            if lo <= fa.count { a.data(block, fa[lo..<min(lo + 512, fa.count)]); a.ack(block) }
            b.data(block, fb[lo..<min(lo + 512, fb.count)])
            b.ack(block)
        }
        XCTAssertEqual(log.entries.map(\.file), ["a", "b"])
        assertCompleted(log.entries.first, "a", fa)
        assertCompleted(log.entries.last, "b", fb)
    }

    // MARK: Framing

    func testVLANTaggedFramesAreFollowed() {
        let log = TFTPTransferLog()
        var wire = Wire(log)
        wire.tag = [0x81, 0x00, 0x00, 0x05]    // 802.1Q, VLAN 5
        let bytes = file(600)
        wire.rrq("tagged")
        wire.send(bytes)
        assertCompleted(log.entries.first, "tagged", bytes)
    }

    func testFragmentsAreIgnored() {
        let log = TFTPTransferLog()
        let wire = Wire(log)
        let bytes = file(100)
        wire.rrq("f")
        var last = wire.frame(from: UDPEndpoint(mac: serverMAC, ip: wire.server.ip, port: wire.tid), to: wire.client) { area in
            try! TFTPPacket.writeDataHeader(block: 1, to: area)
            for (i, b) in bytes.enumerated() { area[4 + i] = b }
            return 4 + bytes.count
        }
        last[14 + 6] |= 0x20                   // more fragments
        wire.feed(last)
        XCTAssertEqual(log.entries, [])
        last[14 + 6] &= ~0x20
        wire.feed(last)
        assertCompleted(log.entries.first, "f", bytes)
    }

    /// Bounded memory: at most `maximumTransfers` followed (the one idle
    /// longest is closed to make room), at most `capacity` records kept.
    func testTransfersAndRecordsAreBounded() {
        let log = TFTPTransferLog(maximumTransfers: 2, capacity: 2)
        var wire = Wire(log)
        for (i, name) in ["a", "b", "c"].enumerated() {
            wire.client.port = UInt16(4000 + i)
            wire.tid = UInt16(51000 + i)
            wire.rrq(name)
            wire.data(1, file(512)[...])
            wire.ack(1)
        }
        XCTAssertEqual(log.openTransfers, 2)
        XCTAssertEqual(log.evicted, 1)
        XCTAssertEqual(log.entries.map(\.file), ["a"])
        wire.data(2, [1, 2, 3])                // completes c (the current TID)
        log.finish()
        XCTAssertEqual(log.entries.map(\.file), ["a", "c"])
        XCTAssertEqual(log.records.overflow, 1, "b did not fit")
    }

    /// Hostile input: random bytes, and every truncation and single-byte
    /// corruption of real TFTP frames, never crash the log or leave it
    /// inconsistent.
    func testGarbageNeverCrashes() {
        let log = TFTPTransferLog(maximumTransfers: 4, capacity: 16)
        var rng = SeededRandom(seed: 69)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 120)
            var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if n > 24, rng.next() % 2 == 0 {
                // Often a plausible IPv4/UDP frame to port 69 with junk after.
                bytes.replaceSubrange(12..<14, with: [0x08, 0x00])
                bytes[14] = 0x45
            }
            bytes.withUnsafeBytes { log.observe($0) }
        }
        let wire = Wire(log)
        let frames = [
            wire.frame(from: wire.client, to: wire.server) { try! TFTPPacket.writeRequest(.readRequest, TFTPRequest(filename: "f", options: [TFTPOption("blksize", "8")]), to: $0) },
            wire.frame(from: UDPEndpoint(mac: serverMAC, ip: wire.server.ip, port: wire.tid), to: wire.client) { try! TFTPPacket.writeOptionAcknowledgement([TFTPOption("blksize", "8")], to: $0) },
            wire.frame(from: UDPEndpoint(mac: serverMAC, ip: wire.server.ip, port: wire.tid), to: wire.client) { area in
                try! TFTPPacket.writeDataHeader(block: 1, to: area)
                return 4 + 5
            },
        ]
        for f in frames {
            for cut in 0...f.count { Array(f[..<cut]).withUnsafeBytes { log.observe($0) } }
            for i in f.indices {
                var g = f
                g[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                g.withUnsafeBytes { log.observe($0) }
            }
        }
        log.observe(UnsafeRawBufferPointer(start: nil, count: 0))
        log.finish()
        XCTAssertEqual(log.openTransfers, 0)
        XCTAssertLessThanOrEqual(log.entries.count, 16)
    }
}
