import ArgumentParser
import ZooKit

/// MODEL as `fine-tune`, `evaluate` and `predict` take it.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A registered model, or a weights file (a Keras full-model .h5, .keras or an ONNX .onnx carries its architecture; other files need --arch or --like).")
    var model: String

    @Option(help: ArgumentHelp("Architecture for a weights-only MODEL file: a Keras model file, a Keras config JSON or a manifest; for predict also a built-in PyTorch architecture name (resnet18, mobilenet_v3_small, vgg11_bn, pnet, …).", valueName: "file|name"))
    var arch: String?

    @Option(help: ArgumentHelp("Architecture for a weights-only MODEL file: a registered model.", valueName: "name"))
    var like: String?

    @Flag(help: "Skip the SHA-256 check of registered weights.")
    var noVerify = false

    var reference: ModelReference {
        var reference = ModelReference(model, arch: arch, like: like)
        reference.verify = !noVerify
        return reference
    }
}

/// Which samples of a data set to use.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep only these classes, e.g. 5-9 or 0,2,4 (relabelled 0…N−1 in this order).", valueName: "list"))
    var classes: String?

    @Option(help: ArgumentHelp("Training samples per class (sampled with --seed).", valueName: "n"))
    var perClass: Int?

    @Option(help: ArgumentHelp("Validation samples per class, held out from the training data.", valueName: "n"))
    var valPerClass: Int?

    @Option(help: ArgumentHelp("Fraction of the training data held out for validation.", valueName: "fraction"))
    var valSplit: Double?

    @Option(help: "Seed for sampling, shuffling and initialization.")
    var seed: UInt64 = 42

    func validate() throws {
        if let classes, DataSelection.parseClasses(classes) == nil { throw ValidationError("--classes must look like 5-9 or 0,2,4 (distinct, non-negative), not '\(classes)'") }
    }

    var selection: DataSelection {
        DataSelection(classes: classes.flatMap(DataSelection.parseClasses), perClass: perClass, validationPerClass: valPerClass, validationSplit: valSplit, seed: seed)
    }

    /// The selection without sampling (class filter and relabelling only), for test and given validation sets.
    var filterOnly: DataSelection {
        DataSelection(classes: classes.flatMap(DataSelection.parseClasses), seed: seed)
    }

    /// Label names after the class filter.
    func labels(from names: [String]) -> [String] {
        DataSelection.names(names, keeping: classes.flatMap(DataSelection.parseClasses))
    }
}
