import Foundation
import HTTPTypes
import Hummingbird
import PatenCore

/// The customer's rating page at the rating link itself (`/v1/ratings/{token}`): GET shows the form and records
/// nothing (mail scanners follow links); the form's POST rates, once. Works without JavaScript; in the question's
/// language where there is a translation (else the browser's, else English). JSON clients keep POSTing JSON.
struct RatingPage: Sendable {
    let desk: SupportDesk
    let links: any ConsoleRepository
    let pages: HTMLPages

    /// The link as its page shows it; nil for an unknown or malformed token (never looked up).
    func link(_ token: String) async throws -> RatingLinkView? {
        guard let hash = desk.ratingTokenHash(token) else { return nil }
        return try await links.ratingLink(tokenHash: hash)
    }

    /// The page's words in one language.
    struct Words: Sendable {
        var lang: String
        var title: String
        var about: String
        var scoreQuestion: String
        var scoreLabels: [String]
        var solvedQuestion: String
        var yes: String
        var no: String
        var comment: String
        var send: String
        var thanksHeading: String
        var thanks: String
        var usedHeading: String
        var used: String
        var expiredHeading: String
        var expired: String
        var invalidHeading: String
        var invalid: String
        var chooseScore: String
        var commentTooLong: String

        var values: [String: Any] {
            [
                "about": about, "scoreQuestion": scoreQuestion, "solvedQuestion": solvedQuestion, "yes": yes, "no": no,
                "comment": comment, "send": send,
            ]
        }
    }

    static let words: [String: Words] = [
        "en": english, "de": german, "fr": french, "es": spanish,
    ]

    static let english = Words(
        lang: "en", title: "Rate the answer", about: "Your question:",
        scoreQuestion: "How happy are you with the answer?",
        scoreLabels: ["very unhappy", "unhappy", "neutral", "happy", "very happy"],
        solvedQuestion: "Did this solve your problem?", yes: "Yes", no: "No",
        comment: "Anything you would like to add? (optional)", send: "Send rating", thanksHeading: "Thank you",
        thanks: "Your rating has been recorded. It helps the people who answer questions get better at it.",
        usedHeading: "Already rated", used: "This answer has been rated already. Thank you for your feedback.",
        expiredHeading: "This link has expired",
        expired: "Rating links last 30 days, and this one is older. Thank you all the same.",
        invalidHeading: "This link is not valid",
        invalid: "We could not find this rating link. Check that the whole link was copied from the message.",
        chooseScore: "Choose a rating from 1 to 5 before sending.",
        commentTooLong: "The comment is too long: keep it to 2,000 characters."
    )

    static let german = Words(
        lang: "de", title: "Antwort bewerten", about: "Ihre Frage:",
        scoreQuestion: "Wie zufrieden sind Sie mit der Antwort?",
        scoreLabels: ["sehr unzufrieden", "unzufrieden", "neutral", "zufrieden", "sehr zufrieden"],
        solvedQuestion: "Hat das Ihr Problem gelöst?", yes: "Ja", no: "Nein",
        comment: "Möchten Sie noch etwas ergänzen? (optional)", send: "Bewertung senden",
        thanksHeading: "Vielen Dank",
        thanks: "Ihre Bewertung ist gespeichert. Sie hilft den Menschen, die Fragen beantworten, besser zu werden.",
        usedHeading: "Bereits bewertet", used: "Diese Antwort wurde bereits bewertet. Danke für Ihre Rückmeldung.",
        expiredHeading: "Dieser Link ist abgelaufen",
        expired: "Bewertungslinks gelten 30 Tage, dieser ist älter. Trotzdem vielen Dank.",
        invalidHeading: "Dieser Link ist ungültig",
        invalid: "Wir konnten diesen Bewertungslink nicht finden. Prüfen Sie, ob der ganze Link kopiert wurde.",
        chooseScore: "Wählen Sie vor dem Senden eine Bewertung von 1 bis 5.",
        commentTooLong: "Der Kommentar ist zu lang: bitte höchstens 2.000 Zeichen."
    )

    static let french = Words(
        lang: "fr", title: "Évaluer la réponse", about: "Votre question :",
        scoreQuestion: "Êtes-vous satisfait de la réponse ?",
        scoreLabels: ["très insatisfait", "insatisfait", "neutre", "satisfait", "très satisfait"],
        solvedQuestion: "Votre problème est-il résolu ?", yes: "Oui", no: "Non",
        comment: "Souhaitez-vous ajouter quelque chose ? (facultatif)", send: "Envoyer l’évaluation",
        thanksHeading: "Merci",
        thanks: "Votre évaluation est enregistrée. Elle aide les personnes qui répondent aux questions à progresser.",
        usedHeading: "Déjà évaluée", used: "Cette réponse a déjà été évaluée. Merci pour votre retour.",
        expiredHeading: "Ce lien a expiré",
        expired: "Les liens d’évaluation sont valables 30 jours, celui-ci est plus ancien. Merci tout de même.",
        invalidHeading: "Ce lien n’est pas valide",
        invalid: "Nous ne trouvons pas ce lien d’évaluation. Vérifiez que le lien a été copié en entier.",
        chooseScore: "Choisissez une note de 1 à 5 avant d’envoyer.",
        commentTooLong: "Le commentaire est trop long : 2 000 caractères au plus."
    )

    static let spanish = Words(
        lang: "es", title: "Valorar la respuesta", about: "Su pregunta:",
        scoreQuestion: "¿Está satisfecho con la respuesta?",
        scoreLabels: ["muy insatisfecho", "insatisfecho", "neutral", "satisfecho", "muy satisfecho"],
        solvedQuestion: "¿Se ha resuelto su problema?", yes: "Sí", no: "No",
        comment: "¿Quiere añadir algo? (opcional)", send: "Enviar valoración", thanksHeading: "Gracias",
        thanks: "Su valoración se ha guardado. Ayuda a quienes responden preguntas a hacerlo cada vez mejor.",
        usedHeading: "Ya valorada", used: "Esta respuesta ya se ha valorado. Gracias por su opinión.",
        expiredHeading: "Este enlace ha caducado",
        expired: "Los enlaces de valoración duran 30 días y este es más antiguo. Gracias de todos modos.",
        invalidHeading: "Este enlace no es válido",
        invalid: "No encontramos este enlace de valoración. Compruebe que ha copiado el enlace completo.",
        chooseScore: "Elija una valoración del 1 al 5 antes de enviar.",
        commentTooLong: "El comentario es demasiado largo: como máximo 2.000 caracteres."
    )

    /// The words for the question's language, else the first the browser accepts that there are words for, else
    /// English.
    static func words(language: String?, request: Request) -> Words {
        if let language, let found = words[String(language.prefix(2)).lowercased()] { return found }
        // A customer's browser (or anyone) sends what it likes here: `;`, `,,` or nothing must not break the page.
        let accepted = (request.headers[.acceptLanguage] ?? "").split(separator: ",").map {
            String(($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).prefix(2)).lowercased()
        }
        for code in accepted { if let found = words[code] { return found } }
        return english
    }

    /// `GET /v1/ratings/{token}`: the form, or why there is none. Changes nothing.
    func show(_ request: Request, token: String) async throws -> Response {
        guard let link = try await link(token) else {
            let words = Self.words(language: nil, request: request)
            return pages.message(words.invalidHeading, words.invalid, status: .notFound, lang: words.lang)
        }
        let words = Self.words(language: link.language, request: request)
        switch RatingRules.state(used: link.used, expiresAt: link.expiresAt, at: desk.now()) {
        case .used: return page(words, heading: words.usedHeading, subject: link.subject, text: words.used)
        case .expired:
            return page(words, heading: words.expiredHeading, subject: link.subject, text: words.expired, status: .gone)
        case .open: return form(words, subject: link.subject)
        }
    }

    /// The form's `POST /v1/ratings/{token}`: rates once; every refusal is a page in words.
    func submit(_ request: Request, token: String) async throws -> Response {
        let link = try await link(token)
        let words = Self.words(language: link?.language, request: request)
        guard let link else {
            return pages.message(words.invalidHeading, words.invalid, status: .notFound, lang: words.lang)
        }
        let form = try await FormBody.read(request)
        guard let score = form["score"].flatMap({ Int($0) }), (1...5).contains(score) else {
            return self.form(words, subject: link.subject, error: words.chooseScore, status: .unprocessableContent, sent: form)
        }
        let solved: Bool? =
            switch form["solved"] {
            case "yes": true
            case "no": false
            default: nil
            }
        do {
            let rating = try await desk.rate(token: token, score: score, comment: form["comment"], solved: solved)
            RatingController.count(rating)
        } catch let error as PatenError {
            switch error.code {
            case "already_rated":
                return page(words, heading: words.usedHeading, subject: link.subject, text: words.used, status: .conflict)
            case "rating_expired":
                return page(words, heading: words.expiredHeading, subject: link.subject, text: words.expired, status: .gone)
            case "comment_too_long":
                return self.form(
                    words, subject: link.subject, error: words.commentTooLong, status: .unprocessableContent, sent: form
                )
            case "rating_not_found":
                return pages.message(words.invalidHeading, words.invalid, status: .notFound, lang: words.lang)
            default:
                throw error
            }
        }
        return page(words, heading: words.thanksHeading, subject: link.subject, text: words.thanks)
    }

    /// The form; after a refusal, with what was sent so that nothing has to be typed again.
    private func form(
        _ words: Words, subject: String, error: String? = nil, status: HTTPResponse.Status = .ok, sent: FormBody? = nil
    ) -> Response {
        var values = base(words, heading: words.title, subject: subject)
        values["form"] = true
        if let error { values["error"] = error }
        let chosen = sent?["score"]
        values["scores"] = (1...5).map {
            ["value": $0, "label": words.scoreLabels[$0 - 1], "checked": chosen == String($0)] as [String: Any]
        }
        values["solvedYes"] = sent?["solved"] == "yes"
        values["solvedNo"] = sent?["solved"] == "no"
        if let comment = sent?["comment"] { values["comment"] = comment }
        return pages.response("rating", values, status: status)
    }

    private func page(
        _ words: Words, heading: String, subject: String, text: String, status: HTTPResponse.Status = .ok
    ) -> Response {
        var values = base(words, heading: heading, subject: subject)
        values["text"] = text
        return pages.response("rating", values, status: status)
    }

    private func base(_ words: Words, heading: String, subject: String) -> [String: Any] {
        ["lang": words.lang, "title": heading, "heading": heading, "subject": subject, "t": words.values]
    }
}
