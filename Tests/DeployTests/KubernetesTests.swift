import Foundation
import ReclawJSON
import ReclawTestSupport
import Testing

/// deploy/kubernetes: the manifests parse, name each other correctly, and run reclaw as the docs say:
/// three replicas sharing a lease table, rolled one at a time, non-root, a read-only root, each
/// replica's state on a volume of its own, secrets as files, IRSA.
@Suite struct KubernetesTests {
    let manifests: [String: JSONValue]

    init() throws {
        var byKind: [String: JSONValue] = [:]
        let kustomization = try #require(try DeployFiles.yaml("deploy/kubernetes/kustomization.yaml").first)
        for file in kustomization["resources"]?.strings ?? [] {
            for doc in try DeployFiles.yaml("deploy/kubernetes/" + file) {
                byKind[doc["kind"]?.stringValue ?? "?"] = doc
            }
        }
        manifests = byKind
    }

    var statefulSet: JSONValue? { manifests["StatefulSet"] }
    var pod: JSONValue? { statefulSet?.at("spec.template.spec") }
    var container: JSONValue? { pod?["containers"]?.arrayValue?.first }

    @Test func everyManifestHasItsRequiredFields() {
        #expect(Set(manifests.keys) == ["Namespace", "ServiceAccount", "ConfigMap", "StatefulSet", "PodDisruptionBudget", "Service"])
        for (kind, m) in manifests {
            #expect(m["apiVersion"]?.stringValue?.isEmpty == false, "\(kind)")
            #expect(m.at("metadata.name")?.stringValue?.isEmpty == false, "\(kind)")
        }
        #expect(statefulSet?.at("spec.selector.matchLabels") == statefulSet?.at("spec.template.metadata.labels"))
        #expect(manifests["Service"]?.at("spec.selector") == statefulSet?.at("spec.template.metadata.labels"))
        #expect(statefulSet?.at("spec.serviceName") == manifests["Service"]?.at("metadata.name"))
        #expect(manifests["Service"]?.at("spec.clusterIP") == "None", "a StatefulSet's service is headless")
        #expect(container?["image"]?.stringValue?.isEmpty == false)
    }

    @Test func threeReplicasShareALeaseTableAndAreRolledOneAtATime() {
        #expect(statefulSet?.at("spec.replicas") == "3")
        #expect(statefulSet?.at("spec.updateStrategy.type") == "RollingUpdate")
        #expect(manifests["PodDisruptionBudget"]?.at("spec.maxUnavailable") == "1")
        #expect(manifests["PodDisruptionBudget"]?.at("spec.selector.matchLabels") == statefulSet?.at("spec.template.metadata.labels"))
        let args = container?["args"]?.strings ?? []
        #expect(args.contains("--lease-table=$(RECLAW_LEASE_TABLE)") && args.contains("--replica-id=$(POD_NAME)"))
        let podName = container?["env"]?.arrayValue?.first { $0["name"] == "POD_NAME" }
        #expect(podName?.at("valueFrom.fieldRef.fieldPath") == "metadata.name", "each replica is named after its pod")
    }

    @Test func itRunsAsNonRootOnAReadOnlyRootWithNoPrivileges() {
        #expect(pod?.at("securityContext.runAsNonRoot") == "true")
        #expect(pod?.at("securityContext.seccompProfile.type") == "RuntimeDefault")
        #expect(container?.at("securityContext.readOnlyRootFilesystem") == "true")
        #expect(container?.at("securityContext.allowPrivilegeEscalation") == "false")
        #expect(container?.at("securityContext.capabilities.drop") == ["ALL"])
    }

    @Test func stateIsOnTheVolumeAndSecretsAreMountedFiles() throws {
        let env = Dictionary(uniqueKeysWithValues: (container?["env"]?.arrayValue ?? []).compactMap { e in
            e["name"]?.stringValue.map { ($0, e["value"]?.stringValue ?? "") }
        })
        let mounts = Dictionary(uniqueKeysWithValues: (container?["volumeMounts"]?.arrayValue ?? []).compactMap { m in
            m["mountPath"]?.stringValue.map { ($0, m["name"]?.stringValue ?? "") }
        })
        let volumes = Dictionary(uniqueKeysWithValues: (pod?["volumes"]?.arrayValue ?? []).compactMap { v in v["name"]?.stringValue.map { ($0, v) } })
        let stateDir = try #require(env["RECLAW_STATE_DIR"])
        // Each replica's state (and audit log) is on a volume of its own, from the claim template.
        let claims = (statefulSet?.at("spec.volumeClaimTemplates")?.arrayValue ?? []).compactMap { $0.at("metadata.name")?.stringValue }
        #expect(claims.contains(mounts[stateDir] ?? "?") && volumes[mounts[stateDir] ?? ""] == nil)

        let args = container?["args"]?.strings ?? []
        let secretFiles = args.filter { $0.hasPrefix("--alert-webhook-file=") || $0.hasPrefix("--hook-secret-file=") }.map { String($0.split(separator: "=")[1]) }
            + [env["RECLAW_GIT_CREDENTIALS_FILE"] ?? ""]
        #expect(secretFiles.count == 3)
        for file in secretFiles {
            let dir = (file as NSString).deletingLastPathComponent
            let volume = volumes[mounts[dir] ?? ""]
            #expect(volume?.at("secret.secretName") == "reclaw-secrets", "\(file) is not in the reclaw-secrets Secret")
        }
        #expect(!args.contains { $0.hasPrefix("--alert-webhook=") }, "webhook URLs are secrets, not arguments")
    }

    @Test func argumentsReferOnlyToConfigMapKeysAndNameRealFlags() async throws {
        let config = manifests["ConfigMap"]?["data"]?.objectValue ?? [:]
        #expect(container?["envFrom"]?.arrayValue?.first?.at("configMapRef.name") == manifests["ConfigMap"]?.at("metadata.name"))
        var args = container?["args"]?.strings ?? []
        let fromPod: [String: String] = ["POD_NAME": "reclaw-0"]  // what the downward API gives the first pod
        for (i, arg) in args.enumerated() {
            for match in arg.matches(of: /\$\(([A-Z_]+)\)/) {
                let key = String(match.1)
                #expect(config[key] != nil || fromPod[key] != nil, "\(key) is not in the ConfigMap")
                args[i] = args[i].replacingOccurrences(of: "$(\(key))", with: config[key]?.stringValue ?? fromPod[key] ?? "")
            }
        }
        // reclaw runs them for one pass, with a local folder for the example's repository, the
        // Secret's files where the pod mounts them, and the lease table made as the docs say.
        let pass = OnePass()
        let table = uniqueName("leases")
        args = args.map { $0.replacingOccurrences(of: "--lease-table=\(config["RECLAW_LEASE_TABLE"]?.stringValue ?? "")", with: "--lease-table=\(table)") }
        let made = try await pass.run(["lease", "create-table", table, "--region", config["RECLAW_LEASE_REGION"]?.stringValue ?? ""], once: false)
        #expect(made.status == 0, "\(made.stderr)")
        args = args.map {
            $0.replacingOccurrences(of: config["RECLAW_SOURCE"]?.stringValue ?? "", with: pass.source)
                .replacingOccurrences(of: "/etc/reclaw/secrets", with: pass.secrets)
        }
        // envFrom hands every ConfigMap key to the process as well (RECLAW_PERMISSIONS_BOUNDARY is read from there).
        let environment = config.compactMapValues(\.stringValue).filter { $0.key.hasPrefix("RECLAW_") && $0.key != "RECLAW_SOURCE" }
        let r = try await pass.run(args, environment: environment)
        #expect(r.status == 2, "\(r.stderr.suffix(3000))")
        #expect(!r.stderr.contains("no --permissions-boundary"), "the ConfigMap sets no boundary")
    }

    @Test func theServiceAccountAsksForAnIAMRoleAndIsGrantedNothingInTheCluster() {
        #expect(manifests["ServiceAccount"]?.at("metadata.annotations")?["eks.amazonaws.com/role-arn"]?.stringValue?.hasPrefix("arn:aws:iam::") == true)
        #expect(pod?["serviceAccountName"] == manifests["ServiceAccount"]?.at("metadata.name"))
        // IRSA needs the service account token; no binding gives that token any permission.
        #expect(pod?["automountServiceAccountToken"] != "false")
        #expect(manifests.keys.allSatisfy { !$0.hasSuffix("RoleBinding") && !$0.hasSuffix("Role") })
    }

    @Test func probesUseTheHealthEndpointOnTheMetricsPort() {
        #expect(container?.at("livenessProbe.httpGet.path") == "/healthz")
        #expect((container?["args"]?.strings ?? []).contains("--metrics-address=0.0.0.0:9464"))
        #expect(container?["ports"]?.arrayValue?.first?["containerPort"] == "9464")
    }
}
