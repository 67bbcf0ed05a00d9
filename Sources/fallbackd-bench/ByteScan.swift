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

/// Where one `complete` reply went: its `attempts` (in `result`, or in `error.data` when the request
/// failed), how many of them were on one watched model, and `result.model_used`. One pass over the
/// bytes after the keys are found, no allocation: cheap enough to run on every reply.
struct RouteScan {
    static let attemptsKey = Array(#""attempts":["#.utf8)
    static let modelKey = Array(#""model":""#.utf8)

    /// `attempts` entries; nil when the reply has no attempts array.
    var attempts: Int
    /// Entries whose `model` is the watched name.
    var watchedAttempts: Int
    /// Byte range of the `model_used` value inside the line (empty when there is none).
    var modelUsed: Range<Int>

    /// nil when the line has no `attempts` array (not a `complete` reply, or a malformed one).
    init?(_ line: UnsafeRawBufferPointer, watching watched: [UInt8]) {
        // Both keys are found with their leading quote; a quote inside a JSON string is escaped, so a
        // match preceded by `{` or `,` is a real key, never text inside `content` or `message`.
        guard let start = RouteScan.key(RouteScan.attemptsKey, in: line) else { return nil }
        modelUsed = 0..<0
        if let at = RouteScan.key(ByteScan.modelUsedKey, in: line), at + ByteScan.modelUsedKey.count < line.count,
            line[at + ByteScan.modelUsedKey.count] == UInt8(ascii: "\"")
        {
            let from = at + ByteScan.modelUsedKey.count + 1
            var to = from
            while to < line.count, line[to] != UInt8(ascii: "\""), line[to] != UInt8(ascii: "\\") { to += 1 }
            modelUsed = from..<to
        }
        attempts = 0
        watchedAttempts = 0
        // Walk the array: depth 0 is between entries, 1 inside an entry object.
        var at = start + RouteScan.attemptsKey.count
        var depth = 0
        var inString = false
        var previous: UInt8 = UInt8(ascii: "[")
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        while at < line.count {
            let byte = line[at]
            if inString {
                if byte == backslash {
                    at += 2
                    continue
                }
                if byte == quote { inString = false }
                at += 1
                continue
            }
            switch byte {
            case quote:
                // A key of an entry object: is it `"model":"<watched>"`?
                if depth == 1, previous == UInt8(ascii: "{") || previous == UInt8(ascii: ","),
                    RouteScan.matches(RouteScan.modelKey, in: line, at: at)
                {
                    let value = at + RouteScan.modelKey.count
                    if RouteScan.matches(watched, in: line, at: value), value + watched.count < line.count,
                        line[value + watched.count] == quote
                    {
                        watchedAttempts += 1
                    }
                }
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 0, byte == UInt8(ascii: "{") { attempts += 1 }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return }     // the array's closing bracket
                depth -= 1
            default:
                break
            }
            previous = byte
            at += 1
        }
        return nil                           // ran off the end: truncated
    }

    /// Offset of `key` (starting with its quote) where it is a real object key.
    private static func key(_ key: [UInt8], in line: UnsafeRawBufferPointer) -> Int? {
        var from = 0
        while from < line.count {
            guard let hit = ByteScan.find(key, in: UnsafeRawBufferPointer(rebasing: line[from...])) else { return nil }
            let at = from + hit
            if at > 0, line[at - 1] == UInt8(ascii: "{") || line[at - 1] == UInt8(ascii: ",") { return at }
            from = at + 1
        }
        return nil
    }

    private static func matches(_ needle: [UInt8], in line: UnsafeRawBufferPointer, at: Int) -> Bool {
        guard at + needle.count <= line.count else { return false }
        for k in 0..<needle.count where line[at + k] != needle[k] { return false }
        return true
    }
}
