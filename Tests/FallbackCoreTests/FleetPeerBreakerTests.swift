import Synchronization
import Testing

@testable import FallbackCore

@Suite("Fleet: a peer's breaker events applied to this sidecar's breakers")
struct FleetPeerBreakerTests {
    let t0 = BreakerFixture.t0

    func openEvent(_ model: String = "gpt-4o", host: String = "host-b", forMs: Int64 = 30_000, at: Moment? = nil) -> FleetEvent {
        let at = at ?? t0
        return FleetEvent(
            kind: .open, host: host, model: model, atUnixMillis: at.unixMillis, untilUnixMillis: at.unixMillis + forMs, level: 1,
            reason: "3 consecutive failures")
    }

    @Test("a peer's open opens here until the same wall-clock time, marked with the peer's host")
    func peerOpenOpensUntilSameTime() {
        let board = BreakerBoard()
        #expect(board.applyPeer(openEvent(), at: t0))
        let status = board.status("gpt-4o", at: t0)
        #expect(status.phase == .open)
        #expect(status.openUntil?.unixMillis == t0.unixMillis + 30_000)
        #expect(status.openedByPeer == "host-b")
        #expect(status.trips == 0)
        #expect(status.level == 1)
        #expect(board.acquire("gpt-4o", at: t0.adding(millis: 29_999)) == .rejected(phase: .open, until: status.openUntil))
        // The open period ends here when it ends on the peer: half-open, still marked as the peer's.
        let later = board.status("gpt-4o", at: t0.adding(millis: 30_000))
        #expect(later.phase == .halfOpen)
        #expect(later.openedByPeer == "host-b")
    }

    @Test("an open whose period is over, or shorter than the local one, changes nothing")
    func staleOrShorterOpenIgnored() {
        let board = BreakerBoard()
        #expect(!board.applyPeer(openEvent(forMs: 1_000, at: t0.adding(millis: -5_000)), at: t0))
        #expect(board.status("gpt-4o", at: t0).phase == .closed)
        #expect(board.applyPeer(openEvent(forMs: 60_000), at: t0))
        #expect(!board.applyPeer(openEvent(host: "host-c", forMs: 10_000), at: t0))
        #expect(board.status("gpt-4o", at: t0).openedByPeer == "host-b")
    }

    @Test("an isolated breaker stays isolated whatever peers say")
    func isolatedStays() {
        let board = BreakerBoard()
        board.isolate("gpt-4o", at: t0)
        #expect(!board.applyPeer(openEvent(), at: t0))
        #expect(!board.applyPeer(FleetEvent(kind: .closed, host: "host-b", model: "gpt-4o", atUnixMillis: t0.unixMillis), at: t0))
        #expect(board.status("gpt-4o", at: t0).phase == .isolated)
    }

    @Test("a peer's close (its probe succeeded) closes a peer-opened breaker, open or half-open")
    func peerCloseCloses() {
        let board = BreakerBoard()
        board.applyPeer(openEvent(forMs: 1_000), at: t0)
        let afterPeriod = t0.adding(millis: 2_000)
        #expect(board.status("gpt-4o", at: afterPeriod).phase == .halfOpen)
        let close = FleetEvent(kind: .closed, host: "host-b", model: "gpt-4o", atUnixMillis: afterPeriod.unixMillis)
        #expect(board.applyPeer(close, at: afterPeriod))
        let status = board.status("gpt-4o", at: afterPeriod)
        #expect(status.phase == .closed)
        #expect(status.openedByPeer == nil)
    }

    @Test("a local trip newer than the peer's close stands; an older one is closed")
    func localTripOrderedAgainstPeerClose() {
        let policy = BreakerPolicy(consecutiveFailures: 1)
        let board = BreakerBoard(defaultPolicy: policy)
        let tripAt = t0.adding(millis: 500)
        if let permit = board.acquire("gpt-4o", at: tripAt).permit {
            board.record("gpt-4o", .failure(.serverError, latencyMs: 1), permit: permit, at: tripAt)
        }
        #expect(board.status("gpt-4o", at: tripAt).phase == .open)
        let olderClose = FleetEvent(kind: .closed, host: "host-b", model: "gpt-4o", atUnixMillis: t0.unixMillis)
        #expect(!board.applyPeer(olderClose, at: tripAt))
        #expect(board.status("gpt-4o", at: tripAt).phase == .open)
        let newerClose = FleetEvent(kind: .closed, host: "host-b", model: "gpt-4o", atUnixMillis: tripAt.unixMillis + 100)
        #expect(board.applyPeer(newerClose, at: tripAt.adding(millis: 100)))
        #expect(board.status("gpt-4o", at: tripAt.adding(millis: 100)).phase == .closed)
    }

    @Test("transitions a peer caused are reported with its host, so they are never announced again")
    func transitionsCarryPeer() {
        let seen = Mutex<[BreakerTransition]>([])
        let board = BreakerBoard(defaultPolicy: BreakerPolicy(consecutiveFailures: 1), onTransition: { t in seen.withLock { $0.append(t) } })
        board.applyPeer(openEvent(forMs: 1_000), at: t0)
        _ = board.status("gpt-4o", at: t0.adding(millis: 1_000))
        board.applyPeer(FleetEvent(kind: .closed, host: "host-b", model: "gpt-4o", atUnixMillis: t0.unixMillis + 1_000), at: t0.adding(millis: 1_000))
        if let permit = board.acquire("gpt-4o", at: t0.adding(millis: 2_000)).permit {
            board.record("gpt-4o", .failure(.serverError, latencyMs: 1), permit: permit, at: t0.adding(millis: 2_000))
        }
        let transitions = seen.withLock { $0 }
        #expect(transitions.map(\.to) == [.open, .halfOpen, .closed, .open])
        #expect(transitions.map(\.peerHost) == ["host-b", "host-b", "host-b", nil])
        #expect(transitions.compactMap { FleetEvent($0, host: "host-a", at: t0) }.map(\.kind) == [.open])
    }

    @Test("misconfigured, isolated and half-open events are not applied to breakers")
    func informationalEventsIgnored() {
        let board = BreakerBoard()
        for kind in [FleetEvent.Kind.misconfigured, .isolated, .halfOpen] {
            let event = FleetEvent(kind: kind, host: "host-b", model: "gpt-4o", atUnixMillis: t0.unixMillis, untilUnixMillis: t0.unixMillis + 60_000)
            #expect(!board.applyPeer(event, at: t0))
        }
        #expect(board.status("gpt-4o", at: t0).phase == .closed)
    }

    @Test("a peer's parking parks here until the same time, without telling the observer")
    func peerParking() {
        let heard = Mutex(0)
        let parking = ParkingBoard(onPark: { _, _ in heard.withLock { $0 += 1 } })
        let event = FleetEvent(kind: .parked, host: "host-b", model: "gpt-4o", atUnixMillis: t0.unixMillis, untilUnixMillis: t0.unixMillis + 5_000)
        #expect(parking.applyPeer(event, at: t0))
        #expect(parking.parkedUntil("gpt-4o", at: t0)?.unixMillis == t0.unixMillis + 5_000)
        #expect(heard.withLock { $0 } == 0)
        parking.park("gpt-4o", until: t0.adding(millis: 9_000))
        #expect(heard.withLock { $0 } == 1)
        #expect(!parking.applyPeer(event, at: t0.adding(millis: 6_000)))
    }
}

@Suite("Fleet: failures counted across the fleet")
struct FleetSharedFailureTests {
    let t0 = BreakerFixture.t0

    func failure(_ host: String = "host-b", at: Moment) -> FleetEvent {
        FleetEvent(kind: .failure, host: host, model: "gpt-4o", atUnixMillis: at.unixMillis)
    }

    @Test("peers' failures add to the consecutive count; the threshold trips here, as this sidecar's own trip")
    func peerFailuresTrip() {
        let seen = Mutex<[BreakerTransition]>([])
        let board = BreakerBoard(onTransition: { t in seen.withLock { $0.append(t) } })
        #expect(board.applyPeer(failure(at: t0), at: t0))
        if let permit = board.acquire("gpt-4o", at: t0).permit {
            board.record("gpt-4o", .failure(.serverError, latencyMs: 5), permit: permit, at: t0)
        }
        #expect(board.status("gpt-4o", at: t0).consecutiveFailures == 2)
        #expect(board.applyPeer(failure("host-c", at: t0), at: t0))
        let status = board.status("gpt-4o", at: t0)
        #expect(status.phase == .open)
        #expect(status.openedByPeer == nil)
        #expect(status.lastTripReason == "3 consecutive failures across the fleet")
        #expect(seen.withLock { $0 }.map(\.peerHost) == [nil])
        // once open, more peer failures change nothing
        #expect(!board.applyPeer(failure(at: t0), at: t0))
    }

    @Test("a failure that waited in an outbox longer than the freshness limit is not counted")
    func staleFailureIgnored() {
        let board = BreakerBoard()
        let old = t0.adding(millis: -(FleetEvent.failureFreshnessMs + 1))
        #expect(!board.applyPeer(failure(at: old), at: t0))
        #expect(board.applyPeer(failure(at: t0.adding(millis: -FleetEvent.failureFreshnessMs)), at: t0))
        #expect(board.status("gpt-4o", at: t0).consecutiveFailures == 1)
    }

    @Test("a local success starts the count again; the window's rates stay local")
    func successResets() {
        let board = BreakerBoard()
        board.applyPeer(failure(at: t0), at: t0)
        board.applyPeer(failure(at: t0), at: t0)
        let later = t0.adding(millis: 10)
        if let permit = board.acquire("gpt-4o", at: later).permit {
            board.record("gpt-4o", .success(latencyMs: 5), permit: permit, at: later)
        }
        let status = board.status("gpt-4o", at: later)
        #expect(status.consecutiveFailures == 0)
        #expect(status.callsInWindow == 1)
    }

    @Test("the failure observer hears counted failures that leave the breaker closed, not the tripping one")
    func failureObserver() {
        let heard = Mutex<[String]>([])
        let board = BreakerBoard(onFailure: { model, _ in heard.withLock { $0.append(model) } })
        for _ in 0..<3 {
            if let permit = board.acquire("gpt-4o", at: t0).permit {
                board.record("gpt-4o", .failure(.serverError, latencyMs: 5), permit: permit, at: t0)
            }
        }
        board.recordExternal("claude", .failure(.timeout, latencyMs: 5), at: t0)
        board.recordExternal("claude", .failure(.invalidRequest, latencyMs: 5), at: t0)
        board.applyPeer(failure(at: t0), at: t0)
        #expect(heard.withLock { $0 } == ["gpt-4o", "gpt-4o", "claude"])
    }
}
