// swift-tools-version:6.0
import PackageDescription

// Release builds skip the runtime exclusivity checks (about 3% of a request's instructions): the
// daemon's shared state lives behind Mutexes and actors, and debug builds (the tests) keep the checks.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "fallbackd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fallbackd", targets: ["fallbackd"]),
        .executable(name: "fallbackctl", targets: ["fallbackctl"]),
        .library(name: "FallbackClient", targets: ["FallbackClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CJansson", path: "Sources/CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "FallbackWire", dependencies: ["CJansson"], swiftSettings: hotPath),
        .target(name: "FallbackCore", dependencies: ["FallbackWire"], swiftSettings: hotPath),
        .target(name: "FallbackRPC", dependencies: [
            "FallbackWire",
            .product(name: "NIOCore", package: "swift-nio"),
        ], swiftSettings: hotPath),
        .target(name: "FallbackProviders", dependencies: [
            "FallbackCore", "FallbackRPC",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: hotPath),
        .target(name: "FallbackStore", dependencies: [
            "FallbackCore", "CSQLite",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: hotPath),
        // Optional: only used when a config has a [fleet] section (sharing breakers through PostgreSQL).
        .target(name: "FallbackFleet", dependencies: [
            "FallbackCore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "FallbackDaemon", dependencies: [
            "FallbackCore", "FallbackRPC", "FallbackProviders", "FallbackStore", "FallbackFleet",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: hotPath),
        .executableTarget(name: "fallbackd", dependencies: [
            "FallbackDaemon",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: hotPath),
        .target(name: "FallbackClient", dependencies: ["FallbackRPC", "FallbackWire"]),
        .executableTarget(name: "fallbackctl", dependencies: [
            "FallbackClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "fallbackd-bench", dependencies: [
            "FallbackRPC",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/fallbackd-bench"),
        .testTarget(name: "FallbackWireTests", dependencies: ["FallbackWire", "FallbackCore"]),
        .testTarget(name: "FallbackCoreTests", dependencies: ["FallbackCore"]),
        .testTarget(name: "FallbackRPCTests", dependencies: ["FallbackRPC"]),
        .testTarget(name: "FallbackProvidersTests", dependencies: [
            "FallbackProviders", "FallbackCore", "FallbackRPC",
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "FallbackFleetTests", dependencies: ["FallbackFleet"]),
        .testTarget(name: "FallbackStoreTests", dependencies: ["FallbackStore", "FallbackCore"]),
        .testTarget(name: "FallbackClientTests", dependencies: ["FallbackClient", "FallbackRPC"]),
        .testTarget(name: "FallbackDaemonTests", dependencies: [
            "FallbackDaemon", "FallbackClient", "FallbackRPC", "FallbackCore", "FallbackStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
    ]
)
