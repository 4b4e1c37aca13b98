import ReclawEvents
import Testing

/// When the event listener reads the other replicas' statuses again: only for an event nothing
/// maps, and at most once per interval however many such events arrive.
@Suite struct SharedIndexRefreshTests {
    @Test("the first unmapped event reads the statuses, and later ones wait out the interval")
    func unmappedEventsReadAtMostOncePerInterval() {
        var refresh = SharedIndexRefresh(interval: .seconds(30))
        func start(_ now: Duration) -> Bool { refresh.begin(now: now) }
        #expect(start(.seconds(100)))
        #expect(!start(.seconds(101)))
        #expect(!start(.seconds(129)))
        #expect(start(.seconds(130)))
        #expect(!start(.seconds(159)))
    }

    @Test("a quiet stretch leaves the next unmapped event free to read at once")
    func aQuietStretchReadsAtOnce() {
        var refresh = SharedIndexRefresh(interval: .seconds(30))
        func start(_ now: Duration) -> Bool { refresh.begin(now: now) }
        #expect(start(.zero))
        #expect(start(.seconds(3600)))
    }
}
