import AsyncHTTPClient
import FallbackCore
import NIOCore
import Testing

@testable import FallbackProviders

/// Local limits are fallbackd's, never the provider's: they must not count against its breaker.
@Suite("HTTPTransport: classifying exchange errors")
struct TransportErrorTests {
    @Test("a full connection pool is local_capacity, which says nothing about the model")
    func poolWait() {
        let failure = HTTPTransport.failure(for: HTTPClientError.getConnectionFromPoolTimeout)
        #expect(failure.type == .localCapacity)
        #expect(failure.message.contains("max_connections"))
        #expect(!failure.type.reflectsModelHealth && !failure.type.isRetryable)
    }

    @Test("running out of file descriptors is local_capacity")
    func descriptors() {
        #expect(HTTPTransport.failure(for: IOError(errnoCode: 24, reason: "socket")).type == .localCapacity)
        #expect(HTTPTransport.failure(for: IOError(errnoCode: 23, reason: "socket")).type == .localCapacity)
    }

    @Test("the provider's own faults stay connection and timeout errors")
    func providerFaults() {
        #expect(HTTPTransport.failure(for: HTTPClientError.connectTimeout).type == .connection)
        #expect(HTTPTransport.failure(for: HTTPClientError.remoteConnectionClosed).type == .connection)
        #expect(HTTPTransport.failure(for: IOError(errnoCode: 104, reason: "read")).type == .connection)
        #expect(HTTPTransport.failure(for: HTTPClientError.readTimeout).type == .timeout)
    }
}
