import ZooFormat

extension RegistryEntry {
    /// `zoo verify MODEL`: the weights file's SHA-256 computed afresh (not the remembered one)
    /// and compared with the manifest's, then every byte and checksum of the file as
    /// `TensorArchive.verify` checks them.
    /// - Throws: `weightsMissing` or `invalidRequest` (not downloaded); `FormatError` when the
    ///   file cannot be opened.
    public func verify() throws -> VerificationReport {
        let path = try verifiedWeightsPath(verify: false)
        let digest = try WeightsCache.sha256(ofFile: path)
        var report = try TensorArchive.verify(path)
        let expected = manifest.weights.sha256.lowercased()
        if digest == expected {
            report.checks.insert("SHA-256 of the whole file matches the manifest (\(digest))", at: 0)
        } else {
            report.checks.insert("SHA-256 of the whole file: the manifest says \(expected), the file has \(digest)", at: 0)
            report.failures.insert(FormatError(file: path, .checksumMismatch(at: .key("manifest.json weights.sha256"), expected: expected, found: digest)), at: 0)
        }
        return report
    }
}
