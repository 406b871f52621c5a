import Foundation
import PatenApp
import PatenCore
import Testing

@Suite("How long a rotated-out integration secret keeps working")
struct RotationOverlapDefaultTests {
    @Test("By default the old secret keeps working for one day after a rotation; a setting changes it up to 30 days")
    func overlap() async throws {
        #expect(try await PatenConfiguration.load(environment: [:]).secretRotationOverlap == 86400)
        let hour = try await PatenConfiguration.load(environment: ["PATEN_SECRET_ROTATION_OVERLAP": "3600"])
        #expect(hour.secretRotationOverlap == 3600)
        await #expect(throws: PatenError.self) {
            _ = try await PatenConfiguration.load(environment: ["PATEN_SECRET_ROTATION_OVERLAP": "2592001"])
        }
    }
}
