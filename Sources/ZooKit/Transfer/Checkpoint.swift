import Foundation
import ZooFormat
import ZooNet

/// Fine-tuning checkpoints: every variable of the network and the optimizer's state in one
/// safetensors file, written atomically (a killed run leaves the previous checkpoint intact).
///
/// Tensors: the network's variables by name, then the optimizer's slots as
/// `optimizer/<variable>/<slot index>` (Adam: 0 = m, 1 = v). Metadata: `zoo_run` (the digest of
/// the run's `RunFingerprint`), `zoo_run_settings` (its settings as a JSON object, so a resume
/// with other settings is told which), `zoo_epoch` (the last completed epoch, 0-based, counted over both phases),
/// `zoo_phase`, `zoo_iterations` (optimizer steps in that phase), `zoo_learning_rate` and
/// `zoo_optimizer_scalars` (`name=value` pairs separated by `;`), and `zoo_tensorboard_run` (the
/// TensorBoard run folder's name, when the run logs one).
enum Checkpoint {
    static let slotPrefix = "optimizer/"

    /// What a checkpoint continues from.
    struct Resumed {
        /// Last completed epoch (0-based).
        var epoch: Int
        /// Phase of that epoch and the optimizer's state at its end (nil in checkpoints
        /// written before optimizer state was saved: those continue with fresh moments).
        var phase: Int?
        var optimizer: OptimizerState?
        /// The TensorBoard run folder's name the run logged to.
        var tensorBoardRun: String?
    }

    static func save(full network: Sequential, overrides: [VariableSnapshot], epoch: Int, phase: Int,
                     optimizer: OptimizerState, to path: String, fingerprint: RunFingerprint, tensorBoardRun: String? = nil) throws {
        var tensors = try network.weightTensors(overriding: overrides)
        tensors += try optimizer.slots.map { try StoredTensor($0, name: slotPrefix + $0.name) }
        let scalars = optimizer.scalars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        var metadata = [
            "zoo_epoch": String(epoch), "zoo_run": fingerprint.digest, "zoo_run_settings": fingerprint.json, "zoo_phase": String(phase),
            "zoo_iterations": String(optimizer.iterations), "zoo_learning_rate": String(optimizer.learningRate),
            "zoo_optimizer_scalars": scalars,
        ]
        metadata["zoo_tensorboard_run"] = tensorBoardRun
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)
    }

    /// Assigns the checkpoint's variables and returns where to continue.
    /// - Throws: `invalidRequest` when the checkpoint belongs to another run (naming the settings
    ///   that differ) or its metadata is malformed.
    static func restore(_ path: String, into network: Sequential, fingerprint: RunFingerprint) throws -> Resumed {
        let archive = try TensorArchive.open(path)
        let metadata = archive.metadata
        guard metadata["zoo_run"] == fingerprint.digest else {
            let recorded = metadata["zoo_run_settings"].flatMap(RunFingerprint.settings(fromJSON:))
            throw ZooKitError.checkpointOfAnotherRun(path: path, differences: recorded.map { fingerprint.differences(from: $0) } ?? [])
        }
        guard let epoch = metadata["zoo_epoch"].flatMap(Int.init), epoch >= 0 else {
            throw ZooKitError.invalidRequest("\(path): checkpoint metadata zoo_epoch is missing or malformed: \(metadata["zoo_epoch"] ?? "absent")")
        }
        for variable in network.variables {
            try variable.assign(try archive.tensor(named: variable.name).floats())
        }
        guard let phaseText = metadata["zoo_phase"] else { return Resumed(epoch: epoch, tensorBoardRun: metadata["zoo_tensorboard_run"]) }
        func field<T: LosslessStringConvertible>(_ key: String, _ value: String?) throws -> T {
            guard let value, let parsed = T(value) else {
                throw ZooKitError.invalidRequest("\(path): checkpoint metadata \(key) is missing or malformed: \(value ?? "absent")")
            }
            return parsed
        }
        let phase: Int = try field("zoo_phase", phaseText)
        var state = OptimizerState(iterations: try field("zoo_iterations", metadata["zoo_iterations"]),
                                   learningRate: try field("zoo_learning_rate", metadata["zoo_learning_rate"]))
        for pair in (metadata["zoo_optimizer_scalars"] ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ZooKitError.invalidRequest("\(path): checkpoint metadata zoo_optimizer_scalars has a malformed entry '\(pair)'")
            }
            state.scalars[parts[0]] = try field("zoo_optimizer_scalars", parts[1]) as Float
        }
        for tensor in archive.tensors where tensor.name.hasPrefix(slotPrefix) {
            state.slots.append(VariableSnapshot(name: String(tensor.name.dropFirst(slotPrefix.count)), shape: tensor.shape,
                                                trainable: false, values: try tensor.floats()))
        }
        return Resumed(epoch: epoch, phase: phase, optimizer: state, tensorBoardRun: metadata["zoo_tensorboard_run"])
    }
}
