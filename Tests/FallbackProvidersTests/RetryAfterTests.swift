import NIOHTTP1
import Testing

@testable import FallbackProviders

@Suite struct RetryAfterTests {
    private func headerMs(_ headers: [(String, String)]) -> Int64? {
        RetryAfter.milliseconds(headers: HTTPHeaders(headers), nowUnixMillis: fixedNowMillis)
    }

    @Test func seconds() {
        #expect(headerMs([("retry-after", "20")]) == 20_000)
        #expect(headerMs([("Retry-After", " 0 ")]) == 0)
        #expect(headerMs([("retry-after", "1.5")]) == 1500)
    }

    @Test func httpDate() {
        #expect(headerMs([("retry-after", "Thu, 01 Jan 2026 00:00:30 GMT")]) == 30_000)
        // In the past: retry now.
        #expect(headerMs([("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]) == 0)
        #expect(RetryAfter.httpDateUnixMillis("Wed, 21 Oct 2015 07:28:00 GMT") == 1_445_412_480_000)
        #expect(RetryAfter.httpDateUnixMillis("Wed, 21 Foo 2015 07:28:00 GMT") == nil)
        #expect(RetryAfter.httpDateUnixMillis("Wed, 21 Oct 2015 25:28:00 GMT") == nil)
    }

    @Test(arguments: ["soon", "", "-5", "-0.5", "1e3", "0x10", "inf", "nan", "12abc", "1.2.3"])
    func junkIsIgnored(_ value: String) {
        #expect(headerMs([("retry-after", value)]) == nil)
    }

    @Test func hugeIsCapped() {
        #expect(headerMs([("retry-after", "99999999999999999999999999")]) == RetryAfter.maxMs)
        #expect(headerMs([("retry-after", "Fri, 01 Jan 9999 00:00:00 GMT")]) == RetryAfter.maxMs)
        #expect(headerMs([("retry-after-ms", "1e400")]) == nil)
        #expect(headerMs([("retry-after-ms", "999999999999999999999")]) == RetryAfter.maxMs)
    }

    @Test func retryAfterMs() {
        #expect(headerMs([("retry-after-ms", "250")]) == 250)
        #expect(headerMs([("retry-after-ms", "12.5")]) == 13)
        #expect(headerMs([("retry-after-ms", "junk"), ("retry-after", "2")]) == 2000)
        #expect(headerMs([]) == nil)
    }

    @Test func geminiRetryDelay() {
        #expect(RetryAfter.milliseconds(protobufDuration: "3s") == 3000)
        #expect(RetryAfter.milliseconds(protobufDuration: "1.5s") == 1500)
        #expect(RetryAfter.milliseconds(protobufDuration: "0.250s") == 250)
        #expect(RetryAfter.milliseconds(protobufDuration: "3") == nil)
        #expect(RetryAfter.milliseconds(protobufDuration: "-1s") == nil)
        #expect(RetryAfter.milliseconds(protobufDuration: "s") == nil)
    }
}
