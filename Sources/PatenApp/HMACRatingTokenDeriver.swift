import Crypto
import Foundation
import PatenCore

/// Rating tokens as HMAC-SHA256 of the question's id and the link's issue instant, under a key derived from the
/// secrets key (so every instance on one database derives the same links, and no table holds one).
public struct HMACRatingTokenDeriver: RatingTokenDeriver {
    private let key: SymmetricKey

    /// Creates the deriver from the 32-byte secrets key; the rating key is derived from it for this use alone.
    public init(secretsKey: [UInt8]) {
        let derived = HMAC<SHA256>.authenticationCode(
            for: Array("paten rating links v1".utf8), using: SymmetricKey(data: secretsKey)
        )
        key = SymmetricKey(data: Array(derived))
    }

    public func token(questionId: String, issuedAt: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(questionId)\n\(issuedAt)".utf8), using: key)
        let text = Data(code).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "rt_" + text
    }
}
