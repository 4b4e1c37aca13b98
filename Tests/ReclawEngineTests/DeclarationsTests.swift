import Testing
import ReclawCatalog
import ReclawEngine
import ReclawJSON
import ReclawSpec

/// The catalog declares each kind once; the graph builder, the schema and the plan words read it.
@Suite struct DeclarationsTests {
    @Test("every component the seed builds has a declared kind, and every attribute it writes is declared with the same update policy")
    func theGraphWritesOnlyDeclaredAttributes() {
        let g = DesiredGraphBuilder.build(spec(), facts: DeploymentFacts(accountID: "111122223333", permissionsBoundary: "arn:aws:iam::111122223333:policy/b"))
        for c in g.components {
            let declaration = Declarations[c.kind]
            #expect(declaration != nil, "\(c.key)")
            for (name, attribute) in c.attributes {
                let declared = declaration?.attribute(name)
                #expect(declared != nil, "\(c.key).\(name)")
                // Only the gateway token overrides its declaration: written once, never read back.
                if !attribute.sensitive { #expect(declared?.update == attribute.update, "\(c.key).\(name)") }
            }
        }
    }

    @Test("each kind is declared once, and the component table knows a kind for every key it depends on")
    func kindsAreDeclaredOnce() {
        #expect(Set(ResourceKind.allCases).count == Declarations.all.count)
        let g = DesiredGraphBuilder.build(spec(), facts: facts)
        for c in g.components {
            #expect(AWSSchema().kind(of: c.key) == c.kind)
            for d in AWSSchema().dependencies(of: c.key) { #expect(AWSSchema().kind(of: d) != nil, "\(c.key) → \(d)") }
        }
    }

    @Test("the schema compares sets regardless of order, policy documents canonically, and hides a SecureString's value")
    func comparisonRules() {
        let schema = AWSSchema()
        #expect(schema.comparable("subnets", of: .routeTable, ["b", "a", "a"]) == ["a", "b"])
        #expect(schema.comparable("instanceType", of: .instance, ["b", "a"]) == ["b", "a"])
        let loose: JSONValue = ["Statement": ["Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"]]
        #expect(schema.comparable("trustPolicy", of: .role, loose) == Policies.canonical(loose))
        let secure = ObservedResource(key: "param-gateway-token", kind: .parameter, id: "p", attributes: ["type": "SecureString", "value": "x"])
        let plain = ObservedResource(key: "param-model", kind: .parameter, id: "p", attributes: ["type": "String", "value": "x"])
        #expect(schema.isSecret("value", of: secure) && !schema.isSecret("value", of: plain))
        guard case .growOnly = schema.rule("rootVolumeGiB", of: .instance).comparison else {
            Issue.record("the root volume is grow-only")
            return
        }
    }
}
