import CJansson

extension JSON {
    public static var null: JSON { JSON(owning: json_null()) }
    public static var emptyObject: JSON { JSON(owning: json_object()) }
    public static var emptyArray: JSON { JSON(owning: json_array()) }

    public static func string(_ value: String) -> JSON {
        var value = value
        // Swift strings are valid UTF-8, so jansson's check is skipped.
        let node = value.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                chars.baseAddress.map { json_stringn_nocheck($0, chars.count) } ?? json_string_nocheck("")
            }
        }
        return node.map { JSON(owning: $0) } ?? .null
    }

    public static func int(_ value: Int) -> JSON { JSON(owning: json_integer(json_int_t(value))) }

    /// A real; non-finite values become `null`, as JSON has no NaN or infinity.
    public static func double(_ value: Double) -> JSON {
        guard value.isFinite, let node = json_real(value) else { return .null }
        return JSON(owning: node)
    }

    public static func bool(_ value: Bool) -> JSON { JSON(owning: value ? json_true() : json_false()) }

    public static func array(_ values: [JSON]) -> JSON {
        var array = JSON.emptyArray
        for value in values { array.append(value) }
        return array
    }

    /// An object with members in the given order.
    public static func object(_ members: KeyValuePairs<String, JSON>) -> JSON {
        var object = JSON.emptyObject
        for (key, value) in members { object[key] = value }
        return object
    }

    /// A string, or `null` for `nil`.
    public static func optional(_ value: String?) -> JSON { value.map { .string($0) } ?? .null }
    /// An integer, or `null` for `nil`.
    public static func optional(_ value: Int?) -> JSON { value.map { .int($0) } ?? .null }
    /// A real, or `null` for `nil`.
    public static func optional(_ value: Double?) -> JSON { value.map { .double($0) } ?? .null }
    /// A boolean, or `null` for `nil`.
    public static func optional(_ value: Bool?) -> JSON { value.map { .bool($0) } ?? .null }

    /// Sets or removes (`nil`) an object member. No effect on a non-object.
    public subscript(key: String) -> JSON? {
        get { self[member: key] }
        set {
            guard node.pointee.type == JSON_OBJECT else { return }
            makeUnique()
            var key = key
            key.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { chars in
                    let emptyKey: StaticString = ""
                    let keyPointer = chars.baseAddress
                        ?? UnsafeRawPointer(emptyKey.utf8Start).assumingMemoryBound(to: CChar.self)
                    if let newValue {
                        _ = json_object_setn_nocheck(box.node, keyPointer, chars.count, newValue.node)
                    } else {
                        _ = json_object_deln(box.node, keyPointer, chars.count)
                    }
                }
            }
        }
    }

    /// This object with `other`'s members added (replacing same-named ones). Non-objects are returned as they are.
    public func merging(_ other: JSON) -> JSON {
        var merged = self
        for (key, value) in other.objectValue ?? [] { merged[key] = value }
        return merged
    }

    /// Appends to an array. No effect on a non-array.
    public mutating func append(_ value: JSON) {
        guard node.pointee.type == JSON_ARRAY else { return }
        makeUnique()
        _ = json_array_append(box.node, value.node)
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }

    public init(dictionaryLiteral elements: (String, JSON)...) {
        var object = JSON.emptyObject
        for (key, value) in elements { object[key] = value }
        self = object
    }
}
