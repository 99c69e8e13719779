/// INT 10h, video: a text console. Teletype output (AH=0Eh), string
/// writes (AH=13h) and character writes at the cursor (AH=09h/0Ah, the way
/// ANSI console drivers such as syslinux's print: write, then move the
/// cursor with AH=02h) are captured as console text; cursor calls keep the
/// cursor in the BDA as a 80x25 text mode would.
///
/// A character written with AH=09h is held until the next call: iPXE
/// writes each character twice, AH=09h for its colour and then AH=0Eh at
/// the same place, and only the teletype copy is kept. A cursor move to
/// another row after written text ends the console line.
extension BIOS {
    /// INT 10h function codes (AH).
    enum Video {
        static let setMode: UInt8 = 0x00
        static let setCursorShape: UInt8 = 0x01
        static let setCursor: UInt8 = 0x02
        static let getCursor: UInt8 = 0x03
        static let selectPage: UInt8 = 0x05
        static let scrollUp: UInt8 = 0x06
        static let scrollDown: UInt8 = 0x07
        static let readCharacter: UInt8 = 0x08
        static let writeCharacterAttribute: UInt8 = 0x09
        static let writeCharacter: UInt8 = 0x0A
        static let teletype: UInt8 = 0x0E
        static let getMode: UInt8 = 0x0F
        static let writeString: UInt8 = 0x13
    }

    static let columns: UInt8 = 80
    static let rows: UInt8 = 25

    /// The page-0 cursor at 40:50, kept on the 80x25 screen. The guest may
    /// write any word there; a row or column past the edge reads as the
    /// last one, so moving on from it wraps (and never overflows a byte).
    var cursor: (row: UInt8, column: UInt8) {
        get {
            let w = machine.read16(PCMemoryMap.bda + BDA.cursor)
            return (min(UInt8(w >> 8), Self.rows - 1), min(UInt8(w & 0xFF), Self.columns - 1))
        }
        set { machine.write16(PCMemoryMap.bda + BDA.cursor, UInt16(newValue.row) << 8 | UInt16(newValue.column)) }
    }

    func videoService() {
        let function = ah
        if let held = heldCharacter {
            heldCharacter = nil
            let echoed = function == Video.teletype && al == held.character && cursor == held.position
            if !echoed { capture(held.character) }
        }
        switch function {
        case Video.setMode:
            machine.write8(PCMemoryMap.bda + BDA.videoMode, al & 0x7F)
            cursor = (0, 0)
        case Video.setCursorShape:
            machine.write16(PCMemoryMap.bda + BDA.cursorShape, cx)
        case Video.setCursor:
            let row = min(dh, Self.rows - 1)
            if row != cursor.row, lineHasText { capture(0x0A) }
            cursor = (row, min(dl, Self.columns - 1))
        case Video.getCursor:
            let c = cursor
            dx = UInt16(c.row) << 8 | UInt16(c.column)
            cx = machine.read16(PCMemoryMap.bda + BDA.cursorShape)
        case Video.readCharacter:
            ax = 0x0720  // a blank in light grey on black
        case Video.teletype:
            teletype(al)
        case Video.getMode:
            al = machine.read8(PCMemoryMap.bda + BDA.videoMode)
            ah = Self.columns
            bh = 0
        case Video.writeString:
            writeString()
        case Video.writeCharacterAttribute, Video.writeCharacter:
            // One character: held (see above). A run of them is a fill
            // (clearing a line); only a run of visible characters is text.
            if cx == 1 {
                heldCharacter = (al, cursor)
            } else if al > 0x20, al < 0x7F {
                for _ in 0..<min(Int(cx), Int(Self.columns)) { capture(al) }
            }
        default:
            // Set page, scroll, palette: nothing to capture.
            break
        }
    }

    /// Prints one character as a teletype does: CR to column 0, LF down a
    /// row, BS back a column, BEL nothing, anything else at the cursor.
    func teletype(_ c: UInt8) {
        var (row, column) = cursor
        switch c {
        case 0x0D:
            column = 0
        case 0x0A:
            row += 1
        case 0x08:
            column = column > 0 ? column - 1 : 0
        case 0x07:
            break
        default:
            column += 1
            if column >= Self.columns { column = 0; row += 1 }
        }
        if row >= Self.rows { row = Self.rows - 1 }
        cursor = (row, column)
        capture(c)
    }

    private func capture(_ c: UInt8) {
        guard c != 0x0D, c != 0x07 else { return }
        lineHasText = c != 0x0A
        if c == 0x08 {
            if let last = console.unicodeScalars.last, last != "\n" {
                console.unicodeScalars.removeLast()
                consoleLength -= 1
            }
        } else if consoleLength < consoleLimit {
            console.unicodeScalars.append(Unicode.Scalar(c))
            consoleLength += 1
        } else {
            consoleDropped += 1
        }
        onConsole?(c)
    }

    /// AH=13h: CX characters at ES:BP (bit 1 of AL: character/attribute
    /// pairs), at row DH column DL; bit 0 of AL: move the cursor.
    private func writeString() {
        let pairs = al & 0x02 != 0
        let saved = cursor
        cursor = (min(dh, Self.rows - 1), min(dl, Self.columns - 1))
        var offset = UInt32(bp)
        for _ in 0..<Int(cx) {
            teletype(machine.read8(Machine.linear(UInt32(es), offset)))
            offset &+= pairs ? 2 : 1
        }
        if al & 0x01 == 0 { cursor = saved }
    }
}

extension Machine {
    /// A condition for `run(until:)` that holds once the console shows
    /// `text`. It searches only when the console has grown since it last
    /// looked, so it is cheap to test every instruction slice.
    public func consoleShows(_ text: String) -> () -> Bool {
        var searchedAt = -1
        var found = false
        return { [unowned self] in
            if found { return true }
            let printed = bios.consoleLength + bios.consoleDropped
            guard printed != searchedAt else { return false }
            searchedAt = printed
            found = bios.console.contains(text)
            return found
        }
    }
}
