/// One `[apps.NAME]` rule: which callers it matches (by uid, by executable, or both) and what they may do.
public struct AppRule: Sendable, Equatable {
    public var name: String
    /// Matches a caller running as one of these uids (any when empty).
    public var uids: [UInt32] = []
    /// Matches a caller whose executable (`/proc/PID/comm`) is one of these (any when empty).
    public var executables: [String] = []
    /// Daily spend cap in USD for everything this app asks for.
    public var dailyBudgetUSD: Double?
    /// The tasks it may use (`explicit` allows a `models` list); every task when `nil`.
    public var tasks: [String]?

    public init(name: String) { self.name = name }

    func matches(uid: UInt32, executable: String?) -> Bool {
        if !uids.isEmpty, !uids.contains(uid) { return false }
        if !executables.isEmpty {
            guard let executable, executables.contains(executable) else { return false }
        }
        return true
    }
}

/// Every `[apps.NAME]` rule, in name order (the first that matches wins).
public struct AppsConfig: Sendable, Equatable {
    public var rules: [AppRule] = []

    public init() {}

    /// The per-app daily budgets.
    public var budgets: [String: Double] {
        Dictionary(uniqueKeysWithValues: rules.compactMap { rule in rule.dailyBudgetUSD.map { (rule.name, $0) } })
    }
}

enum AppsConfigParser {
    static func parse(_ top: inout TOMLReader, chains: Set<String>) throws(ConfigError) -> AppsConfig {
        var config = AppsConfig()
        guard var table = try top.subtable("apps") else { return config }
        for name in table.table.keys.sorted() {
            do {
                if let rule = try rule(name, in: &table, chains: chains) { config.rules.append(rule) }
            } catch {
                // Every bad rule is reported, not only the first.
                guard let problems = table.problems else { throw error }
                problems.add(error)
            }
        }
        return config
    }

    static func rule(_ name: String, in table: inout TOMLReader, chains: Set<String>) throws(ConfigError) -> AppRule? {
        guard var reader = try table.subtable(name) else { return nil }
        var rule = AppRule(name: name)
        if let raw = reader.value("uid") {
            if let single = raw.int {
                rule.uids = [try uid(single, key: reader.key("uid"))]
            } else if let list = raw.array {
                for (index, element) in list.enumerated() {
                    guard let number = element.int else { throw ConfigError(key: "\(reader.key("uid"))[\(index)]", "must be an integer") }
                    rule.uids.append(try uid(number, key: "\(reader.key("uid"))[\(index)]"))
                }
            } else {
                throw ConfigError(key: reader.key("uid"), "must be a uid or an array of uids")
            }
        }
        if let raw = reader.value("executable") {
            if let single = raw.string { rule.executables = [single] } else {
                rule.executables = try reader.stringArray("executable") ?? []
            }
        }
        guard !rule.uids.isEmpty || !rule.executables.isEmpty else {
            throw ConfigError(key: reader.path, "needs uid or executable to say which callers it matches")
        }
        rule.dailyBudgetUSD = try reader.double("daily_budget_usd", min: 0)
        if let tasks = try reader.stringArray("tasks") {
            for (index, task) in tasks.enumerated() where task != "explicit" && !chains.contains(task) {
                throw ConfigError(
                    key: "\(reader.key("tasks"))[\(index)]",
                    "names no chain '\(task)'" + Suggestion.hint(for: task, in: chains.sorted() + ["explicit"]))
            }
            rule.tasks = tasks
        }
        try reader.rejectUnknownKeys()
        return rule
    }

    static func uid(_ number: Int, key: String) throws(ConfigError) -> UInt32 {
        guard number >= 0, number <= Int(UInt32.max) else { throw ConfigError(key: key, "must be a uid (0 or more)") }
        return UInt32(number)
    }
}
