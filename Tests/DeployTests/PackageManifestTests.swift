import Foundation
import ReclawTestSupport
import Testing

/// Package.swift's dependency lists, checked against what each target's sources import.
@Suite struct PackageManifestTests {
    /// Modules of the toolchain and the OS, which no target declares.
    static let system: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
        "Synchronization", "Testing", "XCTest", "_Concurrency",
    ]

    @Test func everyTargetDeclaresExactlyWhatItImports() throws {
        let targets = try PackageManifest.targets(try String(contentsOfFile: RepoPaths.path("Package.swift"), encoding: .utf8))
        #expect(targets.count > 20)
        var checked: Set<String> = []
        for target in targets {
            let files = PackageManifest.swiftFiles(under: RepoPaths.path(target.path))
            guard !files.isEmpty else { continue }
            var imports: Set<String> = []
            for file in files {
                imports.formUnion(PackageManifest.imports(try String(contentsOfFile: file, encoding: .utf8)))
            }
            imports.subtract(Self.system)
            #expect(imports.subtracting(target.dependencies).sorted() == [], "\(target.name) imports these without declaring them")
            #expect(target.dependencies.subtracting(imports).sorted() == [], "\(target.name) declares these without importing them")
            checked.insert(target.name)
        }
        #expect(checked.count >= 20)
        // Every module with Swift sources is a target whose imports were checked.
        let modules = try FileManager.default.contentsOfDirectory(atPath: RepoPaths.path("Sources"))
            .filter { !PackageManifest.swiftFiles(under: RepoPaths.path("Sources/\($0)")).isEmpty }
        #expect(Set(modules).subtracting(checked).sorted() == [], "these modules are not targets of Package.swift")
    }

    @Test func theParserReadsTargetsProductsAndImportForms() throws {
        let targets = try PackageManifest.targets("""
            targets: [
                // "NotADependency"
                .target(name: "A", dependencies: ["B", .product(name: "Logging", package: "swift-log")]),
                .testTarget(name: "ATests", dependencies: ["A"], resources: [.copy("Fixtures")]),
                .target(name: "Support", dependencies: ["A"], path: "Tests/Support"),
            ]
            """)
        #expect(targets.map(\.name) == ["A", "ATests", "Support"])
        #expect(targets.map(\.path) == ["Sources/A", "Tests/ATests", "Tests/Support"])
        #expect(targets.map(\.dependencies) == [["B", "Logging"], ["A"], ["A"]])
        let source = """
            import Foundation
            @testable import A
            internal import B
            public import struct C.Thing
            @preconcurrency import D
            let script = \"\"\"
                import boto3
                \"\"\"
            """
        #expect(PackageManifest.imports(source) == ["Foundation", "A", "B", "C", "D"])
    }
}
