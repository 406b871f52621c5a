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
            businessHours: try readBusinessHours(object["business_hours"])
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
            if let unknown = topic.keys.sorted().first(where: { $0 != "name" && $0 != "keywords" }) {
                throw fail("\(at).\(unknown)", "unknown key; a topic has name and keywords")
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
