import Testing

@testable import FallbackWire

/// Parses text the test itself wrote; a typo in a test is a test failure, not a crash.
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
    do {
        return try JSON.parse(text)
    } catch {
        Issue.record("test JSON does not parse: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}
