import Foundation

/// Verifies OpenPGP signatures with GnuPG's `gpgv`, run without a shell against a keyring made
/// from `--trusted-keys` alone, in a private temporary directory removed afterwards.
struct GPGVerifier: Sendable {
    /// What gpgv's status lines said.
    enum Outcome: Sendable, Equatable {
        case good(fingerprint: String, userID: String)
        case bad
        case noPublicKey(keyID: String)
        case keyNotValid(keyID: String)
        /// gpgv could not run, or said nothing usable.
        case failed(String)
    }

    let keyring: [UInt8]
    let program: String

    init(keyring: [UInt8], program: String = GPGVerifier.findProgram()) {
        self.keyring = keyring
        self.program = program
    }

    /// gpgv on the PATH, else its Debian location.
    static func findProgram(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for dir in (environment["PATH"] ?? "").split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/gpgv") {
            return "\(dir)/gpgv"
        }
        return "/usr/bin/gpgv"
    }

    func verify(signature: String, data: [UInt8]) -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reclaw-gpgv-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch { return .failed("cannot make a private directory for gpgv: \(error.localizedDescription)") }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = ["trusted.gpg": keyring, "signature.asc": Array(signature.utf8), "data": data]
        for (name, bytes) in files {
            guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                return .failed("cannot write \(dir)/\(name)")
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["--homedir", dir, "--status-fd", "1", "--keyring", "\(dir)/trusted.gpg", "\(dir)/signature.asc", "\(dir)/data"]
        process.environment = ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return .failed("cannot run \(program): \(error.localizedDescription)") }
        let status = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Self.outcome(statusLines: String(decoding: status, as: UTF8.self))
    }

    /// Reads gpgv's `--status-fd` lines (GnuPG's doc/DETAILS).
    static func outcome(statusLines: String) -> Outcome {
        var good: String?, fingerprint: String?, noKey: String?, notValid: String?, error: String?, errorFingerprint: String?, bad = false
        for line in statusLines.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard words.count >= 3, words[0] == "[GNUPG:]" else { continue }
            switch words[1] {
            case "BADSIG": bad = true
            case "EXPKEYSIG", "REVKEYSIG", "EXPSIG": notValid = words[2]
            case "NO_PUBKEY": noKey = words[2]
            case "GOODSIG": good = words.count > 3 ? words[3] : ""
            case "VALIDSIG":
                let fields = line.split(separator: " ").map(String.init)
                // The primary key's fingerprint is the tenth field after VALIDSIG; the signing key's is the first.
                fingerprint = fields.count >= 12 ? fields[11] : fields[2]
            case "ERRSIG":
                error = String(line.dropFirst(9))
                // GnuPG 2.2.7 and later add the signing key's fingerprint as the seventh field.
                let fields = line.split(separator: " ").map(String.init)
                if fields.count >= 9, fields[8] != "-" { errorFingerprint = fields[8] }
            default: continue
            }
        }
        if bad { return .bad }
        if let notValid { return .keyNotValid(keyID: notValid) }
        if let noKey { return .noPublicKey(keyID: errorFingerprint ?? noKey) }
        if let good, let fingerprint { return .good(fingerprint: fingerprint, userID: good) }
        if let error { return .failed("gpgv could not check the signature (\(error))") }
        return .failed("gpgv reported no valid signature")
    }
}
