/// What `zoo verify FILE` checked: every byte of every tensor read, and every checksum the
/// format carries verified on the way (zip CRC-32 of each member, TensorFlow's CRC-32C of
/// each table block and tensor, HDF5's fletcher32 of checksummed chunks).
public struct VerificationReport: Sendable {
    /// The file (or checkpoint) as the user named it.
    public let file: String
    /// Its format, detected from its magic bytes.
    public let format: TensorFileFormat
    /// What was checked, one line each (`zip CRC-32: 5 stored members`).
    public var checks: [String]
    /// Tensors that failed, with the error (a checksum mismatch, a corrupt stream, a crash of libhdf5).
    public var failures: [FormatError]
    /// Tensors read in full.
    public var tensorsRead = 0
    /// The bytes of the tensors read in full.
    public var bytesRead = 0

    /// Whether nothing failed.
    public var isValid: Bool { failures.isEmpty }
}

extension TensorArchive {
    /// Opens `path` and reads every byte of every tensor, checking every checksum the format carries.
    ///
    /// Errors opening the file are thrown (the file cannot be verified at all); errors reading
    /// a tensor are collected in `failures`, so one report lists every damaged tensor.
    /// - Throws: `FormatError` when the file cannot be opened.
    public static func verify(_ path: String) throws -> VerificationReport {
        let archive = try TensorArchive.open(path)
        var report = VerificationReport(file: archive.file, format: archive.format, checks: [], failures: [])
        var mappedFiles: [ObjectIdentifier: MappedFile] = [:]
        var loaded = 0
        for tensor in archive.tensors {
            switch tensor.source {
            case .mapped(let file, _, _): mappedFiles[ObjectIdentifier(file)] = file
            case .loader: loaded += 1
            }
            do {
                let bytes = try tensor.storedBytes()
                report.tensorsRead += 1
                report.bytesRead += bytes.count
            } catch let error as FormatError {
                report.failures.append(error)
            }
        }
        // Stored zip members no tensor reads (an .npz's other files, a PyTorch archive's records).
        var members = (count: 0, verified: 0)
        for file in mappedFiles.values {
            for error in file.storedMembers.verifyAll(file) where !report.failures.contains(error) {
                report.failures.append(error)
            }
            let summary = file.storedMembers.summary
            members.count += summary.members
            members.verified += summary.verified
        }
        let unreadable = archive.skipped.filter { $0.name != nil }
        for entry in unreadable {
            report.failures.append(FormatError(file: archive.file, .unreadableTensor(name: entry.name ?? entry.path, path: entry.path, reason: entry.reason)))
        }
        report.checks.append("read \(report.tensorsRead) of \(archive.tensors.count + unreadable.count) tensors in full (\(report.bytesRead) bytes)")
        switch archive.format {
        case .npz, .pytorch, .keras:
            if members.count > 0 { report.checks.append("zip CRC-32 of \(members.count) stored members (\(members.verified) intact)") }
            if loaded > 0 { report.checks.append("zip CRC-32 of the deflated members of \(loaded) tensors, as they were inflated") }
            if archive.format == .keras { report.checks.append("zip CRC-32 of config.json, metadata.json and model.weights.h5 (read when the archive was opened)") }
        case .tfCheckpoint:
            report.checks.append("CRC-32C of every block of the .index table (when it was opened)")
            report.checks.append("CRC-32C of the bytes of \(archive.tensors.count) tensors")
        default: break
        }
        if archive.readsTensorsIndependently {
            let checksummed = archive.tensors.filter { $0.attributes["checksum"] == "fletcher32" }.count
            report.checks.append(checksummed > 0
                ? "HDF5 fletcher32 of the chunks of \(checksummed) dataset\(checksummed == 1 ? "" : "s") (libhdf5, on read)"
                : "HDF5: no dataset carries a checksum (fletcher32): only structure and sizes could be checked")
        }
        if [.npy, .safetensors].contains(archive.format) {
            report.checks.append("\(archive.format.name) carries no checksum: structure and sizes checked")
        }
        return report
    }
}
