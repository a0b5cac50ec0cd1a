// An open-addressing hash table from short byte strings to an Int, with its own key storage.
// The trainer counts words with it and the encoder caches word encodings in it; both do
// millions of lookups, so it avoids per-key allocation (Dictionary<[UInt8], Int> would not).
import Foundation

final class ByteStringTable {
    private(set) var count = 0
    private var slots: UnsafeMutablePointer<Int32>        // entry index, or -1
    private var mask: Int
    private var hashes: [UInt64] = []
    private(set) var keyStart: [Int] = []
    private(set) var keyLength: [Int32] = []
    var values: [Int] = []
    private(set) var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaCount = 0

    init(capacity: Int = 1 << 16) {
        var c = 1024
        while c < capacity * 2 { c <<= 1 }
        mask = c - 1
        slots = .allocate(capacity: c)
        slots.initialize(repeating: -1, count: c)
        arenaCapacity = max(4096, capacity * 8)
        arena = .allocate(capacity: arenaCapacity)
        hashes.reserveCapacity(capacity)
        keyStart.reserveCapacity(capacity)
        keyLength.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    /// FNV-1a over the bytes, finished with a multiply so the low bits (the slot index) mix well.
    @inline(__always) static func hash(_ p: UnsafePointer<UInt8>, _ len: Int) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for k in 0..<len { h = (h ^ UInt64(p[k])) &* 0x100000001b3 }
        return (h ^ (h >> 29)) &* 0xbf58476d1ce4e5b9
    }

    /// The entry index of the key, or nil.
    @inline(__always) func find(_ p: UnsafePointer<UInt8>, _ len: Int, hash h: UInt64) -> Int? {
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { return nil }
            if hashes[e] == h && Int(keyLength[e]) == len && memcmp(arena + keyStart[e], p, len) == 0 { return e }
            s = (s + 1) & mask
        }
    }

    /// The entry index of the key, inserting it with `value` if absent.
    @inline(__always) func findOrInsert(_ p: UnsafePointer<UInt8>, _ len: Int, hash h: UInt64, value: Int) -> (entry: Int, inserted: Bool) {
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { break }
            if hashes[e] == h && Int(keyLength[e]) == len && memcmp(arena + keyStart[e], p, len) == 0 { return (e, false) }
            s = (s + 1) & mask
        }
        let e = count
        if arenaCount + len > arenaCapacity { growArena(arenaCount + len) }
        (arena + arenaCount).update(from: p, count: len)
        hashes.append(h)
        keyStart.append(arenaCount)
        keyLength.append(Int32(len))
        values.append(value)
        arenaCount += len
        slots[s] = Int32(e)
        count += 1
        if count * 2 > mask { growSlots() }
        return (e, true)
    }

    func key(_ e: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: arena + keyStart[e], count: Int(keyLength[e]))
    }

    /// Drops every entry (keeps the allocations).
    func removeAll() {
        slots.update(repeating: -1, count: mask + 1)
        hashes.removeAll(keepingCapacity: true)
        keyStart.removeAll(keepingCapacity: true)
        keyLength.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        arenaCount = 0
        count = 0
    }

    private func growArena(_ needed: Int) {
        var c = arenaCapacity * 2
        while c < needed { c *= 2 }
        let a = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        a.update(from: arena, count: arenaCount)
        arena.deallocate()
        arena = a
        arenaCapacity = c
    }

    private func growSlots() {
        let c = (mask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: c)
        slots.initialize(repeating: -1, count: c)
        mask = c - 1
        for e in 0..<count {
            var s = Int(truncatingIfNeeded: hashes[e]) & mask
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(e)
        }
    }
}
