import CJansson
#if canImport(Glibc)
import Glibc
#endif

extension JSON {
    // Compact, any top-level kind, and reals printed with 15 significant digits so 0.2 stays 0.2.
    static let encodeFlags = Int(JSON_COMPACT) | Int(JSON_ENCODE_ANY) | ((15 & 0x1F) << 11)

    /// Calls `body` with the compact serialization (no trailing newline): the text `json_dumps`
    /// gives with ``encodeFlags``, written by ``JSONWriter``.
    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var writer = JSONWriter()
        writer.write(node)
        return try body(writer.bytes)
    }

    /// jansson's own serializer, kept as the reference ``JSONWriter`` is tested against.
    public func withJanssonSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let text = json_dumps(node, Self.encodeFlags) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        defer { free(text) }
        return try body(UnsafeRawBufferPointer(start: text, count: strlen(text)))
    }

    /// The compact serialization as bytes.
    public var serializedBytes: [UInt8] { withSerializedBytes { Array($0) } }

    /// The compact serialization as a string.
    public var serialized: String { withSerializedBytes { String(decoding: $0, as: UTF8.self) } }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized }
}
