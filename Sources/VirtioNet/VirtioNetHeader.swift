/// The header in front of every frame on the receive and transmit queues
/// (struct virtio_net_hdr, virtio 1.x section 5.1.6): flags, gso_type,
/// hdr_len, gso_size, csum_start, csum_offset, and num_buffers when
/// MRG_RXBUF or VERSION_1 is negotiated. All fields little endian.
public enum VirtioNetHeader {
    /// Size without num_buffers (legacy without MRG_RXBUF).
    public static let legacySize = 10
    /// Size with num_buffers (MRG_RXBUF or VERSION_1).
    public static let size = 12

    /// Byte offsets of the fields.
    public enum Offset {
        /// flags (u8).
        public static let flags = 0
        /// gso_type (u8).
        public static let gsoType = 1
        /// hdr_len (le16).
        public static let hdrLen = 2
        /// gso_size (le16).
        public static let gsoSize = 4
        /// csum_start (le16).
        public static let csumStart = 6
        /// csum_offset (le16).
        public static let csumOffset = 8
        /// num_buffers (le16).
        public static let numBuffers = 10
    }

    /// VIRTIO_NET_HDR_F_NEEDS_CSUM: checksum from csum_start to the end,
    /// stored at csum_start + csum_offset.
    public static let flagNeedsCsum: UInt8 = 1
    /// VIRTIO_NET_HDR_F_DATA_VALID: the checksum was validated.
    public static let flagDataValid: UInt8 = 2
    /// VIRTIO_NET_HDR_GSO_NONE.
    public static let gsoNone: UInt8 = 0

    /// The header size the negotiated features imply.
    public static func size(for features: VirtioFeatures) -> Int {
        features.contains(.mrgRxbuf) || features.contains(.version1) ? size : legacySize
    }
}
