import CZooKernels
import Testing
@testable import ZooNet

/// Max pooling against plain loops — the inference forward (`MaxPoolInference`: channel counts
/// that take its 32- and 8-channel pieces and the scalar tail) and the training forward with the
/// routed gradient (`MaxPoolTraining`) — for the paddings of both conventions; the AVX2 and
/// portable kernels bit for bit; the training passes against oneDNN's primitives; and the
/// gradient of an inference-mode forward (a vector-Jacobian product).
@Suite(.serialized) struct PoolingTests {
    static let geometries: [(Padding, Bool)] = [(.valid, false), (.same, false), (.valid, true), (.symmetric(1), false), (.symmetric(1), true)]

    @Test(arguments: geometries, [3, 45])
    func maxPoolingMatchesLoops(_ geometry: (Padding, Bool), _ c: Int) throws {
        let (padding, ceilMode) = geometry
        let (h, w, batch) = (8, 7, 2)
        let layer = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding, ceilMode: ceilMode)
        let net = try Sequential(inputShape: [h, w, c], layers: [layer])
        let g = try WindowGeometry(inputShape: [h, w, c], kernel: (3, 3), strides: (2, 2), padding: padding, ceilMode: ceilMode,
                                   layer: "pool")
        let x = try tensor([batch, h, w, c], seed: 21)
        let y = try net.predict(x)
        var expected = [Float](), routed = [Float](repeating: 0, count: x.count)
        for b in 0..<batch {
            for p in 0..<g.outputHeight {
                for q in 0..<g.outputWidth {
                    for k in 0..<c {
                        var best = -Float.infinity, arg = -1
                        for i in 0..<3 {
                            for j in 0..<3 {
                                let r = p * 2 - g.padTop + i, s = q * 2 - g.padLeft + j
                                guard r >= 0, r < h, s >= 0, s < w else { continue }
                                let index = ((b * h + r) * w + s) * c + k
                                if x.scalars[index] > best { best = x.scalars[index]; arg = index }
                            }
                        }
                        expected.append(best)
                        routed[arg] += 1
                    }
                }
            }
        }
        #expect(y.scalars == expected)
        zoo_kernels_force_portable(1)
        defer { zoo_kernels_force_portable(0) }
        #expect(try net.predict(x).scalars == expected)
        zoo_kernels_force_portable(0)
        // dLoss/dy = 1 everywhere (loss = Σy via MSE against y − ½): each input gets the count of windows it wins.
        let targets = try Tensor(shape: y.shape, scalars: y.scalars.map { $0 - Float(y.count) / 2 })
        let (_, dx) = try net.lossAndGradients(Dataset(inputs: x, labels: .values(targets)), loss: .meanSquaredError)
        let scale = dx.first { $0 != 0 }.map { $0 / (routed[dx.firstIndex { $0 != 0 }!]) } ?? 1
        #expect(zip(dx, routed).allSatisfy { abs($0 - $1 * scale) <= 1e-5 * max(1, abs($0)) })
    }

    /// A training step's loss and dLoss/dx through overlapping 3×3 stride-2 windows (a cell can win
    /// several; its gradients add) on ZooNet's own loops: the AVX2 and portable kernels bit for
    /// bit, oneDNN's primitives (`ComputeBackend.ownMaxPool` off) within rounding.
    @Test(arguments: geometries) func trainingPassesMatchOneDNN(_ geometry: (Padding, Bool)) throws {
        let (padding, ceilMode) = geometry
        let (h, w, c, batch) = (9, 8, 21, 3)
        let net = try Sequential(inputShape: [h, w, c], layers: [MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding,
                                                                             ceilMode: ceilMode)])
        let x = try tensor([batch, h, w, c], seed: 8)
        let y = try net.predict(x)
        let targets = try tensor(y.shape, seed: 9)
        let data = try Dataset(inputs: x, labels: .values(targets))
        let own = try net.lossAndGradients(data, loss: .meanSquaredError)
        #expect(own.inputGradient.contains { $0 != 0 })
        zoo_kernels_force_portable(1)
        let portable = try net.lossAndGradients(data, loss: .meanSquaredError)
        zoo_kernels_force_portable(0)
        #expect(portable.loss == own.loss)
        #expect(portable.inputGradient == own.inputGradient)
        let previous = ComputeBackend.ownMaxPool
        defer { ComputeBackend.ownMaxPool = previous }
        ComputeBackend.ownMaxPool = false
        let onednn = try net.lossAndGradients(data, loss: .meanSquaredError)
        #expect(onednn.loss == own.loss)
        #expect(closeness(onednn.inputGradient, own.inputGradient, relative: 1e-6, absolute: 1e-7) <= 1)
    }

    /// dLoss/dx of an inference-mode forward through max pooling: the layer, prepared for the
    /// backward pass, records the winners the routing reads (`MaxPoolTraining`, not `MaxPoolInference`).
    @Test func inferenceModeGradientRoutesToTheMaxima() throws {
        let (h, w, c) = (6, 6, 16)
        let net = try Sequential(inputShape: [h, w, c], layers: [MaxPooling2D(poolSize: (2, 2))])
        let x = try tensor([1, h, w, c], seed: 5)
        let ones = try Tensor(shape: [1, 3, 3, c], scalars: [Float](repeating: 1, count: 9 * c))
        let (y, gradients) = try net.vectorJacobianProduct([x], outputGradient: ones, training: false)
        #expect(y.scalars == (try net.predict(x)).scalars)
        var routed = [Float](repeating: 0, count: x.count)
        for p in 0..<3 {
            for q in 0..<3 {
                for k in 0..<c {
                    let cells = [(0, 0), (0, 1), (1, 0), (1, 1)].map { ((2 * p + $0.0) * w + 2 * q + $0.1) * c + k }
                    routed[cells.max { x.scalars[$0] < x.scalars[$1] }!] = 1
                }
            }
        }
        #expect(gradients[0].scalars == routed)
    }
}
