import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: accounts and tokens.
@Suite("Store contract: accounts and tokens")
struct AccountContractTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func helper(_ id: String, _ handle: String, _ role: Role = .volunteer) -> Helper {
        Helper(
            id: id, handle: handle, displayName: handle.capitalized, role: role, skills: ["roaming", "esim"],
            languages: ["de"], capacity: 3, presence: .available, active: true, createdAt: start, updatedAt: start
        )
    }

    @Test(
        "Accounts are stored, found by id and handle, listed by handle, counted; a taken handle is a conflict", arguments: Backend.available
    )
    func accounts(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.helperCount() == 0)
            try await store.insertHelper(Self.helper("h_2", "vera"))
            try await store.insertHelper(Self.helper("h_1", "anna", .staff))
            #expect(try await store.helper(id: "h_2") == Self.helper("h_2", "vera"))
            #expect(try await store.helper(handle: "anna")?.id == "h_1")
            #expect(try await store.helper(id: "h_9") == nil)
            #expect(try await store.helpers(role: nil).map(\.handle) == ["anna", "vera"])
            #expect(try await store.helpers(role: .staff).map(\.handle) == ["anna"])
            #expect(try await store.helperCount() == 2)
            let taken = await #expect(throws: PatenError.self) { try await store.insertHelper(Self.helper("h_3", "vera")) }
            #expect(taken?.code == "handle_taken")
            #expect(try await store.helperCount() == 2)
        }
    }

    @Test("A change touches only the fields it names; an unknown account is not found", arguments: Backend.available)
    func updates(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(Self.helper("h_1", "vera"))
            let later = Self.start.addingTimeInterval(60)
            let changed = try await store.updateHelper(
                id: "h_1", change: HelperChange(skills: ["billing"], presence: .away, active: false), at: later
            )
            var expected = Self.helper("h_1", "vera")
            expected.skills = ["billing"]
            expected.presence = .away
            expected.active = false
            expected.updatedAt = later
            #expect(changed == expected)
            #expect(try await store.helper(id: "h_1") == expected)
            let missing = await #expect(throws: PatenError.self) {
                _ = try await store.updateHelper(id: "h_9", change: HelperChange(capacity: 1), at: later)
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test("Tokens authenticate active accounts until revoked, and note their use at most once a minute", arguments: Backend.available)
    func tokens(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(Self.helper("h_1", "vera"))
            let token = AccessToken(
                id: "tok_1", helperId: "h_1", label: "laptop", prefix: "pat_abc", createdAt: Self.start, lastUsedAt: nil,
                revokedAt: nil
            )
            try await store.insertToken(token, secretHash: "hash-1")
            let second = AccessToken(
                id: "tok_2", helperId: "h_1", label: "phone", prefix: "pat_def", createdAt: Self.start.addingTimeInterval(1),
                lastUsedAt: nil, revokedAt: nil
            )
            try await store.insertToken(second, secretHash: "hash-2")
            #expect(try await store.tokens(helperId: "h_1").map(\.id) == ["tok_2", "tok_1"])
            #expect(try await store.tokens(helperId: nil).count == 2)

            let first = try #require(try await store.authenticate(secretHash: "hash-1", at: Self.start.addingTimeInterval(10)))
            #expect(first.helper.id == "h_1" && first.token.id == "tok_1")
            #expect(try await store.token(id: "tok_1")?.lastUsedAt == Self.start.addingTimeInterval(10))
            _ = try await store.authenticate(secretHash: "hash-1", at: Self.start.addingTimeInterval(30))
            #expect(try await store.token(id: "tok_1")?.lastUsedAt == Self.start.addingTimeInterval(10))
            #expect(try await store.authenticate(secretHash: "nope", at: Self.start) == nil)

            let revoked = try await store.revokeToken(id: "tok_1", at: Self.start.addingTimeInterval(100))
            #expect(revoked.revokedAt == Self.start.addingTimeInterval(100))
            #expect(try await store.revokeToken(id: "tok_1", at: Self.start.addingTimeInterval(200)).revokedAt == revoked.revokedAt)
            #expect(try await store.authenticate(secretHash: "hash-1", at: Self.start.addingTimeInterval(300)) == nil)
            _ = try await store.updateHelper(id: "h_1", change: HelperChange(active: false), at: Self.start)
            #expect(try await store.authenticate(secretHash: "hash-2", at: Self.start.addingTimeInterval(300)) == nil)
            await #expect(throws: PatenError.self) { _ = try await store.revokeToken(id: "tok_9", at: Self.start) }
        }
    }
}
