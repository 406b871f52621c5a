import Foundation

/// Validates a policy document (JSON), naming the file and key of any problem. Reading the file is the caller's job.
public enum PolicyLoader {
    /// Validates a policy document's bytes; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> Policy {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw PatenError.configuration("\(source): not valid JSON (\(error.localizedDescription)).")
        }
        var document = PolicyDocument(source: source)
        return try document.policy(from: root)
    }
}

/// A walk over the parsed JSON that knows where it is, for error messages.
private struct PolicyDocument {
    let source: String
    static let knownKeys: Set<String> = [
        "topics", "default_topic", "staff_only_topics", "critical_keywords", "languages", "default_language",
        "peer_window", "claim_lease", "default_capacity", "staff_targets", "warning_threshold", "business_hours",
        "programme", "surge", "retention",
    ]
    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    mutating func policy(from root: Any) throws -> Policy {
        guard let object = root as? [String: Any] else { throw fail("", "the document must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !Self.knownKeys.contains($0) }) {
            throw fail(unknown, "unknown key; known keys are \(Self.knownKeys.sorted().joined(separator: ", "))")
        }
        let languages = try stringList(object["languages"], at: "languages", allowEmpty: false)
        let defaultLanguage = try string(object["default_language"], at: "default_language")
        guard languages.contains(defaultLanguage) else {
            throw fail("default_language", "'\(defaultLanguage)' is not in languages")
        }
        let topics = try readTopics(object["topics"], languages: languages)
        let names = topics.map(\.name)
        let defaultTopic = try string(object["default_topic"], at: "default_topic")
        guard names.contains(defaultTopic) else {
            throw fail("default_topic", "'\(defaultTopic)' is not one of the topics (\(names.joined(separator: ", ")))")
        }
        let staffOnly = try stringList(object["staff_only_topics"], at: "staff_only_topics", allowEmpty: true)
        for (index, name) in staffOnly.enumerated() where !names.contains(name) {
            throw fail("staff_only_topics[\(index)]", "'\(name)' is not one of the topics")
        }
        if staffOnly.contains(defaultTopic) {
            throw fail("staff_only_topics", "the default topic cannot be staff-only, or every question goes to staff")
        }
        for (index, topic) in topics.enumerated() where staffOnly.contains(topic.name) {
            try requireEveryLanguage(topic.keywords, languages: languages, at: "topics[\(index)].keywords")
        }
        let critical = try readKeywords(object["critical_keywords"], at: "critical_keywords", languages: languages)
        try requireEveryLanguage(critical, languages: languages, at: "critical_keywords")
        var programme = try readProgramme(object["programme"])
        programme.unlocks = try readUnlocks(root: object, topics: names, levels: programme.levels.map(\.id))
        return Policy(
            topics: topics,
            defaultTopic: defaultTopic,
            staffOnlyTopics: Set(staffOnly),
            criticalKeywords: critical,
            languages: languages,
            defaultLanguage: defaultLanguage,
            peerWindow: try readDurations(object["peer_window"], at: "peer_window"),
            claimLease: try positiveDuration(object["claim_lease"], at: "claim_lease"),
            defaultCapacity: try readCapacity(object["default_capacity"]),
            staffTargets: try readTargets(object["staff_targets"]),
            warningThreshold: try readThreshold(object["warning_threshold"]),
            businessHours: try readBusinessHours(object["business_hours"]),
            programme: programme,
            surge: try readSurge(object["surge"], languages: languages),
            retention: try readRetention(object["retention"])
        )
    }

    func readTopics(_ value: Any?, languages: [String]) throws -> [Policy.Topic] {
        guard let list = value as? [Any], !list.isEmpty else {
            throw fail("topics", value == nil ? "missing; list the topics" : "must be a non-empty list of topics")
        }
        var seen = Set<String>()
        return try list.enumerated().map { index, item in
            let at = "topics[\(index)]"
            guard let topic = item as? [String: Any] else { throw fail(at, "must be an object with name and keywords") }
            if let unknown = topic.keys.sorted().first(where: { !["name", "keywords", "unlock"].contains($0) }) {
                throw fail("\(at).\(unknown)", "unknown key; a topic has name, keywords and (optionally) unlock")
            }
            let name = try string(topic["name"], at: "\(at).name")
            guard name.range(of: #"\A[a-z][a-z0-9_]*\z"#, options: .regularExpression) != nil else {
                throw fail("\(at).name", "'\(name)' must be lowercase letters, digits and underscores")
            }
            guard seen.insert(name).inserted else { throw fail("\(at).name", "'\(name)' is defined twice") }
            let keywords = try readKeywords(topic["keywords"], at: "\(at).keywords", languages: languages)
            return Policy.Topic(name: name, keywords: keywords)
        }
    }

    /// Keywords are a list (for every language) or an object from language codes to lists; each keyword must
    /// parse (see `KeywordPattern`).
    func readKeywords(_ value: Any?, at key: String, languages: [String]) throws -> Policy.Keywords {
        if let object = value as? [String: Any] {
            var byLanguage: [String: [String]] = [:]
            for language in object.keys.sorted() {
                guard languages.contains(language) else {
                    throw fail(
                        "\(key).\(language)",
                        "'\(language)' is not in languages (\(languages.joined(separator: ", "))); add it there or remove these keywords"
                    )
                }
                byLanguage[language] = try keywordList(object[language], at: "\(key).\(language)")
            }
            return Policy.Keywords(byLanguage: byLanguage)
        }
        guard value == nil || value is [Any] else {
            throw fail(key, "must be a list of keywords, or an object from language codes to lists of keywords")
        }
        return Policy.Keywords(everyLanguage: try keywordList(value, at: key))
    }

    func keywordList(_ value: Any?, at key: String) throws -> [String] {
        let keywords = try stringList(value, at: key, allowEmpty: true)
        for (index, keyword) in keywords.enumerated() {
            do {
                _ = try KeywordPattern(keyword)
            } catch {
                throw fail("\(key)[\(index)]", error.message)
            }
        }
        return keywords
    }

    /// Keywords written per language must cover every language where they protect customers (staff-only topics
    /// and critical keywords): a language left out would send its customers' fraud reports to volunteers.
    func requireEveryLanguage(_ keywords: Policy.Keywords, languages: [String], at key: String) throws {
        guard !keywords.byLanguage.isEmpty else { return }
        for language in languages where keywords.byLanguage[language]?.isEmpty ?? true {
            throw fail(
                "\(key).\(language)",
                "missing; keywords written per language must list some for every language in languages, or questions in '\(language)' are not recognised"
            )
        }
    }

    func readDurations(_ value: Any?, at key: String) throws -> [Priority: TimeInterval] {
        guard let object = value as? [String: Any] else {
            throw fail(key, "must be an object with a duration for each priority (low, normal, high, critical)")
        }
        var windows: [Priority: TimeInterval] = [:]
        for (name, raw) in object {
            guard let priority = Priority(rawValue: name) else {
                throw fail("\(key).\(name)", "unknown priority; use low, normal, high or critical")
            }
            windows[priority] = try duration(raw, at: "\(key).\(name)")
        }
        for priority in Priority.allCases where windows[priority] == nil {
            throw fail("\(key).\(priority.rawValue)", "missing; give a duration such as \"30m\"")
        }
        return windows
    }

    func readTargets(_ value: Any?) throws -> [StaffTarget: [Priority: TimeInterval]] {
        guard let object = value as? [String: Any] else {
            throw fail("staff_targets", "must be an object with first_response, next_response and resolution")
        }
        var targets: [StaffTarget: [Priority: TimeInterval]] = [:]
        for (name, raw) in object {
            guard let target = StaffTarget(rawValue: name) else {
                throw fail("staff_targets.\(name)", "unknown target; use first_response, next_response or resolution")
            }
            let durations = try readDurations(raw, at: "staff_targets.\(name)")
            if let zero = durations.first(where: { $0.value <= 0 }) {
                throw fail("staff_targets.\(name).\(zero.key.rawValue)", "must be longer than zero")
            }
            targets[target] = durations
        }
        for target in StaffTarget.allCases where targets[target] == nil {
            throw fail("staff_targets.\(target.rawValue)", "missing; give a duration for each priority")
        }
        return targets
    }

    func readThreshold(_ value: Any?) throws -> Double {
        guard let number = value as? Double, number > 0, number < 1 else {
            throw fail("warning_threshold", "must be a number between 0 and 1, such as 0.8 for a warning at 80 %")
        }
        return number
    }

    func readBusinessHours(_ value: Any?) throws -> BusinessCalendar {
        guard let object = value as? [String: Any] else {
            throw fail("business_hours", "must be an object with time_zone, weekly and holidays")
        }
        if let unknown = object.keys.sorted().first(where: { !["time_zone", "weekly", "holidays"].contains($0) }) {
            throw fail("business_hours.\(unknown)", "unknown key; use time_zone, weekly and holidays")
        }
        let zoneName = try string(object["time_zone"], at: "business_hours.time_zone")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw fail("business_hours.time_zone", "'\(zoneName)' is not a time zone; use a name such as Europe/Berlin")
        }
        guard let weeklyObject = object["weekly"] as? [String: Any] else {
            throw fail("business_hours.weekly", "must be an object from weekday names to lists of \"HH:MM-HH:MM\"")
        }
        var weekly: [Int: [BusinessCalendar.OpeningRange]] = [:]
        for (name, raw) in weeklyObject {
            let at = "business_hours.weekly.\(name)"
            guard let index = Self.weekdays.firstIndex(of: name) else {
                throw fail(at, "unknown day; use monday ... sunday")
            }
            let ranges = try stringList(raw, at: at, allowEmpty: true).enumerated().map { position, text in
                try openingRange(text, at: "\(at)[\(position)]")
            }.sorted { $0.start < $1.start }
            for (earlier, later) in zip(ranges, ranges.dropFirst()) where later.start < earlier.end {
                throw fail(at, "opening ranges overlap")
            }
            weekly[index + 1] = ranges
        }
        guard weekly.values.contains(where: { !$0.isEmpty }) else {
            throw fail("business_hours.weekly", "staff must be open at least one range a week")
        }
        let holidays = try stringList(object["holidays"] ?? [Any](), at: "business_hours.holidays", allowEmpty: true)
        for (index, day) in holidays.enumerated() {
            guard day.range(of: #"\A\d{4}-\d{2}-\d{2}\z"#, options: .regularExpression) != nil else {
                throw fail("business_hours.holidays[\(index)]", "'\(day)' is not a date; write YYYY-MM-DD")
            }
            // The shape alone lets '2026-13-45' through, and a holiday that never comes closes no day.
            let parts = day.split(separator: "-").compactMap { Int($0) }
            var gregorian = Calendar(identifier: .gregorian)
            gregorian.timeZone = zone
            let month = DateComponents(year: parts[0], month: parts[1])
            guard (1...12).contains(parts[1]),
                let first = gregorian.date(from: month),
                let length = gregorian.range(of: .day, in: .month, for: first)?.count,
                (1...length).contains(parts[2])
            else {
                throw fail("business_hours.holidays[\(index)]", "'\(day)' is not a day of the calendar; check month and day")
            }
        }
        return BusinessCalendar(timeZone: zone, weekly: weekly, holidays: Set(holidays))
    }

    func openingRange(_ text: String, at key: String) throws -> BusinessCalendar.OpeningRange {
        func minutes(_ part: Substring) -> Int? {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, pieces[1].count == 2, let hours = Int(pieces[0]), let mins = Int(pieces[1]),
                (0...24).contains(hours), (0..<60).contains(mins)
            else { return nil }
            return hours * 60 + mins
        }
        let parts = text.split(separator: "-")
        guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]), start < end, end <= 1440 else {
            throw fail(key, "'\(text)' is not an opening range; write \"HH:MM-HH:MM\" with the start before the end")
        }
        return BusinessCalendar.OpeningRange(start: start, end: end)
    }

    func readCapacity(_ value: Any?) throws -> [Role: Int] {
        guard let object = value as? [String: Any] else {
            throw fail("default_capacity", "must be an object with a number for volunteer, staff and admin")
        }
        var capacity: [Role: Int] = [:]
        for (key, raw) in object {
            guard let role = Role(rawValue: key), role.answersQuestions else {
                throw fail("default_capacity.\(key)", "unknown role; use volunteer, staff or admin")
            }
            guard let number = raw as? Int, number >= 1, number <= 1000 else {
                throw fail("default_capacity.\(key)", "must be a whole number from 1 to 1000")
            }
            capacity[role] = number
        }
        for role in Role.allCases where role.answersQuestions && capacity[role] == nil {
            throw fail("default_capacity.\(role.rawValue)", "missing; give a whole number from 1 to 1000")
        }
        return capacity
    }

    func string(_ value: Any?, at key: String) throws -> String {
        guard let value else { throw fail(key, "missing") }
        guard let text = value as? String, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw fail(key, "must be a non-empty string")
        }
        return text
    }

    func stringList(_ value: Any?, at key: String, allowEmpty: Bool) throws -> [String] {
        guard let value else { throw fail(key, "missing") }
        guard let list = value as? [Any] else { throw fail(key, "must be a list of strings") }
        if list.isEmpty && !allowEmpty { throw fail(key, "must not be empty") }
        return try list.enumerated().map { index, item in try string(item, at: "\(key)[\(index)]") }
    }

    func positiveDuration(_ value: Any?, at key: String) throws -> TimeInterval {
        let seconds = try duration(value, at: key)
        guard seconds > 0 else { throw fail(key, "must be longer than zero") }
        return seconds
    }

    /// Durations are written as a whole number and a unit: "45s", "30m", "2h", "1d".
    func duration(_ value: Any?, at key: String) throws -> TimeInterval {
        let text = try string(value, at: key)
        guard let unit = text.last, Int(text.dropLast()).map({ $0 >= 0 }) == true else {
            throw fail(key, "'\(text)' is not a duration; write a whole number and s, m, h or d, such as \"30m\"")
        }
        guard let seconds = PolicyLoader.seconds(text) else {
            throw fail(key, "'\(text)' has an unknown unit '\(unit)'; use s, m, h or d")
        }
        return seconds
    }

    // MARK: Surges

    /// The `retention` section; `resolved_days` is optional and falls back to `RetentionPolicy.standard`.
    func readRetention(_ value: Any?) throws -> RetentionPolicy {
        var retention = RetentionPolicy.standard
        guard let value else { return retention }
        guard let object = value as? [String: Any] else { throw fail("retention", "must be an object") }
        try unknownKeys(object, ["resolved_days"], at: "retention")
        if let raw = object["resolved_days"] {
            guard let days = raw as? Int, (1...RetentionPolicy.maxResolvedDays).contains(days) else {
                throw fail(
                    "retention.resolved_days",
                    "must be a whole number of days from 1 to \(RetentionPolicy.maxResolvedDays), such as 365"
                )
            }
            retention.resolvedDays = days
        }
        return retention
    }

    static let surgeKeys: Set<String> = [
        "enabled", "min_questions", "window", "similarity", "horizon", "baseline_weeks", "max_probability",
        "stop_words", "keep_solved", "similar_minimum",
    ]

    /// The `surge` section; every key is optional and falls back to `SurgePolicy.standard`.
    func readSurge(_ value: Any?, languages: [String]) throws -> SurgePolicy {
        var surge = SurgePolicy.standard
        guard let value else { return surge }
        guard let object = value as? [String: Any] else { throw fail("surge", "must be an object") }
        try unknownKeys(object, Self.surgeKeys, at: "surge")
        if let raw = object["enabled"] {
            guard let flag = raw as? Bool else { throw fail("surge.enabled", "must be true or false") }
            surge.enabled = flag
        }
        if let raw = object["min_questions"] {
            surge.minQuestions = try count(raw, at: "surge.min_questions", upTo: 100_000)
            if surge.minQuestions < 2 { throw fail("surge.min_questions", "must be 2 or more: one question is no surge") }
        }
        if let raw = object["window"] { surge.window = try positiveDuration(raw, at: "surge.window") }
        if let raw = object["horizon"] { surge.horizon = try positiveDuration(raw, at: "surge.horizon") }
        if surge.horizon < surge.window {
            throw fail("surge.horizon", "must be at least as long as surge.window, or a window's questions are not found")
        }
        if let raw = object["keep_solved"] { surge.keepSolved = try duration(raw, at: "surge.keep_solved") }
        for (key, path) in [("similarity", \SurgePolicy.similarity), ("similar_minimum", \SurgePolicy.similarMinimum)] {
            guard let raw = object[key] else { continue }
            guard let number = raw as? Double, number > 0, number <= 1 else {
                throw fail("surge.\(key)", "must be a Jaccard index above 0 and at most 1, such as 0.25")
            }
            surge[keyPath: path] = number
        }
        if let raw = object["max_probability"] {
            guard let number = raw as? Double, number > 0, number < 1 else {
                throw fail("surge.max_probability", "must be a probability between 0 and 1, such as 0.0001")
            }
            surge.maxProbability = number
        }
        if let raw = object["baseline_weeks"] {
            surge.baselineWeeks = try count(raw, at: "surge.baseline_weeks", upTo: 52)
            if surge.baselineWeeks < 1 { throw fail("surge.baseline_weeks", "must be from 1 to 52") }
        }
        if let raw = object["stop_words"] {
            guard let lists = raw as? [String: Any] else {
                throw fail("surge.stop_words", "must be an object from language codes to lists of words")
            }
            for (language, words) in lists {
                guard languages.contains(language) else {
                    throw fail("surge.stop_words.\(language)", "'\(language)' is not one of the languages")
                }
                surge.stopWords[language] = try stringList(words, at: "surge.stop_words.\(language)", allowEmpty: true)
            }
        }
        return surge
    }

    // MARK: The programme

    static let programmeKeys: Set<String> = [
        "points", "daily_cap", "cap_exempt", "per_question_cap", "levels", "low_water_mark", "badges", "weekly_claims",
        "weekly_hours", "pause", "probation_answers", "payout", "staff_cost_per_question",
    ]

    /// The `programme` section; every key is optional and falls back to `Programme.standard`.
    func readProgramme(_ value: Any?) throws -> Programme {
        var programme = Programme.standard
        guard let value else { return programme }
        guard let object = value as? [String: Any] else { throw fail("programme", "must be an object") }
        try unknownKeys(object, Self.programmeKeys, at: "programme")
        if let raw = object["points"] {
            guard let points = raw as? [String: Any] else {
                throw fail("programme.points", "must be an object from reasons to whole numbers of points")
            }
            let earning: [PointReason] = [.acceptedAnswer, .goodRating, .confirmedSolved, .fastFirstReply]
            for (name, amount) in points {
                guard let reason = PointReason(rawValue: name), earning.contains(reason) else {
                    throw fail(
                        "programme.points.\(name)",
                        "unknown reason; use \(earning.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                programme.points[reason] = try count(amount, at: "programme.points.\(name)", upTo: 10_000)
            }
        }
        if let raw = object["daily_cap"] { programme.dailyCap = try count(raw, at: "programme.daily_cap", upTo: 1_000_000) }
        if let raw = object["per_question_cap"] {
            programme.perQuestionCap = try count(raw, at: "programme.per_question_cap", upTo: 1_000_000)
        }
        if let raw = object["cap_exempt"] {
            programme.capExempt = Set(
                try stringList(raw, at: "programme.cap_exempt", allowEmpty: true).enumerated().map { index, name in
                    guard let reason = PointReason(rawValue: name), programme.points[reason] != nil else {
                        throw fail("programme.cap_exempt[\(index)]", "'\(name)' is not a reason of programme.points")
                    }
                    return reason
                }
            )
        }
        if let raw = object["levels"] {
            guard let list = raw as? [Any], !list.isEmpty else {
                throw fail("programme.levels", "must be a non-empty list of {id, points, accepted}, lowest first")
            }
            programme.levels = try list.enumerated().map { index, item in
                let at = "programme.levels[\(index)]"
                guard let level = item as? [String: Any] else { throw fail(at, "must be an object with id, points, accepted") }
                try unknownKeys(level, ["id", "points", "accepted"], at: at)
                return Programme.Level(
                    id: try identifier(level["id"], at: "\(at).id"),
                    points: try count(level["points"] ?? 0, at: "\(at).points", upTo: 100_000_000),
                    accepted: try count(level["accepted"] ?? 0, at: "\(at).accepted", upTo: 1_000_000)
                )
            }
            if programme.levels[0].points != 0 || programme.levels[0].accepted != 0 {
                throw fail("programme.levels[0]", "the first level is where everyone starts: give it 0 points and 0 accepted")
            }
            for (index, (lower, higher)) in zip(programme.levels, programme.levels.dropFirst()).enumerated()
            where higher.points < lower.points || higher.accepted < lower.accepted
                || (higher.points == lower.points && higher.accepted == lower.accepted)
            {
                throw fail("programme.levels[\(index + 1)]", "must need more than the level before it")
            }
            if Set(programme.levels.map(\.id)).count != programme.levels.count {
                throw fail("programme.levels", "level ids must differ")
            }
        }
        if let raw = object["low_water_mark"] {
            guard let mark = raw as? Double, mark > 0, mark <= 1 else {
                throw fail("programme.low_water_mark", "must be a number above 0 and at most 1, such as 0.9")
            }
            programme.lowWaterMark = mark
        }
        if let raw = object["badges"] {
            guard let list = raw as? [Any] else { throw fail("programme.badges", "must be a list of badges") }
            programme.badges = try list.enumerated().map { index, item in
                let at = "programme.badges[\(index)]"
                guard let badge = item as? [String: Any] else { throw fail(at, "must be an object") }
                try unknownKeys(badge, ["id", "name", "accepted", "in_topic", "min_average_rating", "points"], at: at)
                let inTopic = badge["in_topic"] as? Bool ?? false
                return Programme.Badge(
                    id: try identifier(badge["id"], at: "\(at).id"), name: try string(badge["name"], at: "\(at).name"),
                    accepted: max(1, try count(badge["accepted"], at: "\(at).accepted", upTo: 1_000_000)),
                    inTopic: inTopic, minAverageRating: try rating(badge["min_average_rating"], at: "\(at).min_average_rating"),
                    points: try count(badge["points"] ?? 0, at: "\(at).points", upTo: 10_000)
                )
            }
            if Set(programme.badges.map(\.id)).count != programme.badges.count {
                throw fail("programme.badges", "badge ids must differ")
            }
        }
        if object.keys.contains("weekly_claims") {
            programme.weeklyClaims =
                object["weekly_claims"] is NSNull
                ? nil : try count(object["weekly_claims"], at: "programme.weekly_claims", upTo: 1000)
        }
        if object.keys.contains("weekly_hours") {
            if object["weekly_hours"] is NSNull {
                programme.weeklyHours = nil
            } else {
                guard let hours = object["weekly_hours"] as? Double, hours >= 0, hours <= 168 else {
                    throw fail("programme.weekly_hours", "must be a number of hours from 0 to 168, or null for no limit")
                }
                programme.weeklyHours = hours
            }
        }
        if let raw = object["pause"] {
            guard let pause = raw as? [String: Any] else {
                throw fail("programme.pause", "must be an object with after, window and max_score")
            }
            try unknownKeys(pause, ["after", "window", "max_score"], at: "programme.pause")
            if let after = pause["after"] { programme.pauseAfter = try count(after, at: "programme.pause.after", upTo: 1000) }
            if let window = pause["window"] {
                programme.pauseWindow = try positiveDuration(window, at: "programme.pause.window")
            }
            if let score = pause["max_score"] {
                let value = try count(score, at: "programme.pause.max_score", upTo: 4)
                guard value >= 1 else { throw fail("programme.pause.max_score", "must be from 1 to 4") }
                programme.lowRatingScore = value
            }
        }
        if let raw = object["probation_answers"] {
            programme.probationAnswers = try count(raw, at: "programme.probation_answers", upTo: 1000)
        }
        if let raw = object["payout"] {
            guard let payout = raw as? [String: Any] else {
                throw fail("programme.payout", "must be an object with min_points, value_per_point and currency")
            }
            try unknownKeys(payout, ["min_points", "value_per_point", "currency"], at: "programme.payout")
            if let minimum = payout["min_points"] {
                programme.payoutMinPoints = max(1, try count(minimum, at: "programme.payout.min_points", upTo: 100_000_000))
            }
            if let value = payout["value_per_point"] {
                programme.valuePerPoint = try amount(value, at: "programme.payout.value_per_point")
            }
            if let currency = payout["currency"] {
                let code = try string(currency, at: "programme.payout.currency")
                guard code.range(of: #"\A[A-Z]{3}\z"#, options: .regularExpression) != nil else {
                    throw fail("programme.payout.currency", "'\(code)' is not a currency code; write three capitals such as GBP")
                }
                programme.currency = code
            }
        }
        if let raw = object["staff_cost_per_question"] {
            programme.staffCostPerQuestion = try amount(raw, at: "programme.staff_cost_per_question")
        }
        return programme
    }

    /// Topics' `unlock` rules: a level the programme has, or a track record in the topic.
    func readUnlocks(root: [String: Any], topics: [String], levels: [String]) throws -> [String: Programme.Unlock] {
        var unlocks: [String: Programme.Unlock] = [:]
        for (index, item) in (root["topics"] as? [Any] ?? []).enumerated() {
            guard let topic = item as? [String: Any], let raw = topic["unlock"] else { continue }
            let at = "topics[\(index)].unlock"
            guard let unlock = raw as? [String: Any], !unlock.isEmpty else {
                throw fail(at, "must be an object with level, or solved_in_topic (and min_average_rating)")
            }
            try unknownKeys(unlock, ["level", "solved_in_topic", "min_average_rating"], at: at)
            var rule = Programme.Unlock()
            if let level = unlock["level"] {
                let name = try string(level, at: "\(at).level")
                guard levels.contains(name) else {
                    throw fail("\(at).level", "'\(name)' is not a level of programme.levels (\(levels.joined(separator: ", ")))")
                }
                rule.level = name
            }
            if let solved = unlock["solved_in_topic"] {
                rule.solvedInTopic = max(1, try count(solved, at: "\(at).solved_in_topic", upTo: 1_000_000))
            }
            rule.minAverageRating = try rating(unlock["min_average_rating"], at: "\(at).min_average_rating")
            if rule.minAverageRating != nil && rule.solvedInTopic == nil {
                throw fail("\(at).min_average_rating", "goes with solved_in_topic")
            }
            if rule.level == nil && rule.solvedInTopic == nil {
                throw fail(at, "give level, or solved_in_topic")
            }
            unlocks[topics[index]] = rule
        }
        return unlocks
    }

    func unknownKeys(_ object: [String: Any], _ known: Set<String>, at key: String) throws {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("\(key).\(unknown)", "unknown key; known keys are \(known.sorted().joined(separator: ", "))")
        }
    }

    func count(_ value: Any?, at key: String, upTo limit: Int) throws -> Int {
        guard let number = value as? Int, (0...limit).contains(number) else {
            throw fail(key, "must be a whole number from 0 to \(limit)")
        }
        return number
    }

    func amount(_ value: Any?, at key: String) throws -> Double {
        guard let number = value as? Double, number >= 0, number < 1_000_000 else {
            throw fail(key, "must be a number of 0 or more")
        }
        return number
    }

    func rating(_ value: Any?, at key: String) throws -> Double? {
        guard let value, !(value is NSNull) else { return nil }
        guard let number = value as? Double, number >= 1, number <= 5 else {
            throw fail(key, "must be an average rating from 1 to 5")
        }
        return number
    }

    func identifier(_ value: Any?, at key: String) throws -> String {
        let name = try string(value, at: key)
        guard name.range(of: #"\A[a-z][a-z0-9_]*\z"#, options: .regularExpression) != nil else {
            throw fail(key, "'\(name)' must be lowercase letters, digits and underscores")
        }
        return name
    }

    func fail(_ key: String, _ problem: String) -> PatenError {
        PatenError.configuration(key.isEmpty ? "\(source): \(problem)." : "\(source): key '\(key)': \(problem).")
    }
}

extension PolicyLoader {
    /// A duration written as a whole number and a unit ("45s", "30m", "2h", "1d") in seconds; nil if it is not one.
    public static func seconds(_ text: String) -> TimeInterval? {
        let scales: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = scales[unit], let amount = Int(text.dropLast()), amount >= 0 else {
            return nil
        }
        return TimeInterval(amount) * scale
    }
}
