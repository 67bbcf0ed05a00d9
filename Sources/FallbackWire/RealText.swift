#if canImport(Glibc)
import Glibc
#endif

/// A real's text, formatted on the stack.
struct RealText {
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    var count = 0

    /// `%.15g` as jansson shapes it, from Swift's shortest round-trip digits when there are at most
    /// 15 of them (then `%.15g` prints exactly those digits): no `vsnprintf`, which cost about 7k
    /// instructions a number. `false` when the digits need rounding to 15: ``format(_:)`` does that.
    mutating func formatShortest(_ value: Double) -> Bool {
        // Subnormals carry fewer significant bits than 15 digits claim: %.15g prints more digits.
        guard value.isNormal || value.isZero else { return false }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var digitCount = 0
        var exponent = 0  // of the first significant digit, as in %e
        var seenPoint = false
        var leading = 0  // zeros after the point before the first significant digit
        var integerDigits = 0
        var exponentPart: Int?
        let fits = withUnsafeMutableBytes(of: &digits) { store -> Bool in
            var text = value.magnitude.description
            return text.withUTF8 { utf8 -> Bool in
                var index = 0
                while index < utf8.count {
                    let c = utf8[index]
                    switch c {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if digitCount == 0, c == UInt8(ascii: "0") {
                            if seenPoint { leading += 1 }
                        } else {
                            guard digitCount < store.count else { return false }
                            store[digitCount] = c
                            digitCount += 1
                            if !seenPoint { integerDigits += 1 }
                        }
                    case UInt8(ascii: "."): seenPoint = true
                    case UInt8(ascii: "e"), UInt8(ascii: "E"):
                        guard let parsed = Int(String(decoding: UnsafeBufferPointer(rebasing: utf8[(index + 1)...]), as: UTF8.self)) else { return false }
                        exponentPart = parsed
                        index = utf8.count
                        continue
                    default: return false  // inf, nan
                    }
                    index += 1
                }
                return true
            }
        }
        guard fits else { return false }
        // Trailing zeros are not significant.
        withUnsafeBytes(of: &digits) { store in
            while digitCount > 1, store[digitCount - 1] == UInt8(ascii: "0") {
                digitCount -= 1
            }
        }
        guard digitCount <= 15 else { return false }
        if digitCount == 0 {
            // Zero: %.15g gives "0" (or "-0"), to which jansson adds ".0".
            append(value.sign == .minus ? "-0.0" : "0.0")
            return true
        }
        exponent = integerDigits > 0 ? integerDigits - 1 : -(leading + 1)
        exponent += exponentPart ?? 0
        if value.sign == .minus { append("-") }
        withUnsafeBytes(of: &digits) { store in
            let d = Array(store[0..<digitCount])
            if exponent < -4 || exponent >= 15 {
                appendByte(d[0])
                if d.count > 1 {
                    appendByte(UInt8(ascii: "."))
                    for b in d[1...] { appendByte(b) }
                }
                appendByte(UInt8(ascii: "e"))
                if exponent < 0 { appendByte(UInt8(ascii: "-")) }
                for b in String(abs(exponent)).utf8 { appendByte(b) }
            } else if exponent >= 0 {
                for position in 0...exponent { appendByte(position < d.count ? d[position] : UInt8(ascii: "0")) }
                appendByte(UInt8(ascii: "."))
                if d.count > exponent + 1 {
                    for b in d[(exponent + 1)...] { appendByte(b) }
                } else {
                    appendByte(UInt8(ascii: "0"))
                }
            } else {
                append("0.")
                for _ in 0..<(-exponent - 1) { appendByte(UInt8(ascii: "0")) }
                for b in d { appendByte(b) }
            }
        }
        return true
    }

    private mutating func appendByte(_ byte: UInt8) {
        let index = count
        withUnsafeMutableBytes(of: &bytes) { $0[index] = byte }
        count += 1
    }

    private mutating func append(_ text: StaticString) {
        for offset in 0..<text.utf8CodeUnitCount { appendByte(text.utf8Start[offset]) }
    }

    mutating func format(_ value: Double) -> Bool {
        let capacity = MemoryLayout.size(ofValue: bytes)
        let written = withUnsafeMutableBytes(of: &bytes) { raw -> Int in
            let chars = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            return Int(withVaList([value]) { vsnprintf(chars, capacity, "%.15g", $0) })
        }
        guard written > 0, written < capacity else { return false }
        count = written
        withUnsafeMutableBytes(of: &bytes) { raw in
            var exponent: Int?
            var dot = false
            for index in 0..<count {
                switch raw[index] {
                case UInt8(ascii: ","): raw[index] = UInt8(ascii: "."); dot = true  // a locale's decimal comma
                case UInt8(ascii: "."): dot = true
                case UInt8(ascii: "e"): exponent = index
                default: break
                }
            }
            if let e = exponent {
                var start = e + 1
                if start < count, raw[start] == UInt8(ascii: "-") { start += 1 }
                var end = start
                while end < count, raw[end] == UInt8(ascii: "0") || raw[end] == UInt8(ascii: "+") { end += 1 }
                let tail = count - end
                for offset in 0..<tail { raw[start + offset] = raw[end + offset] }
                count = start + tail
            } else if !dot, count + 2 < capacity {
                raw[count] = UInt8(ascii: ".")
                raw[count + 1] = UInt8(ascii: "0")
                count += 2
            }
        }
        return true
    }
}
