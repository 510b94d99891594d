#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints training progress. On a terminal, one line per epoch rewritten in place with `\r`
/// after batches; otherwise (pipes, CI logs) one plain line per epoch.
public final class ProgressReporter {
    /// Whether lines are rewritten in place after every batch (a terminal).
    public let interactive: Bool
    private let write: (String) -> Void
    private var lastPercent = -1
    private var seconds = 0.0
    private var epochsSeen = 0

    /// Writes to standard error by default; `interactive` defaults to `isatty(2)`.
    public init(interactive: Bool? = nil, write: ((String) -> Void)? = nil) {
        self.interactive = interactive ?? (isatty(2) != 0)
        self.write = write ?? writeStandardError
    }

    func batchDidEnd(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double, accuracy: Double?) {
        guard interactive else { return }
        let percent = step * 100 / steps
        guard percent != lastPercent || step == steps else { return }
        lastPercent = percent
        let filled = step * 20 / steps
        let bar = String(repeating: "=", count: filled) + String(repeating: ".", count: 20 - filled)
        var line = "\rEpoch \(epoch + 1)/\(epochs) [\(bar)] \(step)/\(steps) loss \(format(loss))"
        if let accuracy { line += " acc \(format(accuracy))" }
        write(line)
    }

    func epochDidEnd(_ m: EpochMetrics, epochs: Int) {
        lastPercent = -1
        var line = "Epoch \(m.epoch + 1)/\(epochs) loss \(format(m.loss))"
        if let a = m.accuracy { line += " acc \(format(a))" }
        if let v = m.validationLoss { line += " val_loss \(format(v))" }
        if let v = m.validationAccuracy { line += " val_acc \(format(v))" }
        line += " lr \(format(Double(m.learningRate))) \(format(m.seconds))s"
        // ETA: the mean epoch time so far times the epochs left (early stopping may end sooner).
        seconds += m.seconds
        epochsSeen += 1
        let left = epochs - m.epoch - 1
        if left > 0 { line += " eta \(format(seconds / Double(epochsSeen) * Double(left)))s" }
        write((interactive ? "\r\u{1B}[K" : "") + line + "\n")
    }

    private func format(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}

/// Writes UTF-8 text to file descriptor 2 (no shared mutable `FILE*` globals).
private func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        #if canImport(Glibc)
        _ = Glibc.write(2, raw.baseAddress, raw.count)
        #else
        _ = Darwin.write(2, raw.baseAddress, raw.count)
        #endif
    }
}
