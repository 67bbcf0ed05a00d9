import CJansson

extension JSON {
    /// Parses one JSON text of any kind (scalars included) from bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        if let node = JSONReader.read(bytes) { return JSON(owning: node) }
        return try parseWithJansson(bytes)
    }

    /// jansson's own parser: the reference ``JSONReader`` is tested against, and the judge of every
    /// text the reader is unsure of (errors keep jansson's message and position).
    public static func parseWithJansson(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSON {
        var error = json_error_t()
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        guard let base, let node = json_loadb(base, bytes.count, Self.decodeFlags, &error) else {
            if bytes.isEmpty {
                throw JSONParseError(message: "empty input", line: 1, column: 0, position: 0)
            }
            throw JSONParseError(error)
        }
        return JSON(owning: node)
    }

    /// Parses one JSON text from a string.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(JSONParseError) -> JSON in try parse(UnsafeRawBufferPointer(utf8)) }
        }
        return try result.get()
    }

    /// Parses one JSON text from a byte array.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSON in try parse(raw) }
        }
        return try result.get()
    }

    // NUL is valid in JSON strings; values are read with their length, never as C strings.
    static let decodeFlags = Int(JSON_DECODE_ANY) | Int(JSON_ALLOW_NUL)
}

extension JSONParseError {
    init(_ error: json_error_t) {
        var error = error
        let text = withUnsafeBytes(of: &error.text) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        self.init(message: text, line: Int(error.line), column: Int(error.column), position: Int(error.position))
    }
}
