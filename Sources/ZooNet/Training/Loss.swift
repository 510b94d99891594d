/// Training targets for a batch of samples.
public enum Labels: Sendable, Equatable {
    /// One integer class per sample (sparse labels), for `softmaxCrossEntropy`.
    case classes([Int])
    /// A target tensor `[samples, ...]` matching the network output (one-hot, probabilities,
    /// regression values).
    case values(Tensor)

    /// Number of samples.
    public var sampleCount: Int {
        switch self {
        case .classes(let labels): return labels.count
        case .values(let tensor): return tensor.shape.first ?? 0
        }
    }
}

/// Loss functions, each reduced like Keras' default `sum_over_batch_size`
/// (mean over the batch; per-sample means over the last axis where Keras does so).
///
/// With logits z (network output, no final activation), batch size B, width C:
/// - `softmaxCrossEntropy`: ℓ = logΣⱼe^{zⱼ} − Σⱼ tⱼ zⱼ with t one-hot (sparse) or given;
///   dℓ/dz = softmax(z)·Σt − t, scaled by 1/B.
/// - `sigmoidCrossEntropy`: per element max(z,0) − z·t + log(1 + e^{−|z|}), mean over C;
///   dℓ/dz = (σ(z) − t)/(B·C).
/// - `meanSquaredError`: mean over C of (z − t)²; dℓ/dz = 2(z − t)/(B·C).
public enum Loss: Sendable, Equatable {
    /// Softmax cross-entropy from logits (Keras `SparseCategoricalCrossentropy(from_logits=True)`
    /// with class labels, `CategoricalCrossentropy` with one-hot targets).
    case softmaxCrossEntropy
    /// Sigmoid cross-entropy from logits per element (Keras `BinaryCrossentropy(from_logits=True)`).
    case sigmoidCrossEntropy
    /// Mean squared error (Keras `MeanSquaredError`).
    case meanSquaredError

    /// Whether accuracy is reported (classification losses).
    public var hasAccuracy: Bool { self != .meanSquaredError }
}

/// Pointers to the targets of one batch.
struct TargetBatch {
    var classes: UnsafePointer<Int32>?
    var values: UnsafePointer<Float>?
}

extension Loss {
    /// Mean loss over `batch` rows of width `width`; writes dℓ/dz into `gradient` if given.
    /// Returns also the summed per-sample accuracy (0 for MSE).
    func evaluate(
        _ z: UnsafePointer<Float>, batch: Int, width: Int, targets: TargetBatch,
        gradient: UnsafeMutablePointer<Float>?
    ) -> (loss: Double, accuracySum: Double) {
        var total = 0.0, accuracy = 0.0
        let inverseBatch = 1 / Float(batch)
        for r in 0..<batch {
            let row = z + r * width, g = gradient.map { $0 + r * width }
            switch self {
            case .softmaxCrossEntropy:
                var maximum = -Float.infinity, best = 0
                for j in 0..<width where row[j] > maximum { maximum = row[j]; best = j }
                var sum: Float = 0
                for j in 0..<width { sum += _exp(row[j] - maximum) }
                let logSum = maximum + _log(sum)
                if let classes = targets.classes {
                    let label = Int(classes[r])
                    total += Double(logSum - row[label])
                    accuracy += best == label ? 1 : 0
                    if let g {
                        for j in 0..<width { g[j] = _exp(row[j] - logSum) * inverseBatch }
                        g[label] -= inverseBatch
                    }
                } else if let values = targets.values {
                    let t = values + r * width
                    var mass: Float = 0, loss: Float = 0, bestTarget = 0
                    for j in 0..<width {
                        mass += t[j]; loss += t[j] * (logSum - row[j])
                        if t[j] > t[bestTarget] { bestTarget = j }
                    }
                    total += Double(loss)
                    accuracy += best == bestTarget ? 1 : 0
                    if let g { for j in 0..<width { g[j] = (_exp(row[j] - logSum) * mass - t[j]) * inverseBatch } }
                }
            case .sigmoidCrossEntropy, .meanSquaredError:
                guard let t = targets.values.map({ $0 + r * width }) else { continue }
                var loss: Float = 0, hits: Float = 0
                let scale = inverseBatch / Float(width)
                for j in 0..<width {
                    let x = row[j], y = t[j]
                    if self == .meanSquaredError {
                        loss += (x - y) * (x - y)
                        g?[j] = 2 * (x - y) * scale
                    } else {
                        loss += Swift.max(x, 0) - x * y + _log1p(_exp(-abs(x)))
                        hits += (x > 0) == (y >= 0.5) ? 1 : 0
                        g?[j] = (Activation.sigmoid(x) - y) * scale
                    }
                }
                total += Double(loss / Float(width))
                accuracy += Double(hits / Float(width))
            }
        }
        return (total / Double(batch), accuracy)
    }
}
