import NICCore

/// The UNDI life-cycle opcodes: each checks the state the PXE 2.1 order
/// requires and returns UNDI_INVALID_STATE, changing nothing, when the call
/// comes out of order.
extension UNDI {
    /// PXENV_START_UNDI (0x0000): finds the card and reads its address.
    /// Valid only while stopped.
    @discardableResult
    public func startUNDI() -> PXEStatus {
        guard phase == .stopped else { return .undiInvalidState }
        do throws(DriverError) {
            try driver.probe()
        } catch {
            return UNDI.status(for: error, during: .undiCannotInitializeNIC)
        }
        probed = true
        needsReinitialize = false
        phase = .loaded
        return .success
    }

    /// PXENV_UNDI_STARTUP (0x0001): sets up the UNDI's own state after
    /// START_UNDI. Valid after START_UNDI and again in the started state
    /// (after SHUTDOWN): iPXE's undionly.kpxe shuts the ROM's NIC down and
    /// then brings it up with STARTUP and INITIALIZE, and PXE ROMs accept it.
    @discardableResult
    public func startup() -> PXEStatus {
        guard phase == .loaded || phase == .startedUp else { return .undiInvalidState }
        resetISRState()
        phase = .startedUp
        return .success
    }

    /// PXENV_UNDI_CLEANUP (0x0002): undoes STARTUP. The NIC must already be
    /// shut down.
    @discardableResult
    public func cleanup() -> PXEStatus {
        guard phase == .startedUp else { return .undiInvalidState }
        phase = .loaded
        return .success
    }

    /// PXENV_UNDI_INITIALIZE (0x0003): brings the NIC to a known, closed
    /// state (receiver and transmitter off). After SHUTDOWN this probes the
    /// card again, since SHUTDOWN left it reset.
    @discardableResult
    public func initialize() -> PXEStatus {
        guard phase == .startedUp else { return .undiInvalidState }
        if needsReinitialize || !probed {
            do throws(DriverError) { try driver.probe() } catch {
                return UNDI.status(for: error, during: .undiCannotInitializeNIC)
            }
            probed = true
            needsReinitialize = false
        }
        phase = .initialized
        return .success
    }

    /// PXENV_UNDI_RESET_ADAPTER (0x0004): resets the NIC and, if it was
    /// open, opens it again with the current filter and `multicast`.
    @discardableResult
    public func resetAdapter(multicast: [MACAddress]) -> PXEStatus {
        guard phase >= .initialized else { return .undiInvalidState }
        guard multicast.count <= UNDI.maxMulticastAddresses else { return .undiInvalidParameter }
        multicastList = multicast
        resetISRState()
        let station = driver.stationAddress
        if phase == .opened {
            driver.close()
        }
        do throws(DriverError) {
            try driver.probe()
            if station != driver.permanentAddress { try driver.setStationAddress(station) }
            if phase == .opened { try driver.open(filter: packetFilter, multicast: multicastList) }
        } catch {
            return UNDI.status(for: error, during: .undiCannotInitializeNIC)
        }
        return .success
    }

    /// PXENV_UNDI_SHUTDOWN (0x0005): resets the NIC and leaves it quiet.
    /// Valid when initialized or open.
    @discardableResult
    public func shutdown() -> PXEStatus {
        guard phase >= .initialized else { return .undiInvalidState }
        if phase == .opened { driver.close() }
        driver.shutdown()
        needsReinitialize = true
        resetISRState()
        phase = .startedUp
        return .success
    }

    /// PXENV_UNDI_OPEN (0x0006): turns the receiver and transmitter on with
    /// `filter` and `multicast`. Opening an open NIC applies the new
    /// filter (some NBPs open again over the base code's open NIC).
    @discardableResult
    public func open(filter: ReceiveFilter, multicast: [MACAddress]) -> PXEStatus {
        guard phase >= .initialized else { return .undiInvalidState }
        guard multicast.count <= UNDI.maxMulticastAddresses else { return .undiInvalidParameter }
        do throws(DriverError) {
            if phase == .opened {
                try driver.setReceiveFilter(filter, multicast: multicast)
            } else {
                try driver.open(filter: filter, multicast: multicast)
            }
        } catch {
            return UNDI.status(for: error, during: .undiCannotInitializeNIC)
        }
        packetFilter = filter
        multicastList = multicast
        resetISRState()
        phase = .opened
        // An open UNDI interrupts (PXE 2.1 §3.3: the NBP's handler calls
        // ISR START/PROCESS); a card without an IRQ stays polled.
        driver.setInterruptsEnabled(driver.info.irq != 0)
        return .success
    }

    /// PXENV_UNDI_CLOSE (0x0007): stops the receiver and transmitter.
    @discardableResult
    public func close() -> PXEStatus {
        guard phase == .opened else { return .undiInvalidState }
        driver.close()
        resetISRState()
        phase = .initialized
        return .success
    }

    /// PXENV_STOP_UNDI (0x0015): the UNDI is about to be removed from
    /// memory. The NIC must be shut down first; CLEANUP is implied, since
    /// NBPs that unload the stack often skip it.
    @discardableResult
    public func stopUNDI() -> PXEStatus {
        guard phase == .loaded || phase == .startedUp else { return .undiInvalidState }
        phase = .stopped
        probed = false
        return .success
    }

    /// PXENV_UNDI_SET_MCAST_ADDRESS (0x0009): replaces the multicast list;
    /// an open NIC takes it at once.
    @discardableResult
    public func setMulticastAddresses(_ list: [MACAddress]) -> PXEStatus {
        guard phase >= .initialized else { return .undiInvalidState }
        guard list.count <= UNDI.maxMulticastAddresses, list.allSatisfy(\.isMulticast) else { return .undiInvalidParameter }
        if phase == .opened {
            do throws(DriverError) { try driver.setReceiveFilter(packetFilter, multicast: list) } catch {
                return .undiCannotInitNICForMulticast
            }
        }
        multicastList = list
        return .success
    }

    /// PXENV_UNDI_SET_STATION_ADDRESS (0x000A): the address the NIC sends
    /// from and filters on. Group addresses are refused.
    @discardableResult
    public func setStationAddress(_ address: MACAddress) -> PXEStatus {
        guard phase >= .initialized else { return .undiInvalidState }
        guard !address.isMulticast, address != .zero else { return .undiBadMACAddress }
        do throws(DriverError) { try driver.setStationAddress(address) } catch {
            return UNDI.status(for: error, during: .undiBadMACAddress)
        }
        return .success
    }

    /// PXENV_UNDI_SET_PACKET_FILTER (0x000B): changes the receive filter of
    /// the open NIC (FLTR_DIRECTED, FLTR_BRDCST, FLTR_PRMSCS, FLTR_SRC_RTG).
    @discardableResult
    public func setPacketFilter(_ filter: ReceiveFilter) -> PXEStatus {
        guard phase == .opened else { return .undiInvalidState }
        guard filter.rawValue & ~0x000F == 0 else { return .undiInvalidParameter }
        do throws(DriverError) { try driver.setReceiveFilter(filter, multicast: multicastList) } catch {
            return UNDI.status(for: error, during: .undiInvalidParameter)
        }
        packetFilter = filter
        return .success
    }

    /// PXENV_UNDI_CLEAR_STATISTICS (0x000E)
    @discardableResult
    public func clearStatistics() -> PXEStatus {
        guard phase >= .startedUp else { return .undiInvalidState }
        driver.clearStatistics()
        return .success
    }

    /// PXENV_UNDI_INITIATE_DIAGS (0x000F): a media test on the initialized,
    /// closed NIC: the card must answer with its address and have carrier.
    @discardableResult
    public func initiateDiagnostics() -> PXEStatus {
        guard phase == .initialized else { return .undiInvalidState }
        guard driver.permanentAddress != .zero else { return .undiBadMACAddress }
        return driver.linkUp ? .success : .undiMediaTestFailed
    }

    /// PXENV_UNDI_FORCE_INTERRUPT (0x0010): makes the next ISR START claim
    /// an interrupt, so an NBP can test its handler.
    @discardableResult
    public func forceInterrupt() -> PXEStatus {
        guard phase == .opened else { return .undiInvalidState }
        forcedInterrupt = true
        return .success
    }

    /// Runs whichever of START_UNDI, STARTUP, INITIALIZE and OPEN are still
    /// to do, in order, as a PXE ROM does before DHCP. Stops at the first
    /// failure and returns its status.
    @discardableResult
    public func bringUp(filter: ReceiveFilter = [.directed, .broadcast], multicast: [MACAddress] = []) -> PXEStatus {
        if phase == .stopped { let s = startUNDI(); guard s.isSuccess else { return s } }
        if phase == .loaded { let s = startup(); guard s.isSuccess else { return s } }
        if phase == .startedUp { let s = initialize(); guard s.isSuccess else { return s } }
        if phase == .initialized { return open(filter: filter, multicast: multicast) }
        return .success
    }

    func resetISRState() {
        pendingTransmitCompletions = 0
        forcedInterrupt = false
        isrInProgress = false
        receiveBuffer.setCount(0)
    }
}
