import Foundation
import Testing
@testable import ZooNet

@Suite struct ScheduleTests {
    struct Fixtures: Decodable { let schedules: [String: [Float]] }

    static let keras: [String: [Float]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/zoonet/fixtures.json")
        guard let data = try? Data(contentsOf: url),
              let f = try? JSONDecoder().decode(Fixtures.self, from: data) else { return [:] }
        return f.schedules
    }()

    @Test func matchKerasSchedules() throws {
        let schedules: [String: any LearningRateSchedule] = [
            "exponential": try ExponentialDecay(initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5),
            "exponential_staircase": try ExponentialDecay(initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true),
            "piecewise": try PiecewiseConstantDecay(boundaries: [2, 5, 8], values: [1.0, 0.5, 0.25, 0.125]),
            "inverse_time": try PowerDecay.inverseTime(initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5),
            "inverse_time_staircase": try PowerDecay.inverseTime(initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5, staircase: true),
        ]
        #expect(Self.keras.count == schedules.count)
        for (name, expected) in Self.keras {
            let schedule = try #require(schedules[name])
            let actual = (0..<expected.count).map { schedule.learningRate(at: $0) }
            #expect(closeness(actual, expected, relative: 1e-6) <= 1, "\(name)")
        }
    }

    @Test func powerScheduling() throws {
        let s = try PowerDecay(initialLearningRate: 0.01, decaySteps: 10, power: 2)
        #expect(s.learningRate(at: 0) == 0.01)
        #expect(abs(s.learningRate(at: 10) - 0.0025) < 1e-9)
    }

    @Test func oneCycleShape() throws {
        let s = try OneCycle(totalSteps: 100, maxLearningRate: 0.1)
        // last = 11 steps, half = 44: 0.01 -> 0.1 (step 44) -> 0.01 (step 88) -> 1e-5 (step 100)
        #expect(abs(s.learningRate(at: 0) - 0.01) < 1e-7)
        #expect(abs(s.learningRate(at: 44) - 0.1) < 1e-7)
        #expect(abs(s.learningRate(at: 22) - 0.055) < 1e-7)
        #expect(abs(s.learningRate(at: 88) - 0.01) < 1e-7)
        #expect(abs(s.learningRate(at: 100) - 1e-5) < 1e-9)
        #expect(throws: ZooNetError.self) { try OneCycle(totalSteps: 0, maxLearningRate: 1) }
    }

    @Test func optimizerUsesScheduleAtIterations() throws {
        let net = try Sequential(inputShape: [2], layers: [Dense(outputCount: 1, name: "d")])
        let piecewise = try PiecewiseConstantDecay(boundaries: [0], values: [1, 0.5])
        let sgd = try SGD(learningRate: 0, schedule: piecewise)
        let data = try Dataset(inputs: Tensor(rows: [[1, 0]]), labels: .values(Tensor(rows: [[0]])))
        try net.assign("d/kernel", values: [1, 0])
        try net.assign("d/bias", values: [0])
        // loss (w·x)², gradient 2w = 2 at step 0 with lr 1: w = 1 − 2 = −1.
        try net.trainStep(data, loss: .meanSquaredError, optimizer: sgd)
        #expect(try net.variable(named: "d/kernel").values == [-1, 0])
        #expect(sgd.iterations == 1 && sgd.currentLearningRate == 0.5)
    }
}
