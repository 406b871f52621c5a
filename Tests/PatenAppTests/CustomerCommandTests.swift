import Foundation
import PatenCore
import PatenTestSupport
import Testing

@Suite("paten customers: erase, export and erasures on the database")
struct CustomerCommandTests {
    @Test("The binary exports, erases (attributed to an admin) and lists erasures; refusals exit by kind")
    func eraseAndExport() async throws {
        try await withTestEnvironment { env in
            let (admin, _) = try await env.account("root", .admin)
            _ = try await env.account("vera", .volunteer)
            let question = try await env.submit(
                "CLI secret Allosaurus", body: "Words Compsognathus", customer: Customer(id: "c-cli", name: "Cleo"),
                by: admin
            )
            var environment = ["PATH": "/usr/bin:/bin", "HOME": env.directory.path]
            environment["PATEN_POLICY"] = repositoryRoot.appendingPathComponent("Config/policy.json").path
            let base = ["--data-dir", env.directory.path]
            let channel = question.channel

            let export = try await runBinary(["customers", "export", channel, "c-cli", "--admin", "root"] + base, environment: environment)
            #expect(export.status == 0, "\(export.stderr)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(export.stdout.utf8)) as? [String: Any], "\(export.stdout)"
            )
            let questions = try #require(document["questions"] as? [[String: Any]])
            #expect(questions.map { $0["subject"] as? String } == ["CLI secret Allosaurus"])
            #expect(export.stdout.contains("Compsognathus"))

            #expect(try await runBinary(["customers", "erase", channel, "c-cli"] + base, environment: environment).status == 2)
            let volunteer = try await runBinary(
                ["customers", "erase", channel, "c-cli", "--admin", "vera"] + base, environment: environment
            )
            #expect(volunteer.status == 3, "\(volunteer.stderr)")
            let erased = try await runBinary(
                ["customers", "erase", channel, "c-cli", "--admin", "root"] + base, environment: environment
            )
            #expect(erased.status == 0, "\(erased.stderr)")
            #expect(erased.stdout.contains("1 question(s) redacted"))
            #expect(!erased.stdout.contains("c-cli"))

            let list = try await runBinary(["customers", "erasures", "--json"] + base, environment: environment)
            let erasures = try #require(
                (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["erasures"]
                    as? [[String: Any]]
            )
            #expect(erasures.count == 1)
            #expect(erasures.first?["erased_by"] as? String == admin.id)
            #expect(erasures.first?["questions"] as? Int == 1)

            let gone = try await runBinary(["customers", "export", channel, "c-cli", "--admin", "root"] + base, environment: environment)
            #expect(gone.status == 4)
            #expect(gone.stderr.contains("no questions"))
            #expect(try await env.store.question(id: question.id)?.subject == Tombstone.text)
        }
    }
}

@Suite("paten customers --remote: erasure through a running server")
struct RemoteCustomerCommandTests {
    @Test("erase and erasures go through the API with the admin login; a staff login exits 3", arguments: Backend.available)
    func remote(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let (admin, adminToken) = try await env.account("root", .admin)
            let (_, staffToken) = try await env.account("sam", .staff)
            let question = try await env.submit(
                "Remote secret Iguanodon", customer: Customer(id: "c/remote 1", name: "Rhea"), by: admin
            )
            try await withConfigHome { home in
                let asAdmin = RemoteAdminCommandTests.login(home, port: port, token: adminToken)
                let asStaff = RemoteAdminCommandTests.login(home, port: port, token: staffToken)
                let refused = try await runBinary(
                    ["customers", "erase", question.channel, "c/remote 1", "--remote"], environment: asStaff
                )
                #expect(refused.status == 3, "\(refused.stderr)")
                let both = try await runBinary(
                    ["customers", "erase", question.channel, "c/remote 1", "--remote", "--admin", "root"],
                    environment: asAdmin
                )
                #expect(both.status == 2)
                let erased = try await runBinary(
                    ["customers", "erase", question.channel, "c/remote 1", "--remote", "--json"], environment: asAdmin
                )
                #expect(erased.status == 0, "\(erased.stderr)")
                let fact = try #require(try JSONSerialization.jsonObject(with: Data(erased.stdout.utf8)) as? [String: Any])
                #expect(fact["questions"] as? Int == 1)
                #expect(fact["erased_by"] as? String == admin.id)
                let list = try await runBinary(["customers", "erasures", "--remote"], environment: asAdmin)
                #expect(list.status == 0, "\(list.stderr)")
                #expect(list.stdout.contains("1 question(s)") && list.stdout.contains(admin.id))
            }
            #expect(try await env.store.question(id: question.id)?.subject == Tombstone.text)
        }
    }
}
