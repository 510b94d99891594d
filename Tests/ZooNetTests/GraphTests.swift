import Foundation
import Testing
@testable import ZooNet

/// The graph network: building and its errors, plans (buffer reuse, pruned backward), reading
/// any node, sub-networks at a cut, and the declarative description.
@Suite struct GraphTests {
    /// x → conv a → (relu) → conv b → add(a_relu, b) → pool → dense; returns the network.
    static func residual(seed: UInt64 = 1) throws -> Network {
        let x = Input(shape: [6, 6, 3], name: "image")
        let a = Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, activation: .relu, name: "a")(x)
        let b = Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, name: "b")(a)
        let sum = Add(name: "sum")([a, b])
        let pooled = GlobalAveragePooling2D(name: "pool")(sum)
        let y = Dense(outputCount: 2, name: "head")(pooled)
        return try Network(inputs: [x], outputs: [y], seed: seed)
    }

    @Test func buildsInTopologicalOrderWithNames() throws {
        let net = try Self.residual()
        #expect(net.nodeNames == ["image", "a", "b", "sum", "pool", "head"])
        #expect(net.variables.map(\.name) == ["a/kernel", "a/bias", "b/kernel", "b/bias", "head/kernel", "head/bias"])
        #expect(try net.shape(ofNode: "sum") == [6, 6, 4])
        #expect(try net.inputNames(ofNode: "sum") == ["a", "b"])
        // Default names, Keras style.
        let x = Input(shape: [4])
        let y = Dense(outputCount: 3)(Dense(outputCount: 3)(x))
        let chain = try Network(inputs: [x], outputs: [y])
        #expect(chain.nodeNames == ["input_layer", "dense", "dense_1"])
    }

    /// The residual add equals a + b computed from the nodes' own outputs.
    @Test func readsAnyNodeAndMergesExactly() throws {
        let net = try Self.residual()
        let x = try tensor([3, 6, 6, 3], seed: 2)
        let outputs = try net.predict([x], outputs: ["a", "b", "sum"])
        #expect(zip(outputs[0].scalars, outputs[1].scalars).map { $0 + $1 } == outputs[2].scalars)
        #expect(outputs[2].shape == [3, 6, 6, 4])
    }

    /// Inference keeps only the live activations: a chain of 8 same-size convolutions needs two
    /// buffers (input and output of the running layer), not nine.
    @Test func inferenceReusesBuffersByLiveness() throws {
        let x = Input(shape: [8, 8, 4])
        var y = x
        for _ in 0..<8 { y = Conv2D(filters: 4, kernelSize: (3, 3), padding: .same)(y) }
        let net = try Network(inputs: [x], outputs: [y])
        let (planned, unshared) = try net.inferenceActivationFloats()
        #expect(planned == 2 * 8 * 8 * 4)
        #expect(unshared == 9 * 8 * 8 * 4)
        // The residual net: the skip keeps `a` alive across `b`.
        let (residual, _) = try Self.residual().inferenceActivationFloats()
        // The input, then a; b runs fused with the add but reads a, so it cannot add into a's
        // own buffer: a and b's output (in the input's freed slot, grown) are live together; the
        // pooled and head outputs reuse freed slots.
        #expect(residual == 2 * 6 * 6 * 4)
    }

    /// Fused inference (BN folded into the convolution, activations and the residual add as
    /// post-ops) computes what the nodes compute one by one.
    @Test func fusedInferenceMatchesNodeByNode() throws {
        let x = Input(shape: [9, 8, 3], name: "x")
        let stem = ActivationLayer(.relu6, name: "stem_relu")(
            BatchNorm(name: "stem_bn")(Conv2D(filters: 6, kernelSize: (3, 3), strides: (2, 2), padding: .same, useBias: false,
                                              name: "stem")(x)))
        let expand = ActivationLayer(.relu, name: "expand_relu")(
            BatchNorm(name: "expand_bn")(Conv2D(filters: 6, kernelSize: (1, 1), name: "expand")(stem)))
        let depthwise = Dropout(rate: 0.3, name: "drop")(
            BatchNorm(name: "dw_bn")(DepthwiseConv2D(kernelSize: (3, 3), padding: .same, name: "dw")(expand)))
        let residual = ActivationLayer(.swish, name: "out_act")(Add(name: "add")([depthwise, stem]))
        let y = Dense(outputCount: 3, name: "head")(Flatten(name: "flat")(GlobalAveragePooling2D(keepDims: true, name: "pool")(residual)))
        let net = try Network(inputs: [x], outputs: [y], seed: 3)
        for bn in ["stem_bn", "expand_bn", "dw_bn"] {
            try net.assign("\(bn)/moving_mean", values: randomValues(6, seed: 7, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(6, seed: 8).map { 0.5 + abs($0) })
            try net.assign("\(bn)/gamma", values: randomValues(6, seed: 9).map { 1 + 0.3 * $0 })
            try net.assign("\(bn)/beta", values: randomValues(6, seed: 10, scale: 0.2))
        }
        let plan = net.plan(training: false)
        #expect(plan.fused.count == 3)  // stem, expand, dw + dropout + add + swish
        // The three fused, the pool, the head (flatten shares the pool's buffer); below AVX2 the
        // depthwise convolution's add and swish run as nodes of their own (a oneDNN 2.6 bug).
        #expect(plan.steps.count == (ComputeBackend.instructionSet >= .avx2 ? 5 : 7))
        let input = try tensor([2, 9, 8, 3], seed: 11)
        let fused = try net.predict(input)
        net.fusesConvolutions = false
        let separate = try net.predict(input)
        #expect(closeness(fused.scalars, separate.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        // A weight change reaches the folded copy.
        net.fusesConvolutions = true
        try net.assign("dw_bn/gamma", values: [Float](repeating: 0.5, count: 6))
        let refolded = try net.predict(input)
        net.fusesConvolutions = false
        #expect(closeness(refolded.scalars, try net.predict(input).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }

    /// A `ZeroPadding2D` before a `valid` convolution folds into the convolution's pads (ResNet's
    /// `conv1_pad` before a 7×7 stride-2 convolution; a 3×3 stride-1 one that runs as Winograd);
    /// a padding another node also reads, or one that is requested, stays a node.
    @Test func zeroPaddingFoldsIntoTheConvolution() throws {
        let x = Input(shape: [13, 11, 16], name: "x")
        let stem = Conv2D(filters: 16, kernelSize: (7, 7), strides: (2, 2), activation: .relu, name: "stem")(
            ZeroPadding2D(top: 3, bottom: 3, left: 2, right: 3, name: "stem_pad")(x))
        let pad = ZeroPadding2D(top: 1, bottom: 1, left: 1, right: 1, name: "pad")(stem)
        let conv = Conv2D(filters: 16, kernelSize: (3, 3), name: "conv")(pad)
        let side = GlobalAveragePooling2D(name: "side")(pad)
        let y = Add(name: "add")([GlobalAveragePooling2D(name: "pool")(conv), side])
        let net = try Network(inputs: [x], outputs: [y], seed: 4)
        let plan = net.plan(training: false)
        // stem_pad + stem fused; `pad` feeds two nodes: its own step, then conv alone (a fused step
        // where it has a kernel besides oneDNN's: own direct, blocked, Winograd when tuning), both pools, the add.
        let lone = plan.fused.contains { $0.hasOwnKernels && $0.shape.kernelHeight == 3 }
        #expect(plan.fused.count == (lone ? 2 : 1))
        let last = plan.fused.last!.shape
        #expect(lone == (DirectConvolution.suits(last, first: .linear, sum: false, second: .linear)
                             || BlockedActivations.suits(last, sum: false)
                             || (ComputeBackend.tunesKernels && DirectConvolution.runs(last, first: .linear, second: .linear))))
        #expect(plan.steps.count == 6)
        let input = try tensor([17, 13, 11, 16], seed: 5)
        let fused = try net.predict(input)
        net.fusesConvolutions = false
        let separate = try net.predict(input)
        #expect(closeness(fused.scalars, separate.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        // Without the side read, the 3×3 convolution takes its pad in (and runs as Winograd at 17 images on AVX2).
        let z = Input(shape: [9, 9, 16], name: "z")
        let single = try Network(inputs: [z], outputs: [Conv2D(filters: 16, kernelSize: (3, 3), activation: .relu, name: "c")(
            ZeroPadding2D(top: 1, bottom: 1, left: 1, right: 1, name: "p")(z))], seed: 6)
        #expect(single.plan(training: false).steps.count == 1)
        let small = try tensor([17, 9, 9, 16], seed: 7)
        let folded = try single.predict(small)
        single.fusesConvolutions = false
        #expect(closeness(folded.scalars, try single.predict(small).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }

    /// A block whose one convolution takes the tensor it is added to (EfficientNetV2's
    /// fused-MBConv without expansion): the fused sum cannot be written into the addend's buffer,
    /// which is the convolution's own input.
    @Test func residualAddOfTheConvolutionsOwnInputIsNotInPlace() throws {
        let x = Input(shape: [6, 5, 4], name: "x")
        let stem = ActivationLayer(.swish, name: "stem_act")(Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, name: "stem")(x))
        let block = ActivationLayer(.swish, name: "block_act")(
            BatchNorm(name: "block_bn")(Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, useBias: false, name: "block")(stem)))
        let y = Add(name: "add")([Dropout(rate: 0.2, name: "drop")(block), stem])
        let net = try Network(inputs: [x], outputs: [y], seed: 5)
        try net.assign("block_bn/moving_variance", values: [0.5, 1.5, 2, 0.8])
        #expect(net.plan(training: false).fused.count == 2)
        let input = try tensor([3, 6, 5, 4], seed: 12)
        let fused = try net.predict(input)
        net.fusesConvolutions = false
        let separate = try net.predict(input)
        #expect(closeness(fused.scalars, separate.scalars, relative: 1e-5, absolute: 1e-5) <= 1)
    }

    /// Freezing the base prunes backward to the head; frozen variables do not move in training.
    @Test func frozenBaseIsNeitherDifferentiatedNorUpdated() throws {
        let net = try Self.residual()
        try net.freeze(trainable: "head")
        let plan = net.plan(training: true)
        #expect(plan.backward.map { net.nodes[$0.step.output].name } == ["head"])
        let before = net.snapshots
        let x = try tensor([8, 6, 6, 3], seed: 3)
        let data = try Dataset(inputs: x, labels: .classes((0..<8).map { $0 % 2 }))
        try net.fit(data, loss: .softmaxCrossEntropy, optimizer: try Adam(learningRate: 0.01), epochs: 3, batchSize: 4)
        for (old, new) in zip(before, net.snapshots) {
            #expect((old.values == new.values) == !old.name.hasPrefix("head"), "\(old.name)")
        }
    }

    /// A new network on a cut of a trained one shares its variables and computes its features.
    @Test func subnetworkAtACutSharesVariables() throws {
        let base = try Self.residual()
        let features = try base.tensor(named: "pool")
        let head = Dense(outputCount: 5, name: "new_head")(features)
        let transfer = try Network(inputs: base.inputTensors, outputs: [head], seed: 9)
        #expect(transfer.variables.map(\.name).prefix(4) == ["a/kernel", "a/bias", "b/kernel", "b/bias"])
        #expect(try transfer.variable(named: "a/kernel") === base.variable(named: "a/kernel"))
        // The head alone, fed with cached features: same outputs as through the whole graph.
        let cut = try Network(inputs: [features], outputs: [head])
        let x = try tensor([2, 6, 6, 3], seed: 4)
        let whole = try transfer.predict(x)
        let cached = try cut.predict(base.predict([x], outputs: ["pool"])[0])
        #expect(whole.scalars == cached.scalars)
    }

    @Test func multipleInputsAndOutputs() throws {
        let a = Input(shape: [3], name: "a"), b = Input(shape: [3], name: "b")
        let sum = Add()([a, b]), product = Multiply()([a, b])
        let net = try Network(inputs: [a, b], outputs: [sum, product])
        let x = try Tensor(shape: [1, 3], scalars: [1, 2, 3]), z = try Tensor(shape: [1, 3], scalars: [4, 5, 6])
        let outputs = try net.predict([x, z])
        #expect(outputs[0].scalars == [5, 7, 9] && outputs[1].scalars == [4, 10, 18])
    }

    // MARK: - Errors at build time

    static func graphError(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as ZooNetError { return error.description } catch { return "\(error)" }
        return nil
    }

    @Test func mismatchedMergeNamesTheNodeAndShapes() {
        let message = Self.graphError {
            let x = Input(shape: [5, 4, 2], name: "x")
            let a = Conv2D(filters: 4, kernelSize: (1, 1), name: "a")(x)
            let b = Conv2D(filters: 3, kernelSize: (1, 1), name: "b")(x)
            _ = try Network(inputs: [x], outputs: [Add(name: "join")([a, b])])
        }
        #expect(message == "node 'join' (add) on 'a' [5, 4, 4], 'b' [5, 4, 3]: shapes [[5, 4, 4], [5, 4, 3]] do not broadcast (axis 3: [3, 4])")
    }

    @Test func concatAxisOutOfRange() {
        let message = Self.graphError {
            let x = Input(shape: [5, 4, 2], name: "x")
            _ = try Network(inputs: [x], outputs: [Concatenate(axis: 4, name: "cat")([x, x])])
        }
        #expect(message == "node 'cat' (concatenate) on 'x' [5, 4, 2], 'x' [5, 4, 2]: concatenate axis 4 is out of range for inputs of rank 4 (batch included)")
    }

    @Test func danglingInputIsNamed() {
        let message = Self.graphError {
            let x = Input(shape: [3], name: "x"), other = Input(shape: [3], name: "other")
            _ = try Network(inputs: [x], outputs: [Add(name: "sum")([x, other])])
        }
        #expect(message == "node 'other': node 'sum' takes input 'other', which is not among the network's inputs")
    }

    /// A layer called twice (Keras' shared layers): one set of variables, each call's gradient
    /// summed into it — checked by finite differences — and frozen together.
    @Test func sharedLayersShareVariablesAndSumGradients() throws {
        let shared = Dense(outputCount: 3, activation: .tanh, name: "shared")
        let x = Input(shape: [3], name: "x")
        let twice = shared(shared(x))
        let y = Dense(outputCount: 2, name: "head")(Add(name: "sum")([twice, shared(x)]))
        let net = try Network(inputs: [x], outputs: [y], seed: 2)
        #expect(net.nodeNames.contains("shared@1") && net.nodeNames.contains("shared@2"))
        #expect(net.variables.map(\.name) == ["shared/kernel", "shared/bias", "head/kernel", "head/bias"])
        try checkGradients(net, regressionData(net, batch: 4, seed: 3), loss: .meanSquaredError)
        // Only the second call trainable (the head's input): still the shared variables' gradient.
        try net.freeze(trainable: "shared")
        try checkGradients(net, regressionData(net, batch: 4, seed: 5), loss: .meanSquaredError)
        // Calling it on another width is a build error naming both.
        let wide = Input(shape: [5], name: "wide")
        let message = Self.graphError { _ = try Network(inputs: [x, wide], outputs: [Add()([shared(x), shared(wide)])]) }
        #expect(message?.contains("the shared layer 'shared' is called on inputs of another shape") == true)
    }

    @Test func duplicateNamesAreRefused() {
        let duplicate = Self.graphError {
            let x = Input(shape: [3], name: "x")
            _ = try Network(inputs: [x], outputs: [Dense(outputCount: 3, name: "d")(Dense(outputCount: 3, name: "d")(x))])
        }
        #expect(duplicate == "node 'd': two nodes have this name")
    }

    // MARK: - Declarative description

    static let description = """
        {"inputs": [{"name": "image", "shape": [6, 6, 3]}],
         "nodes": [
           {"name": "head", "kind": "dense", "units": 2, "inputs": ["pool"]},
           {"name": "a", "kind": "conv2d", "filters": 4, "kernel_size": [3, 3], "padding": "same", "activation": "relu", "inputs": ["image"]},
           {"name": "b", "kind": "conv2d", "filters": 4, "kernel_size": [3, 3], "padding": "same", "inputs": ["a"]},
           {"name": "sum", "kind": "add", "inputs": ["a", "b"]},
           {"name": "pool", "kind": "global_average_pooling2d", "inputs": ["sum"]}],
         "outputs": ["head"]}
        """

    @Test func descriptionBuildsTheSameNetwork() throws {
        let described = try JSONDecoder().decode(NetworkDescription.self, from: Data(Self.description.utf8))
        let fromJSON = try Network(description: described, seed: 1)
        let functional = try Self.residual(seed: 1)
        #expect(fromJSON.nodeNames == functional.nodeNames)
        #expect(fromJSON.snapshots == functional.snapshots)
        let x = try tensor([2, 6, 6, 3], seed: 5)
        #expect(try fromJSON.predict(x) == functional.predict(x))
        // Round trip through JSON.
        let again = try JSONDecoder().decode(NetworkDescription.self, from: JSONEncoder().encode(described))
        #expect(again == described)
    }

    /// A network described as data and built again is the same network: the residual graph,
    /// a shared layer called twice (its second call `shares` the first), and a network cut
    /// from another (its input is the cut node).
    @Test func networkDescribesItself() throws {
        let functional = try Self.residual(seed: 1)
        let described = try functional.networkDescription()
        let decoded = try JSONDecoder().decode(NetworkDescription.self, from: Data(Self.description.utf8))
        #expect(Set(described.nodes.map(\.name)) == Set(decoded.nodes.map(\.name)))
        #expect(try Network(description: described, seed: 1).snapshots == functional.snapshots)

        let shared = Dense(outputCount: 3, activation: .tanh, name: "shared")
        let x = Input(shape: [3], name: "x")
        let y = Dense(outputCount: 2, name: "head")(Add(name: "sum")([shared(shared(x)), shared(x)]))
        let net = try Network(inputs: [x], outputs: [y], seed: 2)
        let sharing = try net.networkDescription()
        #expect(sharing.nodes.filter { $0.shares == "shared" }.map(\.name) == ["shared@1", "shared@2"])
        let rebuilt = try Network(description: sharing, seed: 9)
        #expect(rebuilt.variables.map(\.name) == net.variables.map(\.name))
        try rebuilt.assign(net.snapshots)
        let input = try tensor([4, 3], seed: 3)
        #expect(try rebuilt.predict(input) == net.predict(input))

        let cut = try Network(inputs: [functional.tensor(named: "sum")], outputs: functional.outputTensors)
        let head = try cut.networkDescription()
        #expect(head.inputs == [.init(name: "sum", shape: [6, 6, 4])])
        #expect(head.nodes.map(\.name) == ["pool", "head"])
    }

    /// Inference passes hold the largest step's feature maps within ¾ of the last-level cache:
    /// MobileNetV2's 112×112 expansion (16 → 96 channels, 5.6 MB a sample) runs 4 images at a
    /// time with a 32 MiB cache; small networks run the whole batch; the outputs do not change.
    @Test func inferencePassesFitTheCache() throws {
        #expect(InferenceMicroBatch.parseSize("32768K") == 32 << 20)
        #expect(InferenceMicroBatch.parseSize("1M") == 1 << 20)
        #expect(InferenceMicroBatch.parseSize("") == nil)
        #expect(InferenceMicroBatch.samples(workingSetFloatsPerSample: 112 * 112 * (16 + 96), limit: 32, cacheBytes: 32 << 20) == 4)
        #expect(InferenceMicroBatch.samples(workingSetFloatsPerSample: 112 * 112 * (16 + 96), limit: 32, cacheBytes: 1 << 20) == 1)
        #expect(InferenceMicroBatch.samples(workingSetFloatsPerSample: 784 + 300, limit: 256, cacheBytes: 32 << 20) == 256)
        let net = try Self.residual()
        // The largest step: a (6·6·3 in, 6·6·4 out) or the fused b + sum (6·6·4 in, 6·6·4 addend, 6·6·4 out).
        #expect(net.largestStepWorkingSet(net.plan(training: false)) == 3 * 36 * 4)
        let x = try tensor([8, 6, 6, 3], seed: 7)
        let whole = try net.predict(x)
        let single = try net.predict(x, batchSize: 1)
        #expect(zip(whole.scalars, single.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * (1 + abs($1)) })
    }

    @Test func descriptionErrors() throws {
        func build(_ nodes: String, outputs: String = "[\"c\"]") -> String? {
            Self.graphError {
                let json = "{\"inputs\": [{\"name\": \"x\", \"shape\": [3]}], \"nodes\": [\(nodes)], \"outputs\": \(outputs)}"
                _ = try Network(description: JSONDecoder().decode(NetworkDescription.self, from: Data(json.utf8)))
            }
        }
        #expect(build("""
            {"name": "a", "kind": "add", "inputs": ["x", "c"]}, {"name": "b", "kind": "dense", "units": 3, "inputs": ["a"]},
            {"name": "c", "kind": "dense", "units": 3, "inputs": ["b"]}
            """) == "node 'a': the graph has a cycle: a → b → c → a")
        #expect(build("{\"name\": \"c\", \"kind\": \"dense\", \"units\": 3, \"inputs\": [\"missing\"]}")
                == "node 'c': takes 'missing', which no node or input defines (known: x, c)")
        #expect(build("{\"name\": \"c\", \"kind\": \"dense\", \"units\": 3, \"inputs\": [\"x\", \"x\"]}")
                == "node 'c': dense takes one input, the description gives 2")
        #expect(build("{\"name\": \"c\", \"kind\": \"lambda\", \"inputs\": [\"x\"]}")?.contains("unknown layer kind 'lambda'") == true)
    }
}
