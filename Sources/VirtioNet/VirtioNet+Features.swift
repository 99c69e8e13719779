/// Feature negotiation (virtio 1.x 2.2 and 3.1.1).
///
/// Modern drivers write driver features, then FEATURES_OK, then read
/// status back: FEATURES_OK stays clear if they accepted anything the
/// device did not offer, or (modern-only device) left out VERSION_1.
/// Legacy drivers have no FEATURES_OK: their Guest Features write takes
/// effect at once, and bits the device never offered are ignored.
extension VirtioNet {
    /// Checks the driver's features at FEATURES_OK and adopts them.
    func acceptDriverFeatures() -> Bool {
        guard driverFeatures.isSubset(of: offeredFeatures) else { return false }
        if configuration.variant == .modern && !driverFeatures.contains(.version1) { return false }
        negotiatedFeatures = driverFeatures
        applyNegotiatedFeatures()
        return true
    }

    /// A driver feature word written through the modern interface; ignored
    /// once FEATURES_OK is set (the device must not take new features then).
    func writeDriverFeatures(word select: UInt32, value: UInt32) {
        guard !status.contains(.featuresOK) else { return }
        driverFeatures = driverFeatures.replacingWord(select, with: value)
    }

    /// The legacy Guest Features register: bits 0-31, effective at once.
    func writeLegacyGuestFeatures(_ value: UInt32) {
        guard !status.contains(.driverOK) else { return }
        driverFeatures = VirtioFeatures(rawValue: UInt64(value))
        negotiatedFeatures = driverFeatures.intersection(legacyOfferedFeatures)
        applyNegotiatedFeatures()
    }

    /// What the legacy Host Features register shows: the low 32 bits.
    var legacyOfferedFeatures: VirtioFeatures {
        VirtioFeatures(rawValue: offeredFeatures.rawValue & 0xFFFF_FFFF)
    }

    /// Lets the queues and the filter follow the negotiated features.
    func applyNegotiatedFeatures() {
        for q in queues {
            q.eventIndex = negotiatedFeatures.contains(.eventIdx)
            q.indirectAllowed = negotiatedFeatures.contains(.indirectDesc)
            q.isPacked = negotiatedFeatures.contains(.ringPacked)
        }
        if !status.contains(.driverOK) {
            rxFilter.reset(vlanFiltering: negotiatedFeatures.contains(.ctrlVLAN))
        }
    }

    /// Bytes of struct virtio_net_hdr in front of every frame now.
    public var headerLength: Int { VirtioNetHeader.size(for: negotiatedFeatures) }

    /// True when the header may share a buffer with the frame (ANY_LAYOUT,
    /// implied by VERSION_1).
    var anyLayout: Bool { negotiatedFeatures.contains(.anyLayout) || negotiatedFeatures.contains(.version1) }
}
