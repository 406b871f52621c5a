import Foundation

/// An integration that may receive outbound events: active, with an outbound URL.
public struct OutboundSubscriber: Sendable, Equatable {
    public var id: String
    public var events: [OutboundEventType]
    /// Whether it receives events about questions of every channel, not only its own.
    public var allChannels: Bool
    /// Whether its endpoint is disabled for now: its messages wait until it is enabled again.
    public var paused: Bool

    /// Creates a subscriber.
    public init(id: String, events: [OutboundEventType], allChannels: Bool, paused: Bool) {
        self.id = id
        self.events = events
        self.allChannels = allChannels
        self.paused = paused
    }
}

/// One outbox message to write for an event.
public struct OutboundDelivery: Sendable, Equatable {
    public var integrationId: String
    /// Whether it goes to the integration the question came through, which alone gets the customer's own facts
    /// (the rating link): `OutboundPayload.bodies` makes both bodies.
    public var toOrigin: Bool
    /// Whether it waits (the endpoint is disabled) instead of being due now.
    public var waits: Bool

    /// Creates a delivery.
    public init(integrationId: String, toOrigin: Bool, waits: Bool) {
        self.integrationId = integrationId
        self.toOrigin = toOrigin
        self.waits = waits
    }
}

/// Who receives an event about a question: every subscriber to the event type that takes all channels, or whose own
/// channel the question came from. A disabled endpoint's message is written but waits.
public enum OutboundFanOut {
    public static func deliveries(
        _ type: OutboundEventType, questionChannel: String, subscribers: [OutboundSubscriber]
    ) -> [OutboundDelivery] {
        subscribers.compactMap { subscriber in
            guard subscriber.events.contains(type), subscriber.allChannels || subscriber.id == questionChannel else {
                return nil
            }
            return OutboundDelivery(
                integrationId: subscriber.id, toOrigin: subscriber.id == questionChannel, waits: subscriber.paused
            )
        }
    }
}
