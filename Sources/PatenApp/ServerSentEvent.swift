import Foundation

/// One Server-Sent Event.
public struct ServerSentEvent: Sendable, Equatable {
    public var id: String?
    public var event: String?
    public var data: String

    /// Creates an event.
    public init(id: String?, event: String?, data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// Splits an event stream into events as its bytes arrive in arbitrary chunks. Bytes are kept until a block is
/// complete, so a character split across two chunks is decoded whole.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    /// The last `id:` seen, also from blocks without data (which set the resume point without an event).
    public private(set) var lastEventID: String?

    /// Creates a parser.
    public init() {}

    /// Adds received bytes and returns the events they completed (comments such as heartbeats are dropped).
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        buffer.append(contentsOf: bytes)
        buffer.removeAll { $0 == UInt8(ascii: "\r") }
        var events: [ServerSentEvent] = []
        while let end = blockEnd() {
            let block = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeFirst(end + 2)
            if let event = parse(block) { events.append(event) }
        }
        return events
    }

    private func blockEnd() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for index in 0..<(buffer.count - 1) where buffer[index] == 10 && buffer[index + 1] == 10 {
            return index
        }
        return nil
    }

    private mutating func parse(_ block: String) -> ServerSentEvent? {
        var event = ServerSentEvent(id: nil, event: nil, data: "")
        var dataLines: [Substring] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            var value = parts.count > 1 ? parts[1] : ""
            if value.hasPrefix(" ") { value = value.dropFirst() }
            switch parts[0] {
            case "id":
                event.id = String(value)
                lastEventID = String(value)
            case "event": event.event = String(value)
            case "data": dataLines.append(value)
            default: break
            }
        }
        guard !dataLines.isEmpty else { return nil }
        event.data = dataLines.joined(separator: "\n")
        return event
    }
}
