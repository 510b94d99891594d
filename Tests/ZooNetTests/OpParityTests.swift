import Foundation
import Testing
import ZooFormat
@testable import ZooNet

/// Every op against the real peers: Keras 3.15 (TensorFlow 2.21), tf-keras 2.21 and PyTorch
/// 2.15, forward and backward. `Tests/Fixtures/ops/make_fixtures.py` ran each op on seeded
/// inputs and weights and back-propagated a fixed random `r` (loss `Σ y·r`); here ZooNet runs
/// the same op, built from its settings through `LayerConfig`'s JSON, and must give each
/// peer's output, input gradients and weight gradients to `1e-5 · (1 + max|want|)`.
@Suite struct OpParityTests {
    struct Case: Decodable {
        let name: String
        let op: String
        let settings: [String: JSONValue]
        let inputs: [[Int]]
        let weights: [String]
        let training: Bool
        let peers: [String]
        let known_differences: [String: String]?
    }

    /// Any JSON value (the settings are heterogeneous).
    enum JSONValue: Decodable {
        case number(Double), bool(Bool), string(String), array([JSONValue]), null

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else { self = .array(try c.decode([JSONValue].self)) }
        }

        var any: Any {
            switch self {
            case .number(let n): return n
            case .bool(let b): return b
            case .string(let s): return s
            case .array(let a): return a.map(\.any)
            case .null: return NSNull()
            }
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/ops")

    static let cases: [Case] = {
        struct File: Decodable { let cases: [Case] }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("cases.json")),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.cases
    }()

    /// The case's op as a `LayerConfig` JSON object (the fixture script's keys → Keras' config keys).
    static func layerJSON(_ c: Case) -> [String: Any] {
        let kinds = ["upsampling2d": "up_sampling2d"]
        let keys = ["kernel": "kernel_size", "pool": "pool_size", "dilation": "dilation_rate"]
        var object: [String: Any] = ["kind": kinds[c.op] ?? c.op]
        for (key, value) in c.settings {
            if c.op == "layer_normalization", key == "axis" {
                if case .number(let n) = value { object["axes"] = [Int(n)] } else { object["axes"] = value.any }
                continue
            }
            object[keys[key] ?? key] = value.any
        }
        return object
    }

    static func network(_ c: Case) throws -> Network {
        var node = layerJSON(c)
        node["name"] = "op"
        node["inputs"] = c.inputs.indices.map { "x\($0)" }
        let description: [String: Any] = [
            "inputs": c.inputs.enumerated().map { ["name": "x\($0.offset)", "shape": Array($0.element.dropFirst())] },
            "nodes": [node], "outputs": ["op"],
        ]
        let data = try JSONSerialization.data(withJSONObject: description)
        return try Network(description: JSONDecoder().decode(NetworkDescription.self, from: data))
    }

    @Test(arguments: cases.map(\.name)) func matchesPeers(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        let archive = try TensorArchive.open(Self.directory.appendingPathComponent("\(name).npz").path)
        func array(_ key: String) throws -> [Float] { try archive.tensor(named: key).floats() }
        func engineTensor(_ key: String) throws -> ZooNet.Tensor {
            let stored = try archive.tensor(named: key)
            return try ZooNet.Tensor(shape: stored.shape, scalars: stored.floats())
        }
        let net = try Self.network(c)
        for weight in c.weights { try net.assign("op/\(weight)", values: array(weight)) }
        let inputs = try c.inputs.indices.map { try engineTensor("x\($0)") }
        let (y, dx) = try net.vectorJacobianProduct(inputs, outputGradient: engineTensor("r"), training: c.training)

        func expectClose(_ got: [Float], _ key: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let want = try array(key)
            let scale = 1 + (want.map(abs).max() ?? 0)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(got.count == want.count && worst <= 1e-5 * scale, "\(name) \(key): max |got − want| = \(worst) (scale \(scale))",
                    sourceLocation: sourceLocation)
        }
        for peer in c.peers {
            let known = Set(c.known_differences?.keys.map { $0 } ?? [])
            func isKnownDifference(_ key: String) -> Bool { known.contains(key) || known.contains("\(key)_\(peer)") }
            try expectClose(y.scalars, "y_\(peer)")
            for (k, g) in dx.enumerated() { try expectClose(g.scalars, "dx\(k)_\(peer)") }
            for weight in c.weights {
                let v = try net.variable(named: "op/\(weight)")
                let key = "d\(weight)_\(peer)"
                if v.isTrainable, archive.tensors.contains(where: { $0.name == key }) { try expectClose(v.gradient.array(count: v.count), key) }
            }
            if c.training, c.op == "batch_normalization" {
                // PyTorch updates the moving variance with the unbiased batch variance, Keras (and
                // ZooNet) with the biased one: the fixture lists that as a known difference.
                for stat in ["moving_mean", "moving_variance"] where peer == "keras" || !isKnownDifference("\(stat)_after") {
                    try expectClose(try net.variable(named: "op/\(stat)").values, "\(stat)_after_\(peer)")
                }
            }
        }
    }

    @Test func everyFixtureIsRead() {
        #expect(Self.cases.count == 96)
    }
}
