/// The NE2000 register map as the driver uses it: port offsets from the
/// card's I/O base and the bits it programs (DP8390D register
/// descriptions; NE2000 board ports 0x10 data, 0x1F reset).
extension NE2000Driver {
    enum Reg {
        /// CR, on every page.
        static let command: UInt16 = 0x00
        // Page 0, write.
        static let pageStart: UInt16 = 0x01
        static let pageStop: UInt16 = 0x02
        /// BNRY (read and write).
        static let boundary: UInt16 = 0x03
        static let transmitPageStart: UInt16 = 0x04
        static let transmitByteCount0: UInt16 = 0x05
        static let transmitByteCount1: UInt16 = 0x06
        /// ISR (read and write-1-to-clear).
        static let interruptStatus: UInt16 = 0x07
        static let remoteStartAddress0: UInt16 = 0x08
        static let remoteStartAddress1: UInt16 = 0x09
        static let remoteByteCount0: UInt16 = 0x0A
        static let remoteByteCount1: UInt16 = 0x0B
        static let receiveConfiguration: UInt16 = 0x0C
        static let transmitConfiguration: UInt16 = 0x0D
        static let dataConfiguration: UInt16 = 0x0E
        static let interruptMask: UInt16 = 0x0F
        // Page 0, read.
        static let transmitStatus: UInt16 = 0x04
        static let tally0: UInt16 = 0x0D
        static let tally2: UInt16 = 0x0F
        // Page 1.
        static let physicalAddress0: UInt16 = 0x01
        static let currentPage: UInt16 = 0x07
        static let multicastAddress0: UInt16 = 0x08
        // The board.
        static let data: UInt16 = 0x10
        static let reset: UInt16 = 0x1F
    }

    enum CR {
        static let stop: UInt8 = 0x01
        static let start: UInt8 = 0x02
        static let transmitPacket: UInt8 = 0x04
        static let remoteRead: UInt8 = 0x08
        static let remoteWrite: UInt8 = 0x10
        /// RD2: abort/complete remote DMA.
        static let noDMA: UInt8 = 0x20
        static let page0: UInt8 = 0x00
        static let page1: UInt8 = 0x40
    }

    enum ISR {
        static let packetReceived: UInt8 = 0x01
        static let packetTransmitted: UInt8 = 0x02
        static let receiveError: UInt8 = 0x04
        static let transmitError: UInt8 = 0x08
        static let overwrite: UInt8 = 0x10
        static let counterOverflow: UInt8 = 0x20
        static let remoteDMAComplete: UInt8 = 0x40
        static let reset: UInt8 = 0x80
        /// The causes the driver takes interrupts for (RDC is polled).
        static let driverCauses: UInt8 = 0x3F
    }

    enum RCR {
        static let acceptBroadcast: UInt8 = 0x04
        static let acceptMulticast: UInt8 = 0x08
        static let promiscuous: UInt8 = 0x10
        static let monitor: UInt8 = 0x20
    }

    enum TCR {
        static let internalLoopback: UInt8 = 0x02
    }
}
