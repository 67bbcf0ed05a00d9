// The chat request, the answer and token usage are the wire contract's types; Core routes them.
@_exported import FallbackWire
