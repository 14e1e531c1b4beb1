// swift-tools-version:5.9
//
// peerchat for Swift (iOS 15+, macOS 12+): the uniffi-generated Swift bindings of the Rust engine
// plus a thin Swift layer (PeerChatClient: async methods and an AsyncStream of events), in one
// module, `PeerChat`.
//
// The Rust engine ships as PeerChatFFI.xcframework (static libraries + the C header and
// module.modulemap of the `PeerChatFFI` C module). Build it first with ./build-xcframework.sh
// (on a Mac with Xcode and rustup); see ../bindings/README.md.
import PackageDescription

let package = Package(
    name: "PeerChat",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PeerChat", targets: ["PeerChat"]),
    ],
    targets: [
        // Built by build-xcframework.sh: slices for iOS devices (arm64), the iOS simulator
        // (arm64 + x86_64) and macOS (arm64 + x86_64, for `swift test` on a Mac).
        .binaryTarget(name: "PeerChatFFI", path: "PeerChatFFI.xcframework"),
        .target(
            name: "PeerChat",
            dependencies: ["PeerChatFFI"],
            path: "Sources/PeerChat"
        ),
        // Run on macOS: `swift test` (needs `cargo build -p peerchat-cli` for the server; see
        // the test file for PEERCHAT_BIN).
        .testTarget(
            name: "PeerChatTests",
            dependencies: ["PeerChat"],
            path: "Tests/PeerChatTests"
        ),
    ]
)
