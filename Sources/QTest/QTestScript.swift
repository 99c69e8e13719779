/// A register-level regression script: qtest commands plus two wire
/// directives, run unchanged against nicsim and QEMU.
///
/// ```
/// # Free text comments.
/// #! args: -m 64M -netdev socket,id=n0,fd=@NET -device ne2k_pci,netdev=n0,addr=3
/// outl 0xcf8 0x80001800
/// inl 0xcfc                      # deviation: NE2K-PROM-FILTER
/// outw 0xc010 0x0001             # settle
/// %send ffffffffffff525400123456...   (a frame arrives from the wire)
/// %recv                          (the next frame the NIC sent)
/// ```
///
/// `@NET` stands for the descriptor of the harness's netdev socket. A step
/// may name a deviation (an entry of docs/deviations.md): QEMU's answer to
/// that step may differ from nicsim's, for the documented reason.
public struct QTestScript: Sendable {
    public struct Step: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A qtest command line, sent as written.
            case command(String)
            /// `%send HEX`: a frame from the wire.
            case send([UInt8])
            /// `%recv`: the next frame the NIC put on the wire.
            case receive
        }
        public var kind: Kind
        /// The step as written, without its comment (the transcript echoes it).
        public var text: String
        public var deviation: String?
        public var lineNumber: Int
    }

    public var arguments: [String] = []
    public var steps: [Step] = []

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(text: String) throws(ParseError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = index + 1
            let line = rawLine.trimmingSuffix()
            if line.hasPrefix("#! args:") {
                arguments += line.dropFirst(8).split(separator: " ").map(String.init)
                continue
            }
            var body = line
            var deviation: String?
            if let hash = line.firstIndex(of: "#") {
                body = line[..<hash].trimmingSuffix()
                // Annotations, `;`-separated: `deviation: ID` and `settle`
                // (the harness waits for QEMU to finish the step's work; in
                // process every step finishes before its reply).
                for part in line[line.index(after: hash)...].split(separator: ";") {
                    let annotation = part.trimmingCharacters()
                    if annotation.hasPrefix("deviation:") {
                        deviation = annotation.dropFirst(10)[...].trimmingCharacters()
                    }
                }
            }
            guard !body.isEmpty else { continue }
            let text = String(body)
            if body.hasPrefix("%send ") {
                let hex = body.dropFirst(6).filter { $0 != " " }
                guard let frame = Self.hexBytes(hex) else { throw ParseError(description: "line \(n): %send needs hex bytes") }
                steps.append(Step(kind: .send(frame), text: text, deviation: deviation, lineNumber: n))
            } else if body == "%recv" {
                steps.append(Step(kind: .receive, text: text, deviation: deviation, lineNumber: n))
            } else if body.hasPrefix("%") {
                throw ParseError(description: "line \(n): unknown directive '\(body)'")
            } else {
                steps.append(Step(kind: .command(text), text: text, deviation: deviation, lineNumber: n))
            }
        }
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        var i = 0
        while i < u.count {
            guard let b = UInt8(String(decoding: u[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }

    public static func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s += QTestServer.hex(UInt64(b), minDigits: 2) }
        return s
    }
}

extension Substring {
    func trimmingSuffix() -> Substring {
        var s = self
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }

    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.trimmingSuffix())
    }
}
