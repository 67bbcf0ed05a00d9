/// The result of `status`: what the daemon is and how busy it is.
public struct DaemonStatus: Sendable, Equatable {
    public var version: String
    public var uptimeSeconds: Double
    public var pid: Int
    public var socket: String
    public var database: String
    public var inFlight: Int
    public var maxInFlight: Int
    /// Requests admitted since start.
    public var requestsTotal: Int
    public var connections: Int
    public var draining: Bool
    public var callLog: CallLogState
    /// Pool names by priority, and task names sorted.
    public var models: [String]
    public var chains: [String]
    /// The OpenAI-compatible HTTP endpoint's Unix socket; `nil` when the facade is off.
    public var httpSocket: String?
    /// The HTTP endpoint's TCP address (`127.0.0.1:8787`) when it listens on one.
    public var httpListen: String?
    /// Counts config loads: 1 for the config the daemon started with, +1 per successful reload.
    public var configGeneration: Int = 1

    /// The call log's flushing state.
    public struct CallLogState: Sendable, Equatable {
        public var pending: Int
        public var written: Int
        public var failedFlushes: Int
        public var dropped: Int
        public var lastError: String?

        public init(pending: Int = 0, written: Int = 0, failedFlushes: Int = 0, dropped: Int = 0, lastError: String? = nil) {
            self.pending = pending
            self.written = written
            self.failedFlushes = failedFlushes
            self.dropped = dropped
            self.lastError = lastError
        }
    }

    public init(
        version: String, uptimeSeconds: Double, pid: Int, socket: String, database: String, inFlight: Int,
        maxInFlight: Int, requestsTotal: Int, connections: Int, draining: Bool, callLog: CallLogState, models: [String],
        chains: [String]
    ) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.pid = pid
        self.socket = socket
        self.database = database
        self.inFlight = inFlight
        self.maxInFlight = maxInFlight
        self.requestsTotal = requestsTotal
        self.connections = connections
        self.draining = draining
        self.callLog = callLog
        self.models = models
        self.chains = chains
    }

    /// Reads a `status` result; missing members get neutral values.
    public init(json: JSON) throws(WireError) {
        guard json.kind == .object else { throw WireError(field: "result", "must be an object") }
        let log = json["call_log"]
        self.init(
            version: json["version"]?.stringValue ?? "", uptimeSeconds: json["uptime_s"]?.doubleValue ?? 0,
            pid: json["pid"]?.roundedInt ?? 0, socket: json["socket"]?.stringValue ?? "",
            database: json["database"]?.stringValue ?? "", inFlight: json["in_flight"]?.roundedInt ?? 0,
            maxInFlight: json["max_in_flight"]?.roundedInt ?? 0, requestsTotal: json["requests_total"]?.roundedInt ?? 0,
            connections: json["connections"]?.roundedInt ?? 0, draining: json["draining"]?.boolValue ?? false,
            callLog: CallLogState(
                pending: log?["pending"]?.roundedInt ?? 0, written: log?["written"]?.roundedInt ?? 0,
                failedFlushes: log?["failed_flushes"]?.roundedInt ?? 0, dropped: log?["dropped"]?.roundedInt ?? 0,
                lastError: log?["last_error"]?.stringValue),
            models: (json["models"]?.arrayValue ?? []).compactMap(\.stringValue),
            chains: (json["chains"]?.arrayValue ?? []).compactMap(\.stringValue))
        httpSocket = json["http_socket"]?.stringValue
        httpListen = json["http_listen"]?.stringValue
        configGeneration = json["config_generation"]?.roundedInt ?? 1
    }

    public var json: JSON {
        [
            "version": .string(version), "uptime_s": .double(uptimeSeconds), "pid": .int(pid), "socket": .string(socket),
            "database": .string(database), "in_flight": .int(inFlight), "max_in_flight": .int(maxInFlight),
            "requests_total": .int(requestsTotal), "connections": .int(connections), "draining": .bool(draining),
            "call_log": [
                "pending": .int(callLog.pending), "written": .int(callLog.written),
                "failed_flushes": .int(callLog.failedFlushes), "dropped": .int(callLog.dropped),
                "last_error": .optional(callLog.lastError),
            ],
            "models": .array(models.map { .string($0) }), "chains": .array(chains.map { .string($0) }),
            "http_socket": .optional(httpSocket), "http_listen": .optional(httpListen),
            "config_generation": .int(configGeneration),
        ]
    }
}

/// The result of `route`: the order a task's chain would be tried in now.
public struct ChainRoute: Sendable, Equatable {
    public var task: String
    /// The chain that runs for it (`default` for a task without one).
    public var chain: String
    public var route: [RouteEntry]

    public init(task: String, chain: String, route: [RouteEntry]) {
        self.task = task
        self.chain = chain
        self.route = route
    }

    public init(json: JSON) throws(WireError) {
        guard let route = json["route"], route.kind == .array else { throw WireError(field: "result.route", "must be an array") }
        self.init(task: json["task"]?.stringValue ?? "", chain: json["chain"]?.stringValue ?? "", route: RouteEntry.list(route))
    }

    public var json: JSON {
        ["task": .string(task), "chain": .string(chain), "route": .array(route.map(\.json))]
    }
}
