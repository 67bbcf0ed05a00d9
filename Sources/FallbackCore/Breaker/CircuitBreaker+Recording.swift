extension CircuitBreaker {
    /// Records a finished call made under `permit`.
    ///
    /// Ignored (false) when the permit is from an older generation. Outcomes whose error type does not reflect
    /// the model's health (cancelled, invalid_request, context_length, content_filter) are excluded: they only
    /// release a half-open probe slot (false). Otherwise the outcome counts (true): while closed against the trip
    /// rules; in half-open as the probe's verdict.
    @discardableResult
    public mutating func record(_ outcome: CallOutcome, permit: BreakerPermit, at now: Moment) -> Bool {
        // Judged by how it ended, unless it was already counted as hung while it ran.
        if permit.generation == generation {
            outstanding[permit.callID] = nil
            late.remove(permit.callID)
        }
        refresh(at: now)
        guard permit.generation == generation else { return false }
        switch phase {
        case .closed:
            if countedHung.remove(permit.callID) != nil { return true }
            guard outcome.reflectsModelHealth else { return false }
            countClosed(outcome, startedAt: permit.startedAt, at: now)
            return true
        case .halfOpen:
            probesInFlight = max(0, probesInFlight - 1)
            guard outcome.reflectsModelHealth else { return false }
            judgeProbe(outcome, at: now)
            return true
        case .open, .isolated:
            return false
        }
    }

    /// Records an outcome seen outside fallbackd (the `report` method) as if a permit had been taken `now`.
    ///
    /// Closed: counts like a call fallbackd made. Half-open: used as a probe when a probe slot is free
    /// (otherwise ignored). Open or isolated: ignored (false). Excluded outcomes never count.
    @discardableResult
    public mutating func recordExternal(_ outcome: CallOutcome, at now: Moment) -> Bool {
        refresh(at: now)
        guard outcome.reflectsModelHealth else { return false }
        switch phase {
        case .closed:
            countClosed(outcome, startedAt: nil, at: now)
            return true
        case .halfOpen:
            guard probesInFlight < max(1, policy.halfOpenProbes) else { return false }
            judgeProbe(outcome, at: now)
            return true
        case .open, .isolated:
            return false
        }
    }

    /// Adds a closed-period outcome to the counters and trips when a rule says so. A success of a
    /// call that started before the latest failure does not reset the consecutive count: it says
    /// nothing about the model since then.
    mutating func countClosed(_ outcome: CallOutcome, startedAt: Moment?, at now: Moment) {
        let slow = policy.isSlow(outcome)
        window.append(OutcomeWindow.code(failed: !outcome.success, slow: slow, timeout: outcome.errorType == .timeout))
        if outcome.success {
            if let startedAt { lastSuccessStart = max(lastSuccessStart ?? startedAt, startedAt) }
            if let startedAt, let lastFailureAt, startedAt < lastFailureAt { return }
            consecutiveFailures = 0
            consecutiveTimeouts = 0
        } else {
            consecutiveFailures += 1
            consecutiveTimeouts = outcome.errorType == .timeout ? consecutiveTimeouts + 1 : 0
            lastFailureAt = now
        }
        if let type = outcome.errorType, type.opensAtOnce {
            openMisconfigured(at: now, type: type)
        } else if let rule = tripRule() {
            trip(at: now, reason: rule.reason, timeouts: rule.timeouts)
        }
    }

    /// The result of a half-open probe: a healthy, timely success closes; anything else reopens one level up.
    mutating func judgeProbe(_ outcome: CallOutcome, at now: Moment) {
        if !outcome.success {
            lastFailureAt = now
            if let type = outcome.errorType, type.opensAtOnce {
                openMisconfigured(at: now, type: type)
            } else {
                trip(at: now, reason: "probe failed", timeouts: nil)
            }
        } else if policy.isSlow(outcome), let limit = policy.slowCallMs {
            trip(at: now, reason: "probe slow: \(outcome.latencyMs) ms > \(limit) ms", timeouts: true)
        } else {
            close(at: now)
        }
    }

    /// An auth or quota failure: the key, account or configuration is wrong, so open at once for the
    /// long misconfiguration period. The level is left alone: this is not the model flapping.
    mutating func openMisconfigured(at now: Moment, type: ErrorType) {
        open(for: max(0, policy.authOpenMs), at: now, reason: "\(type.rawValue): misconfigured", misconfigured: true)
    }

    /// Which trip rule, if any, the closed-period counters now meet, and whether it is one of
    /// timeouts (consecutive timeouts, the timeout rate, slow calls): a gray failure.
    func tripRule() -> (reason: String, timeouts: Bool)? {
        let rule = policy.consecutiveFailures
        if rule > 0, consecutiveFailures >= rule {
            if consecutiveTimeouts >= consecutiveFailures { return ("\(consecutiveFailures) consecutive timeouts", true) }
            return ("\(consecutiveFailures) consecutive failures", false)
        }
        let minimum = policy.effectiveMinimumCalls
        if let threshold = policy.timeoutRateThreshold {
            // Over the latest `minimum` calls, late calls still out counting as the latest: hanging
            // calls show up as a burst, which the whole window would dilute with older successes.
            let pending = min(late.count, minimum)
            let timeouts = window.timeouts(inLast: minimum - pending) + pending
            if window.count + pending >= minimum, timeouts > 0 {
                let rate = Double(timeouts) / Double(minimum)
                if rate >= threshold {
                    let still = pending > 0 ? ", \(pending) still out" : ""
                    return ("timeout rate \(Self.format(rate)) >= \(threshold) over the last \(minimum) calls\(still)", true)
                }
            }
        }
        guard window.count >= minimum else { return nil }
        if let threshold = policy.failureRateThreshold, window.failureRate >= threshold {
            return ("failure rate \(Self.format(window.failureRate)) >= \(threshold) over \(window.count) calls", false)
        }
        if let limit = policy.slowCallMs, window.slowRate >= policy.slowCallRateThreshold {
            return ("slow calls: rate \(Self.format(window.slowRate)) >= \(policy.slowCallRateThreshold)"
                + " over \(window.count) calls slower than \(limit) ms", true)
        }
        return nil
    }

    /// A rate with two decimals ("0.55"), without Foundation.
    static func format(_ rate: Double) -> String {
        let hundredths = Int((rate * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
