import ArgumentParser
import Foundation
import ReclawDaemon
import ReclawSignatures
import ReclawSource

/// `--allowed-signers`, `--trusted-keys` and `--verify-history`: which signatures the tip of a git
/// source must carry before anything of it is planned or applied.
struct SignatureOptions: ParsableArguments {
    static let allowedSignersVariable = "RECLAW_ALLOWED_SIGNERS"
    static let trustedKeysVariable = "RECLAW_TRUSTED_KEYS"

    @Option(name: .customLong("allowed-signers"),
            help: ArgumentHelp("Accept only commits signed with an SSH key listed in this OpenSSH allowed_signers file (default: $RECLAW_ALLOWED_SIGNERS).",
                               valueName: "file"))
    var allowedSigners: String?

    @Option(name: .customLong("trusted-keys"),
            help: ArgumentHelp("Accept only commits signed with one of these ASCII-armored OpenPGP public keys (default: $RECLAW_TRUSTED_KEYS).",
                               valueName: "file"))
    var trustedKeys: String?

    @Flag(name: .customLong("verify-history"),
          help: "With --allowed-signers or --trusted-keys: every commit since the last verified revision must verify, not only the tip.")
    var verifyHistory = false

    /// The files named by the options, else by the environment.
    func files(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> (allowedSigners: String?, trustedKeys: String?) {
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        return (allowedSigners ?? nonEmpty(environment[Self.allowedSignersVariable]), trustedKeys ?? nonEmpty(environment[Self.trustedKeysVariable]))
    }

    /// Usage errors: signatures asked of a directory (which has none), or `--verify-history` alone.
    func validate(source: String) throws {
        let (ssh, pgp) = files()
        let given = ssh != nil || pgp != nil
        if verifyHistory && !given {
            throw ValidationError("--verify-history needs --allowed-signers or --trusted-keys (or $\(Self.allowedSignersVariable), $\(Self.trustedKeysVariable))")
        }
        if given, case .directory = SourceLocation(source) {
            throw ValidationError("--allowed-signers and --trusted-keys need a git source: the directory \(source) has no signatures to verify")
        }
    }

    /// The policy, its key files read now; nil when no signatures are asked for.
    func policy() throws -> SignaturePolicy? {
        let (ssh, pgp) = files()
        do { return try SignaturePolicy.load(allowedSigners: ssh, trustedKeys: pgp, verifyHistory: verifyHistory) } catch {
            throw CLIError("\(error)")
        }
    }

    /// The same options as arguments, to hand them on.
    var arguments: [String] {
        (allowedSigners.map { ["--allowed-signers", $0] } ?? []) + (trustedKeys.map { ["--trusted-keys", $0] } ?? [])
            + (verifyHistory ? ["--verify-history"] : [])
    }
}
