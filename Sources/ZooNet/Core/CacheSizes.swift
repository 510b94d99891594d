import Foundation

/// Cache sizes of the machine (CPU 0, from sysfs).
enum Cache {
    /// The L2 cache's size: `ZOONET_L2_BYTES`, else the unified or data cache of level 2 sysfs
    /// lists for CPU 0, else 512 KiB.
    static let level2Bytes: Int = {
        if let text = getenv("ZOONET_L2_BYTES"), let bytes = Int(String(cString: text)), bytes > 0 { return bytes }
        for index in 0..<8 {
            let directory = "/sys/devices/system/cpu/cpu0/cache/index\(index)"
            guard let level = try? String(contentsOfFile: "\(directory)/level", encoding: .utf8),
                  level.trimmingCharacters(in: .whitespacesAndNewlines) == "2",
                  let type = try? String(contentsOfFile: "\(directory)/type", encoding: .utf8),
                  type.trimmingCharacters(in: .whitespacesAndNewlines) != "Instruction",
                  let size = try? String(contentsOfFile: "\(directory)/size", encoding: .utf8),
                  let bytes = InferenceMicroBatch.parseSize(size.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0
            else { continue }
            return bytes
        }
        return 512 << 10
    }()
}
