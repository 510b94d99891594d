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
            Training and inference use every online core (at most 8); set ZOONET_NUM_THREADS=N to change that. \
            Where ZooNet picks its convolution kernels by timing them (CPUs whose oneDNN kernels are not AVX2, such as \
            AVX-512 ones; ZOONET_TUNE=0 never, 1 always), the choices are kept in ~/.cache/zoo/kernel-choices.json for \
            later runs (ZOONET_TUNE_CACHE=FILE for another file, 0 for none; `zoo cache` lists and clears them).
            """,
        version: ZooVersion.current,
        subcommands: [
            InspectCommand.self, ConvertCommand.self, ListCommand.self, ShowCommand.self, ImportCommand.self,
            FetchCommand.self, AssignCommand.self, FineTuneCommand.self, EvaluateCommand.self, PredictCommand.self,
            VerifyCommand.self, CacheCommand.self,
        ]
    )
}
