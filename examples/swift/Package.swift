// swift-tools-version:6.0
// A minimal program using the FallbackClient library from the repository root.
//
//   fallbackd --config config/demo.toml &        # from the repository root
//   cd examples/swift && swift run FallbackExample
//
// The client finds the daemon through $FALLBACKD_SOCKET, else $XDG_RUNTIME_DIR/fallbackd.sock,
// else /tmp/fallbackd-$UID.sock.
import PackageDescription

let package = Package(
    name: "FallbackExample",
    platforms: [.macOS(.v14)],
    dependencies: [
        // `name:` pins the identity, so this works whatever the checkout directory is called.
        .package(name: "fallbackd", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "FallbackExample",
            dependencies: [.product(name: "FallbackClient", package: "fallbackd")]
        ),
    ]
)
