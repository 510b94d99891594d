// swift-tools-version: 6.0
// Zoo: a model zoo and checkpoint interchange toolkit.
//
// Module rooms, one-way doors:
//   CZlib, CLibDeflate, CHDF5 system libraries (Debian: zlib1g-dev, libdeflate-dev, libhdf5-dev)
//   CLibPNG, CLibJPEG         image decoders (Debian: libpng-dev, libjpeg62-turbo-dev)
//   CZooImage                 ZooFormat's PNG/JPEG calls in C: every setjmp/longjmp stays in C
//   CDNNL                     oneDNN, the engine's compute backend (Debian: libdnnl-dev)
//   COpenBLAS                 OpenBLAS, only for the engine benchmark's comparison (libopenblas-dev)
//   ZooFormat                 bytes on disk <-> named tensors (no engine)
//   CZooHelper                the libhdf5 helper process's entry (see ZooFormat/HDF5/Helper)
//   CZooKernels               ZooNet's own kernels in C (element-wise, Winograd transforms,
//                             pooling, matrix-vector, direct convolution; AVX2 chosen at run
//                             time) and its parallel regions on libgomp, the OpenMP runtime
//                             oneDNN uses
//   ZooNet                    the CPU engine (no file formats)
//   ZooKit                    the registry, weight assignment and transfer: formats + engine
//   zoo                       the command-line tool, a thin layer over the libraries
import PackageDescription

let package = Package(
    name: "Zoo",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ZooFormat", targets: ["ZooFormat"]),
        .library(name: "ZooNet", targets: ["ZooNet"]),
        .library(name: "ZooKit", targets: ["ZooKit"]),
        .executable(name: "zoo", targets: ["zoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `make docs`: the DocC catalogs of ZooFormat, ZooNet and ZooKit (a command plugin; nothing links it).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CLibDeflate", path: "Sources/CLibDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CDNNL", path: "Sources/CDNNL",
            providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // The libhdf5 helper process's entry (a load-time constructor), memfd, process_vm_readv.
        .target(name: "CZooHelper"),
        // PNG and JPEG decoding: libpng's and libjpeg's longjmp error handling never crosses Swift frames.
        .target(name: "CZooImage", dependencies: ["CLibPNG", "CLibJPEG"]),
        .target(
            name: "ZooFormat",
            dependencies: ["CZlib", "CLibDeflate", "CHDF5", "CZooHelper", "CZooImage", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "CZooKernels", linkerSettings: [.linkedLibrary("gomp")]),
        .target(name: "ZooNet", dependencies: ["CDNNL", "CZooKernels"]),
        .target(
            name: "ZooKit",
            dependencies: ["ZooFormat", "ZooNet", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(
            name: "zoo",
            dependencies: [
                "ZooFormat", "ZooNet", "ZooKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "zoo-bench", dependencies: ["ZooFormat", "CHDF5", "CZlib"], path: "bench/ZooBench"),
        .executableTarget(name: "zoo-net-bench", dependencies: ["ZooNet", "COpenBLAS"], path: "bench/NetBench"),
        .executableTarget(name: "zoo-conv-bench", dependencies: ["ZooKit"], path: "bench/ConvBench"),
        .testTarget(name: "ZooFormatTests", dependencies: ["ZooFormat"]),
        .testTarget(name: "ZooNetTests", dependencies: ["ZooNet", "ZooFormat"]),  // ZooFormat reads the parity fixtures
        .testTarget(name: "ZooKitTests", dependencies: ["ZooKit"]),
        .testTarget(name: "ZooCLITests", dependencies: ["zoo", "ZooFormat"]),
    ]
)
