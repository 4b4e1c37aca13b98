import ReclawEngine

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
