// A small safetensors writer and reader for Float32 tensors, and atomic file writes.
// Format: 8-byte little-endian header length, a JSON header
// {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}}, then raw
// little-endian data (offsets relative to the end of the header).

import Foundation

/// One tensor to write: a name, a shape and the floats (row-major).
public struct SafetensorsEntry {
    public var name: String
    public var shape: [Int]
    public var data: UnsafeBufferPointer<Float>

    public init(name: String, shape: [Int], data: UnsafeBufferPointer<Float>) {
        self.name = name
        self.shape = shape
        self.data = data
    }
}

/// One tensor read back.
public struct LoadedTensor: Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Named apart from the engine's own safetensors code so both can live in one build until one is chosen.
public enum SafetensorsIO {
    /// Encodes `entries` in the given order; the header is padded with spaces to a multiple
    /// of 8 bytes so the data is aligned.
    public static func encode(_ entries: [SafetensorsEntry]) -> Data {
        var fields: [String] = []
        var offset = 0
        for e in entries {
            let end = offset + 4 * e.data.count
            let shape = e.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(e.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        // Float32 is stored little-endian; every platform Swift targets here is little-endian.
        for e in entries { out.append(UnsafeBufferPointer(start: e.data.baseAddress, count: e.data.count)) }
        return out
    }

    /// Writes `entries` to `path` atomically.
    public static func write(_ entries: [SafetensorsEntry], to path: String) throws {
        try writeAtomically(encode(entries), to: path)
    }

    /// Reads every F32 tensor of a safetensors file; `__metadata__` is skipped.
    public static func read(path: String) throws -> [String: LoadedTensor] {
        func fail(_ s: String) -> TrainingError { .checkpoint(path: path, reason: s) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        guard data.count >= 8 else { throw fail("shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) exceeds the file") }
        let dataStart = 8 + Int(headerLength)
        let header = data.subdata(in: 8..<dataStart)
        guard let json = try? JSONSerialization.jsonObject(with: header), let table = json as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var result: [String: LoadedTensor] = [:]
        for (name, value) in table where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor '\(name)' has a malformed header entry") }
            guard dtype == "F32" else { throw fail("tensor '\(name)' has dtype \(dtype); only F32 is read") }
            let count = shape.reduce(1, *)
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end - begin == 4 * count, dataStart + end <= data.count else {
                throw fail("tensor '\(name)' has offsets \(offsets) that do not fit shape \(shape) or the file")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                _ = data.copyBytes(to: dst, from: (dataStart + begin)..<(dataStart + end))
            }
            result[name] = LoadedTensor(shape: shape, values: values)
        }
        return result
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`, so a
/// reader sees either the old file or the whole new one.
public func writeAtomically(_ data: Data, to path: String) throws {
    let temp = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
    guard FileManager.default.createFile(atPath: temp, contents: data) else {
        throw TrainingError.checkpoint(path: path, reason: "cannot create the temporary file \(temp)")
    }
    guard rename(temp, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temp)
        throw TrainingError.checkpoint(path: path, reason: "rename failed: \(reason)")
    }
}
