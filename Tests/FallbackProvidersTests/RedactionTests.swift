import FallbackCore
import Testing

@testable import FallbackProviders

@Suite struct RedactionTests {
    @Test func keyPrintsRedacted() {
        #expect("\(secretKey)" == "<redacted>")
        #expect(String(reflecting: secretKey) == "<redacted>")
        var dumped = ""
        dump(secretKey, to: &dumped)
        #expect(!dumped.contains(secretKey.reveal()))
        let settings = testSettings(.openai)
        #expect(!"\(settings)".contains(secretKey.reveal()))
        #expect(!String(reflecting: settings).contains(secretKey.reveal()))
    }

    @Test func keyIsTrimmed() {
        #expect(APIKey("  abc\n").reveal() == "abc")
        #expect(APIKey(" \n").isEmpty)
    }

    @Test(arguments: [401, 400, 500, 429])
    func echoedKeyNeverLeaks(status: Int) {
        let key = secretKey.reveal()
        let bodies = [
            #"{"error":{"message":"Incorrect API key provided: \#(key).","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            "<html>bad key \(key)</html>",
            #"{"type":"error","error":{"type":"authentication_error","message":"\#(key) is not valid"}}"#,
            // The key straddles the 300-character clip.
            #"{"error":{"message":"\#(String(repeating: "x", count: 290)) \#(key)"}}"#,
        ]
        for body in bodies {
            let failure = ProviderErrorClassifier.classify(reply(status, body), apiKey: secretKey, nowUnixMillis: 0)
            #expect(!failure.message.contains(key))
            #expect(!failure.message.contains("SECRET"))
        }
    }

    @Test func successPathErrorsAreRedactedToo() {
        let key = secretKey.reveal()
        let body = #"{"error":{"message":"echo \#(key)"}}"#
        for result in [
            OpenAIAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0),
            AnthropicAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0),
            GeminiAdapter.parseResponse(reply(200, body), apiKey: secretKey, nowUnixMillis: 0),
        ] {
            let message = result.failure?.message ?? ""
            #expect(message.contains("<redacted>"))
            #expect(!message.contains(key))
        }
    }

    @Test func sanitizeCollapsesWhitespace() {
        #expect(ProviderText.sanitize("  a\n\n  b\tc  ", apiKey: nil) == "a b c")
    }
}

@Suite struct SanitizeLengthTests {
    @Test func exactLengthIsKept() {
        let text = String(repeating: "a", count: 300)
        #expect(ProviderText.sanitize(text, apiKey: nil) == text)
        let longer = ProviderText.sanitize(text + " b", apiKey: nil)
        #expect(longer.count == 300 && longer.hasSuffix("…"))
    }
}
