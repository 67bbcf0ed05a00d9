import CJansson
#if canImport(Glibc)
import Glibc
#endif

/// Writes a jansson tree as compact JSON straight into one growable buffer.
///
/// The same text `json_dumps` gives with fallbackd's flags (compact, keys in insertion order, reals
/// with 15 significant digits, `\uXXXX` for other control characters), at a fraction of its cost:
/// jansson appends through a callback per token, decodes UTF-8 per code point and keeps a hash of
/// the containers it is inside; here plain runs of a string are copied with one `memcpy`.
@usableFromInline struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    @usableFromInline init(capacity: Int = 1024) {
        self.capacity = max(64, capacity)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far, valid until the next write.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var grown = capacity * 2
        while grown < count + extra { grown *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    @inline(__always) mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    @inline(__always) mutating func raw(_ start: UnsafeRawPointer, _ length: Int) {
        guard length > 0 else { return }
        reserve(length)
        (base + count).update(from: start.assumingMemoryBound(to: UInt8.self), count: length)
        count += length
    }

    mutating func ascii(_ text: StaticString) {
        raw(UnsafeRawPointer(text.utf8Start), text.utf8CodeUnitCount)
    }

    /// One value and everything under it.
    mutating func write(_ node: UnsafeMutablePointer<json_t>) {
        switch node.pointee.type {
        case JSON_OBJECT:
            byte(UInt8(ascii: "{"))
            var iter = json_object_iter(node)
            var first = true
            while let current = iter {
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                if let key = json_object_iter_key(current) {
                    string(UnsafeRawPointer(key), json_object_iter_key_len(current))
                }
                byte(UInt8(ascii: ":"))
                if let value = json_object_iter_value(current) { write(value) } else { ascii("null") }
                iter = json_object_iter_next(node, current)
            }
            byte(UInt8(ascii: "}"))
        case JSON_ARRAY:
            byte(UInt8(ascii: "["))
            let size = json_array_size(node)
            for index in 0..<size {
                if index > 0 { byte(UInt8(ascii: ",")) }
                if let element = json_array_get(node, index) { write(element) } else { ascii("null") }
            }
            byte(UInt8(ascii: "]"))
        case JSON_STRING:
            if let text = json_string_value(node) {
                string(UnsafeRawPointer(text), json_string_length(node))
            } else {
                ascii("\"\"")
            }
        case JSON_INTEGER:
            integer(Int64(json_integer_value(node)))
        case JSON_REAL:
            real(json_real_value(node))
        case JSON_TRUE: ascii("true")
        case JSON_FALSE: ascii("false")
        default: ascii("null")
        }
    }

    mutating func integer(_ value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold any Int64
        withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                at -= 1
                scratch[at] = UInt8(ascii: "-")
            }
            raw(scratch.baseAddress! + at, scratch.count - at)
        }
    }

    /// `%.15g`, with ".0" added when the text would read back as an integer, and the exponent
    /// without its "+" and leading zeros: what jansson writes, so outputs stay byte-identical.
    mutating func real(_ value: Double) {
        guard value.isFinite else {
            ascii("null")
            return
        }
        var buffer = [CChar](repeating: 0, count: 40)
        let length = Int(withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.15g", $0) })
        guard length > 0, length < buffer.count else { return ascii("null") }
        var text = Array(buffer[0..<length].map { UInt8(bitPattern: $0) })
        for index in text.indices where text[index] == UInt8(ascii: ",") { text[index] = UInt8(ascii: ".") }
        if let e = text.firstIndex(of: UInt8(ascii: "e")) {
            var start = e + 1
            if start < text.count, text[start] == UInt8(ascii: "-") { start += 1 }
            var end = start
            while end < text.count, text[end] == UInt8(ascii: "0") || text[end] == UInt8(ascii: "+") { end += 1 }
            text.removeSubrange(start..<end)
        } else if !text.contains(UInt8(ascii: ".")) {
            text.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
        }
        text.withUnsafeBytes { raw($0.baseAddress!, $0.count) }
    }

    /// A quoted string: runs that need no escape are copied whole.
    mutating func string(_ start: UnsafeRawPointer, _ length: Int) {
        reserve(length + 2)
        byte(UInt8(ascii: "\""))
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var index = 0
        while index < length {
            let b = bytes[index]
            if b >= 0x20, b != 0x22, b != 0x5C {
                index += 1
                continue
            }
            raw(bytes + runStart, index - runStart)
            escape(b)
            index += 1
            runStart = index
        }
        raw(bytes + runStart, length - runStart)
        byte(UInt8(ascii: "\""))
    }

    private mutating func escape(_ b: UInt8) {
        switch b {
        case 0x22: ascii("\\\"")
        case 0x5C: ascii("\\\\")
        case 0x08: ascii("\\b")
        case 0x0C: ascii("\\f")
        case 0x0A: ascii("\\n")
        case 0x0D: ascii("\\r")
        case 0x09: ascii("\\t")
        default:
            let hex: StaticString = "0123456789ABCDEF"
            let digits = hex.utf8Start
            ascii("\\u00")
            byte(digits[Int(b >> 4)])
            byte(digits[Int(b & 0x0F)])
        }
    }
}
