extension KerasGraph {
    /// Nested models deeper than this are refused (a config is untrusted input).
    public static let maximumNesting = 32
    /// More calls than this are refused.
    public static let maximumNodes = 200_000

    /// Parses and flattens a model config (`{"class_name": "Functional" | "Sequential" |
    /// "Model", "config": {…}}`).
    /// - Throws: `KerasGraphError` naming the layer and what is wrong with it.
    public init(_ json: JSONValue) throws(KerasGraphError) {
        guard let className = json["class_name"]?.stringValue, let config = json["config"] else {
            throw .notAModelConfig("no class_name and config at the top level")
        }
        guard KerasGraph.isModel(className) else {
            throw .notAModelConfig("the top level is a \(className), not a Sequential or Functional model")
        }
        var flattener = Flattener()
        let outputs = try flattener.expand(className: className, config: config, prefix: "", arguments: nil, depth: 0)
        name = config["name"]?.stringValue ?? ""
        isSequential = className == "Sequential"
        inputs = flattener.graphInputs
        nodes = flattener.nodes
        self.outputs = outputs
    }

    static func isModel(_ className: String) -> Bool { ["Sequential", "Functional", "Model"].contains(className) }
}

/// A tensor a call takes, as the config names it.
private enum Argument {
    case tensor(layer: String, node: Int, index: Int)
    case constant(JSONValue)
}

/// One entry of a layer's `inbound_nodes`.
private struct Call {
    var positional: [Argument] = []
    var keywords: [(String, Argument)] = []
}

/// Expands models into the flat node list.
private struct Flattener {
    var nodes: [KerasGraph.Node] = []
    var graphInputs: [KerasGraph.GraphInput] = []
    /// Calls emitted so far per layer path (for `@k` names).
    var calls: [String: Int] = [:]
    var used = Set<String>()

    /// Expands a model with layer names prefixed by `prefix`; `arguments` feed its inputs (nil
    /// at the top level: they become graph inputs). Returns the names of its outputs.
    mutating func expand(className: String, config: JSONValue, prefix: String, arguments: [KerasGraph.Input]?,
                         depth: Int) throws(KerasGraphError) -> [String] {
        guard depth <= KerasGraph.maximumNesting else {
            throw .malformed(layer: prefix, problem: "models nested more than \(KerasGraph.maximumNesting) deep")
        }
        guard let layers = config["layers"]?.arrayValue else {
            throw .malformed(layer: prefix.isEmpty ? "model" : String(prefix.dropLast()), problem: "no layers list")
        }
        if className == "Sequential" {
            return try expandSequential(layers, config: config, prefix: prefix, arguments: arguments, depth: depth)
        }
        return try expandFunctional(layers, config: config, prefix: prefix, arguments: arguments, depth: depth)
    }

    // MARK: Sequential

    mutating func expandSequential(_ layers: [JSONValue], config: JSONValue, prefix: String, arguments: [KerasGraph.Input]?,
                                   depth: Int) throws(KerasGraphError) -> [String] {
        var current: KerasGraph.Input?
        if let arguments {
            guard arguments.count == 1 else {
                throw .malformed(layer: String(prefix.dropLast()), problem: "a Sequential model takes one input, the call gives \(arguments.count)")
            }
            current = arguments[0]
        }
        for layer in layers {
            let (name, className) = try identity(layer, prefix: prefix)
            let settings = layer["config"] ?? .object([])
            if className == "InputLayer" {
                if current == nil { current = try graphInput(prefix + name, settings) }
                continue
            }
            if current == nil {  // Keras 2: the first layer carries the input shape
                let shape = Self.shape(settings["batch_input_shape"] ?? settings["batch_shape"])
                    ?? Self.shape(config["build_input_shape"]) ?? Self.shape(config["build_config"]?["input_shape"])
                guard let shape else {
                    throw .malformed(layer: prefix + name, problem: "a Sequential model without an input shape")
                }
                let inputName = uniqueName(prefix + "input_layer")
                graphInputs.append(KerasGraph.GraphInput(name: inputName, shape: shape))
                used.insert(inputName)
                current = .node(inputName)
            }
            guard let input = current else { continue }
            if KerasGraph.isModel(className) {
                let outputs = try expand(className: className, config: settings, prefix: prefix + name + "/", arguments: [input],
                                         depth: depth + 1)
                guard outputs.count == 1 else {
                    throw .malformed(layer: prefix + name, problem: "a model with \(outputs.count) outputs inside a Sequential model")
                }
                current = .node(outputs[0])
                continue
            }
            current = .node(try emit(layer: prefix + name, className: className, module: layer["module"]?.stringValue,
                                     config: settings, inputs: [input], keywords: [:]))
        }
        guard case .node(let output)? = current else {
            throw .malformed(layer: prefix.isEmpty ? "model" : String(prefix.dropLast()), problem: "an empty Sequential model")
        }
        return [output]
    }

    // MARK: Functional

    mutating func expandFunctional(_ layers: [JSONValue], config: JSONValue, prefix: String, arguments: [KerasGraph.Input]?,
                                   depth: Int) throws(KerasGraphError) -> [String] {
        let modelName = prefix.isEmpty ? (config["name"]?.stringValue ?? "model") : String(prefix.dropLast())
        var byName: [String: JSONValue] = [:]
        var order: [String] = []
        for layer in layers {
            let (name, _) = try identity(layer, prefix: prefix)
            guard byName[name] == nil else { throw .malformed(layer: prefix + name, problem: "two layers have this name") }
            byName[name] = layer
            order.append(name)
        }
        let keras3 = layers.contains { ($0["inbound_nodes"]?.arrayValue?.first?["args"]) != nil }
        var produced: [String: KerasGraph.Input] = [:]  // "layer|node|index" → what it is
        func key(_ layer: String, _ node: Int, _ index: Int) -> String { "\(layer)|\(node)|\(index)" }

        // Inputs: bound to the call's arguments, or graph inputs.
        let inputRefs = try Self.references(config["input_layers"], model: modelName)
        if let arguments, arguments.count != inputRefs.count {
            throw .malformed(layer: modelName, problem: "the model takes \(inputRefs.count) inputs, the call gives \(arguments.count)")
        }
        for (i, ref) in inputRefs.enumerated() {
            guard let layer = byName[ref.layer] else {
                throw .malformed(layer: modelName, problem: "its input '\(ref.layer)' is not one of its layers")
            }
            if let arguments {
                produced[key(ref.layer, ref.node, ref.index)] = arguments[i]
            } else {
                produced[key(ref.layer, ref.node, ref.index)] = try graphInput(prefix + ref.layer, layer["config"] ?? .object([]))
            }
        }

        // Every call of every other layer, made once all it takes exists (config order first).
        var pending: [(layer: String, call: Int, entry: Call)] = []
        var callCount: [String: Int] = [:]  // layer → its calls in this model (an InputLayer: 1)
        for ref in inputRefs { callCount[ref.layer] = 1 }
        for name in order {
            guard let layer = byName[name] else { continue }
            let className = layer["class_name"]?.stringValue ?? "?"
            if className == "InputLayer" { continue }
            let entries = try Self.calls(of: layer, name: prefix + name, keras3: keras3)
            callCount[name] = entries.count
            for (index, entry) in entries.enumerated() { pending.append((name, index, entry)) }
        }
        while !pending.isEmpty {
            var remaining: [(layer: String, call: Int, entry: Call)] = []
            var progress = false
            for item in pending {
                guard let layer = byName[item.layer] else { continue }
                let className = layer["class_name"]?.stringValue ?? "?"
                func resolve(_ argument: Argument) throws(KerasGraphError) -> KerasGraph.Input? {
                    switch argument {
                    case .constant(let value): return .constant(value)
                    case let .tensor(name, node, index):
                        guard let source = byName[name] else {
                            throw .malformed(layer: prefix + item.layer, problem: "takes '\(name)', which is not a layer of \(modelName)")
                        }
                        let offset = !keras3 && KerasGraph.isModel(source["class_name"]?.stringValue ?? "") ? 1 : 0
                        return produced[key(name, node - offset, index)]
                    }
                }
                var inputs: [KerasGraph.Input] = []
                var keywords: [String: KerasGraph.Input] = [:]
                var ready = true
                for argument in item.entry.positional {
                    guard let input = try resolve(argument) else { ready = false; break }
                    inputs.append(input)
                }
                if ready {
                    for (word, argument) in item.entry.keywords {
                        guard let input = try resolve(argument) else { ready = false; break }
                        keywords[word] = input
                    }
                }
                guard ready else { remaining.append(item); continue }
                progress = true
                let settings = layer["config"] ?? .object([])
                if KerasGraph.isModel(className) {
                    let outputs = try expand(className: className, config: settings, prefix: prefix + item.layer + "/",
                                             arguments: inputs, depth: depth + 1)
                    for (index, output) in outputs.enumerated() { produced[key(item.layer, item.call, index)] = .node(output) }
                } else {
                    let node = try emit(layer: prefix + item.layer, className: className, module: layer["module"]?.stringValue,
                                        config: settings, inputs: inputs, keywords: keywords)
                    produced[key(item.layer, item.call, 0)] = .node(node)
                }
            }
            guard progress else {
                throw Self.whyStuck(remaining.map { ($0.layer, $0.entry) }, byName: byName, callCount: callCount, keras3: keras3,
                                    prefix: prefix, isProduced: { produced[key($0, $1, $2)] != nil })
            }
            pending = remaining
        }

        // Outputs.
        return try Self.references(config["output_layers"], model: modelName).map { ref throws(KerasGraphError) -> String in
            let offset = !keras3 && KerasGraph.isModel(byName[ref.layer]?["class_name"]?.stringValue ?? "") ? 1 : 0
            guard case .node(let name)? = produced[key(ref.layer, ref.node - offset, ref.index)] else {
                throw .malformed(layer: modelName, problem: "its output '\(ref.layer)' [\(ref.node), \(ref.index)] is not computed by any layer")
            }
            return name
        }
    }

    /// Why no remaining call can run: a reference to a call that does not exist (a node index
    /// past the layer's calls), or calls that wait on each other (a cycle, named in order).
    static func whyStuck(_ remaining: [(layer: String, entry: Call)], byName: [String: JSONValue], callCount: [String: Int],
                         keras3: Bool, prefix: String, isProduced: (String, Int, Int) -> Bool) -> KerasGraphError {
        /// The layers a call waits for (those of its tensor arguments not produced yet).
        func waits(_ entry: Call) -> [(layer: String, node: Int, index: Int)] {
            (entry.positional + entry.keywords.map(\.1)).compactMap { argument in
                guard case let .tensor(name, node, index) = argument else { return nil }
                let offset = !keras3 && KerasGraph.isModel(byName[name]?["class_name"]?.stringValue ?? "") ? 1 : 0
                return isProduced(name, node - offset, index) ? nil : (name, node - offset, index)
            }
        }
        for (layer, entry) in remaining {
            for wait in waits(entry) where wait.node < 0 || wait.node >= callCount[wait.layer, default: 0] {
                let calls = callCount[wait.layer, default: 0]
                return .malformed(layer: prefix + layer, problem:
                    "takes '\(wait.layer)' at node index \(wait.node), but '\(wait.layer)' is called \(calls) time\(calls == 1 ? "" : "s")")
            }
        }
        // Every wait is for a call that exists but cannot run: follow the waits until a layer repeats.
        let waiting = Dictionary(remaining.map { ($0.layer, $0.entry) }, uniquingKeysWith: { first, _ in first })
        var path: [String] = [remaining[0].layer]
        while let next = waiting[path[path.count - 1]].flatMap({ waits($0).first?.layer }) {
            if let start = path.firstIndex(of: next) {
                let cycle = (path[start...] + [next]).map { prefix + $0 }.joined(separator: " → ")
                return .malformed(layer: prefix + next, problem: "the graph has a cycle: \(cycle)")
            }
            path.append(next)
        }
        let last = path[path.count - 1]
        return .malformed(layer: prefix + last, problem: "its inputs are never computed")
    }

    // MARK: Pieces

    /// The layer's name (from the entry or its config) and class.
    func identity(_ layer: JSONValue, prefix: String) throws(KerasGraphError) -> (String, String) {
        guard let className = layer["class_name"]?.stringValue else {
            throw .malformed(layer: prefix + "?", problem: "a layer without class_name")
        }
        guard let name = layer["name"]?.stringValue ?? layer["config"]?["name"]?.stringValue, !name.isEmpty else {
            throw .malformed(layer: prefix + "?", problem: "a \(className) layer without a name")
        }
        return (name, className)
    }

    /// A graph input from an `InputLayer` config.
    mutating func graphInput(_ name: String, _ settings: JSONValue) throws(KerasGraphError) -> KerasGraph.Input {
        guard let shape = Self.shape(settings["batch_shape"] ?? settings["batch_input_shape"]) else {
            throw .malformed(layer: name, problem: "an InputLayer without batch_shape")
        }
        let unique = uniqueName(name)
        graphInputs.append(KerasGraph.GraphInput(name: unique, shape: shape))
        used.insert(unique)
        return .node(unique)
    }

    mutating func emit(layer: String, className: String, module: String?, config: JSONValue, inputs: [KerasGraph.Input],
                       keywords: [String: KerasGraph.Input]) throws(KerasGraphError) -> String {
        guard nodes.count < KerasGraph.maximumNodes else {
            throw .malformed(layer: layer, problem: "more than \(KerasGraph.maximumNodes) layer calls")
        }
        let call = calls[layer, default: 0]
        calls[layer] = call + 1
        let name = uniqueName(call == 0 ? layer : "\(layer)@\(call)")
        used.insert(name)
        nodes.append(KerasGraph.Node(name: name, layer: layer, className: className, module: module, config: config,
                                     inputs: inputs, keywords: keywords, call: call))
        return name
    }

    func uniqueName(_ base: String) -> String {
        var name = base, k = 1
        while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
        return name
    }

    /// `[null, 28, 28, 1]` → `[28, 28, 1]` (the batch dimension dropped).
    static func shape(_ value: JSONValue?) -> [Int?]? {
        guard let dims = value?.arrayValue, !dims.isEmpty else { return nil }
        return dims.dropFirst().map { $0.intValue }
    }

    /// `input_layers` / `output_layers`: `[name, node, index]` or a list of them.
    static func references(_ value: JSONValue?, model: String) throws(KerasGraphError) -> [(layer: String, node: Int, index: Int)] {
        guard let list = value?.arrayValue else { throw .malformed(layer: model, problem: "no input_layers / output_layers") }
        let triples = list.first?.stringValue != nil ? [JSONValue.array(list)] : list
        return try triples.map { triple throws(KerasGraphError) in
            guard let items = triple.arrayValue, items.count >= 3, let name = items[0].stringValue,
                  let node = items[1].intValue, let index = items[2].intValue else {
                throw .malformed(layer: model, problem: "an input or output reference that is not [layer, node, index]")
            }
            return (name, node, index)
        }
    }

    /// The calls in a layer's `inbound_nodes`, both generations.
    static func calls(of layer: JSONValue, name: String, keras3: Bool) throws(KerasGraphError) -> [Call] {
        guard let nodes = layer["inbound_nodes"]?.arrayValue else { return [] }
        return try nodes.map { node throws(KerasGraphError) -> Call in
            var call = Call()
            if keras3 {
                guard case .object = node else { throw .malformed(layer: name, problem: "a Keras 3 inbound node that is not an object") }
                for argument in node["args"]?.arrayValue ?? [] { try flatten(argument, into: &call.positional, layer: name) }
                for (word, value) in node["kwargs"]?.objectMembers ?? [] where value != .null {
                    if let tensor = tensorReference(value) { call.keywords.append((word, tensor)) }
                    else if !["mask", "training"].contains(word) { call.keywords.append((word, .constant(value))) }
                }
                return call
            }
            // Keras 2: a list of entries [layer, node, index, kwargs], or (TFOpLambda) one entry.
            guard let items = node.arrayValue else { throw .malformed(layer: name, problem: "a Keras 2 inbound node that is not a list") }
            let entries = items.first?.stringValue != nil ? [node] : items
            for entry in entries {
                guard let parts = entry.arrayValue, parts.count >= 3, let source = parts[0].stringValue else {
                    throw .malformed(layer: name, problem: "an inbound entry that is not [layer, node, index, kwargs]")
                }
                if source == "_CONSTANT_VALUE" {
                    call.positional.append(.constant(parts[2]))
                } else {
                    guard let node = parts[1].intValue, let index = parts[2].intValue else {
                        throw .malformed(layer: name, problem: "an inbound entry for '\(source)' without integer node and tensor indices")
                    }
                    call.positional.append(.tensor(layer: source, node: node, index: index))
                }
                if parts.count > 3 {
                    for (word, value) in parts[3].objectMembers ?? [] where value != .null && word != "name" {
                        if let items = value.arrayValue, items.count == 3, let source = items[0].stringValue,
                           let node = items[1].intValue, let index = items[2].intValue {
                            call.keywords.append((word, .tensor(layer: source, node: node, index: index)))
                        } else {
                            call.keywords.append((word, .constant(value)))
                        }
                    }
                }
            }
            return call
        }
    }

    /// Keras 3 argument: a `__keras_tensor__`, a list of arguments (flattened), or a constant.
    static func flatten(_ value: JSONValue, into list: inout [Argument], layer: String) throws(KerasGraphError) {
        if let tensor = tensorReference(value) { list.append(tensor); return }
        if let items = value.arrayValue, items.contains(where: { tensorReference($0) != nil || $0.arrayValue != nil }) {
            for item in items { try flatten(item, into: &list, layer: layer) }
            return
        }
        list.append(.constant(value))
    }

    static func tensorReference(_ value: JSONValue) -> Argument? {
        guard value["class_name"]?.stringValue == "__keras_tensor__",
              let history = value["config"]?["keras_history"]?.arrayValue, history.count >= 3,
              let layer = history[0].stringValue, let node = history[1].intValue, let index = history[2].intValue else { return nil }
        return .tensor(layer: layer, node: node, index: index)
    }
}

extension TensorArchive {
    /// The model config as a flattened graph, when the file carries one.
    public func kerasGraph() throws -> KerasGraph? {
        guard let modelConfig else { return nil }
        do {
            return try KerasGraph(modelConfig)
        } catch {
            throw FormatError(file: file, .malformed(at: .key("model_config"), expected: "a Keras model config", found: error.description))
        }
    }
}
