import ReclawAWS
import ReclawEngine

extension AWSError: ReportableError {
    public var errorCode: String { code }
    public var errorRequestID: String? { requestID }
}
