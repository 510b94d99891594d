import Foundation
import Testing
import ZooFormat
@testable import ZooKit

/// Keras configs that cannot be a network give one clear error naming the layer, at parse or
/// build time: a missing inbound layer, a cycle, a node index past a layer's calls, a `Lambda`,
/// nesting deeper than the bound, JSON deeper than the parser's bound.
@Suite struct KerasGraphErrorTests {
    /// A Keras 2 Functional config: an input `in` of shape [4], then `layers` (JSON objects).
    static func functional(_ layers: [String], outputs: String = "[[\"d\", 0, 0]]") -> String {
        let input = """
            {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_input_shape": [null, 4]}, "inbound_nodes": []}
            """
        return """
            {"class_name": "Functional", "config": {"name": "m", "layers": [\((([input] + layers)).joined(separator: ", "))],
             "input_layers": [["in", 0, 0]], "output_layers": \(outputs)}}
            """
    }

    /// A Keras 2 layer entry of `className` named `name` taking `inbound` (`[["in", 0, 0, {}]]`).
    static func layer(_ className: String, _ name: String, _ inbound: String, config: String = "\"units\": 2") -> String {
        """
        {"class_name": "\(className)", "name": "\(name)", "config": {"name": "\(name)", \(config)}, "inbound_nodes": [\(inbound)]}
        """
    }

    /// The parse error of `json`, in words (nil if it parses).
    static func parseError(_ json: String) throws -> String? {
        let value = try JSONParser.parse(json)
        do { _ = try KerasGraph(value) } catch { return error.description }
        return nil
    }

    @Test func aMissingInboundLayerIsNamed() throws {
        let json = Self.functional([Self.layer("Dense", "d", "[[\"ghost\", 0, 0, {}]]")])
        #expect(try Self.parseError(json) == "layer 'd': takes 'ghost', which is not a layer of m")
    }

    @Test func aCycleIsNamedInOrder() throws {
        let json = Self.functional([
            Self.layer("Add", "a", "[[\"in\", 0, 0, {}], [\"c\", 0, 0, {}]]", config: "\"trainable\": true"),
            Self.layer("Dense", "b", "[[\"a\", 0, 0, {}]]"),
            Self.layer("Dense", "c", "[[\"b\", 0, 0, {}]]"),
            Self.layer("Dense", "d", "[[\"c\", 0, 0, {}]]"),
        ])
        #expect(try Self.parseError(json) == "layer 'a': the graph has a cycle: a → c → b → a")
    }

    @Test func aNodeIndexPastTheCallsIsNamed() throws {
        let json = Self.functional([
            Self.layer("Dense", "b", "[[\"in\", 0, 0, {}]]"),
            Self.layer("Dense", "d", "[[\"b\", 3, 0, {}]]"),
        ])
        #expect(try Self.parseError(json) == "layer 'd': takes 'b' at node index 3, but 'b' is called 1 time")
    }

    @Test func anOutputNobodyComputesIsNamed() throws {
        let json = Self.functional([Self.layer("Dense", "d", "[[\"in\", 0, 0, {}]]")], outputs: "[[\"d\", 2, 0]]")
        #expect(try Self.parseError(json) == "layer 'm': its output 'd' [2, 0] is not computed by any layer")
    }

    @Test func aLambdaIsRefusedByName() throws {
        let json = Self.functional([
            Self.layer("Lambda", "lambda_1", "[[\"in\", 0, 0, {}]]", config: "\"function\": [\"4wEAAAAAAAAA\", null, null]"),
            Self.layer("Dense", "d", "[[\"lambda_1\", 0, 0, {}]]"),
        ])
        let graph = try KerasGraph(JSONParser.parse(json))
        do {
            _ = try KerasModelImporter.description(of: graph)
            Issue.record("a Lambda layer was accepted")
        } catch let ZooKitError.unsupportedLayers(list) {
            #expect(list.description.hasPrefix("unsupported layers: Lambda ×1 (lambda_1): a Lambda layer holds Python code"))
        }
    }

    @Test func nestingBeyondTheBoundIsRefused() throws {
        // A Sequential inside a Sequential … 40 deep, a Dense at the bottom.
        var model = """
            {"class_name": "Sequential", "config": {"name": "s40", "layers": [
              {"class_name": "InputLayer", "config": {"name": "i40", "batch_input_shape": [null, 4]}},
              {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}
            """
        for depth in stride(from: 39, through: 0, by: -1) {
            model = """
                {"class_name": "Sequential", "config": {"name": "s\(depth)", "layers": [
                  {"class_name": "InputLayer", "config": {"name": "i\(depth)", "batch_input_shape": [null, 4]}}, \(model)]}}
                """
        }
        let error = try #require(try Self.parseError(model))
        #expect(error.hasSuffix("models nested more than \(KerasGraph.maximumNesting) deep"), "\(error)")
    }

    @Test func jsonDeeperThanTheParserBoundIsRefused() {
        let json = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { _ = try JSONParser.parse(json) }
    }
}
