import Foundation
import ReclawAWS
import ReclawEngine

/// The transients of AWS that steps wait out, each up to its deadline in `waiter.deadlines`: an
/// instance changing state, an endpoint being deleted, an SSM agent registering, a new IAM
/// instance profile propagating. (New EC2 ids not yet visible and throttling are waited out by
/// the client itself, see `RetryPolicy.deadlines`.)
extension AWSDriver {
    /// The deadline of a wait for an instance to reach one of `states`.
    func instanceDeadline(_ states: Set<String>) -> Duration {
        if states.contains("terminated") { return waiter.deadlines.instanceTerminated }
        if states.contains("stopped") { return waiter.deadlines.instanceStopped }
        return waiter.deadlines.instanceRunning
    }

    /// An endpoint's state; nil once EC2 no longer knows it (deleted endpoints stay listed as
    /// `deleted` for a while, then describing them answers NotFound).
    func endpointState(_ id: String, _ c: StepContext) async throws(AWSError) -> String? {
        do {
            return try await ec2(c).vpcEndpoints([], ids: [id]).first?.state
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// An EC2 call naming an instance profile (RunInstances, AssociateIamInstanceProfile,
    /// ReplaceIamInstanceProfileAssociation), repeated while IAM has not propagated a new profile
    /// to EC2 (InvalidParameterValue "Invalid IAM Instance Profile name").
    func whenProfilePropagated<T>(_ profile: String, _ call: () async throws(AWSError) -> T) async throws(AWSError) -> T {
        try await waiter.retrying("instance profile \(profile) to propagate from IAM to EC2", deadline: waiter.deadlines.iamPropagation,
                                  while: { (error: AWSError) async throws(AWSError) -> Bool in error.isInstanceProfileNotPropagated }, body: call)
    }

    /// SendCommand, repeated while SSM answers InvalidInstanceId for an instance that is pending or
    /// running: its agent has not registered yet. A stopped or missing instance fails at once.
    func sendWhenAgentRegistered(_ instance: String, _ c: StepContext, _ send: () async throws(AWSError) -> String) async throws(AWSError) -> String {
        let ec2 = ec2(c)
        return try await waiter.retrying("the SSM agent of \(instance) to register", deadline: waiter.deadlines.agentRegistration, while: { (error: AWSError) async throws(AWSError) -> Bool in
            guard error.code == "InvalidInstanceId" else { return false }
            let state = try await ec2.instances([("instance-id", [instance])]).first?.state
            return state == "running" || state == "pending"
        }, body: send)
    }

    /// Seconds for SendCommand: the delivery timeout and the script's execution timeout.
    var commandTimeouts: (delivery: Int, execution: Int) {
        (Int(waiter.deadlines.commandDelivery.components.seconds), max(1, Int(waiter.deadlines.commandExecution.components.seconds)))
    }
}
