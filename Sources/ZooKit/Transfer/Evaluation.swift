import Foundation
import ZooNet

/// Accuracy, loss, per-class accuracy and the confusion matrix of a classifier.
public struct EvaluationReport: Sendable, Codable, Equatable {
    /// The number of samples evaluated.
    public let samples: Int
    /// The fraction whose arg-max output is the true class.
    public let accuracy: Double
    /// Mean cross-entropy −log p(true class) (probabilities clipped to [1e-7, 1], as Keras does).
    public let loss: Double
    /// Per class, the fraction of its samples classified right (nil for a class without samples).
    public let perClassAccuracy: [Double?]
    /// `confusion[true][predicted]` counts.
    public let confusion: [[Int]]
    /// The class names, in output order.
    public let labels: [String]

    enum CodingKeys: String, CodingKey {
        case samples, accuracy, loss, labels, confusion
        case perClassAccuracy = "per_class_accuracy"
    }
}

/// `zoo evaluate` as a library call: a classifier's accuracy, loss and confusion matrix.
public enum Evaluation {
    /// Evaluates `network` (whose outputs are class probabilities, or logits if
    /// `outputsLogits`) on `data`, in inference mode.
    /// - Parameters:
    ///   - network: the classifier; outputs `[classes]` per sample.
    ///   - data: the samples, reshaped to the network's input if the element counts agree.
    ///   - labels: the class names (empty: their numbers).
    ///   - outputsLogits: the outputs are logits (softmax is applied first).
    /// - Returns: the report; loss = mean −log p(true class), p clipped to [1e-7, 1].
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for labels out of range, a label count that is
    ///   not the output width, or samples that do not fit the input.
    public static func evaluate(_ network: Network, on data: LabeledData, labels: [String], outputsLogits: Bool = false) throws -> EvaluationReport {
        let classes = network.outputShape.last ?? 0
        guard labels.isEmpty || labels.count == classes else {
            throw ZooKitError.invalidRequest("\(labels.count) label names for a network with \(classes) outputs")
        }
        if let bad = data.labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw ZooKitError.invalidRequest("\(data.source): label \(bad) is out of range for \(classes) classes")
        }
        let outputs = try network.predictFirstOutput(try data.reshaped(to: network.inputShape).inputTensor()).scalars
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var lossSum = 0.0
        for (index, label) in data.labels.enumerated() {
            var row = Array(outputs[index * classes..<(index + 1) * classes]).map(Double.init)
            if outputsLogits {
                let maximum = row.max() ?? 0
                let sum = row.reduce(0) { $0 + exp($1 - maximum) }
                row = row.map { exp($0 - maximum) / sum }
            }
            let predicted = row.indices.max { row[$0] < row[$1] } ?? 0
            confusion[label][predicted] += 1
            lossSum -= log(min(max(row[label], 1e-7), 1))
        }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        let perClass = confusion.enumerated().map { index, row -> Double? in
            let total = row.reduce(0, +)
            return total == 0 ? nil : Double(row[index]) / Double(total)
        }
        let count = max(data.count, 1)
        return EvaluationReport(
            samples: data.count, accuracy: Double(correct) / Double(count), loss: lossSum / Double(count),
            perClassAccuracy: perClass, confusion: confusion,
            labels: labels.isEmpty ? (0..<classes).map(String.init) : labels)
    }

    /// A copy of `network` (same variables' values) whose outputs are logits: each output's
    /// final activation left out (see `NetworkDescription.withoutFinalActivation`).
    /// - Parameters:
    ///   - architecture: what `network` was built from.
    ///   - network: the network whose values are copied.
    /// - Throws: ``ZooKitError/architecture(model:reason:)`` if the copy does not build.
    public static func logitsNetwork(architecture: NetworkDescription, from network: Network) throws -> Network {
        let logits: Network
        do {
            if let layers = architecture.chainLayers {
                logits = try Sequential(inputShape: architecture.inputs[0].shape, layers: layers.withoutFinalActivation.map { try $0.makeLayer() })
            } else {
                logits = try Network(description: architecture.withoutFinalActivation)
            }
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: "logits network", reason: error.description)
        }
        try FineTuner.copyVariables(from: network, to: logits)
        return logits
    }
}
