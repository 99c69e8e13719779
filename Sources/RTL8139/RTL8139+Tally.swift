/// The C+ tally counters DTCCR dumps: a 64-byte little-endian block.
struct TallyCounters {
    var txOK: UInt64 = 0
    var rxOK: UInt64 = 0
    var txErrors: UInt64 = 0
    var rxErrors: UInt32 = 0
    var missed: UInt16 = 0
    var frameAlignmentErrors: UInt16 = 0
    var txOneCollision: UInt32 = 0
    var txMultipleCollisions: UInt32 = 0
    var rxPhysical: UInt64 = 0
    var rxBroadcast: UInt64 = 0
    var rxMulticast: UInt32 = 0
    var txAborted: UInt16 = 0
    var txUnderrun: UInt16 = 0

    /// The block in datasheet order: TxOk, RxOk, TxER (8 bytes each),
    /// RxEr (4), MissPkt, FAE (2 each), Tx1Col, TxMCol (4 each), RxOkPhy,
    /// RxOkBrd (8 each), RxOkMul (4), TxAbt, TxUndrn (2 each).
    func dumpBlock() -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
        (txOK.littleEndian,
         rxOK.littleEndian,
         txErrors.littleEndian,
         (UInt64(rxErrors) | UInt64(missed) << 32 | UInt64(frameAlignmentErrors) << 48).littleEndian,
         (UInt64(txOneCollision) | UInt64(txMultipleCollisions) << 32).littleEndian,
         rxPhysical.littleEndian,
         rxBroadcast.littleEndian,
         (UInt64(rxMulticast) | UInt64(txAborted) << 32 | UInt64(txUnderrun) << 48).littleEndian)
    }
}
