import FallbackCore
import Logging
import ServiceLifecycle

/// Owns the shadow calls' task group for the daemon's life. On graceful shutdown (after the socket
/// server has drained, so no request can start a new shadow) it lets running shadows finish within
/// the grace period, then cancels the rest; either way their attempts are recorded before the
/// call log's final flush, which runs after this service ends.
struct ShadowService: Service {
    let runner: ShadowRunner
    let graceMs: Int64
    let logger: Logger

    func run() async {
        let runner = self.runner
        let graceMs = self.graceMs
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await runner.run()
                return true
            }
            // Returns on graceful shutdown, throws on cancellation: both mean "wind down".
            try? await gracefulShutdown()
            runner.close()
            group.addTask {
                try? await Task.sleep(for: .milliseconds(graceMs))
                return false
            }
            // Whichever ends first: the shadows (all done) or the grace timer (cancel what is left).
            if await group.next() == false {
                logger.warning("grace period over with shadow calls running; cancelling them")
            }
            group.cancelAll()
        }
    }
}
