import Foundation

/// A question's similarity signature: the set of its normalised words (its terms) and the MinHash bands that find
/// questions with a similar set without comparing it to every other.
///
/// Terms are the words of the subject and the first message, folded as keywords are (case, diacritics, ä/ae), without
/// the stop words of the policy's languages and one-letter words, cut to a rough stem (`stem`: "mobiles", "mobilen"
/// and "mobile" are one term, so are "funktioniert" and "funktionieren"), each counted once (the first `maxTerms`). Similarity is the Jaccard index of two term sets: the words they share over the words either has.
/// MinHash estimates it: for each of `permutations` hash functions the smallest hash over the terms; two sets agree on
/// one such minimum with probability equal to their Jaccard index. The minima are cut into `bands` bands of `rows`;
/// two questions that agree on all minima of one band share that band's key and are candidates: with probability
/// 1 - (1 - J^rows)^bands. With 32 bands of 3 rows: 0.03 at Jaccard 0.1, 0.23 at 0.2, 0.40 at 0.25 (the default
/// similarity), 0.58 at 0.3, 0.88 at 0.4 and 0.98 at 0.5. A pair the bands miss is rarely a loss: a new question needs
/// one band in common with any question of its group, not with each. (32 bands of 4 rows, the usual choice for
/// longer texts, find 18 % of pairs at 0.3; on the replay in scripts/incidents that split the German burst into
/// groups too small to count.) Candidates are then compared exactly on their terms.
///
/// The hashes are fixed (FNV-1a and SplitMix64 with constant seeds), so every instance and every release computes
/// the same bands for the same text: they are stored and compared across processes.
public struct SimilaritySignature: Sendable, Equatable {
    public static let permutations = 96
    public static let bands = 32
    public static let rows = 3
    /// At most this many distinct terms are hashed (the first ones, subject first): a long message says what it
    /// is about early, and the cost stays bounded.
    public static let maxTerms = 100

    /// The distinct terms, sorted.
    public var terms: [String]
    /// One key per band; empty when there are no terms.
    public var bands: [Int64]

    /// Creates a signature from stored parts.
    public init(terms: [String], bands: [Int64]) {
        self.terms = terms
        self.bands = bands
    }

    /// Whether there is nothing to compare (a question of stop words, emoji or numbers only).
    public var isEmpty: Bool { terms.isEmpty }

    /// The signature of a text, leaving out `stopWords` (folded).
    public init(text: String, stopWords: StopWords) {
        let folded = KeywordText(text)
        var seen = Set<[UInt8]>()
        var ordered: [[UInt8]] = []
        for range in folded.words {
            let surface = Array(folded.bytes[range])
            guard surface.count > 1, !stopWords.contains(surface) else { continue }
            let word = Self.stem(surface)
            guard !seen.contains(word) else { continue }
            seen.insert(word)
            ordered.append(word)
            if ordered.count == Self.maxTerms { break }
        }
        guard !ordered.isEmpty else {
            self.init(terms: [], bands: [])
            return
        }
        var minima = [UInt64](repeating: .max, count: Self.permutations)
        for word in ordered {
            let base = Self.fnv1a(word)
            for index in 0..<Self.permutations {
                let value = Self.mix(base ^ Self.seeds[index])
                if value < minima[index] { minima[index] = value }
            }
        }
        var bands: [Int64] = []
        bands.reserveCapacity(Self.bands)
        for band in 0..<Self.bands {
            var key: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(band)
            for row in 0..<Self.rows {
                key = Self.mix(key ^ minima[band * Self.rows + row])
            }
            bands.append(Int64(bitPattern: key))
        }
        self.init(
            terms: ordered.map { String(decoding: $0, as: UTF8.self) }.sorted(), bands: bands
        )
    }

    /// Suffixes `stem` takes off, the first that fits: German and English inflections, longest first.
    static let suffixes: [[UInt8]] = ["ungen", "ieren", "ung", "iert", "ing", "ed", "en", "er", "es", "em", "e", "n", "s"]
        .map { Array($0.utf8) }

    /// A folded word's rough stem: a word longer than four letters loses the first suffix of `suffixes` that
    /// leaves at least four. Not a linguist's stemmer (a Snowball stemmer per language would be better and slower):
    /// it only has to give the inflected forms of one word one term, in every policy language alike. On the replay
    /// in scripts/incidents, rewordings of one outage went from 12 % to 26 % of pairs at Jaccard 0.35 or more, and
    /// unrelated questions stayed at 0.19 or less (docs/incidents.md).
    public static func stem(_ word: [UInt8]) -> [UInt8] {
        guard word.count > 4 else { return word }
        for suffix in suffixes where word.count - suffix.count >= 4 && word.suffix(suffix.count).elementsEqual(suffix) {
            return Array(word.dropLast(suffix.count))
        }
        return word
    }

    /// The term a word of a text gives (folded and stemmed), for showing the word people wrote for a term.
    public static func terms(inText text: String) -> [(term: String, word: String)] {
        let folded = KeywordText(text)
        return folded.words.map { range in
            let word = Array(folded.bytes[range])
            return (String(decoding: stem(word), as: UTF8.self), String(decoding: word, as: UTF8.self))
        }
    }

    /// The Jaccard index of this signature's terms and another sorted term list: shared terms over all terms.
    public func jaccard(_ other: [String]) -> Double {
        Self.jaccard(terms, other)
    }

    /// The Jaccard index of two sorted term lists.
    public static func jaccard(_ left: [String], _ right: [String]) -> Double {
        guard !left.isEmpty || !right.isEmpty else { return 0 }
        var shared = 0
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count && rightIndex < right.count {
            if left[leftIndex] == right[rightIndex] {
                shared += 1
                leftIndex += 1
                rightIndex += 1
            } else if left[leftIndex] < right[rightIndex] {
                leftIndex += 1
            } else {
                rightIndex += 1
            }
        }
        return Double(shared) / Double(left.count + right.count - shared)
    }

    /// The terms as stored: one string, separated by spaces (terms have none).
    public var storedTerms: String { terms.joined(separator: " ") }

    /// Terms read back from `storedTerms`.
    public static func terms(stored: String) -> [String] {
        // Split on the UTF-8 bytes: String's own split walks characters, which showed in intake's profile.
        var text = stored
        return text.withUTF8 { bytes in
            bytes.split(separator: 0x20).map { String(decoding: UnsafeBufferPointer(rebasing: $0), as: UTF8.self) }
        }
    }

    /// The band keys as words of a full-text index (SQLite's FTS5): 16 lowercase hex digits each, separated by spaces.
    public var bandWords: String { Self.bandWords(bands) }

    /// Band keys as words of a full-text index.
    public static func bandWords(_ bands: [Int64]) -> String {
        bands.map { key in
            let digits = String(UInt64(bitPattern: key), radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined(separator: " ")
    }

    /// A full-text query for documents holding any of the band keys.
    public static func bandQuery(_ bands: [Int64]) -> String {
        bandWords(bands).split(separator: " ").map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    /// The band keys as stored: 8 bytes each, big-endian.
    public var storedBands: [UInt8] {
        bands.flatMap { key in (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(bitPattern: key) >> ($0 * 8)) } }
    }

    /// Band keys read back from `storedBands`; nil when the bytes are not a whole number of keys.
    public static func bands(stored bytes: [UInt8]) -> [Int64]? {
        guard bytes.count % 8 == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: 8).map { start in
            Int64(bitPattern: bytes[start..<start + 8].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) })
        }
    }

    // MARK: Hashing

    private static let seeds: [UInt64] = (0..<permutations).map { mix(0x9E37_79B9_7F4A_7C15 &* UInt64($0 + 1)) }

    /// FNV-1a, 64 bits.
    public static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// SplitMix64's finaliser: a fixed bijection that spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Words left out of signatures: the built-in lists of the policy's languages and the policy's own additions, folded
/// as question text is.
public struct StopWords: Sendable, Equatable {
    private var words: Set<[UInt8]>

    /// The stop words of these languages (built-in lists where Paten has one) plus `extra`, by language.
    public init(languages: [String], extra: [String: [String]] = [:]) {
        var words = Set<[UInt8]>()
        for language in languages {
            for word in (Self.builtIn[language] ?? []) + (extra[language] ?? []) {
                let folded = KeywordText(word)
                for range in folded.words { words.insert(Array(folded.bytes[range])) }
            }
        }
        self.words = words
    }

    /// Whether a folded word is a stop word.
    public func contains(_ word: [UInt8]) -> Bool { words.contains(word) }

    /// Short function-word lists (articles, pronouns, auxiliaries, prepositions, conjunctions, question words and
    /// politeness; negations stay, since "no data" is not "data", and so do times such as "this morning", which
    /// reports of one outage share) for the languages of the default policy: enough to keep them out of similarity, not a full
    /// linguistic list. `surge.stop_words` adds words per language.
    public static let builtIn: [String: [String]] = [
        "en": """
        a about after again all also am an and any are as at be because been before being but by can could did do \
        does doing done for from get got had has have having he her here hi hello his how i if in into is it its \
        just me my now of on or our please she since so some still than thank thanks that the their them \
        then there these they this those to too up us was we were what when where which while who why will with \
        would you your yours anyone help
        """.split(separator: " ").map(String.init),
        "de": """
        aber alle allem als also am an auch auf aus bei bin bis bitte bist da dann das dass dem den der des die \
        dies diese diesem dieser doch du durch ein eine einem einen einer eines er es etwas euch für gibt habe haben \
        hallo hat hatte hier ich ihr im in ist ja jemand kann können man mehr mein meine \
        meinem meinen meiner mich mir mit nach noch nur ob oder schon sehr seit sich sie sind so um \
        und uns unser von vor war was weil wenn wer wie wieder wir wird wo zu zum zur danke hilfe leider \
        mal seid
        """.split(separator: " ").map(String.init),
        "fr": """
        au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais me mes moi mon nos \
        notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous \
        bonjour merci depuis est suis sont ai avez
        """.split(separator: " ").map(String.init),
        "es": """
        a al algo con de del el ella ellos en es esta este estoy hay la las le lo los me mi mis nos o para \
        pero por que se si sin su sus te tengo tu un una uno y ya hola gracias desde hoy
        """.split(separator: " ").map(String.init),
        "it": """
        a al alla ce che chi ci con da dal del della di e gli ha ho il in io la le lo ma mi mio nel per più \
        quando se si sono su ti tu un una uno ciao grazie da oggi
        """.split(separator: " ").map(String.init),
        "nl": """
        aan al bij dat de die dit een en er het hij hoe ik in is je kan maar me met mijn na nog of om op \
        te tot uit van voor wat we wel zijn zo hallo bedankt sinds vandaag
        """.split(separator: " ").map(String.init),
        "pl": """
        a ale bo by co czy dla do i ich jak jest już mam mi mnie moje na o od po przez się są ta te to tu \
        w we z za że dzień dobry dziękuję od dzisiaj
        """.split(separator: " ").map(String.init),
        "tr": """
        ama bir bu da de daha gibi hem için ile ise ki mi ne neden o şu ve veya ya benim bana merhaba teşekkürler \
        bugün beri
        """.split(separator: " ").map(String.init),
    ]
}
