// A minimal safetensors reader and writer (F32 only): 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
import Foundation
import Tensor

/// One named Float32 tensor as stored in a safetensors file.
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

public enum Safetensors {
    /// Writes `tensors` in the given order, atomically (a temporary file beside `path`, then a
    /// rename), with optional string metadata under `__metadata__`.
    public static func write(tensors: [NamedTensor], metadata: [String: String] = [:], to path: String) throws {
        var entries: [String] = []
        var offset = 0
        for t in tensors {
            guard t.values.count == t.shape.reduce(1, *) else {
                throw ModelError.checkpoint("\(path): tensor \(t.name) has \(t.values.count) values for shape \(t.shape)")
            }
            let bytes = t.values.count * 4
            entries.append("\(jsonQuoted(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        if !metadata.isEmpty {
            let kv = metadata.keys.sorted().map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(kv.joined(separator: ","))}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }   // pad so the data is 8-byte aligned
        var file = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for t in tensors {
            t.values.withUnsafeBufferPointer { buf in
                for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
            }
        }
        try writeAtomically(file, to: path)
    }

    /// Writes every tensor of a flat parameter buffer under its table name.
    public static func write(parameters: UnsafePointer<Float>, table: [ParameterInfo],
                             metadata: [String: String] = [:], to path: String) throws {
        let tensors = table.map {
            NamedTensor(name: $0.name, shape: $0.shape, values: Array(UnsafeBufferPointer(start: parameters + $0.offset, count: $0.count)))
        }
        try write(tensors: tensors, metadata: metadata, to: path)
    }

    /// Reads every F32 tensor, in file order, and the metadata.
    public static func read(from path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.checkpoint("\(path): cannot read the file") }
        return try parse(data, source: path)
    }

    /// Parses the bytes of a safetensors file (F32 tensors only); `source` names it in errors.
    /// Every header field is checked before it is used: shapes of non-negative dimensions whose
    /// product fits, and offsets inside the data that match the shape.
    public static func parse(_ bytes: Data, source path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        func fail(_ s: String) -> ModelError { .checkpoint("\(path): \(s)") }
        let data = bytes.startIndex == 0 ? bytes : Data(bytes)
        guard data.count >= 8 else { throw fail("\(data.count) bytes is too short for a safetensors file") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) runs past the end") }
        let start = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [(Int, NamedTensor)] = []
        for (name, value) in json {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = v as? String }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor \(name) has a malformed header entry") }
            guard dtype == "F32" else { throw fail("tensor \(name) has dtype \(dtype); only F32 is supported") }
            // Checked arithmetic: a hostile header must not overflow into a small allocation.
            var count = 1
            for n in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard n >= 0, !overflow, product <= data.count / 4 else {
                    throw fail("tensor \(name) has shape \(shape), larger than the file")
                }
                count = product
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= data.count - start,
                  offsets[1] - offsets[0] == 4 * count else {
                throw fail("tensor \(name) has data offsets \(offsets) that do not fit shape \(shape) and the file size")
            }
            var values = [Float](repeating: 0, count: count)
            _ = values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst, from: (start + offsets[0])..<(start + offsets[1]))
            }
            for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
            tensors.append((offsets[0], NamedTensor(name: name, shape: shape, values: values)))
        }
        return (tensors.sorted { $0.0 < $1.0 }.map(\.1), metadata)
    }

    /// Copies tensors read from a file into a flat parameter buffer by table name; every table
    /// entry must be present with its shape.
    public static func load(_ tensors: [NamedTensor], into parameters: UnsafeMutablePointer<Float>,
                            table: [ParameterInfo], source: String) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for info in table {
            guard let t = byName[info.name] else { throw ModelError.checkpoint("\(source): missing tensor \(info.name)") }
            guard t.shape == info.shape else {
                throw ModelError.checkpoint("\(source): tensor \(info.name) has shape \(t.shape), the model needs \(info.shape)")
            }
            t.values.withUnsafeBufferPointer { (parameters + info.offset).update(from: $0.baseAddress!, count: info.count) }
        }
    }

    /// Writes to a temporary file in the same directory, then renames it over `path`.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw ModelError.checkpoint("\(path): cannot write the temporary file \(tmp)")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw ModelError.checkpoint("\(path): cannot rename the temporary file into place (errno \(errno))")
        }
    }
}
