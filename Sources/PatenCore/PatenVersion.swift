/// The version of this build of Paten, in one place: `paten --version`, the `version` of `GET /healthz`, and the
/// `User-Agent` of outbound webhooks and of the CLI's requests (`paten/<version>`).
public enum PatenVersion {
    /// The version, as semantic versioning (`major.minor.patch`).
    public static let current = "0.1.0"

    /// The `User-Agent` Paten sends: `paten/<version>`.
    public static var userAgent: String { "paten/\(current)" }
}
