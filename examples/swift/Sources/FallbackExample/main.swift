// Pings fallbackd, sends one completion, and shows which model answered.
import FallbackClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let client = FallbackClient(timeout: .seconds(60))

do {
    guard try client.ping() else {
        print("fallbackd at \(client.socketPath) did not answer ping with pong")
        exit(1)
    }
    print("fallbackd is up at \(client.socketPath)")

    let completion = try client.complete(
        [.system("You answer in one short sentence."), .user("What is a fallback chain?")],
        task: "default",
        maxTokens: 100,
        metadata: ["source": "examples/swift"]
    )
    print(completion.content)
    print("model_used: \(completion.modelUsed)")
    print("fallback_count: \(completion.fallbackCount)")
    for attempt in completion.attempts {
        print("  \(attempt.model) (\(attempt.provider)): \(attempt.outcome)" + (attempt.errorType.map { " \($0)" } ?? ""))
    }
} catch {
    // `error` is a FallbackClientError; its description says what to do.
    print("error: \(error)")
    if error.isAllModelsFailed {
        for attempt in error.attempts {
            print("  \(attempt.model): \(attempt.errorType ?? "unknown error")")
        }
    }
    exit(error.isUnavailable ? 2 : 1)
}
