import Crypto
import PatenCore

/// SHA-256 of a bearer secret, in lowercase hex: what the tokens table stores.
public struct SHA256SecretHasher: SecretHasher {
    /// Creates the hasher.
    public init() {}

    public func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
