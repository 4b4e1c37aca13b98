import Testing
import ReclawJSON
@testable import ReclawAWS

@Suite struct MalformedResponseTests {
    func xml(_ text: String) throws -> XMLElement {
        try #require(XMLElement.parse(Array(text.utf8)))
    }

    @Test func aCreateResponseWithoutTheIdIsAnErrorCarryingTheRequestID() throws {
        let response = try xml("""
            <?xml version="1.0" encoding="UTF-8"?>
            <CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
                <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
                <vpc><cidrBlock>10.0.0.0/16</cidrBlock><state>pending</state></vpc>
            </CreateVpcResponse>
            """)
        let error = #expect(throws: AWSError.self) {
            try response.required(["vpc", "vpcId"], service: "ec2", operation: "CreateVpc", region: "eu-west-1")
        }
        #expect(error?.kind == .decoding)
        #expect(error?.code == "MalformedResponse")
        #expect(error?.requestID == "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE")
        #expect(error?.operation == "CreateVpc")
    }

    @Test func aCreateResponseWithTheIdGivesIt() throws {
        let response = try xml("<CreateVpcResponse><requestId>r-1</requestId><vpc><vpcId>vpc-0abc</vpcId></vpc></CreateVpcResponse>")
        #expect(try response.required(["vpc", "vpcId"], service: "ec2", operation: "CreateVpc", region: "eu-west-1") == "vpc-0abc")
        let empty = try xml("<CreateVpcResponse><requestId>r-2</requestId><vpc><vpcId></vpcId></vpc></CreateVpcResponse>")
        #expect(throws: AWSError.self) { try empty.required(["vpc", "vpcId"], service: "ec2", operation: "CreateVpc", region: "eu-west-1") }
    }

    @Test func aRunInstancesResponseWithoutAnInstanceIsAnError() throws {
        let response = try xml("<RunInstancesResponse><requestId>r-3</requestId><instancesSet/></RunInstancesResponse>")
        let error = #expect(throws: AWSError.self) { try EC2.launchedInstanceID(response, region: "us-east-1") }
        #expect(error?.code == "MalformedResponse")
        #expect(error?.requestID == "r-3")
        let launched = try xml("<RunInstancesResponse><instancesSet><item><instanceId>i-0123</instanceId></item></instancesSet></RunInstancesResponse>")
        #expect(try EC2.launchedInstanceID(launched, region: "us-east-1") == "i-0123")
    }

    @Test func iamResponsesCarryTheirRequestIDInResponseMetadata() throws {
        let response = try xml("<GetCallerIdentityResponse><GetCallerIdentityResult/><ResponseMetadata><RequestId>iam-7</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
        let error = #expect(throws: AWSError.self) {
            try response.required(["GetCallerIdentityResult", "Account"], service: "sts", operation: "GetCallerIdentity", region: "us-east-1")
        }
        #expect(error?.requestID == "iam-7")
    }

    @Test func aJSONResponseWithoutTheIdIsAnError() throws {
        let response = try JSONValue.parse(#"{"Command": {"Status": "Pending"}}"#)
        let error = #expect(throws: AWSError.self) {
            try response.required(["Command", "CommandId"], service: "ssm", operation: "SendCommand", region: "us-east-1", requestID: "json-1")
        }
        #expect(error?.requestID == "json-1")
        #expect(error?.kind == .decoding)
    }

    @Test func describedResourcesWithoutAnIdAreSkipped() throws {
        let response = try xml("""
            <DescribeVpcsResponse><vpcSet>
                <item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock></item>
                <item><cidrBlock>10.1.0.0/16</cidrBlock></item>
                <item><vpcId></vpcId></item>
            </vpcSet></DescribeVpcsResponse>
            """)
        let vpcs = response.list("vpcSet").compactMap(EC2.Vpc.init)
        #expect(vpcs.map(\.id) == ["vpc-1"])
        let instances = try xml("<r><instancesSet><item><instanceState><name>running</name></instanceState></item></instancesSet></r>")
        #expect(instances.list("instancesSet").compactMap(EC2.Instance.init).isEmpty)
        let tables = try xml("""
            <r><item><routeTableId>rtb-1</routeTableId><associationSet>
                <item><routeTableAssociationId>rtbassoc-1</routeTableAssociationId><main>true</main></item>
                <item><subnetId>subnet-1</subnetId></item>
            </associationSet></item></r>
            """)
        let table = try #require(tables.children.first.flatMap(EC2.RouteTable.init))
        #expect(table.associations.map(\.id) == ["rtbassoc-1"])
    }
}
