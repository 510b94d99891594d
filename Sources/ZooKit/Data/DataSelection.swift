import ZooNet

/// Which samples to use: a class filter (labels remapped to 0…N−1 in the
/// order given), per-class sampling, and a held-out validation split — all
/// seeded, so a run is reproducible.
public struct DataSelection: Sendable {
    /// The original classes to keep, in the order that defines the new labels (nil: all).
    public var classes: [Int]?
    /// At most this many training samples per class (nil: all).
    public var perClass: Int?
    /// Validation samples per class, taken before the training samples (disjoint).
    public var validationPerClass: Int?
    /// Or: this fraction of the selected samples for validation.
    public var validationSplit: Double?
    public var seed: UInt64

    public init(classes: [Int]? = nil, perClass: Int? = nil, validationPerClass: Int? = nil, validationSplit: Double? = nil, seed: UInt64 = 42) {
        self.classes = classes
        self.perClass = perClass
        self.validationPerClass = validationPerClass
        self.validationSplit = validationSplit
        self.seed = seed
    }

    /// Parses `5-9`, `0,2,4` or `0-2,7`.
    public static func parseClasses(_ text: String) -> [Int]? {
        var classes: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1:
                guard let value = bounds[0], value >= 0 else { return nil }
                classes.append(value)
            case 2:
                guard let low = bounds[0], let high = bounds[1], low >= 0, low <= high else { return nil }
                classes += Array(low...high)
            default: return nil
            }
        }
        return classes.isEmpty || Set(classes).count != classes.count ? nil : classes
    }

    /// The names of the classes kept by `classes`, in their new order (`names` indexed by original class).
    public static func names(_ names: [String], keeping classes: [Int]?) -> [String] {
        guard let classes else { return names }
        return classes.map { $0 < names.count ? names[$0] : String($0) }
    }

    /// Applies the filter and sampling: (training, validation), labels remapped.
    /// - Throws: `invalidRequest` for an empty class, or fewer samples than asked for.
    public func apply(to data: LabeledData) throws -> (training: LabeledData, validation: LabeledData?) {
        // Without a filter every label keeps its number (classes absent from the data stay empty).
        let kept = classes ?? Array(0...(data.labels.max() ?? 0))
        var remap: [Int: Int] = [:]
        for (new, old) in kept.enumerated() { remap[old] = new }
        var byClass = [[Int]](repeating: [], count: kept.count)
        for (index, label) in data.labels.enumerated() {
            if let new = remap[label] { byClass[new].append(index) }
        }
        if classes != nil, let empty = byClass.firstIndex(where: \.isEmpty) {
            throw ZooKitError.invalidRequest("\(data.source): class \(kept[empty]) has no samples")
        }
        var generator = SplitMix64(seed: seed)
        var training: [Int] = []
        var validation: [Int] = []
        for (new, indices) in byClass.enumerated() where !indices.isEmpty {
            var shuffled = indices
            if perClass != nil || validationPerClass != nil || validationSplit != nil { shuffled.shuffle(using: &generator) }
            var start = 0
            if let validationPerClass {
                guard validationPerClass <= shuffled.count else {
                    throw ZooKitError.invalidRequest("\(data.source): class \(kept[new]) has \(shuffled.count) samples, fewer than --val-per-class \(validationPerClass)")
                }
                validation += shuffled[0..<validationPerClass]
                start = validationPerClass
            } else if let validationSplit {
                let count = Int((Double(shuffled.count) * validationSplit).rounded())
                validation += shuffled[0..<count]
                start = count
            }
            var end = shuffled.count
            if let perClass {
                guard start + perClass <= shuffled.count else {
                    throw ZooKitError.invalidRequest("\(data.source): class \(kept[new]) has \(shuffled.count - start) samples left, fewer than --per-class \(perClass)")
                }
                end = start + perClass
            }
            training += shuffled[start..<end]
        }
        training.sort()
        validation.sort()
        func remapped(_ indices: [Int]) -> LabeledData {
            var subset = data.subset(indices)
            subset.labels = subset.labels.map { remap[$0]! }
            return subset
        }
        return (remapped(training), validation.isEmpty ? nil : remapped(validation))
    }
}
