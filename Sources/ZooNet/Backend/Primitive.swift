import CDNNL

/// A oneDNN primitive and its descriptor, owned: created once for a set of shapes, run many
/// times, destroyed with this object.
///
/// Creation goes through oneDNN's own primitive cache as well (same descriptor, same
/// primitive), but ZooNet keeps the primitives it built per batch size in the layers, so a
/// training step looks nothing up.
final class Primitive {
    let descriptor: dnnl_primitive_desc_t
    let handle: dnnl_primitive_t
    /// What it computes, with shapes, for error messages (`convolution forward …`).
    let name: String

    /// Creates the primitive for an operation descriptor (`dnnl_convolution_desc_t`, …);
    /// `hint` is the forward primitive a backward one belongs to. `avoiding` names
    /// implementations (oneDNN's `impl_info_str`) to pass over when another one exists —
    /// for kernels known to be wrong in this oneDNN version.
    convenience init<OperationDescriptor>(
        _ operation: OperationDescriptor, attributes: PrimitiveAttributes? = nil, hint: Primitive? = nil, name: String,
        avoiding avoided: ((String) -> Bool)? = nil
    ) throws {
        var operation = operation
        let engine = try OneDNN.engine()
        let attributes = try attributes ?? PrimitiveAttributes()
        var iterator: dnnl_primitive_desc_iterator_t?
        let status = withUnsafePointer(to: &operation) { op in
            dnnl_primitive_desc_iterator_create(&iterator, UnsafeRawPointer(op), attributes.handle, engine, hint?.descriptor)
        }
        try OneDNN.check(status, name)
        guard let iterator else { throw ZooNetError.backend(operation: name, status: "no primitive descriptor") }
        defer { dnnl_primitive_desc_iterator_destroy(iterator) }
        // The first implementation oneDNN offers (its best), unless it is one to avoid.
        var chosen = dnnl_primitive_desc_iterator_fetch(iterator)
        if let avoided, let first = chosen, avoided(Primitive.implementation(of: first)) {
            while dnnl_primitive_desc_iterator_next(iterator) == dnnl_success {
                guard let next = dnnl_primitive_desc_iterator_fetch(iterator) else { break }
                if !avoided(Primitive.implementation(of: next)) {
                    dnnl_primitive_desc_destroy(first)
                    chosen = next
                    break
                }
                dnnl_primitive_desc_destroy(next)
            }
        }
        guard let descriptor = chosen else { throw ZooNetError.backend(operation: name, status: "no primitive descriptor") }
        try self.init(descriptor: descriptor, name: name)
    }

    static func implementation(of descriptor: dnnl_primitive_desc_t) -> String {
        var text: UnsafePointer<CChar>?
        _ = withUnsafeMutablePointer(to: &text) { dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, $0) }
        return text.map { String(cString: $0) } ?? "unknown"
    }

    /// A reorder from one layout to another (e.g. Keras HWIO weights into a convolution's
    /// blocked layout, or its weight gradient back).
    convenience init(reorderFrom source: MemoryDescriptor, to target: MemoryDescriptor, name: String) throws {
        var descriptor: dnnl_primitive_desc_t?
        let engine = try OneDNN.engine()
        var source = source.raw, target = target.raw
        let attributes = try PrimitiveAttributes()
        let status = dnnl_reorder_primitive_desc_create(&descriptor, &source, engine, &target, engine, attributes.handle)
        try OneDNN.check(status, "reorder for \(name)")
        guard let descriptor else { throw ZooNetError.backend(operation: "reorder for \(name)", status: "no primitive descriptor") }
        try self.init(descriptor: descriptor, name: "reorder for \(name)")
    }

    private init(descriptor: dnnl_primitive_desc_t, name: String) throws {
        var handle: dnnl_primitive_t?
        let status = dnnl_primitive_create(&handle, descriptor)
        guard status == dnnl_success, let handle else {
            dnnl_primitive_desc_destroy(descriptor)
            throw ZooNetError.backend(operation: name, status: OneDNN.describe(status))
        }
        self.descriptor = descriptor
        self.handle = handle
        self.name = name
    }

    deinit {
        dnnl_primitive_destroy(handle)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The layout the primitive chose for one of its arguments (`dnnl_query_weights_md`, …).
    func memory(_ query: dnnl_query_t, index: Int32 = 0) throws -> MemoryDescriptor {
        guard let md = dnnl_primitive_desc_query_md(descriptor, query, index) else {
            throw ZooNetError.backend(operation: name, status: "no memory descriptor for query \(query.rawValue)")
        }
        return MemoryDescriptor(raw: md.pointee)
    }

    /// oneDNN's name of the implementation it picked (`jit:avx2`, `jit_1x1:avx512_core`, …).
    var implementation: String { Primitive.implementation(of: descriptor) }
}

/// A primitive with its argument memories created once; each run binds the buffers of the
/// moment (`bind`) and executes. Nothing is allocated per run.
///
/// Each bound primitive owns its scratchpad (oneDNN's temporary memory; the primitives are
/// made in user scratchpad mode) and its stream: Debian builds oneDNN without
/// `DNNL_ENABLE_CONCURRENT_EXEC`, so the library's shared scratchpad would be written by two
/// primitives running at once on different threads (two networks used concurrently). Measured:
/// a 1×1 stride-2 convolution's weight gradient came out wrong in about one test run in three
/// while other tests ran, never with private scratchpads.
final class BoundPrimitive {
    let primitive: Primitive
    private var memories: [dnnl_memory_t]
    private var arguments: [dnnl_exec_arg_t]
    private let scratchpad: FloatBuffer?
    private let stream: dnnl_stream_t

    /// `arguments`: the oneDNN argument kinds (`DNNL_ARG_SRC`, …) and the layout of each, in
    /// the order `bind(_:_:)` numbers them.
    init(_ primitive: Primitive, arguments: [(kind: Int32, layout: MemoryDescriptor)]) throws {
        self.primitive = primitive
        let engine = try OneDNN.engine()
        var memories: [dnnl_memory_t] = []
        for argument in arguments {
            var memory: dnnl_memory_t?
            var layout = argument.layout.raw
            let status = dnnl_memory_create(&memory, &layout, engine, nil)  // DNNL_MEMORY_NONE: bound per run
            guard status == dnnl_success, let memory else {
                for m in memories { dnnl_memory_destroy(m) }
                throw ZooNetError.backend(operation: "memory for \(primitive.name)", status: OneDNN.describe(status))
            }
            memories.append(memory)
        }
        var bound = zip(arguments, memories).map { dnnl_exec_arg_t(arg: $0.kind, memory: $1) }
        // The primitive's own scratchpad, bound once.
        let scratchLayout = try primitive.memory(dnnl_query_scratchpad_md)
        if scratchLayout.byteCount > 0 {
            let buffer = FloatBuffer(count: scratchLayout.floatCount)
            var memory: dnnl_memory_t?
            var layout = scratchLayout.raw
            let status = dnnl_memory_create(&memory, &layout, engine, buffer.pointer)
            guard status == dnnl_success, let memory else {
                for m in memories { dnnl_memory_destroy(m) }
                throw ZooNetError.backend(operation: "scratchpad for \(primitive.name)", status: OneDNN.describe(status))
            }
            memories.append(memory)
            bound.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory))
            scratchpad = buffer
        } else {
            scratchpad = nil
        }
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        guard status == dnnl_success, let stream else {
            for m in memories { dnnl_memory_destroy(m) }
            throw ZooNetError.backend(operation: "stream for \(primitive.name)", status: OneDNN.describe(status))
        }
        self.stream = stream
        self.memories = memories
        self.arguments = bound
    }

    deinit {
        for m in memories { dnnl_memory_destroy(m) }
        dnnl_stream_destroy(stream)
    }

    /// Points argument `index` at `pointer` for the next run.
    @inline(__always)
    func bind(_ index: Int, _ pointer: UnsafeRawPointer) {
        OneDNN.record(dnnl_memory_set_data_handle(memories[index], UnsafeMutableRawPointer(mutating: pointer)),
                      "binding argument \(index) of \(primitive.name)")
    }

    /// Runs the primitive on the bound buffers (on the calling thread's OpenMP team).
    func run() {
        WorkerPool.shared.prepareCallingThread()
        let status = arguments.withUnsafeBufferPointer { args in
            dnnl_primitive_execute(primitive.handle, stream, Int32(args.count), args.baseAddress)
        }
        OneDNN.record(status, primitive.name)
    }
}

/// Primitive attributes: post-operations fused into a primitive's output (an activation, a
/// sum with the destination's previous contents for residual additions).
final class PrimitiveAttributes {
    let handle: dnnl_primitive_attr_t
    private let postOps: dnnl_post_ops_t

    /// Attributes in user scratchpad mode (see `BoundPrimitive`).
    init() throws {
        var attr: dnnl_primitive_attr_t?
        try OneDNN.check(dnnl_primitive_attr_create(&attr), "primitive attributes")
        guard let created = attr else { throw ZooNetError.backend(operation: "primitive attributes", status: "none created") }
        let mode = dnnl_primitive_attr_set_scratchpad_mode(created, dnnl_scratchpad_mode_user)
        guard mode == dnnl_success else {
            dnnl_primitive_attr_destroy(created)
            throw ZooNetError.backend(operation: "scratchpad mode", status: OneDNN.describe(mode))
        }
        var ops: dnnl_post_ops_t?
        try OneDNN.check(dnnl_post_ops_create(&ops), "post-ops")
        guard let attr, let ops else { throw ZooNetError.backend(operation: "primitive attributes", status: "none created") }
        handle = attr
        postOps = ops
    }

    deinit {
        dnnl_post_ops_destroy(postOps)
        dnnl_primitive_attr_destroy(handle)
    }

    /// Appends `dst = alg(dst; alpha, beta)`.
    func appendEltwise(_ algorithm: dnnl_alg_kind_t, alpha: Float = 0, beta: Float = 0) throws {
        try OneDNN.check(dnnl_post_ops_append_eltwise(postOps, 1, algorithm, alpha, beta), "eltwise post-op")
        try OneDNN.check(dnnl_primitive_attr_set_post_ops(handle, postOps), "setting post-ops")
    }

    /// Appends `activation`'s eltwise post-ops (none for linear or one oneDNN lacks).
    func append(_ activation: Activation) throws {
        for op in activation.postOps ?? [] { try appendEltwise(op.algorithm, alpha: op.alpha, beta: op.beta) }
    }

    /// Appends `dst = dst_new + scale · dst_old` (the destination's previous contents).
    func appendSum(scale: Float = 1) throws {
        try OneDNN.check(dnnl_post_ops_append_sum(postOps, scale), "sum post-op")
        try OneDNN.check(dnnl_primitive_attr_set_post_ops(handle, postOps), "setting post-ops")
    }
}
