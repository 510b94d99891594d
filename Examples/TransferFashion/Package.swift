// swift-tools-version: 6.0
// Example: transfer the registered fashion-0to4-dnn model to Fashion-MNIST classes 5-9
// using only the public ZooKit API.
import PackageDescription

let package = Package(
    name: "TransferFashion",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Zoo itself, two folders up. `name:` lets the products below say `package: "Zoo"`
        // whatever the checkout's folder is called (a path package's identity is its folder name).
        .package(name: "Zoo", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "transfer-fashion",
            dependencies: [
                .product(name: "ZooKit", package: "Zoo"),
            ]),
    ]
)
