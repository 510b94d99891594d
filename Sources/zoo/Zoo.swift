import ArgumentParser
import ZooKit

/// `zoo`: read, convert and reuse pretrained weights.
@main
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read, convert and reuse pretrained neural-network weights.",
        discussion: """
            Reads NumPy (.npy, .npz), safetensors, HDF5 and Keras (.h5, .weights.h5, .keras), PyTorch (.pt, .pth, .bin) and IDX files and TensorFlow checkpoints, detected by their magic bytes. \
            Exit codes: 0 success, 64 bad arguments, 65 malformed input file (or weights \
            that do not fit), 66 input file or model missing, 69 download failed, \
            73 output not writable, 1 otherwise. \
            Training and inference use every online core (at most 8); set ZOONET_NUM_THREADS=N to change that.
            """,
        version: ZooVersion.current,
        subcommands: [
            InspectCommand.self, ConvertCommand.self, ListCommand.self, ShowCommand.self, ImportCommand.self,
            FetchCommand.self, AssignCommand.self, FineTuneCommand.self, EvaluateCommand.self, PredictCommand.self,
            VerifyCommand.self,
        ]
    )
}
