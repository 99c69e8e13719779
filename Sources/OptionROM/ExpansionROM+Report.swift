/// The structure of a ROM as text, one fact a line, for `nicsim rom inspect`.
extension ExpansionROM {
    public var report: [String] {
        var lines = ["file: \(bytes.count) bytes, \(images.count) image\(images.count == 1 ? "" : "s")"]
        for (n, image) in images.enumerated() {
            let p = image.pcir
            lines.append("image \(n) at 0x\(h(image.offset, 5)): \(p.codeType), \(image.length) bytes\(p.isLastImage ? ", last image" : "")")
            lines.append("  PCIR at 0x\(h(p.offset, 4)): vendor \(h(p.vendorID, 4)) device \(h(p.deviceID, 4)) class \(h(p.classCode, 6)) revision \(p.revision) code revision \(p.codeRevision)"
                + (p.maxRuntimeLength > 0 ? " max runtime \(p.maxRuntimeLength)" : ""))
            lines.append("  initialization size \(image.initializationSize) bytes, checksum \(image.checksum == 0 ? "ok" : "bad (sum 0x\(h(image.checksum, 2)))")")
            if let e = image.entryOffset { lines.append("  INIT entry at offset 0x\(h(e, 4))") }
            for pnp in image.pnpHeaders {
                var l = "  $PnP at 0x\(h(pnp.offset, 4)): revision \(pnp.revision), checksum \(pnp.checksumOK ? "ok" : "bad")"
                l += ", device type \(h(pnp.deviceType, 6))"
                l += ", BCV \(pnp.bcv == 0 ? "none" : "0x" + h(pnp.bcv, 4))"
                l += ", BEV \(pnp.bev == 0 ? "none" : "0x" + h(pnp.bev, 4))"
                if pnp.dv != 0 { l += ", DV 0x" + h(pnp.dv, 4) }
                lines.append(l)
                if let m = pnp.manufacturer { lines.append("    manufacturer: \(m)") }
                if let pr = pnp.product { lines.append("    product: \(pr)") }
            }
            if let u = image.undi {
                lines.append("  UNDI ROM ID at 0x\(h(u.offset, 4)): UNDI \(u.undiRevision.major).\(u.undiRevision.minor).\(u.undiRevision.build), bus \(u.busType), loader 0x\(h(u.loader, 4)), stack \(u.stackSize) data \(u.dataSize) code \(u.codeSize), checksum \(u.checksumOK ? "ok" : "bad")")
            }
            if let e = image.efi {
                lines.append("  EFI: \(e.subsystemName), machine \(e.machineName), \(e.compressed ? "compressed" : "uncompressed"), PE image at 0x\(h(e.imageOffset, 4))\(e.compressed || e.hasPESignature ? "" : " (no MZ signature)")")
            }
        }
        for issue in issues { lines.append("problem: \(issue)") }
        return lines
    }
}
