import Foundation

/// What a finished process printed and returned.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs external programs (git, python, the reclaw binary) the way a user would.
public enum Command {
    /// Runs `arguments` to completion, with extra environment and an optional working directory.
    @discardableResult
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, stdin: String? = nil
    ) throws -> CommandResult {
        let process = try launch(arguments, environment: environment, directory: directory)
        if let stdin, let pipe = process.standardInput as? Pipe {
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
        }
        try? (process.standardInput as? Pipe)?.fileHandleForWriting.close()
        let out = (process.standardOutput as! Pipe).fileHandleForReading
        let err = (process.standardError as! Pipe).fileHandleForReading
        // Read both pipes concurrently so neither can fill up and block the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs `arguments` to completion without holding one of Swift's cooperative threads while it
    /// waits (async tests call this overload).
    @discardableResult
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, stdin: String? = nil
    ) async throws -> CommandResult {
        try await offThread { try run(arguments, environment: environment, directory: directory, stdin: stdin) as CommandResult }
    }

    /// Runs and requires exit status 0, off the cooperative threads.
    @discardableResult
    public static func check(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) async throws -> String {
        try await offThread { try check(arguments, environment: environment, directory: directory) as String }
    }

    /// Runs blocking work on a dispatch thread and awaits it.
    public static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Starts `arguments` with piped stdin, stdout and stderr; the caller waits for it.
    public static func launch(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardInput = Pipe()
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }

    /// Runs and requires exit status 0, returning stdout.
    @discardableResult
    public static func check(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> String {
        let r = try run(arguments, environment: environment, directory: directory)
        guard r.status == 0 else {
            throw CommandFailure(arguments: arguments, result: r)
        }
        return r.stdout
    }
}

/// A command that exited non-zero where the test needed success.
public struct CommandFailure: Error, CustomStringConvertible {
    public var arguments: [String]
    public var result: CommandResult
    public var description: String {
        "\(arguments.joined(separator: " ")) exited \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
    }
}
