import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the daemon's resident memory near what it uses. glibc gives each thread that contends its
/// own malloc arena (up to 8 per core) and keeps freed pages: after a burst of a thousand calls in
/// flight RSS stayed at its peak. Fewer arenas, and the free pages handed back once the daemon is
/// idle again.
enum MemoryReturn {
    // <malloc.h> is not in Swift's Glibc module: the two calls are looked up by name (absent from
    // other C libraries, where this does nothing). M_ARENA_MAX is -8 in glibc's malloc.h.
    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrim = @convention(c) (Int) -> Int32
    private static let mArenaMax: Int32 = -8

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        #if canImport(Glibc)
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
        #else
        return nil
        #endif
    }

    /// At start: one arena per core (at least two).
    static func configure() {
        #if canImport(Glibc)
        let cores = Int32(max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        _ = symbol("mallopt", as: Mallopt.self)?(mArenaMax, cores)
        #endif
    }

    private static let trimFunction = symbol("malloc_trim", as: MallocTrim.self)

    /// Hands free heap pages back to the system.
    static func trim() {
        _ = trimFunction?(0)
    }
}

/// Trims once per busy period, when the daemon has gone idle (nothing in flight), from the flusher's
/// cadence; never while requests run.
final class IdleTrimmer: Sendable {
    private let busy = Mutex(false)

    func tick(inFlight: Int) {
        let trim = busy.withLock { wasBusy -> Bool in
            if inFlight > 0 {
                wasBusy = true
                return false
            }
            defer { wasBusy = false }
            return wasBusy
        }
        if trim { MemoryReturn.trim() }
    }
}
