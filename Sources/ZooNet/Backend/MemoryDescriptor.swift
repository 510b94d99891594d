import CDNNL

/// A oneDNN memory descriptor: logical dimensions, element type float32 and a layout.
///
/// oneDNN names dimensions logically, whatever the layout: activations `(N, C, H, W)`,
/// weights `(O, I, H, W)` or, grouped, `(G, O/G, I/G, H, W)`. ZooNet's own layouts are given by
/// element strides: NHWC activations `(N, C, H, W)` with strides `(H·W·C, 1, W·C, C)`, Keras
/// HWIO kernels `(O, I, H, W)` with strides `(1, O, kw·I·O, I·O)`. A primitive may prefer a
/// blocked layout for its weights (`any`); ZooNet then reorders into it once per update.
struct MemoryDescriptor {
    var raw: dnnl_memory_desc_t

    /// Dimensions `dims` laid out with element strides `strides` (same count, at most 12).
    static func strided(_ dims: [Int], strides: [Int], context: @autoclosure () -> String) throws -> MemoryDescriptor {
        var raw = dnnl_memory_desc_t()
        let status = withDims(dims) { d in
            withDims(strides) { s in dnnl_memory_desc_init_by_strides(&raw, Int32(dims.count), d, dnnl_f32, s) }
        }
        try OneDNN.check(status, "memory descriptor \(dims) strides \(strides) for \(context())")
        return MemoryDescriptor(raw: raw)
    }

    /// Dense row-major (C order) dimensions: the last dimension varies fastest.
    static func rowMajor(_ dims: [Int], context: @autoclosure () -> String) throws -> MemoryDescriptor {
        try strided(dims, strides: rowMajorStrides(dims), context: context())
    }

    /// NHWC activations of `[n, h, w, c]` (logical `(N, C, H, W)`).
    static func nhwc(batch n: Int, height h: Int, width w: Int, channels c: Int,
                     context: @autoclosure () -> String) throws -> MemoryDescriptor {
        try strided([n, c, h, w], strides: [h * w * c, 1, w * c, c], context: context())
    }

    /// Layout left to the primitive (`dnnl_format_tag_any`).
    static func any(_ dims: [Int], context: @autoclosure () -> String) throws -> MemoryDescriptor {
        var raw = dnnl_memory_desc_t()
        let status = withDims(dims) { d in
            dnnl_memory_desc_init_by_tag(&raw, Int32(dims.count), d, dnnl_f32, dnnl_format_tag_any)
        }
        try OneDNN.check(status, "memory descriptor \(dims) (any layout) for \(context())")
        return MemoryDescriptor(raw: raw)
    }

    /// Bytes a buffer of this layout needs (blocked layouts may pad).
    var byteCount: Int { withUnsafePointer(to: raw) { dnnl_memory_desc_get_size($0) } }

    /// Floats a buffer of this layout needs.
    var floatCount: Int { (byteCount + 3) / 4 }

    /// Whether two descriptors describe the same layout (then no reorder is needed).
    func sameLayout(as other: MemoryDescriptor) -> Bool {
        withUnsafePointer(to: raw) { a in withUnsafePointer(to: other.raw) { b in dnnl_memory_desc_equal(a, b) != 0 } }
    }

    static func rowMajorStrides(_ dims: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: dims.count)
        var step = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[i] = step
            step *= Swift.max(dims[i], 1)
        }
        return strides
    }
}

/// Calls `body` with `values` as a `dnnl_dims_t` (12 signed 64-bit integers; unused ones 0).
@inline(__always)
func withDims<R>(_ values: [Int], _ body: (UnsafePointer<dnnl_dim_t>) -> R) -> R {
    var dims: dnnl_dims_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &dims) { raw in
        let pointer = raw.bindMemory(to: dnnl_dim_t.self)
        for (i, value) in values.prefix(Int(DNNL_MAX_NDIMS)).enumerated() { pointer[i] = dnnl_dim_t(value) }
        return body(UnsafePointer(pointer.baseAddress!))
    }
}
