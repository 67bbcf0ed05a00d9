#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import FallbackWire

/// The golden transcripts (Tests/golden/transcripts.jsonl, captured from a real daemon) decoded with
/// the wire contract's types and encoded back: what the daemon writes, the Swift client reads, and
/// the encoders produce are one shape. The Python client and the docs are checked against the same file.
@Suite("Golden transcripts")
struct GoldenTranscriptTests {
    struct Exchange {
        var name: String
        var method: String
        var params: JSON?
        var result: JSON?
        var error: JSON?
        var notifications: [JSON]
    }

    static func exchanges() throws -> [Exchange] {
        let path = String(#filePath.split(separator: "/").dropLast(2).joined(separator: "/"))
        let file = "/" + path + "/golden/transcripts.jsonl"
        guard let text = readFile(file) else {
            Issue.record("cannot read \(file)")
            return []
        }
        return try text.split(separator: "\n").map { line in
            let entry = try JSON.parse(String(line))
            return Exchange(
                name: entry["name"]?.stringValue ?? "", method: entry["request"]?["method"]?.stringValue ?? "",
                params: entry["request"]?["params"], result: entry["reply"]?["result"], error: entry["reply"]?["error"],
                notifications: entry["notifications"]?.arrayValue ?? [])
        }
    }

    @Test("every method and error of the contract is in the transcripts")
    func coverage() throws {
        let methods = Set(try Self.exchanges().map(\.method))
        #expect(methods.isSuperset(of: [
            "ping", "status", "models", "chains", "complete", "health", "breakers", "breaker.reset", "breaker.isolate",
            "route", "report", "cost.report", "shadow.report", "fleet",
        ]))
        let codes = Set(try Self.exchanges().compactMap { $0.error?["code"]?.intValue })
        #expect(codes.isSuperset(of: [-32602, -32001]))
    }

    @Test("each result decodes into its wire type and encodes back to the same JSON")
    func resultsRoundTrip() throws {
        for exchange in try Self.exchanges() {
            if let error = exchange.error {
                #expect(RPCError(json: error)?.json == error, "\(exchange.name)")
                continue
            }
            let result = try #require(exchange.result, "\(exchange.name)")
            #expect(try reencode(exchange.method, result) == result, "\(exchange.name)")
        }
    }

    @Test("complete params decode into CompleteParams and encode back, member for member")
    func completeParamsRoundTrip() throws {
        for exchange in try Self.exchanges() where exchange.method == "complete" && exchange.error == nil {
            let params = try #require(exchange.params)
            #expect(try CompleteParams(decoding: params).json == params, "\(exchange.name)")
        }
    }

    @Test("the report params the client builds are the ones in the transcript")
    func reportParams() throws {
        let exchange = try #require(try Self.exchanges().first { $0.method == "report" })
        let params = try #require(exchange.params)
        let built = ReportReceipt.params(
            model: params["model"]?.stringValue ?? "", outcome: .error(type: params["error_type"]?.stringValue ?? ""),
            latencyMs: params["latency_ms"]?.intValue ?? 0,
            usage: Usage(inputTokens: params["usage"]?["input_tokens"]?.intValue ?? 0, outputTokens: params["usage"]?["output_tokens"]?.intValue ?? 0),
            httpStatus: params["http_status"]?.intValue, task: nil, metadata: nil)
        #expect(built == params)
    }

    func reencode(_ method: String, _ result: JSON) throws -> JSON {
        switch method {
        case "ping": return result
        case "status": return try DaemonStatus(json: result).json
        case "models": return ["models": .array((result["models"]?.arrayValue ?? []).compactMap { ModelInfo(json: $0)?.json })]
        case "chains": return try ChainTable(json: result).json
        case "complete": return try Completion(json: result).json
        case "health":
            let window = result["window_minutes"]?.intValue ?? 0
            return ModelHealth.result(try ModelHealth.list(json: result), windowMinutes: window)
        case "breakers": return ["breakers": .array((result["breakers"]?.arrayValue ?? []).compactMap { BreakerInfo(json: $0)?.json })]
        case "breaker.reset", "breaker.isolate": return try #require(BreakerInfo(json: result)).json
        case "route": return try ChainRoute(json: result).json
        case "report": return ReportReceipt(json: result).json
        case "cost.report": return try SpendReport(json: result).json
        case "shadow.report": return try ShadowReport(json: result).json
        case "fleet": return try FleetReport(json: result).json
        default:
            Issue.record("no wire type for \(method)")
            return result
        }
    }
}

/// A whole file as text, without Foundation.
func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
