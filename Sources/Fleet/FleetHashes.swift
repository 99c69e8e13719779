import Dispatch
import Foundation
import NICCore

/// Hashes the files built-in clients loaded, from their RAM, on a thread
/// of its own. A client's RAM is held (nothing else of its board) until
/// its files are hashed; the simulation goes on meanwhile, so hashing a
/// large kernel and initrd does not hold virtual time still (with a live
/// link, that would be time behind the wall clock). The digests are filled
/// into the records when the run is over.
final class FleetHashes: @unchecked Sendable {
    private let queue = DispatchQueue(label: "nicsim.fleet.hashes")
    private let lock = NSLock()
    /// Digests by client index, then by the file's position in its record.
    private var digests: [Int: [Int: String]] = [:]

    /// A finished client's RAM, handed to the hashing thread: nothing on
    /// the simulation's side reads or writes it any more.
    private struct HeldRAM: @unchecked Sendable {
        let memory: FlatMemory
    }

    /// A file of a client's record, its digest to come from `submit`.
    struct Pending {
        var position: Int
        var address: UInt64
        var size: Int
    }

    /// Hashes a finished client's files from `memory`, which is held until
    /// then: nothing writes it any more. Files outside it keep an empty digest.
    func submit(_ files: [Pending], client: Int, memory: FlatMemory) {
        guard !files.isEmpty else { return }
        let held = HeldRAM(memory: memory)
        queue.async { [self] in
            let memory = held.memory
            var done: [Int: String] = [:]
            for f in files where f.size >= 0 && f.address <= memory.size && UInt64(f.size) <= memory.size - f.address {
                var hash = SHA256()
                hash.update(UnsafeRawBufferPointer(start: memory.unsafeBaseAddress + Int(f.address), count: f.size))
                done[f.position] = hash.finalize()
            }
            lock.lock()
            digests[client] = done
            lock.unlock()
        }
    }

    /// Waits for every hash, then puts each digest in its record.
    func fill(_ records: inout [Int: FleetClientRecord]) {
        queue.sync {}
        lock.lock()
        defer { lock.unlock() }
        for (client, files) in digests {
            for (position, digest) in files where records[client]?.files.indices.contains(position) == true {
                records[client]?.files[position].sha256 = digest
            }
        }
    }
}
