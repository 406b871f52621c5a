import Foundation
import PatenCore

/// `POST /hooks/{integrationId}`: verifies a chat platform's webhook over the raw bytes, then turns it into a
/// question (new conversation) or a customer message (known conversation), exactly once per webhook id.
public struct InboundWebhookReceiver: InboundWebhookHandling {
    /// How long webhook ids are remembered; Standard Webhooks senders retry for about a day, Slack for minutes.
    public static let receiptRetention: TimeInterval = 8 * 86400
    /// Longest subject made from a message's first line, in characters.
    static let subjectLength = 80
    /// Longest webhook id (or Slack event id) kept for deduplication.
    static let maxWebhookIdLength = 256

    private let integrations: IntegrationDirectory
    private let accounts: HelperDirectory
    private let desk: SupportDesk
    private let clock: any Clock

    /// Creates the receiver.
    public init(integrations: IntegrationDirectory, accounts: HelperDirectory, desk: SupportDesk, clock: any Clock) {
        self.integrations = integrations
        self.accounts = accounts
        self.desk = desk
        self.clock = clock
    }

    public func receive(integrationId: String, headers: [String: String], body: [UInt8]) async throws -> InboundOutcome {
        guard let (integration, secrets) = try await integrations.inboundCredentials(integrationId),
            let account = try? await accounts.helper(integration.id), account.active
        else { return .rejected }
        let now = clock.now()
        switch integration.kind {
        case .standard:
            do {
                try StandardWebhookSignature.verify(
                    id: headers["webhook-id"], timestamp: headers["webhook-timestamp"],
                    signature: headers["webhook-signature"], body: body,
                    secrets: secrets.compactMap { try? WebhookSecret($0) }, now: now
                )
            } catch {
                return .rejected
            }
            let webhookId = headers["webhook-id"] ?? ""
            guard let message = try StandardInboundPayload.parse(body, integrationId: integration.id, webhookId: webhookId)
            else { return .ignored("not a message.created event") }
            return try await act(on: message, account: account)
        case .slack:
            do {
                try SlackSignature.verify(
                    timestamp: headers["x-slack-request-timestamp"], signature: headers["x-slack-signature"], body: body,
                    secrets: secrets, now: now
                )
            } catch {
                return .rejected
            }
            switch try SlackInboundPayload.parse(body, integrationId: integration.id) {
            case .challenge(let challenge): return .challenge(challenge)
            case .ignored(let reason): return .ignored(reason)
            case .message(let message): return try await act(on: message, account: account)
            }
        }
    }

    /// A new conversation becomes a question; a known one gets a customer message. The receipt is written in the
    /// same transaction, so a webhook retried at any moment has one effect.
    func act(on inbound: InboundMessage, account: Helper) async throws -> InboundOutcome {
        let origin = inbound.origin
        guard origin.webhookId.count <= Self.maxWebhookIdLength else {
            throw PatenError.unprocessable(
                "invalid_webhook_id", "The webhook id has \(origin.webhookId.count) characters; keep it to \(Self.maxWebhookIdLength)."
            )
        }
        if try await integrations.hasReceipt(origin) { return .duplicate }
        do {
            if let questionId = try await integrations.conversationQuestion(origin) {
                _ = try await desk.addCustomerMessage(to: questionId, body: inbound.text, by: account, origin: origin)
                return .messageAdded(questionId)
            }
            do {
                let question = try await desk.submit(inbound.submission, by: account, origin: origin)
                return .questionCreated(question.id)
            } catch let error as PatenError where error.code == "conversation_exists" {
                // Another webhook of the same new conversation won the race: this one is its follow-up.
                guard let questionId = try await integrations.conversationQuestion(origin) else { throw error }
                _ = try await desk.addCustomerMessage(to: questionId, body: inbound.text, by: account, origin: origin)
                return .messageAdded(questionId)
            }
        } catch let error as PatenError where error.code == "duplicate_webhook" {
            return .duplicate
        }
    }
}

/// A customer's chat message as an inbound webhook carries it.
struct InboundMessage: Sendable, Equatable {
    var origin: InboundOrigin
    var customer: Customer
    var language: String?
    var text: String
    var subject: String?
    var topic: String?
    var priority: String?

    /// The question a new conversation becomes; without a subject, the message's first line is one.
    var submission: QuestionSubmission {
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
        let made =
            trimmed.count > InboundWebhookReceiver.subjectLength
            ? String(trimmed.prefix(InboundWebhookReceiver.subjectLength - 1)) + "…" : trimmed
        return QuestionSubmission(
            subject: subject ?? made, body: text, customer: customer, topic: topic, language: language,
            priority: priority
        )
    }
}

/// The `standard` inbound payload, documented in docs/integrations.md.
enum StandardInboundPayload {
    struct Kind: Decodable {
        var type: String
    }

    struct Envelope: Decodable {
        var type: String
        var data: Data
    }

    struct Data: Decodable {
        var conversationId: String
        var customer: CustomerBody
        var message: MessageBody
        var subject: String?
        var topic: String?
        var priority: String?
    }

    struct CustomerBody: Decodable {
        var id: String
        var name: String
        var language: String?
    }

    struct MessageBody: Decodable {
        var id: String?
        var text: String
        var sentAt: String?
    }

    /// The message of a `message.created` event; nil for another event type.
    static func parse(_ body: [UInt8], integrationId: String, webhookId: String) throws -> InboundMessage? {
        // Other event types are not for Paten; only a message.created must have the full shape.
        guard try decodePayload(Kind.self, body).type == "message.created" else { return nil }
        let data = try decodePayload(Envelope.self, body).data
        let conversation = data.conversationId.trimmingCharacters(in: .whitespaces)
        guard !conversation.isEmpty, conversation.unicodeScalars.count <= 200 else {
            throw PatenError.unprocessable("invalid_conversation_id", "data.conversation_id must be 1 to 200 characters.")
        }
        var sentAt: Date?
        if let sent = data.message.sentAt {
            guard let parsed = RFC3339.parse(sent) else {
                throw PatenError.unprocessable("invalid_sent_at", "data.message.sent_at must be an RFC 3339 time.")
            }
            sentAt = parsed
        }
        return InboundMessage(
            origin: InboundOrigin(
                integrationId: integrationId, webhookId: webhookId, conversationId: conversation,
                externalMessageId: data.message.id, sentAt: sentAt
            ),
            customer: Customer(id: data.customer.id, name: data.customer.name), language: data.customer.language,
            text: data.message.text, subject: data.subject, topic: data.topic, priority: data.priority
        )
    }
}

/// The Slack Events API: `url_verification` and `event_callback` with message events.
enum SlackInboundPayload {
    enum Parsed: Equatable {
        case challenge(String)
        case ignored(String)
        case message(InboundMessage)
    }

    struct Envelope: Decodable {
        var type: String
        var challenge: String?
        var eventId: String?
        var event: Event?
    }

    struct Event: Decodable {
        var type: String
        var subtype: String?
        var botId: String?
        var appId: String?
        var user: String?
        var text: String?
        var channel: String?
        var ts: String?
        var threadTs: String?
    }

    /// Message subtypes that are a person writing; every other subtype (bot_message, message_changed, joins...)
    /// is not a customer's message.
    static let personSubtypes: Set<String> = ["thread_broadcast", "file_share"]

    static func parse(_ body: [UInt8], integrationId: String) throws -> Parsed {
        let envelope = try decodePayload(Envelope.self, body)
        switch envelope.type {
        case "url_verification":
            guard let challenge = envelope.challenge else {
                throw PatenError.malformed("invalid_payload", "Missing field 'challenge'.")
            }
            return .challenge(challenge)
        case "event_callback":
            break
        default:
            return .ignored("Slack \(envelope.type) is not handled")
        }
        guard let eventId = envelope.eventId, let event = envelope.event else {
            throw PatenError.malformed("invalid_payload", "An event_callback needs event_id and event.")
        }
        guard event.type == "message" else { return .ignored("event type \(event.type) is not handled") }
        // Paten's own replies come back as bot messages when a bridge posts them: never take them in again.
        if event.botId != nil || event.subtype.map({ !personSubtypes.contains($0) }) == true {
            return .ignored("not a person's message")
        }
        guard let user = event.user, let channel = event.channel, let ts = event.ts else {
            return .ignored("message without user, channel or ts")
        }
        guard let text = event.text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .ignored("message without text")
        }
        let conversation = "\(channel):\(event.threadTs ?? ts)"
        guard conversation.unicodeScalars.count <= 200 else {
            throw PatenError.unprocessable("invalid_conversation_id", "event.channel and thread_ts are too long.")
        }
        let seconds = Double(ts).map { Date(timeIntervalSince1970: $0) }
        return .message(
            InboundMessage(
                origin: InboundOrigin(
                    integrationId: integrationId, webhookId: eventId,
                    conversationId: conversation, externalMessageId: ts, sentAt: seconds
                ),
                customer: Customer(id: user, name: user), language: nil, text: text, subject: nil, topic: nil,
                priority: nil
            )
        )
    }
}

/// Decodes a verified inbound body (snake_case keys); a body of the wrong shape is a 400 naming the field.
func decodePayload<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    if JSONText.containsNUL(body) { throw JSONText.nulRefused }
    do {
        return try decoder.decode(type, from: Data(body))
    } catch let error as DecodingError {
        throw PatenError.malformed("invalid_payload", error.fieldDescription)
    }
}
