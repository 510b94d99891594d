/// Base of all optimizers, following Keras 3's `BaseOptimizer.apply`:
///
/// 1. gradient clipping, at most one of: `clipnorm` (per variable,
///    g ← g·c / max(‖g‖, c)), `global_clipnorm` (all g ← g·c / max(‖G‖, c), ‖G‖ the norm of
///    every gradient together), `clipvalue` (g ← clip(g, −c, c));
/// 2. decoupled weight decay if `weightDecay` is set: w ← w − w·wd·lr;
/// 3. the subclass update with `lr = schedule(iterations)` or the constant rate;
/// 4. `iterations += 1`.
///
/// Optimizer state ("slots", e.g. Adam's m and v) is allocated once per variable.
public class Optimizer {
    /// Base learning rate (used when `schedule` is nil; `ReduceLROnPlateau` adjusts it).
    public var learningRate: Float
    /// Optional per-step schedule evaluated at `iterations` (0-based, before the increment).
    public let schedule: (any LearningRateSchedule)?
    public let clipValue: Float?
    public let clipNorm: Float?
    public let globalClipNorm: Float?
    public let weightDecay: Float?
    /// Number of updates applied so far.
    public internal(set) var iterations = 0
    private var slotStorage: [ObjectIdentifier: [FloatBuffer]] = [:]

    init(learningRate: Float, schedule: (any LearningRateSchedule)?, clipValue: Float?, clipNorm: Float?,
         globalClipNorm: Float?, weightDecay: Float?) throws {
        guard learningRate >= 0 else { throw ZooNetError.invalidArgument("learning rate must be >= 0") }
        let clips = [clipValue, clipNorm, globalClipNorm].compactMap { $0 }
        guard clips.count <= 1 else {
            throw ZooNetError.invalidArgument("set at most one of clipValue, clipNorm, globalClipNorm")
        }
        guard clips.allSatisfy({ $0 > 0 }), (weightDecay ?? 0) >= 0 else {
            throw ZooNetError.invalidArgument("clipping thresholds must be > 0 and weight decay >= 0")
        }
        self.learningRate = learningRate
        self.schedule = schedule
        self.clipValue = clipValue
        self.clipNorm = clipNorm
        self.globalClipNorm = globalClipNorm
        self.weightDecay = weightDecay
    }

    /// The rate the next update will use.
    public var currentLearningRate: Float { schedule?.learningRate(at: iterations) ?? learningRate }

    /// Applies one update to every variable in `variables` using their `gradient` buffers
    /// (which are clipped in place).
    func apply(to variables: [Variable]) {
        clip(variables)
        let lr = currentLearningRate
        if let wd = weightDecay, wd > 0 {
            for v in variables {
                let w = v.value.pointer, factor = wd * lr
                for i in 0..<v.count { w[i] -= w[i] * factor }
            }
        }
        prepareStep()
        for v in variables {
            update(v, gradient: v.gradient.pointer, learningRate: lr)
            v.version &+= 1
        }
        iterations += 1
    }

    /// Hook for per-step optimizer state (Nadam's momentum-cache product).
    func prepareStep() {}

    /// Updates one variable; overridden by each optimizer.
    func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {}

    /// Slots per variable (Adam: m and v, …); `state(of:)` and `restore(_:for:)` check it.
    var slotCount: Int { 0 }

    /// Per-optimizer scalars carried across steps (saved with `state(of:)`); none by default.
    var scalarState: [String: Float] { [:] }

    /// Sets the scalars of `scalarState`. - Throws: `invalidArgument` for a name it does not have.
    func restoreScalars(_ scalars: [String: Float]) throws {
        if let unknown = scalars.keys.first {
            throw ZooNetError.invalidArgument("optimizer state: unknown scalar '\(unknown)' for \(type(of: self))")
        }
    }

    /// The slots `variable` has so far (empty before its first update).
    func existingSlots(of variable: Variable) -> [FloatBuffer] {
        slotStorage[ObjectIdentifier(variable)] ?? []
    }

    /// Replaces the slots of `variable` with `values` (one array of `variable.count` per slot).
    func setSlots(of variable: Variable, _ values: [[Float]]) {
        slotStorage[ObjectIdentifier(variable)] = values.map { FloatBuffer($0) }
    }

    /// The `count` slots of `variable`, created on first use filled with `initial`.
    func slots(_ variable: Variable, count: Int, initial: Float = 0) -> [FloatBuffer] {
        let key = ObjectIdentifier(variable)
        if let existing = slotStorage[key] { return existing }
        let created = (0..<count).map { _ in
            let buffer = FloatBuffer(count: variable.count)
            buffer.fill(initial, count: variable.count)
            return buffer
        }
        slotStorage[key] = created
        return created
    }

    private func clip(_ variables: [Variable]) {
        if let c = clipNorm {
            for v in variables {
                let g = v.gradient.pointer
                let norm = squaredNorm(g, v.count).squareRoot()
                let scale = c / Swift.max(norm, c)
                if scale < 1 { for i in 0..<v.count { g[i] *= scale } }
            }
        } else if let c = globalClipNorm {
            let norm = variables.reduce(Float(0)) { $0 + squaredNorm($1.gradient.pointer, $1.count) }.squareRoot()
            let scale = c * Swift.min(1 / norm, 1 / c)
            guard scale != 1 else { return }
            for v in variables { let g = v.gradient.pointer; for i in 0..<v.count { g[i] *= scale } }
        } else if let c = clipValue {
            for v in variables {
                let g = v.gradient.pointer
                for i in 0..<v.count { g[i] = Swift.min(Swift.max(g[i], -c), c) }
            }
        }
    }

    private func squaredNorm(_ g: UnsafePointer<Float>, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n { s += g[i] * g[i] }
        return s
    }
}
