#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Memory and CPU of a process, from /proc.
struct ProcessSnapshot: Sendable {
    var rssKiB: Int?
    var hwmKiB: Int?
    var anonKiB: Int?
    var fileKiB: Int?
    var threads: Int?
    /// utime + stime in clock ticks.
    var cpuTicks: Int?
    /// Voluntary + involuntary context switches summed over all threads.
    var contextSwitches: Int?

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func read(pid: Int32) -> ProcessSnapshot {
        var snapshot = ProcessSnapshot()
        if let status = readProcFile("/proc/\(pid)/status") {
            for line in status.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count >= 2 else { continue }
                switch parts[0] {
                case "VmRSS:": snapshot.rssKiB = Int(parts[1])
                case "VmHWM:": snapshot.hwmKiB = Int(parts[1])
                case "RssAnon:": snapshot.anonKiB = Int(parts[1])
                case "RssFile:": snapshot.fileKiB = Int(parts[1])
                case "Threads:": snapshot.threads = Int(parts[1])
                default: break
                }
            }
        }
        if let stat = readProcFile("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after "(comm)": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) {
                snapshot.cpuTicks = user + system
            }
        }
        snapshot.contextSwitches = contextSwitches(pid: pid)
        return snapshot
    }

    static func contextSwitches(pid: Int32) -> Int? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var total = 0
        for task in tasks {
            guard let status = readProcFile("/proc/\(pid)/task/\(task)/status") else { continue }
            for line in status.split(separator: "\n") {
                if line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                    total += Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
                }
            }
        }
        return total
    }

    /// CPU seconds between two snapshots.
    static func cpuSeconds(from before: ProcessSnapshot, to after: ProcessSnapshot) -> Double? {
        guard let start = before.cpuTicks, let end = after.cpuTicks else { return nil }
        return Double(end - start) / ticksPerSecond
    }

    /// Resident KiB per mapped file (anonymous memory as "[anon]"), largest first.
    static func residentByMapping(pid: Int32, limit: Int) -> [(name: String, kib: Int)] {
        guard let smaps = readProcFile("/proc/\(pid)/smaps") else { return [] }
        var totals: [String: Int] = [:]
        var current = "[anon]"
        for line in smaps.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = parts.first else { continue }
            if first.contains("-"), first.first?.isHexDigit == true {
                // address perms offset dev inode [path]
                current = parts.count >= 6 ? parts[5...].joined(separator: " ") : "[anon]"
                if current.hasPrefix("/") { current = String(current.split(separator: "/").last ?? "") }
            } else if first == "Rss:", parts.count >= 2, let kib = Int(parts[1]) {
                totals[current, default: 0] += kib
            }
        }
        return totals.filter { $0.value > 0 }.sorted { $0.value > $1.value }.prefix(limit).map { ($0.key, $0.value) }
    }

    static func isAlive(pid: Int32) -> Bool { kill(pid, 0) == 0 }
}

/// The whole of a /proc file (their size reads as 0, so read until EOF).
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count < 64 << 20 {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
