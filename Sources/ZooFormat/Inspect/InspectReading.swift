/// One tensor as `inspect` reports it: its digest and statistics when asked for.
public struct InspectedTensor: Sendable {
    /// The tensor as the file lists it.
    public let tensor: StoredTensor
    /// Its `sha256()`, when checksums were asked for.
    public let sha256: String?
    /// Its statistics, when asked for and the tensor is numeric and not empty.
    public let statistics: TensorStatistics?
}

extension TensorArchive {
    /// Whether one unreadable tensor leaves the rest of the file readable: HDF5 files, where
    /// each dataset is stored, filtered and checksummed on its own (h5py lists such a file and
    /// fails only on reading the damaged dataset).
    public var readsTensorsIndependently: Bool {
        [.hdf5, .keras2H5, .keras3WeightsH5, .keras].contains(format)
    }

    /// Reads what `options` ask for (digests, statistics) of every tensor.
    ///
    /// In a file whose tensors are read independently (`readsTensorsIndependently`), a tensor
    /// that fails to read (a chunk failing its fletcher32, a corrupt deflate stream, a crash of
    /// libhdf5 on it) is returned among `unreadable` with the error as the reason, and the
    /// others are still read; in other files the first error is thrown.
    /// - Throws: `FormatError` from reading, in files read as a whole.
    public func inspect(_ options: InspectOptions) throws -> (tensors: [InspectedTensor], unreadable: [SkippedEntry]) {
        var tensors: [InspectedTensor] = []
        var unreadable: [SkippedEntry] = []
        for tensor in self.tensors {
            do {
                let digest = options.checksums ? try tensor.sha256() : nil
                let statistics = options.statistics && tensor.dtype.isNumeric ? try TensorStatistics(tensor) : nil
                tensors.append(InspectedTensor(tensor: tensor, sha256: digest, statistics: statistics))
            } catch let error as FormatError where readsTensorsIndependently && error.exitCode == 65 {
                unreadable.append(SkippedEntry(path: tensor.path ?? tensor.name, reason: error.message, name: tensor.name))
            }
        }
        return (tensors, unreadable)
    }
}
