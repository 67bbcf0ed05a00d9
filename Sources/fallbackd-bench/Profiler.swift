#if canImport(Glibc)
import Glibc
#endif

/// `perf record -e cpu-clock -g -p PID` for one phase (optional; needs linux-perf and root or a
/// permissive perf_event_paranoid). Spawned with an empty signal mask: threads here block signals,
/// and a perf that inherits that mask never sees SIGINT or its workload's SIGCHLD.
final class Profiler: @unchecked Sendable {
    private let child: pid_t
    private var exited = false

    private init(child: pid_t) { self.child = child }

    /// Starts recording; `limitSeconds` bounds perf's life even if nobody stops it.
    static func start(pid: Int32, output: String, limitSeconds: Double) async -> Profiler? {
        let arguments = [
            "perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-g", "-p", String(pid), "-o", output,
            "--", "sleep", String(Int(limitSeconds.rounded(.up)) + 5),
        ]
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGCHLD)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, output + ".log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var cArguments = arguments.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var child: pid_t = 0
        let status = posix_spawnp(&child, "perf", &fileActions, &attributes, cArguments, environ)
        guard status == 0 else {
            log("profiler: cannot run perf: \(String(cString: strerror(status)))")
            return nil
        }
        let profiler = Profiler(child: child)
        // perf needs a moment to attach to every thread.
        try? await Task.sleep(nanoseconds: 300_000_000)
        if profiler.reap() {
            log("profiler: perf exited at once; see \(output).log")
            return nil
        }
        log("profiler: perf recording fallbackd into \(output)")
        return profiler
    }

    /// True once perf has exited (and is reaped).
    private func reap() -> Bool {
        if exited { return true }
        var status: Int32 = 0
        if waitpid(child, &status, WNOHANG) == child { exited = true }
        return exited
    }

    /// SIGINT so perf writes its file, then waits for it (SIGKILL after 30 s).
    func stop() async {
        kill(child, SIGINT)
        for _ in 0..<600 {
            if reap() { return }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        log("profiler: perf did not stop; killing it")
        kill(child, SIGKILL)
        var status: Int32 = 0
        waitpid(child, &status, 0)
    }
}
