// The client speaks the wire contract's types (Completion, ChatMessage, RouteEntry...): callers get them too.
@_exported import FallbackWire
