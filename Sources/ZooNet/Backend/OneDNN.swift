import CDNNL
import Foundation
import CZooKernels
import Synchronization

/// ZooNet's one door to oneDNN (Debian's `libdnnl-dev`, oneDNN 2.6): the CPU engine, the
/// status check every call goes through, and the instruction set oneDNN's JIT picked.
///
/// oneDNN chooses its kernels from the CPU's feature flags (CPUID), not from a table of CPU
/// models, so a CPU newer than the library still gets AVX2 / AVX-512 code. Every oneDNN call
/// in ZooNet goes through `check(_:_:)`, which turns a status into a typed
/// `ZooNetError.backend`; calls made where no error can be thrown (inside a compute region)
/// report through `record(_:_:)`, and the network throws the recorded failure when the pass
/// ends (`throwRecordedFailure()`).
enum OneDNN {
    /// The CPU engine (index 0); created on first use.
    static func engine() throws -> dnnl_engine_t {
        try engineHandle.get()
    }

    nonisolated(unsafe) private static let engineHandle: Result<dnnl_engine_t, ZooNetError> = {
        var engine: dnnl_engine_t?
        let status = dnnl_engine_create(&engine, dnnl_cpu, 0)
        guard status == dnnl_success, let engine else {
            return .failure(.backend(operation: "creating the oneDNN CPU engine", status: describe(status)))
        }
        return .success(engine)
    }()

    /// Throws `ZooNetError.backend` naming `operation` (e.g. "convolution forward [32, 224,
    /// 224, 3] → [32, 112, 112, 32]") unless `status` is success.
    @inline(__always)
    static func check(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
        guard status == dnnl_success else {
            throw ZooNetError.backend(operation: operation(), status: describe(status))
        }
    }

    /// Remembers the first failure of a call that cannot throw where it runs.
    @inline(__always)
    static func record(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) {
        guard status != dnnl_success else { return }
        let error = ZooNetError.backend(operation: operation(), status: describe(status))
        pendingFailure.withLock { if $0 == nil { $0 = error } }
    }

    /// Remembers an error thrown where it cannot be passed on (a primitive made on demand).
    static func recordError(_ error: Error) {
        let typed = error as? ZooNetError ?? .backend(operation: "oneDNN", status: "\(error)")
        pendingFailure.withLock { if $0 == nil { $0 = typed } }
    }

    /// Throws (and clears) the failure `record` kept, if any.
    static func throwRecordedFailure() throws {
        if let error = pendingFailure.withLock({ failure -> ZooNetError? in
            defer { failure = nil }
            return failure
        }) {
            throw error
        }
    }

    private static let pendingFailure = Mutex<ZooNetError?>(nil)

    /// The status in words (oneDNN's own names).
    static func describe(_ status: dnnl_status_t) -> String {
        switch status {
        case dnnl_success: return "success"
        case dnnl_out_of_memory: return "out of memory"
        case dnnl_invalid_arguments: return "invalid arguments"
        case dnnl_unimplemented: return "unimplemented (no kernel for these shapes and formats)"
        case dnnl_iterator_ends: return "iterator ends"
        case dnnl_runtime_error: return "runtime error"
        case dnnl_not_required: return "not required"
        default: return "status \(status.rawValue)"
        }
    }

    /// The instruction set oneDNN's JIT generates code for on this CPU.
    static var instructionSet: ComputeBackend.InstructionSet {
        ComputeBackend.InstructionSet(dnnl_get_effective_cpu_isa())
    }

    /// Whether oneDNN runs its AVX2 kernels (with or without VNNI), where ZooNet's own forms —
    /// Winograd, the blocked detour, pixel runs — were measured against them (read once: the CPU
    /// does not change).
    static let runsAVX2Kernels = instructionSet == .avx2 || instructionSet == .avx2VNNI
}

/// What ZooNet computes with: oneDNN's kernels on this CPU (for benchmarks, tests and
/// `zoo --version`-style reports).
public enum ComputeBackend {
    /// A switch of the engine that starts on unless the environment variable `name` is `0`.
    static func switchFromEnvironment(_ name: String) -> Atomic<Bool> {
        guard let text = getenv(name) else { return Atomic(true) }
        return Atomic(String(cString: text) != "0")
    }

    /// oneDNN's instruction-set level, lowest to highest.
    public enum InstructionSet: Int, Sendable, Comparable, CustomStringConvertible {
        /// No vector extension oneDNN uses.
        case generic
        /// SSE 4.1.
        case sse41
        /// AVX.
        case avx
        /// AVX2 (with FMA).
        case avx2
        /// AVX2 with VNNI.
        case avx2VNNI
        /// AVX-512 (F, CD, BW, DQ, VL).
        case avx512Core
        /// AVX-512 with VNNI.
        case avx512CoreVNNI
        /// AVX-512 with bfloat16.
        case avx512CoreBF16
        /// AVX-512 with AMX tiles.
        case avx512CoreAMX

        init(_ isa: dnnl_cpu_isa_t) {
            switch isa {
            case dnnl_cpu_isa_sse41: self = .sse41
            case dnnl_cpu_isa_avx: self = .avx
            case dnnl_cpu_isa_avx2: self = .avx2
            case dnnl_cpu_isa_avx2_vnni: self = .avx2VNNI
            case dnnl_cpu_isa_avx512_core: self = .avx512Core
            case dnnl_cpu_isa_avx512_core_vnni: self = .avx512CoreVNNI
            case dnnl_cpu_isa_avx512_core_bf16: self = .avx512CoreBF16
            case dnnl_cpu_isa_avx512_core_amx: self = .avx512CoreAMX
            default: self = .generic
            }
        }

        /// Orders levels by capability (generic < AVX2 < … < AVX-512 AMX).
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

        /// oneDNN's name for the level (`avx2`, `avx512_core_vnni`, …).
        public var description: String {
            switch self {
            case .generic: return "generic"
            case .sse41: return "sse41"
            case .avx: return "avx"
            case .avx2: return "avx2"
            case .avx2VNNI: return "avx2_vnni"
            case .avx512Core: return "avx512_core"
            case .avx512CoreVNNI: return "avx512_core_vnni"
            case .avx512CoreBF16: return "avx512_core_bf16"
            case .avx512CoreAMX: return "avx512_core_amx"
            }
        }
    }

    /// The instruction set oneDNN generates its kernels for on this CPU.
    public static var instructionSet: InstructionSet { OneDNN.instructionSet }

    /// oneDNN's version, e.g. `2.6.3`.
    public static var version: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// Whether the CPU (and the OS, which must save the YMM registers) supports AVX2.
    public static var cpuHasAVX2: Bool { zoo_cpu_has_avx2() != 0 }

    /// One line naming the kernels in use, e.g. `oneDNN 2.6.3, avx2 kernels, 2 threads`; `, convolution
    /// kernels tuned` where fused convolutions time their candidate kernels (`kernelTuning`).
    public static var summary: String {
        "oneDNN \(version), \(instructionSet) kernels, \(ComputeThreads.count) thread\(ComputeThreads.count == 1 ? "" : "s")"
            + (tunesKernels ? ", convolution kernels tuned" : "")
    }
}
