import AsyncHTTPClient
import FallbackCore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension HTTPTransport {
    /// Classifies an error of an HTTP exchange. Messages name the failure, never a URL or header.
    static func failure(for error: any Error) -> ProviderFailure {
        switch error {
        case is DeadlineReached:
            return ProviderFailure(.timeout, message: "attempt deadline reached")
        case is CancellationError:
            return ProviderFailure(.cancelled, message: "request cancelled")
        case is PoolWaitTimeout:
            return ProviderFailure(.localCapacity, message: poolBusy)
        case let stopped as StreamStopped:
            return stopped.failure
        case let error as HTTPClientError:
            return failure(forClientError: error)
        case let error as IOError where error.errnoCode == EMFILE || error.errnoCode == ENFILE:
            return ProviderFailure(.localCapacity, message: "fallbackd is out of file descriptors (\(clip(error.description)))")
        case let error as IOError:
            return ProviderFailure(.connection, message: "connection error: \(clip(error.description))")
        case let error as ChannelError:
            return failure(forChannelError: error)
        default:
            let text = String(describing: error)
            if text.contains("Too many open files") {
                return ProviderFailure(.localCapacity, message: "fallbackd is out of file descriptors (\(clip(text)))")
            }
            // NIOConnectionError (refused, unreachable, DNS), NIOSSLError (TLS) and the like.
            return ProviderFailure(
                .connection, message: "connection error: \(clip(String(describing: error)))")
        }
    }

    static let closedByProvider = "connection closed by the provider"
    /// Every connection fallbackd allows to this provider was busy: a local limit, not the provider
    /// failing (raise the provider's max_connections).
    static let poolBusy = "no free connection to the provider in time (its max_connections are all busy)"

    private static func failure(forClientError error: HTTPClientError) -> ProviderFailure {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return ProviderFailure(.timeout, message: "attempt timed out (\(error.shortDescription))")
        case .cancelled:
            return ProviderFailure(.cancelled, message: "request cancelled")
        case .alreadyShutdown:
            return ProviderFailure(.cancelled, message: "HTTP client is shut down")
        case .getConnectionFromPoolTimeout:
            return ProviderFailure(.localCapacity, message: poolBusy)
        case .connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout,
            .httpProxyHandshakeTimeout:
            return ProviderFailure(.connection, message: "could not connect (\(error.shortDescription))")
        case .remoteConnectionClosed, .uncleanShutdown:
            return ProviderFailure(.connection, message: closedByProvider)
        case .invalidURL, .emptyHost, .emptyScheme:
            return ProviderFailure(.invalidRequest, message: "invalid provider URL (\(error.shortDescription))")
        default:
            return ProviderFailure(.connection, message: "HTTP error (\(error.shortDescription))")
        }
    }

    private static func failure(forChannelError error: ChannelError) -> ProviderFailure {
        switch error {
        case .connectTimeout(_):
            return ProviderFailure(.connection, message: "could not connect (connect timeout)")
        case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
            return ProviderFailure(.connection, message: closedByProvider)
        default:
            return ProviderFailure(.connection, message: "connection error: \(clip(String(describing: error)))")
        }
    }

    private static func clip(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "…"
    }
}
