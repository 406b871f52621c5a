import Foundation
import PatenClient
import PatenHTTP

/// A server resource read back as the generated client's type of the same JSON, so the commands on the database and
/// their `--remote` form print through the same renderer in PatenCLI.
enum WireForm {
    /// The value, encoded as the API encodes it, decoded as `Wire`.
    static func of<Wire: Decodable>(_ value: some Encodable) throws -> Wire {
        let decoder = JSONDecoder()
        let transcoder = RFC3339DateTranscoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try transcoder.decode(try decoder.singleValueContainer().decode(String.self))
        }
        return try decoder.decode(Wire.self, from: APICoding.encoder.encode(value))
    }
}
