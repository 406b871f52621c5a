import Foundation

/// What an admin gives to connect an integration.
public struct NewIntegration: Sendable, Equatable {
    /// The account's handle.
    public var name: String
    public var displayName: String?
    public var kind: IntegrationKind
    public var inboundEnabled: Bool
    public var outboundURL: String?
    /// Nil: every event when there is an outbound URL.
    public var events: [OutboundEventType]?
    public var allChannels: Bool
    /// The Slack signing secret, for `slack` (Slack makes it; Paten makes `standard` secrets).
    public var slackSecret: String?

    /// Creates a draft.
    public init(
        name: String, displayName: String? = nil, kind: IntegrationKind, inboundEnabled: Bool = true,
        outboundURL: String? = nil, events: [OutboundEventType]? = nil, allChannels: Bool = false,
        slackSecret: String? = nil
    ) {
        self.name = name
        self.displayName = displayName
        self.kind = kind
        self.inboundEnabled = inboundEnabled
        self.outboundURL = outboundURL
        self.events = events
        self.allChannels = allChannels
        self.slackSecret = slackSecret
    }
}

/// An integration with the secret it was just given: the only time the secret is shown.
public struct IntegrationWithSecret: Sendable, Equatable {
    public var integration: Integration
    public var secret: String

    /// Creates the value.
    public init(integration: Integration, secret: String) {
        self.integration = integration
        self.secret = secret
    }
}

/// Integrations: connecting, changing, rotating secrets, and the delivery log with redelivery.
public struct IntegrationDirectory: Sendable {
    /// Longest rotation overlap.
    public static let maxOverlap: TimeInterval = 30 * 86400

    private let integrations: any IntegrationRepository
    private let outbox: any OutboxRepository
    private let accounts: HelperDirectory
    private let sealer: any SecretSealer
    private let destinations: any DestinationGuard
    private let clock: any Clock
    private let ids: any IdentifierGenerator
    /// How long a rotated-out secret stays valid unless the rotation says otherwise.
    public let rotationOverlap: TimeInterval

    /// Creates the directory.
    public init(
        integrations: any IntegrationRepository, outbox: any OutboxRepository, accounts: HelperDirectory,
        sealer: any SecretSealer, destinations: any DestinationGuard, clock: any Clock, ids: any IdentifierGenerator,
        rotationOverlap: TimeInterval
    ) {
        self.integrations = integrations
        self.outbox = outbox
        self.accounts = accounts
        self.sealer = sealer
        self.destinations = destinations
        self.clock = clock
        self.ids = ids
        self.rotationOverlap = rotationOverlap
    }

    /// The directory clock's time.
    public var now: Date { clock.now() }

    /// Connects an integration: its account, settings and first secret, in one transaction.
    public func create(_ draft: NewIntegration) async throws -> IntegrationWithSecret {
        let account = try accounts.makeHelper(
            NewHelper(handle: draft.name, displayName: draft.displayName, role: .integration)
        )
        let outboundURL = try await validURL(draft.outboundURL, kind: draft.kind)
        let events = draft.events ?? (outboundURL == nil ? [] : OutboundEventType.allCases)
        try validate(events: events, outboundURL: outboundURL)
        let secret = try newSecret(kind: draft.kind, given: draft.slackSecret)
        let now = clock.now()
        let integration = Integration(
            id: account.id, name: account.handle, kind: draft.kind, state: .active,
            inboundEnabled: draft.inboundEnabled, outboundURL: outboundURL, events: events,
            allChannels: draft.allChannels, createdAt: now, updatedAt: now
        )
        try await integrations.insertIntegration(integration, account: account, secret: seal(secret, for: account.id))
        return IntegrationWithSecret(integration: integration, secret: secret)
    }

    /// Every integration.
    public func list() async throws -> [Integration] {
        try await integrations.integrations()
    }

    /// The integration with the id or name, with its secrets' metadata and audit trail.
    public func detail(_ idOrName: String) async throws -> IntegrationDetail {
        let id = try await resolve(idOrName).id
        guard let detail = try await integrations.integrationDetail(id: id) else {
            throw PatenError.notFound("integration", id: idOrName)
        }
        return detail
    }

    /// The integration with the id or name.
    public func integration(_ idOrName: String) async throws -> Integration {
        try await resolve(idOrName)
    }

    /// Changes an integration's settings.
    public func update(_ idOrName: String, _ change: IntegrationChange) async throws -> Integration {
        let current = try await resolve(idOrName)
        try SupportDesk.require(
            !change.isEmpty, "empty_change", "Name at least one field to change; fields the API does not know are ignored."
        )
        var change = change
        if let url = change.outboundURL {
            change.outboundURL = .some(try await validURL(url, kind: current.kind))
        }
        let url = change.outboundURL ?? current.outboundURL
        try validate(events: change.events ?? current.events, outboundURL: url)
        if change.outboundEnabled == true {
            try SupportDesk.require(
                url != nil, "outbound_url_required", "The integration has no outbound_url to enable; set one."
            )
        }
        return try await integrations.updateIntegration(id: current.id, change: change, at: clock.now())
    }

    /// Gives the integration a new secret, shown once. The previous secret stays valid for `overlap` (the
    /// configured window when nil; 0 ends it now). A `slack` integration takes the new secret Slack made.
    public func rotateSecret(
        _ idOrName: String, overlap: TimeInterval? = nil, slackSecret: String? = nil
    ) async throws -> IntegrationWithSecret {
        let current = try await resolve(idOrName)
        let window = overlap ?? rotationOverlap
        try SupportDesk.require(
            (0...Self.maxOverlap).contains(window), "invalid_overlap",
            "overlap must be from 0 to \(Int(Self.maxOverlap)) seconds (30 days)."
        )
        let secret = try newSecret(kind: current.kind, given: slackSecret)
        let now = clock.now()
        try await integrations.rotateSecret(
            integrationId: current.id, secret: seal(secret, for: current.id), previousValidUntil: now.addingTimeInterval(window)
        )
        return IntegrationWithSecret(integration: current, secret: secret)
    }

    /// Ends the previous secrets now, before their overlap runs out; returns how many were still valid.
    public func revokePreviousSecrets(_ idOrName: String) async throws -> Int {
        let current = try await resolve(idOrName)
        return try await integrations.revokePreviousSecrets(integrationId: current.id, at: clock.now())
    }

    /// The integration, if it may receive inbound webhooks now, with its valid secrets in clear; nil otherwise.
    public func inboundCredentials(_ id: String) async throws -> (integration: Integration, secrets: [String])? {
        guard let integration = try await integrations.integration(id: id), integration.state == .active,
            integration.inboundEnabled
        else { return nil }
        let sealed = try await integrations.activeSecrets(integrationId: id, at: clock.now())
        return (integration, try sealed.map { try sealer.open($0.sealed, context: id) })
    }

    /// Whether the inbound webhook was acted on already.
    public func hasReceipt(_ origin: InboundOrigin) async throws -> Bool {
        try await integrations.hasReceipt(integrationId: origin.integrationId, webhookId: origin.webhookId)
    }

    /// The question the inbound message's conversation became, if any.
    public func conversationQuestion(_ origin: InboundOrigin) async throws -> String? {
        try await integrations.conversationQuestion(
            integrationId: origin.integrationId, conversationId: origin.conversationId
        )
    }

    /// Forgets inbound webhook ids older than `retention`; returns how many.
    public func purgeReceipts(olderThan retention: TimeInterval) async throws -> Int {
        try await integrations.purgeReceipts(before: clock.now().addingTimeInterval(-retention))
    }

    /// How long delivered messages are kept in the delivery log.
    public static let deliveredRetention: TimeInterval = 30 * 86400
    /// How long dead letters are kept for redelivery.
    public static let deadRetention: TimeInterval = 90 * 86400

    /// Deletes delivered messages older than 30 days and dead letters older than 90; returns how many.
    public func purgeOldMessages() async throws -> Int {
        let now = clock.now()
        return try await outbox.purgeMessages(
            deliveredBefore: now.addingTimeInterval(-Self.deliveredRetention),
            deadBefore: now.addingTimeInterval(-Self.deadRetention)
        )
    }

    /// Outbound messages of every integration by state.
    public func messageCounts() async throws -> [DeliveryState: Int] {
        try await outbox.messageCounts()
    }

    /// The secrets a delivery is signed with, in clear.
    public func signingSecrets(_ delivery: DueDelivery) throws -> [String] {
        try delivery.secrets.map { try sealer.open($0.sealed, context: delivery.message.integrationId) }
    }

    /// An integration's delivery log, newest first.
    public func deliveries(
        _ idOrName: String, state: DeliveryState? = nil, before cursor: QuestionCursor? = nil, limit: Int = 50
    ) async throws -> [DeliveryRecord] {
        try SupportDesk.require((1...200).contains(limit), "invalid_limit", "limit must be from 1 to 200.", kind: .malformed)
        let integration = try await resolve(idOrName)
        return try await outbox.deliveries(integrationId: integration.id, state: state, before: cursor, limit: limit)
    }

    /// One message with its attempts.
    public func delivery(_ id: String) async throws -> DeliveryRecord {
        guard let record = try await outbox.delivery(id: id) else { throw PatenError.notFound("delivery", id: id) }
        return record
    }

    /// Sends a message again now, with the same id.
    public func redeliver(_ messageId: String) async throws -> WebhookMessage {
        let record = try await delivery(messageId)
        try await requireOutbound(try await resolve(record.message.integrationId))
        return try await outbox.redeliver(messageId: messageId, at: clock.now())
    }

    /// Sends again every delivered or dead message written since the time; returns how many.
    public func redeliver(_ idOrName: String, since: Date) async throws -> Int {
        let integration = try await resolve(idOrName)
        try await requireOutbound(integration)
        try SupportDesk.require(since <= clock.now(), "invalid_since", "since is in the future.")
        return try await outbox.redeliver(integrationId: integration.id, since: since, at: clock.now())
    }

    private func requireOutbound(_ integration: Integration) async throws {
        guard integration.state == .active, integration.outboundDisabledAt == nil, integration.outboundURL != nil else {
            throw PatenError.conflict(
                "outbound_disabled",
                "Integration \(integration.name) cannot send now (disabled, endpoint disabled or no outbound_url); "
                    + "enable it first."
            )
        }
    }

    private func resolve(_ idOrName: String) async throws -> Integration {
        if let integration = try await integrations.integration(id: idOrName) { return integration }
        if let account = try? await accounts.helper(idOrName),
            let integration = try await integrations.integration(id: account.id)
        {
            return integration
        }
        throw PatenError.notFound("integration", id: idOrName)
    }

    private func validURL(_ url: String?, kind: IntegrationKind) async throws -> String? {
        guard let url = url?.trimmingCharacters(in: .whitespaces), !url.isEmpty else { return nil }
        try SupportDesk.require(
            kind == .standard, "outbound_needs_standard",
            "A slack integration only receives; for outbound events add a standard integration (all_channels: true "
                + "sends events about its questions too)."
        )
        guard url.count <= 2000, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty, parsed.user == nil
        else {
            throw PatenError.unprocessable(
                "invalid_outbound_url", "outbound_url must be an http or https URL with a host and no credentials."
            )
        }
        try await destinations.check(url)
        return url
    }

    private func validate(events: [OutboundEventType], outboundURL: String?) throws {
        try SupportDesk.require(
            events.isEmpty || outboundURL != nil, "outbound_url_required",
            "Subscribing to events needs an outbound_url to send them to."
        )
    }

    private func newSecret(kind: IntegrationKind, given: String?) throws -> String {
        switch kind {
        case .standard:
            try SupportDesk.require(
                given == nil, "secret_not_accepted", "Paten makes standard secrets itself; leave out the secret."
            )
            return "whsec_" + Data(HelperDirectory.randomBytes(32)).base64EncodedString()
        case .slack:
            let secret = given?.trimmingCharacters(in: .whitespaces) ?? ""
            try SupportDesk.require(
                (16...128).contains(secret.count) && secret.allSatisfy { $0.isASCII && !$0.isWhitespace },
                "slack_secret_required",
                "Give the Slack app's signing secret (Basic Information > Signing Secret, 16 to 128 characters)."
            )
            return secret
        }
    }

    private func seal(_ secret: String, for integrationId: String) throws -> SealedSecret {
        SealedSecret(
            id: ids.make("sec"), sealed: try sealer.seal(secret, context: integrationId), createdAt: clock.now(),
            expiresAt: nil
        )
    }
}
