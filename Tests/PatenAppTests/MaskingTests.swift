import Foundation
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

@Suite("Volunteers never see customer contact data")
struct MaskingTests {
    @Test("Detail, queue and claim responses mask contact data for volunteers and show it to staff", arguments: Backend.available)
    func masking(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let staff = try await env.account("staff1", .staff)
            let volunteer = try await env.account("vol", .volunteer).token
            let question = try await env.submit(
                "Call me on +49 176 12345678",
                body: "Mail anna@example.com or ｍａｘ＠ｅｘａｍｐｌｅ．ｃｏｍ, IBAN DE89370400440532013000, card 4111 1111 1111 1111",
                customer: Customer(id: "anna@example.com", name: "Anna"), by: staff.helper
            )
            let asVolunteer = try await client.call(.get, "/v1/questions/\(question.id)", token: volunteer).raw
            #expect(!asVolunteer.contains("anna@example.com"))
            #expect(!asVolunteer.contains("12345678"))
            #expect(!asVolunteer.contains("DE89370400440532013000"))
            #expect(asVolunteer.contains("[email hidden]"))
            #expect(asVolunteer.contains("[account hidden]"))
            #expect(!asVolunteer.contains("4111 1111") && asVolunteer.contains("[card hidden]"))
            #expect(!asVolunteer.contains("ｍａｘ"))

            let queue = try await client.call(.get, "/v1/queue", token: volunteer).raw
            #expect(queue.contains(question.id))
            #expect(!queue.contains("12345678") && !queue.contains("anna@example.com"))
            let claim = try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer).raw
            #expect(!claim.contains("12345678"))

            let list = try await client.call(.get, "/v1/questions", token: volunteer).raw
            #expect(list.contains(question.id))
            #expect(!list.contains("12345678") && !list.contains("anna@example.com"))
            let released = try await client.call(.post, "/v1/questions/\(question.id)/release", token: volunteer).raw
            #expect(released.contains("[phone hidden]"))
            _ = try await client.call(.post, "/v1/questions/\(question.id)/claim", token: volunteer)
            _ = try await client.call(
                .post, "/v1/questions/\(question.id)/replies", token: volunteer, json: ["body": "Try restarting the phone."]
            )
            let resolved = try await client.call(.post, "/v1/questions/\(question.id)/resolve", token: volunteer).raw
            #expect(resolved.contains("\"resolved\""))
            #expect(!resolved.contains("12345678") && !resolved.contains("anna@example.com"))

            let asStaff = try await client.call(.get, "/v1/questions/\(question.id)", token: staff.token).raw
            #expect(asStaff.contains("anna@example.com"))
            #expect(asStaff.contains("DE89370400440532013000"))
            #expect(asStaff.contains("4111 1111 1111 1111") && asStaff.contains("ｍａｘ＠ｅｘａｍｐｌｅ．ｃｏｍ"))
        }
    }
}
