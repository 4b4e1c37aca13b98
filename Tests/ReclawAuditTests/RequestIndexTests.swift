import Foundation
import Testing
@testable import ReclawAudit

@Suite struct RequestIndexTests {
    let lower = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    let upper = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
    let mixed = "3f2504E0-4f89-41d3-9a0c-0305e82c3301"

    @Test("an id in a UUID's lower or upper case is kept as its bytes and read back as written")
    func uuidIDsAreCompactAndExact() {
        for text in [lower, upper] {
            let id = RequestID(text)
            #expect(id.isCompact)
            #expect(id.text == text)
        }
        for text in [mixed, "req-0", "", "3f2504e04f8941d39a0c0305e82c3301", "EXAMPLE-REQUEST-ID-0000000000000000"] {
            let id = RequestID(text)
            #expect(!id.isCompact)
            #expect(id.text == text)
        }
    }

    @Test("two ids are the same only when their texts are, whatever their case")
    func idsMatchOnlyByTheirExactText() {
        var index = RequestIndex()
        let now = Date(timeIntervalSince1970: 1_000_000)
        index.insert(lower, at: now)
        index.insert("req-1", at: now)
        #expect(index.contains(lower, since: now))
        #expect(!index.contains(upper, since: now))
        #expect(!index.contains(mixed, since: now))
        #expect(index.contains("req-1", since: now))
        #expect(!index.contains("REQ-1", since: now))
        index.insert(upper, at: now)
        #expect(index.count == 3)
        #expect(index.ids(since: now) == [lower, upper, "req-1"])
    }

    @Test("ids older than the window are left out, and pruned ones are gone")
    func theWindowBoundsTheIDs() {
        var index = RequestIndex()
        let then = Date(timeIntervalSince1970: 1_000_000), now = then.addingTimeInterval(600)
        index.insert(lower, at: then)
        index.insert("req-new", at: now)
        #expect(index.ids(since: now) == ["req-new"])
        #expect(!index.contains(lower, since: now) && index.contains(lower, since: then))
        index.prune(before: now)
        #expect(index.count == 1 && !index.contains(lower, since: then))
    }
}
