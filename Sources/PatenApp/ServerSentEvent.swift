import Foundation

/// One Server-Sent Event.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String
}

/// Splits an event stream into events as its text arrives in arbitrary chunks.
public struct ServerSentEventParser: Sendable {
    private var buffer = ""

    /// Creates a parser.
    public init() {}

    /// Adds received text and returns the events it completed (comments such as heartbeats are dropped).
    public mutating func feed(_ text: String) -> [ServerSentEvent] {
        buffer += text.replacingOccurrences(of: "\r\n", with: "\n")
        var events: [ServerSentEvent] = []
        while let end = buffer.range(of: "\n\n") {
            let block = buffer[..<end.lowerBound]
            buffer.removeSubrange(..<end.upperBound)
            var event = ServerSentEvent(id: nil, event: nil, data: "")
            var dataLines: [Substring] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                let field = parts[0]
                var value = parts.count > 1 ? parts[1] : ""
                if value.hasPrefix(" ") { value = value.dropFirst() }
                switch field {
                case "id": event.id = String(value)
                case "event": event.event = String(value)
                case "data": dataLines.append(value)
                default: break
                }
            }
            guard !dataLines.isEmpty else { continue }
            event.data = dataLines.joined(separator: "\n")
            events.append(event)
        }
        return events
    }
}
