// Float32 storage with a shape, and the thread setting of the BLAS underneath everything.
import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous row-major block of Float32 values with a shape. It owns its memory; the
/// kernels take raw pointers, so a tensor is mostly a way to allocate, name and free a buffer.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of the given shape.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor shape \(shape) has a negative extent")
        self.shape = shape
        count = shape.reduce(1, *)
        data = .allocate(capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor holding `values`, which must have as many elements as `shape` describes.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// The values as an array (a copy).
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func zero() { data.update(repeating: 0, count: count) }
}

/// The OpenBLAS thread pool. `setThreads` is the one place its size is set: the tool sets
/// `defaultThreads` when it starts and a command with a thread option sets that; building a
/// model or training never changes it.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for every following call.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// The number of threads OpenBLAS uses now.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// One thread (a sweep runs one single-threaded process per core), unless
    /// OPENBLAS_NUM_THREADS asks for another count.
    public static var defaultThreads: Int {
        guard let s = getenv("OPENBLAS_NUM_THREADS"), let n = Int(String(cString: s)), n >= 1 else { return 1 }
        return n
    }
}

@_silgen_name("openblas_get_corename")
private func openblasCoreName() -> UnsafePointer<CChar>?


extension BLAS {
    /// The kernel family OpenBLAS chose at load time (e.g. "SkylakeX", "Haswell").
    public static var coreName: String { openblasCoreName().map { String(cString: $0) } ?? "unknown" }

    /// The kernel family this CPU can run best, from /proc/cpuinfo's flags: virtual machines
    /// often report a CPU model OpenBLAS does not know, and it then falls back to its SSE3
    /// ("Prescott") kernels, several times slower.
    public static func detectedCoreType() -> String? {
        #if os(Linux)
        guard let f = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        while getline(&line, &cap, f) > 0 {
            let s = String(cString: line!)
            guard s.hasPrefix("flags") else { continue }
            free(line)
            let flags = Set(s.split(separator: " ").map { $0.trimmingCharacters() })
            if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
            if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
            return nil
        }
        free(line)
        #endif
        return nil
    }

    /// OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so when it settled on a generic
    /// kernel family that this CPU outperforms, this sets the variable and re-executes the
    /// program with the same arguments. Does nothing when the variable is already set (by
    /// the user or by an earlier restart) or when the choice is already good.
    public static func selectFastKernelsByRestarting() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil, let wanted = detectedCoreType() else { return }
        let current = coreName.lowercased()
        if current == wanted.lowercased() || !["prescott", "core2", "nehalem", "katmai", "unknown"].contains(current) { return }
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)   // only returns on failure; then run on as we are
        #endif
    }
}

private extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let c = s.last, c == "\n" || c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
