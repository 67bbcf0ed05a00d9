import CJansson

/// A JSON value backed by a jansson node: parsing, reading and writing all go through libjansson.
///
/// `JSON` has value semantics: a mutation on a node that is shared (with another `JSON`, or
/// inside a parsed tree) first copies it, so nothing another holder sees ever changes.
public struct JSON: @unchecked Sendable {
    // Sendable is sound: shared nodes are never mutated (copy-on-write below), and jansson's
    // reference counts are atomic on this platform.
    @usableFromInline var box: JSONBox

    @usableFromInline init(box: JSONBox) { self.box = box }

    /// Takes ownership of one reference to `node` (a `json_*` constructor's result).
    @usableFromInline init(owning node: UnsafeMutablePointer<json_t>) { box = JSONBox(node) }

    /// Shares a node borrowed from a tree, adding a reference.
    @usableFromInline init(borrowing node: UnsafeMutablePointer<json_t>) { box = JSONBox(json_incref(node)) }

    /// The jansson node; valid while this value lives.
    public var node: UnsafeMutablePointer<json_t> { box.node }

    /// The kinds of JSON value.
    public enum Kind: Sendable, Equatable {
        case object, array, string, integer, real, bool, null
    }

    public var kind: Kind {
        switch node.pointee.type {
        case JSON_OBJECT: .object
        case JSON_ARRAY: .array
        case JSON_STRING: .string
        case JSON_INTEGER: .integer
        case JSON_REAL: .real
        case JSON_TRUE, JSON_FALSE: .bool
        default: .null
        }
    }

    /// Copies the node before a mutation when anyone else holds it. The copy is shallow: children
    /// stay shared, and a mutation reaching into one copies that child in turn (it is borrowed, so
    /// held twice), so editing the top of a large tree (a request's model and cap) costs one level.
    @inlinable mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&box) || box.node.pointee.refcount > 1 {
            guard let copy = json_copy(box.node) else { return }
            box = JSONBox(copy)
        }
    }
}

/// Owns one reference to a jansson node.
@usableFromInline final class JSONBox {
    @usableFromInline let node: UnsafeMutablePointer<json_t>

    @usableFromInline init(_ node: UnsafeMutablePointer<json_t>) { self.node = node }

    deinit { json_decref(node) }
}

/// Why a text is not JSON, with jansson's position.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    public var position: Int

    public var description: String { "\(message) at line \(line) column \(column)" }
}
