import Foundation
import ReclawTestSupport
import Testing

/// Every read of time and every sleep in reclaw goes through the one injected clock
/// (`Sources/ReclawTime`), so scheduling, leases, waits and deadlines can be tested on a manual clock.
@Suite struct OneClockTests {
    /// Direct reads of the system's clocks, and sleeps that bypass the injected clock.
    static let forbidden: [(pattern: String, why: String)] = [
        (#"(?<![\w.])Date\(\)"#, "the wall clock: use Clocks.date() or the clock you were given"),
        (#"Date\.now\b"#, "the wall clock: use Clocks.date()"),
        (#"\b(Continuous|Suspending)Clock\b"#, "a system clock: use Clocks.now() or the clock you were given"),
        (#"Task\.sleep\b"#, "a sleep on the system clock: use Clocks.sleep(for:) or clock.sleep(until:)"),
        (#"\b(DispatchTime|DispatchWallTime|NIODeadline)\b"#, "a system clock through Dispatch or NIO"),
        (#"\basyncAfter\b"#, "a timer on the system clock"),
        (#"(?<![\w.])(usleep|nanosleep|gettimeofday|clock_gettime)\(|\btime\(nil\)"#, "a C clock or sleep"),
        (#"Thread\.sleep\b"#, "a sleep on the system clock"),
        (#"[(\s,:=]\.now\b"#, "an implicit `.now` of some system clock"),
    ]

    @Test func nothingOutsideTheClockModuleReadsTheSystemsClocks() throws {
        var offenders: [String] = []
        let sources = RepoPaths.path("Sources")
        let files = PackageManifest.swiftFiles(under: sources).filter { !$0.contains("/Sources/ReclawTime/") }
        #expect(files.count > 100)
        let rules = try Self.forbidden.map { (try NSRegularExpression(pattern: $0.pattern), $0.why) }
        for file in files {
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                for (rule, why) in rules where Self.matches(rule, code) {
                    offenders.append("\(file.replacingOccurrences(of: sources + "/", with: "")):\(number + 1): \(why): \(code)")
                }
            }
        }
        #expect(offenders == [], "direct reads of time:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theRulesCatchWhatTheyAreFor() throws {
        let rules = try Self.forbidden.map { try NSRegularExpression(pattern: $0.pattern) }
        func caught(_ line: String) -> Bool { rules.contains { Self.matches($0, line) } }
        #expect(caught("let t = Date()"))
        #expect(caught("try await Task.sleep(for: .seconds(1))"))
        #expect(caught("let start = ContinuousClock.now"))
        #expect(caught("table[id] = (channel, .now())"))
        #expect(caught("usleep(100)"))
        #expect(!caught("let t = clock.date()"))
        #expect(!caught("try await Clocks.sleep(for: delay)"))
        #expect(!caught("let now = clock.now()"))
        #expect(!caught("Date(timeIntervalSince1970: 0)"))
        #expect(!caught("try await clock.sleep(until: deadline)"))
    }

    static func matches(_ rule: NSRegularExpression, _ line: String) -> Bool {
        rule.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }
}
