import Foundation

/// Makes the opaque ids that name records.
public protocol IdentifierGenerator: Sendable {
    /// A new id, starting with the given prefix (such as `q` for questions).
    func make(_ prefix: String) -> String
}

/// Random ids: a prefix, an underscore and 20 characters of lowercase base32 (100 bits).
public struct RandomIdentifierGenerator: IdentifierGenerator {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// Creates the generator.
    public init() {}

    public func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let body = (0..<20).map { _ in Self.alphabet[Int(generator.next(upperBound: UInt8(32)))] }
        return prefix + "_" + String(body)
    }
}
