/// Every keyword of a policy in one Aho-Corasick automaton over the folded bytes of their first words, built once per
/// policy.
///
/// The text is read as its words with a space before and after each; a keyword's first word is looked for with a
/// space on each side it is closed on (" rechnung" for "rechnung*", "rechnung " for "*rechnung", "betrug" for
/// "*betrug*"), so whole words, prefixes, suffixes and infixes are all found in the same single pass. The automaton
/// takes one table step per byte of the text, so the cost grows with the text, not with the number of keywords or
/// how many of them are open at either end.
struct KeywordIndex: Sendable {
    /// The keywords, each with the group (a topic, or the critical keywords) it counts for.
    private let patterns: [(pattern: KeywordPattern, group: Int)]
    private let groupCount: Int
    /// Each byte's column in `transitions`; bytes that occur in no keyword share column 0, which leads to the root.
    private let byteClass: [Int]
    private let classCount: Int
    /// The next state for a state and a byte class, at `state * classCount + class`. A state is kept as its row's
    /// offset (`state * classCount`) shifted left by one, with the low bit set when keywords end there, so the scan
    /// takes one multiplication-free step per byte and looks up matches only where there are some.
    private let transitions: [Int32]
    /// Per state, the keywords whose first word ends there (its own and its shorter suffixes'):
    /// `matchList[matchStart[state]..<matchStart[state + 1]]`.
    private let matchStart: [Int]
    private let matchList: [Int]

    /// The byte that stands for the edge of a word; folded words never contain it.
    private static let edge = UInt8(ascii: " ")

    /// Indexes keywords; the same keyword twice in one group counts once.
    init(_ keywords: [(pattern: KeywordPattern, group: Int)], groupCount: Int) {
        var seen = Set<Entry>()
        let unique = keywords.filter { seen.insert(Entry(pattern: $0.pattern, group: $0.group)).inserted }
        let sequences = unique.map { keyword -> [UInt8] in
            guard let first = keyword.pattern.words.first else { return [] }
            return (first.openStart ? [] : [Self.edge]) + first.bytes + (first.openEnd ? [] : [Self.edge])
        }
        var byteClass = [Int](repeating: 0, count: 256)
        var classCount = 1
        for byte in sequences.joined() where byteClass[Int(byte)] == 0 {
            byteClass[Int(byte)] = classCount
            classCount += 1
        }

        // The trie of the sequences (-1: no edge yet), and the keywords ending at each node.
        var transitions = [Int32](repeating: -1, count: classCount)
        var ends: [[Int]] = [[]]
        for (keyword, sequence) in sequences.enumerated() where !sequence.isEmpty {
            var state = 0
            for byte in sequence {
                let slot = state * classCount + byteClass[Int(byte)]
                if transitions[slot] < 0 {
                    transitions[slot] = Int32(ends.count)
                    ends.append([])
                    transitions += repeatElement(-1, count: classCount)
                }
                state = Int(transitions[slot])
            }
            ends[state].append(keyword)
        }

        // Breadth first, each state's missing edges become those of its longest proper suffix that is a trie node
        // (its failure state, already complete because it is shallower), and it inherits that state's keywords.
        var failure = [Int](repeating: 0, count: ends.count)
        var queue: [Int] = []
        for column in 0..<classCount {
            if transitions[column] < 0 {
                transitions[column] = 0
            } else {
                queue.append(Int(transitions[column]))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            ends[state] += ends[failure[state]]
            for column in 0..<classCount {
                let slot = state * classCount + column
                let fallback = transitions[failure[state] * classCount + column]
                if transitions[slot] < 0 {
                    transitions[slot] = fallback
                } else {
                    failure[Int(transitions[slot])] = Int(fallback)
                    queue.append(Int(transitions[slot]))
                }
            }
        }

        self.patterns = unique
        self.groupCount = groupCount
        self.byteClass = byteClass
        self.classCount = classCount
        self.transitions = transitions.map { Int32(Int($0) * classCount << 1 | (ends[Int($0)].isEmpty ? 0 : 1)) }
        self.matchStart = ends.reduce(into: [0]) { starts, keywords in starts.append(starts[starts.count - 1] + keywords.count) }
        self.matchList = Array(ends.joined())
    }

    private struct Entry: Hashable {
        var pattern: KeywordPattern
        var group: Int
    }

    /// How many different keywords of each group occur in the text.
    func counts(in text: KeywordText) -> [Int] {
        var counts = [Int](repeating: 0, count: groupCount)
        guard !patterns.isEmpty else { return counts }
        var found = [Bool](repeating: false, count: patterns.count)
        func check(_ keyword: Int, at position: Int) {
            guard !found[keyword] else { return }
            let rest = patterns[keyword].pattern.words.dropFirst()
            guard position + rest.count < text.words.count else { return }
            for (offset, word) in rest.enumerated() where !word.matches(text.word(position + 1 + offset)) { return }
            found[keyword] = true
            counts[patterns[keyword].group] += 1
        }
        let edgeClass = byteClass[Int(Self.edge)]
        func matchesAt(_ entry: Int32, _ position: Int) {
            let state = Int(entry >> 1) / classCount
            for match in matchStart[state]..<matchStart[state + 1] { check(matchList[match], at: position) }
        }
        transitions.withUnsafeBufferPointer { transitions in
            byteClass.withUnsafeBufferPointer { byteClass in
                text.bytes.withUnsafeBufferPointer { bytes in
                    var entry = transitions[edgeClass]
                    for position in text.words.indices {
                        for index in text.words[position] {
                            entry = transitions[Int(entry >> 1) + byteClass[Int(bytes[index])]]
                            if entry & 1 != 0 { matchesAt(entry, position) }
                        }
                        // The space after a word ends the keywords closed at their end; it also starts the next word.
                        entry = transitions[Int(entry >> 1) + edgeClass]
                        if entry & 1 != 0 { matchesAt(entry, position) }
                    }
                }
            }
        }
        return counts
    }
}
