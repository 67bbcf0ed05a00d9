import Synchronization

/// Why a request was refused by its task's daily budget (JSON-RPC error -32004).
public struct BudgetRefusal: Sendable, Hashable, Error {
    /// The request's task.
    public var task: String
    /// The task's budget in US dollars per UTC day.
    public var budgetUSD: Double
    /// What the task has spent so far today (UTC), at or above `budgetUSD`.
    public var spentUSD: Double
    /// The next UTC midnight, when the spend starts again from zero.
    public var resetsAtUnixMillis: Int64

    public init(task: String, budgetUSD: Double, spentUSD: Double, resetsAtUnixMillis: Int64) {
        self.task = task
        self.budgetUSD = budgetUSD
        self.spentUSD = spentUSD
        self.resetsAtUnixMillis = resetsAtUnixMillis
    }
}

/// Daily spend per task against the `[budgets]` table, counted in memory and restored from the call log
/// at start.
///
/// Days are UTC days: `unixMillis / 86_400_000` (rounded down), so every budget resets at UTC midnight.
/// Spend is kept in exact nanodollars, so concurrent adds sum to the same total in any order and a
/// budget of 0.30 is reached by 0.10 + 0.20. Only tasks that have a budget are tracked; the others are
/// never refused and always report 0 spent.
///
/// As an `OutcomeRecorder` it adds every non-shadow attempt's `costUSD` (failed ones too: they cost what
/// the provider billed, and reported calls are real spend) under the attempt's task, on the UTC day of
/// `startedAtMillis`.
public final class BudgetLedger: OutcomeRecorder, Sendable {
    /// USD per UTC day per key, as configured.
    public var budgets: [String: Double] { limits.withLock { $0.usd } }

    private struct Limits: Sendable {
        var usd: [String: Double]
        var nanos: [String: Int64]

        init(_ budgets: [String: Double]) {
            usd = budgets
            nanos = budgets.mapValues { DailySpend.nanos($0) }
        }
    }

    /// What an attempt's cost counts under.
    public enum Key: Sendable {
        /// The request's task (`[cost.budgets]`).
        case task
        /// The calling app (`[apps.NAME] daily_budget_usd`).
        case app
    }

    private let limits: Mutex<Limits>
    private let spend: Mutex<[String: DailySpend]>
    private let key: Key

    /// - Parameters:
    ///   - budgets: USD per UTC day per task (or app); a negative or NaN budget counts as 0 (always refused).
    ///   - key: whether attempts count under their task or their app.
    public init(budgets: [String: Double], key: Key = .task) {
        limits = Mutex(Limits(budgets))
        spend = Mutex([:])
        self.key = key
    }

    /// A reload: new budgets; what was spent today stays counted.
    public func reconfigure(budgets: [String: Double]) {
        let updated = Limits(budgets)
        limits.withLock { $0 = updated }
    }

    private var budgetNanos: [String: Int64] { limits.withLock { $0.nanos } }

    /// The refusal for a request of `task` at `now`, or `nil` when the task has no budget or is under it.
    /// A task whose spend today has reached its budget exactly is refused.
    public func check(task: String, at now: Moment) -> BudgetRefusal? {
        check(task: task, unixMillis: now.unixMillis)
    }

    /// Adds `costUSD` to `task`'s spend on the UTC day of `now`.
    public func add(task: String, costUSD: Double, at now: Moment) {
        add(task: task, costUSD: costUSD, unixMillis: now.unixMillis)
    }

    /// What `task` has spent on the UTC day of `now` (0 for a task without a budget).
    public func spent(task: String, at now: Moment) -> Double {
        DailySpend.usd(spentNanos(task: task, day: DailySpend.day(now.unixMillis)))
    }

    /// Replaces the in-memory state with the spend of the UTC day of `now` read back from the call log;
    /// budgeted tasks missing from `spentToday` start the day at 0.
    public func restore(spentToday: [String: Double], at now: Moment) {
        let day = DailySpend.day(now.unixMillis)
        spend.withLock { spend in
            spend.removeAll()
            for task in budgetNanos.keys {
                spend[task] = DailySpend(day: day, nanos: DailySpend.nanos(spentToday[task] ?? 0))
            }
        }
    }

    /// Adds spend of the UTC day of `now` read back from the call log for keys that just gained a
    /// budget (a reload); other keys are untouched.
    public func add(spentToday: [String: Double], at now: Moment) {
        for (key, usd) in spentToday { add(task: key, costUSD: usd, unixMillis: now.unixMillis) }
    }

    /// Counts a finished attempt: its cost under its task, on the UTC day it started; shadow calls are skipped
    /// (they have their own cap in `ShadowSampler`).
    public func record(_ attempt: AttemptRecord) {
        guard !attempt.shadow else { return }
        switch key {
        case .task: add(task: attempt.task, costUSD: attempt.costUSD, unixMillis: attempt.startedAtMillis)
        case .app:
            guard let app = attempt.app else { return }
            add(task: app, costUSD: attempt.costUSD, unixMillis: attempt.startedAtMillis)
        }
    }

    func check(task: String, unixMillis: Int64) -> BudgetRefusal? {
        guard let budget = limits.withLock({ $0.nanos[task] }) else { return nil }
        let day = DailySpend.day(unixMillis)
        let spent = spentNanos(task: task, day: day)
        guard spent >= budget else { return nil }
        return BudgetRefusal(
            task: task, budgetUSD: DailySpend.usd(budget), spentUSD: DailySpend.usd(spent),
            resetsAtUnixMillis: DailySpend.nextMidnight(afterDay: day))
    }

    func add(task: String, costUSD: Double, unixMillis: Int64) {
        guard limits.withLock({ $0.nanos[task] != nil }) else { return }
        let nanos = DailySpend.nanos(costUSD)
        guard nanos > 0 else { return }
        let day = DailySpend.day(unixMillis)
        spend.withLock { spend in
            var entry = spend[task] ?? DailySpend(day: day, nanos: 0)
            entry.add(nanos, day: day)
            spend[task] = entry
        }
    }

    private func spentNanos(task: String, day: Int64) -> Int64 {
        spend.withLock { $0[task]?.nanos(on: day) ?? 0 }
    }
}

/// Spend on one UTC day in exact nanodollars; moving to a later day starts again from zero.
/// Shared by `BudgetLedger` (per task) and `ShadowSampler` (the shadow cap).
struct DailySpend: Sendable, Hashable {
    static let millisPerDay: Int64 = 86_400_000
    /// Nanodollars per US dollar.
    static let scale = 1_000_000_000.0
    /// The largest amount kept (about 4.6 billion USD): sums never overflow.
    static let maxNanos = Int64.max / 2

    /// The UTC day of the current amount.
    var day: Int64
    var nanos: Int64

    /// The amount on `day`: 0 for any day other than the one held.
    func nanos(on day: Int64) -> Int64 { day == self.day ? nanos : 0 }

    /// Adds `amount` on `day`: a later day starts over, an earlier (already closed) day is ignored.
    mutating func add(_ amount: Int64, day: Int64) {
        if day > self.day {
            self.day = day
            nanos = 0
        }
        guard day == self.day else { return }
        nanos = min(Self.maxNanos, nanos + min(amount, Self.maxNanos))
    }

    /// The UTC day of `unixMillis`, rounding down before the epoch too.
    static func day(_ unixMillis: Int64) -> Int64 {
        let quotient = unixMillis / millisPerDay
        return unixMillis % millisPerDay < 0 ? quotient - 1 : quotient
    }

    /// The first millisecond of the day after `day`.
    static func nextMidnight(afterDay day: Int64) -> Int64 { (day + 1) * millisPerDay }

    /// `usd` in nanodollars, rounded to the nearest; negative and NaN give 0, huge values saturate.
    static func nanos(_ usd: Double) -> Int64 {
        guard usd > 0 else { return 0 }
        let scaled = (usd * scale).rounded()
        return scaled >= Double(maxNanos) ? maxNanos : Int64(scaled)
    }

    static func usd(_ nanos: Int64) -> Double { Double(nanos) / scale }
}
