extension AWSError {
    /// What an error means to reclaw's retries and reads, decided once when it is made.
    enum Meaning: Sendable, Equatable {
        case throttling, notFound, cancelled, instanceProfileNotPropagated, other

        init(kind: Kind, code: String, message: String) {
            if kind == .transport && code == "Cancelled" {
                self = .cancelled
            } else if RetryPolicy.throttlingCodes.contains(code) {
                self = .throttling
            } else if code.hasSuffix("NotFound") || ["NoSuchEntity", "ParameterNotFound", "ResourceNotFoundException"].contains(code) {
                self = .notFound
            } else if code == "InvalidParameterValue" {
                // EC2 gives these two one generic code; its message names which parameter was refused.
                let text = message.lowercased()
                if text.contains("does not exist") {
                    self = .notFound
                } else if message.contains("Invalid IAM Instance Profile") || message.contains("iamInstanceProfile") {
                    self = .instanceProfileNotPropagated
                } else {
                    self = .other
                }
            } else {
                self = .other
            }
        }
    }
}
