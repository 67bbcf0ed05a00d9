import AsyncHTTPClient
import NIOCore

/// The upstream straight over HTTP with async-http-client (keep-alive pool), the way fallbackd's
/// OpenAI adapter calls it: same body, same headers. `@unchecked Sendable`: confined to `loop`.
final class HTTPTarget: LoadTarget, @unchecked Sendable {
    let loop: any EventLoop
    let client: HTTPClient
    let request: HTTPClient.Request
    let lanes: Int
    weak var run: LoadRun?

    /// - Parameter lanes: requests in flight per closed-loop lane is 1, so this is the concurrency.
    init(client: HTTPClient, loop: any EventLoop, url: String, body: [UInt8], lanes: Int) throws {
        self.client = client
        self.loop = loop
        self.lanes = max(1, lanes)
        var request = try HTTPClient.Request(url: url, method: .POST, body: .bytes(body))
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "user-agent", value: "fallbackd/0.1.0")
        self.request = request
    }

    /// A keep-alive client on `group` with up to `connections` connections to the upstream.
    static func makeClient(group: any EventLoopGroup, connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(3), read: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        )
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    /// One request, checked: status 200 and an OpenAI `chat.completion` body.
    static func judge(_ result: Result<HTTPClient.Response, any Error>) -> (ok: Bool, why: String) {
        switch result {
        case .success(let response):
            guard response.status.code == 200 else { return (false, "HTTP \(response.status.code)") }
            guard let body = response.body, body.readableBytes > 0 else { return (false, "empty body") }
            let hasChoices = body.withUnsafeReadableBytes { ByteScan.contains(choicesKey, in: $0) }
            return hasChoices ? (true, "") : (false, "body without choices: " + String(buffer: body).prefix(200))
        case .failure(let error):
            return (false, "\(error)")
        }
    }

    static let choicesKey = Array(#""choices""#.utf8)

    func attach(_ run: LoadRun) { self.run = run }

    func send(id: Int, lane: Int) {
        let task = client.execute(
            request: request, delegate: ResponseAccumulator(request: request), eventLoop: .delegateAndChannel(on: loop))
        task.futureResult.whenComplete { result in
            let verdict = Self.judge(result)
            self.run?.complete(id: id, ok: verdict.ok, lane: lane) { verdict.why }
        }
    }

    func flush() {}
}
