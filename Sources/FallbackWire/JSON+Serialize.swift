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

extension JSON {
    // The marker key starts with NUL: neither jansson's parser nor ``JSONReader`` accepts such a key,
    // so no parsed document can pose as a pre-serialized value.
    private static let rawMarker: StaticString = "\0raw"

    /// A value whose serialization is `bytes`, already JSON: the writer splices them in wherever the
    /// value sits in a tree. For hot-path results written without a tree; read structurally, it is an
    /// object with one marker member, so only serialize it.
    public static func raw(_ bytes: UnsafeRawBufferPointer) -> JSON {
        guard let object = json_object() else { return .null }
        let text = bytes.baseAddress.map { json_stringn_nocheck($0.assumingMemoryBound(to: CChar.self), bytes.count) }
            ?? json_stringn_nocheck("", 0)
        if let text {
            let marker = UnsafeRawPointer(rawMarker.utf8Start).assumingMemoryBound(to: CChar.self)
            _ = json_object_setn_new_nocheck(object, marker, rawMarker.utf8CodeUnitCount, text)
        }
        return JSON(owning: object)
    }

    /// The text of a value made by ``raw(_:)``; `nil` for any other node.
    static func rawText(of node: UnsafeMutablePointer<json_t>) -> (start: UnsafeRawPointer, count: Int)? {
        guard json_object_size(node) == 1, let iter = json_object_iter(node),
            json_object_iter_key_len(iter) == rawMarker.utf8CodeUnitCount,
            let key = json_object_iter_key(iter), key.pointee == 0,
            memcmp(key, rawMarker.utf8Start, rawMarker.utf8CodeUnitCount) == 0,
            let value = json_object_iter_value(iter), value.pointee.type == JSON_STRING,
            let text = json_string_value(value)
        else { return nil }
        return (UnsafeRawPointer(text), json_string_length(value))
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized }
}
