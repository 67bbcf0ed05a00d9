import FallbackCore
import FallbackProviders
import FallbackRPC
import Synchronization

/// Everything built from one version of the config: providers, the router and the service over
/// them, the method table. A reload builds a new one and swaps it in whole; a request keeps the
/// runtime it started on.
final class DaemonRuntime: Sendable {
    let config: DaemonConfig
    /// Counts loads: 1 for the config the daemon started with, +1 per successful reload.
    let generation: Int
    let resilience: Resilience
    let router: Router
    let service: CompletionService
    let runner: CompletionRunner
    let sampler: ShadowSampler
    let shadows: ShadowRunner
    let hedgeBudget: HedgeBudget
    /// Who may call what (`[apps.NAME]`).
    let apps: AppRules
    /// The JSON-RPC method table over this runtime.
    private let table = Mutex<RPCMethodTable?>(nil)

    init(
        config: DaemonConfig, generation: Int, resilience: Resilience, router: Router, service: CompletionService,
        runner: CompletionRunner, sampler: ShadowSampler, shadows: ShadowRunner, hedgeBudget: HedgeBudget, apps: AppRules
    ) {
        self.config = config
        self.generation = generation
        self.resilience = resilience
        self.router = router
        self.service = service
        self.runner = runner
        self.sampler = sampler
        self.shadows = shadows
        self.hedgeBudget = hedgeBudget
        self.apps = apps
    }

    var methods: RPCMethodTable { table.withLock { $0 ?? RPCMethodTable() } }

    func install(_ methods: RPCMethodTable) {
        table.withLock { $0 = methods }
    }
}

/// The current runtime, swapped atomically by a reload.
final class RuntimeBox: Sendable {
    private let runtime: Mutex<DaemonRuntime>

    init(_ runtime: DaemonRuntime) {
        self.runtime = Mutex(runtime)
    }

    var current: DaemonRuntime { runtime.withLock { $0 } }

    /// Puts `next` in place; returns the one it replaced.
    @discardableResult
    func swap(_ next: DaemonRuntime) -> DaemonRuntime {
        runtime.withLock { current in
            let previous = current
            current = next
            return previous
        }
    }
}
