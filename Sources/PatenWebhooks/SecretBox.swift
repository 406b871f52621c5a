import Crypto
import Foundation
import PatenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seals signing secrets with AES-GCM under one 256-bit key. The integration id is the authenticated data, so a
/// sealed secret copied to another integration's row does not open.
public struct SecretBox: SecretSealer {
    private let key: SymmetricKey

    /// Creates the box over 32 key bytes.
    public init(keyBytes: some ContiguousBytes) throws {
        let key = SymmetricKey(data: keyBytes)
        guard key.bitCount == 256 else {
            throw PatenError.configuration("secrets key: need 32 bytes (256 bits), got \(key.bitCount / 8).")
        }
        self.key = key
    }

    public func seal(_ secret: String, context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Data(context.utf8))
        // combined = 12-byte nonce, ciphertext, 16-byte tag; always present for the default nonce size.
        guard let combined = box.combined else {
            throw PatenError(.unavailable, code: "seal_failed", message: "Sealing a secret failed.")
        }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8], context: String) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
            guard let text = String(data: plain, encoding: .utf8) else { throw CryptoKitError.authenticationFailure }
            return text
        } catch {
            throw PatenError(
                .unavailable, code: "secret_unreadable",
                message: "A stored signing secret does not open with the configured secrets key; was the key changed?"
            )
        }
    }

    /// Reads the key file (base64 of 32 bytes), creating it with mode 0600 when it does not exist. A key file that
    /// others can read is refused.
    public static func loadOrCreateKey(at path: String) throws -> [UInt8] {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            let text = Data((Data(bytes).base64EncodedString() + "\n").utf8)
            // Created with 0600 from the start, never readable by others even for a moment; fails if it appeared.
            // Qualified: `open` alone would find this type's `open(_:context:)`.
            #if canImport(Glibc)
                let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #elseif canImport(Musl)
                let descriptor = Musl.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #elseif canImport(Darwin)
                let descriptor = Darwin.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #endif
            if descriptor >= 0 {
                let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
                guard written == text.count else {
                    try? manager.removeItem(atPath: path)
                    throw PatenError.configuration("secrets_key_file: cannot write \(path).")
                }
                return bytes
            }
            guard errno == EEXIST else {
                throw PatenError.configuration("secrets_key_file: cannot create \(path) (errno \(errno)).")
            }
        }
        return try loadKey(at: path)
    }

    /// Reads an existing key file (base64 of 32 bytes). A missing file, or one that others can read, is refused.
    public static func loadKey(at path: String) throws -> [UInt8] {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else {
            throw PatenError.configuration("secrets_key_file: \(path) does not exist.")
        }
        let attributes = try? manager.attributesOfItem(atPath: path)
        if let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw PatenError.configuration(
                "secrets_key_file: \(path) can be read by others (mode \(String(mode, radix: 8))); run chmod 600 on it."
            )
        }
        guard let contents = manager.contents(atPath: path) else {
            throw PatenError.configuration("secrets_key_file: cannot read \(path).")
        }
        return try decodeKey(String(decoding: contents, as: UTF8.self), source: path)
    }

    /// Reads a key given as base64 of 32 bytes.
    public static func decodeKey(_ text: String, source: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            throw PatenError.configuration("\(source): the secrets key must be base64 of 32 random bytes.")
        }
        return Array(data)
    }
}
