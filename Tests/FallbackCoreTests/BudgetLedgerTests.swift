import Testing

@testable import FallbackCore

@Suite("Budgets: daily spend per task")
struct BudgetLedgerTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    /// 2026-01-01T00:00:00Z, a UTC midnight.
    static let midnight: Int64 = 1_767_225_600_000
    static let day: Int64 = 86_400_000

    /// `offsetMillis` after `midnight`, on both readings.
    func at(_ offsetMillis: Int64) -> Moment {
        Moment(nanos: 5_000_000_000 + offsetMillis * 1_000_000, unixMillis: Self.midnight + offsetMillis)
    }

    func attempt(task: String, cost: Double, startedAt: Int64, success: Bool = true, shadow: Bool = false) -> AttemptRecord {
        var record = AttemptRecord(
            requestID: "r", task: task, chain: shadow ? "shadow" : "default", model: "gpt-4o", provider: "openai",
            attemptIndex: 0, startedAtMillis: startedAt, latencyMs: 10, success: success,
            errorType: success ? nil : .serverError, httpStatus: success ? nil : 500,
            usage: Usage(inputTokens: 10, outputTokens: 10), costUSD: cost, metadataJSON: nil)
        record.shadow = shadow
        return record
    }

    @Test("under the budget: no refusal, spend adds up")
    func under() {
        let ledger = BudgetLedger(budgets: ["summarize": 1.0])
        let noon = at(12 * 3_600_000)
        #expect(ledger.check(task: "summarize", at: noon) == nil)
        ledger.add(task: "summarize", costUSD: 0.4, at: noon)
        ledger.add(task: "summarize", costUSD: 0.5, at: noon)
        #expect(close(ledger.spent(task: "summarize", at: noon), 0.9))
        #expect(ledger.check(task: "summarize", at: noon) == nil)
    }

    @Test("at the budget exactly (0.7 + 0.2 + 0.1 = 1.0, which doubles would miss): refused with every field")
    func atBudget() throws {
        let ledger = BudgetLedger(budgets: ["summarize": 1.0])
        let now = at(13 * 3_600_000 + 45 * 60_000)
        for cost in [0.7, 0.2, 0.1] { ledger.add(task: "summarize", costUSD: cost, at: now) }
        #expect(ledger.spent(task: "summarize", at: now) == 1.0)
        let refusal = try #require(ledger.check(task: "summarize", at: now))
        #expect(
            refusal
                == BudgetRefusal(
                    task: "summarize", budgetUSD: 1.0, spentUSD: 1.0, resetsAtUnixMillis: Self.midnight + Self.day))
    }

    @Test("over the budget: refused, spentUSD shows the overshoot")
    func over() throws {
        let ledger = BudgetLedger(budgets: ["summarize": 0.3])
        let now = at(1)
        ledger.add(task: "summarize", costUSD: 0.1, at: now)
        ledger.add(task: "summarize", costUSD: 0.15, at: now)
        #expect(ledger.check(task: "summarize", at: now) == nil)
        ledger.add(task: "summarize", costUSD: 0.2, at: now)
        let refusal = try #require(ledger.check(task: "summarize", at: now))
        #expect(refusal.spentUSD == 0.45)
        #expect(refusal.budgetUSD == 0.3)
        #expect(refusal.task == "summarize")
    }

    @Test("tasks without a budget are never refused and track nothing")
    func noBudget() {
        let ledger = BudgetLedger(budgets: ["summarize": 0.01])
        let now = at(0)
        ledger.add(task: "chat", costUSD: 1_000, at: now)
        #expect(ledger.check(task: "chat", at: now) == nil)
        #expect(ledger.spent(task: "chat", at: now) == 0)
        #expect(ledger.check(task: "summarize", at: now) == nil)
        #expect(BudgetLedger(budgets: [:]).check(task: "summarize", at: now) == nil)
    }

    @Test("spend rolls over at UTC midnight: the last millisecond counts today, the next starts at zero")
    func rollover() throws {
        let ledger = BudgetLedger(budgets: ["summarize": 1.0])
        let lastMillisecond = at(Self.day - 1)
        ledger.add(task: "summarize", costUSD: 1.5, at: lastMillisecond)
        let refusal = try #require(ledger.check(task: "summarize", at: lastMillisecond))
        #expect(refusal.resetsAtUnixMillis == Self.midnight + Self.day)
        let nextMidnight = at(Self.day)
        #expect(ledger.check(task: "summarize", at: nextMidnight) == nil)
        #expect(ledger.spent(task: "summarize", at: nextMidnight) == 0)
        ledger.add(task: "summarize", costUSD: 1.0, at: nextMidnight)
        let next = try #require(ledger.check(task: "summarize", at: at(Self.day + 5)))
        #expect(next.spentUSD == 1.0)
        #expect(next.resetsAtUnixMillis == Self.midnight + 2 * Self.day)
        // A late cost for the closed day does not leak into the new one.
        ledger.add(task: "summarize", costUSD: 0.5, at: lastMillisecond)
        #expect(ledger.spent(task: "summarize", at: nextMidnight) == 1.0)
    }

    @Test("days before the epoch still round down to their own midnight")
    func beforeEpoch() throws {
        let ledger = BudgetLedger(budgets: ["t": 0])
        let refusal = try #require(ledger.check(task: "t", at: Moment(nanos: 0, unixMillis: -1)))
        #expect(refusal.resetsAtUnixMillis == 0)
        #expect(refusal.spentUSD == 0)
        #expect(try #require(ledger.check(task: "t", at: Moment(nanos: 0, unixMillis: 0))).resetsAtUnixMillis == Self.day)
    }

    @Test("restore replaces the day's spend; budgeted tasks it omits start at zero; it only holds for that day")
    func restore() throws {
        let ledger = BudgetLedger(budgets: ["summarize": 1.0, "classify": 0.5])
        let now = at(10 * 3_600_000)
        ledger.add(task: "classify", costUSD: 0.4, at: now)
        ledger.restore(spentToday: ["summarize": 0.95, "chat": 7], at: now)
        #expect(ledger.spent(task: "summarize", at: now) == 0.95)
        #expect(ledger.spent(task: "classify", at: now) == 0)
        #expect(ledger.spent(task: "chat", at: now) == 0)
        #expect(ledger.check(task: "summarize", at: now) == nil)
        ledger.add(task: "summarize", costUSD: 0.05, at: now)
        #expect(try #require(ledger.check(task: "summarize", at: now)).spentUSD == 1.0)
        #expect(ledger.check(task: "summarize", at: at(Self.day)) == nil)
    }

    @Test("as a recorder: every non-shadow attempt's cost, failed ones too, on the UTC day it started")
    func recorder() {
        let ledger = BudgetLedger(budgets: ["summarize": 1.0])
        let recorder = FanOutRecorder([ledger])
        recorder.record(attempt(task: "summarize", cost: 0.25, startedAt: Self.midnight + 100))
        recorder.record(attempt(task: "summarize", cost: 0.125, startedAt: Self.midnight + 200, success: false))
        recorder.record(attempt(task: "summarize", cost: 0.5, startedAt: Self.midnight + 300, shadow: true))
        recorder.record(attempt(task: "chat", cost: 0.5, startedAt: Self.midnight + 400))
        #expect(ledger.spent(task: "summarize", at: at(1_000)) == 0.375)
        // Started one millisecond before midnight: yesterday's spend, not today's.
        let yesterday = BudgetLedger(budgets: ["summarize": 1.0])
        yesterday.record(attempt(task: "summarize", cost: 2, startedAt: Self.midnight - 1))
        #expect(yesterday.spent(task: "summarize", at: at(-1)) == 2)
        #expect(yesterday.spent(task: "summarize", at: at(0)) == 0)
        #expect(yesterday.check(task: "summarize", at: at(0)) == nil)
    }

    @Test("zero, negative and NaN: a zero budget refuses at once; negative or NaN costs add nothing")
    func degenerate() {
        let ledger = BudgetLedger(budgets: ["blocked": 0, "negative": -3, "t": 1])
        let now = at(0)
        #expect(ledger.check(task: "blocked", at: now) != nil)
        #expect(ledger.check(task: "negative", at: now)?.budgetUSD == 0)
        ledger.add(task: "t", costUSD: -5, at: now)
        ledger.add(task: "t", costUSD: .nan, at: now)
        #expect(ledger.spent(task: "t", at: now) == 0)
        #expect(ledger.budgets == ["blocked": 0, "negative": -3, "t": 1])
    }

    @Test("concurrent adds from many tasks sum exactly: 8 x 5,000 x 0.00001 = 0.4")
    func concurrentAdds() async {
        let ledger = BudgetLedger(budgets: ["summarize": 0.4])
        let now = at(42)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<5_000 {
                        if index % 2 == 0 {
                            ledger.add(task: "summarize", costUSD: 0.00001, at: now)
                        } else {
                            ledger.record(attempt(task: "summarize", cost: 0.00001, startedAt: now.unixMillis + Int64(worker)))
                        }
                    }
                }
            }
        }
        #expect(ledger.spent(task: "summarize", at: now) == 0.4)
        #expect(ledger.check(task: "summarize", at: now)?.spentUSD == 0.4)
    }
}
