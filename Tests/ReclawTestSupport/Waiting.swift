import Foundation

/// Polls `condition` until it holds or `seconds` have passed; the last answer is returned. Tests
/// wait for what they expect with generous deadlines instead of timing it.
public func waitUntil(_ seconds: Double, every interval: Duration = .milliseconds(250), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
