import Hummingbird
import NIOCore

/// Hummingbird's request context plus the connection's channel (for its peer and its closing).
struct FacadeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
