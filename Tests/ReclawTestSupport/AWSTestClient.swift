import Foundation
import Logging
import ReclawAWS
import ReclawHTTP

extension Emulator {
    /// An AWS environment pointing every service at this emulator.
    public var awsEnvironment: AWSEnvironment {
        AWSEnvironment(variables: ["AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_DISABLED": "true"], homeDirectory: "/nonexistent")
    }

    /// A client for this emulator with test credentials, fast retries, and optional observer;
    /// with `deadlines`, it waits out new ids not yet visible and throttling as reclaw does on AWS.
    public func client(accessKey: String = "AKIDTESTRECLAW000001", secret: String = "testing-secret", maxAttempts: Int = 3,
                       observer: (any AWSCallObserver)? = nil, logger: Logger = Logger(label: "test.aws"),
                       http: HTTPClient = .shared, deadlines: TransientDeadlines? = nil) -> AWSClient {
        AWSClient(credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: accessKey, secretAccessKey: secret)),
                  environment: awsEnvironment, http: http,
                  retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), deadlines: deadlines),
                  logger: logger, observer: observer)
    }
}

/// A unique suffix for names, so tests sharing an emulator never collide.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}
