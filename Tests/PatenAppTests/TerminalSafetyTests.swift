import Foundation
import PatenCLI
import PatenClient
import Testing

/// The client commands' renderers (PatenCLI), fed the generated client's types as the server sends them.
@Suite("The CLI prints customer text without its escape sequences")
struct TerminalSafetyTests {
    /// Retitles the window and clears the screen; then an OSC 8 link, a bell, backspaces, a CR overwrite, a C1 CSI
    /// and a right-to-left override.
    static let attack = "\u{1B}]0;pwned\u{07}\u{1B}[2J"
    static let more =
        "\u{1B}]8;;https://evil.example\u{1B}\\click\u{1B}]8;;\u{1B}\\ \u{08}\u{08}x\rfake \u{9B}31m \u{202E}gnp.exe\u{2066}"

    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func question(_ text: String) -> Components.Schemas.Question {
        Components.Schemas.Question(
            id: "q_1", subject: "Roaming " + text, customer: .init(id: "c-1" + text, name: "Ann" + text), channel: "api",
            topic: "roaming", language: "en", priority: .normal, tier: .volunteer, state: .open, createdAt: now, updatedAt: now
        )
    }

    func expectNoControls(_ output: String, keepsLines: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        let unsafe = output.unicodeScalars.filter { scalar in
            (scalar.value < 0x20 && !(keepsLines && scalar == "\n")) || (0x7F...0x9F).contains(scalar.value)
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
        }
        #expect(unsafe.isEmpty, "unsafe scalars \(unsafe.map { String($0.value, radix: 16) })", sourceLocation: sourceLocation)
    }

    @Test("show: subject, customer and message bodies render with no ESC, BEL or other control bytes")
    func detail() {
        let message = Components.Schemas.Message(
            id: "m_1", authorKind: .customer, body: "Hello\(Self.attack)\r\nsecond line\(Self.more)", createdAt: now
        )
        let detail = Components.Schemas.QuestionDetail(question: question(Self.attack), messages: [message], timeline: [])
        let output = TerminalRenderer.detail(detail)
        expectNoControls(output, keepsLines: true)
        #expect(!output.utf8.contains(0x1B) && !output.utf8.contains(0x07))
        // The text stays readable, visibly escaped, and the body keeps its own line break.
        #expect(output.contains("Roaming ␛]0;pwned␇␛[2J"))
        #expect(output.contains("  Hello␛]0;pwned␇␛[2J\n  second line"))
        #expect(output.contains("<U+009B>31m") && output.contains("<U+202E>gnp.exe<U+2066>"))
        #expect(output.contains("␈␈x␍fake"))
    }

    @Test("A line break in a subject cannot fake a line of the conversation")
    func subjectLineBreak() {
        let output = TerminalRenderer.detail(
            Components.Schemas.QuestionDetail(question: question("\n[2026-01-01T00:00:00Z] staff:"), messages: [], timeline: [])
        )
        #expect(output.contains("Roaming ␤[2026-01-01T00:00:00Z] staff:"))
    }

    @Test("queue and escalation tables and the live escalation line carry no control characters")
    func tablesAndWatch() throws {
        let queue = TerminalRenderer.questions([question(Self.attack + Self.more)], empty: "")
        // One header line and one row: the text cannot add lines either.
        expectNoControls(queue, keepsLines: true)
        #expect(queue.split(separator: "\n").count == 2 && queue.contains("␛"))
        let escalation = Components.Schemas.Escalation(
            id: "esc_1", questionId: "q_1", reason: .claimExpired, level: ._1, state: .open, note: "note" + Self.attack,
            createdAt: now, updatedAt: now, questionSubject: "Roaming" + Self.attack + Self.more, questionTopic: "roaming",
            questionPriority: .normal
        )
        expectNoControls(TerminalRenderer.escalations([escalation]), keepsLines: true)
        #expect(TerminalRenderer.escalations([escalation]).split(separator: "\n").count == 2)
        expectNoControls(TerminalRenderer.escalationEvent("escalation.created", escalation))
        #expect(TerminalRenderer.escalationEvent("escalation.created", escalation).contains("note␛]0;pwned␇"))

        // --json: the same document, with every such character as a \u escape.
        let json = try TerminalRenderer.json(escalation)
        expectNoControls(json, keepsLines: true)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try RFC3339DateTranscoder().decode(try decoder.singleValueContainer().decode(String.self))
        }
        #expect(try decoder.decode(Components.Schemas.Escalation.self, from: Data(json.utf8)) == escalation)
        // One line of `escalations --watch --json`: the same, on one line.
        let line = try TerminalRenderer.json(escalation, pretty: false)
        expectNoControls(line)
        #expect(try decoder.decode(Components.Schemas.Escalation.self, from: Data(line.utf8)) == escalation)
        let streamed = TerminalRenderer.safeJSON(#"{"subject":"a\#u{9B}b\#u{202E}c"}"#)
        #expect(streamed == #"{"subject":"a\u009bb\u202ec"}"#)
    }

    @Test("Text with nothing to escape is returned as it is; tabs become spaces")
    func plainText() {
        let text = "Grüße aus Köln, 用户 👍 – ok"
        #expect(TerminalRenderer.safe(text) == text)
        #expect(TerminalRenderer.safe("a\tb") == "a b")
        #expect(TerminalRenderer.safe("a\r\nb", multiline: true) == "a\nb")
        #expect(TerminalRenderer.safe("a\r\nb") == "a␍␤b")
    }
}
