import CHDF5

#if canImport(Glibc)
import Glibc
#endif

/// Writes tensors as HDF5 through libhdf5, in one of three layouts:
///
/// - `.plain`: one dataset per tensor at `/NAME` (groups from `/`), as
///   `f["hidden1/kernel"] = a` in h5py;
/// - `.keras2`: the tf-keras `save_weights("w.h5")` layout (`@layer_names`,
///   `LAYER/@weight_names`, datasets `LAYER/LAYER/WEIGHT:0`), loadable with
///   `model.load_weights("w.h5")` for the same architecture;
/// - `.keras3`: the Keras 3 `save_weights("w.weights.h5")` layout
///   (`layers/CLASS[_N]/vars/I`, `vars/@name` = the layer's name).
///
/// The file is written under a temporary name and renamed into place.
public enum HDF5Writer {
    /// Where the datasets go and which attributes say what they are.
    public enum Layout: Sendable {
        /// One dataset per tensor at `/NAME`, as h5py's `f["hidden1/kernel"] = a`.
        case plain
        /// tf-keras' `save_weights("w.h5")` layout.
        case keras2
        /// Keras 3's `save_weights("w.weights.h5")` layout.
        case keras3
        /// The `model.weights.h5` member of a Keras 3 `.keras` file: every layer of the model
        /// (weightless ones too), in Keras' layer order, at `layers/CLASS[_N]/vars/I`
        /// (`CLASS` the snake-case Keras class, `N` counting that class in this order), and
        /// `vars/@name` the model's name. The tensors of `layers` are ignored.
        case keras3Model(name: String, layers: [KerasLayerWeights])
        /// A tf-keras full-model `.h5` (what `tf_keras.models.load_model` reads): the model
        /// config JSON in `@model_config` (a variable-length string), the weighted layers in
        /// Keras' order under `/model_weights` (`@layer_names`, `LAYER/@weight_names`,
        /// `LAYER/LAYER/WEIGHT:0`). The tensors of `layers` are ignored.
        case keras2Model(config: String, layers: [KerasLayerWeights])
    }

    /// Writes `tensors` to `path` in `layout`, atomically (a temporary file, then a rename).
    /// - Parameters:
    ///   - tensors: the tensors; Keras layouts need names `layer/weight`.
    ///   - path: the file to write.
    ///   - layout: where the datasets go.
    ///   - metadata: string attributes of the root group (`.plain` only).
    /// - Throws: ``FormatError`` with `.cannotRepresent` for a name the layout has no place for,
    ///   `.writeFailed` or `.library` when libhdf5 fails.
    public static func write(_ tensors: [StoredTensor], to path: String, layout: Layout, metadata: [String: String] = [:]) throws {
        let temporary = try reserveTemporaryPath(beside: path)
        var committed = false
        defer { if !committed { unlink(temporary) } }
        try HDF5File.wrap(path) {
            try HDF5.locked {
                let file = try HDF5Handle.open("H5Fcreate") {
                    H5Fcreate(temporary, zoo_h5f_acc_trunc(), zoo_h5p_default(), zoo_h5p_default())
                }
                let writer = Writer(file: file, destination: path)
                switch layout {
                case .plain: try writer.writePlain(tensors, metadata: metadata)
                case .keras2: try writer.writeKeras2(tensors)
                case .keras3: try writer.writeKeras3(tensors)
                case let .keras3Model(name, layers): try writer.writeKeras3Model(name: name, layers: layers)
                case let .keras2Model(config, layers): try writer.writeKeras2Model(config: config, layers: layers)
                }
                try HDF5.check("H5Fflush", H5Fflush(file.id, H5F_SCOPE_GLOBAL))
            }
        }
        // The handle is closed here (released above); make the data durable, then rename.
        let descriptor = open(temporary, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        let mask = umask(0)
        umask(mask)
        chmod(temporary, 0o666 & ~mask)
        guard rename(temporary, path) == 0 else {
            throw FormatError(file: path, .writeFailed(message: "rename: \(systemMessage(errno))"))
        }
        committed = true
    }

    /// A fresh temporary file beside `path`, closed: libhdf5 opens it by name.
    private static func reserveTemporaryPath(beside path: String) throws -> String {
        let (temporary, descriptor) = try AtomicFile.createTemporary(beside: path)
        close(descriptor)
        return temporary
    }

    /// The writing itself; every method runs inside `HDF5.locked`.
    private struct Writer {
        let file: HDF5Handle
        let destination: String

        func writePlain(_ tensors: [StoredTensor], metadata: [String: String]) throws {
            for tensor in tensors {
                try writeDataset(tensor, at: "/" + tensor.name)
            }
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                try writeStrings([value], named: key, on: "/", scalar: true)
            }
        }

        /// Keras files hold `layer/weight` variables; a bare name has no layer.
        private func requireLayerNames(_ tensors: [StoredTensor], _ layout: String) throws {
            if let bare = tensors.first(where: { !$0.name.contains("/") }) {
                throw FormatError(file: destination, .cannotRepresent(what: "'\(bare.name)' in a \(layout) weights file", why: "Keras variables are named layer/weight (rename them with ConvertOptions.renames, or write .npz, .safetensors or plain HDF5)"))
            }
        }

        func writeKeras2(_ tensors: [StoredTensor]) throws {
            try requireLayerNames(tensors, "Keras 2")
            let layers = groupedByLayer(tensors)
            try writeStrings(layers.map(\.layer), named: "layer_names", on: "/")
            try writeStrings(["tensorflow"], named: "backend", on: "/", scalar: true)
            try writeStrings(["2.15.0"], named: "keras_version", on: "/", scalar: true)
            for (layer, members) in layers {
                try createGroup("/" + layer)
                try writeStrings(members.map { $0.name + ":0" }, named: "weight_names", on: "/" + layer)
                for tensor in members {
                    try writeDataset(tensor, at: "/\(layer)/\(tensor.name):0")
                }
            }
        }

        func writeKeras3(_ tensors: [StoredTensor]) throws {
            try requireLayerNames(tensors, "Keras 3")
            var counters: [String: Int] = [:]
            try createGroup("/layers")
            try createGroup("/vars")
            for (layer, members) in groupedByLayer(tensors) {
                let variables = members.map { String($0.name.dropFirst(layer.count + 1)) }
                let className = Keras3Naming.className(variables: variables, kernelRank: members.first?.shape.count ?? 0)
                let counter = counters[className, default: 0]
                counters[className] = counter + 1
                let group = "/layers/" + (counter == 0 ? className : "\(className)_\(counter)")
                try createGroup(group + "/vars")
                try writeStrings([layer], named: "name", on: group + "/vars", scalar: true)
                for (index, tensor) in Keras3Naming.ordered(members, layer: layer).enumerated() {
                    try writeDataset(tensor, at: "\(group)/vars/\(index)")
                }
            }
        }

        func writeKeras3Model(name: String, layers: [KerasLayerWeights]) throws {
            var counters: [String: Int] = [:]
            try createGroup("/layers")
            for layer in layers {
                let className = Keras3Naming.snakeCase(layer.className)
                let counter = counters[className, default: 0]
                counters[className] = counter + 1
                let group = "/layers/" + (counter == 0 ? className : "\(className)_\(counter)")
                try createGroup(group + "/vars")
                try writeStrings([layer.name], named: "name", on: group + "/vars", scalar: true)
                for (index, tensor) in layer.weights.enumerated() {
                    try writeDataset(tensor, at: "\(group)/vars/\(index)")
                }
            }
            try createGroup("/vars")
            try writeStrings([name], named: "name", on: "/vars", scalar: true)
        }

        func writeKeras2Model(config: String, layers: [KerasLayerWeights]) throws {
            try writeVariableString(config, named: "model_config", on: "/")
            for object in ["/", "/model_weights"] {
                if object != "/" { try createGroup(object) }
                try writeStrings(["tensorflow"], named: "backend", on: object, scalar: true)
                try writeStrings(["2.15.0"], named: "keras_version", on: object, scalar: true)
            }
            let weighted = layers.filter { !$0.weights.isEmpty }
            try writeStrings(weighted.map(\.name), named: "layer_names", on: "/model_weights")
            for layer in weighted {
                let group = "/model_weights/" + layer.name
                try createGroup(group)
                try writeStrings(layer.weights.map { $0.name + ":0" }, named: "weight_names", on: group)
                for tensor in layer.weights {
                    try writeDataset(tensor, at: "\(group)/\(tensor.name):0")
                }
            }
        }

        /// A scalar variable-length UTF-8 string attribute (h5py's `str`), which has no 64 KiB limit.
        private func writeVariableString(_ value: String, named name: String, on objectPath: String) throws {
            let type = try HDF5Handle.open("zoo_h5t_variable_string") { zoo_h5t_variable_string() }
            let space = try HDF5Handle.open("H5Screate") { H5Screate(H5S_SCALAR) }
            let attribute = try HDF5Handle.open("H5Acreate_by_name(\(name))") {
                H5Acreate_by_name(file.id, objectPath, name, type.id, space.id, zoo_h5p_default(), zoo_h5p_default(), zoo_h5p_default())
            }
            let status = value.withCString { text -> herr_t in
                var pointer: UnsafePointer<CChar>? = text
                return withUnsafePointer(to: &pointer) { H5Awrite(attribute.id, type.id, $0) }
            }
            try HDF5.check("H5Awrite(\(name))", status)
        }

        /// Tensors grouped by layer (the name up to its last `/`), layers in first-seen order.
        private func groupedByLayer(_ tensors: [StoredTensor]) -> [(layer: String, members: [StoredTensor])] {
            var order: [String] = []
            var groups: [String: [StoredTensor]] = [:]
            for tensor in tensors {
                let layer = tensor.name.lastIndex(of: "/").map { String(tensor.name[..<$0]) } ?? tensor.name
                if groups[layer] == nil { order.append(layer) }
                groups[layer, default: []].append(tensor)
            }
            return order.map { ($0, groups[$0]!) }
        }

        private func createGroup(_ path: String) throws {
            let properties = try HDF5Handle.open("H5Pcreate") { H5Pcreate(zoo_h5p_link_create()) }
            try HDF5.check("H5Pset_create_intermediate_group", H5Pset_create_intermediate_group(properties.id, 1))
            _ = try HDF5Handle.open("H5Gcreate2(\(path))") { H5Gcreate2(file.id, path, properties.id, zoo_h5p_default(), zoo_h5p_default()) }
        }

        private func writeDataset(_ tensor: StoredTensor, at path: String) throws {
            let type = try fileType(for: tensor)
            let space: HDF5Handle
            if tensor.shape.isEmpty {
                space = try HDF5Handle.open("H5Screate") { H5Screate(H5S_SCALAR) }
            } else {
                let dims = tensor.shape.map { hsize_t($0) }
                space = try HDF5Handle.open("H5Screate_simple") { H5Screate_simple(Int32(dims.count), dims, nil) }
            }
            let properties = try HDF5Handle.open("H5Pcreate") { H5Pcreate(zoo_h5p_link_create()) }
            try HDF5.check("H5Pset_create_intermediate_group", H5Pset_create_intermediate_group(properties.id, 1))
            let dataset = try HDF5Handle.open("H5Dcreate2(\(path))") {
                H5Dcreate2(file.id, path, type.id, space.id, properties.id, zoo_h5p_default(), zoo_h5p_default())
            }
            guard tensor.elementCount > 0 else { return }
            let bytes = try tensor.canonicalBytes()
            let status = bytes.withUnsafeBytes { buffer in
                H5Dwrite(dataset.id, type.id, zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer.baseAddress)
            }
            try HDF5.check("H5Dwrite(\(path))", status)
        }

        /// The little-endian HDF5 type for a tensor's dtype (bool as h5py's enum).
        private func fileType(for tensor: StoredTensor) throws -> HDF5Handle {
            let make: () -> hid_t
            switch tensor.dtype {
            case .bool: make = { zoo_h5t_bool_enum() }
            case .int8: make = { H5Tcopy(zoo_h5t_std_i8le()) }
            case .int16: make = { H5Tcopy(zoo_h5t_std_i16le()) }
            case .int32: make = { H5Tcopy(zoo_h5t_std_i32le()) }
            case .int64: make = { H5Tcopy(zoo_h5t_std_i64le()) }
            case .uint8: make = { H5Tcopy(zoo_h5t_std_u8le()) }
            case .uint16: make = { H5Tcopy(zoo_h5t_std_u16le()) }
            case .uint32: make = { H5Tcopy(zoo_h5t_std_u32le()) }
            case .uint64: make = { H5Tcopy(zoo_h5t_std_u64le()) }
            case .float16: make = { zoo_h5t_small_float(10, 5, 15) }
            case .bfloat16: make = { zoo_h5t_small_float(7, 8, 127) }
            case .float32: make = { H5Tcopy(zoo_h5t_ieee_f32le()) }
            case .float64: make = { H5Tcopy(zoo_h5t_ieee_f64le()) }
            case .opaque(let name, _, _):
                throw FormatError(file: destination, .cannotRepresent(what: "'\(tensor.name)' (\(name))", why: "HDF5 output supports the numeric dtypes only"))
            }
            return try HDF5Handle.open("H5Tcopy") { make() }
        }

        /// Writes fixed-length, null-padded strings (numpy `S` arrays, as Keras 2 stores names).
        private func writeStrings(_ values: [String], named name: String, on objectPath: String, scalar: Bool = false) throws {
            let encoded = values.map { Array($0.utf8) }
            let width = max(1, encoded.map(\.count).max() ?? 1)
            var bytes = [UInt8](repeating: 0, count: width * max(encoded.count, 1))
            for (index, value) in encoded.enumerated() {
                bytes.replaceSubrange(index * width..<index * width + value.count, with: value)
            }
            let type = try HDF5Handle.open("H5Tcopy") { H5Tcopy(zoo_h5t_c_s1()) }
            try HDF5.check("H5Tset_size", H5Tset_size(type.id, width))
            try HDF5.check("H5Tset_strpad", H5Tset_strpad(type.id, H5T_STR_NULLPAD))
            let space: HDF5Handle
            if scalar {
                space = try HDF5Handle.open("H5Screate") { H5Screate(H5S_SCALAR) }
            } else {
                var dims = [hsize_t(values.count)]
                space = try HDF5Handle.open("H5Screate_simple") { H5Screate_simple(1, &dims, nil) }
            }
            let attribute = try HDF5Handle.open("H5Acreate_by_name(\(name))") {
                H5Acreate_by_name(file.id, objectPath, name, type.id, space.id, zoo_h5p_default(), zoo_h5p_default(), zoo_h5p_default())
            }
            try HDF5.check("H5Awrite(\(name))", H5Awrite(attribute.id, type.id, bytes))
        }
    }
}

/// How Keras 3 names the groups of layers and orders their variables.
enum Keras3Naming {
    /// The snake-case class name Keras 3 uses for a layer's group, guessed
    /// from its variables: `kernel`+`bias` of rank 2 → `dense`, rank 4 → `conv2d`, ….
    static func className(variables: [String], kernelRank: Int) -> String {
        let names = Set(variables)
        if names.contains("moving_mean") || names.contains("moving_variance") { return "batch_normalization" }
        if names.contains("depthwise_kernel") { return names.contains("pointwise_kernel") ? "separable_conv2d" : "depthwise_conv2d" }
        if names.contains("kernel") {
            switch kernelRank {
            case 3: return "conv1d"
            case 4: return "conv2d"
            case 5: return "conv3d"
            default: return "dense"
            }
        }
        if names == ["gamma", "beta"] { return "layer_normalization" }
        if names == ["alpha"] { return "p_re_lu" }
        if names == ["embeddings"] { return "embedding" }
        return "layer"
    }

    /// Keras 3's `naming.to_snake_case`: `Conv2D` → `conv2d`, `PReLU` → `p_re_lu`,
    /// `BatchNormalization` → `batch_normalization`, `ZeroPadding2D` → `zero_padding2d`.
    static func snakeCase(_ name: String) -> String {
        // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name), then re.sub("([a-z])([A-Z])", r"\1_\2", …), lower().
        let characters = Array(name.filter { $0.isLetter || $0.isNumber || $0 == "_" })
        var first: [Character] = []
        var i = 0
        while i < characters.count {
            if i > 0, characters[i].isUppercase, i + 1 < characters.count, characters[i + 1].isLowercase {
                first.append("_")
                first.append(characters[i])
                i += 1
                while i < characters.count, characters[i].isLowercase { first.append(characters[i]); i += 1 }
                continue
            }
            first.append(characters[i])
            i += 1
        }
        var result = ""
        for (k, c) in first.enumerated() {
            if k > 0, c.isUppercase, first[k - 1].isLowercase, first[k - 1].isASCII { result.append("_") }
            result.append(c)
        }
        return result.lowercased()
    }

    /// Keras' own variable order within a layer.
    static let canonicalOrder = ["depthwise_kernel", "pointwise_kernel", "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "alpha", "embeddings"]

    static func ordered(_ members: [StoredTensor], layer: String) -> [StoredTensor] {
        members.enumerated().sorted { a, b in
            let nameA = String(a.element.name.dropFirst(layer.count + 1))
            let nameB = String(b.element.name.dropFirst(layer.count + 1))
            let rankA = canonicalOrder.firstIndex(of: nameA) ?? canonicalOrder.count
            let rankB = canonicalOrder.firstIndex(of: nameB) ?? canonicalOrder.count
            return (rankA, a.offset) < (rankB, b.offset)
        }.map(\.element)
    }
}
