import Foundation
import Hummingbird
import Metrics
import PatenCore

/// The customer's rating link: `POST /v1/ratings/{token}`, no login; the token is the permission.
public struct RatingController: Sendable {
    let desk: SupportDesk

    /// Creates the controller.
    public init(desk: SupportDesk) {
        self.desk = desk
    }

    /// `POST /v1/ratings/{token}` body.
    struct RateRequest: Decodable {
        var score: Int
        var comment: String?
        /// Whether the answer solved the problem.
        var solved: Bool?
    }

    /// Adds the route to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.post("ratings/{token}") { request, context -> EditedResponse<RatingResource> in
            var request = request
            let body = try await request.decodeJSON(RateRequest.self)
            let rating = try await desk.rate(
                token: try context.parameters.require("token"), score: body.score, comment: body.comment,
                solved: body.solved
            )
            Counter(label: "paten_ratings_total", dimensions: [("score", String(rating.score))]).increment()
            return EditedResponse(status: .created, response: RatingResource(rating))
        }
    }
}
