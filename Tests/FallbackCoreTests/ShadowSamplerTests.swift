import Testing

@testable import FallbackCore

@Suite("Shadow: sampling, pairs and the daily cap")
struct ShadowSamplerTests {
    /// 2026-01-01T00:00:00Z, a UTC midnight.
    static let midnight: Int64 = 1_767_225_600_000
    static let day: Int64 = 86_400_000

    /// `offsetMillis` after `midnight`, on both readings.
    func at(_ offsetMillis: Int64) -> Moment {
        Moment(nanos: 1_000_000_000 + offsetMillis * 1_000_000, unixMillis: Self.midnight + offsetMillis)
    }

    func decisions(_ sampler: ShadowSampler, _ count: Int, task: String = "chat") -> [Bool] {
        (0..<count).map { _ in sampler.decide(task: task, optIn: nil, at: at(0)) }
    }

    @Test("the policy's defaults: 5%, next-in-chain, no cap, every task")
    func defaults() {
        let policy = ShadowPolicy()
        #expect(policy.sampleRate == 0.05)
        #expect(policy.pairs.isEmpty)
        #expect(policy.dailyCapUSD == nil)
        #expect(policy.tasks == nil)
        #expect(policy.applies(to: "anything"))
        #expect(!ShadowPolicy(tasks: ["a"]).applies(to: "b"))
    }

    @Test("100,000 decisions at 0.05 with a fixed seed: within 4 sigma of 5,000")
    func rate() {
        let n = 100_000.0
        let p = 0.05
        let sigma = (n * p * (1 - p)).squareRoot()
        for seed: UInt64 in [42, 7, 0] {
            let sampler = ShadowSampler(policy: ShadowPolicy(sampleRate: p, seed: seed))
            let sampled = Double(decisions(sampler, Int(n)).filter { $0 }.count)
            #expect(abs(sampled - n * p) <= 4 * sigma, "seed \(seed): \(sampled)")
            #expect(sampled > 0)
        }
        let half = ShadowSampler(policy: ShadowPolicy(sampleRate: 0.5, seed: 42))
        let heads = Double(decisions(half, 100_000).filter { $0 }.count)
        #expect(abs(heads - 50_000) <= 4 * (100_000 * 0.25).squareRoot())
    }

    @Test("rate 0 never samples, rate 1 (or more) always does")
    func extremes() {
        #expect(!decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 0)), 10_000).contains(true))
        #expect(!decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: -1)), 1_000).contains(true))
        #expect(!decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 1)), 10_000).contains(false))
        #expect(!decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 3)), 1_000).contains(false))
    }

    @Test("the same seed gives the same sequence; another seed another one")
    func determinism() {
        let first = decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 0.3, seed: 99)), 2_000)
        let again = decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 0.3, seed: 99)), 2_000)
        let other = decisions(ShadowSampler(policy: ShadowPolicy(sampleRate: 0.3, seed: 100)), 2_000)
        #expect(first == again)
        #expect(first != other)
    }

    @Test("one draw per sampled request only: opt-ins, opt-outs and other tasks do not shift the sequence")
    func drawsOnlyForSampledRequests() {
        let policy = ShadowPolicy(sampleRate: 0.3, tasks: ["chat"], seed: 5)
        let plain = decisions(ShadowSampler(policy: policy), 500)
        let busy = ShadowSampler(policy: policy)
        var interleaved: [Bool] = []
        for index in 0..<500 {
            #expect(busy.decide(task: "chat", optIn: true, at: at(0)))
            #expect(!busy.decide(task: "chat", optIn: false, at: at(0)))
            #expect(!busy.decide(task: "summarize", optIn: nil, at: at(Int64(index))))
            interleaved.append(busy.decide(task: "chat", optIn: nil, at: at(0)))
        }
        #expect(interleaved == plain)
    }

    @Test("opt-in always shadows, opt-out never, whatever the rate and task filter")
    func optInOut() {
        let never = ShadowSampler(policy: ShadowPolicy(sampleRate: 0, tasks: ["summarize"]))
        #expect(never.decide(task: "chat", optIn: true, at: at(0)))
        #expect(never.decide(task: "summarize", optIn: true, at: at(0)))
        #expect(!never.decide(task: "summarize", optIn: nil, at: at(0)))
        let always = ShadowSampler(policy: ShadowPolicy(sampleRate: 1))
        #expect(!always.decide(task: "chat", optIn: false, at: at(0)))
        #expect(always.decide(task: "chat", optIn: nil, at: at(0)))
    }

    @Test("the task filter: only listed tasks are sampled")
    func taskFilter() {
        let sampler = ShadowSampler(policy: ShadowPolicy(sampleRate: 1, tasks: ["summarize", "classify"]))
        #expect(sampler.decide(task: "summarize", optIn: nil, at: at(0)))
        #expect(sampler.decide(task: "classify", optIn: nil, at: at(0)))
        #expect(!sampler.decide(task: "chat", optIn: nil, at: at(0)))
        #expect(!sampler.decide(task: "default", optIn: nil, at: at(0)))
        let empty = ShadowSampler(policy: ShadowPolicy(sampleRate: 1, tasks: []))
        #expect(!empty.decide(task: "summarize", optIn: nil, at: at(0)))
    }

    @Test("the daily cap: refuses once spend >= cap (opt-ins too), allows again at the next UTC midnight")
    func dailyCap() {
        let sampler = ShadowSampler(policy: ShadowPolicy(sampleRate: 1, dailyCapUSD: 0.01))
        let noon = at(12 * 3_600_000)
        sampler.addSpend(0.004, at: noon)
        sampler.addSpend(0.005, at: noon)
        #expect(sampler.spentToday(at: noon) == 0.009)
        #expect(sampler.decide(task: "chat", optIn: nil, at: noon))
        sampler.addSpend(0.001, at: noon)
        #expect(sampler.spentToday(at: noon) == 0.01)
        #expect(!sampler.decide(task: "chat", optIn: nil, at: noon))
        #expect(!sampler.decide(task: "chat", optIn: true, at: noon))
        #expect(!sampler.decide(task: "chat", optIn: nil, at: at(Self.day - 1)))
        let tomorrow = at(Self.day)
        #expect(sampler.spentToday(at: tomorrow) == 0)
        #expect(sampler.decide(task: "chat", optIn: nil, at: tomorrow))
        sampler.addSpend(0.003, at: noon)  // a late cost for the closed day
        #expect(sampler.spentToday(at: tomorrow) == 0)
    }

    @Test("no cap: any spend still samples; negative and NaN spend add nothing")
    func noCap() {
        let sampler = ShadowSampler(policy: ShadowPolicy(sampleRate: 1))
        sampler.addSpend(1_000_000, at: at(0))
        #expect(sampler.decide(task: "chat", optIn: nil, at: at(0)))
        sampler.addSpend(-1, at: at(0))
        sampler.addSpend(.nan, at: at(0))
        #expect(sampler.spentToday(at: at(0)) == 1_000_000)
    }

    @Test("restore sets today's shadow spend against the cap, and only for that day")
    func restore() {
        let sampler = ShadowSampler(policy: ShadowPolicy(sampleRate: 1, dailyCapUSD: 0.02))
        let now = at(3_600_000)
        sampler.addSpend(0.015, at: now)
        sampler.restore(spentToday: 0.019, at: now)
        #expect(sampler.spentToday(at: now) == 0.019)
        #expect(sampler.decide(task: "chat", optIn: nil, at: now))
        sampler.restore(spentToday: 0.02, at: now)
        #expect(!sampler.decide(task: "chat", optIn: nil, at: now))
        #expect(sampler.decide(task: "chat", optIn: nil, at: at(Self.day + 1)))
    }

    @Test("default shadow model: the next one in the chain, nil at the end or off the chain")
    func nextInChain() throws {
        let sampler = ShadowSampler(policy: ShadowPolicy())
        let chain = Seed.models
        #expect(sampler.shadowModel(for: Seed.gpt4o, chain: chain)?.name == "claude-3-5-sonnet")
        #expect(sampler.shadowModel(for: Seed.sonnet, chain: chain)?.name == "gpt-4o-mini")
        #expect(sampler.shadowModel(for: Seed.gpt4oMini, chain: chain)?.name == "claude-3-haiku")
        #expect(sampler.shadowModel(for: Seed.haiku, chain: chain) == nil)
        #expect(sampler.shadowModel(for: Seed.haiku, chain: [Seed.gpt4o, Seed.sonnet]) == nil)
        #expect(sampler.shadowModel(for: Seed.gpt4o, chain: []) == nil)
        let shortChain = [Seed.gpt4o, Seed.sonnet, Seed.gpt4oMini]
        #expect(try #require(sampler.shadowModel(for: Seed.sonnet, chain: shortChain)) == Seed.gpt4oMini)
    }

    @Test("pairs override the chain order, resolve outside the chain through the pool, never to the served model")
    func pairs() {
        let policy = ShadowPolicy(
            pairs: ["gpt-4o": "claude-3-haiku", "claude-3-5-sonnet": "claude-3-5-sonnet", "gpt-4o-mini": "gone"])
        let chain = [Seed.gpt4o, Seed.sonnet, Seed.gpt4oMini]
        let inChainOnly = ShadowSampler(policy: policy)
        let withPool = ShadowSampler(policy: policy, models: Seed.models)
        #expect(withPool.shadowModel(for: Seed.gpt4o, chain: chain) == Seed.haiku)
        #expect(inChainOnly.shadowModel(for: Seed.gpt4o, chain: chain) == nil)
        #expect(inChainOnly.shadowModel(for: Seed.gpt4o, chain: Seed.models) == Seed.haiku)
        #expect(withPool.shadowModel(for: Seed.sonnet, chain: chain) == nil)
        #expect(withPool.shadowModel(for: Seed.gpt4oMini, chain: Seed.models) == nil)
        #expect(withPool.shadowModel(for: Seed.haiku, chain: [Seed.haiku, Seed.gpt4o]) == Seed.gpt4o)
    }

    @Test("concurrent decisions draw each number once: the sampled count matches a serial run")
    func concurrentDecisions() async {
        let policy = ShadowPolicy(sampleRate: 0.2, seed: 11)
        let expected = decisions(ShadowSampler(policy: policy), 40_000).filter { $0 }.count
        let sampler = ShadowSampler(policy: policy)
        let moment = at(0)
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<5_000).filter { _ in sampler.decide(task: "chat", optIn: nil, at: moment) }.count }
            }
            return await group.reduce(0, +)
        }
        #expect(counts == expected)
    }

    @Test("the generator is SplitMix64: known first outputs for seed 0, units in 0..<1")
    func generator() {
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
        var units = SeededGenerator(seed: 123)
        for _ in 0..<10_000 {
            let unit = units.nextUnit()
            #expect(unit >= 0 && unit < 1)
        }
    }
}
