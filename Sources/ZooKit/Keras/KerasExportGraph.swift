import ZooFormat
import ZooNet

/// A network as Keras layers: each engine node becomes the layers `KerasLayerCatalog.export`
/// gives (the one carrying the node's variables keeps the node's name; helpers are named
/// `NODE_pad`, `NODE_activation`, …), each input an `InputLayer`. A node that shares another's
/// layer becomes a second call of that Keras layer. `order` is the order Keras itself gives
/// the layers of such a model (`keras.src.ops.function.map_graph`, the same in tf-keras), by
/// which both Keras versions match saved weights to layers.
struct KerasExportGraph {
    /// A tensor: the `call`-th output of `layer` (Keras' `keras_history` [layer, call, 0]).
    struct Ref: Hashable {
        var layer: Int
        var call: Int
    }

    /// One call of a layer: its inputs and per-sample output shape.
    struct Call {
        var inputs: [Ref]
        var outputShape: [Int]
    }

    /// A Keras layer.
    struct Layer {
        var name: String
        var className: String
        var settings: [(key: String, value: JSONValue)]
        var takesList = false
        var calls: [Call] = []
        /// Its weights, in Keras' order, named `name/weight`.
        var weights: [StoredTensor] = []
        var isInput: Bool { className == "InputLayer" }
    }

    var layers: [Layer] = []
    var inputs: [Ref] = []
    var outputs: [Ref] = []

    /// Keras' variable order within a layer.
    private static let variableOrder = ["depthwise_kernel", "pointwise_kernel", "kernel", "bias", "gamma", "beta",
                                        "moving_mean", "moving_variance", "alpha"]

    /// Builds the Keras layers of `network`, with its variables' current values.
    /// - Throws: `ZooKitError.notKerasExpressible` listing every node the target cannot express;
    ///   `ZooNetError.graph` for a custom layer (no `LayerConfig`).
    init(network: Network, version: KerasVersion) throws {
        let description = try network.networkDescription()
        var refs: [String: Ref] = [:]
        var names = Set<String>()
        func unique(_ name: String) -> String {
            var candidate = name, k = 1
            while names.contains(candidate) { candidate = "\(name)_\(k)"; k += 1 }
            names.insert(candidate)
            return candidate
        }
        // Engine names → Keras names (unchanged for Keras 3; tf-keras' scope rule, see `tfKerasName`).
        var renamed: [String: String] = [:]
        for name in description.inputs.map(\.name) + description.nodes.map(\.name) {
            renamed[name] = version == .keras3 ? name : Self.tfKerasName(name)
        }
        names.formUnion(renamed.values)
        guard names.count == renamed.count else {
            throw ZooKitError.invalidRequest("node names collide once made valid tf-keras scope names: write Keras 3 (.keras) instead")
        }
        for input in description.inputs {
            refs[input.name] = Ref(layer: layers.count, call: 0)
            inputs.append(refs[input.name]!)
            layers.append(Layer(name: renamed[input.name]!, className: "InputLayer", settings: [], calls: [Call(inputs: [], outputShape: input.shape)]))
        }
        let engineLayers = network.layersByName
        var mainLayer: [String: Int] = [:]
        var problems: [(className: String, layer: String, reason: String)] = []
        for node in description.nodes {
            guard node.inputs.allSatisfy({ refs[$0] != nil }) else { continue }  // behind a refused node (already reported)
            let inputShapes = try node.inputs.map { try network.shape(ofNode: $0) }
            let steps: [KerasExportStep]
            do {
                steps = try KerasLayerCatalog.export(node.layer, inputShapes: inputShapes, outputShape: try network.shape(ofNode: node.name),
                                                     version: version)
            } catch let error as KerasLayerCatalog.Unsupported {
                problems.append((error.className, node.name, error.reason))
                continue
            }
            var stepRefs: [Ref] = []
            for step in steps {
                let callInputs = step.inputs.map { source -> Ref in
                    switch source {
                    case .input(let k): return refs[node.inputs[k]]!
                    case .step(let j): return stepRefs[j]
                    }
                }
                let call = Call(inputs: callInputs, outputShape: step.outputShape)
                if step.suffix.isEmpty, let owner = node.shares, let shared = mainLayer[owner] {
                    layers[shared].calls.append(call)
                    stepRefs.append(Ref(layer: shared, call: layers[shared].calls.count - 1))
                    continue
                }
                let kerasName = renamed[node.name]!
                var layer = Layer(name: step.suffix.isEmpty ? kerasName : unique(kerasName + step.suffix), className: step.className,
                                  settings: step.settings, takesList: step.takesList, calls: [call])
                if step.suffix.isEmpty {
                    mainLayer[node.name] = layers.count
                    let variables = (engineLayers[node.name] as? any ZooNet.Layer)?.variables ?? []
                    let rank = { (v: Variable) in Self.variableOrder.firstIndex(of: String(v.name.split(separator: "/").last ?? "")) ?? 99 }
                    layer.weights = try variables.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }
                        .map { try StoredTensor($0.element.snapshot, name: kerasName + "/" + ($0.element.name.split(separator: "/").last.map(String.init) ?? "")) }
                }
                stepRefs.append(Ref(layer: layers.count, call: 0))
                layers.append(layer)
            }
            refs[node.name] = stepRefs.last
        }
        guard problems.isEmpty else { throw ZooKitError.notKerasExpressible(target: version.rawValue, UnsupportedLayers(problems)) }
        outputs = description.outputs.map { refs[$0]! }
    }

    /// A valid tf-keras layer name for an engine name: TensorFlow scopes match
    /// `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`, so a name starting otherwise (`_conv_stem`, from the
    /// EfficientNet-Lite port) gets a `.` in front (`._conv_stem`), and other characters outside
    /// the set (`#` of a helper node, a space) become `-`. Keras 3 takes every name as it is.
    static func tfKerasName(_ name: String) -> String {
        func allowed(_ c: Character, first: Bool) -> Bool {
            c.isASCII && (c.isLetter || c.isNumber || c == "." || (!first && "_>-\\".contains(c)))
        }
        var result = String(name.map { allowed($0, first: false) ? $0 : "-" })
        if let first = name.first, !allowed(first, first: true) { result = "." + result }
        return result
    }

    /// The layers in Keras' order: deepest first (depth = the longest path to an output),
    /// ties in the order a depth-first walk from the outputs first meets them.
    var order: [Int] {
        var finished = Set<Ref>(), sequence: [Ref] = [], operationIndex: [Int: Int] = [:]
        func visit(_ ref: Ref) {
            if finished.contains(ref) { return }
            if operationIndex[ref.layer] == nil { operationIndex[ref.layer] = operationIndex.count }
            if !layers[ref.layer].isInput {
                for input in layers[ref.layer].calls[ref.call].inputs { visit(input) }
            }
            finished.insert(ref)
            sequence.append(ref)
        }
        for output in outputs { visit(output) }
        var nodeDepth: [Ref: Int] = [:], layerDepth: [Int: Int] = [:]
        for ref in sequence.reversed() {
            var depth = nodeDepth[ref] ?? 0
            depth = max(depth, layerDepth[ref.layer] ?? 0)
            layerDepth[ref.layer] = depth
            nodeDepth[ref] = depth
            if !layers[ref.layer].isInput {
                for parent in layers[ref.layer].calls[ref.call].inputs { nodeDepth[parent] = max(depth + 1, nodeDepth[parent] ?? 0) }
            }
        }
        for input in inputs where layerDepth[input.layer] == nil {  // inputs no output needs
            layerDepth[input.layer] = 0
            operationIndex[input.layer] = -1
        }
        return layerDepth.keys.sorted { (-layerDepth[$0]!, operationIndex[$0]!) < (-layerDepth[$1]!, operationIndex[$1]!) }
    }
}
