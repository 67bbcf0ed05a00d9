import TOMLKit

/// Reads one TOML table with typed getters whose errors name the full key, and reports
/// keys nobody asked for (typos must not be silently ignored).
struct TOMLReader {
    let table: TOMLTable
    let path: String
    private(set) var seen: Set<String> = []
    /// Where unknown keys are reported while reading goes on; `nil` throws the first instead.
    let problems: ConfigProblems?
    /// The config file, for paths relative to it.
    let configFile: String?

    init(_ table: TOMLTable, path: String, problems: ConfigProblems? = nil, configFile: String? = nil) {
        self.table = table
        self.path = path
        self.problems = problems
        self.configFile = configFile
    }

    /// A path from this table: relative to the config file's directory.
    func filePath(_ text: String) -> String {
        guard let configFile else { return text }
        return DefaultPaths.resolve(text, relativeTo: configFile)
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    mutating func value(_ name: String) -> TOMLValueConvertible? {
        seen.insert(name)
        return table[name]
    }

    mutating func string(_ name: String) throws(ConfigError) -> String? {
        guard let raw = value(name) else { return nil }
        guard let text = raw.string else { return try soft(ConfigError(key: key(name), "must be a string")) }
        return text
    }

    mutating func requiredString(_ name: String) throws(ConfigError) -> String {
        guard let text = try string(name) else { throw ConfigError(key: key(name), "is required") }
        guard !text.isEmpty else { throw ConfigError(key: key(name), "must not be empty") }
        return text
    }

    mutating func int(_ name: String, min lower: Int = .min, max upper: Int = .max) throws(ConfigError) -> Int? {
        guard let raw = value(name) else { return nil }
        guard let number = raw.int else { return try soft(ConfigError(key: key(name), "must be an integer")) }
        guard number >= lower else { return try soft(ConfigError(key: key(name), "must be at least \(lower)")) }
        guard number <= upper else { return try soft(ConfigError(key: key(name), "must be at most \(upper)")) }
        return number
    }

    /// A number; integers are accepted where a real is expected (`cost = 0`).
    mutating func double(_ name: String, min lower: Double = -.infinity, max upper: Double = .infinity) throws(ConfigError) -> Double? {
        guard let raw = value(name) else { return nil }
        guard let number = raw.double ?? raw.int.map(Double.init) else {
            return try soft(ConfigError(key: key(name), "must be a number"))
        }
        guard number.isFinite, number >= lower, number <= upper else {
            return try soft(ConfigError(key: key(name), "must be between \(lower) and \(upper)"))
        }
        return number
    }

    mutating func bool(_ name: String) throws(ConfigError) -> Bool? {
        guard let raw = value(name) else { return nil }
        guard let flag = raw.bool else { return try soft(ConfigError(key: key(name), "must be true or false")) }
        return flag
    }

    mutating func stringArray(_ name: String) throws(ConfigError) -> [String]? {
        guard let raw = value(name) else { return nil }
        guard let array = raw.array else { return try soft(ConfigError(key: key(name), "must be an array of strings")) }
        var out: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.string else { return try soft(ConfigError(key: "\(key(name))[\(index)]", "must be a string")) }
            out.append(text)
        }
        return out
    }

    mutating func subtable(_ name: String) throws(ConfigError) -> TOMLReader? {
        guard let raw = value(name) else { return nil }
        guard let sub = raw.table else { return try soft(ConfigError(key: key(name), "must be a table")) }
        return TOMLReader(sub, path: key(name), problems: problems, configFile: configFile)
    }

    /// A bad value: noted when problems are collected (the key then reads as absent and reading goes
    /// on, so one run lists every problem of the table), else thrown.
    func soft<T>(_ error: ConfigError) throws(ConfigError) -> T? {
        guard let problems else { throw error }
        problems.add(error)
        return nil
    }

    /// A problem found by a caller's own check (an unknown enum name, say): noted like ``soft(_:)``.
    func report(_ error: ConfigError) throws(ConfigError) {
        guard let problems else { throw error }
        problems.add(error)
    }

    /// Reports every key of this table that was never read, each with the known key it most
    /// resembles; without a collector, throws the first.
    func rejectUnknownKeys() throws(ConfigError) {
        for name in table.keys.sorted() where !seen.contains(name) {
            let error = ConfigError(key: key(name), "unknown key" + Suggestion.hint(for: name, in: seen.sorted()))
            guard let problems else { throw error }
            problems.add(error)
        }
    }
}
