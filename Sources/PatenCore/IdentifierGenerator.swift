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
        // Two draws of 64 random bits give the 100 bits (20 × 5); a draw per character costs a system call each.
        var generator = SystemRandomNumberGenerator()
        let words = [generator.next() as UInt64, generator.next() as UInt64]
        let body = (0..<20).map { index in
            Self.alphabet[Int((words[index / 10] >> UInt64(5 * (index % 10))) & 31)]
        }
        return prefix + "_" + String(body)
    }
}
