import Foundation
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

@Suite("The escalation stream ends with its access and is capped per account")
struct EscalationStreamTests {
    /// Short intervals so that a test takes a second or two, not the production 5 s and 15 s.
    static func limits(_ configuration: inout PatenConfiguration) {
        configuration.streamRecheckInterval = .milliseconds(500)
        configuration.streamHeartbeatInterval = .milliseconds(200)
        configuration.streamsPerAccount = 4
    }

    /// Opens a stream and waits for its opening block.
    static func openStream(port: Int, token: String) async throws -> RawConnection {
        let stream = try await RawConnection.open(port: port)
        await stream.get("/v1/escalations/stream", token: token)
        #expect(await stream.waitFor(": connected", within: .seconds(5)), "\(stream.text)")
        return stream
    }

    enum AccessLoss: String, CaseIterable, CustomStringConvertible {
        case tokenRevoked, accountDeactivated, demotedToVolunteer
        var description: String { rawValue }
    }

    @Test(
        "A stream ends within the recheck interval once its token is revoked, its account deactivated or demoted",
        arguments: Backend.available, AccessLoss.allCases)
    func endsWithAccess(backend: Backend, loss: AccessLoss) async throws {
        try await withLiveServer(backend: backend, configure: Self.limits) { env, port in
            let staff = try await env.account("lead", .staff)
            let stream = try await Self.openStream(port: port, token: staff.token)
            // Open for longer than a recheck while the access holds.
            try await Task.sleep(for: .seconds(1))
            #expect(!stream.isClosed)

            switch loss {
            case .tokenRevoked:
                let token = try #require(try await env.directoryService.allTokens(helperId: staff.helper.id).first)
                _ = try await env.directoryService.revokeToken(token.id)
            case .accountDeactivated:
                _ = try await env.directoryService.update(staff.helper.id, HelperChange(active: false))
            case .demotedToVolunteer:
                _ = try await env.directoryService.update(staff.helper.id, HelperChange(role: .volunteer))
            }
            // One recheck (0.5 s) plus one poll (0.5 s), with room for a loaded machine.
            #expect(await stream.waitUntilClosed(within: .seconds(3)), "\(stream.text)")
            #expect(stream.text.contains(": access ended"))
            // A new stream with the lost access is refused (401 or 403).
            let again = try await RawConnection.open(port: port)
            await again.get("/v1/escalations/stream", token: staff.token)
            #expect(await again.waitFor("HTTP/1.1 40", within: .seconds(5)), "\(again.text)")
            await again.close()
        }
    }

    @Test("A stream whose access holds stays open past rechecks and still delivers escalations", arguments: Backend.available)
    func staysOpen(backend: Backend) async throws {
        try await withLiveServer(backend: backend, configure: Self.limits) { env, port in
            let staff = try await env.account("lead", .staff)
            let stream = try await Self.openStream(port: port, token: staff.token)
            try await Task.sleep(for: .seconds(2))
            #expect(!stream.isClosed)
            let question = try await env.submit("My phone was stolen", by: staff.helper)
            #expect(await stream.waitFor(question.id, within: .seconds(5)))
            await stream.close()
        }
    }

    @Test("One account gets 429 too_many_streams with Retry-After for a fifth stream; closing one frees its slot")
    func capPerAccount() async throws {
        try await withLiveServer(configure: Self.limits) { env, port in
            let staff = try await env.account("lead", .staff)
            let colleague = try await env.account("second", .staff)
            var open: [RawConnection] = []
            for _ in 0..<4 { open.append(try await Self.openStream(port: port, token: staff.token)) }

            let fifth = try await RawConnection.open(port: port)
            await fifth.get("/v1/escalations/stream", token: staff.token)
            #expect(await fifth.waitUntilClosed(within: .seconds(5)))
            #expect(fifth.text.hasPrefix("HTTP/1.1 429"), "\(fifth.text)")
            #expect(fifth.text.lowercased().contains("\r\nretry-after: "))
            #expect(fifth.text.contains(#""code":"too_many_streams""#))

            // The cap is per account: a colleague still gets a stream.
            let other = try await Self.openStream(port: port, token: colleague.token)
            #expect(other.text.hasPrefix("HTTP/1.1 200"))

            // The server notices the closed stream at its next heartbeat and gives the slot back.
            await open.removeFirst().close()
            var freed: RawConnection?
            let end = ContinuousClock.now.advanced(by: .seconds(5))
            while freed == nil && ContinuousClock.now < end {
                let next = try await RawConnection.open(port: port)
                await next.get("/v1/escalations/stream", token: staff.token)
                _ = await next.waitFor("HTTP/1.1 ", within: .seconds(2))
                if next.text.hasPrefix("HTTP/1.1 200") { freed = next } else { try await Task.sleep(for: .milliseconds(100)) }
            }
            let reopened = try #require(freed)
            open.append(reopened)
            for stream in open + [other] { await stream.close() }
        }
    }
}
