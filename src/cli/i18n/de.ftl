# Die deutschen Meldungen der Kommandozeile. Dieselben Ids wie en.ftl.
# Die Wörter sind die der Weboberfläche: Namensraum, zurückziehen,
# veraltet, Ableitung (Fork), Original (Upstream), Eigentümer/in,
# Veröffentlicher/in, Formular, Prozess, Feldgruppe.

## Der Rahmen um jeden Fehler, und die Fehler des Clients

error = Fehler: { $message }
warning = Warnung: { $message }
diagnostic = { $place }: { $severity ->
    [warning] Warnung
   *[error] Fehler
}[{ $code }]: { $message }
registry-failed = die Registry hat einen Fehler: { $message }
no-token = kein API-Token: GEMEINWERK_TOKEN setzen oder `gemeinwerk login` aufrufen
advisory-warning = Warnung: Hinweis zu { $package } { $version } ({ $kind }, { $severity }): { $text } (behoben in: { $fixed })
advisories-denied = { $count } Hinweise betreffen gesperrte Versionen (--deny-advisories)
advisories-unchecked = Warnung: Hinweise nicht geprüft, die Registry hat nicht geantwortet: { $error }
ci-id-token-failed = Trusted Publishing: {$detail}
unreachable = die Registry unter { $registry } ist nicht erreichbar
unreachable-offline = die Registry unter { $registry } ist nicht erreichbar (mit gefülltem Cache geht es mit --offline auch ohne sie)
bad-answer = die Registry unter { $registry } hat eine unlesbare Antwort geschickt
bad-index = index/{ $file } von { $registry } ist unlesbar
index-status = die Registry unter { $registry } hat auf index/{ $file } mit HTTP { $status } geantwortet
not-a-registry = { $registry } hat keine index/config.json; ist das eine gemeinwerk-Registry?
index-not-cached = --offline: index/{ $file } von { $registry } ist weder im Cache noch im Vendor-Ordner; einmal mit Netz aufrufen oder `gemeinwerk vendor` verwenden
archives-not-cached = --offline, aber { $count ->
    [one] { $count } Archiv ist
   *[other] { $count } Archive sind
} weder im Cache ({ $cache }) noch im Vendor-Ordner: { $labels }
no-home = weder { $var } noch HOME ist gesetzt; { $what ->
    [cache] der Cache
    [token] das gespeicherte Token
   *[other] { $what }
} braucht ein Home-Verzeichnis
cannot-read = { $path } lässt sich nicht lesen
cannot-write = { $path } lässt sich nicht schreiben
cannot-create = { $path } lässt sich nicht anlegen
cannot-create-in = in { $dir } lässt sich kein Ordner anlegen
cannot-remove = { $path } lässt sich nicht löschen
not-a-package = { $dir } hat keine gemeinwerk.toml; im Paketordner aufrufen oder einen angeben
no-project = { $dir } hat keine gemeinwerk.toml; die erste Abhängigkeit mit `gemeinwerk add NS/NAME` hinzufügen
symlink = { $path } ist ein symbolischer Link; Pakete dürfen nur gewöhnliche Dateien enthalten
lockfile-unreadable = { $file } ist unlesbar; nichts wurde geändert
no-solution = die Abhängigkeiten lassen sich nicht auflösen:
download-refused = { $label } lässt sich nicht von { $url } herunterladen: HTTP { $status }
download-failed = das Herunterladen von { $label } von { $url } ist fehlgeschlagen
truncated = { $label } von { $url }: { $why }; es wurde nicht verwendet
checksum-mismatch = die Prüfsumme von { $label } stimmt nicht: { $by ->
    [lock] gemeinwerk.lock nennt
   *[index] der Index nennt
} sha256 { $expected }, der Download von { $url } hat aber sha256 { $got }; er wurde unterwegs verändert oder beschädigt und nicht verwendet
unusable-archive = das Archiv von { $label } ist unbrauchbar
wrong-prefix = das Archiv von { $label } enthält „{ $prefix }/“ statt „{ $expected }/“
untouched = { $dest } blieb unverändert
bad-add-spec = „{ $spec }“ lässt sich nicht hinzufügen: { $why }; NS/NAME oder NS/NAME@ANFORDERUNG schreiben, z. B. kassel/bewohnerparkausweis@^1.0
bad-requirement = „{ $spec }“ lässt sich nicht hinzufügen: „{ $req }“ ist keine Versionsanforderung ({ $why }); zum Beispiel ^1.2 oder =1.0.3
dest-not-a-folder = --dest { $dest } nennt keinen Ordner
folder-not-empty = { $dir } gibt es schon und ist nicht leer; mit --dir einen anderen Ordner nennen
upstream-not-utf8 = das Manifest des Originals ist kein UTF-8
bad-upstream-version = die Registry nennt eine Version „{ $version }“ des Originals: { $why }

## Wörter, die mehrere Befehle brauchen

kind = { $kind ->
    [form] Formular
    [process] Prozess
    [fieldgroup] Feldgruppe
   *[other] { $kind }
}
role = { $role ->
    [owner] Eigentümer/in
    [publisher] Veröffentlicher/in
   *[other] { $role }
}
size = { $value } { $unit }
size-bytes = { $count ->
    [one] { $count } Byte
   *[other] { $count } Bytes
}
problems-found = { $errors } Fehler{ $warnings ->
    [0] {""}
    [one] , { $warnings } Warnung
   *[other] , { $warnings } Warnungen
}
check-failed = die Prüfung hat { $problems } gefunden
no-such-version = { $package } hat keine Version { $version }
spec-no-version = „{ $spec }“ nennt keine Version; so schreiben: { $package }@1.0.0
member-removed = { $login } aus { $namespace } entfernt
cannot-read-package = { $dir } lässt sich nicht lesen

## login, new, validate, diff, package, publish, yank, deprecate, info

login-prompt = Das API-Token für { $registry } einfügen und Enter drücken:
login-stdin = das Token lässt sich nicht von der Standardeingabe lesen
login-not-a-token = das sieht nicht wie ein gemeinwerk-Token aus (gw_…)
login-stored = Token gespeichert in { $path }
logout-removed = das Token für { $registry } wurde aus { $path } entfernt
logout-none = für { $registry } ist kein Token gespeichert
new-unknown-kind = unbekannte Art „{ $kind }“
new-not-empty = { $dir } gibt es schon und ist kein leerer Ordner; mit --dir einen anderen wählen
new-created = Paket { $name } ({ $kind }) in { $dir } angelegt
    weiter: die Platzhalter (…) ausfüllen, dann `gemeinwerk validate { $dir }` aufrufen
valid = { $label } ist gültig
valid-without-deps = { $label } ist gültig (ohne seine Abhängigkeiten zu prüfen)
diff-bad-side = „{ $arg }“ ist weder ein Paketordner noch NS/NAME@VERSION
diff-unreadable = { $label } lässt sich nicht als Paket lesen
diff-no-changes = keine Änderungen
diff-count = { $count } { $level ->
    [major] größere
    [minor] mittlere
   *[patch] kleine
}
diff-counts = { $counts } { $total ->
    [one] Änderung
   *[other] Änderungen
}
diff-bump = { $level ->
    [major] nötig ist eine neue Hauptversion (major)
    [minor] nötig ist eine neue Nebenversion (minor)
   *[patch] nötig ist eine neue Patch-Version (patch)
}
packed = { $file } gepackt ({ $size })
publish-dry-run = { $label } kann veröffentlicht werden (Probelauf, nichts hochgeladen); sha256 { $cksum }
published = { $label } veröffentlicht
yanked = { $label } zurückgezogen
unyanked = { $label } nicht mehr zurückgezogen
deprecated = { $package } ist als veraltet markiert
undeprecated = { $package } ist nicht mehr als veraltet markiert
deprecated-mark = [veraltet]
info-deprecated = VERALTET: { $message }
info-downloads = { $count ->
    [one] { $count } Download
   *[other] { $count } Downloads
}
info-yanked = zurückgezogen: { $reason }
info-no-reason = ohne Begründung
info-forked-from = abgeleitet von { $upstream }

## owner, audit, search

member-set = { $login } ist jetzt { $role } von { $namespace }
audit-from = von { $addr }
search-summary = { $shown } von { $total ->
    [one] { $total } Paket
   *[other] { $total } Paketen
}

## fork und das Netz der Ableitungen

forked = { $upstream }@{ $version } als { $target } in { $dir } abgeleitet { $history ->
    [yes] (ein Git-Repository mit der Geschichte des Originals)
   *[no] (ohne Geschichte: git ist nicht verfügbar)
}
forked-next = anpassen, dann in diesem Ordner `gemeinwerk validate` und `gemeinwerk publish` aufrufen
network-base = abgeleitet von { $base } ({ $behind ->
    [0] das Original hat keine neuere Version
    [one] das Original hat { $behind } neuere Version
   *[other] das Original hat { $behind } neuere Versionen
})
network-builds-on = das auf { $package } aufbaut
network-forks = Ableitungen:
network-fork = { $package }  von { $base }  ({ $behind ->
    [one] { $behind } Version zurück
   *[other] { $behind } Versionen zurück
})

## upstream

manifest-not-utf8 = { $file } ist kein UTF-8
manifest-problems = das Manifest hat Probleme; erst diese beheben
not-a-fork = { $dir } ist keine Ableitung: seine { $file } hat kein [forked-from]
no-newer-release = { $upstream } hat keine neuere Version als { $version }; nichts zu tun
upstream-unreadable = eine Version des Originals lässt sich nicht als Paket lesen
upstream-builds-on = baut auf { $upstream } auf
upstream-advisory = Hinweis zur Basis ({ $kind }, { $severity }): { $text } (behoben in: { $fixed })
upstream-up-to-date = aktuell: das Original hat keine neuere Version
merge-in-progress = eine Zusammenführung läuft ({ $file } ist da): erst ihre Konflikte lösen
merge-no-name = das zusammengeführte Manifest hat keinen [package]-Namen
merge-bad-version = der Index nennt eine Version „{ $version }“ des Originals
merge-taken = übernommen: { $change }
merge-conflict = KONFLIKT { $conflict }
merge-conflicts-left = { $count ->
    [one] { $count } Konflikt bleibt
   *[other] { $count } Konflikte bleiben
}; jeden mit `gemeinwerk upstream resolve PFAD --ours|--theirs` lösen (oder die Dateien bearbeiten und seinen Eintrag aus { $file } entfernen)
merge-problems = { $label } zusammengeführt, das Ergebnis hat aber { $problems }; vor dem Veröffentlichen beheben
merged = { $upstream } { $from } → { $to } zusammengeführt; der Ordner ist gültig
resolved-done = { $path } gelöst; keine Konflikte mehr — jetzt `gemeinwerk validate` aufrufen
resolved-open = { $path } gelöst; { $count ->
    [one] { $count } Konflikt bleibt
   *[other] { $count } Konflikte bleiben
}

## add, lock, fetch, vendor

lock-missing = { $dir } hat keine { $lock }; `gemeinwerk lock` aufrufen und die Lock-Datei einchecken
lock-mismatch = { $lock } passt nicht mehr zu { $manifest } ({ $why }); `gemeinwerk lock` aufrufen und die Lock-Datei einchecken
add-unknown = { $package } gibt es in der Registry unter { $registry } nicht
add-no-match = keine veröffentlichte, nicht zurückgezogene Version von { $package } passt zu { $req }
add-all-yanked = jede Version von { $package } ist zurückgezogen
add-cannot-edit = { $path } lässt sich nicht bearbeiten: { $error }
add-would-break = nach der Änderung wäre { $path } fehlerhaft: { $problem }
added = { $package } = "{ $req }" zu { $path } hinzugefügt
lock-updated = aktualisiert { $name } { $from } → { $to }
lock-locked = festgelegt { $name } { $version }
lock-summary = { $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
} in { $path } (Index: { $fetched } geladen, { $unchanged } unverändert)
fetch-heading = Herunterladen
fetch-downloaded = { $label } heruntergeladen ({ $size })
fetch-summary = { $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
} nach { $dest } geholt: { $downloaded } heruntergeladen ({ $size }), { $cached } aus dem Cache
vendored = { $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
} nach { $dir } gelegt; ohne Netz: gemeinwerk fetch --locked --offline --vendored { $dir }

## import, export

import-failed = { $file }: { $error }; nichts wurde geschrieben
import-codelist = Codeliste { $name } { $version } mit { $codes } Codes (Version der Liste: { $source })
import-codelists-not-asked = Die Registry ließ sich nicht nach Codelisten- und Feldgruppen-Paketen fragen ({ $error }); die Verweise ins XRepository bleiben, die Feldgruppen werden kopiert
import-wrote = { $dir } geschrieben; bitte durchsehen, dann `gemeinwerk validate { $dir }`
file-too-large = { $file }: die Datei hat mehr als { $limit } Bytes; gelesen werden höchstens { $limit } Bytes; nichts wurde geschrieben
folder-exists = { $dir } gibt es schon; mit --dir einen neuen Ordner nennen; nichts wurde geschrieben
export-offline = die Registry unter { $registry } ist nicht erreichbar ({ $why }); eingebundene Feldgruppen und Codelisten-Pakete werden nicht aufgelöst

## serve (was ein Mensch im Terminal liest; das Protokoll bleibt englisch)

serve-cannot-listen = { $bind } lässt sich nicht belegen
serve-cannot-seed = die Demodaten lassen sich nicht anlegen
serve-demo-seeded = Demodaten angelegt. API-Tokens (nur jetzt gezeigt, auch in { $file }):
serve-demo-skipped = Die Registry ist nicht leer; keine Demodaten angelegt.
serve-listening = gemeinwerk lauscht auf { $url }
serve-stopped = der Server ist mit einem Fehler beendet worden
serve-gave-up-waiting = nach { $secs } s Warten auf die Speicher aufgegeben (--wait-for-stores-secs)

## admin

duration-invalid = „{ $value }“ ist keine Dauer wie 90d, 12h oder 4w
duration-unit = „{ $value }“ ist keine Dauer wie 90d, 12h oder 4w (Einheiten: m, h, d, w)
admin-namespace-added = Namensraum { $slug } angelegt
admin-user-added = Benutzer/in { $login } angelegt
admin-user-removed = Benutzer/in { $login } entfernt: { $tokens } Tokens widerrufen, aus { $namespaces } Namensräumen ausgetragen
member-is = { $login } ist { $role } von { $namespace }
reindex-index = Git-Index und Paketgeschichten aus der Datenbank neu aufgebaut ({ $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
})
reindex-search = Suchindex aus der Datenbank neu aufgebaut ({ $count ->
    [one] { $count } Paket
   *[other] { $count } Pakete
})
unknown-scope = unbekannte Berechtigung „{ $scope }“; es gibt publish, yank, owners
token-created = Token { $id } für { $login } erstellt; es wird nur jetzt gezeigt:
token-revoked = Token { $id } widerrufen
token-state-active = aktiv
token-state-revoked = widerrufen
token-expires = gültig bis { $at }
token-never-expires = läuft nie ab
token-last-used = zuletzt benutzt { $at }
token-never-used = nie benutzt
fsck-orphans = { $count ->
    [one] { $count } verwaister Blob, den keine Version nennt
   *[other] { $count } verwaiste Blobs, die keine Version nennt
}; --repair löscht die, die älter als eine Stunde sind
fsck-orphans-removed = { $count ->
    [one] { $count } verwaister Blob, den keine Version nennt
   *[other] { $count } verwaiste Blobs, die keine Version nennt
}; { $removed } gelöscht (jüngere als eine Stunde bleiben: vielleicht läuft gerade eine Veröffentlichung)
fsck-checked = { $packages ->
    [one] { $packages } Paket
   *[other] { $packages } Pakete
} und { $archives ->
    [one] { $archives } Archiv
   *[other] { $archives } Archive
} geprüft: { $problems ->
    [one] { $problems } Problem
   *[other] { $problems } Probleme
}
fsck-repaired = { $count } repariert
fsck-disagree = die Speicher widersprechen sich; `gemeinwerk admin fsck --repair` aufrufen

## clap: Hilfe und Fehler im Aufruf

usage-heading = Aufruf
commands-heading = Befehle
arguments-heading = Argumente
options-heading = Optionen
command-placeholder = BEFEHL
help-flag = Hilfe anzeigen
version-flag = Version anzeigen
help-command = Diese Hilfe oder die Hilfe der genannten Befehle anzeigen
help-env = [Umgebungsvariable: { $name }]
help-default = [Standard: { $value }]
help-values = [mögliche Werte: { $values }]
clap-unknown-argument = unerwartetes Argument „{ $arg }“
clap-invalid-value = ungültiger Wert „{ $value }“ für „{ $arg }“
clap-value-missing = „{ $arg }“ braucht einen Wert, aber es wurde keiner angegeben
clap-invalid-subcommand = unbekannter Befehl „{ $name }“
clap-missing-required = diese nötigen Argumente fehlen:
clap-missing-subcommand = „{ $name }“ braucht einen Befehl, aber es wurde keiner angegeben
clap-subcommands = [Befehle: { $names }]
clap-repeated = das Argument „{ $arg }“ darf nur einmal vorkommen
clap-conflict = das Argument „{ $arg }“ geht nicht zusammen mit { $other }
clap-conflict-others = das Argument „{ $arg }“ geht nicht zusammen mit einem der anderen Argumente
clap-too-many = unerwarteter Wert „{ $value }“ für „{ $arg }“; es werden keine weiteren erwartet
clap-wrong-number = falsche Anzahl von Werten für „{ $arg }“: { $actual }
clap-no-equals = „{ $arg }“ braucht ein Gleichheitszeichen vor dem Wert
clap-invalid-utf8 = mindestens ein Argument ist kein gültiges UTF-8
clap-similar = Tipp: es gibt { $what ->
    [subcommand] einen ähnlichen Befehl
    [argument] ein ähnliches Argument
   *[value] einen ähnlichen Wert
}: { $names }
clap-similar-many = Tipp: es gibt { $what ->
    [subcommand] ähnliche Befehle
    [argument] ähnliche Argumente
   *[value] ähnliche Werte
}: { $names }
clap-tip = Tipp: { $tip }
quoted = „{ $text }“
clap-more-info = Mehr dazu mit „{ $help }“.

## Hilfetexte der Befehle (cmd-PFAD) und ihrer Argumente (arg-…)

cmd-gemeinwerk = Formulare und Verfahren teilen: die Paket-Registry für öffentliche Verwaltungen
cmd-serve = Den Registry-Server starten
arg-data-dir = Wo die Registry ihre Daten ablegt
arg-database-url = `postgres://…` für PostgreSQL; sonst SQLite im Datenordner
arg-blob-store = Wohin die Paketarchive gehen: `s3://BUCKET[/PREFIX]` auf S3-kompatiblem Objektspeicher (Zugangsdaten aus AWS_ACCESS_KEY_ID und AWS_SECRET_ACCESS_KEY); sonst der Ordner `blobs` im Datenverzeichnis
arg-s3-endpoint = Der S3-Endpunkt, z. B. `http://127.0.0.1:3900` für einen selbst betriebenen Speicher (sonst AWS_ENDPOINT, ohne diesen AWS S3). Anfragen im Pfad-Stil
arg-s3-region = Die S3-Region (sonst AWS_REGION oder AWS_DEFAULT_REGION, ohne diese us-east-1)
arg-serve-job-lease-secs = Wie lange der Anspruch eines Knotens auf einen Auftrag gilt, in Sekunden: stirbt ein Knoten mitten im Auftrag, übernimmt ihn danach ein anderer
arg-serve-history-cache-repos = Wie viele Paketgeschichten dieser Knoten auf der Platte hält; darüber hinaus gehen die am längsten nicht genutzten und werden bei Bedarf aus der Datenbank neu erstellt
arg-serve-history-cache-grace-secs = So lange bleibt eine kürzlich genutzte Paketgeschichte über diese Zahl hinaus auf der Platte, in Sekunden: ein Client, der ihre Refs gelesen hat, lädt vielleicht noch ihre Packs
arg-serve-rate-limit-sign-in = Anmeldeversuche, die eine Client-Adresse auf diesem Knoten je Minute machen darf; 0 keine Grenze
arg-serve-rate-limit-publish = Veröffentlichungen, die ein Token auf diesem Knoten je Minute machen darf; 0 keine Grenze
arg-serve-rate-limit-token-create = Tokens, die ein Token auf diesem Knoten je Minute erstellen darf; 0 keine Grenze
arg-serve-rate-limit-token-exchange = Token-Tausche beim Trusted Publishing, die eine Client-Adresse auf diesem Knoten je Minute machen darf; 0 keine Grenze
arg-serve-trusted-publishing-issuers = Ein OIDC-Aussteller, dessen CI-ID-Tokens gegen Tokens zum Veröffentlichen getauscht werden dürfen (für mehrere wiederholen); Standard: gitlab.com, gitlab.opencode.de und GitHub Actions
arg-serve-trusted-publishing-audience = Die Zielgruppe (audience), die CI-ID-Tokens nennen müssen (Standard: die öffentliche URL)
arg-serve-identity-config = Eine TOML-Datei mit den Anmeldediensten (`[[provider]]`-Tabellen, siehe docs/identity.md)
arg-serve-oidc-issuer = Der Aussteller eines OpenID-Connect-Anmeldedienstes (mehrere: --identity-config)
arg-serve-oidc-client-id = Die Client-ID dieser Registry bei diesem Anmeldedienst
arg-serve-oidc-client-secret = Das Client-Geheimnis dieser Registry bei diesem Anmeldedienst (besser aus der Umgebung als auf der Befehlszeile)
arg-serve-oidc-name = Der Name des Anmeldedienstes auf der Anmeldeseite
arg-serve-oidc-login-claim = Der Claim des ID-Tokens, der die Kennung liefert
arg-serve-oidc-groups-claim = Der Claim des ID-Tokens, der die Gruppen aufzählt
arg-serve-oidc-group-roles = Eine Gruppe, die eine Rolle in einem Namensraum gibt, als GRUPPE=NAMENSRAUM:ROLLE (für mehrere wiederholen)
arg-serve-trusted-proxies = Ein Proxy oder Lastverteiler, dessen X-Forwarded-For den Client nennt (für mehrere wiederholen); die Kopfzeilen anderer werden nicht beachtet
arg-serve-wait-for-stores-secs = Wie lange beim Start auf PostgreSQL oder den Objektspeicher gewartet wird, wenn sie nicht antworten, in Sekunden; solange antwortet der Knoten mit 503; 0 bricht sofort ab
arg-serve-webhook-allow-private = Webhooks dürfen private, Loopback- und Link-Local-Adressen aufrufen (Empfänger im eigenen Netz des Betreibers; Tests)
arg-serve-webhook-timeout-secs = Wie lange ein Webhook-Versuch dauern darf, Verbindungsaufbau und Lesen der Antwort eingeschlossen, in Sekunden
arg-serve-webhook-retry-base-ms = Die Wartezeit vor dem ersten erneuten Versuch einer gescheiterten Zustellung, in Millisekunden; sie verdoppelt sich mit jedem Versuch, bis zu einer Stunde
arg-serve-webhook-retry-for-secs = Wie lange eine gescheiterte Zustellung wiederholt wird, bevor sie aufgegeben wird, in Sekunden
arg-serve-webhook-pause-after = Gescheiterte Versuche in Folge, nach denen ein Abonnement pausiert, bis es wieder aufgenommen wird
arg-serve-smtp-url = Der SMTP-Server für Mails über Paketereignisse, z. B. smtp://benutzer:passwort@mail.example.de:587?tls=required; ohne ihn wird keine Mail versandt
arg-serve-mail-from = Der Absender dieser Mails, z. B. "gemeinwerk <gemeinwerk@ekom21.de>"
arg-serve-bind = Die Adresse, auf der der Server lauscht
arg-serve-public-url = Die URL, unter der Clients diese Registry erreichen (Standard: http:// + Adresse)
arg-serve-demo = Eine leere Registry mit Demo-Kommunen, -Konten und -Paketen füllen
arg-serve-max-upload-bytes = Größter angenommener Upload, in Bytes
arg-serve-max-unpacked-bytes = Größte entpackte Größe eines Archivs, in Bytes
arg-serve-search-refresh-secs = Wie oft die Downloadzahlen in die Reihenfolge der Suche eingehen, in Sekunden
arg-serve-log-format = `text` (eine Zeile je Ereignis) oder `json` (ein Objekt je Zeile)
arg-serve-downloads-flush-secs = Wie oft gezählte Downloads in die Datenbank geschrieben werden, in Sekunden
arg-serve-index-squash-after = Die Geschichte des Git-Index nach so vielen Commits zu einem Schnappschuss zusammenfassen (die alte Geschichte kommt nach /git/index-archive.git); 0 nie
arg-serve-max-entries = Höchstzahl der Einträge in einem Archiv
cmd-admin = Befehle für den Betrieb, direkt auf den Speichern
cmd-admin-namespace = Namensräume: einer je Kommune oder Anbieter
cmd-admin-namespace-add = Einen Namensraum anlegen
arg-admin-namespace-add-slug = Der Kurzname des Namensraums in Paketnamen, z. B. kassel
arg-admin-namespace-add-name = Der angezeigte Name, z. B. „Stadt Kassel“
arg-admin-namespace-add-ars = Amtlicher Regionalschlüssel (12 Ziffern)
cmd-admin-namespace-list = Die Namensräume auflisten
cmd-admin-user = Benutzer/innen
cmd-admin-user-add = Eine Benutzerin oder einen Benutzer anlegen
cmd-admin-user-remove = Eine Benutzerin oder einen Benutzer entfernen: Tokens widerrufen, Sitzungen beendet, Mitgliedschaften und Anmeldeidentitäten gelöscht; die Kennung bleibt für das Audit-Protokoll
arg-login = Der Login der Benutzerin oder des Benutzers
cmd-admin-member = Mitglieder von Namensräumen
cmd-admin-member-add = Ein Mitglied hinzufügen (oder seine Rolle ändern)
arg-namespace = Der Namensraum, z. B. kassel
arg-role = publisher: darf veröffentlichen und zurückziehen; owner: darf zusätzlich Mitglieder verwalten
cmd-admin-member-remove = Ein Mitglied entfernen
cmd-admin-token = API-Tokens
cmd-admin-token-create = Ein Token erstellen; es wird einmal angezeigt und nie im Klartext gespeichert
arg-admin-token-create-scope = Kommagetrennt: publish, yank, owners
arg-admin-token-create-namespace = Das Token auf einen Namensraum beschränken
arg-admin-token-create-expires-in = Gültigkeitsdauer wie 90d, 12h, 4w
arg-admin-token-create-name = Ein Name, an dem man das Token erkennt, z. B. „ci“
cmd-admin-token-revoke = Ein Token widerrufen, über seine Id oder das Token selbst
arg-admin-token-revoke-token = Die Id des Tokens oder das Token selbst
cmd-admin-token-list = Die Tokens einer Benutzerin oder eines Benutzers auflisten (nie ihre Werte)
cmd-admin-fsck = Den Git-Index und den Blob-Speicher mit der Datenbank vergleichen
arg-admin-fsck-repair = Neu schreiben, was von der Datenbank abweicht
cmd-admin-reindex = Die abgeleiteten Ansichten (den Git-Index, die Paketgeschichten und den Suchindex) aus der Datenbank neu aufbauen. Ein laufender Server wechselt von selbst zum neuen Suchindex
cmd-login = Ein API-Token für eine Registry speichern (von der Standardeingabe gelesen, wenn nicht angegeben)
cmd-logout = Das gespeicherte API-Token einer Registry entfernen
arg-login-token = Das Token (Standard: von der Standardeingabe gelesen, damit es nicht in der Shell-Geschichte landet)
arg-registry = Die Registry, mit der gesprochen wird
arg-json = Maschinenlesbares JSON auf stdout ausgeben
cmd-new = Einen neuen Paketordner mit einem Beispiel anlegen, das `validate` besteht
arg-new-name = NS/NAME des neuen Pakets
arg-new-kind = Was das Paket enthält
arg-new-dir = Der anzulegende Ordner (Standard: ./NAME)
cmd-validate = Einen Paketordner prüfen wie die Registry, mit den Abhängigkeiten aus der Registry, wenn sie erreichbar ist
arg-dir = Der Paketordner (Standard: der aktuelle)
arg-validate-offline = Die Registry nicht fragen; die Abhängigkeiten bleiben ungeprüft
cmd-diff = Die inhaltlichen Änderungen zwischen zwei Versionen zeigen, jede als NS/NAME@VERSION (aus der Registry) oder als Paketordner
arg-diff-a = Die alte Seite
arg-diff-b = Die neue Seite
cmd-package = Das Archiv des Pakets nach DIR/target/package/ bauen
cmd-publish = Einen Paketordner veröffentlichen
arg-publish-dry-run = Prüfen und packen, aber nicht hochladen
arg-publish-no-wait = Antworten, sobald die Version gespeichert ist, ohne zu warten (höchstens 2 s), bis die Suche der Registry sie zeigt
cmd-yank = Eine Version für neue Lock-Dateien sperren (herunterladen lässt sie sich weiter)
arg-spec = Paket und Version, NS/NAME@VERSION
arg-yank-reason = Warum, für die Nutzenden der Version (z. B. „falsche Gebühr“)
cmd-unyank = Das Zurückziehen aufheben
cmd-deprecate = Ein Paket als veraltet markieren, mit einem Hinweis für seine Nutzenden
arg-deprecate-package = Das Paket, NS/NAME
arg-deprecate-message = Was die Nutzenden stattdessen tun sollen (z. B. „kassel/hundesteuer-2 verwenden“)
arg-deprecate-undo = Die Markierung als veraltet aufheben
cmd-search = Pakete suchen: deutsche Wörter, Tippfehler und Teile zusammengesetzter Wörter finden, was gemeint ist („Hunde Steuer“, „Parkauswies“, „Strassenfest“)
arg-search-query = Wonach gesucht wird, in Alltagsdeutsch („Hundesteuer anmelden“)
arg-search-kind = form (Formular), process (Prozess) oder fieldgroup (Feldgruppe)
arg-search-themenfeld = Ein OZG-Themenfeld, z. B. mobilitaet_reisen
arg-search-namespace = Nur Pakete dieses Namensraums, z. B. kassel
arg-search-vertrauensniveau = niedrig, substanziell oder hoch
arg-search-sort = relevance (Relevanz), downloads, updated (zuletzt geändert) oder name
arg-search-page = Die Seite der Treffer, ab 1
arg-search-per-page = Treffer je Seite
arg-search-deprecated = Auch veraltete Pakete zeigen
cmd-info = Ein Paket und seine Versionen zeigen
arg-info-spec = NS/NAME oder NS/NAME@VERSION
cmd-fork = Ein Paket in den eigenen Namensraum ableiten: trägt die Ableitung ein und schreibt einen Arbeitsordner mit der Geschichte des Originals
arg-fork-source = NS/NAME oder NS/NAME@VERSION des Originals
arg-fork-target = NS/NAME der Ableitung
arg-fork-dir = Der zu schreibende Ordner (Standard: der Name der Ableitung)
cmd-upstream = Dem Original folgen, von dem diese Ableitung stammt: status, diff, merge, resolve
cmd-upstream-status = Neuere Versionen des Originals und was sich darin geändert hat
arg-upstream-dir = Der Ordner der Ableitung (Standard: der aktuelle)
cmd-upstream-diff = Die Änderungen von der Version, auf der die Ableitung aufbaut, zu einer neueren
arg-upstream-diff-to = Die Version des Originals, mit der verglichen wird (Standard: die neueste)
cmd-upstream-merge = Änderungen des Originals in den Ordner der Ableitung übernehmen, Eigenschaft für Eigenschaft
arg-upstream-merge-to = Die Version des Originals, die übernommen wird (Standard: die neueste)
cmd-upstream-resolve = Einen Konflikt einer Zusammenführung mit dem Wert der Ableitung oder dem des Originals lösen
arg-upstream-resolve-path = Der Pfad des Konflikts, wie `upstream merge` ihn ausgegeben hat
arg-upstream-resolve-ours = Den Wert der Ableitung behalten
arg-upstream-resolve-theirs = Den Wert des Originals übernehmen
cmd-owner = Die Mitglieder eines Namensraums verwalten
cmd-owner-add = Ein Mitglied hinzufügen (oder seine Rolle ändern)
cmd-owner-remove = Ein Mitglied entfernen
cmd-owner-list = Die Mitglieder auflisten
cmd-audit = Das Protokoll eines Namensraums zeigen (nur für Eigentümer/innen)
arg-audit-limit = Wie viele der jüngsten Einträge gezeigt werden
cmd-add = Eine Abhängigkeit in die gemeinwerk.toml des Projekts eintragen (Kommentare und Aufbau bleiben)
arg-add-spec = NS/NAME oder NS/NAME@ANFORDERUNG (Standard: ^ die neueste nicht zurückgezogene Version)
arg-project = Der Projektordner, mit gemeinwerk.toml (und gemeinwerk.lock)
cmd-lock = Den ganzen Abhängigkeitsgraphen auflösen und gemeinwerk.lock schreiben
arg-lock-update = Neu zu den neuesten Versionen auflösen, ohne die Versionen der Lock-Datei (zurückgezogene fallen dann weg)
arg-lock-offline = Nur aus dem zwischengespeicherten (oder vendorten) Index auflösen
arg-lock-deny-advisories = Fehlschlagen (Exit-Code 1), wenn ein Hinweis eine gesperrte Version betrifft (für CI)
arg-vendored = Ein von `gemeinwerk vendor` geschriebener Ordner, der vor dem Cache gelesen wird
cmd-fetch = Die festgelegten Pakete herunterladen, prüfen und nach gemeinwerk_packages/ entpacken
arg-fetch-locked = Abbrechen, wenn gemeinwerk.lock fehlt oder nicht zu gemeinwerk.toml passt (für CI); ohne diese Option wird eine fehlende oder veraltete Lock-Datei neu erstellt
arg-fetch-offline = Nur den Cache und den Vendor-Ordner verwenden; kein Netz
arg-fetch-dest = Wohin die Pakete entpackt werden, als DEST/NS/NAME/ (Standard: gemeinwerk_packages/ im Projektordner)
arg-fetch-jobs = Gleichzeitige Downloads
arg-fetch-deny-advisories = Fehlschlagen (Exit-Code 1), wenn ein Hinweis eine gesperrte Version betrifft (für CI)
cmd-vendor = Die festgelegten Archive und Indexdateien für CI ohne Netz in einen Ordner schreiben
arg-vendor-out = Der Ordner, in den archives/ und index/ geschrieben werden
arg-vendor-offline = Nur den Cache verwenden; kein Netz
cmd-import = Ein Paket aus einem Standardformat machen (FIM XDatenfelder)
cmd-import-xdatenfelder = Ein FIM-XDatenfelder-Stammdatenschema (als Formular) oder eine Datenfeldgruppe (als Feldgruppe), XDatenfelder 1.0, 2.0 oder 3.0.0, in einen neuen Paketordner importieren; nennt, was sich nicht genau abbilden ließ
arg-import-xdatenfelder-file = Die XDatenfelder-XML-Datei
arg-import-xdatenfelder-dir = Der anzulegende Ordner (Standard: ./NAME); es darf ihn noch nicht geben
arg-import-xdatenfelder-namespace = Der Namensraum des neuen Pakets
arg-import-xdatenfelder-name = Der Paketname (Standard: aus dem FIM-Namen gebildet)
arg-import-xdatenfelder-license = Die Lizenz für das Manifest (XDatenfelder nennt keine)
arg-import-xdatenfelder-offline = Die Registry nicht nach Codelisten- und Feldgruppen-Paketen fragen: Verweise auf Codelisten bleiben Verweise ins XRepository, Datenfeldgruppen werden kopiert
cmd-import-genericode = Eine OASIS-genericode-1.0-Codeliste (wie das XRepository sie veröffentlicht) in einen neuen Codelisten-Paketordner importieren
arg-import-genericode-file = Die genericode-XML-Datei
arg-import-genericode-dir = Der anzulegende Ordner (Standard: ./NAME); es darf ihn noch nicht geben
arg-import-genericode-namespace = Der Namensraum des neuen Pakets
arg-import-genericode-name = Der Paketname (Standard: aus dem Kurznamen der Liste gebildet)
arg-import-genericode-version = Die Paketversion (Standard: aus der Version der Liste: 2 → 2.0.0, 2024-02-01 → 20240201.0.0)
arg-import-genericode-license = Die Lizenz für das Manifest (genericode nennt keine)
cmd-export = Ein Paket in einem Standardformat schreiben (JSON Schema, XDatenfelder 3.0.0, BPMN 2.0)
cmd-export-json-schema = Das JSON Schema (2020-12) der Antragsdaten eines Formulars, für FIT-Connect
arg-export-output = In diese Datei schreiben statt nach stdout
arg-export-json-schema-offline = Die Registry nicht fragen: eingebundene Feldgruppen bleiben offen
cmd-export-xdatenfelder = Eine XDatenfelder-3.0.0-Nachricht: ein Formular als Stammdatenschema, eine Feldgruppe als Datenfeldgruppe; nennt, was sie nicht tragen kann
cmd-export-bpmn = BPMN-2.0-XML eines Prozesses, mit Diagramm-Layout

## Die Befunde der Paketprüfung: eine Meldung je Code (der Code mit "-"
## statt "." und "_"), mit den Werten des Befunds. Namen, Pfade und
## Versionen bleiben, wie sie sind.

## Worum es in einer Meldung geht, aus den Args kind und name; die
## diag-Meldungen verweisen darauf. Wörter wie in der Web-Oberfläche.
subject = { $kind ->
    [field] das Feld "{ $name }"
    [group] die Feldgruppe "{ $name }"
    [codelist] die Codeliste "{ $name }"
    [code] ein Code der Codeliste "{ $name }"
    [state] der Zustand "{ $name }"
    [transition] der Übergang "{ $name }"
    [fee] die Gebühr "{ $name }"
    [notice] der Bescheid "{ $name }"
    [role] die Rolle "{ $name }"
    [table] die Tabelle [{ $name }]
    [unnamed_field] ein Feld
    [unnamed_group] eine Feldgruppe
    [unnamed_codelist] eine Codeliste
    [unnamed_state] ein Zustand
    [unnamed_transition] ein Übergang
    [unnamed_fee] eine Gebühr
    [unnamed_notice] ein Bescheid
    [unnamed_role] eine Rolle
   *[file] die Datei { $name }
}
subject-dative = { $kind ->
    [field] dem Feld "{ $name }"
    [group] der Feldgruppe "{ $name }"
    [codelist] der Codeliste "{ $name }"
    [code] einem Code der Codeliste "{ $name }"
    [state] dem Zustand "{ $name }"
    [transition] dem Übergang "{ $name }"
    [fee] der Gebühr "{ $name }"
    [notice] dem Bescheid "{ $name }"
    [role] der Rolle "{ $name }"
    [table] der Tabelle [{ $name }]
    [unnamed_field] einem Feld
    [unnamed_group] einer Feldgruppe
    [unnamed_codelist] einer Codeliste
    [unnamed_state] einem Zustand
    [unnamed_transition] einem Übergang
    [unnamed_fee] einer Gebühr
    [unnamed_notice] einem Bescheid
    [unnamed_role] einer Rolle
   *[file] der Datei { $name }
}
subject-kind = { $kind ->
    [field] Feld
    [group] Feldgruppe
    [codelist] Codeliste
    [code] Code
    [state] Zustand
    [transition] Übergang
    [fee] Gebühr
    [notice] Bescheid
    [role] Rolle
    [table] Tabelle
   *[file] Datei
}

## Der Text, um den es in einer text.*-Meldung geht, aus text_kind und key.
text-subject = { $variant ->
    [keyed] { text-kind } "{ $key }"
   *[bare] { text-kind }
}
text-kind = { $text_kind ->
    [key] der Schlüssel
    [title] der Titel
    [description] die Beschreibung
    [label] die Beschriftung
    [help] der Hilfetext
    [keyword] das Schlagwort
   *[text] der Text
}

## TOML-Typen in toml.wrong_type, aus den Args expected und found.
toml-expected = { $expected ->
    [string] eine Zeichenkette
    [boolean] true oder false
    [integer] eine ganze Zahl
    [string_array] eine Liste aus Zeichenketten
    [table_array] eine Liste aus Tabellen
   *[table] eine Tabelle
}
toml-found = { $found ->
    [array] eine Liste
    [string] eine Zeichenkette
    [integer] eine ganze Zahl
    [number] eine Zahl
    [boolean] ein Wahrheitswert
    [date] ein Datum
   *[table] eine Tabelle
}

## Typen von Werten in Bedingungen (expr.*), aus den Args found,
## left_type und right_type.
expr-found = { $found ->
    [boolean] wahr/falsch
    [number] eine Zahl
    [text] Text
    [date] ein Datum
    [time] eine Uhrzeit
    [datetime] ein Zeitpunkt (Datum und Uhrzeit)
    [code] eine Auswahl aus einer Codeliste
    [codes] mehrere Auswahlen aus einer Codeliste
    [group] eine Feldgruppe
    [file] eine Datei
   *[unknown] unbekannt
}
expr-left-type = { $left_type ->
    [boolean] wahr/falsch
    [number] eine Zahl
    [text] Text
    [date] ein Datum
    [time] eine Uhrzeit
    [datetime] ein Zeitpunkt (Datum und Uhrzeit)
    [code] eine Auswahl aus einer Codeliste
    [codes] mehrere Auswahlen aus einer Codeliste
    [group] eine Feldgruppe
    [file] eine Datei
   *[unknown] unbekannt
}
expr-right-type = { $right_type ->
    [boolean] wahr/falsch
    [number] eine Zahl
    [text] Text
    [date] ein Datum
    [time] eine Uhrzeit
    [datetime] ein Zeitpunkt (Datum und Uhrzeit)
    [code] eine Auswahl aus einer Codeliste
    [codes] mehrere Auswahlen aus einer Codeliste
    [group] eine Feldgruppe
    [file] eine Datei
   *[unknown] unbekannt
}

## FIM-Arten in fim.wrong_kind, aus den Args found und expected.
fim-found = { $found ->
    [field] ein Datenfeld
    [group] eine Datenfeldgruppe
    [schema] ein Stammdatenschema
   *[document] einen Dokumentsteckbrief
}
fim-expected = { $expected ->
    [field] einem Datenfeld
    [group] einer Datenfeldgruppe
    [schema] einem Stammdatenschema
   *[document] einem Dokumentsteckbrief
}

diag-adaptation-lowers-vertrauensniveau = die Ableitung verlangt Vertrauensniveau { $level }, { $package } aber { $required_level }
diag-adaptation-not-allowed = { $package } erlaubt Ableitungen { $policy ->
        [alles] jede Änderung
        [erweitern] nur zur Erweiterung
        [einschraenken] nur zur Einschränkung
       *[keine] keine Änderung außer am Wortlaut
    } (ableitungsmodifikation = "{ $policy }"), aber diese Änderung { $effect ->
        [extends] erweitert es
       *[restricts] schränkt es ein
    }: { $change }
diag-adaptation-policy-loosened = { $package } legt ableitungsmodifikation = "{ $policy }" fest; die Ableitung kann mit "{ $own_policy }" nicht mehr erlauben
diag-codelist-duplicate-code = der Code "{ $code }" steht zweimal in { subject-dative } (zuerst in Zeile { $line })
diag-codelist-empty = { $variant ->
    [neither] { subject } hat weder "codes" noch "urn"
   *[no_codes] { subject } hat keine Codes
}
diag-codelist-missing-table = codelist.toml hat keine Tabelle [codelist]
diag-codelist-unknown-column = "{ $column }" ist keine mit [[column]] angelegte Spalte
diag-codelist-label-without-column = der Code "{ $code }" hat eine Bezeichnung, aber die Liste hat keine Bezeichnungsspalte
diag-codelist-missing-value = dem Code "{ $code }" fehlt ein Wert in der Pflichtspalte "{ $column }"
diag-codelist-invalid-column = eine Spalten-id darf nicht leer sein
diag-codelist-duplicate-column = die Spalte "{ $column }" ist zweimal angelegt (zuerst in Zeile { $line })
diag-codelist-invalid-uri = "{ $value }" ist keine URI
diag-codelist-invalid-date = "{ $value }" ist kein Datum (JJJJ-MM-TT)
diag-codelist-empty-code = { subject } hat einen leeren Code
diag-codelist-invalid-urn = "{ $value }" ist keine URN
diag-codelist-missing-version = { subject } nennt eine Codeliste aus dem XRepository, aber keine "version"
diag-codelist-unused = die Codeliste "{ $codelist }" ist angelegt, aber kein Feld verwendet sie
diag-codelist-urn-and-codes = { subject } hat sowohl "codes" als auch "urn"; eine Codeliste steht entweder im Paket oder kommt aus dem XRepository
diag-codelist-version-without-urn = { subject } hat eine "version", aber ihre Codes stehen im Paket
diag-content-missing = { $variant ->
    [file] dem Paket fehlt { $path }
   *[content] ein Paket der Art { $package_kind } braucht { $file } neben gemeinwerk.toml
}
diag-content-other-kind-file = das Paket ist von der Art { $package_kind }, enthält aber auch { $file }; diese Datei wird nicht beachtet
diag-content-unresolved-dependency = zur Abhängigkeit "{ $package }" = "{ $requirement }" passt keine veröffentlichte Version
diag-dependency-no-matching-version = die Abhängigkeit "{ $package }" hat keine veröffentlichte, nicht zurückgezogene Version, die zu "{ $requirement }" passt
diag-dependency-not-found = die Abhängigkeit "{ $package }" gibt es in dieser Registry nicht
diag-dependency-unreadable = die Abhängigkeit "{ $package }" führt zu Version { $version }, deren Inhalt sich nicht lesen lässt: { $detail }
diag-expr-group-as-value = { $key } von "{ $path }": "{ $group }" ist eine Feldgruppe, kein Feld
diag-expr-invalid-date = { $key } von "{ $path }": "{ $value }" ist kein Datum
diag-expr-invalid-time = { $key } von "{ $path }": "{ $value }" ist keine Uhrzeit
diag-expr-not-boolean = { $key } von "{ $path }": eine Bedingung muss wahr oder falsch sein, dies ist aber { expr-found }
diag-expr-not-ordered = { $key } von "{ $path }": "{ $operator }" gilt nur für Zahlen, Daten und Uhrzeiten; "{ $operand }" ist { expr-found }
diag-expr-syntax = { $key } von { subject-dative }: { $detail }
diag-expr-type-mismatch = { $key } von "{ $path }": { $variant ->
    [logic] "&&", "||" und "!" brauchen wahr/falsch, "{ $operand }" ist aber { expr-found }
    [literal] { $literal } lässt sich nicht mit einem Wert vergleichen, der { expr-found } ist
    [compare] "{ $left }" ist { expr-left-type } und "{ $right }" ist { expr-right-type }; die beiden lassen sich nicht vergleichen
    [multi_select] eine Mehrfachauswahl enthält mehrere Werte; sie wird mit "in" verglichen
    [in] "in" braucht einen Wert zum Nachschlagen, "{ $operand }" ist aber { expr-found }
    [years_since] years_since() braucht ein Datum, "{ $operand }" ist aber { expr-found }
    [id_argument] { $function }() nimmt die Id eines Feldes oder einer Feldgruppe
   *[count] count() zählt die Einträge einer wiederholbaren Feldgruppe oder die Werte einer Mehrfachauswahl; "{ $operand }" ist { expr-found }
}
diag-expr-unknown-code = { $key } von "{ $path }": "{ $code }" ist kein Code der Codeliste des Feldes
diag-fieldgroup-empty = die Feldgruppe hat keine Felder
diag-fieldgroup-missing-label = {""}[fieldgroup] hat keine Beschriftung (label)
diag-fieldgroup-missing-table = fieldgroup.toml hat keine Tabelle [fieldgroup]
diag-file-not-utf8 = { $variant ->
    [detail] die Datei ist kein UTF-8-Text: { $detail }
   *[bare] die Datei ist kein UTF-8-Text
}
diag-fim-invalid-code = "{ $value }" ist kein Code von "{ $key }" ({ $codes })
diag-fim-invalid-id = "{ $value }" ist keine FIM-Id
diag-fim-invalid-version = die FIM-Version "{ $value }" muss aus Zahlen mit Punkten dazwischen bestehen, etwa "1.2"
diag-fim-meta-without-id = { subject } hat "{ $key }", aber keine "fim-id"
diag-fim-version-without-id = { subject } hat "fim-version", aber keine "fim-id"
diag-fim-wrong-kind = "{ $fim_id }" bezeichnet { fim-found }, steht aber an { fim-expected }
diag-forked-from-checksum-mismatch = die Prüfsumme in forked-from passt nicht zu { $package } (die Registry hat { $checksum })
diag-forked-from-not-found = forked-from nennt { $package }, das es in dieser Registry nicht gibt
diag-form-account-below-trust-level = { $account } erreicht höchstens Vertrauensniveau { $max_level }, das Formular verlangt aber { $required_level }
diag-form-codelist-not-a-dependency = das Feld "{ $path }" verwendet eine Codeliste aus "{ $package }", das keine Abhängigkeit ist
diag-form-condition-cycle = die Bedingungen hängen im Kreis voneinander ab: { $cycle }
diag-form-condition-on-repeated-field = { $key } von "{ $path }": "{ $field }" liegt in der wiederholbaren Feldgruppe "{ $group }"; außerhalb davon kann diese Bedingung nicht wissen, welcher Eintrag gemeint ist
diag-form-duplicate-account = das Nutzerkonto "{ $account }" steht zweimal in der Liste
diag-form-empty = das Formular hat keine Felder
diag-form-include-not-a-dependency = die Feldgruppe "{ $path }" bindet "{ $package }" ein, das keine Abhängigkeit ist
diag-form-include-not-a-fieldgroup = die Feldgruppe "{ $path }" bindet "{ $package }" ein; das ist { $package_kind }, keine Feldgruppe
diag-form-invalid-ableitungsmodifikation = ableitungsmodifikation muss "alles", "erweitern", "einschraenken" oder "keine" sein (FIM-Codes 0 bis 3)
diag-form-invalid-vertrauensniveau = das Vertrauensniveau "{ $value }" ist keines von niedrig, substanziell, hoch
diag-form-missing-form-table = form.toml hat keine Tabelle [form]
diag-form-missing-title = {""}[form] hat keinen Titel (title)
diag-form-missing-vertrauensniveau = {""}[form] gibt nicht an, welches Vertrauensniveau es verlangt
diag-form-no-accounts = das Formular verlangt Vertrauensniveau { $required_level }, lässt aber kein Nutzerkonto zu, das es erreicht
diag-form-unknown-account = "{ $account }" ist kein bekanntes Nutzerkonto
diag-form-unknown-codelist = { $variant ->
    [undeclared] das Feld "{ $path }" verwendet die Codeliste "{ $codelist }", die nicht angelegt ist
    [not_in_dependency] "{ $package }" hat keine Codeliste "{ $codelist }"
    [not_a_codelist] "{ $package }" ist kein Codelisten-Paket
    [package] "{ $package }" ist ein Codelisten-Paket: nennen Sie es ohne "#…"
   *[process] "{ $package }" ist ein Prozess und hat keine Codelisten
}
diag-form-unknown-field-in-condition = { $key } von "{ $path }": unbekanntes Feld "{ $field }" in der Bedingung
diag-lock-unknown-version = die Formatversion { $version } der Lockfile kennt dieses gemeinwerk nicht (es liest Version { $known })
diag-lock-invalid-name = { $variant ->
        [requirement] Anforderung
       *[package] Paket
    }: { $detail }
diag-lock-invalid-requirement = "{ $requirement }" ist keine Versionsanforderung: { $detail }
diag-lock-duplicate-package = { $package } ist zweimal festgeschrieben
diag-lock-invalid-version = die Version "{ $version }" von { $package } ist keine semantische Version: { $detail }
diag-lock-invalid-cksum = die Prüfsumme (cksum) von { $package } muss ein SHA-256 aus 64 kleingeschriebenen Hexadezimalziffern sein, nicht "{ $value }"
diag-lock-invalid-registry = die Registry von { $package } muss eine http://- oder https://-Adresse sein, nicht "{ $value }"
diag-lock-incomplete = { $variant ->
        [required] { $package } wird verlangt, ist aber nicht festgeschrieben
       *[dependency] { $package } hängt von { $dependency } ab, das nicht festgeschrieben ist
    }
diag-manifest-description-too-long = die Beschreibung hat mehr als { $limit } Zeichen; Einzelheiten gehören in die README
diag-manifest-invalid-dependency = Abhängigkeit: { $detail }
diag-manifest-invalid-fim-id = {""}[fim] id "{ $fim_id }" ist nicht die Id eines FIM-Stammdatenschemas, einer Datenfeldgruppe oder eines Dokumentsteckbriefs
diag-manifest-invalid-fim-version = {""}[fim] version "{ $value }" muss aus Zahlen mit Punkten dazwischen bestehen, etwa "1.2"
diag-manifest-invalid-forked-from = { $variant ->
    [name] forked-from, Paket: { $detail }
   *[version] die Version "{ $version }" in forked-from muss eine genaue Version sein: { $detail }
}
diag-manifest-invalid-keyword = das Schlagwort "{ $keyword }" muss 1 bis 40 Zeichen haben
diag-manifest-invalid-kind = die Art "{ $value }" ist unbekannt; sie muss "form", "process" oder "fieldgroup" sein
diag-manifest-invalid-leika = leika "{ $value }" ist kein Leistungsschlüssel: er muss aus 14 Ziffern bestehen
diag-manifest-invalid-license = die Lizenz "{ $value }" ist kein SPDX-Ausdruck: { $detail }
diag-manifest-invalid-name = Paketname: { $detail }
diag-manifest-invalid-themenfeld = das Themenfeld "{ $value }" ist keines der 14 OZG-Themenfelder
diag-manifest-invalid-url = { $key } "{ $value }" { $variant ->
    [not_url] ist keine URL: { $detail }
    [scheme] muss mit https:// oder http:// beginnen, nicht mit { $scheme }:
    [no_host] nennt keinen Host
   *[credentials] darf keinen Benutzernamen und kein Passwort enthalten
}
diag-manifest-invalid-version = die Version "{ $version }" ist keine semantische Version: { $detail }
diag-manifest-invalid-version-req = "{ $requirement }" ist keine Versionsanforderung: { $detail }
diag-manifest-missing = dem Paket fehlt gemeinwerk.toml
diag-manifest-missing-description = { $variant ->
    [empty] die Beschreibung ist leer
   *[absent] das Paket hat keine Beschreibung; sagen Sie in ein oder zwei Sätzen, wofür es da ist
}
diag-manifest-missing-license = das Paket hat keine Lizenz
diag-manifest-missing-package = das Manifest hat keine Tabelle [package]; ein Paket braucht Name, Version, Art, Beschreibung und Lizenz
diag-manifest-missing-readme = readme = "{ $path }" nennt eine Datei, die nicht im Paket ist
diag-manifest-missing-themenfeld = kein Themenfeld angegeben; wer nach Themenfeld sucht, findet das Paket nicht
diag-manifest-no-readme = das Paket hat keine README.md; andere Kommunen lesen sie, bevor sie ein Paket übernehmen
diag-manifest-placeholder-title = der Titel "{ $title }" enthält noch den Platzhalter "…" von `gemeinwerk new`: bitte den richtigen Titel eintragen
diag-manifest-self-dependency = das Paket hängt von sich selbst ab ("{ $package }")
diag-manifest-too-many-keywords = { $count } Schlagwörter angegeben; erlaubt sind höchstens { $limit }
diag-merge-invalid-toml = { $file } ist kein gültiges TOML: { $detail }
diag-merge-kind-mismatch = die Pakete sind von verschiedener Art (hier { $ours }, im Original { $theirs })
diag-merge-missing-file = { $file } fehlt
diag-merge-no-such-conflict = es gibt keinen offenen Konflikt "{ $path }"
diag-merge-open-conflict = die Zusammenführung hat einen Konflikt offen gelassen: { $path } ({ $file }): Basis { $base ->
        [deleted] (gelöscht)
       *[other] { $base }
    }, hier { $ours ->
        [deleted] (gelöscht)
       *[other] { $ours }
    }, Upstream { $theirs ->
        [deleted] (gelöscht)
       *[other] { $theirs }
    }
diag-merge-path-not-found = "{ $path }" bezeichnet nichts in { $file }
diag-model-constraint-not-applicable = { $variant ->
    [type] "{ $key }" gilt nicht für { subject } vom Typ "{ $field_type }"
    [static_required] ein statischer Text kann kein Pflichtfeld sein
    [text_on_input] "text" ist für statische Texte; { subject } ist ein Eingabefeld
    [static_examples] ein statischer Text hat keine Beispiele
    [fixed] { subject } kann keinen festen Wert haben
   *[bound] "{ $key }" gilt nicht für das Feld "{ $path }" vom Typ "{ $field_type }"
}
diag-model-invalid-fixed = der feste Wert "{ $value }" passt nicht zu { subject-dative }
diag-model-default-ignored = Vorgabewerte werden noch nicht unterstützt und nicht beachtet
diag-model-duplicate-id = die Id "{ $name }" kommt { $variant ->
    [top_level] auf der obersten Ebene
   *[group] in der Feldgruppe "{ $group }"
} zweimal vor (zuerst in Zeile { $line })
diag-model-empty-group = { subject } hat keine Felder
diag-model-empty-text = "{ $key }" von { subject-dative } ist leer
diag-model-english-without-german = { subject } hat "{ $key }-en", aber kein "{ $key }"; der deutsche Text ist Pflicht
diag-model-example-does-not-match = { $variant ->
    [pattern] das Beispiel "{ $example }" passt nicht zum Muster von { subject-dative }
   *[length] das Beispiel "{ $example }" hat eine Länge außerhalb von min-length/max-length
}
diag-model-file-without-media-types = { subject } nimmt Dateien jeder Art an
diag-model-include-with-fields = { subject } bindet "{ $package }" ein und hat zugleich eigene Felder
diag-model-invalid-bound = { $variant ->
    [integer] "{ $key }" des Ganzzahlfeldes "{ $path }" muss eine ganze Zahl sein
    [number] "{ $key }" des Feldes "{ $path }" muss eine Zahl sein
    [date] "{ $key }" des Datumsfeldes "{ $path }" ist "{ $value }", weder ein Datum noch relativ zu heute
   *[date_or_time] "{ $key }" des Feldes "{ $path }" muss ein Datum in Anführungszeichen ("2025-01-31", "today-P18Y") oder eine Uhrzeit ("08:30") sein
}
diag-model-invalid-id = die Id "{ $name }" ({ subject-kind }) muss mit a–z beginnen und darf nur a–z, 0–9 und "_" enthalten
diag-model-invalid-include = Einbindung: { $detail }
diag-model-invalid-legal-basis = "legal-basis" von { subject-dative } muss eine Liste von Normen sein, jede ein Text oder {"{"} text = "…", link = "https://…" {"}"}
diag-model-invalid-media-type = "{ $value }" ist kein Medientyp
diag-model-invalid-occurs = ungültige Häufigkeit (occurs): { $detail }
diag-model-invalid-pattern = das Muster von { subject-dative } ist kein gültiger regulärer Ausdruck: { $detail }
diag-model-invalid-size = ungültige Größe (max-size): { $detail }
diag-model-min-greater-than-max = { $variant ->
    [length] { subject }: min-length { $min } ist größer als max-length { $max }
   *[value] { subject }: min { $min } ist größer als max { $max }
}
diag-model-missing-codelist = { subject } ist vom Typ { $field_type }, nennt aber keine Codeliste
diag-model-missing-label = { subject } hat keine Beschriftung (label)
diag-model-negative-length = "{ $key }" darf nicht negativ sein
diag-model-required-and-required-when = { subject } ist immer ein Pflichtfeld; seine Bedingung required-when wirkt daher nicht
diag-model-required-on-group = Feldgruppen sind nicht "required"; wie oft { subject } vorkommt, sagt "occurs"
diag-model-static-without-text = { subject } ist ein statischer Text, hat aber keinen "text"
diag-model-unknown-type = der Feldtyp "{ $value }" ist unbekannt
diag-package-deprecated = das Paket ist veraltet: { $detail }
diag-path-too-long = der Archivpfad "{ $path }" passt nicht in einen tar-Kopf: der Dateiname darf höchstens { $name_limit } Bytes haben, die Ordner davor höchstens { $prefix_limit }
diag-process-duplicate-id = { subject } ist zweimal angelegt (zuerst in Zeile { $line })
diag-process-fee-without-legal-basis = { subject } nennt keine Rechtsgrundlage
diag-process-form-not-a-dependency = der Übergang "{ $transition }" verwendet das Formular "{ $package }", das keine Abhängigkeit ist
diag-process-invalid-amount = ungültiger Betrag: { $detail }
diag-process-invalid-duration = ungültige Frist: { $detail }
diag-process-invalid-outcome = "{ $value }" ist kein Ergebnis; ein Endzustand ist bewilligt, abgelehnt oder zurückgezogen
diag-process-missing-label = { subject } hat keine Beschriftung (label)
diag-process-missing-process-table = process.toml hat keine Tabelle [process]
diag-process-missing-title = {""}[process] hat keinen Titel (title)
diag-process-multiple-starts = der Zustand "{ $state }" ist ein zweiter Startzustand; "{ $first_state }" ist schon einer
diag-process-no-end = kein Zustand ist ein Endzustand
diag-process-no-roles = der Prozess legt keine [roles] an
diag-process-no-start = kein Zustand ist der Startzustand
diag-process-no-states = der Prozess hat keine [[state]]
diag-process-no-way-to-end = vom Zustand "{ $state }" aus ist kein Endzustand erreichbar: ein Verfahren dort käme nie zum Abschluss
diag-process-not-a-form = "{ $package }" ist ein Paket der Art { $package_kind }, kein Formular
diag-process-start-is-end = der Zustand "{ $state }" ist zugleich Start- und Endzustand
diag-process-transition-from-end = der Übergang "{ $transition }" verlässt "{ $state }", einen Endzustand ({ $outcome }); aus einem Endzustand führt kein Übergang heraus
diag-process-unknown-action = die Aktion "{ $action }" ist keine der bekannten Aktionen
diag-process-unknown-role = den Übergang "{ $transition }" führt "{ $role }" aus; das ist keine Rolle
diag-process-unknown-state = der Übergang "{ $transition }" führt { $direction ->
    [from] von
   *[to] nach
} "{ $state }"; das ist kein Zustand
diag-process-unknown-transition = { $variant ->
    [fee] die Gebühr "{ $name }" fällt bei "{ $transition }" an; das ist kein Übergang
   *[notice] der Bescheid "{ $name }" entsteht bei "{ $transition }"; das ist kein Übergang
}
diag-process-unreachable-state = der Zustand "{ $state }" ist vom Startzustand "{ $start_state }" aus nicht erreichbar
diag-process-unused-role = die Rolle "{ $role }" führt keinen Übergang aus
diag-readme-too-large = die README hat { $size } Bytes; erlaubt sind höchstens { $limit }
diag-semver-insufficient-bump = Version { $new } ist ein { $given ->
        [major] Major-
        [minor] Minor-
       *[patch] Patch-
    }Sprung gegenüber { $old }, die Änderungen verlangen aber einen { $needed ->
        [major] Major-
        [minor] Minor-
       *[patch] Patch-
    }Sprung: mindestens { $minimum }{ $changes }
diag-semver-not-greater = Version { $new } ist nicht größer als die veröffentlichte Version { $old }
diag-semver-unchecked = der Versionssprung wurde nicht geprüft: { $package }@{ $version } lässt sich mit den heutigen Regeln nicht lesen
diag-text-control-character = { text-subject } enthält das Steuerzeichen U+{ $code_point }; erlaubt sind nur Zeilenumbrüche und Tabulatoren
diag-text-too-long = { text-subject } hat { $length } Zeichen; erlaubt sind höchstens { $limit }
diag-text-too-many-keywords = es sind { $count } Schlagwörter; erlaubt sind höchstens { $limit }
diag-toml-date-literal = Daten und Uhrzeiten werden in gemeinwerk-Dateien als Zeichenketten geschrieben
diag-toml-missing-key = { subject } hat kein "{ $key }"
diag-toml-syntax = TOML-Syntaxfehler: { $detail }
diag-toml-unknown-key = unbekannter Schlüssel "{ $key }" in { subject-dative }
diag-toml-wrong-type = { $variant ->
    [codes] "codes" von { subject-dative } muss eine Liste aus {"{"} code = …, label = … {"}"} sein
    [labels] {""}[{ $key }] muss eine Tabelle aus id = "Beschriftung" sein
    [role] die Rolle "{ $role }" muss eine Beschriftung in Anführungszeichen sein, nicht { toml-found }
    [table] { subject } muss eine Tabelle sein, nicht { toml-found }
   *[key] "{ $key }" von { subject-dative } muss { toml-expected } sein, nicht { toml-found }
}
diag-version-not-taggable = die Version { $version } kann kein Git-Tag sein (ein Pre-Release- oder Build-Teil darf nicht auf ".lock" enden); bitte eine andere Version wählen

# Vorschläge (`hint-<id>`), aus der Kennung und den Werten eines Hinweises.
hint-snippet = { $snippet }
hint-did-you-mean = meinten Sie "{ $word }"?
hint-add-dependency = tragen Sie "{ $package }" = "^1" unter [dependencies] in gemeinwerk.toml ein
hint-requirement-examples = zum Beispiel "^1.2" oder "=1.0.3"
hint-known-keys = bekannte Schlüssel: { $items }
hint-known-types = Typen: { $items }
hint-known-actions = bekannte Handlungen: { $items }
hint-known-accounts = Nutzerkonten: { $items }
hint-known-functions = Funktionen: { $items }
hint-known-codes = Codes: { $items }
hint-known-themenfelder = eines von: { $items }
hint-code-count = die Liste hat { $count } Codes
hint-quote-dates = setzen Sie das Datum in Anführungszeichen, zum Beispiel "2025-01-01"
hint-for-example = zum Beispiel "{ $example }"
hint-fim-id-form = FIM-Kennungen sind ein Buchstabe und 11 Ziffern (XDatenfelder 3, "{ $letter }60000000243") oder 8 Ziffern (XDatenfelder 2, "{ $letter }00000243")
hint-fim-ref-form = ein Buchstabe S, G oder D und 8 Ziffern (XDatenfelder 2, "S00000036") oder 11 Ziffern (XDatenfelder 3, "G60000000088")
hint-fim-occurs = FIM-Häufigkeiten: "0:1" freiwillig, "1:1" genau einmal, "1:*" mindestens einmal, "2:5" zwei- bis fünfmal
hint-group-beside-include = legen Sie die zusätzlichen Felder in eine eigene Gruppe neben der eingebundenen
hint-add-group-fields = ergänzen Sie [[group.field]]-Tabellen oder binden Sie eine Feldgruppe mit include = "ns/name" ein
hint-regex-syntax = Muster folgen der Regex-Syntax von Rust (ohne Look-around und Rückverweise); siehe docs/package-format.md
hint-media-type-examples = zum Beispiel "application/pdf", "image/jpeg" oder "image/*"
hint-max-size-example = zum Beispiel max-size = "10 MB"
hint-label-in-german = label = "…" auf Deutsch (label-en für Englisch)
hint-use-help = für Erläuterungen neben einer Eingabe gibt es "help"
hint-remove-required = entfernen Sie required = true oder die Bedingung required-when
hint-date-bounds = schreiben Sie "2025-01-31", "today", "today+P1Y" oder "today-P18Y"
hint-date-form = schreiben Sie Daten als "JJJJ-MM-TT", zum Beispiel "2025-01-31"
hint-time-form = schreiben Sie Uhrzeiten als "HH:MM", zum Beispiel "08:30"
hint-start-form = beginnen Sie mit [form], title = "…" und vertrauensniveau = "niedrig" | "substanziell" | "hoch"
hint-start-process = beginnen Sie mit [process] und title = "…"
hint-start-codelist = beginnen Sie mit [codelist] und label = "…"
hint-known-columns = angelegte Spalten: { $items }
hint-start-fieldgroup = beginnen Sie mit [fieldgroup] und label = "…"
hint-vertrauensniveau-values = vertrauensniveau = "niedrig", "substanziell" oder "hoch" (Vertrauensniveau nach eIDAS)
hint-add-fields = ergänzen Sie [[field]]- oder [[group]]-Tabellen
hint-count-repeated = verwenden Sie count({ $group }) oder verschieben Sie die Bedingung in "{ $group }"
hint-declare-codelist = legen Sie sie mit [codelist.{ $codelist }] an, nennen Sie ein Codelisten-Paket ("ns/name") oder nehmen Sie eine aus einer Abhängigkeit: "ns/name#{ $codelist }"
hint-no-self-condition = ob ein Feld angezeigt oder verlangt wird, kann nicht von ihm selbst abhängen
hint-declare-role = legen Sie sie unter [roles] an: { $role } = "…"
hint-mark-start = kennzeichnen Sie den ersten Zustand mit start = true ("{ $state }"?)
hint-mark-ends = kennzeichnen Sie die Endzustände mit end = "bewilligt", "abgelehnt" oder "zurückgezogen"
hint-add-transition-into = ergänzen Sie einen Übergang dorthin, oder entfernen Sie ihn
hint-add-transition-to-end = ergänzen Sie einen Übergang zu einem Ende (zum Beispiel nach "abgelehnt" oder "zurückgezogen")
hint-codes-or-urn = führen Sie die Codes im Paket auf (codes = [{"{"} code = "A", label = "…" {"}"}]) oder nennen Sie eine Liste aus dem XRepository mit urn und version
hint-urn-example = Codelisten des XRepository heißen zum Beispiel "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat"
hint-pin-codelist-version = legen Sie die Version der Codeliste fest, zum Beispiel version = "2024-02-01"
hint-allow-lower-level = wenn das gewollt ist, sagen Sie es mit lowers-vertrauensniveau = true unter [package] in gemeinwerk.toml
hint-undo-or-ask = nehmen Sie die Änderung zurück, oder bitten Sie die Herausgeber des Originals, sie zu erlauben
hint-semver-form = schreiben Sie sie als MAJOR.MINOR.PATCH, zum Beispiel "1.0.0"
hint-license-eupl = license = "EUPL-1.2" ist in der deutschen Verwaltung üblich
hint-license-examples = zum Beispiel "EUPL-1.2" oder "MIT OR Apache-2.0"
hint-relock = schreiben Sie sie mit `gemeinwerk lock` neu
hint-resolve-conflict = gemeinwerk upstream resolve { $path } --ours (oder --theirs), oder bearbeiten Sie { $file } und löschen Sie den Eintrag
hint-compare-with = vergleichen Sie mit "=="
hint-ascii-ids = Feld-IDs bestehen nur aus a–z, 0–9 und "_" (ä → ae, ö → oe, ü → ue, ß → ss); setzen Sie Textwerte in Anführungszeichen
hint-write-operator = schreiben Sie "{ $operator }"
hint-combine-conditions = verknüpfen Sie Bedingungen mit "&&" oder "||"
hint-is-set-or-count = verwenden Sie is_set({ $path }) oder count({ $path })
hint-write-in-list = schreiben Sie { $value } in [ … ]

# Was unsere eigenen Parser fanden (`cause-<id>`), das `detail` einer Meldung.
cause-slug-length = { $part ->
        [namespace] {"der Namensraum "}
        [name] {"der Name "}
       *[none] {""}
    }"{ $value }" muss 1 bis 64 Zeichen lang sein
cause-slug-character = { $part ->
        [namespace] {"der Namensraum "}
        [name] {"der Name "}
       *[none] {""}
    }"{ $value }" enthält { $character }; erlaubt sind nur Kleinbuchstaben a–z, 0–9 und "-"
cause-slug-dash = { $part ->
        [namespace] {"der Namensraum "}
        [name] {"der Name "}
       *[none] {""}
    }"{ $value }" darf nicht mit "-" beginnen
cause-full-name-form = "{ $value }" muss als Namensraum/Name geschrieben werden, zum Beispiel "kassel/bewohnerparkausweis"
cause-occurs-form = "{ $value }" ist keine Häufigkeit wie "0:1", "1:*" oder "2:5"
cause-occurs-min = "{ $part }" in "{ $value }" ist keine Zahl
cause-occurs-max = "{ $part }" in "{ $value }" ist weder eine Zahl noch "*"
cause-occurs-zero = "{ $value }": eine Gruppe, die höchstens 0-mal vorkommt, wird nie angezeigt
cause-occurs-order = "{ $value }": das Minimum { $min } ist größer als das Maximum { $max }
cause-duration-form = "{ $value }" ist keine Dauer nach ISO 8601 (zum Beispiel "P14D", "P3M", "P1Y", "PT48H")
cause-size-form = "{ $value }" ist keine Größe wie "10 MB"
cause-size-unit = "{ $unit }" ist keine Größeneinheit (B, kB, MB, GB, KiB, MiB, GiB)
cause-size-small = "{ $value }" ist kleiner als ein Byte
cause-size-type = max-size muss eine Größe wie "10 MB" oder eine Anzahl Bytes sein
cause-amount-form = "{ $value }" ist kein Betrag in EUR wie "30.70"
cause-amount-decimals = { $value } hat mehr als zwei Nachkommastellen
cause-amount-type = der Betrag muss in EUR angegeben werden, wie "30.70"
cause-lone-operator = "{ $operator }" allein ist kein Operator
cause-unclosed-text = diesem Text fehlt das schließende Anführungszeichen
cause-not-a-number = "{ $value }" ist keine Zahl
cause-unexpected-character = unerwartetes Zeichen { $character }
cause-expected-found = erwartet wurde { $expected ->
        [list_start] "[" und eine Liste von Werten
        [list_next] "," oder "]"
       *[paren_close] ")"
    }, gefunden wurde { $found_kind ->
        [text] der Text "{ $found }"
        [number] die Zahl { $found }
       *[token] "{ $found }"
    }
cause-expected-end = erwartet wurde { $expected ->
        [list_start] "[" und eine Liste von Werten
        [list_next] "," oder "]"
       *[paren_close] ")"
    }, aber die Bedingung endet
cause-not-an-operator = "{ $word }" ist hier kein Operator
cause-in-after-not = nach "not" wurde "in" erwartet
cause-empty-list = die Liste nach "in" ist leer
cause-minus-number = auf "-" muss eine Zahl folgen
cause-expected-value-found = erwartet wurde ein Wert (Text in Anführungszeichen, eine Zahl, true oder false), gefunden wurde { $found_kind ->
        [text] der Text "{ $found }"
        [number] die Zahl { $found }
       *[token] "{ $found }"
    }
cause-expected-value-end = erwartet wurde ein Wert, aber die Bedingung endet
cause-unknown-function = unbekannte Funktion "{ $function }"
cause-argument-count = { $function }() erwartet { $takes ->
        [none] keine Argumente
       *[one] ein Argument
    }, nicht { $given }
cause-dot-field = auf "." muss eine Feld-ID folgen
cause-expected-operand-found = erwartet wurde ein Feld, ein Wert oder "(", gefunden wurde { $found_kind ->
        [text] der Text "{ $found }"
        [number] die Zahl { $found }
       *[token] "{ $found }"
    }
cause-ends-early = die Bedingung endet zu früh
cause-empty-condition = die Bedingung ist leer
cause-trailing = nach einer vollständigen Bedingung steht noch { $found_kind ->
        [text] der Text "{ $found }"
        [number] die Zahl { $found }
       *[token] "{ $found }"
    }
