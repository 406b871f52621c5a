import Foundation
import PatenCore
import Testing

@Suite("Staff clocks and peer windows")
struct SLAPlannerTests {
    /// Monday 2026-11-23 08:00 in Berlin, the moment staff open.
    let mondayOpening = utc("2026-11-23T07:00:00Z")

    /// Every staff clock started at Monday's opening: when it warns (at the policy's 75 %) and when it is due, in
    /// staff hours (12 a weekday, 6 on Saturday, none on Sunday).
    static let staffClocks: [(StaffTarget, Priority, warn: String, due: String)] = [
        (.firstResponse, .low, "2026-11-23T13:00:00Z", "2026-11-23T15:00:00Z"),
        (.firstResponse, .normal, "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z"),
        (.firstResponse, .high, "2026-11-23T08:30:00Z", "2026-11-23T09:00:00Z"),
        (.firstResponse, .critical, "2026-11-23T07:45:00Z", "2026-11-23T08:00:00Z"),
        (.nextResponse, .low, "2026-11-23T11:30:00Z", "2026-11-23T13:00:00Z"),
        (.nextResponse, .normal, "2026-11-23T09:15:00Z", "2026-11-23T10:00:00Z"),
        (.nextResponse, .high, "2026-11-23T08:07:30Z", "2026-11-23T08:30:00Z"),
        (.nextResponse, .critical, "2026-11-23T07:22:30Z", "2026-11-23T07:30:00Z"),
        // 12 h: Monday until 20:00; warned at 9 h, 17:00.
        (.resolution, .critical, "2026-11-23T16:00:00Z", "2026-11-23T19:00:00Z"),
        // 24 h: Monday and Tuesday; warned at 18 h, Tuesday 14:00.
        (.resolution, .high, "2026-11-24T13:00:00Z", "2026-11-24T19:00:00Z"),
        // 48 h: Monday to Thursday; warned at 36 h, Wednesday's close.
        (.resolution, .normal, "2026-11-25T19:00:00Z", "2026-11-26T19:00:00Z"),
        // 72 h: Monday to Friday (60), Saturday (6), closed Sunday, Monday until 14:00; warned at 54 h, Friday 14:00.
        (.resolution, .low, "2026-11-27T13:00:00Z", "2026-11-30T13:00:00Z"),
    ]

    @Test("Each staff target and priority warns at the policy's threshold and falls due after its length in staff hours")
    func staffTargets() throws {
        let planner = SLAPlanner(policy: try BerlinPolicy.load())
        for (target, priority, warn, due) in Self.staffClocks {
            let timer = try #require(planner.staffTimer(target, priority: priority, from: mondayOpening))
            #expect(timer.target.staffTarget == target, "\(target) \(priority)")
            #expect(timer.startedAt == mondayOpening)
            #expect(timer.warnAt == utc(warn), "\(target) \(priority) warns")
            #expect(timer.dueAt == utc(due), "\(target) \(priority) is due")
            #expect(timer.firstCheck == utc(warn))
        }
    }

    @Test("A staff clock started on Saturday afternoon warns and falls due on Monday, not over the closed Sunday")
    func acrossTheWeekend() throws {
        let planner = SLAPlanner(policy: try BerlinPolicy.load())
        // Saturday 15:00 CET, normal first response (4 h): 1 h on Saturday, 3 h on Monday from 08:00.
        let timer = try #require(planner.staffTimer(.firstResponse, priority: .normal, from: utc("2026-11-21T14:00:00Z")))
        #expect(timer.warnAt == utc("2026-11-23T09:00:00Z"))
        #expect(timer.dueAt == utc("2026-11-23T10:00:00Z"))
    }

    @Test("A question reaching staff starts first response and resolution; one a helper answered starts resolution only")
    func staffArrival() throws {
        let planner = SLAPlanner(policy: try BerlinPolicy.load())
        for priority in Priority.allCases {
            let fresh = planner.staffArrival(priority: priority, at: mondayOpening, alreadyAnswered: false)
            #expect(fresh.map(\.target) == [.firstResponse, .resolution], "\(priority)")
            #expect(fresh.first == planner.staffTimer(.firstResponse, priority: priority, from: mondayOpening))
            #expect(fresh.last == planner.staffTimer(.resolution, priority: priority, from: mondayOpening))
            let answered = planner.staffArrival(priority: priority, at: mondayOpening, alreadyAnswered: true)
            #expect(answered == [try #require(planner.staffTimer(.resolution, priority: priority, from: mondayOpening))])
        }
        let normal = planner.staffArrival(priority: .normal, at: mondayOpening, alreadyAnswered: false)
        #expect(normal.map(\.dueAt) == [utc("2026-11-23T11:00:00Z"), utc("2026-11-26T19:00:00Z")])
    }

    @Test("Peer windows run on calendar time, through nights and Sundays, and have no warning")
    func peerWindows() throws {
        let planner = SLAPlanner(policy: try BerlinPolicy.load())
        let sundayNight = utc("2026-11-22T22:00:00Z")
        let lengths: [Priority: TimeInterval] = [.low: 8 * 3600, .normal: 2 * 3600, .high: 30 * 60, .critical: 0]
        for priority in Priority.allCases {
            let window = planner.peerWindow(priority: priority, from: sundayNight)
            #expect(window.target == .peerWindow)
            #expect(window.warnAt == nil)
            #expect(window.dueAt == sundayNight.addingTimeInterval(lengths[priority] ?? -1), "\(priority)")
        }
    }

    @Test("The peer deadline a client is shown is the one the sweeper enforces, for every priority")
    func shownDeadlineIsEnforced() throws {
        let policy = try BerlinPolicy.load()
        let classifier = IntakeClassifier(policy: policy)
        let planner = SLAPlanner(policy: policy)
        let now = utc("2026-11-21T14:00:00Z")
        for priority in Priority.allCases {
            let decision = classifier.route(Classification(topic: "general", language: "en", priority: priority), at: now)
            if priority == .critical {
                // Critical questions go straight to staff: no peer window is shown or enforced.
                #expect(decision.tier == .staff)
                #expect(decision.peerDeadline == nil)
            } else {
                #expect(decision.tier == .volunteer, "\(priority)")
                #expect(decision.peerDeadline == planner.peerWindow(priority: priority, from: now).dueAt, "\(priority)")
            }
        }
    }
}
