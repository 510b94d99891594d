import ArgumentParser
import ZooFormat
import ZooKit
import ZooNet

import Foundation

/// Runs `body`, turning library errors into a one-line message on stderr and
/// the house exit code (65 malformed input, 66 missing input, 73 unwritable output, 64 bad arguments).
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as FormatError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as TensorRuleError {
        printError(error.description)
        throw ExitCode(64)
    } catch let error as ZooKitError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as ZooNetError {
        printError(error.description)
        throw ExitCode(65)
    }
}

func printError(_ message: String) {
    var stream = StandardError()
    print("zoo: error: \(message)", to: &stream)
}

func printWarning(_ message: String) {
    var stream = StandardError()
    print("zoo: warning: \(message)", to: &stream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
