/// A config problem, naming the key (`providers.openai.base_url`) and what is wrong with it; a file
/// with several problems carries the others in `more`, so one run of `--check-config` lists them all.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var problem: String
    /// Further problems found in the same file, in file order.
    public var more: [ConfigError] = []

    public init(key: String, _ problem: String) {
        self.key = key
        self.problem = problem
    }

    /// This problem and every further one.
    public var all: [ConfigError] {
        var first = self
        first.more = []
        return [first] + more
    }

    public var description: String {
        all.map { $0.key.isEmpty ? $0.problem : "\($0.key): \($0.problem)" }.joined(separator: "\n")
    }
}

/// Collects problems while a config is read: a table that fails is noted and reading goes on.
final class ConfigProblems {
    private(set) var list: [ConfigError] = []

    func add(_ error: ConfigError) {
        list.append(contentsOf: error.all)
    }

    /// Runs `body`; its error is noted and `nil` returned.
    func collect<T>(_ body: () throws(ConfigError) -> T) -> T? {
        do {
            return try body()
        } catch {
            add(error)
            return nil
        }
    }

    /// The problems as one error, or `nil` when there are none.
    var combined: ConfigError? {
        guard var first = list.first else { return nil }
        first.more = Array(list.dropFirst())
        return first
    }
}

/// "did you mean" for a misspelt name: the closest candidate within a small edit distance.
enum Suggestion {
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            let distance = editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// " (did you mean 'x'?)" or "".
    static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
