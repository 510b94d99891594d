import Foundation

/// How Zoo contains libhdf5: HDF5 files are read in a helper process, so a malformed file
/// that crashes or hangs libhdf5 (Debian's 1.10.8 segfaults in `H5HG_read`, aborts in
/// `H5S_select_deserialize`, loops forever on some damaged files) becomes a typed error,
/// `libhdf5 failed on malformed input while reading '/path'` (exit code 65), instead of
/// taking the process down.
///
/// The helper is this same program re-executed (`/proc/self/exe`): `CZooHelper`'s load-time
/// constructor sees `ZOO_HDF5_HELPER` in its environment and serves requests instead of running
/// `main`. So every program that links ZooFormat, the `zoo` CLI, a test runner or a library
/// user's tool, gets the protection without shipping another executable. It opens the file
/// with the in-process readers (`HDF5Reader`, `KerasArchiveReader`) and answers with a
/// description of the archive: contiguous datasets by their offset in the file, which this
/// process maps itself (zero-copy views, as before), the others read on request by the helper
/// into a shared memory arena (a memfd) that this process maps without copying.
///
/// One helper serves the whole process (libhdf5 is serialized under one lock anyway); after a
/// crash or a timeout it is replaced at the next request, and files opened before are reopened
/// there transparently.
public enum HDF5Isolation {
    /// The variable that makes a process the helper (`SOCKET_FD,ARENA_FD`).
    static let helperVariable = "ZOO_HDF5_HELPER"

    /// Whether libhdf5 runs in this process (no helper): true in the helper itself, with
    /// `ZOO_HDF5_IN_PROCESS=1`, or when set by a program (where re-executing itself is not
    /// possible, e.g. a library loaded into another runtime).
    nonisolated(unsafe) public static var runsInProcess = ProcessInfo.processInfo.environment["ZOO_HDF5_IN_PROCESS"] == "1"

    /// The executable run as the helper: `$ZOO_HDF5_HELPER_EXECUTABLE` (any program linking
    /// ZooFormat, such as `zoo`), else this process's own executable.
    nonisolated(unsafe) public static var helperExecutable: String? = ProcessInfo.processInfo.environment["ZOO_HDF5_HELPER_EXECUTABLE"]

    /// Seconds the helper may take to open a file, and to read a dataset (plus 1 s per 50 MB)
    /// before it is declared hung and stopped: `$ZOO_HDF5_TIMEOUT`, default 60.
    nonisolated(unsafe) public static var timeout: Double = ProcessInfo.processInfo.environment["ZOO_HDF5_TIMEOUT"].flatMap(Double.init) ?? 60

    /// Opens the HDF5-based file `file` (plain HDF5, Keras `.h5`, `.keras`) with `local` in this
    /// process, or through the helper.
    static func open(_ file: MappedFile, local: () throws -> TensorArchive) throws -> TensorArchive {
        if runsInProcess { return try local() }
        return try HDF5HelperClient.shared.open(file)
    }
}
