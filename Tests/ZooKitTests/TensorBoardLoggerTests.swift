import Foundation
import Testing
import ZooKit

/// What `FineTuner` and `TensorBoardLogger` log: every metric at every epoch (step), in Keras'
/// layout, once — also when a run continues from a checkpoint after the logs went further.
@Suite struct TensorBoardLoggerTests {
    /// Scalars by "split tag" and histograms' steps by tag, from every event file of a run.
    struct Logged {
        var scalars: [String: [(step: Int64, value: Float)]] = [:]
        var histogramSteps: [String: [Int64]] = [:]
        var restarts: [Int64] = []

        init(run: String) throws {
            for split in ["train", "validation"] {
                for file in EventFileReader.eventFiles(in: run + "/" + split) {
                    for event in try EventFileReader.events(at: file) {
                        switch event.content {
                        case .summary(let values):
                            for value in values {
                                switch value.value {
                                case .scalar(let scalar): scalars[split + " " + value.tag, default: []].append((event.step, scalar))
                                case .histogram: histogramSteps[value.tag, default: []].append(event.step)
                                case .other: break
                                }
                            }
                        case .sessionLog(.start): restarts.append(event.step)
                        default: break
                        }
                    }
                }
            }
        }

        func values(_ tag: String) -> [Float] { scalars[tag]?.map(\.value) ?? [] }
        func steps(_ tag: String) -> [Int64] { scalars[tag]?.map(\.step) ?? [] }
    }

    func setup() throws -> (TemporaryRegistry, PretrainedModel, TransferOptions, LabeledData, LabeledData) {
        let temporary = try TemporaryRegistry()
        let pretrained = try PretrainedModel.load(try temporary.importSeed())
        var options = TransferOptions()
        options.head = .new(classes: 3)
        options.freeze = "hidden[12]|bn"
        return (temporary, pretrained, options, blobs(classes: 3, perClass: 10, width: 20, seed: 6), blobs(classes: 3, perClass: 4, width: 20, seed: 7))
    }

    @Test func everyMetricAtEveryEpochInKerasLayout() throws {
        let (temporary, pretrained, transferOptions, training, validation) = try setup()
        defer { temporary.remove() }
        var options = FineTuneOptions()
        options.epochs = 5
        options.batchSize = 8
        options.unfreezeAfter = 2
        options.checkpoint = temporary.root + "/run.safetensors"
        options.tensorBoard = TensorBoardOptions(directory: temporary.root + "/logs", histograms: true)
        let transfer = try TransferNetwork.build(from: pretrained, options: transferOptions)
        let result = try FineTuner.run(transfer, training: training, validation: validation, options: options)
        let run = try #require(result.tensorBoardRun)
        let name = URL(fileURLWithPath: run).lastPathComponent
        #expect(name.hasPrefix("seed-") && name.count == "seed-20261121-143005".count)
        #expect(try TensorArchive.open(options.checkpoint!).metadata["zoo_tensorboard_run"] == name)

        let logged = try Logged(run: run)
        #expect(Set(logged.scalars.keys) == ["train epoch_loss", "train epoch_accuracy", "train epoch_learning_rate", "train epoch_phase",
                                             "validation epoch_loss", "validation epoch_accuracy"])
        for tag in logged.scalars.keys { #expect(logged.steps(tag) == [0, 1, 2, 3, 4], "\(tag)") }
        #expect(logged.values("train epoch_loss") == result.epochs.map { Float($0.loss) })
        #expect(logged.values("train epoch_accuracy") == result.epochs.map { Float($0.accuracy ?? -1) })
        #expect(logged.values("validation epoch_loss") == result.epochs.map { Float($0.validationLoss ?? -1) })
        #expect(logged.values("validation epoch_accuracy") == result.epochs.map { Float($0.validationAccuracy ?? -1) })
        #expect(logged.values("train epoch_phase") == [1, 1, 2, 2, 2])
        #expect(logged.values("train epoch_learning_rate") == [0.001, 0.001, 0.001, 0.001, 0.001])
        // A histogram of every variable of the whole network (the cached bottom's too) at every epoch.
        #expect(Set(logged.histogramSteps.keys) == Set(transfer.network.variables.map { $0.name + "/histogram" }))
        for steps in logged.histogramSteps.values { #expect(steps == [0, 1, 2, 3, 4]) }
        #expect(logged.restarts.isEmpty)
    }

    /// The worst case of a kill: the logs reached an epoch the checkpoint does not hold (and end
    /// in a torn record). The resumed run cuts that off, marks its restart, and logs each epoch
    /// once — with exactly the values of an uninterrupted run.
    @Test func resumedRunCutsStaleEpochsAndLogsEachOnce() throws {
        let (temporary, pretrained, transferOptions, training, validation) = try setup()
        defer { temporary.remove() }
        var options = FineTuneOptions()
        options.epochs = 5
        options.batchSize = 8
        options.tensorBoard = TensorBoardOptions(directory: temporary.root + "/logs", runName: "uninterrupted")
        let reference = try FineTuner.run(try TransferNetwork.build(from: pretrained, options: transferOptions),
                                          training: training, validation: validation, options: options)

        options.tensorBoard = TensorBoardOptions(directory: temporary.root + "/logs")
        options.checkpoint = temporary.root + "/run.safetensors"
        options.epochs = 3
        let first = try FineTuner.run(try TransferNetwork.build(from: pretrained, options: transferOptions),
                                      training: training, validation: validation, options: options)
        let run = try #require(first.tensorBoardRun)
        // As if killed while logging epoch 4, after logging epoch 3 that no checkpoint holds.
        let file = try #require(EventFileReader.eventFiles(in: run + "/train").first)
        let stale = TFRecord.frame(TensorBoardEvent(wallTime: 1, step: 3, content: .summary([.scalar("epoch_loss", 99)])).serialized)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(stale + stale.prefix(9)))
        try handle.close()

        options.epochs = 5
        options.resume = true
        let resumed = try FineTuner.run(try TransferNetwork.build(from: pretrained, options: transferOptions),
                                        training: training, validation: validation, options: options)
        #expect(resumed.resumedFromEpoch == 2)
        #expect(resumed.tensorBoardRun == run)  // the same run folder, found through the checkpoint
        let logged = try Logged(run: run)
        let uninterrupted = try Logged(run: try #require(reference.tensorBoardRun))
        #expect(logged.restarts == [3, 3])
        #expect(Set(logged.scalars.keys) == Set(uninterrupted.scalars.keys))
        for tag in logged.scalars.keys {
            #expect(logged.steps(tag) == [0, 1, 2, 3, 4], "\(tag)")
            #expect(logged.values(tag) == uninterrupted.values(tag), "\(tag)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.root + "/logs").count == 2)
    }

    /// Keras' `callbacks=[TensorBoard(log_dir)]` on a plain `fit`.
    @Test func loggerOnAPlainFit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let network = try Sequential(inputShape: [20], layers: [Dense(outputCount: 3, name: "dense")], seed: 1)
        let data = blobs(classes: 3, perClass: 6, width: 20, seed: 2)
        let logger = TensorBoardLogger(run: try TensorBoardRun(directory: folder + "/fit"), histograms: true)
        let history = try network.fit(try data.dataset(), loss: .softmaxCrossEntropy, optimizer: try SGD(learningRate: 0.1),
                                      epochs: 3, batchSize: 6, callbacks: [logger])
        let logged = try Logged(run: folder + "/fit")
        #expect(logged.values("train epoch_loss") == history.map { Float($0.loss) })
        #expect(logged.steps("train epoch_loss") == [0, 1, 2])
        #expect(logged.scalars["train epoch_phase"] == nil)
        #expect(EventFileReader.eventFiles(in: folder + "/fit/validation").isEmpty)  // no validation data, no folder
        #expect(logged.histogramSteps == ["dense/kernel/histogram": [0, 1, 2], "dense/bias/histogram": [0, 1, 2]])
    }

    @Test(arguments: [
        (TensorBoardOptions(directory: ""), ZooKitError.invalidSetting(.tensorBoard, problem: "needs a folder")),
        (TensorBoardOptions(directory: "logs", runName: "a/b"), .invalidSetting(.tensorBoard, problem: "run name 'a/b' must be one folder name")),
    ])
    func badOptions(tensorBoard: TensorBoardOptions, expected: ZooKitError) throws {
        var options = FineTuneOptions()
        options.tensorBoard = tensorBoard
        #expect(throws: expected) { try options.validate() }
    }
}
