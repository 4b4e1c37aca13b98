import Dispatch

/// Runs blocking file work (writes that fsync before they return) on a thread of its own and
/// awaits it. Swift runs tasks on as many threads as there are cores (two on a small host): a
/// step blocked in fsync there would hold up every other step's work, where here it holds up only
/// itself. The caller still waits for the write, so nothing is reported done before it is durable.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "reclaw.blocking-io", attributes: .concurrent)

    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
        }
        return try result.get()
    }
}
