import Synchronization

/// Keeps the `app` label bounded: the first ``limit`` app names are labels of their own, later ones
/// share `other`; requests with no known peer are `unknown`.
final class AppLabels: Sendable {
    static let limit = 64
    private let seen = Mutex<Set<String>>([])

    func label(_ app: String?) -> String {
        guard let app, !app.isEmpty else { return "unknown" }
        return seen.withLock { seen in
            if seen.contains(app) { return app }
            guard seen.count < Self.limit else { return "other" }
            seen.insert(app)
            return app
        }
    }
}
