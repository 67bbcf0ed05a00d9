import Testing

@testable import FallbackCore

@Suite("Moment and clocks")
struct MomentTests {
    let base = Moment(nanos: 5_000_000_000, unixMillis: 1_767_225_600_000)

    @Test("adding moves the monotonic and wall readings together")
    func adding() {
        let later = base.adding(millis: 1_500)
        #expect(later.nanos == 6_500_000_000)
        #expect(later.unixMillis == 1_767_225_601_500)
        #expect(base.adding(millis: 0) == base)
        let earlier = base.adding(millis: -250)
        #expect(earlier.nanos == 4_750_000_000)
        #expect(earlier.unixMillis == 1_767_225_599_750)
    }

    @Test("millis(since:) counts whole milliseconds and is never negative")
    func millisSince() {
        #expect(base.adding(millis: 812).millis(since: base) == 812)
        #expect(base.millis(since: base) == 0)
        #expect(base.millis(since: base.adding(millis: 5)) == 0)
        // 1.999 ms rounds down.
        let almost = Moment(nanos: base.nanos + 1_999_999, unixMillis: base.unixMillis + 1)
        #expect(almost.millis(since: base) == 1)
        #expect(base.micros(since: almost) == 0)
        #expect(almost.micros(since: base) == 1_999)
    }

    @Test("ordering uses the monotonic reading only")
    func ordering() {
        let skewed = Moment(nanos: base.nanos + 1, unixMillis: base.unixMillis - 60_000)
        #expect(base < skewed)
        #expect(base.adding(millis: 1) > base)
        #expect(!(base < base))
    }

    @Test("ManualClock only moves when told to")
    func manualClock() {
        let clock = ManualClock(unixMillis: 1_000)
        let start = clock.now()
        #expect(start.unixMillis == 1_000)
        #expect(clock.now() == start)
        clock.advance(millis: 400)
        #expect(clock.now().millis(since: start) == 400)
        #expect(clock.now().unixMillis == 1_400)
        clock.advance(millis: 0)
        #expect(clock.now().millis(since: start) == 400)
    }

    @Test("ManualClock advances atomically from many tasks")
    func manualClockConcurrent() async {
        let clock = ManualClock()
        let start = clock.now()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<500 { group.addTask { clock.advance(millis: 2) } }
        }
        #expect(clock.now().millis(since: start) == 1_000)
    }

    @Test("SystemClock is monotonic and its wall reading is in this century")
    func systemClock() {
        let clock = SystemClock()
        let a = clock.now()
        let b = clock.now()
        #expect(b >= a)
        #expect(b.millis(since: a) >= 0)
        #expect(a.unixMillis > 1_600_000_000_000)  // after 2020
        #expect(a.unixMillis < 4_102_444_800_000)  // before 2100
    }
}
