"""The verify page's words in English, French, Italian and German, picked from ``Accept-Language``."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "en"

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Confirm your phone number",
        "instructions": "Send this code by SMS from your phone to {number}.",
        "device_instructions": "Open the app on your phone and send the code it shows by SMS to {number}.",
        "code_label": "Your code",
        "send": "Send SMS",
        "qr": "On a computer? Scan this with your phone's camera to send the SMS.",
        "waiting": "Waiting for your SMS…",
        "expires_in": "Expires in {time}",
        "attempts_left": "Attempts left: {count}",
        "wrong_code": "That code was not right. Attempts left: {count}",
        "verified": "Your phone number is confirmed. You can go back to the app.",
        "failed": "Too many wrong codes. Go back to the app to start again.",
        "expired": "This code has expired. Go back to the app to get a new one.",
        "canceled": "This confirmation was canceled. Go back to the app.",
        "reconnecting": "Connection lost, reconnecting…",
        "sender_mismatch": "An SMS with this code came from another number ({sender}). Send it from the phone this page is for.",
        "not_found": "This link is no longer valid. Go back to the app to get a new one.",
    },
    "fr": {
        "title": "Confirmez votre numéro de téléphone",
        "instructions": "Envoyez ce code par SMS depuis votre téléphone au {number}.",
        "device_instructions": "Ouvrez l'application sur votre téléphone et envoyez le code qu'elle affiche par SMS au {number}.",
        "code_label": "Votre code",
        "send": "Envoyer le SMS",
        "qr": "Sur un ordinateur ? Scannez ceci avec l'appareil photo de votre téléphone pour envoyer le SMS.",
        "waiting": "En attente de votre SMS…",
        "expires_in": "Expire dans {time}",
        "attempts_left": "Essais restants : {count}",
        "wrong_code": "Ce code n'était pas le bon. Essais restants : {count}",
        "verified": "Votre numéro est confirmé. Vous pouvez revenir à l'application.",
        "failed": "Trop de codes erronés. Revenez à l'application pour recommencer.",
        "expired": "Ce code a expiré. Revenez à l'application pour en obtenir un nouveau.",
        "canceled": "Cette confirmation a été annulée. Revenez à l'application.",
        "reconnecting": "Connexion perdue, reconnexion…",
        "sender_mismatch": "Un SMS avec ce code est venu d'un autre numéro ({sender}). Envoyez-le depuis le téléphone de cette page.",
        "not_found": "Ce lien n'est plus valable. Revenez à l'application pour en obtenir un nouveau.",
    },
    "it": {
        "title": "Conferma il tuo numero di telefono",
        "instructions": "Invia questo codice via SMS dal tuo telefono al {number}.",
        "device_instructions": "Apri l'app sul tuo telefono e invia via SMS il codice che mostra al {number}.",
        "code_label": "Il tuo codice",
        "send": "Invia SMS",
        "qr": "Sei su un computer? Inquadra questo codice con la fotocamera del telefono per inviare l'SMS.",
        "waiting": "In attesa del tuo SMS…",
        "expires_in": "Scade tra {time}",
        "attempts_left": "Tentativi rimasti: {count}",
        "wrong_code": "Il codice non era corretto. Tentativi rimasti: {count}",
        "verified": "Il tuo numero è confermato. Puoi tornare all'app.",
        "failed": "Troppi codici errati. Torna all'app per ricominciare.",
        "expired": "Questo codice è scaduto. Torna all'app per riceverne uno nuovo.",
        "canceled": "Questa conferma è stata annullata. Torna all'app.",
        "reconnecting": "Connessione persa, riconnessione…",
        "sender_mismatch": "Un SMS con questo codice è arrivato da un altro numero ({sender}). Invialo dal telefono di questa pagina.",
        "not_found": "Questo link non è più valido. Torna all'app per riceverne uno nuovo.",
    },
    "de": {
        "title": "Bestätigen Sie Ihre Telefonnummer",
        "instructions": "Senden Sie diesen Code per SMS von Ihrem Telefon an {number}.",
        "device_instructions": "Öffnen Sie die App auf Ihrem Telefon und senden Sie den angezeigten Code per SMS an {number}.",
        "code_label": "Ihr Code",
        "send": "SMS senden",
        "qr": "Am Computer? Scannen Sie dies mit der Kamera Ihres Telefons, um die SMS zu senden.",
        "waiting": "Warten auf Ihre SMS…",
        "expires_in": "Läuft ab in {time}",
        "attempts_left": "Verbleibende Versuche: {count}",
        "wrong_code": "Dieser Code war falsch. Verbleibende Versuche: {count}",
        "verified": "Ihre Telefonnummer ist bestätigt. Sie können zur App zurückkehren.",
        "failed": "Zu viele falsche Codes. Kehren Sie zur App zurück, um neu zu beginnen.",
        "expired": "Dieser Code ist abgelaufen. Kehren Sie zur App zurück, um einen neuen zu erhalten.",
        "canceled": "Diese Bestätigung wurde abgebrochen. Kehren Sie zur App zurück.",
        "reconnecting": "Verbindung verloren, neuer Versuch…",
        "sender_mismatch": "Eine SMS mit diesem Code kam von einer anderen Nummer ({sender}). Senden Sie sie vom Telefon dieser Seite.",
        "not_found": "Dieser Link ist nicht mehr gültig. Kehren Sie zur App zurück, um einen neuen zu erhalten.",
    },
}


def language_of(accept_language: str) -> str:
    """The supported language the browser prefers most (RFC 9110 weights, ties to the first
    listed); English when it names none of them."""
    preferred: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, *parameters = item.split(";")
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in TEXTS and weight > 0:
            preferred.append((-weight, position, language))
    return min(preferred)[2] if preferred else DEFAULT_LANGUAGE
