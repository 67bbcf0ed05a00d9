import FallbackRPC

extension FallbackClient {
    /// The sidecars sharing breakers with this daemon (`[fleet]`): each one's last heartbeat, its breakers
    /// that are not closed (every breaker row with `all`), and which host opened what. `enabled` is false
    /// when the daemon has no `[fleet]`.
    public func fleet(all: Bool = false) throws(FallbackClientError) -> FleetReport {
        let params: JSON? = all ? ["all": true] : nil
        return try decoded("fleet", params: params, FleetReport.init(json:))
    }
}
