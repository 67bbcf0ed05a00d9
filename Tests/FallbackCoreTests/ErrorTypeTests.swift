import Testing

@testable import FallbackCore

@Suite("ErrorType")
struct ErrorTypeTests {
    /// (case, wire name, isRetryable, reflectsModelHealth) for every case.
    static let table: [(ErrorType, String, Bool, Bool)] = [
        (.rateLimited, "rate_limited", true, true),
        (.overloaded, "overloaded", true, true),
        (.serverError, "server_error", true, true),
        (.timeout, "timeout", true, true),
        (.connection, "connection", true, true),
        (.auth, "auth", false, true),
        (.invalidRequest, "invalid_request", false, false),
        (.contextLength, "context_length", false, false),
        (.contentFilter, "content_filter", false, false),
        (.badResponse, "bad_response", false, true),
        (.cancelled, "cancelled", false, false),
        (.quota, "quota", false, true),
        (.misconfigured, "misconfigured", false, true),
        (.truncated, "truncated", false, false),
        (.localCapacity, "local_capacity", false, false),
    ]

    @Test("the table covers every case exactly once")
    func tableIsComplete() {
        #expect(Set(Self.table.map(\.0)) == Set(ErrorType.allCases))
        #expect(Self.table.count == ErrorType.allCases.count)
    }

    @Test("wire names are the spec's error_type values")
    func wireNames() {
        for (type, name, _, _) in Self.table {
            #expect(type.rawValue == name)
            #expect(ErrorType(rawValue: name) == type)
        }
        let spec = "rate_limited, overloaded, server_error, timeout, connection, auth, invalid_request, context_length, content_filter, bad_response, cancelled, quota, misconfigured, truncated, local_capacity"
        #expect(ErrorType.allCases.map(\.rawValue).joined(separator: ", ") == spec)
    }

    @Test("isRetryable: only transient failures")
    func retryable() {
        for (type, _, retryable, _) in Self.table {
            #expect(type.isRetryable == retryable, "\(type)")
        }
    }

    @Test("reflectsModelHealth: not for the caller's own faults or cancellation")
    func health() {
        for (type, _, _, health) in Self.table {
            #expect(type.reflectsModelHealth == health, "\(type)")
        }
    }

    @Test("every retryable failure also reflects model health")
    func retryableImpliesHealth() {
        for type in ErrorType.allCases where type.isRetryable {
            #expect(type.reflectsModelHealth, "\(type)")
        }
    }

    @Test("ProviderFailure defaults: no status, no retry-after, zero usage")
    func providerFailureDefaults() {
        let failure = ProviderFailure(.timeout, message: "deadline")
        #expect(failure.type == .timeout)
        #expect(failure.httpStatus == nil)
        #expect(failure.retryAfterMs == nil)
        #expect(failure.usage == .zero)
        #expect(failure.message == "deadline")
    }
}
