import Foundation
import Testing
import ReclawSpec

/// A small deterministic PRNG, so a failing mutation can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A property test that mutates valid specs and checks the loader never crashes, hangs, or points
/// outside the file, and always judges the same input the same way.
@Suite struct FuzzTests {
    static let seeds: [String] = {
        let paths = ["examples/openclaw-seed.yaml", "examples/multi-team/platform.yaml", "examples/multi-team/support.yaml", "examples/multi-team/research.yaml"]
        return paths.compactMap { try? String(contentsOfFile: repoRoot + "/" + $0, encoding: .utf8) }
    }()

    static let fragments: [[UInt8]] = [
        "{", "}", "[", "]", ":", ": ", "- ", "&a ", "*a", "!!str ", "!!binary ", "\t", "\0", "---\n", "...\n", "\"", "'", "\n", "  ",
        "#", "|", ">", "? ", "%YAML 1.1\n", "null", "~", "0x1F", "1e400", "-", "@", "`", "\r\n", "\u{FEFF}", "é", "<<: *a\n",
    ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0x80]]

    func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { return Self.fragments.randomElement(using: &rng)! }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...40, using: &rng)))
            case 2: bytes.insert(contentsOf: Self.fragments.randomElement(using: &rng)!, at: i)
            case 3:
                let end = min(bytes.count, i + Int.random(in: 1...80, using: &rng))
                bytes.insert(contentsOf: bytes[i..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 4: bytes = Array(bytes[..<i])
            default:
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                if lines.count > 2 { lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng)) }
                bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            }
        }
        return bytes
    }

    @Test func mutatedSpecsNeverCrashHangOrPointOutsideTheFile() {
        var rng = SplitMix64(state: 0x5EC1A4)
        var judged = (valid: 0, invalid: 0)
        for iteration in 0..<3000 {
            let input = mutate(Array(Self.seeds[iteration % Self.seeds.count].utf8), &rng)
            let file = SpecFile(path: "fuzz.yaml", bytes: input)
            let result = SpecLoader().load([file])
            let lines = input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count + 1
            for d in result.diagnostics {
                #expect(d.line >= 1 && d.line <= lines && d.column >= 1, "iteration \(iteration): \(d)")
                #expect(!d.message.isEmpty)
            }
            #expect(SpecLoader().load([file]).diagnostics == result.diagnostics, "iteration \(iteration) is not deterministic")
            if result.hasErrors { judged.invalid += 1 } else { judged.valid += result.deployments.isEmpty ? 0 : 1 }
        }
        // The mutations must exercise both outcomes, or the test checks nothing.
        #expect(judged.valid > 100 && judged.invalid > 100, "\(judged)")
    }

    @Test func typeConfusedValuesAreAlwaysDiagnosedNeverAccepted() throws {
        let base = try #require(Self.seeds.first)
        let replacements = ["{a: 1}", "[1, 2]", "\"text\"", "12", "true", "null", "''", "-1", "1.5"]
        var rng = SplitMix64(state: 42)
        let lines = base.split(separator: "\n", omittingEmptySubsequences: false)
        for _ in 0..<500 {
            var copy = lines
            let candidates = copy.indices.filter { copy[$0].contains(": ") && !copy[$0].hasPrefix("#") && !copy[$0].hasPrefix("apiVersion") && !copy[$0].hasPrefix("kind") }
            let i = candidates.randomElement(using: &rng)!
            let key = copy[i].split(separator: ":", maxSplits: 1)[0]
            copy[i] = key + ": " + replacements.randomElement(using: &rng)![...]
            let text = copy.joined(separator: "\n")
            let result = load(text)
            if let spec = result.deployments.first?.spec {
                // Whatever was accepted must still satisfy every invariant of a valid spec.
                #expect(CIDR(spec.network.vpcCidr) != nil)
                #expect((1024...65535).contains(spec.openclaw.gatewayPort))
                #expect((8...16384).contains(spec.instance.rootVolumeGiB))
            } else {
                #expect(!result.errors.isEmpty, "rejected without an error: \(copy[i])")
            }
        }
    }
}
