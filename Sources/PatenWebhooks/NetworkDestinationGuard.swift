import Foundation
import PatenCore

/// Refuses outbound destinations on loopback, private, link-local and other non-public addresses, unless the
/// configuration allows them. A host name is resolved and every address it has must be allowed.
///
/// The check runs when a URL is set and again before each attempt (names can change what they point to). The
/// HTTP client resolves the name once more when it connects, so a name that changes between the two lookups
/// (DNS rebinding) is not fully covered; a proxy that pins addresses is the complete answer.
public struct NetworkDestinationGuard: DestinationGuard {
    public var allowLoopback: Bool
    public var allowPrivate: Bool

    /// Creates the guard.
    public init(allowLoopback: Bool, allowPrivate: Bool) {
        self.allowLoopback = allowLoopback
        self.allowPrivate = allowPrivate
    }

    /// What kind of address an IP is.
    public enum AddressClass: Equatable, Sendable {
        case global
        case loopback
        /// RFC 1918, unique local, carrier-grade NAT.
        case `private`
        /// Link-local, unspecified, multicast, broadcast, reserved and documentation ranges: never a destination.
        case special
    }

    public func check(_ url: String) async throws {
        guard let host = URL(string: url)?.host, !host.isEmpty else {
            throw PatenError.unprocessable("invalid_outbound_url", "outbound_url has no host.")
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses = try await Self.resolve(bare)
        guard !addresses.isEmpty else {
            throw PatenError.unprocessable("unresolvable_host", "The host \(bare) does not resolve to an address.")
        }
        for address in addresses {
            let kind = Self.classify(address)
            let allowed =
                switch kind {
                case .global: true
                case .loopback: allowLoopback
                case .private: allowPrivate
                case .special: false
                }
            if !allowed {
                let shown = Self.text(address) == bare ? bare : "\(bare) (\(Self.text(address)))"
                throw PatenError.unprocessable(
                    "destination_not_allowed",
                    "\(shown) is a \(Self.describe(kind)) address; Paten does not send there"
                        + (kind == .special
                            ? "." : " unless the configuration allows it (webhook_allow_\(kind == .loopback ? "loopback" : "private")).")
                )
            }
        }
    }

    /// The addresses of a host: an IP literal as is, a name through the system resolver.
    static func resolve(_ host: String) async throws -> [[UInt8]] {
        if let literal = parseIPv4(host) ?? parseIPv6(host) { return [literal] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                #if canImport(Glibc)
                    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)  // an enum in Glibc
                #else
                    hints.ai_socktype = SOCK_STREAM  // an Int32 macro on Darwin and Musl
                #endif
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0 else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(result) }
                var addresses: [[UInt8]] = []
                var entry = result
                while let current = entry {
                    if let address = current.pointee.ai_addr {
                        switch Int32(address.pointee.sa_family) {
                        case AF_INET:
                            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                                addresses.append(withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) })
                            }
                        case AF_INET6:
                            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                                addresses.append(withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) })
                            }
                        default: break
                        }
                    }
                    entry = current.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }

    /// Classifies a 4- or 16-byte address.
    public static func classify(_ address: [UInt8]) -> AddressClass {
        if address.count == 16 {
            let zeros = { (range: Range<Int>) in address[range].allSatisfy { $0 == 0 } }
            let embedded = Array(address[12..<16])
            if zeros(0..<10) && address[10] == 0xff && address[11] == 0xff { return classify(embedded) }  // ::ffff:a.b.c.d
            if zeros(0..<8) && address[8] == 0xff && address[9] == 0xff && zeros(10..<12) {
                return classify(embedded)  // ::ffff:0:a.b.c.d (SIIT)
            }
            if zeros(0..<15) { return address[15] == 1 ? .loopback : .special }  // ::1, ::
            if zeros(0..<12) { return classify(embedded) }  // ::a.b.c.d (IPv4-compatible, deprecated)
            if address[0] == 0x20 && address[1] == 0x02 { return classify(Array(address[2..<6])) }  // 2002::/16 6to4
            if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0 && address[3] == 0 { return .special }  // Teredo
            if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x0d && address[3] == 0xb8 { return .special }
            if address[0] & 0xfe == 0xfc { return .private }  // fc00::/7 unique local
            if address[0] == 0xfe && address[1] & 0xc0 == 0x80 { return .special }  // fe80::/10 link-local
            if address[0] == 0xfe && address[1] & 0xc0 == 0xc0 { return .special }  // fec0::/10 site-local
            if address[0] == 0xff { return .special }  // multicast
            if address[0] == 0x00 && address[1] == 0x64 && address[2] == 0xff && address[3] == 0x9b {
                // 64:ff9b::/96 well-known NAT64 carries an IPv4 address; the rest (64:ff9b:1::/48) is local use.
                return zeros(4..<12) ? classify(embedded) : .special
            }
            if address[0] == 0x01 && zeros(1..<8) { return .special }  // 100::/64 discard
            if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x00 && address[3] == 0x02 && zeros(4..<6) {
                return .special  // 2001:2::/48 benchmarking
            }
            if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x00 && address[3] & 0xf0 == 0x10 {
                return .special  // 2001:10::/28 ORCHID
            }
            return .global
        }
        guard address.count == 4 else { return .special }
        let (a, b) = (address[0], address[1])
        switch a {
        case 127: return .loopback
        case 10: return .private
        case 172 where (16...31).contains(b): return .private
        case 192 where b == 168: return .private
        case 100 where (64...127).contains(b): return .private  // carrier-grade NAT
        case 0, 224...255: return .special  // "this network", multicast, reserved, broadcast
        case 169 where b == 254: return .special  // link-local, cloud metadata
        case 192 where b == 0 && address[2] == 0:
            return .special  // IETF protocol assignments
        case 192 where b == 0 && address[2] == 2, 198 where b == 51 && address[2] == 100,
            203 where b == 0 && address[2] == 113:
            return .special  // documentation
        case 198 where b == 18 || b == 19: return .special  // benchmarking
        default: return .global
        }
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1 ? withUnsafeBytes(of: address) { Array($0) } : nil
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1 ? withUnsafeBytes(of: address) { Array($0) } : nil
    }

    private static func describe(_ kind: AddressClass) -> String {
        switch kind {
        case .global: "public"
        case .loopback: "loopback"
        case .private: "private"
        case .special: "link-local or reserved"
        }
    }

    private static func text(_ address: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = address.count == 4 ? AF_INET : AF_INET6
        _ = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
    }
}
