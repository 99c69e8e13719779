import NICCore
import UNDI

/// The UNDI opcodes over parameter blocks (s_PXENV_UNDI_xxx layouts of
/// PXE 2.1; offsets in each handler's comment are from the block's start,
/// where Status sits).
extension PXEAPI {
    /// MAC_ADDR_t is 16 bytes in PXE structures; Ethernet uses the first 6.
    static let macFieldSize = 16

    /// s_PXENV_UNDI_MCAST_ADDRESS at `offset`: MCastAddrCount, then
    /// MAXNUM_MCADDR (8) MAC_ADDR_t entries.
    func multicastList(_ b: GuestBlock, at offset: Int) throws(PXEStatus) -> [MACAddress] {
        let count = Int(try b.u16(offset))
        guard count <= UNDI.maxMulticastAddresses else { throw .undiInvalidParameter }
        var list: [MACAddress] = []
        for i in 0..<count {
            guard let mac = MACAddress(bytes: try b.bytes(offset + 2 + Self.macFieldSize * i, 6)) else { throw .undiInvalidParameter }
            list.append(mac)
        }
        return list
    }

    /// RESET_ADAPTER: R_Mcast_Buf at 2.
    func undiResetAdapter(_ b: GuestBlock) throws(PXEStatus) {
        try check(undi.resetAdapter(multicast: try multicastList(b, at: 2)))
    }

    /// SHUTDOWN also ends any base-code transfer using the NIC.
    func undiShutdown(_ b: GuestBlock) throws(PXEStatus) {
        try check(undi.shutdown())
        baseCode.tftp.close()
        baseCode.udpOpen = false
    }

    /// OPEN: OpenFlag 2, PktFilter 4, R_Mcast_Buf 6.
    func undiOpen(_ b: GuestBlock) throws(PXEStatus) {
        let filter = ReceiveFilter(rawValue: try b.u16(4))
        guard filter.rawValue & ~0x000F == 0 else { throw .undiInvalidParameter }
        try check(undi.open(filter: filter, multicast: try multicastList(b, at: 6)))
    }

    /// TRANSMIT: Protocol 2, XmitFlag 3, DestAddr 4, TBD 8, Reserved 12.
    /// The TBD (s_PXENV_UNDI_TBD): ImmedLength 0, Xmit 2, DataBlkCount 6,
    /// then up to 8 DataBlks of 8 bytes from 8: TDPtrType (1 = SEGOFF16,
    /// 0 = 32-bit physical), TDRsvdByte, TDDataLen, TDDataPtr.
    func undiTransmit(_ b: GuestBlock) throws(PXEStatus) {
        guard let proto = UNDIProtocol(rawValue: try b.u8(2)), proto != .other else { throw .undiInvalidParameter }
        let flag = try b.u8(3)
        guard flag <= 1 else { throw .undiInvalidParameter }
        let broadcast = flag == 1
        var destination = MACAddress.zero
        if proto != .unknown, !broadcast {
            destination = try GuestBlock(memory, at: try b.address(4).linear, failure: .undiInvalidParameter).mac(0)
        }
        let tbd = GuestBlock(memory, at: try b.address(8).linear, failure: .undiInvalidParameter)
        let immediateLength = Int(try tbd.u16(0))
        let immediate = try tbd.address(2)
        let blockCount = Int(try tbd.u16(6))
        guard blockCount <= 8 else { throw .undiInvalidParameter }
        let memory = self.memory
        try check(undi.transmit(protocol: proto, broadcast: broadcast, destination: destination) { (room) throws(PXEStatus) -> Int in
            // Piece 0 is the immediate buffer, pieces 1... the data blocks.
            var used = 0
            for piece in 0...blockCount {
                let linear: UInt64
                let length: Int
                if piece == 0 {
                    guard immediateLength > 0 else { continue }
                    (linear, length) = (immediate.linear, immediateLength)
                } else {
                    let at = 8 + 8 * (piece - 1)
                    length = Int(try tbd.u16(at + 2))
                    let pointer = try tbd.u32(at + 4)
                    switch try tbd.u8(at) {
                    case 1: linear = RealModeAddress(packed: pointer).linear
                    case 0: linear = UInt64(pointer)
                    default: throw .undiInvalidParameter
                    }
                }
                guard length <= room.count - used else { throw .undiInvalidParameter }
                let dst = UnsafeMutableRawBufferPointer(rebasing: room[used..<(used + length)])
                try GuestBlock(memory, at: linear, failure: .undiInvalidParameter).read(0, into: dst)
                used += length
            }
            return used
        })
    }

    /// SET_MCAST_ADDRESS: R_Mcast_Buf at 2.
    func undiSetMulticastAddress(_ b: GuestBlock) throws(PXEStatus) {
        try check(undi.setMulticastAddresses(try multicastList(b, at: 2)))
    }

    /// SET_STATION_ADDRESS: StationAddress (MAC_ADDR_t) at 2.
    func undiSetStationAddress(_ b: GuestBlock) throws(PXEStatus) {
        guard let mac = MACAddress(bytes: try b.bytes(2, 6)) else { throw .undiInvalidParameter }
        try check(undi.setStationAddress(mac))
    }

    /// SET_PACKET_FILTER: filter (one byte) at 2.
    func undiSetPacketFilter(_ b: GuestBlock) throws(PXEStatus) {
        try check(undi.setPacketFilter(ReceiveFilter(rawValue: UInt16(try b.u8(2)))))
    }

    /// GET_INFORMATION: BaseIo 2, IntNumber 4, MaxTranUnit 6, HwType 8,
    /// HwAddrLen 10, CurrentNodeAddress 12, PermNodeAddress 28, ROMAddress
    /// 44, RxBufCt 46, TxBufCt 48.
    func undiGetInformation(_ b: GuestBlock) throws(PXEStatus) {
        let i = try undi.information()
        try b.set16(2, i.baseIO)
        try b.set16(4, i.interruptNumber)
        try b.set16(6, i.maxTransmissionUnit)
        try b.set16(8, i.hardwareType)
        try b.set16(10, i.hardwareAddressLength)
        try b.setField(12, size: Self.macFieldSize, i.currentAddress.bytes)
        try b.setField(28, size: Self.macFieldSize, i.permanentAddress.bytes)
        try b.set16(44, i.romSegment)
        try b.set16(46, i.receiveBufferCount)
        try b.set16(48, i.transmitBufferCount)
    }

    /// GET_STATISTICS: XmtGoodFrames 2, RcvGoodFrames 6, RcvCRCErrors 10,
    /// RcvResourceErrors 14.
    func undiGetStatistics(_ b: GuestBlock) throws(PXEStatus) {
        let s = try undi.statistics()
        try b.set32(2, s.transmitGoodFrames)
        try b.set32(6, s.receiveGoodFrames)
        try b.set32(10, s.receiveCRCErrors)
        try b.set32(14, s.receiveResourceErrors)
    }

    /// GET_MCAST_ADDRESS: InetAddr (IP4_t) 2 in, MediaAddr 6 out.
    func undiGetMulticastAddress(_ b: GuestBlock) throws(PXEStatus) {
        let mac = try undi.multicastAddress(forIPv4: try b.ip(2))
        try b.setField(6, size: Self.macFieldSize, mac.bytes)
    }

    /// GET_NIC_TYPE: NicType 2, then pci_nic_info (Vendor_ID 3, Dev_ID 5,
    /// Base_Class 7, Sub_Class 8, Prog_Intf 9, Rev 10, BusDevFunc 11,
    /// SubVendor_ID 13, SubDevice_ID 15) or pnp_nic_info (EISA_Dev_ID 3,
    /// Base_Class 7, Sub_Class 8, Prog_Intf 9, CardSelNum 10).
    func undiGetNICType(_ b: GuestBlock) throws(PXEStatus) {
        let type = try undi.nicType()
        try b.set8(2, type.nicType)
        switch type {
        case .pci(let vendor, let device, let base, let sub, let prog, let rev, let bdf, let subVendor, let subDevice):
            try b.set16(3, vendor)
            try b.set16(5, device)
            try b.set8(7, base)
            try b.set8(8, sub)
            try b.set8(9, prog)
            try b.set8(10, rev)
            try b.set16(11, bdf)
            try b.set16(13, subVendor)
            try b.set16(15, subDevice)
        case .pnp(let eisa, let base, let sub, let prog, let csn):
            try b.set32(3, eisa)
            try b.set8(7, base)
            try b.set8(8, sub)
            try b.set8(9, prog)
            try b.set16(10, csn)
        }
    }

    /// GET_IFACE_INFO: IfaceType[16] 2, LinkSpeed 18, ServiceFlags 22,
    /// Reserved[4] 26.
    func undiGetIfaceInfo(_ b: GuestBlock) throws(PXEStatus) {
        let i = try undi.interfaceInfo()
        try b.setField(2, size: 16, Array(i.interfaceType.utf8))
        try b.set32(18, i.linkSpeed)
        try b.set32(22, i.serviceFlags.rawValue)
        try b.fill(26, count: 16)
    }

    /// GET_STATE (when opcode 0x0015 is taken as GET_STATE): UNDIstate at 2.
    func undiGetState(_ b: GuestBlock) throws(PXEStatus) {
        try b.set8(2, undi.state.rawValue)
    }

    /// ISR: FuncFlag 2 (in and out), BufferLength 4, FrameLength 6,
    /// FrameHeaderLength 8, Frame 10, ProtType 14, PktType 15. A received
    /// frame is copied into the UNDI's receive buffer in guest memory and
    /// Frame points at it.
    func undiISR(_ b: GuestBlock) throws(PXEStatus) {
        guard let function = ISRFunction(rawValue: try b.u16(2)) else { throw .undiInvalidParameter }
        let result = try undi.isr(function)
        try b.set16(2, result.funcFlag)
        guard case .receive(let frame) = result else {
            try b.set16(4, 0)
            try b.set16(6, 0)
            try b.set16(8, 0)
            try b.setAddress(10, .null)
            try b.set8(14, 0)
            try b.set8(15, 0)
            return
        }
        let n = min(frame.bytes.count, PXELayout.receiveBufferSize)
        let buffer = layout.receiveBuffer
        try GuestBlock(memory, at: buffer.linear).write(0, from: UnsafeRawBufferPointer(rebasing: frame.bytes[0..<n]))
        try b.set16(4, UInt16(n))
        try b.set16(6, UInt16(clamping: frame.frameLength))
        try b.set16(8, UInt16(frame.headerLength))
        try b.setAddress(10, buffer)
        try b.set8(14, frame.protocolType.rawValue)
        try b.set8(15, frame.packetType.rawValue)
    }
}
