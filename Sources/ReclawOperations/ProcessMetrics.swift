import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ReclawTime

/// The standard `process_*` series of Prometheus client libraries, read from `/proc/self` when
/// `/metrics` is scraped.
public struct ProcessMetrics: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentBytes: Double
    public var virtualBytes: Double
    public var openFDs: Double
    public var maxFDs: Double
    public var startTimeSeconds: Double

    /// Reads the values now; `startedAt` is the process's start (Unix seconds).
    public static func read(startedAt: Double) -> ProcessMetrics {
        let stat = statFields()
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let page = Double(max(1, sysconf(Int32(_SC_PAGESIZE))))
        let cpu = ((Double(field(stat, 14)) ?? 0) + (Double(field(stat, 15)) ?? 0)) / ticks
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        let maxFDs = (try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Max open files") }
            .flatMap { Double($0.dropFirst("Max open files".count).split(separator: " ").first ?? "") } ?? 0
        return ProcessMetrics(cpuSeconds: cpu, residentBytes: (Double(field(stat, 24)) ?? 0) * page,
                              virtualBytes: Double(field(stat, 23)) ?? 0, openFDs: Double(fds), maxFDs: maxFDs,
                              startTimeSeconds: startedAt)
    }

    /// When this process started (Unix seconds): boot time plus the start field of `/proc/self/stat`.
    static func startTime() -> Double {
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let boot = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("btime ") }
            .flatMap { Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
        guard let boot, let start = Double(field(statFields(), 22)) else { return Clocks.date().timeIntervalSince1970.rounded(.down) }
        return boot + start / ticks
    }

    /// The text exposition of the series.
    public var rendered: String {
        func series(_ name: String, _ type: String, _ help: String, _ value: Double) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        return series("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpuSeconds)
            + series("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", residentBytes)
            + series("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", virtualBytes)
            + series("process_open_fds", "gauge", "Number of open file descriptors.", openFDs)
            + series("process_max_fds", "gauge", "Maximum number of open file descriptors.", maxFDs)
            + series("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", startTimeSeconds)
    }

    /// The fields of `/proc/self/stat` after the command name (field 3 onwards, 1-based as in proc(5)).
    private static func statFields() -> [Substring] {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return [] }
        return text[text.index(after: close)...].split(separator: " ")
    }

    private static func field(_ fields: [Substring], _ number: Int) -> String {
        let index = number - 3
        return fields.indices.contains(index) ? String(fields[index]).trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }
}
