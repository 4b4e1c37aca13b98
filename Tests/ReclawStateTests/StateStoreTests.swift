import Foundation
import Testing
import ReclawEngine
import ReclawState
import ReclawTestSupport

@Suite struct StateStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_000)

    @Test func aSavedStatusLoadsBackWithItsRevisionsAndConditions() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        var status = DeploymentStatus(deployment: "alpha")
        status.lastAppliedRevision = "abc123"
        status.lastAttemptedRevision = "def456"
        status.resourceIDs = ["vpc": "vpc-0123"]
        status.set(.ready, .false, .applyFailed, "CreateVpc: VpcLimitExceeded", revision: "def456", now: t0)
        try store.save(status)

        let loaded = try #require(try store.load("alpha"))
        #expect(loaded.lastAppliedRevision == "abc123")
        #expect(loaded.lastAttemptedRevision == "def456")
        #expect(loaded.resourceIDs == ["vpc": "vpc-0123"])
        #expect(loaded.condition(.ready)?.reason == .applyFailed)
        #expect(loaded.condition(.ready)?.observedRevision == "def456")
        #expect(try store.load("beta") == nil)
    }

    @Test func conditionsAreWrittenInTheKubernetesConvention() throws {
        var status = DeploymentStatus(deployment: "alpha")
        status.set(.ready, .true, .reconciliationSucceeded, "applied revision r1", revision: "r1", now: t0)
        let json = String(decoding: try StateStore.encoder.encode(status), as: UTF8.self)
        #expect(json.contains("\"status\" : \"True\""))
        #expect(json.contains("\"reason\" : \"ReconciliationSucceeded\""))
        #expect(json.contains("\"observedRevision\" : \"r1\""))
    }

    @Test func statusFilesOfEarlierVersionsWithBooleanConditionsStillRead() throws {
        let dir = TemporaryDirectory()
        dir.write("deployments/alpha.json", """
        {"conditions": [{"lastTransitionTime": "2026-11-20T10:00:00Z", "message": "", "reason": "SomethingOld", "status": true, "type": "Ready"}],
         "deployment": "alpha", "drift": [], "resourceIDs": {}}
        """)
        let status = try #require(try StateStore(directory: dir.path).load("alpha"))
        #expect(status.condition(.ready)?.status == .true)
        #expect(status.condition(.ready)?.reason == .unknown)
    }

    @Test func aConditionKeepsItsTransitionTimeUntilItsStatusChanges() {
        var status = DeploymentStatus(deployment: "alpha")
        status.set(.ready, .true, .reconciliationSucceeded, "", now: t0)
        status.set(.ready, .true, .reconciliationSucceeded, "no drift", now: t0.addingTimeInterval(60))
        #expect(status.condition(.ready)?.lastTransitionTime == t0)
        #expect(status.condition(.ready)?.message == "no drift")
        status.set(.ready, .false, .applyFailed, "", now: t0.addingTimeInterval(120))
        #expect(status.condition(.ready)?.lastTransitionTime == t0.addingTimeInterval(120))
    }

    @Test func conditionsAreListedReadyReconcilingStalled() {
        var status = DeploymentStatus(deployment: "alpha")
        status.set(.stalled, .false, .converged, "", now: t0)
        status.set(.reconciling, .true, .applying, "", now: t0)
        status.set(.ready, .false, .applyFailed, "", now: t0)
        #expect(status.conditions.map(\.type) == [.ready, .reconciling, .stalled])
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

    @Test func oneCorruptStatusFileNeverHidesTheOthers() throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        try store.update("alpha") { $0.region = "eu-west-1" }
        try store.update("gamma") { $0.region = "us-east-1" }
        dir.write("deployments/beta.json", "not json at all")
        let scan = try store.scan()
        #expect(scan.statuses.map(\.deployment) == ["alpha", "gamma"])
        #expect(scan.unreadable.keys.sorted() == ["beta"])
        #expect(scan.unreadable["beta"]?.code == .corrupt)
        #expect(throws: StateError.self) { _ = try store.all() }
    }

    @Test(arguments: ["../../../../elsewhere/pwned", "ok\nFORGED", "UPPER", "a", "-dash", "x/y"])
    func aNameThatIsNotADeploymentNameNeverBecomesAPath(name: String) throws {
        let dir = TemporaryDirectory()
        let store = StateStore(directory: dir.path)
        #expect(throws: StateError.self) { try store.update(name) { $0.region = "us-east-1" } }
        #expect(throws: StateError.self) { _ = try CreateJournal(stateDirectory: dir.path).begin(deployment: name, component: "vpc", planID: "p") }
        #expect(throws: StateError.self) { try AttributionStore(stateDirectory: dir.path).save(name, []) }
        let written = FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []
        #expect(written.isEmpty, "files were written: \(written)")
    }

    @Test func theDefaultDirectoryFollowsTheEnvironment() {
        #expect(StateStore.defaultDirectory(environment: ["RECLAW_STATE_DIR": "/srv/reclaw"]) == "/srv/reclaw")
        #expect(StateStore.defaultDirectory(environment: ["XDG_STATE_HOME": "/home/u/.state"]) == "/home/u/.state/reclaw")
        #expect(StateStore.defaultDirectory(environment: [:]).hasSuffix("/.local/state/reclaw"))
    }
}

@Suite struct StateLockTests {
    @Test func aSecondHolderOfTheStateDirectoryIsRefusedNamingTheFirst() throws {
        let dir = TemporaryDirectory()
        let first = try StateLock.acquire(directory: dir.path, purpose: "reclaw run")
        #expect {
            _ = try StateLock.acquire(directory: dir.path, purpose: "reclaw apply")
        } throws: { error in
            let e = error as? StateError
            return e?.code == .locked && "\(error)".contains("pid \(getpid())") && "\(error)".contains("reclaw run")
        }
        withExtendedLifetime(first) {}
    }

    @Test func theLockIsFreeAgainOnceItsHolderIsGone() throws {
        let dir = TemporaryDirectory()
        do { _ = try StateLock.acquire(directory: dir.path, purpose: "first") }
        _ = try StateLock.acquire(directory: dir.path, purpose: "second")
    }
}

@Suite struct AttributionStoreTests {
    @Test func pendingAttributionsSurviveAReopen() throws {
        let dir = TemporaryDirectory()
        let item = PendingAttribution(id: "e1", deployment: "alpha", region: "eu-west-1", revision: "r1", planID: "p1",
                                      items: [DriftItem(key: "instance-sg", resourceID: "sg-1", attribute: "ingress", expected: [], actual: ["x"])],
                                      since: Date(timeIntervalSince1970: 100), foundAt: Date(timeIntervalSince1970: 200),
                                      nextAttemptAt: Date(timeIntervalSince1970: 260), corrected: false)
        try AttributionStore(stateDirectory: dir.path).save("alpha", [item])
        let reopened = AttributionStore(stateDirectory: dir.path)
        #expect(try reopened.deployments() == ["alpha"])
        #expect(try reopened.load("alpha") == [item])
        try reopened.save("alpha", [])
        #expect(try reopened.deployments().isEmpty)
    }

    @Test func aCorruptAttributionFileIsAnErrorNotAnEmptyList() throws {
        let dir = TemporaryDirectory()
        dir.write("attributions/alpha.json", "[{")
        #expect(throws: StateError.self) { _ = try AttributionStore(stateDirectory: dir.path).load("alpha") }
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
        #expect(try reopened.entries("alpha").map(\.component) == ["instance"])
        #expect(try reopened.begin(deployment: "alpha", component: "instance", planID: "p2") == token)
        #expect(try reopened.begin(deployment: "alpha", component: "vpc", planID: "p2") != token)
    }

    @Test func endingEveryCreateEmptiesTheJournal() throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        _ = try journal.begin(deployment: "alpha", component: "vpc", planID: "p")
        _ = try journal.begin(deployment: "alpha", component: "igw", planID: "p")
        try journal.end(deployment: "alpha", component: "vpc")
        #expect(try journal.entries("alpha").map(\.component) == ["igw"])
        try journal.end(deployment: "alpha", component: "igw")
        #expect(try journal.entries("alpha").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("journal/alpha.json")))
    }

    @Test func journalsOfDifferentDeploymentsAreSeparate() throws {
        let dir = TemporaryDirectory()
        let journal = CreateJournal(stateDirectory: dir.path)
        _ = try journal.begin(deployment: "alpha", component: "vpc", planID: "p")
        #expect(try journal.entries("beta").isEmpty)
    }

    @Test func aCorruptJournalIsAnErrorNotAnEmptyJournal() throws {
        let dir = TemporaryDirectory()
        dir.write("journal/alpha.json", "[{\"deployment\"")
        #expect(throws: StateError.self) { _ = try CreateJournal(stateDirectory: dir.path).entries("alpha") }
        #expect(throws: StateError.self) { _ = try CreateJournal(stateDirectory: dir.path).begin(deployment: "alpha", component: "vpc", planID: "p") }
    }
}

@Suite struct StatusRecorderConfirmationTests {
    @Test func aConfirmedRevisionIsAttemptedAtTheTimeItIsConfirmedAndEveryConditionNamesIt() throws {
        let dir = TemporaryDirectory()
        let clock = LockedDate(Date(timeIntervalSince1970: 1_000))
        let recorder = StatusRecorder(store: StateStore(directory: dir.path), now: { clock.value })
        try recorder.store.update("alpha") { s in
            s.lastAppliedRevision = "r1"
            s.lastAttemptedRevision = "r1"
            s.lastAttemptedAt = Date(timeIntervalSince1970: 1_000)
            s.lastAppliedAt = Date(timeIntervalSince1970: 1_000)
            s.set(.ready, .true, .reconciliationSucceeded, "applied revision r1", revision: "r1", now: Date(timeIntervalSince1970: 1_000))
            s.set(.reconciling, .false, .idle, "", revision: "r1", now: Date(timeIntervalSince1970: 1_000))
            s.set(.stalled, .false, .converged, "", revision: "r1", now: Date(timeIntervalSince1970: 1_000))
        }
        // r2 changes another deployment's spec only: alpha's is confirmed, later, without an apply.
        clock.value = Date(timeIntervalSince1970: 2_000)
        let status = try recorder.confirmed("alpha", revision: "r2", location: nil)
        #expect(status.lastAttemptedRevision == "r2")
        #expect(status.lastAttemptedAt == Date(timeIntervalSince1970: 2_000))
        #expect(status.lastAppliedAt == Date(timeIntervalSince1970: 2_000))
        #expect(status.conditions.map(\.observedRevision) == ["r2", "r2", "r2"])
        #expect(status.condition(.reconciling)?.status == .false)

        // r3 breaks alpha's spec: it is attempted at r3's time, and no condition still names r2.
        clock.value = Date(timeIntervalSince1970: 3_000)
        let invalid = try recorder.invalidSpec("alpha", revision: "r3", diagnostics: ["alpha.yaml:8:5: error: unknown key"])
        #expect(invalid.lastAttemptedRevision == "r3")
        #expect(invalid.lastAttemptedAt == Date(timeIntervalSince1970: 3_000))
        #expect(invalid.lastAppliedRevision == "r2")
        #expect(invalid.conditions.map(\.observedRevision) == ["r3", "r3", "r3"])
        #expect(invalid.condition(.stalled)?.reason == .invalidSpec)
    }
}

@Suite struct StatusDriftTests {
    @Test func eachDriftLineNamesTheComponentItsResourceIDAndTheAttribute() throws {
        let dir = TemporaryDirectory()
        let recorder = StatusRecorder(store: StateStore(directory: dir.path))
        try recorder.drifted("alpha", items: [
            DriftItem(key: "instance-sg", resourceID: "sg-0abc", attribute: "ingress", expected: nil, actual: nil),
            DriftItem(key: "vpc", resourceID: nil, attribute: "enableDnsHostnames", expected: nil, actual: nil),
        ], fingerprint: "f1")
        let status = try #require(try recorder.store.load("alpha"))
        #expect(status.drift == ["instance-sg (sg-0abc) ingress: null → null", "vpc enableDnsHostnames: null → null"])
    }
}

@Suite struct RegionMoveStatusTests {
    @Test func emptyingTheOldRegionLeavesTheDeploymentNotReconciling() throws {
        let dir = TemporaryDirectory()
        let recorder = StatusRecorder(store: StateStore(directory: dir.path))
        try recorder.store.update("alpha") { s in
            s.region = "us-east-2"
            s.regions = ["us-east-2", "us-west-2"]
        }
        let retire = Plan(deployment: "alpha", revision: "r2", region: "us-west-2", actions: [])
        try recorder.applying(retire)
        #expect(try recorder.store.load("alpha")?.holds(.reconciling) == true)
        let status = try #require(try recorder.applied(retire, result: ApplyResult(outcomes: [], ids: [:]), desired: nil, spec: nil,
                                                       location: nil, retiring: true))
        #expect(status.regions == ["us-east-2"] && status.region == "us-east-2")
        #expect(status.condition(.reconciling)?.status == .false)
        #expect(status.condition(.reconciling)?.reason == .idle)
    }
}

/// A clock the test moves.
private final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date) { self.date = date }
    var value: Date {
        get { lock.withLock { date } }
        set { lock.withLock { date = newValue } }
    }
}
