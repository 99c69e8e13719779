import NICSimFuzz

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libFuzzer's two entry points. The target is chosen once, from the
// environment, so one binary serves every surface:
//
//   NICSIM_FUZZ_TARGET=rtl8139 nicsim-fuzz -max_total_time=60 CORPUS
//   NICSIM_FUZZ_TARGET=list nicsim-fuzz     # every target and its input limit

nonisolated(unsafe) private var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func nicsimFuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                   _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    let name = getenv("NICSIM_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if name == "list" {
        for target in FuzzTarget.allCases { print("\(target.name) \(target.maxInputSize)") }
        exit(0)
    }
    guard let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.name).joined(separator: " ")
        let line = "nicsim-fuzz: set NICSIM_FUZZ_TARGET to one of: \(known) (or list)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func nicsimFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget?.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
