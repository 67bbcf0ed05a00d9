import NIOHTTP1

/// Reads "how long to wait" hints: `retry-after-ms`, `retry-after` (seconds or an HTTP-date),
/// and Gemini's `RetryInfo.retryDelay` (`"3s"`, `"1.5s"`).
/// Junk and negative values are ignored; huge ones are capped at ``maxMs``.
public enum RetryAfter {
    /// The longest wait ever reported: one day.
    public static let maxMs: Int64 = 86_400_000

    /// The wait the headers ask for, preferring `retry-after-ms`; `nil` when they say nothing usable.
    /// `nowUnixMillis` resolves HTTP-dates (a date in the past means 0).
    public static func milliseconds(headers: HTTPHeaders, nowUnixMillis: Int64) -> Int64? {
        if let text = headers.first(name: "retry-after-ms"), let seconds = decimal(text) {
            return clamp(seconds / 1000)
        }
        if let text = headers.first(name: "retry-after") {
            return milliseconds(retryAfter: text, nowUnixMillis: nowUnixMillis)
        }
        return nil
    }

    /// One `retry-after` value: delay-seconds, or an IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`.
    public static func milliseconds(retryAfter text: String, nowUnixMillis: Int64) -> Int64? {
        if let seconds = decimal(text) { return clamp(seconds) }
        guard let dateMillis = httpDateUnixMillis(text) else { return nil }
        return min(maxMs, max(0, dateMillis - nowUnixMillis))
    }

    /// A protobuf JSON duration as Gemini sends in `retryDelay`: decimal seconds followed by `s`.
    public static func milliseconds(protobufDuration text: String) -> Int64? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasSuffix("s"), let seconds = decimal(String(trimmed.dropLast())) else { return nil }
        return clamp(seconds)
    }

    /// Milliseconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`); `nil` otherwise.
    public static func httpDateUnixMillis(_ text: String) -> Int64? {
        let parts = text.trimmingSpaces.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int64(parts[1]), (1...31).contains(day),
            let month = months.firstIndex(of: parts[2].lowercased()),
            parts[3].count == 4, let year = Int64(parts[3]), year >= 1970
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }),
            let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2]),
            hour < 24, minute < 60, second < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: Int64(month) + 1, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000
    }

    /// A non-negative decimal number of digits and at most one point; `nil` for anything else.
    static func decimal(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces
        var sawDigit = false
        var sawPoint = false
        for byte in trimmed.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: ".") where !sawPoint: sawPoint = true
            default: return nil
            }
        }
        guard sawDigit, let value = Double(trimmed), value.isFinite, value >= 0 else { return nil }
        return value
    }

    private static func clamp(_ seconds: Double) -> Int64 {
        let millis = (seconds * 1000).rounded(.up)
        return millis >= Double(maxMs) ? maxMs : Int64(millis)
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = (month + 9) % 12
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
