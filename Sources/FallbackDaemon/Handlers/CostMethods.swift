import Dispatch
import FallbackCore
import FallbackRPC
import FallbackStore

/// `cost.report` and `shadow.report`: aggregate queries over the call log, run off the cooperative pool.
struct CostMethods: Sendable {
    let databasePath: String
    let callLog: CallLog
    let clock: any FallbackClock
    private let queue = DispatchQueue(label: "fallbackd.reports")

    static let dayMillis: Int64 = 86_400_000
    static let maxDays = 3_660

    init(databasePath: String, callLog: CallLog, clock: any FallbackClock) {
        self.databasePath = databasePath
        self.callLog = callLog
        self.clock = clock
    }

    func register(in table: inout RPCMethodTable) {
        table.register("cost.report", .deferred { params, _ in await costReport(params) })
        table.register("shadow.report", .deferred { params, _ in await shadowReport(params) })
    }

    /// The period asked for: `days` back from now (default 7), or `since`/`until` in unix millis.
    func period(_ params: JSON?, allowed: Set<String>) throws(RPCError) -> (since: Int64, until: Int64, days: Int?) {
        let now = clock.now().unixMillis
        if let params, params.kind != .object, !params.isNull { throw .invalidParams(field: "params", "must be an object") }
        for (key, _) in params?.objectValue ?? [] where !allowed.contains(key) {
            throw .invalidParams(field: key, "unknown parameter")
        }
        let since = params?["since"].flatMap { $0.isNull ? nil : $0 }
        let until = params?["until"].flatMap { $0.isNull ? nil : $0 }
        let daysValue = params?["days"].flatMap { $0.isNull ? nil : $0 }
        if since != nil || until != nil {
            guard daysValue == nil else { throw .invalidParams(field: "days", "give days, or since/until, not both") }
            guard let from = since?.intValue, from >= 0 else { throw .invalidParams(field: "since", "must be unix milliseconds") }
            let to = until?.intValue ?? Int(now)
            guard to > from else { throw .invalidParams(field: "until", "must be after since") }
            return (Int64(from), Int64(to), nil)
        }
        var days = 7
        if let daysValue {
            guard let value = daysValue.intValue, (1...Self.maxDays).contains(value) else {
                throw .invalidParams(field: "days", "must be an integer from 1 to \(Self.maxDays)")
            }
            days = value
        }
        return (now - Int64(days) * Self.dayMillis, now, days)
    }

    func costReport(_ params: JSON?) async -> Result<JSON, RPCError> {
        let range: (since: Int64, until: Int64, days: Int?)
        var weeks = 8
        do {
            range = try period(params, allowed: ["days", "since", "until", "weeks"])
            if let value = params?["weeks"], !value.isNull {
                guard let count = value.intValue, (1...520).contains(count) else {
                    throw RPCError.invalidParams(field: "weeks", "must be an integer from 1 to 520")
                }
                weeks = count
            }
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(.internalError("\(error)"))
        }
        _ = await callLog.flush()
        let path = databasePath
        let weekCount = weeks
        return await onQueue {
            let reporter = try CostReporter(path: path)
            defer { reporter.close() }
            let report = try reporter.report(sinceMillis: range.since, untilMillis: range.until, weeks: weekCount)
            return CostEncoding.report(report, since: range.since, until: range.until, days: range.days)
        }
    }

    func shadowReport(_ params: JSON?) async -> Result<JSON, RPCError> {
        let range: (since: Int64, until: Int64, days: Int?)
        do {
            range = try period(params, allowed: ["days", "since", "until"])
        } catch {
            return .failure(error)
        }
        _ = await callLog.flush()
        let path = databasePath
        return await onQueue {
            let reporter = try ShadowReporter(path: path)
            defer { reporter.close() }
            let pairs = try reporter.report(sinceMillis: range.since, untilMillis: range.until)
            return CostEncoding.shadow(pairs, since: range.since, until: range.until, days: range.days)
        }
    }

    /// Runs blocking SQLite work on the reports queue, never on the cooperative pool.
    private func onQueue(_ work: @escaping @Sendable () throws -> JSON) async -> Result<JSON, RPCError> {
        await withCheckedContinuation { continuation in
            queue.async {
                do {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(.internalError("report query failed: \(error)")))
                }
            }
        }
    }
}
