/// ISO-8601 UTC timestamps with milliseconds (`2026-11-24T23:59:01.123Z`), formatted by arithmetic.
///
/// No `DateFormatter` and no allocation beyond the result: this runs once per logged row.
public enum ISOTimestamp {
    /// Formats milliseconds since the Unix epoch (negative values are before 1970).
    /// Years 0...9999 print as four digits; others print with as many digits as they need.
    public static func string(unixMillis: Int64) -> String {
        let (days, msOfDay) = floorDivMod(unixMillis, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let hour = Int(msOfDay / 3_600_000)
        let minute = Int(msOfDay / 60_000 % 60)
        let second = Int(msOfDay / 1_000 % 60)
        let millis = Int(msOfDay % 1_000)

        guard (0...9999).contains(year) else {
            return "\(year)-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2)
                + ":" + pad(second, 2) + "." + pad(millis, 3) + "Z"
        }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var rest = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                    rest /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(hour, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(minute, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(second, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(millis, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Floor division and the matching non-negative remainder.
    static func floorDivMod(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    /// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01
    /// (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097                                        // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365], from March 1
        let monthIndex = (5 * dayOfYear + 2) / 153                                    // [0, 11], March = 0
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
