// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "reclaw",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "reclaw", targets: ["reclaw"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // The operations endpoint's HTTP/1 server (NIOHTTP1's llhttp codec bounds the headers).
        // Clean debug build on 2 cores: about +70 CPU-seconds; Hummingbird would cost about +155.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // Metrics: swift-metrics' Prometheus backend, used through its registry (about +17 CPU-seconds).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        // C libraries from Debian's packages.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // Linux calls Swift's Glibc module does not expose (fallocate, malloc_trim).
        .target(name: "CSystemShim"),

        // The one clock every read of time and every sleep goes through (a manual one in tests).
        .target(name: "ReclawTime"),

        // Thin owning wrappers over the C libraries.
        .target(name: "ReclawYAML", dependencies: ["CYAML"]),
        .target(name: "ReclawGit", dependencies: ["CGit2", "ReclawTime"]),
        .target(name: "ReclawHTTP", dependencies: ["CCurl", "CCurlShim", "ReclawTime"]),

        // Domain modules.
        .target(name: "ReclawJSON"),
        .target(name: "ReclawAWS", dependencies: ["ReclawTime",
            "ReclawHTTP", "ReclawJSON",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ReclawSpec", dependencies: ["ReclawYAML", "ReclawJSON"]),
        .target(name: "ReclawEngine", dependencies: ["ReclawTime",
            "ReclawJSON",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The AWS resources of an OpenClaw deployment, declared once: kinds, components, policies,
        // the desired graph, the posture checks, and their CloudFormation and Terraform names.
        .target(name: "ReclawCatalog", dependencies: ["ReclawEngine", "ReclawJSON", "ReclawSpec"]),
        .target(name: "ReclawState", dependencies: ["ReclawTime", "ReclawEngine", "ReclawSpec"]),
        .target(name: "ReclawAudit", dependencies: ["ReclawTime",
            "ReclawAWS", "ReclawCatalog", "ReclawEngine", "ReclawJSON", "ReclawState", "CSystemShim",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ReclawProviderAWS", dependencies: ["ReclawTime",
            "ReclawAWS", "ReclawCatalog", "ReclawEngine", "ReclawJSON", "ReclawSpec", "ReclawAudit", "ReclawState",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // SSH and OpenPGP commit signatures, checked against the operator's trusted keys.
        .target(name: "ReclawSignatures", dependencies: [
            "ReclawGit",
            .product(name: "Crypto", package: "swift-crypto"),
            // RSA keys of SSH commit signatures (RSA has no home in Crypto proper).
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // The source: fetching the repository, reading its specs, SSH host trust.
        .target(name: "ReclawSource", dependencies: ["ReclawTime",
            "ReclawEngine", "ReclawGit", "ReclawSignatures", "ReclawSpec", "ReclawState",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // CloudTrail's change events: the SQS listener and the triage of each event.
        .target(name: "ReclawEvents", dependencies: [
            "ReclawAWS", "ReclawAudit", "ReclawTime", "ReclawJSON", "ReclawState",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The controller's state and decisions: the work scheduler, drift checks, the policy gate, health.
        .target(name: "ReclawController", dependencies: ["ReclawTime", "ReclawCatalog",
            "ReclawAWS", "ReclawAudit", "ReclawEngine", "ReclawEvents", "ReclawJSON", "ReclawProviderAWS", "ReclawSignatures", "ReclawSpec",
            "ReclawState",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The operations endpoint: its HTTP server, the metrics registry, the push gate.
        .target(name: "ReclawOperations", dependencies: ["ReclawTime",
            "ReclawAWS", "ReclawController", "ReclawEngine", "ReclawEvents", "ReclawLease", "ReclawSignatures", "CSystemShim",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Alerts: the webhook notifier, its Slack, Discord and generic formats, their signatures.
        .target(name: "ReclawAlerts", dependencies: ["ReclawTime",
            "ReclawAWS", "ReclawAudit", "ReclawController", "ReclawEngine", "ReclawHTTP", "ReclawJSON", "ReclawOperations",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Several replicas sharing deployments through DynamoDB leases: the coordinator and the
        // manager that does its I/O.
        .target(name: "ReclawLease", dependencies: [
            "ReclawAWS", "ReclawTime", "ReclawJSON", "ReclawState",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The service that wires the parts: the reconcile daemon and its lanes.
        .target(name: "ReclawDaemon", dependencies: ["ReclawCatalog",
            "ReclawAWS", "ReclawAlerts", "ReclawAudit", "ReclawTime", "ReclawController", "ReclawEngine", "ReclawEvents",
            "ReclawJSON", "ReclawLease", "ReclawOperations", "ReclawProviderAWS", "ReclawSignatures", "ReclawSource", "ReclawState",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "reclaw", dependencies: [
            "ReclawTime",
            "ReclawSpec", "ReclawCatalog", "ReclawEngine", "ReclawProviderAWS", "ReclawAudit", "ReclawDaemon",
            "ReclawAWS", "ReclawGit", "ReclawHTTP", "ReclawJSON", "ReclawState", "ReclawLease",
            "ReclawAlerts", "ReclawController", "ReclawEvents", "ReclawOperations", "ReclawSignatures", "ReclawSource",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Shared test helpers: the local AWS emulator, temporary git repositories.
        .target(name: "ReclawTestSupport", dependencies: ["ReclawAWS", "ReclawHTTP", "ReclawTime", .product(name: "Logging", package: "swift-log")], path: "Tests/ReclawTestSupport"),

        .testTarget(name: "ReclawYAMLTests", dependencies: ["ReclawYAML"]),
        .testTarget(name: "ReclawGitTests", dependencies: ["ReclawGit", "ReclawTestSupport"]),
        .testTarget(name: "ReclawHTTPTests", dependencies: ["ReclawHTTP", "ReclawTestSupport", "ReclawTime"]),
        .testTarget(name: "ReclawAWSTests", dependencies: ["ReclawAWS", "ReclawJSON", "ReclawHTTP", "ReclawTestSupport", "ReclawTime",
                                                         .product(name: "Logging", package: "swift-log")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ReclawSpecTests", dependencies: ["ReclawSpec"]),
        .testTarget(name: "ReclawEngineTests", dependencies: ["ReclawCatalog", "ReclawEngine", "ReclawJSON", "ReclawSpec"]),
        .testTarget(name: "ReclawStateTests", dependencies: ["ReclawState", "ReclawEngine", "ReclawTestSupport"]),
        .testTarget(name: "ReclawProviderAWSTests", dependencies: [
            "ReclawProviderAWS", "ReclawCatalog", "ReclawEngine", "ReclawJSON", "ReclawSpec", "ReclawAWS", "ReclawAudit", "ReclawState", "ReclawTestSupport",
            "ReclawTime",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ReclawAuditTests", dependencies: [
            "ReclawAudit", "ReclawAWS", "ReclawCatalog", "ReclawJSON", "ReclawTestSupport", "ReclawProviderAWS", "ReclawSpec", "ReclawState", "ReclawEngine",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ReclawDaemonTests", dependencies: [
            "ReclawDaemon", "ReclawCatalog", "ReclawTime", "ReclawGit", "ReclawTestSupport", "ReclawSpec", "ReclawEngine", "ReclawAudit",
            "ReclawProviderAWS", "ReclawAWS", "ReclawState", "ReclawHTTP", "ReclawJSON",
            "ReclawAlerts", "ReclawController", "ReclawEvents", "ReclawOperations", "ReclawSignatures", "ReclawSource",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ReclawLeaseTests", dependencies: ["ReclawLease", "ReclawAWS", "ReclawTestSupport", "ReclawTime", "ReclawState",
                                                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "reclawTests", dependencies: ["ReclawTestSupport", "ReclawHTTP"]),
        // The files under deploy/ and docs/, checked against the code they describe.
        .testTarget(name: "DeployTests", dependencies: ["ReclawAWS", "ReclawSpec", "ReclawYAML", "ReclawJSON", "ReclawTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
