import ArgumentParser
import FallbackClient
import FallbackRPC

/// `fallbackctl fleet`: the sidecars sharing breakers through PostgreSQL, as this daemon last read them.
struct FleetCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Show every sidecar of the fleet: last seen, breakers that are not closed, who opened what.",
        discussion: """
            Needs a [fleet] section in the daemon's config. OPENED BY names the host whose trip opened a \
            breaker on that sidecar ("-": the sidecar tripped itself). Nothing here waits on the database: \
            the daemon answers from what it last read.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "List closed breakers too.")
    var all = false

    @Flag(help: "Print the raw result JSON.")
    var json = false

    func run(with client: FallbackClient) throws(FallbackClientError) {
        if json {
            print(try client.call("fleet", params: all ? ["all": true] : nil).serialized)
            return
        }
        let report = try client.fleet(all: all)
        guard report.enabled else {
            print("no fleet: the daemon runs local-only (add a [fleet] section to share breakers)")
            return
        }
        let now = Output.nowUnixMillis()
        let link = report.connected ? "connected" : "DISCONNECTED (local-only)" + (report.lastError.map { ": \($0)" } ?? "")
        print("fleet \(report.fleet), this host \(report.host): \(link)")
        print("events: \(report.eventsPublished) published, \(report.eventsReceived) received, "
            + "\(report.eventsApplied) applied, \(report.eventsDropped) dropped; reconnects: \(report.reconnects)"
            + (report.probeLeases.isEmpty ? "" : "; probing: \(report.probeLeases.joined(separator: ", "))"))
        var table = Table([.init("HOST"), .init("LAST SEEN"), .init("MODEL"), .init("STATE"), .init("UNTIL"), .init("OPENED BY"), .init("REASON")])
        for member in report.members {
            let host = member.host + (member.isSelf ? " (this)" : "")
            let seen = member.lastSeenMs >= now ? "now" : Output.duration(millis: now - Int64(member.lastSeenMs)) + " ago"
            if member.breakers.isEmpty {
                table.append([host, seen, "-", "all closed", "", "", ""])
            }
            for (index, breaker) in member.breakers.enumerated() {
                table.append([
                    index == 0 ? host : "", index == 0 ? seen : "", breaker.model,
                    breaker.state.rawValue + (breaker.misconfigured ? " (misconfigured)" : ""),
                    breaker.untilMs.map { Output.until(nil, ms: $0, now: now) } ?? "", breaker.openedBy ?? "-", breaker.reason ?? "",
                ])
            }
        }
        table.print()
    }
}
