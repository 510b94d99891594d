import Testing
import ZooFormat

/// The strict JSON parser used for safetensors headers.
@Suite struct JSONParserTests {
    @Test("valid documents parse to the expected values", arguments: [
        ("{}", JSONValue.object([])),
        (" [ ] ", .array([])),
        ("null", .null),
        ("true", .bool(true)),
        ("[false, null, 0, -0, 12, -3.5e+10, 1E2, 0.25]", .array([.bool(false), .null, .number("0"), .number("-0"), .number("12"), .number("-3.5e+10"), .number("1E2"), .number("0.25")])),
        (#""a\"b\\c\/d\b\f\n\r\t""#, .string("a\"b\\c/d\u{8}\u{C}\n\r\t")),
        (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")),
        ("\"é€😀\"", .string("é€😀")),
        (#"{"b": 1, "a": [2, {"c": "d"}]}"#, .object([("b", .number("1")), ("a", .array([.number("2"), .object([("c", .string("d"))])]))])),
        ("\t\n\r {\"k\" : \"v\" } \n", .object([("k", .string("v"))])),
    ] as [(String, JSONValue)])
    func valid(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test("invalid documents fail at the right byte with what was expected", arguments: [
        ("", 0, "a JSON value", "end of input"),
        ("{", 1, "a string key", "end of input"),
        ("{\"a\" 1}", 5, "':'", "'1'"),
        ("{\"a\": 1,}", 8, "a string key", "'}'"),
        ("[1 2]", 3, "',' or ']'", "'2'"),
        ("[1,]", 3, "a JSON value", "']'"),
        ("{'a': 1}", 1, "a string key", "'''"),
        ("01", 1, "end of input", "'1'"),
        ("1.", 2, "a digit after '.'", "end of input"),
        ("1e", 2, "a digit in the exponent", "end of input"),
        ("-", 1, "a digit", "end of input"),
        ("+1", 0, "a JSON value", "'+'"),
        ("tru", 0, "'true'", "'t'"),
        ("nul", 0, "'null'", "'n'"),
        ("NaN", 0, "a JSON value", "'N'"),
        ("\"abc", 4, "'\"' closing the string", "end of input"),
        ("\"a\nb\"", 2, "no control characters in a string", "byte 0A"),
        (#""\x""#, 2, "a valid escape", "'x'"),
        (#""\u12G4""#, 5, "4 hex digits", "'G'"),
        (#""\ud83d""#, 7, "a low surrogate", "'\"'"),
        (#""\ud83d\u0041""#, 13, "a low surrogate", "'\"'"),
        ("{} {}", 3, "end of input", "'{'"),
    ] as [(String, Int, String, String)])
    func invalid(_ text: String, _ offset: Int, _ expected: String, _ found: String) {
        let failure = #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        #expect(failure?.offset == offset, "\(text)")
        #expect(failure?.expected == expected, "\(text)")
        #expect(failure?.found == found, "\(text)")
    }

    @Test("bytes that are not UTF-8 inside a string are refused", arguments: [[0x22, 0xFF, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22]] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        let failure = bytes.withUnsafeBytes { raw in
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(raw) }
        }
        #expect(failure?.expected == "valid UTF-8 in a string")
    }

    @Test("nesting is bounded")
    func depth() throws {
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let failure = #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        #expect(failure?.offset == 128)
        #expect(failure?.expected == "nesting no deeper than 128")
        let fine = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
        // Thousands of levels fail cleanly instead of overflowing the stack.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(String(repeating: "[", count: 100_000)) }
        let shallow = Array("[[[1]]]".utf8)
        let limited = shallow.withUnsafeBytes { raw in
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(raw, maximumDepth: 2) }
        }
        #expect(limited?.offset == 2)
    }

    @Test("object members keep file order and duplicates")
    func memberOrder() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2, "z": 3}"#)
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "z"])
        #expect(value["z"] == .number("1"), "subscript returns the first")
    }

    @Test("numbers keep their text, so large integers stay exact")
    func numbers() throws {
        let value = try JSONParser.parse("[9007199254740993, 18446744073709551615, -9223372036854775808, 1.5]")
        let items = try #require(value.arrayValue)
        #expect(items[0].intValue == 9_007_199_254_740_993)
        #expect(items[1].intValue == nil, "beyond Int")
        #expect(items[1] == .number("18446744073709551615"))
        #expect(items[2].intValue == Int.min)
        #expect(items[3].intValue == nil)
        #expect(items[3].doubleValue == 1.5)
    }

    @Test("compact and pretty text parse back to the same value")
    func writerRoundTrip() throws {
        let value = JSONValue.object([
            ("name", .string("hidden1/kernel \"q\" \\ \n\t\u{1}é")),
            ("shape", .array([.integer(784), .integer(300)])),
            ("nested", .object([("empty", .array([])), ("none", .null), ("flag", .bool(false))])),
            ("values", .array((0..<20).map { .integer($0) })),
            ("x", .double(0.1)), ("y", .double(3)), ("z", .double(.nan)),
        ])
        #expect(try JSONParser.parse(value.compactText) == value)
        #expect(try JSONParser.parse(value.prettyText) == value)
        #expect(JSONValue.object([("shape", .array([.integer(2), .integer(3)]))]).compactText == #"{"shape":[2,3]}"#)
        #expect(JSONValue.double(3) == .number("3"))
        #expect(JSONValue.double(.infinity) == .null)
        #expect(JSONValue.string("\u{1}").compactText == #""\u0001""#)
    }
}
