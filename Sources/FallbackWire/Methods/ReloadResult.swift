/// The result of `reload`: what the new config changed. Unchanged models keep their breakers and
/// health; a model whose provider key or base URL changed starts with a closed breaker.
public struct ReloadResult: Sendable, Equatable {
    /// Names added, removed and changed in one section of the config.
    public struct Changes: Sendable, Equatable {
        public var added: [String]
        public var removed: [String]
        public var changed: [String]

        public init(added: [String] = [], removed: [String] = [], changed: [String] = []) {
            self.added = added
            self.removed = removed
            self.changed = changed
        }

        public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

        public var json: JSON {
            [
                "added": .array(added.map { .string($0) }), "removed": .array(removed.map { .string($0) }),
                "changed": .array(changed.map { .string($0) }),
            ]
        }

        public init(json: JSON?) {
            self.init(
                added: (json?["added"]?.arrayValue ?? []).compactMap(\.stringValue),
                removed: (json?["removed"]?.arrayValue ?? []).compactMap(\.stringValue),
                changed: (json?["changed"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
    }

    /// The config generation now in force (1 at start, +1 per reload that applied).
    public var generation: Int
    /// Whether anything that applies without a restart changed.
    public var changed: Bool
    public var providers: Changes
    public var models: Changes
    public var chains: Changes
    /// Other sections whose settings changed (`resilience`, `cost`, `facade`, `apps`).
    public var settings: [String]
    /// Models whose breaker was reset because their provider's key or base URL changed.
    public var breakersReset: [String]
    /// Keys that changed but only take effect after a restart (the sockets, the database...).
    public var restartRequired: [String]
    /// Warnings of the new config (a key variable not set).
    public var warnings: [String]

    public init(
        generation: Int, changed: Bool, providers: Changes = Changes(), models: Changes = Changes(),
        chains: Changes = Changes(), settings: [String] = [], breakersReset: [String] = [], restartRequired: [String] = [],
        warnings: [String] = []
    ) {
        self.generation = generation
        self.changed = changed
        self.providers = providers
        self.models = models
        self.chains = chains
        self.settings = settings
        self.breakersReset = breakersReset
        self.restartRequired = restartRequired
        self.warnings = warnings
    }

    public init(json: JSON) throws(WireError) {
        guard json.kind == .object else { throw WireError(field: "result", "must be an object") }
        let strings: (String) -> [String] = { (json[$0]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(
            generation: json["generation"]?.roundedInt ?? 0, changed: json["changed"]?.boolValue ?? false,
            providers: Changes(json: json["providers"]), models: Changes(json: json["models"]),
            chains: Changes(json: json["chains"]), settings: strings("settings"), breakersReset: strings("breakers_reset"),
            restartRequired: strings("restart_required"), warnings: strings("warnings"))
    }

    public var json: JSON {
        [
            "generation": .int(generation), "changed": .bool(changed), "providers": providers.json,
            "models": models.json, "chains": chains.json, "settings": .array(settings.map { .string($0) }),
            "breakers_reset": .array(breakersReset.map { .string($0) }),
            "restart_required": .array(restartRequired.map { .string($0) }),
            "warnings": .array(warnings.map { .string($0) }),
        ]
    }
}
