import ReclawJSON
import ReclawSpec

/// The key of one component of a deployment (docs/contracts.md, "Components"): `vpc`, `endpoint-ssm`, `instance`, ...
public typealias ComponentKey = String

/// What kind of AWS resource a component is; decides which driver handles it.
public enum ResourceKind: String, Sendable, Codable, Hashable, CaseIterable {
    case vpc, internetGateway, subnet, routeTable, securityGroup, vpcEndpoint, role, instanceProfile, parameter, instance

    /// IAM is global: the role and instance profile serve the deployment in every region.
    public var isGlobal: Bool { self == .role || self == .instanceProfile }

    /// The CloudFormation-style type name used in audit events.
    public var typeName: String {
        switch self {
        case .vpc: return "AWS::EC2::VPC"
        case .internetGateway: return "AWS::EC2::InternetGateway"
        case .subnet: return "AWS::EC2::Subnet"
        case .routeTable: return "AWS::EC2::RouteTable"
        case .securityGroup: return "AWS::EC2::SecurityGroup"
        case .vpcEndpoint: return "AWS::EC2::VPCEndpoint"
        case .role: return "AWS::IAM::Role"
        case .instanceProfile: return "AWS::IAM::InstanceProfile"
        case .parameter: return "AWS::SSM::Parameter"
        case .instance: return "AWS::EC2::Instance"
        }
    }
}

/// The fixed component keys, and the kind each one is.
public enum Components {
    public static let vpc = "vpc"
    public static let igw = "igw"
    public static let publicSubnet = "public-subnet"
    public static let privateSubnet = "private-subnet"
    public static let publicRouteTable = "public-rt"
    /// The private subnet's own route table: only the local route, so "private" is something
    /// reclaw manages rather than whatever the VPC's main table happens to hold.
    public static let privateRouteTable = "private-rt"
    public static let instanceSG = "instance-sg"
    public static let endpointSG = "endpoint-sg"
    public static let role = "role"
    public static let instanceProfile = "instance-profile"
    public static let gatewayToken = "param-gateway-token"
    public static let model = "param-model"
    public static let version = "param-version"
    public static let gatewayPort = "param-gateway-port"
    public static let instance = "instance"

    public static func endpoint(_ service: String) -> ComponentKey { "endpoint-\(service)" }

    /// The components a component depends on (those of them that exist in the deployment).
    /// One table serves the desired graph and the deletion order of resources no longer desired.
    public static func dependencies(of key: ComponentKey) -> [ComponentKey] {
        switch key {
        case vpc, role, gatewayToken, model, version, gatewayPort: return []
        case igw, publicSubnet, privateSubnet, instanceSG: return [vpc]
        case publicRouteTable: return [vpc, igw, publicSubnet]
        case privateRouteTable: return [vpc, privateSubnet]
        case endpointSG: return [vpc, instanceSG]
        case instanceProfile: return [role]
        case instance: return [publicSubnet, instanceSG, instanceProfile, publicRouteTable, gatewayToken, model, version, gatewayPort]
        default: return key.hasPrefix("endpoint-") ? [vpc, privateSubnet, endpointSG] : []
        }
    }

    /// The kind of a component key; nil for keys reclaw does not know.
    public static func kind(of key: ComponentKey) -> ResourceKind? {
        switch key {
        case vpc: return .vpc
        case igw: return .internetGateway
        case publicSubnet, privateSubnet: return .subnet
        case publicRouteTable, privateRouteTable: return .routeTable
        case instanceSG, endpointSG: return .securityGroup
        case role: return .role
        case instanceProfile: return .instanceProfile
        case gatewayToken, model, version, gatewayPort: return .parameter
        case instance: return .instance
        default: return key.hasPrefix("endpoint-") ? .vpcEndpoint : nil
        }
    }
}

/// reclaw's ownership tags (docs/contracts.md, "Ownership tags").
public enum OwnershipTags {
    public static let deployment = ReclawTags.deployment
    public static let component = ReclawTags.component
    public static let name = ReclawTags.name

    public static func tags(deployment: String, component: ComponentKey, extra: [String: String]) -> [String: String] {
        var t = extra
        t[self.deployment] = deployment
        t[self.component] = component
        t[name] = "\(deployment)-\(component)"
        return t
    }
}
