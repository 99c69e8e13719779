import Board
import CUnicorn
import NICCore
import UNDI

/// EFI_SIMPLE_NETWORK_PROTOCOL (UEFI 2.7 section 24.1) over a card's UNDI
/// driver: the same `NICDriver` nicsim's PXE ROM uses, reaching the card
/// only through the board. Frames pass through two reused buffers, so
/// the frame path allocates nothing.
final class UEFISimpleNetwork {
    let driver: NICDriver
    /// The protocol interface and its mode structure in guest memory.
    let interface: UInt64
    let mode: UInt64
    var state: UInt32 = 0  // EfiSimpleNetworkStopped
    var filterSetting: UInt32 = 0
    var multicast: [MACAddress] = []
    /// Transmit buffers handed back through GetStatus, oldest first.
    var recycled: [UInt64] = []
    /// A received frame the guest has not taken yet (its buffer was too small).
    var held = 0
    var rx = [UInt8](repeating: 0, count: 2048)
    var tx = [UInt8](repeating: 0, count: 2048)

    /// Offsets in EFI_SIMPLE_NETWORK_MODE.
    enum Mode {
        static let state: UInt64 = 0
        static let hwAddressSize: UInt64 = 4
        static let mediaHeaderSize: UInt64 = 8
        static let maxPacketSize: UInt64 = 12
        static let receiveFilterMask: UInt64 = 24
        static let receiveFilterSetting: UInt64 = 28
        static let maxMCastFilterCount: UInt64 = 32
        static let mCastFilterCount: UInt64 = 36
        static let mCastFilter: UInt64 = 40
        static let currentAddress: UInt64 = 552
        static let broadcastAddress: UInt64 = 584
        static let permanentAddress: UInt64 = 616
        static let ifType: UInt64 = 648
        static let macAddressChangeable: UInt64 = 649
        static let multipleTxSupported: UInt64 = 650
        static let mediaPresentSupported: UInt64 = 651
        static let mediaPresent: UInt64 = 652
        static let size = 656
    }

    /// EFI_SIMPLE_NETWORK_RECEIVE_* filter bits.
    static let unicast: UInt32 = 0x01, multicastBit: UInt32 = 0x02, broadcast: UInt32 = 0x04
    static let promiscuous: UInt32 = 0x08, promiscuousMulticast: UInt32 = 0x10

    init(driver: NICDriver, interface: UInt64, mode: UInt64) {
        self.driver = driver
        self.interface = interface
        self.mode = mode
    }
}

extension UEFIMachine {
    /// Puts a network card on the firmware as a PC's firmware does after
    /// connecting the card's network driver: a PCI handle
    /// (PciRoot(0)/Pci(slot)) with PCI I/O, opened by the firmware's own
    /// network driver, and a child handle (…/MAC(address)) with the Simple
    /// Network Protocol over `driver`. Returns the child (a network boot's
    /// `device`). DisconnectController on the PCI handle stops the
    /// firmware's driver and removes the child, so an image with its own
    /// driver for the card (iPXE's ipxe.efi) can take the card over PCI I/O.
    public func addNetworkDevice(driver: NICDriver, slot: PCIAddress) throws(MachineError) -> UInt64 {
        do throws(DriverError) { try driver.probe() } catch { throw .board("the card's driver could not probe it: \(error)") }
        let p = firmwareAllocate(128)
        let mode = firmwareAllocate(UEFISimpleNetwork.Mode.size)
        let snp = UEFISimpleNetwork(driver: driver, interface: p, mode: mode)
        networks[p] = snp
        let mac = driver.permanentAddress.bytes
        w32(mode + UEFISimpleNetwork.Mode.hwAddressSize, 6)
        w32(mode + UEFISimpleNetwork.Mode.mediaHeaderSize, 14)
        w32(mode + UEFISimpleNetwork.Mode.maxPacketSize, UInt32(max(driver.maxFrameSize - 14, 0)))
        w32(mode + UEFISimpleNetwork.Mode.receiveFilterMask, 0x1F)
        w32(mode + UEFISimpleNetwork.Mode.maxMCastFilterCount, UInt32(UNDI.maxMulticastAddresses))
        try? memory.write(at: mode + UEFISimpleNetwork.Mode.currentAddress, bytes: mac)
        try? memory.write(at: mode + UEFISimpleNetwork.Mode.permanentAddress, bytes: mac)
        try? memory.write(at: mode + UEFISimpleNetwork.Mode.broadcastAddress, bytes: [UInt8](repeating: 0xFF, count: 6))
        w8(mode + UEFISimpleNetwork.Mode.ifType, 1)
        w8(mode + UEFISimpleNetwork.Mode.macAddressChangeable, 1)
        w8(mode + UEFISimpleNetwork.Mode.mediaPresentSupported, 1)
        w8(mode + UEFISimpleNetwork.Mode.mediaPresent, driver.linkUp ? 1 : 0)

        w64(p, 0x0001_0000)
        let names = ["Start", "Stop", "Initialize", "Reset", "Shutdown", "ReceiveFilters", "StationAddress", "Statistics",
                     "MCastIpToMac", "NvData", "GetStatus", "Transmit", "Receive"]
        for (i, name) in names.enumerated() {
            w64(p + 8 + UInt64(i) * 8, stub("SNP.\(name)") { m in
                guard let snp = m.networks[m.arg(0)] else { return .done(EFIStatus.invalidParameter) }
                return .done(m.simpleNetwork(name, snp))
            })
        }
        let wait = makeEvent(type: UEFIEvent.notifyWait, tpl: EFITPL.notify, function: 0, context: 0, group: nil)
        events[wait]?.poll = { [unowned self, unowned snp] in snp.state == 2 && self.fetchFrame(snp) }
        w64(p + 112, wait)
        w64(p + 120, mode)

        let pciHandle = addPCIHandle(slot: slot)
        let childPath = storeDevicePath(DevicePath.pciRoot + DevicePath.pci(device: slot.device, function: slot.function) + DevicePath.mac(mac))
        let driverHandle = newHandle()
        let binding = firmwareAllocate(48)
        addProtocol(driverHandle, .driverBinding, binding)
        var child: UInt64 = 0
        func connect() {
            child = newHandle()
            addProtocol(child, .devicePath, childPath)
            addProtocol(child, .simpleNetwork, p)
            if let h = handles[pciHandle], let i = h.index(of: .pciIO) {
                h.protocols[i].opens.append((driverHandle, pciHandle, Self.byDriver))
                h.protocols[i].opens.append((driverHandle, child, Self.byChildController))
            }
        }
        w64(binding, stub("NetworkDriver.Supported") { m in
            let free = m.handles[child] == nil && m.handles[pciHandle].map { h in
                h.protocols.allSatisfy { $0.opens.allSatisfy { $0.attributes & Self.byDriver == 0 } }
            } == true
            return .done(m.arg(1) == pciHandle && free ? EFIStatus.success : EFIStatus.unsupported)
        })
        w64(binding + 8, stub("NetworkDriver.Start") { m in
            guard m.arg(1) == pciHandle, m.handles[child] == nil else { return .done(EFIStatus.alreadyStarted) }
            connect()
            return .done(EFIStatus.success)
        })
        w64(binding + 16, stub("NetworkDriver.Stop") { [unowned snp] m in
            guard m.arg(1) == pciHandle, let h = m.handles[child] else { return .done(EFIStatus.success) }
            guard !h.protocols.contains(where: { $0.opens.contains { $0.attributes & Self.byDriver != 0 } }) else {
                return .done(EFIStatus.deviceError)
            }
            m.handles[child] = nil
            m.handleOrder.removeAll { $0 == child }
            if let h = m.handles[pciHandle] {
                for i in h.protocols.indices { h.protocols[i].opens.removeAll { $0.agent == driverHandle } }
            }
            if snp.state == 2 { snp.driver.close() }
            snp.state = 0
            m.w32(snp.mode + UEFISimpleNetwork.Mode.state, 0)
            return .done(EFIStatus.success)
        })
        w32(binding + 24, 0x10)
        w64(binding + 32, driverHandle)
        w64(binding + 40, driverHandle)
        connect()
        return child
    }

    /// Takes the next frame from the card into the receive buffer, unless one is held already.
    func fetchFrame(_ snp: UEFISimpleNetwork) -> Bool {
        if snp.held > 0 { return true }
        let n = snp.rx.withUnsafeMutableBytes { snp.driver.receive(into: $0) } ?? 0
        snp.held = min(n, snp.rx.count)
        return snp.held > 0
    }

    private func setState(_ snp: UEFISimpleNetwork, _ state: UInt32) {
        snp.state = state
        w32(snp.mode + UEFISimpleNetwork.Mode.state, state)
    }

    /// The driver's filter for SNP's receive filter setting (multicast
    /// goes as the list; promiscuous multicast has no UNDI bit).
    func snpFilter(_ snp: UEFISimpleNetwork) -> ReceiveFilter {
        var f: ReceiveFilter = []
        if snp.filterSetting & UEFISimpleNetwork.unicast != 0 { f.insert(.directed) }
        if snp.filterSetting & UEFISimpleNetwork.broadcast != 0 { f.insert(.broadcast) }
        if snp.filterSetting & UEFISimpleNetwork.promiscuous != 0 { f.insert(.promiscuous) }
        return f
    }

    /// One SNP function on `snp`; arguments from the call (MS x64).
    func simpleNetwork(_ name: String, _ snp: UEFISimpleNetwork) -> UInt64 {
        let mode = snp.mode
        switch name {
        case "Start":
            guard snp.state == 0 else { return EFIStatus.alreadyStarted }
            setState(snp, 1)
            return EFIStatus.success
        case "Stop":
            guard snp.state == 1 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            setState(snp, 0)
            return EFIStatus.success
        case "Initialize", "Reset":
            guard snp.state != 0 else { return EFIStatus.notStarted }
            if name == "Reset", snp.state != 2 { return EFIStatus.deviceError }
            do throws(DriverError) {
                try snp.driver.open(filter: snpFilter(snp), multicast: snp.multicast)
            } catch {
                note("SNP.\(name): \(error)")
                return EFIStatus.deviceError
            }
            snp.held = 0
            snp.recycled.removeAll(keepingCapacity: true)
            setState(snp, 2)
            w8(mode + UEFISimpleNetwork.Mode.mediaPresent, snp.driver.linkUp ? 1 : 0)
            return EFIStatus.success
        case "Shutdown":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            snp.driver.close()
            setState(snp, 1)
            return EFIStatus.success
        case "ReceiveFilters":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            let enable = UInt32(truncatingIfNeeded: arg(1)), disable = UInt32(truncatingIfNeeded: arg(2))
            let reset = arg(3) & 0xFF != 0
            let count = arg(4), list = arg(5)
            guard (enable | disable) & ~0x1F == 0 else { return EFIStatus.invalidParameter }
            if reset {
                snp.multicast = []
            } else if enable & UEFISimpleNetwork.multicastBit != 0, count > 0 {
                guard count <= UInt64(UNDI.maxMulticastAddresses), valid(list, Int(count) * 32) else { return EFIStatus.invalidParameter }
                snp.multicast = (0..<count).compactMap { i in
                    (try? memory.readBytes(at: list + i * 32, count: 6)).flatMap { MACAddress(bytes: $0) }
                }
            }
            snp.filterSetting = (snp.filterSetting | enable) & ~disable
            w32(mode + UEFISimpleNetwork.Mode.receiveFilterSetting, snp.filterSetting)
            w32(mode + UEFISimpleNetwork.Mode.mCastFilterCount, UInt32(snp.multicast.count))
            for (i, a) in snp.multicast.enumerated() {
                try? memory.write(at: mode + UEFISimpleNetwork.Mode.mCastFilter + UInt64(i) * 32, bytes: a.bytes)
            }
            do throws(DriverError) { try snp.driver.setReceiveFilter(snpFilter(snp), multicast: snp.multicast) } catch {
                return EFIStatus.deviceError
            }
            return EFIStatus.success
        case "StationAddress":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            let address: MACAddress
            if arg(1) & 0xFF != 0 {
                address = snp.driver.permanentAddress
            } else {
                guard valid(arg(2), 6), let bytes = try? memory.readBytes(at: arg(2), count: 6), let a = MACAddress(bytes: bytes) else {
                    return EFIStatus.invalidParameter
                }
                address = a
            }
            do throws(DriverError) { try snp.driver.setStationAddress(address) } catch { return EFIStatus.deviceError }
            try? memory.write(at: mode + UEFISimpleNetwork.Mode.currentAddress, bytes: address.bytes)
            return EFIStatus.success
        case "MCastIpToMac":
            let (ipv6, ip, out) = (arg(1) & 0xFF != 0, arg(2), arg(3))
            guard valid(ip, ipv6 ? 16 : 4), valid(out, 6) else { return EFIStatus.invalidParameter }
            let mac: [UInt8] = ipv6
                ? [0x33, 0x33, r8(ip + 12), r8(ip + 13), r8(ip + 14), r8(ip + 15)]
                : [0x01, 0x00, 0x5E, r8(ip + 1) & 0x7F, r8(ip + 2), r8(ip + 3)]
            try? memory.write(at: out, bytes: mac)
            return EFIStatus.success
        case "GetStatus":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            let (status, txOut) = (arg(1), arg(2))
            if valid(status, 4) {
                var bits: UInt32 = 0
                if fetchFrame(snp) { bits |= 0x1 }
                if !snp.recycled.isEmpty { bits |= 0x2 }
                w32(status, bits)
            }
            if valid(txOut, 8) { w64(txOut, snp.recycled.isEmpty ? 0 : snp.recycled.removeFirst()) }
            w8(mode + UEFISimpleNetwork.Mode.mediaPresent, snp.driver.linkUp ? 1 : 0)
            return EFIStatus.success
        case "Transmit":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            let (headerSize, size, buffer) = (arg(1), arg(2), arg(3))
            let (source, destination, proto) = (arg(4), arg(5), arg(6))
            guard size >= 14, size <= UInt64(snp.driver.maxFrameSize), headerSize == 0 || headerSize == 14,
                  valid(buffer, Int(size)), snp.recycled.count < 64 else {
                return size > UInt64(snp.driver.maxFrameSize) ? EFIStatus.bufferTooSmall : EFIStatus.invalidParameter
            }
            let n = Int(size)
            let ok: Bool = snp.tx.withUnsafeMutableBytes { b in
                (try? memory.read(at: buffer, into: UnsafeMutableRawBufferPointer(rebasing: b[0..<n]))) != nil
            }
            guard ok else { return EFIStatus.invalidParameter }
            if headerSize == 14 {
                // The firmware fills in the media header from the arguments.
                guard valid(destination, 6), valid(proto, 2) else { return EFIStatus.invalidParameter }
                for i in 0..<6 {
                    snp.tx[i] = r8(destination + UInt64(i))
                    snp.tx[6 + i] = valid(source, 6) ? r8(source + UInt64(i)) : r8(mode + UEFISimpleNetwork.Mode.currentAddress + UInt64(i))
                }
                let type = r16(proto)
                snp.tx[12] = UInt8(type >> 8)
                snp.tx[13] = UInt8(type & 0xFF)
            }
            let failure: DriverError? = snp.tx.withUnsafeBytes { b in
                do throws(DriverError) {
                    try snp.driver.transmit(UnsafeRawBufferPointer(rebasing: b[0..<n]))
                    return nil
                } catch { return error }
            }
            if let failure {
                note("SNP.Transmit: \(failure)")
                return EFIStatus.deviceError
            }
            snp.recycled.append(buffer)
            return EFIStatus.success
        case "Receive":
            guard snp.state == 2 else { return snp.state == 0 ? EFIStatus.notStarted : EFIStatus.deviceError }
            let (headerOut, sizePointer, buffer) = (arg(1), arg(2), arg(3))
            let (sourceOut, destinationOut, protoOut) = (arg(4), arg(5), arg(6))
            guard valid(sizePointer, 8) else { return EFIStatus.invalidParameter }
            guard fetchFrame(snp) else { return EFIStatus.notReady }
            let n = snp.held
            let room = r64(sizePointer)
            w64(sizePointer, UInt64(n))
            guard room >= UInt64(n) else { return EFIStatus.bufferTooSmall }
            guard valid(buffer, n) else { return EFIStatus.invalidParameter }
            snp.held = 0
            _ = snp.rx.withUnsafeBytes { b in try? memory.write(at: buffer, from: UnsafeRawBufferPointer(rebasing: b[0..<n])) }
            if valid(headerOut, 8) { w64(headerOut, 14) }
            if n >= 14 {
                if valid(sourceOut, 6) { for i in 0..<6 { w8(sourceOut + UInt64(i), snp.rx[6 + i]) } }
                if valid(destinationOut, 6) { for i in 0..<6 { w8(destinationOut + UInt64(i), snp.rx[i]) } }
                if valid(protoOut, 2) { w16(protoOut, UInt16(snp.rx[12]) << 8 | UInt16(snp.rx[13])) }
            }
            return EFIStatus.success
        default:
            note("SNP.\(name): unsupported")
            return EFIStatus.unsupported
        }
    }
}
