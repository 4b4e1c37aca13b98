import Foundation
import Testing
import ReclawState
import ReclawTestSupport

@Suite struct StateStoreTests {
    @Test func aSavedStatusLoadsBackWithItsRevisionsAndConditions() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        var status = DeploymentStatus(deployment: "alpha")
        status.lastAppliedRevision = "abc123"
        status.lastAttemptedRevision = "def456"
        status.resourceIDs = ["vpc": "vpc-0123"]
        status.set("Ready", false, reason: "ApplyFailed", message: "CreateVpc: VpcLimitExceeded")
        try store.save(status)

        let loaded = try #require(try store.load("alpha"))
        #expect(loaded.lastAppliedRevision == "abc123")
        #expect(loaded.lastAttemptedRevision == "def456")
        #expect(loaded.resourceIDs == ["vpc": "vpc-0123"])
        #expect(loaded.condition("Ready")?.reason == "ApplyFailed")
        #expect(try store.load("beta") == nil)
    }

    @Test func aConditionKeepsItsTransitionTimeUntilItsStatusChanges() {
        var status = DeploymentStatus(deployment: "alpha")
        let t0 = Date(timeIntervalSince1970: 1_000)
        status.set("Ready", true, reason: "Applied", message: "", now: t0)
        status.set("Ready", true, reason: "InSync", message: "no drift", now: t0.addingTimeInterval(60))
        #expect(status.condition("Ready")?.lastTransitionTime == t0)
        #expect(status.condition("Ready")?.reason == "InSync")
        status.set("Ready", false, reason: "DriftDetected", message: "", now: t0.addingTimeInterval(120))
        #expect(status.condition("Ready")?.lastTransitionTime == t0.addingTimeInterval(120))
    }

    @Test func conditionsAreListedReadyReconcilingStalled() {
        var status = DeploymentStatus(deployment: "alpha")
        status.set("Stalled", false, reason: "", message: "")
        status.set("Reconciling", true, reason: "", message: "")
        status.set("Ready", false, reason: "", message: "")
        #expect(status.conditions.map(\.type) == ["Ready", "Reconciling", "Stalled"])
    }

    @Test func updateCreatesAMissingStatusAndAllListsEveryDeployment() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        try store.update("beta") { $0.lastAttemptedRevision = "r1" }
        try store.update("alpha") { $0.region = "eu-west-1" }
        try store.update("beta") { $0.lastAppliedRevision = "r1" }
        let all = try store.all()
        #expect(all.map(\.deployment) == ["alpha", "beta"])
        #expect(all[1].lastAppliedRevision == "r1" && all[1].lastAttemptedRevision == "r1")
        try store.remove("alpha")
        #expect(try store.all().map(\.deployment) == ["beta"])
    }

    @Test func aCorruptStatusFileIsAnErrorNamingTheFile() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        dir.write("deployments/alpha.json", "{\"deployment\": ")
        #expect {
            _ = try store.load("alpha")
        } throws: { error in
            "\(error)".contains(store.path(for: "alpha")) && "\(error)".contains("not a readable status file")
        }
    }

    @Test func theDefaultDirectoryFollowsTheEnvironment() {
        #expect(StateStore.defaultDirectory(environment: ["RECLAW_STATE_DIR": "/srv/reclaw"]) == "/srv/reclaw")
        #expect(StateStore.defaultDirectory(environment: ["XDG_STATE_HOME": "/home/u/.state"]) == "/home/u/.state/reclaw")
        #expect(StateStore.defaultDirectory(environment: [:]).hasSuffix("/.local/state/reclaw"))
    }
}

@Suite struct DurableFileTests {
    @Test func aWriteReplacesTheWholeFileAndLeavesNoTemporaryBehind() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("nested/state.json")
        try DurableFile.write(Data("first version, longer".utf8), to: path)
        try DurableFile.write(Data("second".utf8), to: path)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == "second")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.file("nested"))
        #expect(names == ["state.json"])
    }

    @Test func aWriteIntoAnUnwritablePlaceIsAnErrorNamingThePath() throws {
        let dir = TemporaryDirectory()
        dir.write("blocker", "a file where a directory should be")
        #expect(throws: (any Error).self) { try DurableFile.write(Data("x".utf8), to: dir.file("blocker/state.json")) }
    }
}

@Suite struct CreateJournalTests {
    @Test func anInterruptedCreateKeepsItsClientTokenForTheRetry() throws {
        let dir = TemporaryDirectory()
        let token = try CreateJournal(stateDirectory: dir.path).begin(deployment: "alpha", component: "instance", planID: "p1")
        // A new process after a crash reads the same journal.
        let reopened = CreateJournal(stateDirectory: dir.path)
        #expect(reopened.entries("alpha").map(\.component) == ["instance"])
        #expect(try reopened.begin(deployment: "alpha", component: "instance", planID: "p2") == token)
        #expect(try reopened.begin(deployment: "alpha", component: "vpc", planID: "p2") != token)
    }

    @Test func endingEveryCreateEmptiesTheJournal() throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        _ = try journal.begin(deployment: "alpha", component: "vpc", planID: "p")
        _ = try journal.begin(deployment: "alpha", component: "igw", planID: "p")
        try journal.end(deployment: "alpha", component: "vpc")
        #expect(journal.entries("alpha").map(\.component) == ["igw"])
        try journal.end(deployment: "alpha", component: "igw")
        #expect(journal.entries("alpha").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("journal/alpha.json")))
    }

    @Test func journalsOfDifferentDeploymentsAreSeparate() throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        _ = try journal.begin(deployment: "alpha", component: "vpc", planID: "p")
        #expect(journal.entries("beta").isEmpty)
    }
}
