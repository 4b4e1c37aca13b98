import Foundation
import Testing
import ReclawState
import ReclawTestSupport

/// Changes to the create journal made at the same time share writes; each caller still gets its
/// own change, durable, when it returns.
@Suite struct JournalGroupCommitTests {
    @Test("creates begun at the same time are each on record with the token their caller got")
    func concurrentBegins() async throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        let components = (0..<24).map { "c\($0)" }
        let tokens = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for (i, component) in components.enumerated() {
                group.addTask {
                    let deployment = i % 2 == 0 ? "alpha" : "beta"
                    return (component, try await BlockingIO.run { () throws(StateError) in
                        try journal.begin(deployment: deployment, component: component, planID: "p")
                    })
                }
            }
            var out: [String: String] = [:]
            for try await (component, token) in group { out[component] = token }
            return out
        }
        let reopened = CreateJournal(stateDirectory: dir.path)
        let entries = try reopened.entries("alpha") + reopened.entries("beta")
        #expect(entries.count == components.count)
        for entry in entries { #expect(tokens[entry.component] == entry.clientToken) }
    }

    @Test("creates ended at the same time all leave the journal")
    func concurrentEnds() async throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        let components = (0..<12).map { "c\($0)" }
        for component in components { _ = try journal.begin(deployment: "alpha", component: component, planID: "p") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for component in components.dropLast() {
                group.addTask { try await BlockingIO.run { () throws(StateError) in try journal.end(deployment: "alpha", component: component) } }
            }
            try await group.waitForAll()
        }
        #expect(try CreateJournal(stateDirectory: dir.path).entries("alpha").map(\.component) == ["c11"])
    }

    @Test("a change that cannot be written fails its caller")
    func invalidNameFails() {
        let journal = CreateJournal(stateDirectory: TemporaryDirectory().path)
        #expect(throws: StateError.self) { _ = try journal.begin(deployment: "../escape", component: "vpc", planID: "p") }
    }
}
