import Foundation
import ReclawTestSupport
import Testing

/// No test asserts an upper bound on wall-clock time. Such a bound measures the machine, not
/// reclaw: on two cores shared with the rest of the suite (or other builds) it fails for no fault
/// of the code, and it forces suites to run one at a time. A test checks what happened instead (the
/// deadline fired: the error or the log says so; the order of events; a manual clock); how fast
/// something is belongs in a benchmark under bench/, which prints the figure.
@Suite struct WallClockBoundTests {
    /// What a wall-clock bound looks like in a test, and why each is forbidden.
    static let forbidden: [(pattern: String, why: String)] = [
        (#"\.measure\s*\{"#, "times a block of code"),
        (#"#expect\(.*(ContinuousClock\.now|Date\(\)|timeIntervalSince).*<"#, "bounds a clock reading in an expectation"),
        (#"#expect\(.*\b(elapsed|took|seconds|slowest|retaken|longest|latency)\w*\s*<"#,
         "bounds a measured duration in an expectation"),
    ]

    /// Every Swift file under Tests/, relative to the repository.
    static func testSources() throws -> [String] {
        let root = RepoPaths.path("Tests")
        let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return all.filter { $0.hasSuffix(".swift") }.map { "Tests/" + $0 }.sorted()
    }

    @Test("no test bounds wall-clock time from above")
    func noTestBoundsWallClockTime() throws {
        let sources = try Self.testSources()
        #expect(sources.count > 50, "found only \(sources)")
        var found: [String] = []
        for file in sources where !file.hasSuffix("/WallClockBoundTests.swift") {
            let lines = try String(contentsOfFile: RepoPaths.path(file), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                for rule in Self.forbidden where line.range(of: rule.pattern, options: .regularExpression) != nil {
                    found.append("\(file):\(number + 1): \(rule.why): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(found.isEmpty, "a test asserts an upper bound on wall-clock time (check what happened instead, or measure it in bench/):\n\(found.joined(separator: "\n"))")
    }

    @Test("the patterns catch the bounds they are meant to")
    func thePatternsCatchTheBoundsTheyAreMeantTo() {
        let caught = [
            "let elapsed = clock.measure { run() }",
            "#expect(ContinuousClock.now - start < .seconds(2))",
            "#expect(Date().timeIntervalSince(opened) < 30)",
            "#expect(elapsed < .seconds(8), \"took \\(elapsed)\")",
            "#expect(took < 30, \"corrected late\")",
            "#expect(retaken < Self.lease * 3)",
            "#expect(longest <= Self.lease + Self.interval)",
        ]
        let allowed = [
            "#expect(elapsed >= .milliseconds(1900), \"gave up early\")",
            "#expect(woken >= 1 && Double(woken) <= seconds / 5 + 2)",
            "#expect(await waitUntil(30) { done })",
            "#expect(taken != nil && taken! <= Self.lease + .seconds(4))",
            "#expect(moved != nil && moved! <= .seconds(8) + Self.lease + .seconds(8))",
        ]
        for line in caught {
            #expect(Self.forbidden.contains { line.range(of: $0.pattern, options: .regularExpression) != nil }, "missed: \(line)")
        }
        for line in allowed {
            #expect(!Self.forbidden.contains { line.range(of: $0.pattern, options: .regularExpression) != nil }, "flagged: \(line)")
        }
    }
}
