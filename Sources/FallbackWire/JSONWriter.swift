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
            if let text = JSON.rawText(of: node) {
                raw(text.start, text.count)
                return
            }
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

    /// `"name":`, after a comma unless it is the object's first member.
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { byte(UInt8(ascii: ",")) }
        byte(UInt8(ascii: "\""))
        raw(UnsafeRawPointer(name.utf8Start), name.utf8CodeUnitCount)
        ascii("\":")
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            if let base = utf8.baseAddress {
                string(UnsafeRawPointer(base), utf8.count)
            } else {
                ascii("\"\"")
            }
        }
    }

    mutating func optional(_ text: String?) {
        if let text { string(text) } else { ascii("null") }
    }

    mutating func optional(_ value: Int?) {
        if let value { integer(Int64(value)) } else { ascii("null") }
    }

    mutating func optional(_ value: Double?) {
        if let value { double(value) } else { ascii("null") }
    }

    /// A real as `JSON.double` stores it: `null` when not finite.
    mutating func double(_ value: Double) { real(value) }

    mutating func bool(_ value: Bool) {
        if value { ascii("true") } else { ascii("false") }
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
        var text = RealText()
        guard text.formatShortest(value) || text.format(value) else { return ascii("null") }
        withUnsafeBytes(of: &text.bytes) { raw($0.baseAddress!, text.count) }
    }

    /// A quoted string: runs that need no escape are copied whole.
    mutating func string(_ start: UnsafeRawPointer, _ length: Int) {
        reserve(length + 2)
        byte(UInt8(ascii: "\""))
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        var runStart = 0
        var index = 0
        while index < length {
            // Eight bytes at a time while none needs an escape.
            if index + 8 <= length, !SWAR.needsEscape(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
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
