/// Why a value does not fit the wire contract: the offending field (`messages[2].content[0].type`)
/// and what is wrong with it. The daemon answers it as -32602 invalid params.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

extension RPCError {
    /// -32602 naming the field.
    public init(_ error: WireError) {
        self = .invalidParams(field: error.field, error.reason)
    }
}
