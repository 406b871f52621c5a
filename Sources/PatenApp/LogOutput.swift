import Foundation
import Logging
import PatenCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// How log lines are written: `text` for a person at a terminal (swift-log's stream handler), `json` for a log
/// collector (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json

    /// The format when none is configured: text on a terminal, JSON otherwise.
    public static var automatic: LogFormat { isatty(2) == 1 ? .text : .json }
}

/// Sets up swift-log for the process once: the format and the level. Later calls do nothing (swift-log allows one
/// bootstrap per process).
public enum LogOutput {
    private static let done = Atomic<Bool>(false)

    /// Bootstraps logging with the configured format (automatic when nil) and level.
    public static func bootstrap(format: LogFormat?, level: Logger.Level) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let format = format ?? .automatic
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per line on standard error: `time` (RFC 3339, UTC, milliseconds), `level`, `logger`, `message`,
/// then the metadata (flat; a key that would shadow one of those four is prefixed with `meta_`). Hand-written: none
/// of the packages this project may use has a JSON handler for swift-log, and the format is a few lines.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    /// A handler writing to standard error, or to `write` (tests).
    public init(label: String, write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.write = write ?? JSONLogHandler.standardError
    }

    private static let lock = Mutex(())

    @Sendable static func standardError(_ line: String) {
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "{\"time\":\(Self.quoted(RFC3339.format(Date())))"
        line += ",\"level\":\(Self.quoted(event.level.rawValue))"
        line += ",\"logger\":\(Self.quoted(label))"
        line += ",\"message\":\(Self.quoted(event.message.description))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            let name = ["time", "level", "logger", "message"].contains(key) ? "meta_" + key : key
            line += ",\(Self.quoted(name)):\(Self.json(value))"
        }
        write(line + "}\n")
    }

    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): quoted(text)
        case .stringConvertible(let value): quoted(value.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (`JSONText.quoted`): a message can never start a new line or a new field.
    static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
