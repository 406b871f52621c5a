import Foundation
import Hummingbird
import PatenCore

/// Integrations and their deliveries (admin).
public struct IntegrationController: Sendable {
    let integrations: IntegrationDirectory

    /// Creates the controller over the directory.
    public init(integrations: IntegrationDirectory) {
        self.integrations = integrations
    }

    /// `POST /v1/integrations` body.
    struct CreateRequest: Decodable {
        var name: String
        var displayName: String?
        var kind: IntegrationKind
        var inboundEnabled: Bool?
        var outboundUrl: String?
        var events: [OutboundEventType]?
        var allChannels: Bool?
        /// The Slack signing secret (slack only).
        var secret: String?
    }

    /// `PATCH /v1/integrations/{id}` body; `outbound_url: null` removes the URL.
    struct UpdateRequest: Decodable {
        var change = IntegrationChange()

        enum Keys: String, CodingKey {
            case inboundEnabled, outboundUrl, events, allChannels, state, outboundEnabled
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            // null removes the outbound URL; for every other field it is refused, as everywhere in the API.
            for key in container.allKeys where key != .outboundUrl {
                if try container.decodeNil(forKey: key) { throw APICoding.nullRefused(key.stringValue.snakeCased) }
            }
            change.inboundEnabled = try container.decodeIfPresent(Bool.self, forKey: .inboundEnabled)
            if container.contains(.outboundUrl) {
                change.outboundURL = .some(try container.decodeIfPresent(String.self, forKey: .outboundUrl))
            }
            change.events = try container.decodeIfPresent([OutboundEventType].self, forKey: .events)
            change.allChannels = try container.decodeIfPresent(Bool.self, forKey: .allChannels)
            change.state = try container.decodeIfPresent(IntegrationState.self, forKey: .state)
            change.outboundEnabled = try container.decodeIfPresent(Bool.self, forKey: .outboundEnabled)
        }
    }

    /// `POST /v1/integrations/{id}/rotate-secret` body (optional).
    struct RotateRequest: Decodable {
        /// Seconds the previous secret stays valid; 0 ends it now.
        var overlapSeconds: Int?
        /// The new Slack signing secret (slack only).
        var secret: String?
    }

    /// `POST /v1/integrations/{id}/redeliver` body.
    struct RedeliverRequest: Decodable {
        var since: Date
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.post("integrations", use: create)
        group.get("integrations") { _, context in
            _ = try context.require(.admin)
            return IntegrationListResource(integrations: try await integrations.list().map(IntegrationResource.init))
        }
        group.get("integrations/{id}") { _, context in
            _ = try context.require(.admin)
            return IntegrationDetailResource(try await integrations.detail(try context.pathID()), now: integrations.now)
        }
        group.patch("integrations/{id}") { request, context in
            _ = try context.require(.admin)
            var request = request
            let body = try await request.decodeJSON(UpdateRequest.self)
            return IntegrationResource(try await integrations.update(try context.pathID(), body.change))
        }
        group.post("integrations/{id}/rotate-secret") { request, context in
            _ = try context.require(.admin)
            var request = request
            let buffer = try await request.collectBody(upTo: APICoding.bodyLimit)
            let body = buffer.readableBytes == 0 ? nil : try await request.decodeJSON(RotateRequest.self)
            return IntegrationSecretResource(
                try await integrations.rotateSecret(
                    try context.pathID(), overlap: body?.overlapSeconds.map(TimeInterval.init), slackSecret: body?.secret
                )
            )
        }
        group.delete("integrations/{id}/previous-secrets") { _, context in
            _ = try context.require(.admin)
            return RevokedSecretsResource(revoked: try await integrations.revokePreviousSecrets(try context.pathID()))
        }
        group.get("integrations/{id}/deliveries") { request, context in
            _ = try context.require(.admin)
            let limit = try request.query("limit", default: 50)
            let cursor = try request.uri.queryParameters.get("cursor").map { try QuestionCursor(token: String($0)) }
            let records = try await integrations.deliveries(
                try context.pathID(), state: try request.query("state", as: DeliveryState.self), before: cursor,
                limit: limit
            )
            let next =
                records.count == limit ? records.last.map { QuestionCursor(createdAt: $0.message.createdAt, id: $0.message.id).token } : nil
            return DeliveryListResource(deliveries: records.map { DeliveryResource($0) }, nextCursor: next)
        }
        group.post("integrations/{id}/redeliver") { request, context in
            _ = try context.require(.admin)
            var request = request
            let body = try await request.decodeJSON(RedeliverRequest.self)
            return RedeliveryResource(queued: try await integrations.redeliver(try context.pathID(), since: body.since))
        }
        group.get("deliveries/{id}") { _, context in
            _ = try context.require(.admin)
            return DeliveryResource(try await integrations.delivery(try context.pathID()), withPayload: true)
        }
        group.post("deliveries/{id}/redeliver") { _, context in
            _ = try context.require(.admin)
            let id = try context.pathID()
            _ = try await integrations.redeliver(id)
            return DeliveryResource(try await integrations.delivery(id))
        }
    }

    @Sendable func create(
        _ request: Request, context: PatenRequestContext
    ) async throws -> EditedResponse<IntegrationSecretResource> {
        _ = try context.require(.admin)
        var request = request
        let body = try await request.decodeJSON(CreateRequest.self)
        let created = try await integrations.create(
            NewIntegration(
                name: body.name, displayName: body.displayName, kind: body.kind,
                inboundEnabled: body.inboundEnabled ?? true, outboundURL: body.outboundUrl, events: body.events,
                allChannels: body.allChannels ?? false, slackSecret: body.secret
            )
        )
        return EditedResponse(status: .created, response: IntegrationSecretResource(created))
    }
}
