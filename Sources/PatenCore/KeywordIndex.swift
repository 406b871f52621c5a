/// Every keyword of a policy in one trie over the folded bytes of their first words, built once per policy.
///
/// Finding which keywords occur in a text walks each of the text's words down the trie once; most words leave it
/// after a letter or two. The cost grows with the text, not with the number of keywords or how many are prefixes.
struct KeywordIndex: Sendable {
    /// The keywords, each with the group (a topic, or the critical keywords) it counts for.
    private let patterns: [(pattern: KeywordPattern, group: Int)]
    private let groupCount: Int
    /// The root's children by byte (-1: none); deeper edges are keyed by `node << 8 | byte`.
    private let root: [Int]
    private let edges: [Int: Int]
    /// Per node: the keywords whose first word ends there as a whole word, and as a prefix.
    private let exactEnds: [[Int]]
    private let prefixEnds: [[Int]]

    /// Indexes keywords; the same keyword twice in one group counts once.
    init(_ keywords: [(pattern: KeywordPattern, group: Int)], groupCount: Int) {
        var seen = Set<Entry>()
        let unique = keywords.filter { seen.insert(Entry(pattern: $0.pattern, group: $0.group)).inserted }
        var root = [Int](repeating: -1, count: 256)
        var edges: [Int: Int] = [:]
        var exactEnds: [[Int]] = [[]]
        var prefixEnds: [[Int]] = [[]]
        for (position, keyword) in unique.enumerated() {
            guard let first = keyword.pattern.words.first else { continue }
            var node = 0
            for byte in first.bytes {
                let existing = node == 0 ? root[Int(byte)] : edges[node << 8 | Int(byte), default: -1]
                if existing >= 0 {
                    node = existing
                    continue
                }
                let created = exactEnds.count
                exactEnds.append([])
                prefixEnds.append([])
                if node == 0 { root[Int(byte)] = created } else { edges[node << 8 | Int(byte)] = created }
                node = created
            }
            if first.isPrefix { prefixEnds[node].append(position) } else { exactEnds[node].append(position) }
        }
        self.patterns = unique
        self.groupCount = groupCount
        self.root = root
        self.edges = edges
        self.exactEnds = exactEnds
        self.prefixEnds = prefixEnds
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
        for position in text.words.indices {
            var node = 0
            var whole = true
            for index in text.words[position] {
                let byte = Int(text.bytes[index])
                let next = node == 0 ? root[byte] : edges[node << 8 | byte, default: -1]
                guard next >= 0 else {
                    whole = false
                    break
                }
                node = next
                for keyword in prefixEnds[node] { check(keyword, at: position) }
            }
            if whole { for keyword in exactEnds[node] { check(keyword, at: position) } }
        }
        return counts
    }
}
