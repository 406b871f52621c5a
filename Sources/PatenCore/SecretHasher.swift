import Foundation

/// Hashes bearer secrets for storage and lookup; the hash function lives outside Core.
public protocol SecretHasher: Sendable {
    /// A hex digest of the secret.
    func hash(_ secret: String) -> String
}
