import Foundation
import Hummingbird
import Metrics
import PatenCore

/// The customer's rating link, no login (the token is the permission): `GET /v1/ratings/{token}` is the rating page
/// (which records nothing), `POST` rates, from that page's form or as JSON from an integration.
public struct RatingController: Sendable {
    let desk: SupportDesk
    let page: RatingPage

    /// Creates the controller; `links` reads a link for its page.
    public init(desk: SupportDesk, links: any ConsoleRepository, pages: HTMLPages) {
        self.desk = desk
        self.page = RatingPage(desk: desk, links: links, pages: pages)
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
        group.get("ratings/{token}") { request, context in
            try await page.show(request, token: try context.parameters.require("token"))
        }
        group.post("ratings/{token}") { request, context -> Response in
            if FormBody.isForm(request) {
                return try await page.submit(request, token: try context.parameters.require("token"))
            }
            var request = request
            let body = try await request.decodeJSON(RateRequest.self)
            let rating = try await desk.rate(
                token: try context.parameters.require("token"), score: body.score, comment: body.comment,
                solved: body.solved
            )
            Self.count(rating)
            return try EditedResponse(status: .created, response: RatingResource(rating)).response(from: request, context: context)
        }
    }

    /// Counts a rating in `paten_ratings_total`, whichever way it came (the page's form or JSON).
    static func count(_ rating: Rating) {
        Counter(label: "paten_ratings_total", dimensions: [("score", String(rating.score))]).increment()
    }
}
