import ZooNet

/// A pretrained graph (a Keras Application, a PyTorch architecture) cut at a node, with a new
/// classifier on top, the base frozen — Keras'
///
///     base.trainable = False
///     x = GlobalAveragePooling2D()(base.get_layer(cut).output)   # only if the cut is spatial
///     logits = Dense(classes)(Dropout(rate)(x))
///
/// and the book's second step: unfreeze the top blocks by name (`block_16|Conv_1`). The new
/// network shares the base's variables (no copy); what the base computed up to the feature
/// node can be cached (``features(_:batchSize:)``) and the head trained alone (``headNetwork()``).
///
///     let (base, _) = try KerasModelImporter.load("MobileNetV2.keras")
///     let transfer = try GraphTransfer(base: base, options: .init(classes: 5, cut: "out_relu", unfreeze: "block_16|Conv_1"))
///     try transfer.network.fit(data, loss: .softmaxCrossEntropy, optimizer: Adam(learningRate: 1e-4), epochs: 5)
public final class GraphTransfer {
    /// What goes on the cut and what trains.
    public struct Options: Sendable {
        /// Classes of the new head (≥ 1).
        public var classes: Int
        /// The node whose output the head takes; nil: the input of the base's last node (what
        /// its classifier takes).
        public var cut: String?
        /// Dropout rate below the head (nil: none).
        public var dropout: Float?
        /// The head's activation; the default, linear, gives the logits the engine's
        /// cross-entropy losses take (Keras' `from_logits=True`); softmax for probabilities.
        public var activation: Activation
        /// The head's name (its variables: `<name>/kernel`, `<name>/bias`); the pooling node
        /// added on a spatial cut is `<name>_pool`, the dropout `<name>_dropout`.
        public var headName: String
        /// Base variables to train as well: a regex matched at the start of each variable's
        /// name or of any scope in it, so `block_16|Conv_1` finds
        /// `mobilenetv2_0.35_96/block_16_project/kernel` inside a nested base; nil: the whole
        /// base frozen.
        public var unfreeze: String?
        /// Base variables to keep frozen while the rest of the base trains (the seed's
        /// `--freeze`): a regex matched like `unfreeze`; nil: see `unfreeze`. With `freeze` or
        /// `freezeBelow`, every base variable they do not name trains.
        public var freeze: String?
        /// A node of the base: its variables and those of every node it depends on stay frozen
        /// (Keras' "freeze the layers below"), the rest of the base trains.
        public var freezeBelow: String?
        /// Keep batch-normalization layers frozen (inference mode, moving statistics) even when
        /// `unfreeze` matches them, as Keras' transfer-learning guide advises.
        public var keepBatchNormFrozen: Bool
        /// Seeds the head's initialization.
        public var seed: UInt64

        /// Options with Keras' usual choices: base frozen, BN kept frozen; a logits head.
        public init(classes: Int, cut: String? = nil, dropout: Float? = nil, activation: Activation = .linear,
                    headName: String = "new_head", unfreeze: String? = nil, freeze: String? = nil, freezeBelow: String? = nil,
                    keepBatchNormFrozen: Bool = true, seed: UInt64 = 0) {
            self.freeze = freeze
            self.freezeBelow = freezeBelow
            self.classes = classes
            self.cut = cut
            self.dropout = dropout
            self.activation = activation
            self.headName = headName
            self.unfreeze = unfreeze
            self.keepBatchNormFrozen = keepBatchNormFrozen
            self.seed = seed
        }
    }

    /// Base input(s) → cut → (pooling) → (dropout) → head.
    public let network: Network
    /// The node the head was put on.
    public let cut: String
    /// The node whose output the head's first layer takes: the pooling node on a spatial cut,
    /// else the cut (what ``features(_:batchSize:)`` returns).
    public let featureNode: String
    /// The names of the nodes added on top of the cut, bottom first.
    public let headNodes: [String]
    /// The options the transfer was built with.
    public let options: Options
    /// The new head's node (``Options/headName``), the last of ``headNodes``.
    public var head: String { headNodes[headNodes.count - 1] }
    /// Names of the trainable variables (the head's, then the unfrozen base variables).
    public var trainableNames: [String] { network.trainableVariables.map(\.name) }

    /// Cuts `base` and puts the head on it, freezing as `options` say.
    /// - Throws: `ZooKitError.invalidRequest` for a cut that is not a node, a cut whose output
    ///   is neither a vector nor a feature map, fewer than one class, or an `unfreeze` pattern
    ///   that does not compile; `ZooKitError.architecture` if the head does not build.
    public init(base: Network, options: Options) throws {
        guard options.classes >= 1 else { throw ZooKitError.invalidRequest("a new head needs at least 1 class, not \(options.classes)") }
        if let rate = options.dropout, !(rate >= 0 && rate < 1) {
            throw ZooKitError.invalidRequest("the head's dropout rate must be in [0, 1), not \(rate)")
        }
        let cut = try options.cut ?? Self.defaultCut(of: base)
        let shape: [Int]
        do { shape = try base.shape(ofNode: cut) } catch {
            throw ZooKitError.invalidRequest("cut '\(cut)' is not a node of the network (\(Self.someNames(base)))")
        }
        var x = try base.tensor(named: cut)
        var added: [String] = []
        switch shape.count {
        case 1: break
        case 3:
            let pool = "\(options.headName)_pool"
            x = GlobalAveragePooling2D(name: pool)(x)
            added.append(pool)
        default:
            throw ZooKitError.invalidRequest("cut '\(cut)' gives shape \(shape): a head goes on a vector or an H×W×C feature map")
        }
        let featureNode = added.last ?? cut
        if let rate = options.dropout {
            x = Dropout(rate: rate, name: "\(options.headName)_dropout")(x)
            added.append("\(options.headName)_dropout")
        }
        x = Dense(outputCount: options.classes, activation: options.activation, name: options.headName)(x)
        added.append(options.headName)
        do {
            network = try Network(inputs: base.inputTensors, outputs: [x], seed: options.seed)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: "transfer network", reason: error.description)
        }
        self.cut = cut
        self.featureNode = featureNode
        self.options = options
        headNodes = added
        try freeze(options)
    }

    /// Whether only the head trains (then the base's features can be computed once).
    public var baseIsFrozen: Bool {
        let head = Set(headNodes)
        return network.trainableVariables.allSatisfy { head.contains(Self.layerName(of: $0.name)) }
    }

    /// The base's outputs as features for the head, for `inputs` (one tensor per network input):
    /// `[N, F]` at ``featureNode``, computed in inference mode once, so that the head can
    /// train on them alone (``headNetwork()``) while the base is frozen.
    public func features(_ inputs: [Tensor], batchSize: Int = 64) throws -> Tensor {
        try network.predict(inputs, outputs: [featureNode], batchSize: batchSize)[0]
    }

    /// The layers above ``featureNode`` as a network of their own, sharing the head's variables:
    /// trained on ``features(_:batchSize:)``, it trains the head of ``network``.
    public func headNetwork() throws -> Network {
        try Network(inputs: [network.tensor(named: featureNode)], outputs: network.outputTensors)
    }

    /// Makes the head trainable, and of the base: what `unfreeze` matches, or, with `freeze` or
    /// `freezeBelow`, everything they do not name; batch norm stays frozen if asked.
    private func freeze(_ options: Options) throws {
        func compile(_ text: String, _ what: String) throws -> NamePattern {
            do { return try NamePattern(text) } catch {
                throw ZooKitError.invalidRequest("\(what) pattern '\(text)' is not a regular expression")
            }
        }
        let head = Set(headNodes)
        let names = network.variables.map(\.name)
        let batchNorms = Set(network.layersByName.filter { $0.value is BatchNorm }.map(\.key))
        var base = Set<String>()
        if options.freeze != nil || options.freezeBelow != nil {
            var frozen = Set<String>()
            if let freeze = options.freeze {
                let pattern = try compile(freeze, "freeze")
                frozen.formUnion(names.filter { Self.matchesAnyScope(pattern, $0) })
            }
            if let node = options.freezeBelow {
                let below = try ancestors(of: node)
                frozen.formUnion(names.filter { below.contains(Self.layerName(of: $0)) })
            }
            base.formUnion(names.filter { !frozen.contains($0) })
        }
        if let unfreeze = options.unfreeze {
            let pattern = try compile(unfreeze, "unfreeze")
            base.formUnion(names.filter { Self.matchesAnyScope(pattern, $0) })
        }
        let trainable = names.filter { name in
            let layer = Self.layerName(of: name)
            return head.contains(layer) || (base.contains(name) && !(options.keepBatchNormFrozen && batchNorms.contains(layer)))
        }
        network.freeze(trainable: .exactly(trainable))
    }

    /// The variables trainable now, plus the base variables `pattern` matches (at the start of
    /// any scope, like ``Options/unfreeze``; batch normalization left frozen when
    /// ``Options/keepBatchNormFrozen``): the book's second phase, unfreezing the top blocks.
    /// Nothing changes until ``setTrainable(_:)``.
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` when `pattern` does not compile or matches no
    ///   variable that could train.
    public func trainableNames(unfreezing pattern: String) throws -> [String] {
        let compiled: NamePattern
        do { compiled = try NamePattern(pattern) } catch {
            throw ZooKitError.invalidRequest("unfreeze pattern '\(pattern)' is not a regular expression")
        }
        let batchNorms = Set(network.layersByName.filter { $0.value is BatchNorm }.map(\.key))
        let current = Set(trainableNames)
        let added = network.variables.map(\.name).filter { name in
            !current.contains(name) && Self.matchesAnyScope(compiled, name)
                && !(options.keepBatchNormFrozen && batchNorms.contains(Self.layerName(of: name)))
        }
        guard !added.isEmpty else {
            throw ZooKitError.invalidRequest("unfreeze pattern '\(pattern)' matches no frozen variable of the base (\(Self.someNames(network)))")
        }
        let unfrozen = current.union(added)
        return network.variables.map(\.name).filter { unfrozen.contains($0) }
    }

    /// Makes exactly the variables `names` trainable, everything else frozen.
    public func setTrainable(_ names: [String]) {
        network.freeze(trainable: .exactly(names))
    }

    /// `scope/kernel` → `scope`: the node a variable belongs to.
    public static func node(ofVariable name: String) -> String { layerName(of: name) }

    /// `node` and every node it depends on.
    private func ancestors(of node: String) throws -> Set<String> {
        var seen = Set<String>(), stack = [node]
        do {
            while let name = stack.popLast() {
                guard seen.insert(name).inserted else { continue }
                stack += try network.inputNames(ofNode: name)
            }
        } catch {
            throw ZooKitError.invalidRequest("freeze-below '\(node)' is not a node of the network (\(Self.someNames(network)))")
        }
        return seen
    }

    /// Whether `pattern` matches at the start of `name` or right after one of its `/`.
    private static func matchesAnyScope(_ pattern: NamePattern, _ name: String) -> Bool {
        if pattern.matches(name) { return true }
        return name.indices.contains { name[$0] == "/" && pattern.matches(String(name[name.index(after: $0)...])) }
    }

    /// `scope/kernel` → `scope` (the layer's node name).
    private static func layerName(of variable: String) -> String {
        guard let slash = variable.lastIndex(of: "/") else { return variable }
        return String(variable[..<slash])
    }

    /// The input of the base's (first) output node: what its classifier takes.
    private static func defaultCut(of base: Network) throws -> String {
        guard let last = base.outputTensors.first?.name, let input = try base.inputNames(ofNode: last).first else {
            throw ZooKitError.invalidRequest("the network has no output node with an input to cut at; name a cut node")
        }
        return input
    }

    /// A few node names for an error message.
    private static func someNames(_ base: Network) -> String {
        let names = base.nodeNames
        return names.count <= 12 ? "nodes: " + names.joined(separator: ", ")
            : "nodes include " + names.suffix(8).joined(separator: ", ") + " (\(names.count) in all)"
    }
}
