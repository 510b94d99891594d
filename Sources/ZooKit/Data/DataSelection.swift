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
    /// Seeds the sampling.
    public var seed: UInt64

    /// A selection; the defaults keep every sample, no validation split.
    /// - Parameters:
    ///   - classes: the classes to keep, in the order of their new labels.
    ///   - perClass: training samples per class.
    ///   - validationPerClass: validation samples per class, held out first.
    ///   - validationSplit: or this fraction held out.
    ///   - seed: seeds the sampling.
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

    /// Checks every value and combination.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for classes that repeat or are
    ///   negative, a count that is not positive, a split outside (0, 1), or both kinds of validation split.
    public func validate() throws {
        if let classes, classes.isEmpty || Set(classes).count != classes.count || classes.contains(where: { $0 < 0 }) {
            throw ZooKitError.invalidSetting(.classes, problem: "must be distinct non-negative class numbers, not \(classes)")
        }
        if let perClass, perClass <= 0 { throw ZooKitError.invalidSetting(.perClass, problem: "must be positive, not \(perClass)") }
        if let validationPerClass, validationPerClass < 0 {
            throw ZooKitError.invalidSetting(.validationPerClass, problem: "must not be negative, not \(validationPerClass)")
        }
        if let validationSplit {
            guard validationSplit > 0 && validationSplit < 1 else {
                throw ZooKitError.invalidSetting(.validationSplit, problem: "must be between 0 and 1, not \(validationSplit)")
            }
            if validationPerClass != nil { throw ZooKitError.settingsConflict(.validationSplit, .validationPerClass) }
        }
    }

    /// Applies the filter and sampling: (training, validation), labels remapped to 0…N−1 in the order of `classes`.
    /// - Parameter data: the samples to choose from.
    /// - Returns: the training samples, and the validation samples if a validation split was asked for.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for invalid settings (see `validate()`)
    ///   or a class with fewer samples than asked for; ``ZooKitError/invalidRequest(_:)`` for a kept class with no samples.
    public func apply(to data: LabeledData) throws -> (training: LabeledData, validation: LabeledData?) {
        try validate()
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
                    throw ZooKitError.invalidSetting(.validationPerClass, problem: "\(validationPerClass): class \(kept[new]) of \(data.source) has only \(shuffled.count) samples")
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
                    throw ZooKitError.invalidSetting(.perClass, problem: "\(perClass): class \(kept[new]) of \(data.source) has only \(shuffled.count - start) samples left")
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
