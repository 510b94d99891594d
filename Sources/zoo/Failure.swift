import ArgumentParser
import ZooFormat
import ZooKit
import ZooNet

import Foundation

/// Runs `body`, turning library errors into a one-line message on stderr (settings named by
/// their flags) and the house exit code (64 bad arguments, 65 malformed input, 66 missing
/// input, 69 download failed, 73 unwritable output).
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
        printError(commandLineMessage(error))
        throw ExitCode(error.exitCode)
    } catch let error as ZooNetError {
        printError(error.description)
        // A value out of range or a pattern is a bad argument; shapes that do not fit are bad input.
        switch error {
        case .invalidArgument, .invalidPattern: throw ExitCode(64)
        default: throw ExitCode(65)
        }
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
