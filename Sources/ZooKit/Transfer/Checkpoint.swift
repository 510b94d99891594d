import Foundation
import ZooFormat
import ZooNet

/// Fine-tuning checkpoints: every variable of the network in one safetensors
/// file, with the epoch and the run's fingerprint in its metadata, written
/// atomically (a killed run leaves the previous checkpoint intact).
enum Checkpoint {
    static func save(full network: Sequential, overrides: [VariableSnapshot], epoch: Int, to path: String, fingerprint: String) throws {
        let latest = Dictionary(overrides.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        let tensors = try network.variables.map { variable in
            try ZooFormat.Tensor(name: variable.name, shape: variable.shape, floats: latest[variable.name]?.values ?? variable.values)
        }
        try SafetensorsWriter.write(tensors, metadata: ["zoo_epoch": String(epoch), "zoo_run": fingerprint], to: path)
    }

    /// Assigns the checkpoint's variables; returns the last completed epoch.
    /// - Throws: `invalidRequest` when the checkpoint belongs to another run.
    static func restore(_ path: String, into network: Sequential, fingerprint: String) throws -> Int {
        let archive = try TensorArchive.open(path)
        guard archive.metadata["zoo_run"] == fingerprint, let epoch = archive.metadata["zoo_epoch"].flatMap(Int.init) else {
            throw ZooKitError.invalidRequest("\(path) is a checkpoint of another run (different model, data or options): remove it or drop --resume")
        }
        for variable in network.variables {
            try variable.assign(try archive.tensor(named: variable.name).floats())
        }
        return epoch
    }
}
