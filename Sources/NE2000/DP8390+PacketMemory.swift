/// The NIC's local address space as an NE2000 board wires it: the PROM at
/// 0x0000-0x001F, 32 KiB of packet memory at 0x4000-0xBFFF, nothing
/// elsewhere (reads float high, writes go nowhere). Every local access of
/// the local and remote DMA channels comes through here, so no register
/// value can reach outside the model's own buffers.
extension DP8390 {
    /// One byte at local address `address`.
    @inline(__always)
    func localRead(_ address: UInt16) -> UInt8 {
        let i = Int(address) &- DP8390.memoryStart
        if i >= 0 && i < DP8390.memorySize { return ram[i] }
        if Int(address) < DP8390.promSize { return prom[Int(address)] }
        return 0xFF
    }

    /// Stores one byte at local address `address` if packet memory is there.
    /// The PROM is read-only.
    @inline(__always)
    func localWrite(_ address: UInt16, _ value: UInt8) {
        let i = Int(address) &- DP8390.memoryStart
        if i >= 0 && i < DP8390.memorySize { ram[i] = value }
    }

    /// True when pages `[first, first + pages)` all lie in packet memory.
    func pagesInMemory(first: Int, pages: Int) -> Bool {
        first >= Int(DP8390.firstPage) && pages >= 0 && first + pages <= DP8390.endPage
    }

    /// Copies `count` bytes of packet memory starting at local address
    /// `address` (which the caller has checked lies, with the count, inside
    /// packet memory) to `destination`.
    func copyOut(from address: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        destination.copyMemory(from: ram + (address - DP8390.memoryStart), byteCount: count)
    }

    /// Copies bytes into packet memory at local address `address`; the
    /// caller has checked the range.
    func copyIn(to address: Int, from source: UnsafeRawPointer, count: Int) {
        UnsafeMutableRawPointer(ram + (address - DP8390.memoryStart)).copyMemory(from: source, byteCount: count)
    }

    /// A test and diagnostics view of packet memory: the byte at local
    /// address `address` as the NIC's DMA channels see it.
    public func peek(_ address: UInt16) -> UInt8 { localRead(address) }

    /// Stores a byte at local address `address` as the local DMA would (the
    /// PROM and unmapped addresses ignore it): for tests and fault injection.
    public func poke(_ address: UInt16, _ value: UInt8) { localWrite(address, value) }
}
