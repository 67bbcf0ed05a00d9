import CJansson

extension JSON {
    /// The member `key` of an object; `nil` for a missing key or a non-object.
    public subscript(member key: String) -> JSON? {
        guard node.pointee.type == JSON_OBJECT else { return nil }
        var key = key
        let child = key.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { json_object_getn(node, $0.baseAddress, $0.count) }
        }
        return child.map { JSON(borrowing: $0) }
    }

    /// The element at `index` of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard node.pointee.type == JSON_ARRAY, index >= 0, let child = json_array_get(node, index) else { return nil }
        return JSON(borrowing: child)
    }

    /// Elements of an array or members of an object; 0 for scalars.
    public var count: Int {
        switch node.pointee.type {
        case JSON_ARRAY: json_array_size(node)
        case JSON_OBJECT: json_object_size(node)
        default: 0
        }
    }

    public var isNull: Bool { node.pointee.type == JSON_NULL }

    /// The string, if this is a string.
    public var stringValue: String? {
        guard node.pointee.type == JSON_STRING, let chars = json_string_value(node) else { return nil }
        let length = json_string_length(node)
        return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// The integer, if this is an integer (reals are not truncated).
    public var intValue: Int? {
        guard node.pointee.type == JSON_INTEGER else { return nil }
        return Int(json_integer_value(node))
    }

    /// The number, if this is an integer or a real.
    public var doubleValue: Double? {
        switch node.pointee.type {
        case JSON_INTEGER, JSON_REAL: json_number_value(node)
        default: nil
        }
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        switch node.pointee.type {
        case JSON_TRUE: true
        case JSON_FALSE: false
        default: nil
        }
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSON]? {
        guard node.pointee.type == JSON_ARRAY else { return nil }
        let size = json_array_size(node)
        var out: [JSON] = []
        out.reserveCapacity(size)
        for index in 0..<size {
            if let child = json_array_get(node, index) { out.append(JSON(borrowing: child)) }
        }
        return out
    }

    /// The members in document order, if this is an object.
    public var objectValue: [(key: String, value: JSON)]? {
        guard node.pointee.type == JSON_OBJECT else { return nil }
        var out: [(key: String, value: JSON)] = []
        out.reserveCapacity(json_object_size(node))
        var iter = json_object_iter(node)
        while let current = iter {
            if let keyPointer = json_object_iter_key(current), let value = json_object_iter_value(current) {
                let length = json_object_iter_key_len(current)
                let key = keyPointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                }
                out.append((key, JSON(borrowing: value)))
            }
            iter = json_object_iter_next(node, current)
        }
        return out
    }
}

extension JSON: Equatable {
    /// Structural equality, as jansson defines it.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        json_equal(lhs.node, rhs.node) == 1
    }
}
