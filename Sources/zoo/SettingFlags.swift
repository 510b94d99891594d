import ZooKit

/// The flag that sets each library setting, so library errors read in the command line's terms
/// ("--freeze '[' is not a valid regular expression" rather than "TransferOptions.freeze …").
func flag(for setting: ZooKitError.Setting) -> String {
    switch setting {
    case .head: "--new-head"
    case .reuseThrough: setting.description  // no flag: a library-only setting
    case .dropLayers: "--drop-layers"
    case .freeze: "--freeze"
    case .freezeBelow: "--freeze-below"
    case .dropout: "--dropout"
    case .batchNormMomentum: "--bn-momentum"
    case .l1: "--l1"
    case .l2: "--l2"
    case .optimizer: "--optimizer"
    case .learningRate: "--lr"
    case .momentum: "--momentum"
    case .decaySteps: "--decay-steps"
    case .decayRate: "--decay-rate"
    case .clipValue: "--clip-value"
    case .clipNorm: "--clip-norm"
    case .globalClipNorm: "--clip-global-norm"
    case .epochs: "--epochs"
    case .batchSize: "--batch-size"
    case .patience: "--patience"
    case .unfreezeAfter: "--unfreeze-after"
    case .unfreeze: "--unfreeze"
    case .unfreezeLearningRate: "--unfreeze-lr"
    case .checkpoint: "--checkpoint"
    case .resume: "--resume"
    case .tensorBoard: "--tensorboard"
    case .classes: "--classes"
    case .perClass: "--per-class"
    case .validationPerClass: "--val-per-class"
    case .validationSplit: "--val-split"
    case .partial: "--partial"
    case .scope: "--scope"
    case .name: "--name"
    case .architectureSource: "--arch FILE (a Keras model or config, or a manifest) or --like NAME"
    case .inputShape: "--input-shape"
    case .labels: "--labels"
    case .classifierHead: "--head"
    case .layout: "--layout"
    case .mappingRules: "--map"
    case .force: "--force"
    }
}

/// A library error in the command line's words: settings named by their flags, and the
/// command that fixes what only a command can fix.
func commandLineMessage(_ error: ZooKitError) -> String {
    switch error {
    case .weightsNotFetched(let model):
        "\(model): the weights are not downloaded yet: run `zoo fetch \(model)`"
    case .settingRequired(let setting, let reason):
        "\(reason): pass \(flag(for: setting))"
    default:
        error.message(naming: flag(for:))
    }
}
