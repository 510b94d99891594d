import Foundation
import ZooFormat

/// Values recorded by Tests/Fixtures/keras/make_fixtures.py (tf-keras 2.21, Keras 3.15, h5py 3.14).
enum KerasFixtures {
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func open(_ name: String) throws -> TensorArchive { try TensorArchive.open(path(name)) }

    /// The seed network's variables in Keras order: SHA-256 of the little-endian
    /// C-order float32 bytes, and the first two values.
    static let seed: [(name: String, sha256: String, first: [Float])] = [
        ("hidden1/kernel", "e95c7ba4bb95507ac86d68c8c037224a9faf836793e062fcebacf6b08b440644", [0.4349740445613861, -0.18150220811367035]),
        ("hidden1/bias", "a427cb1447fc1eedd96ee911c74cd96ad8d50ae675e45a345efd957ea3d94a94", [0.04734509810805321, -0.07054241001605988]),
        ("bn1/gamma", "68892924423614427985077a21c9027bc77ddff49877a448d6d027591ba6fe59", [1.0799123048782349, 1.0254002809524536]),
        ("bn1/beta", "c5a280917f6b7ed344e9db1f73618ffd229d3c970a5a3c5c90b6b9c5d25ebe14", [0.03214716166257858, 0.043713778257369995]),
        ("bn1/moving_mean", "92a02b0e74447dea1d5c646c6ec08484578ea32b8ed6acb255c304273eeb9f8d", [-0.32277587056159973, -0.17514568567276]),
        ("bn1/moving_variance", "4a3ff8093e2d462b84a50775ce60fe4ae2e0d05ab299a472a439348b6a9891e4", [1.8710882663726807, 1.3258877992630005]),
        ("hidden2/kernel", "3ecc924ef89f6cae55b1b9ad669bd7e50fdb75b1fcf68cadf82fe668007e2914", [-0.08185533434152603, 0.09025568515062332]),
        ("hidden2/bias", "5d4ffb65151aa033c3b839cdb52352849c884d34cfa98161a430a9363bf1ba2a", [0.11634989827871323, 0.08051704615354538]),
        ("bn2/gamma", "1f75246927cea9ed2f0453abbae894723f092061bc5075db3c30150e4dca86eb", [0.8132002949714661, 1.0275813341140747]),
        ("bn2/beta", "f74b92f3906820104c3e5e9c66ea1c20960b978665e63853805846a9087f5a5f", [-0.10695827007293701, -0.22394421696662903]),
        ("bn2/moving_mean", "fafb38ad338a76ccb97edf54eb791f926146057d4605d51bb2fcf88e6483ed27", [0.19614504277706146, 0.14517609775066376]),
        ("bn2/moving_variance", "ac6a512bf5bc381e6e931328d945da2fff2a3681fad1f139ef8ed9af8c569b3e", [1.8511269092559814, 1.7986890077590942]),
        ("outputs/kernel", "6fe3fe5649277d6b2256303b78508325b7d1e32a16a51a2946cc496cc7c46ef7", [0.20597580075263977, -0.07297688722610474]),
        ("outputs/bias", "c5bbe14745f1548dbe758345443facc83648499a1d0e2cfb8f10aa0ed164359f", [0.05057884380221367, -0.0003637761401478201]),
    ]

    static let seedShapes: [String: [Int]] = [
        "hidden1/kernel": [20, 300], "hidden1/bias": [300], "hidden2/kernel": [300, 100], "hidden2/bias": [100],
        "outputs/kernel": [100, 10], "outputs/bias": [10],
    ]
}
