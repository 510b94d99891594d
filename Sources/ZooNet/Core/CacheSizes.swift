import Foundation

/// Cache sizes of the machine: the caches sysfs lists for CPU 0, each overridable from the
/// environment.
enum Cache {
    /// The last-level cache's size (sizes inference passes, `InferenceMicroBatch`):
    /// `ZOONET_CACHE_BYTES`, else the largest cache listed, else 32 MiB.
    static let lastLevelBytes: Int =
        environmentBytes("ZOONET_CACHE_BYTES") ?? listed.map(\.bytes).max() ?? 32 << 20

    /// The L2 cache's size (sizes depth-first stripes and whole-map runs, `DepthFirstBlock`): `ZOONET_L2_BYTES`,
    /// else the level-2 data or unified cache listed, else 512 KiB.
    static let level2Bytes: Int =
        environmentBytes("ZOONET_L2_BYTES") ?? listed.first { $0.level == 2 && $0.type != "Instruction" }?.bytes ?? 512 << 10

    /// `/sys/devices/system/cpu/cpu0/cache/index*`: level, type (`Data`, `Instruction`,
    /// `Unified`) and size of each cache (none where sysfs has no such files).
    private static let listed: [(level: Int, type: String, bytes: Int)] = (0..<8).compactMap { index in
        let directory = "/sys/devices/system/cpu/cpu0/cache/index\(index)"
        func read(_ name: String) -> String? {
            (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let size = read("size"), let bytes = InferenceMicroBatch.parseSize(size), bytes > 0 else { return nil }
        return (Int(read("level") ?? "") ?? 0, read("type") ?? "", bytes)
    }

    private static func environmentBytes(_ name: String) -> Int? {
        guard let text = getenv(name), let bytes = Int(String(cString: text)), bytes > 0 else { return nil }
        return bytes
    }
}
