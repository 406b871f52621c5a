import Foundation
import Hummingbird
import PatenCore

/// Helper accounts (admin), the caller's own account and presence, and tokens.
public struct HelperController: Sendable {
    let directory: HelperDirectory

    /// Creates the controller over the directory.
    public init(directory: HelperDirectory) {
        self.directory = directory
    }

    /// `POST /v1/helpers` body.
    struct CreateRequest: Decodable {
        var handle: String
        var displayName: String?
        var role: Role
        var skills: [String]?
        var languages: [String]?
        var capacity: Int?
    }

    /// `PATCH /v1/helpers/{id}` body.
    struct UpdateRequest: Decodable {
        var displayName: String?
        var role: Role?
        var skills: [String]?
        var languages: [String]?
        var capacity: Int?
        var presence: Presence?
        var active: Bool?
    }

    /// `PUT /v1/me/presence` body.
    struct PresenceRequest: Decodable {
        var presence: Presence
    }

    /// `POST /v1/helpers/{id}/tokens` body (optional).
    struct IssueTokenRequest: Decodable {
        var label: String?
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.post("helpers", use: create)
        group.get("helpers") { request, context in
            _ = try context.require(.admin)
            let helpers = try await directory.list(role: try request.query("role", as: Role.self))
            return HelperListResource(helpers: helpers.map { HelperResource($0) })
        }
        group.get("helpers/{id}") { _, context in
            _ = try context.require(.admin)
            return HelperResource(try await directory.helper(try context.pathID()))
        }
        group.patch("helpers/{id}", use: update)
        group.get("me") { _, context in HelperResource(try context.requireIdentity()) }
        group.put("me/presence") { request, context in
            let helper = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(PresenceRequest.self)
            return HelperResource(try await directory.setPresence(body.presence, for: helper))
        }
        group.post("helpers/{id}/tokens", use: issueToken)
        group.get("tokens") { request, context in
            let viewer = try context.requireIdentity()
            let helperId = request.uri.queryParameters.get("helper_id").map { String($0) }
            let tokens = try await directory.tokens(visibleTo: viewer, helperId: helperId)
            return TokenListResource(tokens: tokens.map { TokenResource($0) })
        }
        group.delete("tokens/{id}") { _, context in
            TokenResource(try await directory.revokeToken(try context.pathID(), by: try context.requireIdentity()))
        }
    }

    @Sendable func create(
        _ request: Request, context: PatenRequestContext
    ) async throws
        -> EditedResponse<HelperResource>
    {
        _ = try context.require(.admin)
        var request = request
        let body = try await request.decodeJSON(CreateRequest.self)
        let helper = try await directory.create(
            NewHelper(
                handle: body.handle, displayName: body.displayName, role: body.role, skills: body.skills ?? [],
                languages: body.languages ?? [], capacity: body.capacity
            )
        )
        return EditedResponse(status: .created, response: HelperResource(helper))
    }

    @Sendable func update(_ request: Request, context: PatenRequestContext) async throws -> HelperResource {
        _ = try context.require(.admin)
        var request = request
        let body = try await request.decodeJSON(UpdateRequest.self)
        let change = HelperChange(
            displayName: body.displayName, role: body.role, skills: body.skills, languages: body.languages,
            capacity: body.capacity, presence: body.presence, active: body.active
        )
        return HelperResource(try await directory.update(try context.pathID(), change))
    }

    @Sendable func issueToken(
        _ request: Request, context: PatenRequestContext
    ) async throws
        -> EditedResponse<IssuedTokenResource>
    {
        _ = try context.require(.admin)
        var request = request
        let buffer = try await request.collectBody(upTo: APICoding.bodyLimit)
        let label = buffer.readableBytes == 0 ? nil : try await request.decodeJSON(IssueTokenRequest.self).label
        let issued = try await directory.issueToken(for: try context.pathID(), label: label)
        return EditedResponse(status: .created, response: IssuedTokenResource(issued))
    }
}
