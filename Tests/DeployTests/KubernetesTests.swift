import Foundation
import ReclawJSON
import ReclawTestSupport
import Testing

/// deploy/kubernetes: the manifests parse, name each other correctly, and run reclaw as the docs say:
/// one replica, non-root, a read-only root, state on a volume, secrets as files, IRSA.
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

    var pod: JSONValue? { manifests["Deployment"]?.at("spec.template.spec") }
    var container: JSONValue? { pod?["containers"]?.arrayValue?.first }

    @Test func everyManifestHasItsRequiredFields() {
        #expect(Set(manifests.keys) == ["Namespace", "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Deployment", "Service"])
        for (kind, m) in manifests {
            #expect(m["apiVersion"]?.stringValue?.isEmpty == false, "\(kind)")
            #expect(m.at("metadata.name")?.stringValue?.isEmpty == false, "\(kind)")
        }
        #expect(manifests["Deployment"]?.at("spec.selector.matchLabels") == manifests["Deployment"]?.at("spec.template.metadata.labels"))
        #expect(manifests["Service"]?.at("spec.selector") == manifests["Deployment"]?.at("spec.template.metadata.labels"))
        #expect(container?["image"]?.stringValue?.isEmpty == false)
    }

    @Test func oneReplicaIsReplacedNeverDoubled() {
        #expect(manifests["Deployment"]?.at("spec.replicas") == "1")
        #expect(manifests["Deployment"]?.at("spec.strategy.type") == "Recreate")
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
        let stateVolume = try #require(volumes[mounts[stateDir] ?? ""])
        #expect(stateVolume.at("persistentVolumeClaim.claimName") == manifests["PersistentVolumeClaim"]?.at("metadata.name"))

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
        for (i, arg) in args.enumerated() {
            for match in arg.matches(of: /\$\(([A-Z_]+)\)/) {
                let key = String(match.1)
                #expect(config[key] != nil, "\(key) is not in the ConfigMap")
                args[i] = args[i].replacingOccurrences(of: "$(\(key))", with: config[key]?.stringValue ?? "")
            }
        }
        // reclaw runs them for one pass, with a local folder for the example's repository and the
        // Secret's files where the Deployment mounts them.
        let pass = OnePass()
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
