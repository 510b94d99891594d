// swift-tools-version: 6.0
// libFuzzer targets for every parser Zoo owns: a package of its own, so the main build never
// sees a libFuzzer `main`. Built and run by `make fuzz` (scripts/fuzz.sh):
//
//     swift build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//     Fuzz/.build/debug/fuzz-npy Fuzz/Corpus/npy -max_total_time=600
//
// Each target is one file calling `FuzzEntryPoints.run(.parser, bytes)` (Sources/ZooFormat/Fuzzing).
import PackageDescription

let parsers = ["npy", "zip", "safetensors", "json", "pickle", "sstable", "tfbundle", "idx", "keras-config", "hdf5", "keras", "gzip", "onnx"]

let package = Package(
    name: "ZooFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Zoo", path: "..")],
    targets: parsers.map { parser in
        .executableTarget(
            name: "fuzz-\(parser)",
            dependencies: [.product(name: "ZooFormat", package: "Zoo")],
            path: "Targets/\(parser)")
    }
)
