/// Which TensorFlow checkpoint variables are optimizer state rather than model
/// weights, by the names TensorFlow gives them:
///
///     hidden1/kernel/Adam, hidden1/kernel/Adam_1     tf.compat.v1.train.AdamOptimizer slots
///     beta1_power, beta2_power, global_step          its accumulators and the step counter
///     …/Momentum, …/RMSProp, …/RMSProp_1, …/Adagrad, …/Ftrl, …/Ftrl_1
///     optimizer/…/.ATTRIBUTES/VARIABLE_VALUE         TF2 object-based: anything the optimizer tracks
///     …/.OPTIMIZER_SLOT/optimizer/m/…                TF2 slots attached to a variable
///     save_counter/.ATTRIBUTES/VARIABLE_VALUE        tf.train.Checkpoint's own counter
enum TFVariableRole {
    static let slotNames: Set<String> = [
        "Adam", "AdamW", "Adamax", "Nadam", "LazyAdam", "Momentum", "RMSProp", "Adagrad", "AdagradDA",
        "Adadelta", "Ftrl", "ProximalAdagrad", "ProximalGradientDescent",
    ]
    static let counters = ["beta1_power", "beta2_power", "global_step", "save_counter"]

    /// `"optimizer"` for optimizer state, nil for model weights.
    static func role(of name: String) -> String? {
        let objectSuffix = "/.ATTRIBUTES/VARIABLE_VALUE"
        let bare = name.hasSuffix(objectSuffix) ? String(name.dropLast(objectSuffix.count)) : name
        let components = bare.split(separator: "/").map(String.init)
        if name.contains("/.OPTIMIZER_SLOT/") || components.first == "optimizer" { return "optimizer" }
        guard let last = components.last else { return nil }
        if counters.contains(where: { last == $0 || last.hasPrefix($0 + "_") }) { return "optimizer" }
        if components.count > 1, slotNames.contains(withoutNumericSuffix(last)) { return "optimizer" }
        return nil
    }

    /// `Adam_1` → `Adam`.
    private static func withoutNumericSuffix(_ component: String) -> String {
        guard let underscore = component.lastIndex(of: "_") else { return component }
        let digits = component[component.index(after: underscore)...]
        return !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) ? String(component[..<underscore]) : component
    }
}
