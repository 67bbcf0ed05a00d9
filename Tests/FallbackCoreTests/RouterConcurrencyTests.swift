import Synchronization
import Testing

@testable import FallbackCore

/// A thread-safe fake that decides by request number (the last message's content): gpt-4o always fails,
/// claude-3-5-sonnet fails for every third request, any other model serves.
final class RuleInvoker: ModelInvoker {
    let clock: ManualClock
    let calls = Atomic<Int>(0)

    init(clock: ManualClock) { self.clock = clock }

    func invoke(_ request: ProviderRequest) async -> Result<ProviderResponse, ProviderFailure> {
        calls.add(1, ordering: .relaxed)
        await Task.yield()
        clock.advance(millis: 1)
        let number = Int(request.chat.messages.last?.text ?? "") ?? 0
        switch request.model.name {
        case "gpt-4o":
            return .failure(ProviderFailure(.rateLimited, httpStatus: 429, message: "slow down"))
        case "claude-3-5-sonnet" where number % 3 == 0:
            return .failure(ProviderFailure(.serverError, httpStatus: 500, message: "boom"))
        default:
            return .success(ProviderResponse(content: "answer \(number)", usage: Usage(inputTokens: number, outputTokens: 1)))
        }
    }
}

@Suite("Router: concurrency")
struct RouterConcurrencyTests {
    @Test("200 concurrent executions: every request served, recorder gets exactly the expected rows")
    func manyConcurrentExecutions() async throws {
        let clock = ManualClock()
        let invoker = RuleInvoker(clock: clock)
        let recorder = CollectingRecorder()
        let router = Router(pool: try Seed.pool(), invoker: invoker, recorder: recorder, clock: clock)
        let count = 200

        let results = await withTaskGroup(of: (Int, Result<CompletionResult, RouteFailure>).self) { group in
            for n in 0..<count {
                group.addTask {
                    let request = CompletionRequest(
                        requestID: "r-\(n)", messages: [ChatMessage(role: .user, content: "\(n)")], task: "complex_reasoning",
                        metadataJSON: #"{"n":\#(n)}"#)
                    return (n, await router.execute(request))
                }
            }
            var all: [Int: Result<CompletionResult, RouteFailure>] = [:]
            for await (n, result) in group { all[n] = result }
            return all
        }

        // n % 3 == 0: gpt-4o, sonnet fail, mini serves (3 rows); otherwise sonnet serves (2 rows).
        let thirds = (0..<count).filter { $0 % 3 == 0 }.count
        let expectedRows = thirds * 3 + (count - thirds) * 2
        #expect(results.count == count)
        #expect(invoker.calls.load(ordering: .relaxed) == expectedRows)
        let rows = recorder.all
        #expect(rows.count == expectedRows)

        for n in 0..<count {
            let result = try #require(results[n]?.success, "request \(n) failed")
            #expect(result.requestID == "r-\(n)")
            #expect(result.content == "answer \(n)")
            #expect(result.fallbackCount == (n % 3 == 0 ? 2 : 1))
            #expect(result.model.name == (n % 3 == 0 ? "gpt-4o-mini" : "claude-3-5-sonnet"))
        }

        // Rows of each request: its own metadata, attempt indexes 0..k in order, no row lost or duplicated.
        let byRequest = Dictionary(grouping: rows, by: \.requestID)
        #expect(byRequest.count == count)
        for n in 0..<count {
            let mine = try #require(byRequest["r-\(n)"])
            #expect(mine.map(\.attemptIndex) == Array(0..<(n % 3 == 0 ? 3 : 2)))
            #expect(mine.allSatisfy { $0.metadataJSON == #"{"n":\#(n)}"# && $0.chain == "complex_reasoning" })
            #expect(mine.last?.success == true)
            #expect(mine.dropLast().allSatisfy { !$0.success })
        }
    }

    @Test("a Router is a value shared across tasks: plans do not interfere")
    func concurrentPlans() async throws {
        let clock = ManualClock()
        let router = Router(pool: try Seed.pool(), invoker: RuleInvoker(clock: clock), recorder: CollectingRecorder(), clock: clock)
        let plans = await withTaskGroup(of: [String].self) { group in
            for n in 0..<100 {
                group.addTask {
                    let request = n.isMultiple(of: 2)
                        ? CompletionRequest(requestID: "p", messages: messages(), task: "complex_reasoning")
                        : CompletionRequest(requestID: "p", messages: messages(), models: ["claude-3-haiku"])
                    return router.plan(for: request, at: clock.now()).steps.map(\.model.name)
                }
            }
            var all: [[String]] = []
            for await plan in group { all.append(plan) }
            return all
        }
        #expect(plans.filter { $0 == ["gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"] }.count == 50)
        #expect(plans.filter { $0 == ["claude-3-haiku"] }.count == 50)
    }
}
