import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: integrations and their secrets.
@Suite("Store contract: integrations")
struct IntegrationContractTests {
    static let start = AccountContractTests.start

    static func account(_ id: String, _ handle: String) -> Helper {
        Helper(
            id: id, handle: handle, displayName: handle, role: .integration, skills: [], languages: [], capacity: 0,
            presence: .offline, active: true, createdAt: start, updatedAt: start
        )
    }

    static func integration(_ id: String, _ name: String, url: String? = "https://bridge.example/hook") -> Integration {
        Integration(
            id: id, name: name, kind: .standard, state: .active, inboundEnabled: true, outboundURL: url,
            events: [.questionReplied, .questionResolved], allChannels: false, createdAt: start, updatedAt: start
        )
    }

    static func secret(_ id: String, at time: Date) -> SealedSecret {
        SealedSecret(id: id, sealed: Array(id.utf8) + [0, 255, 7], createdAt: time, expiresAt: nil)
    }

    @Test("An integration is stored with its account and first secret in one go; a taken name leaves nothing", arguments: Backend.available)
    func create(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertIntegration(
                Self.integration("int_1", "webchat"), account: Self.account("int_1", "webchat"),
                secret: Self.secret("sec_1", at: Self.start)
            )
            #expect(try await store.integration(id: "int_1") == Self.integration("int_1", "webchat"))
            #expect(try await store.helper(id: "int_1")?.role == .integration)
            let detail = try #require(try await store.integrationDetail(id: "int_1"))
            #expect(detail.secrets == [Self.secret("sec_1", at: Self.start)])
            #expect(detail.audit.map(\.type) == ["integration.created"])
            #expect(detail.messageCounts.isEmpty)

            try await store.insertHelper(AccountContractTests.helper("h_1", "taken"))
            let taken = await #expect(throws: PatenError.self) {
                try await store.insertIntegration(
                    Self.integration("int_2", "taken"), account: Self.account("int_2", "taken"),
                    secret: Self.secret("sec_2", at: Self.start)
                )
            }
            #expect(taken?.code == "handle_taken")
            #expect(try await store.integration(id: "int_2") == nil)
            #expect(try await store.integrations().map(\.name) == ["webchat"])
            #expect(try await store.hasReceipt(integrationId: "int_1", webhookId: "w") == false)
            #expect(try await store.conversationQuestion(integrationId: "int_1", conversationId: "c") == nil)
            #expect(try await store.purgeReceipts(before: Self.start) == 0)
        }
    }

    @Test("Changes apply field by field; disabling locks the account; the endpoint can be turned off and on", arguments: Backend.available)
    func changes(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertIntegration(
                Self.integration("int_1", "webchat"), account: Self.account("int_1", "webchat"),
                secret: Self.secret("sec_1", at: Self.start)
            )
            let later = Self.start.addingTimeInterval(10)
            var updated = try await store.updateIntegration(
                id: "int_1", change: IntegrationChange(outboundURL: .some(nil), events: [], allChannels: true), at: later
            )
            #expect(updated.outboundURL == nil && updated.events.isEmpty && updated.allChannels && updated.updatedAt == later)
            updated = try await store.updateIntegration(id: "int_1", change: IntegrationChange(state: .disabled), at: later)
            #expect(updated.state == .disabled)
            #expect(try await store.helper(id: "int_1")?.active == false)
            updated = try await store.updateIntegration(
                id: "int_1", change: IntegrationChange(outboundURL: .some("https://new.example/h"), state: .active), at: later
            )
            #expect(updated.state == .active && updated.outboundURL == "https://new.example/h")
            #expect(try await store.helper(id: "int_1")?.active == true)
            updated = try await store.updateIntegration(id: "int_1", change: IntegrationChange(outboundEnabled: false), at: later)
            #expect(updated.outboundDisabledAt == later && updated.outboundDisabledReason == "disabled by an admin")
            updated = try await store.updateIntegration(id: "int_1", change: IntegrationChange(outboundEnabled: true), at: later)
            #expect(updated.outboundDisabledAt == nil)
            let trail = try #require(try await store.integrationDetail(id: "int_1")).audit.map(\.type)
            #expect(trail.contains("endpoint.disabled") && trail.contains("endpoint.enabled") && trail.contains("integration.disabled"))
            let missing = await #expect(throws: PatenError.self) {
                _ = try await store.updateIntegration(id: "int_9", change: IntegrationChange(allChannels: true), at: later)
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test("Rotation keeps the previous secret until the overlap ends; revoking ends it now", arguments: Backend.available)
    func rotation(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertIntegration(
                Self.integration("int_1", "webchat"), account: Self.account("int_1", "webchat"),
                secret: Self.secret("sec_1", at: Self.start)
            )
            let rotatedAt = Self.start.addingTimeInterval(100)
            try await store.rotateSecret(
                integrationId: "int_1", secret: Self.secret("sec_2", at: rotatedAt), previousValidUntil: rotatedAt.addingTimeInterval(3600)
            )
            #expect(try await store.activeSecrets(integrationId: "int_1", at: rotatedAt).map(\.id) == ["sec_2", "sec_1"])
            #expect(try await store.activeSecrets(integrationId: "int_1", at: rotatedAt.addingTimeInterval(3600)).map(\.id) == ["sec_2"])
            let thirdAt = rotatedAt.addingTimeInterval(60)
            try await store.rotateSecret(
                integrationId: "int_1", secret: Self.secret("sec_3", at: thirdAt), previousValidUntil: thirdAt.addingTimeInterval(86400)
            )
            // A second rotation never extends an earlier secret's end.
            let valid = try await store.activeSecrets(integrationId: "int_1", at: rotatedAt.addingTimeInterval(3601)).map(\.id)
            #expect(valid == ["sec_3", "sec_2"])
            #expect(try await store.revokePreviousSecrets(integrationId: "int_1", at: thirdAt) == 2)
            #expect(try await store.activeSecrets(integrationId: "int_1", at: thirdAt).map(\.id) == ["sec_3"])
            #expect(try await store.revokePreviousSecrets(integrationId: "int_1", at: thirdAt) == 0)
        }
    }
}
