import Foundation
import ReclawSpec

/// The repository root, from this file's place.
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Loads one in-memory file.
func load(_ text: String, path: String = "spec.yaml") -> SpecLoadResult {
    SpecLoader().load([SpecFile(path: path, text: text)])
}

/// A minimal valid document with `spec` lines inserted (indented by two spaces under spec:).
func document(name: String = "alpha", _ specLines: String = "") -> String {
    """
    apiVersion: reclaw.dev/v1alpha1
    kind: OpenClawDeployment
    metadata:
      name: \(name)
    spec:
      region: us-east-1
      openclaw:
        version: "2026.2.3"
    \(specLines)
    """
}
