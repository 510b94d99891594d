/// A value of the symbolic pickle machine (`PickleMachine`): Python data as the
/// pickle describes it, with references to globals kept as names, never resolved
/// to code. Lists and dicts are reference types because pickles mutate them after
/// memoizing them (`APPENDS`, `SETITEMS` on a memoized object).
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for `Int`, kept as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A reference to an allowlisted global, by module and name (nothing is imported).
    case global(module: String, name: String)
    /// A torch storage from a persistent id: its element type and where its bytes are.
    case storage(TorchStorageRef)
    /// A tensor: a view of a storage.
    case tensor(TorchTensorRef)
    /// An allowlisted object whose contents Zoo has no use for (a `torch.device`, a dtype, …).
    case object(String)

    /// The value as Python would print it, bounded in depth and length.
    var pythonDescription: String {
        var text = ""
        describe(into: &text, depth: 0)
        return text
    }

    static let descriptionLimit = 400

    private func describe(into text: inout String, depth: Int) {
        guard text.count < PickleValue.descriptionLimit else { return }
        guard depth < 16 else {
            text += "…"
            return
        }
        func sequence(_ items: [PickleValue], _ open: String, _ close: String) {
            text += open
            for (index, item) in items.enumerated() {
                if index > 0 { text += ", " }
                if text.count >= PickleValue.descriptionLimit {
                    text += "…"
                    break
                }
                item.describe(into: &text, depth: depth + 1)
            }
            if open == "(" && items.count == 1 { text += "," }
            text += close
        }
        switch self {
        case .none: text += "None"
        case .bool(let value): text += value ? "True" : "False"
        case .int(let value): text += String(value)
        case .bigInt(let bytes): text += "<\(bytes.count * 8)-bit integer>"
        case .float(let value): text += value.isFinite ? String(value) : (value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf"))
        case .string(let value): text += "'" + value + "'"
        case .bytes(let value): text += "<\(value.count) bytes>"
        case .tuple(let items): sequence(items, "(", ")")
        case .list(let list): sequence(list.items, "[", "]")
        case .dict(let dict):
            text += "{"
            for (index, pair) in dict.items.enumerated() {
                if index > 0 { text += ", " }
                if text.count >= PickleValue.descriptionLimit {
                    text += "…"
                    break
                }
                pair.key.describe(into: &text, depth: depth + 1)
                text += ": "
                pair.value.describe(into: &text, depth: depth + 1)
            }
            text += "}"
        case .global(let module, let name): text += "\(module).\(name)"
        case .storage(let storage): text += "<storage \(storage.key)>"
        case .tensor(let tensor): text += "<tensor \(tensor.shape)>"
        case .object(let name): text += "<\(name)>"
        }
    }
}

/// A Python list (or set) under construction.
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A Python dict, in insertion order.
final class PickleDict {
    var items: [(key: PickleValue, value: PickleValue)] = []
    init() {}
}

/// A storage named by a persistent id: `('storage', torch.FloatStorage, '0', 'cpu', 12)`.
struct TorchStorageRef {
    let dtype: DType
    /// The storage's key: its zip member `data/<key>`, or its place in a legacy file.
    let key: String
    /// Its size in elements of `dtype`.
    let elementCount: Int
}

/// `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, …)`.
struct TorchTensorRef {
    let storage: TorchStorageRef
    /// In elements.
    let storageOffset: Int
    let shape: [Int]
    /// In elements.
    let strides: [Int]
}
