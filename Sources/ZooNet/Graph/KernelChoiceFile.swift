import Foundation

/// Kernel tuning's choices kept on disk (`ConvolutionKernelChoice`), so that later processes on
/// the same machine take them instead of timing again, as MIOpen's find-db or PyTorch
/// Inductor's autotuning cache do: a process then runs the kernels the first one picked — the
/// same results bit for bit from one run to the next (timing close candidates again could pick
/// the other one) — and saves the timing (ResNet-50 at batch 1: 0.1–0.6 s, VGG-16: 1–1.5 s).
///
/// One JSON file, `{"format": 1, "machines": {MACHINE: {KEY: {"kernel": NAME, "seconds":
/// {NAME: SECONDS, …}}}}}`: MACHINE names the CPU and oneDNN's kernels (`machine`), KEY the
/// convolution, batch size, thread count and candidates (`ConvolutionKernelChoice.Key.name`),
/// seconds are per sample. A cache: a missing, unreadable, oversized or malformed file reads
/// as empty and is replaced at the next save; a failed save leaves the choices in the process.
struct KernelChoiceFile {
    let url: URL

    /// The file every network uses: `ZOONET_TUNE_CACHE` when set (empty or `0`: none), else
    /// `$XDG_CACHE_HOME/zoo/kernel-choices.json`, else `$HOME/.cache/zoo/kernel-choices.json`.
    static let standard: KernelChoiceFile? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["ZOONET_TUNE_CACHE"] {
            return path.isEmpty || path == "0" ? nil : KernelChoiceFile(url: URL(fileURLWithPath: path))
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].flatMap { $0.isEmpty ? nil : "\($0)/.cache" }
        return base.map { KernelChoiceFile(url: URL(fileURLWithPath: "\($0)/zoo/kernel-choices.json")) }
    }()

    /// The largest file read (a choice takes ~300 bytes).
    static let largestFile = 16 << 20

    /// The revision of ZooNet's own kernels the choices were made against: raise it when one of
    /// them changes speed, so that files written before are measured again.
    static let kernelsRevision = 1

    /// This machine as far as the choices go: the CPU (`/proc/cpuinfo`'s model name, family,
    /// model and stepping), oneDNN's version and instruction set and `kernelsRevision`, e.g.
    /// `AMD EPYC (family 25, model 1, stepping 1) · oneDNN 2.6.3 avx2 · ZooNet kernels 1`.
    static let machine: String = {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            for line in info.split(separator: "\n", omittingEmptySubsequences: true) {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return "?"
        }
        return "\(field("model name")) (family \(field("cpu family")), model \(field("model")), stepping \(field("stepping")))"
            + " · oneDNN \(ComputeBackend.version) \(ComputeBackend.instructionSet) · ZooNet kernels \(kernelsRevision)"
    }()

    fileprivate struct Document: Codable {
        var format = 1
        var machines: [String: [String: Entry]] = [:]
    }

    fileprivate struct Entry: Codable {
        var kernel: String
        var seconds: [String: Double]
    }

    /// The choices kept for `machine`, by key name; empty when the file is missing or not one
    /// this version wrote (kernels it does not know are left out).
    func load(machine: String) -> [String: ConvolutionKernelChoice.Measured] {
        guard let entries = read().machines[machine] else { return [:] }
        return entries.compactMapValues { entry in
            guard let kernel = ConvolutionKernel(rawValue: entry.kernel) else { return nil }
            var seconds: [ConvolutionKernel: Double] = [:]
            for (name, value) in entry.seconds {
                guard let candidate = ConvolutionKernel(rawValue: name), value.isFinite, value >= 0 else { return nil }
                seconds[candidate] = value
            }
            return ConvolutionKernelChoice.Measured(kernel: kernel, seconds: seconds)
        }
    }

    /// Adds `choices` for `machine` to what the file holds now (another process may have added
    /// some since it was read) and writes it whole to a temporary file renamed over it.
    /// - Throws: what creating the directory or writing the file throws.
    func save(_ choices: [String: ConvolutionKernelChoice.Measured], machine: String) throws {
        var document = read()
        for (key, choice) in choices {
            document.machines[machine, default: [:]][key] = Entry(
                kernel: choice.kernel.rawValue,
                seconds: choice.secondsByName)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(document).write(to: url, options: .atomic)
    }

    /// How many choices the file holds per machine (none when it is missing or unreadable).
    func choiceCounts() -> [String: Int] {
        read().machines.mapValues(\.count)
    }

    /// The file's document, or an empty one (see `document()`).
    private func read() -> Document {
        document() ?? Document()
    }

    /// The file's document; nil when it is missing, is not a regular file (a FIFO there cannot
    /// block), is larger than `largestFile` (read no further than that) or is not one this
    /// version writes.
    fileprivate func document() -> Document? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: Self.largestFile + 1), data.count <= Self.largestFile,
              let document = try? JSONDecoder().decode(Document.self, from: data), document.format == 1
        else { return nil }
        return document
    }
}

/// Kernel tuning's choices file as its users see it (`zoo cache`): where it is, what it holds,
/// and removing it, after which networks time their kernels again (`ComputeBackend.kernelTuning`).
public enum KernelChoiceCache {
    /// The file this process's networks read and write: `ZOONET_TUNE_CACHE`, else
    /// `kernel-choices.json` in `$XDG_CACHE_HOME/zoo` or `~/.cache/zoo`; nil when
    /// `ZOONET_TUNE_CACHE` is `0` or empty, or neither `XDG_CACHE_HOME` nor `HOME` is set.
    public static var file: URL? { KernelChoiceFile.standard?.url }

    /// This machine's name in the file: the CPU, oneDNN's version and instruction set and the
    /// revision of ZooNet's own kernels (choices made under another name are not used here).
    public static var machine: String { KernelChoiceFile.machine }

    /// How many choices `file` holds per machine name; empty when it is missing, unreadable or
    /// not a choices file.
    public static func choiceCounts(in file: URL) -> [String: Int] {
        KernelChoiceFile(url: file).choiceCounts()
    }

    /// Deletes `file` if it is a choices file (a regular file holding what ZooNet writes), so that
    /// a mistaken `ZOONET_TUNE_CACHE` cannot delete anything else.
    /// - Returns: whether a choices file was deleted (false: nothing there, or not a choices file).
    /// - Throws: what removing the file throws.
    @discardableResult
    public static func remove(_ file: URL) throws -> Bool {
        guard KernelChoiceFile(url: file).document() != nil else { return false }
        try FileManager.default.removeItem(at: file)
        return true
    }
}
