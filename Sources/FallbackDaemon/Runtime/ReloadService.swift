import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads the config, for the daemon's whole life; it never ends the daemon.
struct ReloadService: Service {
    let reloader: Reloader
    /// Trapped before the services start, and kept by the daemon until it exits, so a SIGHUP at any
    /// moment (start-up, drain) reloads or is ignored instead of killing the process.
    let hangups: UnixSignalsSequence

    func run() async {
        for await _ in hangups.cancelOnGracefulShutdown() {
            _ = reloader.reload(trigger: "SIGHUP")
        }
    }
}
