/// Where a CloudTrail event about one of a deployment's resources should be handled.
public enum EventRouting: Sendable, Equatable {
    /// This daemon works on the deployment: its drift check is woken.
    case here
    /// The deployment is in the source but another replica holds its lease.
    case elsewhere
    /// The deployment is no longer in the source (or not read yet).
    case nowhere
}
