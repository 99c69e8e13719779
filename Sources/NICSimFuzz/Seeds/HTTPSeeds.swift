/// Seeds of the HTTP server target, written op by op in
/// `HTTPServerFuzz`'s format: a whole download acknowledged as it goes,
/// pipelined requests with ranges and refusals, a transfer that loses
/// segments and recovers on the timer, and a connection torn down by
/// resets and closes.
enum HTTPSeeds {
    typealias Op = HTTPServerFuzz.Op

    static func seeds() -> [(String, [UInt8])] {
        [
            ("download-acknowledged", download()),
            ("pipelined-ranges-and-refusals", pipelined()),
            ("loss-and-retransmission", loss()),
            ("resets-fins-and-limit", teardown()),
        ]
    }

    private static func connect(_ w: inout FuzzInputWriter, _ connection: UInt8, isn: UInt32, mss: UInt16 = 1460, window: UInt16 = 65535) {
        w.u8(Op.connect.rawValue); w.u8(connection); w.u32(isn); w.u16(mss); w.u16(window)
    }

    private static func request(_ w: inout FuzzInputWriter, _ connection: UInt8, _ template: UInt8) {
        w.u8(Op.request.rawValue); w.u8(connection); w.u8(template)
    }

    private static func ackAll(_ w: inout FuzzInputWriter, _ connection: UInt8, times: Int = 1) {
        for _ in 0..<times { w.u8(Op.ackAll.rawValue); w.u8(connection) }
    }

    private static func advance(_ w: inout FuzzInputWriter, ms: UInt16) {
        w.u8(Op.advance.rawValue); w.u16(ms)
    }

    private static func segment(_ w: inout FuzzInputWriter, _ connection: UInt8, flags: UInt8, delta: Int16 = 0, ackMode: UInt8 = 0,
                                window: UInt16 = 65535, payload: [UInt8] = []) {
        w.u8(Op.segment.rawValue); w.u8(connection); w.u8(flags); w.u16(UInt16(bitPattern: delta)); w.u8(ackMode); w.u16(window)
        w.u16(UInt16(payload.count)); w.append(payload)
    }

    static func download() -> [UInt8] {
        var w = FuzzInputWriter()
        w.u8(6)  // limit 4, full DHCP server
        connect(&w, 0, isn: 1000)
        request(&w, 0, 1)  // GET /large.bin
        ackAll(&w, 0, times: 80)
        request(&w, 0, 0)
        ackAll(&w, 0, times: 3)
        segment(&w, 0, flags: 0x11)  // FIN+ACK
        return w.bytes
    }

    static func pipelined() -> [UInt8] {
        var w = FuzzInputWriter()
        w.u8(7)  // limit 4, proxyDHCP
        connect(&w, 1, isn: 0xFFFF_FF00, mss: 536, window: 4000)
        request(&w, 1, 3)  // ranges, then HTTP/1.0
        ackAll(&w, 1, times: 12)
        connect(&w, 2, isn: 7)
        for t: UInt8 in [2, 4, 5, 6, 8, 9, 10] { request(&w, 2, t); ackAll(&w, 2, times: 3) }
        ackAll(&w, 2, times: 60)
        connect(&w, 3, isn: 99)
        request(&w, 3, 7)  // POST with a body
        ackAll(&w, 3, times: 2)
        return w.bytes
    }

    static func loss() -> [UInt8] {
        var w = FuzzInputWriter()
        w.u8(2)
        connect(&w, 0, isn: 0x8000_0000)
        request(&w, 0, 4)  // 70000 bytes, suffix range
        ackAll(&w, 0)
        // Acknowledge less than was sent, three times: a triple duplicate ACK.
        for _ in 0..<3 { segment(&w, 0, flags: 0x10, ackMode: 1 | 40 << 2) }
        advance(&w, ms: 1000)
        ackAll(&w, 0, times: 40)
        advance(&w, ms: 3000)
        // A zero window, then silence until the probes give up.
        segment(&w, 0, flags: 0x10, window: 0)
        advance(&w, ms: 40000)
        advance(&w, ms: 40000)
        return w.bytes
    }

    static func teardown() -> [UInt8] {
        var w = FuzzInputWriter()
        w.u8(0)  // limit 1
        connect(&w, 0, isn: 5)
        connect(&w, 1, isn: 6)  // refused: over the limit
        request(&w, 0, 11)  // an incomplete head
        segment(&w, 0, flags: 0x11)  // then FIN
        ackAll(&w, 0, times: 2)
        connect(&w, 1, isn: 9)
        segment(&w, 1, flags: 0x04, delta: 100)  // RST off the window: challenge ACK
        segment(&w, 1, flags: 0x02, delta: 0)  // SYN on an open connection
        segment(&w, 1, flags: 0x10, ackMode: 2 | 200 << 2, payload: Array("GET / HTTP/1.1\r\n".utf8))  // ACK of unsent data
        segment(&w, 1, flags: 0x04)  // RST at RCV.NXT
        segment(&w, 2, flags: 0x10, payload: [1, 2, 3])  // no connection: RST
        advance(&w, ms: 31000)
        return w.bytes
    }
}
