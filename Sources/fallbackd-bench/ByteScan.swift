/// Byte searches on reply lines, cheap enough for the closed-loop hot path.
enum ByteScan {
    static let idKey = Array(#""id":"#.utf8)
    static let resultKey = Array(#""result":"#.utf8)
    static let modelUsedKey = Array(#""model_used":"#.utf8)
    static let pongResult = Array(#""result":"pong""#.utf8)

    /// Offset of `needle` in `haystack`, or nil.
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        let n = needle.count
        guard n > 0, haystack.count >= n else { return nil }
        let first = needle[0]
        var at = 0
        let last = haystack.count - n
        while at <= last {
            if haystack[at] == first {
                var k = 1
                while k < n, haystack[at + k] == needle[k] { k += 1 }
                if k == n { return at }
            }
            at += 1
        }
        return nil
    }

    static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        find(needle, in: haystack) != nil
    }

    /// The integer after the first `"id":` key. No key named `id` exists below the top level of a
    /// fallbackd reply, and a quote inside a JSON string is escaped, so the first hit is the reply's id.
    static func replyID(in line: UnsafeRawBufferPointer) -> Int? {
        guard var at = find(idKey, in: line) else { return nil }
        at += idKey.count
        while at < line.count, line[at] == UInt8(ascii: " ") { at += 1 }
        var value = 0
        var digits = 0
        while at < line.count, line[at] >= UInt8(ascii: "0"), line[at] <= UInt8(ascii: "9"), digits < 18 {
            value = value * 10 + Int(line[at] - UInt8(ascii: "0"))
            at += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
