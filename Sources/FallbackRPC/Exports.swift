// The JSON value and the error object are the wire contract's; every RPC user needs them.
@_exported import FallbackWire
