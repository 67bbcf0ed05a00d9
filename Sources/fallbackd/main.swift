import ArgumentParser
import FallbackDaemon

// Before the first await: the executor can only be swapped while no Swift Concurrency code has run.
_ = DaemonCommandLine.installEventLoopExecutor()

// Parsed and run by hand: without @main, `await FallbackdCommand.main()` picks ArgumentParser's synchronous entry.
do {
    var command = try FallbackdCommand.parseAsRoot()
    if let daemon = command as? FallbackdCommand {
        try await daemon.execute()
    } else {
        try command.run()
    }
} catch {
    FallbackdCommand.exit(withError: error)
}
