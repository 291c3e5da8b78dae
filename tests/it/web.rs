//! The web UI over plain HTTP: every page type in German with the strict
//! CSP, German 404 pages, escaping of what publishers write, sign-in with a
//! token that never comes back in a page, and CSRF refusals that change
//! nothing. The browser scenarios (headless Chromium, axe-core) are at the
//! end.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use crate::both_backends;
use crate::common::{self, *};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub(crate) struct Visitor {
    agent: ureq::Agent,
    pub(crate) base: String,
    pub(crate) cookies: HashMap<String, String>,
    /// Headers sent with every request (a proxy's `X-Forwarded-For`).
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Visitor {
    pub(crate) fn new(reg: &TestRegistry) -> Visitor {
        Visitor {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            base: reg.url.clone(),
            cookies: HashMap::new(),
            headers: Vec::new(),
        }
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Response {
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Accept", "text/html");
        for (k, v) in &self.headers {
            req = req.set(k, v);
        }
        if !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.set("Cookie", &header);
        }
        let result = match form {
            Some(pairs) => req.send_form(pairs),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        for c in response.all("set-cookie") {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        Response::read(response)
    }

    pub(crate) fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, None)
    }

    pub(crate) fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.send("POST", path, Some(form))
    }

    /// Signs in through the form, as a person would.
    pub(crate) fn sign_in(&mut self, token: &str) -> Response {
        let form = self.get("/anmelden").text();
        let csrf = hidden_csrf(&form);
        self.post("/anmelden", &[("csrf", &csrf), ("token", token)])
    }
}

/// The value of the first hidden `csrf` input of a page.
fn hidden_csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in the page: {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// What every page must be: German, with the CSP, and nothing inline that
/// the CSP would have to allow.
fn assert_page(r: &Response, path: &str) {
    let html = r.text();
    assert!(html.contains("<html lang=\"de\">"), "{path}: not German");
    assert_eq!(r.header("content-security-policy"), Some(CSP), "{path}");
    assert!(
        html.contains("<a class=\"sprung\" href=\"#inhalt\">"),
        "{path}: no skip link"
    );
    assert!(!html.contains("<script>"), "{path}: inline script");
    assert!(!html.contains(" style=\""), "{path}: inline style");
    assert!(!html.contains("<style"), "{path}: inline style element");
}

#[test]
fn every_page_type_answers_in_german_with_the_csp() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    wait_for_search(
        &reg,
        "q=parkausweis",
        std::time::Duration::from_secs(30),
        |v| v["total"].as_u64().unwrap_or(0) > 0,
    );
    let mut v = Visitor::new(&reg);
    let pages = [
        "/",
        "/suche?q=park",
        "/suche",
        "/pakete/kassel/bewohnerparkausweis",
        "/pakete/kassel/bewohnerparkausweis?version=1.0.0",
        "/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.halter=ja",
        "/pakete/kassel/bewohnerparken-verfahren",
        "/pakete/fim/anschrift-inland",
        "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@1.1.0",
        "/namensraeume/kassel",
        "/anmelden",
    ];
    for path in pages {
        let r = v.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_page(&r, path);
    }
    let search = v.get("/suche?q=parkausweis").text();
    assert!(
        search.contains("/pakete/kassel/bewohnerparkausweis"),
        "{search}"
    );
    assert!(search.contains("<h3>Themenfeld</h3>"), "facets are shown");
    let filtered = v
        .get("/suche?themenfeld=mobilitaet_reisen&art=process")
        .text();
    assert!(filtered.contains("/pakete/kassel/bewohnerparken-verfahren"));
    assert!(!filtered.contains("/pakete/darmstadt/hundesteuer-anmeldung\""));
    let bad = v.get("/suche?art=kuchen");
    assert_eq!(bad.status, 400);
    assert_page(&bad, "/suche?art=kuchen");
    let start = v.get("/").text();
    assert!(start.contains("Neu veröffentlicht"));
    assert!(
        start.contains("Pakete)</span>"),
        "Themenfelder show their counts"
    );
    assert!(start.contains("/suche?themenfeld=mobilitaet_reisen"));
    assert!(start.contains("/pakete/kassel/bewohnerparkausweis"));

    let package = v.get("/pakete/kassel/bewohnerparkausweis").text();
    for expected in [
        "Antrag auf Bewohnerparkausweis",
        // The command may wrap after "/" and before "@", not inside the name.
        "<span>kassel/</span><wbr><span>bewohnerparkausweis</span><wbr><span>@^1.1</span>",
        "<form method=\"get\" action=\"/pakete/kassel/bewohnerparkausweis/vorschau#vorschau\"",
        // A field from the included FIM field group.
        "Familienname",
        // A condition, resolved for the script.
        "data-show-when=",
        "Vergleich mit 1.0.0",
        "/namensraeume/kassel",
        "Mobilität &#38; Reisen",
    ] {
        assert!(package.contains(expected), "package page lacks {expected}");
    }
    let process = v.get("/pakete/kassel/bewohnerparken-verfahren").text();
    assert!(process.contains("<svg class=\"prozess\""));
    assert!(process.contains("Übergänge"));
    assert!(process.contains("Antrag eingegangen"));

    let namespace = v.get("/namensraeume/kassel").text();
    assert!(namespace.contains("066110000000"), "the ARS is shown");
    assert!(namespace.contains("kassel-redaktion"), "members are shown");

    let diff = v
        .get("/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@1.1.0")
        .text();
    assert!(diff.contains("Größte Änderung"), "{diff}");
    // German throughout: reasons and row names are translated.
    assert!(!diff.contains("Begründung (englisch)"), "{diff}");
    assert!(!diff.contains("lang=\"en\""), "{diff}");
    assert!(!diff.contains("wording only"), "{diff}");
    assert!(
        diff.contains("class=\"tabelle\""),
        "the table scrolls in its own box"
    );

    // Who publishes: the display name and the Land, not the slug.
    for (path, expected) in [
        ("/", "Stadt Kassel (Hessen)"),
        ("/suche?q=parkausweis", "Stadt Kassel (Hessen)"),
        ("/namensraeume/kassel", "<dd>Hessen</dd>"),
    ] {
        let html = v.get(path).text();
        assert!(html.contains(expected), "{path} lacks {expected}");
    }
    let search = v.get("/suche?q=parkausweis").text();
    assert!(
        search.contains("Stadt Kassel (Hessen) ("),
        "the namespace facet names the publisher: {search}"
    );
    assert!(
        search.contains("Formular · Version 1.1.0"),
        "cards show kind and version"
    );
    let start = v.get("/").text();
    assert!(!start.contains(" 1 Downloads"), "German plural");
    let package = v.get("/pakete/kassel/bewohnerparkausweis").text();
    for expected in [
        "von <a href=\"/namensraeume/kassel\">Stadt Kassel (Hessen)</a>",
        "<a href=\"https://spdx.org/licenses/EUPL-1.2.html\" hreflang=\"en\">EUPL-1.2",
        "<span>fork</span> <span>kassel/</span><wbr><span>bewohnerparkausweis</span> <span>IHR-NAMENSRAUM/</span><wbr><span>bewohnerparkausweis</span>",
        "<span>kassel/</span><wbr><span>bewohnerparkausweis.git</span>",
        "data-kopieren=\"befehl-add\"",
    ] {
        assert!(package.contains(expected), "package page lacks {expected}");
    }
    let process = v.get("/pakete/kassel/bewohnerparken-verfahren").text();
    assert!(
        process.contains("30,70 € jährlich"),
        "fees per period read German"
    );
    assert!(!process.contains(" je 1 Jahr"));
    assert!(
        process.contains("– bei „"),
        "a notice names its step in quotes"
    );
    let favicon = v.get("/favicon.ico");
    assert_eq!(favicon.status, 200);
    assert_eq!(favicon.header("content-type"), Some("image/x-icon"));

    // The static assets carry the CSP too.
    for asset in ["/static/gemeinwerk.css", "/static/gemeinwerk.js"] {
        let r = v.get(asset);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-security-policy"), Some(CSP));
    }
}

#[test]
fn the_preview_evaluates_conditions_without_javascript() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    let mut v = Visitor::new(&reg);
    let hidden = |html: &str, id: &str| {
        let at = html
            .find(&format!("id=\"{id}-feld\""))
            .unwrap_or_else(|| panic!("no field {id}"));
        let tag_end = at + html[at..].find('>').unwrap();
        html[at..tag_end].contains(" hidden")
    };
    // Not the holder: the reason and the proof are asked for.
    let first = v.get("/pakete/kassel/bewohnerparkausweis").text();
    assert!(!hidden(&first, "f-fahrzeug-nutzungsgrund"));
    // The holder: both disappear once the preview is checked.
    let checked = v
        .get("/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.halter=ja")
        .text();
    assert!(hidden(&checked, "f-fahrzeug-nutzungsgrund"));
    assert!(hidden(&checked, "f-fahrzeug-zulassungsbescheinigung"));
    assert!(checked.contains("name=\"fahrzeug.halter\" value=\"ja\" checked"));
    // Entered values stay in the form.
    let filled = v
        .get("/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.kennzeichen=KS-AB+123")
        .text();
    assert!(filled.contains("value=\"KS-AB 123\""));
}

#[test]
fn missing_pages_are_german_404s_and_api_clients_keep_json() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    let mut v = Visitor::new(&reg);
    for (path, says) in [
        (
            "/gibt/es/nicht",
            "Unter dieser Adresse gibt es keine Seite.",
        ),
        (
            "/pakete/kassel/gibtesnicht",
            "Das Paket „kassel/gibtesnicht“ gibt es nicht.",
        ),
        (
            "/pakete/kassel/bewohnerparkausweis?version=9.9.9",
            "Die Version 9.9.9 von „kassel/bewohnerparkausweis“ gibt es nicht.",
        ),
        (
            "/namensraeume/gibtesnicht",
            "Den Namensraum „gibtesnicht“ gibt es nicht.",
        ),
        (
            "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@7.0.0",
            "Die Version 7.0.0",
        ),
    ] {
        let r = v.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_page(&r, path);
        assert!(r.text().contains(says), "{path}: {}", r.text());
        assert!(r.text().contains("<h1>Nicht gefunden</h1>"));
    }
    let bad = v.get("/vergleich?von=kaputt&zu=auch");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("Ungültige Eingabe"));
    // Without Accept: text/html, the JSON envelope as before.
    let api = reg.get("/gibt/es/nicht");
    assert_eq!((api.status, api.error_code().as_str()), (404, "not_found"));
}

/// A package whose title, description, label, help text and README all
/// try to run script.
fn hostile_package() -> PackageDir {
    let p = pkg_with("kassel/boese", "1.0.0", "");
    p.write(
        "gemeinwerk.toml",
        &common::manifest(
            "kassel/boese",
            "1.0.0",
            "title = \"Titel <script>window.__pwned='titel'</script>\"\n",
        )
        .replace(
            "description = \"Ein Testformular\"",
            "description = \"Beschreibung <script>window.__pwned='beschreibung'</script><img src=x onerror=window.__pwned=1>\"",
        ),
    )
    .write(
        "form.toml",
        "[form]\ntitle = \"Testantrag\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n\
         [[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name <script>window.__pwned='label'</script>\"\n\
         help = \"Hilfe <img src=x onerror=window.__pwned='hilfe'>\"\nrequired = true\n",
    )
    .write(
        "README.md",
        "# Harmlos\n\n<script>window.__pwned='readme'</script>\n\n<img src=x onerror=\"window.__pwned='readme-img'\">\n\n[klick](javascript:window.__pwned='link')\n\n<a href=\"#\" onclick=\"window.__pwned='a'\">a</a>\n",
    );
    p
}

#[test]
fn script_in_readme_label_and_description_is_neutralised() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let r = reg.publish_bytes(Some(&token), &archive_of(&hostile_package()));
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for_search(&reg, "q=boese", std::time::Duration::from_secs(30), |v| {
        v["total"].as_u64().unwrap_or(0) > 0
    });

    let mut v = Visitor::new(&reg);
    for path in [
        "/pakete/kassel/boese",
        "/pakete/kassel/boese/vorschau",
        "/",
        "/suche?q=boese",
        "/namensraeume/kassel",
    ] {
        let r = v.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_page(&r, path);
        let html = r.text();
        for bad in [
            "<script>window",
            "<img src=x onerror",
            "javascript:",
            "onclick=",
        ] {
            assert!(!html.contains(bad), "{path}: {bad} got through");
        }
    }
    let html = v.get("/pakete/kassel/boese").text();
    assert!(
        html.contains("Titel &#60;script&#62;"),
        "the title is escaped"
    );
    assert!(
        html.contains("Beschreibung &#60;script&#62;"),
        "the description is escaped"
    );
    assert!(
        html.contains("Name &#60;script&#62;"),
        "the label is escaped"
    );
    assert!(html.contains("Hilfe &#60;img"), "the help text is escaped");
    assert!(html.contains("<h1>Harmlos</h1>"), "the README is rendered");
    assert!(
        !html.contains("__pwned='readme'"),
        "the README script is removed"
    );
}

both_backends! {
    fn members_sign_in_yank_and_every_post_needs_the_csrf_token(reg) {
        let token = reg.owner_of("kassel");
        for version in ["1.0.0", "1.1.0"] {
            assert_eq!(reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", version))).status, 200);
        }
        let mut pages = Vec::new();

        // The sign-in form itself is CSRF-protected and refuses bad tokens
        // in German, without echoing them.
        let mut v = Visitor::new(reg);
        let form = v.get("/anmelden");
        assert_page(&form, "/anmelden");
        let refused = v.post("/anmelden", &[("csrf", "falsch"), ("token", &token)]);
        assert_eq!(refused.status, 403);
        assert!(!v.cookies.contains_key("gw_sitzung"));
        let wrong = v.sign_in("gw_0000000000000000000000000000000000000000000000000000000000000000");
        assert_eq!(wrong.status, 401);
        assert!(wrong.text().contains("Dieses Token kennt die Registry nicht."));
        assert!(!wrong.text().contains("gw_00000000"), "the token is not echoed");

        let signed_in = v.sign_in(&token);
        assert_eq!(signed_in.status, 303, "{}", signed_in.text());
        assert_eq!(signed_in.header("location"), Some("/konto"));
        let cookie = signed_in.header("set-cookie").unwrap_or_default().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(!cookie.contains(&token), "the cookie does not hold the token");
        let account = v.get("/konto");
        assert_eq!(account.status, 200);
        assert!(account.text().contains("kassel-owner"));
        pages.push(account.text());
        let page = v.get("/pakete/kassel/a");
        assert!(page.text().contains("Version 1.0.0 zurückziehen"), "members see the actions");
        pages.push(page.text());
        let csrf = hidden_csrf(&page.text());

        // Refused posts: no token, a wrong token, no session. Each is a
        // 403 in German and changes nothing.
        let before = reg.snapshot();
        let yank = "/pakete/kassel/a/versionen/1.0.0/zurueckziehen";
        let r = v.post(yank, &[("text", "kaputt")]);
        assert_eq!(r.status, 403);
        assert!(r.text().contains("Das Formular war nicht gültig"), "{}", r.text());
        assert_eq!(v.post(yank, &[("csrf", "0123"), ("text", "kaputt")]).status, 403);
        let mut stranger = Visitor::new(reg);
        let r = stranger.post(yank, &[("csrf", &csrf), ("text", "kaputt")]);
        assert_eq!(r.status, 403);
        assert!(r.text().contains("Dafür müssen Sie angemeldet sein"));
        for (path, form) in [
            ("/pakete/kassel/a/veraltet", vec![("text", "alt")]),
            ("/pakete/kassel/a/versionen/1.0.0/freigeben", vec![]),
            ("/namensraeume/kassel/mitglieder", vec![("login", "kassel-owner"), ("role", "publisher")]),
            ("/namensraeume/kassel/mitglieder/kassel-owner/entfernen", vec![]),
            ("/namensraeume/kassel/pipelines", vec![("issuer", "https://gitlab.com"), ("project", "stadt-kassel/formulare")]),
            ("/namensraeume/kassel/pipelines/1/entfernen", vec![]),
            ("/konto/tokens/1/widerrufen", vec![]),
            ("/abmelden", vec![]),
        ] {
            let r = v.post(path, &form);
            assert_eq!(r.status, 403, "{path} without the CSRF token");
            assert_page(&r, path);
        }
        assert_eq!(reg.snapshot(), before, "refused posts changed nothing");

        // With the token: yank, and it shows.
        let r = v.post(yank, &[("csrf", &csrf), ("text", "Fehler in der Gebühr")]);
        assert_eq!(r.status, 303, "{}", r.text());
        let info = reg.get("/api/v1/packages/kassel/a").json();
        let v100 = info["versions"].as_array().unwrap().iter().find(|v| v["num"] == "1.0.0").unwrap().clone();
        assert_eq!(v100["yanked"], true);
        assert_eq!(v100["yank_reason"], "Fehler in der Gebühr");
        let page = v.get("/pakete/kassel/a");
        assert!(page.text().contains("zurückgezogen</strong>: Fehler in der Gebühr"));
        assert!(page.text().contains("Version 1.0.0 wieder freigeben"));
        pages.push(page.text());
        assert_eq!(v.post("/pakete/kassel/a/versionen/1.0.0/freigeben", &[("csrf", &csrf)]).status, 303);
        assert_eq!(reg.get("/api/v1/packages/kassel/a").json()["versions"][1]["yanked"], false);

        // Deprecate, and lift it again.
        assert_eq!(v.post("/pakete/kassel/a/veraltet", &[("csrf", &csrf), ("text", "Bitte kassel/b nutzen")]).status, 303);
        let page = v.get("/pakete/kassel/a").text();
        assert!(page.contains("<strong>Veraltet:</strong> Bitte kassel/b nutzen"));
        pages.push(page);
        assert_eq!(v.post("/pakete/kassel/a/veraltet", &[("csrf", &csrf), ("text", "")]).status, 303);
        assert!(!v.get("/pakete/kassel/a").text().contains("Veraltet:"));

        // Members: add one, and an unknown login is refused in German.
        reg.admin_ok(&["user", "add", "bernd"]);
        assert_eq!(v.post("/namensraeume/kassel/mitglieder", &[("csrf", &csrf), ("login", "bernd"), ("role", "publisher")]).status, 303);
        let ns = v.get("/namensraeume/kassel").text();
        assert!(ns.contains("<th scope=\"row\">bernd</th><td>Veröffentlicher/in</td>"), "{ns}");
        pages.push(ns);
        let before = reg.snapshot();
        let r = v.post("/namensraeume/kassel/mitglieder", &[("csrf", &csrf), ("login", "niemand"), ("role", "owner")]);
        assert_eq!(r.status, 404);
        assert!(r.text().contains("„niemand“ gibt es nicht"));
        let r = v.post("/namensraeume/kassel/mitglieder", &[("csrf", &csrf), ("login", "bernd"), ("role", "chef")]);
        assert_eq!(r.status, 400);
        assert_eq!(reg.snapshot(), before);
        assert_eq!(v.post("/namensraeume/kassel/mitglieder/bernd/entfernen", &[("csrf", &csrf)]).status, 303);
        assert!(!v.get("/namensraeume/kassel").text().contains("<th scope=\"row\">bernd</th>"));

        // Trusted publishing: a pipeline is registered and removed on the
        // namespace's page; bad input is a German page and writes nothing.
        let before = reg.snapshot();
        let r = v.post("/namensraeume/kassel/pipelines", &[("csrf", &csrf), ("issuer", "https://gitlab.com"), ("project", "formulare")]);
        assert_eq!(r.status, 400);
        assert!(r.text().contains("gruppe/projekt"), "{}", r.text());
        let r = v.post("/namensraeume/kassel/pipelines", &[("csrf", &csrf), ("issuer", "https://gitlab.example"), ("project", "stadt-kassel/formulare")]);
        assert_eq!(r.status, 400);
        assert!(r.text().contains("Diesem Aussteller vertraut die Registry nicht"), "{}", r.text());
        assert_eq!(reg.snapshot(), before);
        let r = v.post("/namensraeume/kassel/pipelines", &[("csrf", &csrf), ("issuer", "https://gitlab.opencode.de"), ("project", "stadt-kassel/formulare"), ("package", ""), ("ref_pattern", "v*"), ("environment", "")]);
        assert_eq!(r.status, 303, "{}", r.text());
        let ns = v.get("/namensraeume/kassel").text();
        assert!(ns.contains("<th scope=\"row\"><code>stadt-kassel/formulare</code></th><td>https://gitlab.opencode.de</td>"), "{ns}");
        assert!(ns.contains("<td>alle Pakete</td>") && ns.contains("<code>v*</code>"), "{ns}");
        pages.push(ns);
        let id = reg.request("GET", "/api/v1/namespaces/kassel/trusted-publishers", Some(&token), None).json()["trusted_publishers"][0]["id"].as_i64().unwrap();
        assert_eq!(v.post(&format!("/namensraeume/kassel/pipelines/{id}/entfernen"), &[("csrf", &csrf)]).status, 303);
        assert!(v.get("/namensraeume/kassel").text().contains("Noch keine Pipeline eingetragen"));

        // No page a member saw holds the token.
        for p in ["/", "/suche?q=a", "/pakete/kassel/a/vorschau", "/vergleich?von=kassel/a@1.0.0&zu=kassel/a@1.1.0"] {
            pages.push(v.get(p).text());
        }
        for html in &pages {
            assert!(!html.contains(&token), "a page shows the token");
            assert!(!html.contains(&token[3..20]), "a page shows part of the token");
        }

        // Sign out ends the session on the server.
        let session = v.cookies["gw_sitzung"].clone();
        assert_eq!(v.post("/abmelden", &[("csrf", &csrf)]).status, 303);
        let mut replay = Visitor::new(reg);
        replay.cookies.insert("gw_sitzung".into(), session);
        assert_eq!(replay.post(yank, &[("csrf", &csrf)]).status, 403, "the old session id is dead");
    }

    fn a_member_without_rights_is_refused_and_a_revoked_token_ends_the_session(reg) {
        let owner = reg.owner_of("kassel");
        assert_eq!(reg.publish_bytes(Some(&owner), &archive_of(&pkg("kassel/a", "1.0.0"))).status, 200);
        reg.namespace("darmstadt").user("dora", "darmstadt", "owner");
        let dora = reg.token("dora", &["--scope", "yank,owners"]);
        let mut v = Visitor::new(reg);
        assert_eq!(v.sign_in(&dora).status, 303);
        let page = v.get("/pakete/kassel/a").text();
        assert!(!page.contains("zurückziehen</button>"), "no actions for non-members");
        let csrf = v.get("/konto").text();
        let csrf = hidden_csrf(&csrf);
        let before = reg.snapshot();
        let r = v.post("/pakete/kassel/a/versionen/1.0.0/zurueckziehen", &[("csrf", &csrf)]);
        assert_eq!(r.status, 403);
        assert!(r.text().contains("Sie sind nicht Mitglied im Namensraum „kassel“."), "{}", r.text());
        let r = v.post("/namensraeume/kassel/mitglieder", &[("csrf", &csrf), ("login", "dora"), ("role", "owner")]);
        assert_eq!(r.status, 403);
        assert_eq!(reg.snapshot(), before);

        // Dora revokes her own token: the session ends with it.
        let account = v.get("/konto").text();
        let at = account.find("/konto/tokens/").expect("a revoke form");
        let id: String = account[at + "/konto/tokens/".len()..].chars().take_while(char::is_ascii_digit).collect();
        // Someone else's token is not hers to revoke, and nothing changes.
        let before = reg.snapshot();
        let r = v.post("/konto/tokens/1/widerrufen", &[("csrf", &csrf)]);
        assert_eq!(r.status, 404, "{}", r.text());
        assert!(r.text().contains("Dieses Token gibt es in Ihrem Konto nicht."));
        assert_eq!(reg.snapshot(), before);
        let r = v.post(&format!("/konto/tokens/{id}/widerrufen"), &[("csrf", &csrf)]);
        assert_eq!(r.status, 303, "{}", r.text());
        assert_eq!(r.header("location"), Some("/anmelden"), "signed out with the token");
        assert_eq!(reg.request("DELETE", "/api/v1/packages/kassel/a/1.0.0/yank", Some(&dora), None).error_code(), "revoked_token");
        assert!(!v.get("/").text().contains("Angemeldet als"));
        let r = v.post("/namensraeume/darmstadt/mitglieder", &[("csrf", &csrf), ("login", "dora"), ("role", "owner")]);
        assert_eq!(r.status, 403, "{}", r.text());
        // A revoked token cannot sign in again.
        let r = v.sign_in(&dora);
        assert_eq!(r.status, 401);
        assert!(r.text().contains("Dieses Token wurde widerrufen."));
    }
}

/// Every column of every web session row, as text.
fn session_rows(reg: &TestRegistry) -> Vec<String> {
    use diesel::prelude::*;
    use gemeinwerk_server::store::schema::web_sessions;
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    let rows: Vec<(
        String,
        i64,
        String,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    )> = web_sessions::table
        .select((
            web_sessions::id_hash,
            web_sessions::token_id,
            web_sessions::csrf,
            web_sessions::created_at,
            web_sessions::last_seen_at,
        ))
        .load(&mut *conn)
        .unwrap();
    rows.iter().map(|r| format!("{r:?}")).collect()
}

/// Moves a session's last request `seconds` into the past.
fn age_session(reg: &TestRegistry, id: &str, seconds: i64) -> chrono::NaiveDateTime {
    use diesel::prelude::*;
    use gemeinwerk_server::store::schema::web_sessions;
    let at = gemeinwerk_server::store::db::now() - chrono::Duration::seconds(seconds);
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    diesel::update(web_sessions::table.find(gemeinwerk_server::registry::secrets::digest(id)))
        .set(web_sessions::last_seen_at.eq(at))
        .execute(&mut *conn)
        .unwrap();
    at
}

fn last_seen(reg: &TestRegistry, id: &str) -> Option<chrono::NaiveDateTime> {
    use diesel::prelude::*;
    use gemeinwerk_server::store::schema::web_sessions;
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    web_sessions::table
        .find(gemeinwerk_server::registry::secrets::digest(id))
        .select(web_sessions::last_seen_at)
        .first(&mut *conn)
        .optional()
        .unwrap()
}

pub(crate) fn signed_in_as(v: &mut Visitor, login: &str) -> bool {
    let r = v.get("/konto");
    r.status == 200 && r.text().contains(login)
}

/// Sessions are database rows: they survive a restart, work on every node
/// over the same database, hold neither the session id nor a token, end
/// when idle or when their token is revoked, and a forged cookie is just
/// "not signed in".
fn sessions_live_in_the_database(backend: common::Backend) {
    let mut reg = TestRegistry::start(backend);
    let token = reg.owner_of("kassel");
    assert_eq!(
        reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")))
            .status,
        200
    );
    let yank = "/pakete/kassel/a/versionen/1.0.0/zurueckziehen";

    // Looking at the sign-in form and failing to sign in start no session;
    // the refused sign-in is in the audit log, and nothing else is written.
    let before = reg.snapshot();
    let sessions_before = session_rows(&reg);
    let mut v = Visitor::new(&reg);
    assert_eq!(v.get("/anmelden").status, 200);
    assert_eq!(
        v.post("/anmelden", &[("csrf", "falsch"), ("token", &token)])
            .status,
        403
    );
    assert_eq!(
        v.sign_in("gw_0000000000000000000000000000000000000000000000000000000000000000")
            .status,
        401
    );
    assert_eq!(session_rows(&reg), sessions_before);
    assert_ne!(reg.snapshot(), before, "the refused sign-in is audited");
    assert_eq!(
        session_rows(&reg),
        sessions_before,
        "no session row for a page view or a refused sign-in"
    );

    assert_eq!(v.sign_in(&token).status, 303);
    let id = v.cookies["gw_sitzung"].clone();
    assert_eq!(id.len(), 64);
    let rows = session_rows(&reg);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains(&gemeinwerk_server::registry::secrets::digest(&id)),
        "{rows:?}"
    );
    assert!(!rows[0].contains(&id), "the row holds the session id");
    assert!(!rows[0].contains(&token[3..]), "the row holds the token");
    if backend == common::Backend::Sqlite {
        // Not in any page of the database file or its log either.
        for file in ["gemeinwerk.db", "gemeinwerk.db-wal"] {
            let bytes = std::fs::read(reg.data_dir.path().join(file)).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(&id), "{file} holds the session id");
            assert!(!text.contains(&token[3..]), "{file} holds the token");
        }
    }

    // A restart signs nobody out.
    reg.stop();
    reg.launch();
    v.base = reg.url.clone();
    assert!(
        signed_in_as(&mut v, "kassel-owner"),
        "signed out by a restart"
    );
    let csrf = hidden_csrf(&v.get("/pakete/kassel/a").text());
    assert_eq!(
        v.post(yank, &[("csrf", &csrf), ("text", "nach Neustart")])
            .status,
        303
    );
    assert_eq!(
        reg.get("/api/v1/packages/kassel/a").json()["versions"][0]["yanked"],
        true
    );

    // Another node over the same database knows the session: no sticky
    // sessions needed. (PostgreSQL only: SQLite serves one node, see
    // nodes.rs; there a fresh visitor with the cookie stands in.)
    let node = (backend == common::Backend::Postgres).then(|| reg.second_node());
    let mut w = Visitor::new(node.as_ref().unwrap_or(&reg));
    w.cookies = v.cookies.clone();
    assert!(
        signed_in_as(&mut w, "kassel-owner"),
        "the second node does not know the session"
    );
    let r = w.post(
        "/pakete/kassel/a/versionen/1.0.0/freigeben",
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        reg.get("/api/v1/packages/kassel/a").json()["versions"][0]["yanked"],
        false
    );

    // Forged and unknown cookies are "not signed in", on every request,
    // and change nothing; the stored hash is no cookie either.
    let before = reg.snapshot();
    let mut changed = id.clone();
    changed.replace_range(..1, if id.starts_with('0') { "1" } else { "0" });
    for forged in [
        "0".repeat(64),
        changed,
        gemeinwerk_server::registry::secrets::digest(&id),
        "kein-hex".to_string(),
        format!("{id}00"),
        token.clone(),
    ] {
        let mut f = Visitor::new(&reg);
        f.cookies.insert("gw_sitzung".into(), forged.clone());
        let r = f.get("/konto");
        assert_eq!(r.status, 303, "{forged}: {}", r.text());
        assert!(!f.get("/").text().contains("Angemeldet als"), "{forged}");
        let r = f.post(yank, &[("csrf", &csrf), ("text", "untergeschoben")]);
        assert_eq!(r.status, 403, "{forged}");
        assert!(
            r.text().contains("Dafür müssen Sie angemeldet sein"),
            "{forged}"
        );
    }
    assert_eq!(reg.snapshot(), before, "forged cookies changed something");

    // Pages mark a session seen at most once a minute, not on every request.
    let recent = age_session(&reg, &id, 10);
    v.get("/");
    assert_eq!(
        last_seen(&reg, &id),
        Some(recent),
        "written again within the minute"
    );
    let old = age_session(&reg, &id, 120);
    v.get("/");
    assert!(
        last_seen(&reg, &id).unwrap() > old,
        "not marked seen after two minutes"
    );

    // Revoking a token (here by the admin) ends its sessions on every
    // node; the member's other sessions stay.
    let second = reg.token("kassel-owner", &["--scope", "yank"]);
    let mut x = Visitor::new(node.as_ref().unwrap_or(&reg));
    assert_eq!(x.sign_in(&second).status, 303);
    let second_id = x.cookies["gw_sitzung"].clone();
    assert_eq!(session_rows(&reg).len(), 2);
    reg.admin_ok(&["token", "revoke", &second]);
    assert_eq!(
        session_rows(&reg).len(),
        1,
        "the revoked token's session is gone"
    );
    assert_eq!(last_seen(&reg, &second_id), None);
    assert!(!signed_in_as(&mut x, "kassel-owner"));
    x.base = reg.url.clone();
    assert!(!signed_in_as(&mut x, "kassel-owner"));
    assert!(
        signed_in_as(&mut v, "kassel-owner"),
        "another token's session ended too"
    );

    // An expired token: the session is still there but acts no more.
    {
        use diesel::prelude::*;
        use gemeinwerk_server::store::schema::api_tokens;
        let db = reg.db();
        let mut conn = db.conn().unwrap();
        let hash = gemeinwerk_server::registry::secrets::digest(&token);
        diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(hash)))
            .set(api_tokens::expires_at.eq(Some(
                chrono::Utc::now().naive_utc() - chrono::Duration::hours(1),
            )))
            .execute(&mut *conn)
            .unwrap();
    }
    let before = reg.snapshot();
    let r = v.post(yank, &[("csrf", &csrf), ("text", "abgelaufen")]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(
        r.text().contains("Bitte melden Sie sich erneut an."),
        "{}",
        r.text()
    );
    assert_eq!(reg.snapshot(), before);

    // After eight idle hours a session ends, and the next sign-in clears
    // out such rows.
    age_session(&reg, &id, 8 * 3600 + 1);
    assert!(
        !signed_in_as(&mut v, "kassel-owner"),
        "an idle session still works"
    );
    assert_eq!(
        last_seen(&reg, &id),
        None,
        "the idle session was not removed"
    );
    let third = reg.token("kassel-owner", &["--scope", "yank"]);
    let mut y = Visitor::new(&reg);
    assert_eq!(y.sign_in(&third).status, 303);
    let idle = y.cookies["gw_sitzung"].clone();
    age_session(&reg, &idle, 9 * 3600);
    let mut z = Visitor::new(&reg);
    assert_eq!(z.sign_in(&third).status, 303);
    assert_eq!(
        last_seen(&reg, &idle),
        None,
        "idle rows are purged on sign-in"
    );
    assert_eq!(session_rows(&reg).len(), 1);
}

#[test]
fn sessions_live_in_the_database_sqlite() {
    sessions_live_in_the_database(common::Backend::Sqlite);
}

#[test]
fn sessions_live_in_the_database_postgres() {
    sessions_live_in_the_database(common::Backend::Postgres);
}

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Headless Chromium (playwright-core) with axe-core: the scenarios of
/// issue 7 and an accessibility check of every page type. Screenshots go
/// to `$CARGO_TARGET_DIR/screenshots` (or `target/screenshots`).
#[test]
fn browser_scenarios_and_accessibility_in_headless_chromium() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("Chromium is missing: install Debian's `chromium` (apt-get install chromium); .ci/run does");
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists()
            && dir.join("node_modules/axe-core").exists(),
        "tests/browser/node_modules is missing: run `npm ci` in tests/browser (.ci/run does)"
    );
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    let token = reg.demo_token("kassel");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let r = reg.publish_bytes(Some(&token), &archive_of(&hostile_package()));
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for_search(&reg, "q=boese", std::time::Duration::from_secs(30), |v| {
        v["total"].as_u64().unwrap_or(0) > 0
    });
    let shots = target.join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(dir.join("run.mjs"))
        .env("GW_BASE_URL", &reg.url)
        .env("GW_TOKEN", &token)
        .env("GW_CHROMIUM", chromium)
        .env("GW_SCREENSHOTS", &shots)
        .current_dir(&dir)
        .output()
        .expect("node is missing: install Node.js (apt-get install nodejs npm)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser tests failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    // The yank made in the browser landed in the registry.
    let info = reg
        .get("/api/v1/packages/kassel/bewohnerparkausweis")
        .json();
    let yanked: Vec<&str> = info["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["yanked"] == true)
        .map(|v| v["num"].as_str().unwrap())
        .collect();
    assert_eq!(yanked, ["1.0.0"]);
    for page in [
        "start",
        "suche",
        "paket-formular",
        "paket-prozess",
        "vorschau",
        "vergleich",
        "namensraum",
        "anmelden",
        "konto",
        "fehler-404",
    ] {
        assert!(
            shots.join(format!("{page}.png")).exists(),
            "no screenshot of {page}"
        );
    }
}

#[test]
fn forks_dependents_and_the_fork_diff_show_on_the_pages() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let kassel = reg.owner_of("kassel");
    let darmstadt = reg.owner_of("darmstadt");
    let tmp = tempfile::tempdir().unwrap();
    let up = pkg("kassel/bewohnerparkausweis", "1.0.0");
    assert!(reg
        .cli(Some(&kassel), &["publish", up.path_str()])
        .status
        .success());
    let dir = tmp.path().join("fork");
    let out = reg.cli(
        Some(&darmstadt),
        &[
            "fork",
            "kassel/bewohnerparkausweis@1.0.0",
            "darmstadt/bewohnerparkausweis",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let form = std::fs::read_to_string(dir.join("form.toml")).unwrap();
    std::fs::write(
        dir.join("form.toml"),
        format!("{form}\n[[field]]\nid = \"telefon\"\ntype = \"phone\"\nlabel = \"Telefon\"\n"),
    )
    .unwrap();
    let out = reg.cli(Some(&darmstadt), &["publish", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A third municipality depends on Kassel's form.
    let user = reg.owner_of("fulda");
    let dependent = pkg_with(
        "fulda/antrag",
        "1.0.0",
        "\n[dependencies]\n\"kassel/bewohnerparkausweis\" = \"^1.0\"\n",
    );
    let r = reg.publish_bytes(Some(&user), &archive_of(&dependent));
    assert_eq!(r.status, 200, "{}", r.text());

    let mut v = Visitor::new(&reg);
    let upstream = v.get("/pakete/kassel/bewohnerparkausweis").text();
    assert!(upstream.contains("<a href=\"/pakete/darmstadt/bewohnerparkausweis\">darmstadt/bewohnerparkausweis</a>, abgeleitet von kassel/bewohnerparkausweis@1.0.0"), "{upstream}");
    assert!(
        upstream.contains("<li><a href=\"/pakete/fulda/antrag\">fulda/antrag</a></li>"),
        "dependents are listed"
    );
    assert!(
        upstream.contains("<dd>2 weiteren Kommunen</dd>"),
        "Darmstadt and Fulda use it"
    );
    let fork = v.get("/pakete/darmstadt/bewohnerparkausweis").text();
    assert!(fork.contains("Dieses Paket ist abgeleitet von"));
    let link = "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&#38;zu=darmstadt/bewohnerparkausweis@1.0.0";
    assert!(
        fork.contains(link) || fork.contains(&link.replace("&#38;", "&amp;")),
        "{fork}"
    );
    let diff = v.get(
        "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=darmstadt/bewohnerparkausweis@1.0.0",
    );
    assert_eq!(diff.status, 200, "{}", diff.text());
    assert_page(&diff, "/vergleich");
    let diff = diff.text();
    assert!(diff.contains("<code>telefon</code>"), "{diff}");
    assert!(diff.contains("hinzugefügt"));
    // What the fork changed, in German; the other name and the
    // [forked-from] table do not count and do not make it "breaking".
    assert!(
        diff.contains("Was die Ableitung gegenüber dem Original geändert hat"),
        "{diff}"
    );
    assert!(diff.contains("ein neues freiwilliges Feld"), "{diff}");
    assert!(
        diff.contains("<strong>mittel (neue Möglichkeiten)</strong>"),
        "{diff}"
    );
    assert!(!diff.contains("größer (nicht abwärtskompatibel)"), "{diff}");
    assert!(
        !diff.contains("Paketname") && !diff.contains("Herkunft (abgeleitet von)"),
        "{diff}"
    );
    assert!(diff.contains("1 Änderung<"), "{diff}");
    // The other way round: the upstream against its fork.
    let back = v
        .get("/vergleich?von=darmstadt/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@1.0.0")
        .text();
    assert!(
        back.contains("Was das Original gegenüber der Ableitung anders hat"),
        "{back}"
    );
    assert!(!back.contains("Paketname"), "{back}");
}

// A package many others depend on: its page names the first 50 by name,
// counts the rest, and counts each municipality once, on both databases
// (what the publishes recorded, not a scan of every dependency).
both_backends! {
    fn a_popular_package_lists_fifty_dependents_and_counts_the_rest(reg) {
        let kassel = reg.owner_of("kassel");
        let base = pkg("kassel/meldebescheinigung", "1.0.0");
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&base));
        assert_eq!(r.status, 200, "{}", r.text());
        let owners: Vec<(&str, String)> = ["fulda", "giessen", "marburg"]
            .into_iter()
            .map(|ns| (ns, reg.owner_of(ns)))
            .collect();
        let dependency = "\n[dependencies]\n\"kassel/meldebescheinigung\" = \"^1.0\"\n";
        for i in 0..53 {
            let (ns, token) = &owners[i % owners.len()];
            // Two versions each: a package is one dependent however often it
            // is published.
            for version in ["1.0.0", "1.1.0"] {
                let p = pkg_with(&format!("{ns}/antrag-{i:02}"), version, dependency);
                let r = reg.publish_bytes(Some(token), &archive_of(&p));
                assert_eq!(r.status, 200, "{}", r.text());
            }
        }
        // Kassel's own package that depends on it counts no municipality.
        let own = pkg_with("kassel/anhang", "1.0.0", dependency);
        let r = reg.publish_bytes(Some(&kassel), &archive_of(&own));
        assert_eq!(r.status, 200, "{}", r.text());

        let mut v = Visitor::new(reg);
        let page = v.get("/pakete/kassel/meldebescheinigung").text();
        let section = &page[page.find("<h3>Genutzt von</h3>").unwrap()..];
        let section = &section[..section.find("</section>").unwrap()];
        let listed: Vec<&str> = section
            .split("<li><a href=\"/pakete/")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(listed.len(), 50, "{section}");
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "by name");
        assert_eq!(listed[0], "fulda/antrag-00");
        assert!(listed.contains(&"kassel/anhang"));
        assert!(
            section.contains("… und 4 weitere Pakete."),
            "54 dependents, 50 listed: {section}"
        );
        assert!(
            page.contains("<dd>3 weiteren Kommunen</dd>"),
            "Fulda, Gießen and Marburg; not Kassel itself"
        );
        // A package with a few dependents lists them without a count.
        let few = v.get("/pakete/fulda/antrag-00").text();
        assert!(few.contains("Noch kein anderes Paket nutzt dieses Paket."));
    }

}

#[test]
fn the_preview_checks_entered_values_without_javascript() {
    let reg = TestRegistry::start_with(Backend::Sqlite, &["--demo"]);
    let mut v = Visitor::new(&reg);
    let base = "/pakete/kassel/bewohnerparkausweis/vorschau";
    let checked = v.get(&format!(
        "{base}?_pruefen=ja&fahrzeug.kennzeichen=KS+AB+1&fahrzeug.halter=ja&parkzone=Q"
    ));
    assert_eq!(checked.status, 200);
    assert_page(&checked, base);
    let html = checked.text();
    for expected in [
        // A pattern, next to its field and in the summary.
        "<p class=\"feldfehler\" id=\"f-fahrzeug-kennzeichen-fehler\">„Amtliches Kennzeichen“ hat nicht die erwartete Form.</p>",
        "<a href=\"#f-fahrzeug-kennzeichen\">„Amtliches Kennzeichen“ hat nicht die erwartete Form.</a>",
        // A value outside the code list.
        "<a href=\"#f-parkzone\">Bitte wählen Sie bei „Bewohnerparkzone“ einen Eintrag aus der Liste.</a>",
        // A required field of an included field group.
        "<a href=\"#f-antragsteller-familienname\">Bitte füllen Sie „Familienname“ aus.</a>",
        "id=\"vorschau-fehler\"",
        "aria-invalid=\"true\"",
        "data-regel=",
    ] {
        assert!(html.contains(expected), "the checked preview lacks {expected}");
    }
    assert_eq!(
        html.matches(" autofocus").count(),
        1,
        "the first error gets the focus"
    );
    // The holder: the reason is hidden and not asked for.
    // (The messages also sit in each field's compiled rules for the script;
    // a reported problem is a link in the summary and a paragraph.)
    assert!(
        !html.contains("f-fahrzeug-nutzungsgrund-fehler"),
        "hidden fields are not checked"
    );
    // Not the holder: required-when asks for the reason.
    let html = v.get(&format!("{base}?_pruefen=ja")).text();
    assert!(html.contains("<a href=\"#f-fahrzeug-nutzungsgrund\">Bitte wählen Sie bei „Warum nutzen Sie das Fahrzeug?“ etwas aus.</a>"));
    assert!(html.contains(
        "<a href=\"#f-fahrzeug-kennzeichen\">Bitte füllen Sie „Amtliches Kennzeichen“ aus.</a>"
    ));
    // Without the check button nothing is reported.
    let html = v
        .get(&format!("{base}?fahrzeug.kennzeichen=KS+AB+1"))
        .text();
    assert!(!html.contains("feldfehler") && !html.contains(" autofocus"));

    // An optional group has no fields (and no required ones) until added.
    let dog = "/pakete/darmstadt/hundesteuer-anmeldung";
    let html = v.get(dog).text();
    assert!(!html.contains("name=\"lastschrift.iban\""), "{html}");
    assert!(html.contains("Angaben hinzufügen: SEPA-Lastschriftmandat"));
    let html = v.get(&format!("{dog}/vorschau?_mehr=lastschrift")).text();
    assert!(html.contains("name=\"lastschrift.iban\""));
    let html = v
        .get(&format!(
            "{dog}/vorschau?_anzahl.lastschrift=1&lastschrift.iban=DE03+1203+0000+0000+2020+51&_pruefen=ja"
        ))
        .text();
    assert!(
        html.contains(
            "<a href=\"#f-lastschrift-iban\">Bitte geben Sie bei „IBAN“ eine gültige IBAN"
        ),
        "{html}"
    );
    let html = v
        .get(&format!(
            "{dog}/vorschau?_anzahl.lastschrift=1&lastschrift.iban=DE02+1203+0000+0000+2020+51&_pruefen=ja"
        ))
        .text();
    assert!(
        !html.contains("f-lastschrift-iban-fehler"),
        "a valid IBAN passes"
    );
}

/// The server's log is plain text when it is not written to a terminal.
#[test]
fn the_server_log_has_no_colour_codes_in_a_file() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(common::BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--data-dir", data.path().join("d").to_str().unwrap()])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while ureq::get(&format!("http://127.0.0.1:{port}/healthz"))
        .call()
        .is_err()
    {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = ureq::get(&format!("http://127.0.0.1:{port}/gibt-es-nicht")).call();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.trim().is_empty(), "the server logged nothing");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in the log: {text:?}"
    );
}

#[test]
fn a_malformed_form_post_gets_a_german_page() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let r = reg.request_with(
        "POST",
        "/anmelden",
        None,
        Some(b"\xff\xfe"),
        &[
            ("Content-Type", "application/json"),
            ("Accept", "text/html"),
        ],
    );
    assert_eq!(r.status, 400);
    assert_page(&r, "/anmelden");
    assert!(r.text().contains("Ungültige Eingabe"));
}

/// Cookies are `Secure` when the public URL is https (the browser speaks
/// TLS to a proxy in front), and not on a plain-http registry, where a
/// `Secure` cookie would never come back.
#[test]
fn cookies_are_secure_behind_https() {
    for (public_url, secure) in [("https://formulare.example.org", true), ("", false)] {
        let args: Vec<&str> = if public_url.is_empty() {
            vec![]
        } else {
            vec!["--public-url", public_url]
        };
        let reg = TestRegistry::start_with(Backend::Sqlite, &args);
        let signin = reg.get("/anmelden");
        let cookie = signin.header("set-cookie").unwrap_or_default().to_string();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert_eq!(
            cookie.contains("; Secure"),
            secure,
            "{public_url}: {cookie}"
        );
    }
}

/// A small deterministic generator, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Texts a person (or a careless script) might type: valid and invalid
/// numbers, dates, times, e-mail addresses, IBANs, postal codes, codes,
/// blanks, umlauts, digits of other scripts and characters outside the
/// Basic Multilingual Plane.
const TEXTS: &[&str] = &[
    "",
    " ",
    "\t",
    "a",
    "b",
    "c",
    "x",
    "B",
    "KS-AB 123",
    "KS AB 1",
    "ÄÖ-Ü 1",
    "2024-02-29",
    "2023-02-29",
    "2000-06-15",
    "2026-06-15",
    "2008-01-01",
    "08:30",
    "24:00",
    "23:59:59",
    "2024-02-29T08:30",
    "30,70",
    "30.70",
    "-5",
    "12",
    "17",
    "17,5",
    "18",
    "0",
    "-0",
    "1e5",
    "0x10",
    " 5",
    "5.",
    "007",
    "a@b.de",
    "a@b",
    "x y@z.de",
    "@b.de",
    "a@.de",
    "DE02 1203 0000 0000 2020 51",
    "DE03120300000000202051",
    "de02120300000000202051",
    "34117",
    "3411",
    "٣٤١١٧",
    "Müller",
    "Straße",
    "𝔘nicode",
    "\u{1F600}",
    "ÿ",
    "\u{FF21}",
    "+49 561 123",
    "(0561) 12-34",
    "12",
    "abc",
    "a\nc",
    "aXc",
    "ab",
    "abcd",
    "cdab",
];
const PATTERNS: &[&str] = &[
    "[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [0-9]{1,4}",
    r"\d{5}",
    r"[\w-]+",
    "a.c",
    "(?:ab|cd)+",
    "[^0-9]*",
    r"\S+",
    "[a-c]?[x-z]*",
];
const SLOTS: &[(&str, gemeinwerk_package::eval::Slot)] = {
    use gemeinwerk_package::eval::Slot::*;
    &[
        ("b", Bool),
        ("n", Number),
        ("t", Text),
        ("d", Text),
        ("m", Multi),
        ("g", Group),
    ]
};

fn random_val(rng: &mut Rng) -> gemeinwerk_package::eval::Val {
    use gemeinwerk_package::eval::Val;
    match rng.below(5) {
        0 => Val::Null,
        1 => Val::Bool(rng.chance(50)),
        2 => Val::Number(*rng.pick(&[-1.0, 0.0, 1.0, 2.0, 17.5, 18.0, 30.7])),
        3 => Val::Text(rng.pick(TEXTS).to_string()),
        _ => Val::List(
            ["a", "b", "x"]
                .iter()
                .filter(|_| rng.chance(50))
                .map(|s| s.to_string())
                .collect(),
        ),
    }
}

fn random_cond(rng: &mut Rng, depth: usize) -> gemeinwerk_package::eval::Cond {
    use gemeinwerk_package::eval::{Call, Cond, Op};
    let leaf = depth == 0 || rng.chance(30);
    if leaf {
        return if rng.chance(60) {
            let (name, slot) = *rng.pick(SLOTS);
            Cond::Input {
                name: name.into(),
                slot,
            }
        } else {
            Cond::Lit { v: random_val(rng) }
        };
    }
    let sub = |rng: &mut Rng| Box::new(random_cond(rng, depth - 1));
    match rng.below(6) {
        0 => Cond::Not { e: sub(rng) },
        1 => Cond::And {
            a: sub(rng),
            b: sub(rng),
        },
        2 => Cond::Or {
            a: sub(rng),
            b: sub(rng),
        },
        3 => Cond::Cmp {
            op: *rng.pick(&[Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]),
            a: sub(rng),
            b: sub(rng),
        },
        4 => Cond::In {
            e: sub(rng),
            list: (0..rng.below(4)).map(|_| random_val(rng)).collect(),
            neg: rng.chance(50),
        },
        _ => {
            let f = *rng.pick(&[Call::IsSet, Call::Count, Call::YearsSince, Call::Today]);
            let args = if f == Call::Today {
                Vec::new()
            } else {
                vec![random_cond(rng, depth - 1)]
            };
            Cond::Call { f, args }
        }
    }
}

fn random_rule(rng: &mut Rng) -> gemeinwerk_package::eval::FieldRule {
    use gemeinwerk_package::eval::{self, FieldRule, Kind, Val};
    let kind = *rng.pick(&[
        Kind::Text,
        Kind::Number,
        Kind::Integer,
        Kind::Date,
        Kind::Time,
        Kind::DateTime,
        Kind::Email,
        Kind::Phone,
        Kind::Iban,
        Kind::Postal,
        Kind::Bool,
        Kind::Choice,
        Kind::Multi,
        Kind::File,
    ]);
    let name = match kind {
        Kind::Bool => "b",
        Kind::Multi => "m",
        Kind::Number | Kind::Integer => "n",
        Kind::Date => "d",
        _ => *rng.pick(&["t", "d", "n"]),
    };
    let mut r = FieldRule::new(name, kind);
    r.required = rng.chance(40);
    if rng.chance(30) {
        r.required_when = Some(random_cond(rng, 2));
    }
    for _ in 0..rng.below(3) {
        r.shown_when.push(random_cond(rng, 2));
    }
    if matches!(kind, Kind::Text | Kind::Email | Kind::Phone) && rng.chance(60) {
        let p = rng.pick(PATTERNS).to_string();
        r.pattern_js = eval::pattern_for_browser(&p);
        assert!(r.pattern_js.is_some(), "{p} is meant to translate");
        r.pattern = Some(p);
    }
    if rng.chance(30) {
        r.min_length = Some(rng.below(4) as u64);
    }
    if rng.chance(30) {
        r.max_length = Some(rng.below(10) as u64);
    }
    let bound = |rng: &mut Rng| match kind {
        Kind::Number | Kind::Integer => Some(Val::Number(*rng.pick(&[-1.0, 0.0, 12.0, 17.5]))),
        Kind::Date => Some(Val::Text(
            rng.pick(&["2000-01-01", "2024-02-29", "2026-06-15"])
                .to_string(),
        )),
        Kind::Time => Some(Val::Text(rng.pick(&["08:00", "12:30"]).to_string())),
        _ => None,
    };
    if rng.chance(40) {
        r.min = bound(rng);
    }
    if rng.chance(40) {
        r.max = bound(rng);
    }
    if matches!(kind, Kind::Choice | Kind::Multi) && rng.chance(70) {
        r.codes = Some(vec!["a".into(), "b".into(), "c".into()]);
    }
    r.finish("Feld")
}

/// The page script and the Rust evaluator read the same compiled trees:
/// on thousands of generated conditions, rules and inputs both must give
/// the same values and the same problems.
#[test]
fn page_script_and_rust_evaluator_agree() {
    use gemeinwerk_package::eval::{self, Problem, Val, Values};
    use serde_json::json;

    struct Case {
        values: HashMap<String, Vec<String>>,
        counts: HashMap<String, u32>,
    }
    impl Values for Case {
        fn raw(&self, name: &str) -> &[String] {
            self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
        }
        fn entries(&self, group: &str) -> u32 {
            self.counts.get(group).copied().unwrap_or(1)
        }
    }

    let today = "2026-06-15";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for _ in 0..3000 {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (name, slot) in SLOTS {
            use gemeinwerk_package::eval::Slot;
            let raws: Vec<String> = match slot {
                Slot::Group => continue,
                Slot::Multi => ["a", "b", "c", "x", " "]
                    .iter()
                    .filter(|_| rng.chance(30))
                    .map(|s| s.to_string())
                    .collect(),
                Slot::Bool if rng.chance(50) => vec!["ja".into()],
                _ if rng.chance(15) => continue,
                _ => vec![rng.pick(TEXTS).to_string()],
            };
            values.insert(name.to_string(), raws);
        }
        let mut counts = HashMap::new();
        if rng.chance(80) {
            counts.insert("g".to_string(), rng.below(4) as u32);
        }
        let case = Case { values, counts };
        let conds: Vec<_> = (0..3).map(|_| random_cond(&mut rng, 3)).collect();
        let rules: Vec<_> = (0..3).map(|_| random_rule(&mut rng)).collect();
        expected.push((
            conds
                .iter()
                .map(|c| eval::eval(c, &case, today))
                .collect::<Vec<Val>>(),
            rules
                .iter()
                .map(|r| eval::check_field(r, &case, today))
                .collect::<Vec<Option<Problem>>>(),
        ));
        cases.push(json!({
            "values": case.values,
            "counts": case.counts,
            "conds": conds,
            "rules": rules,
        }));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faelle.json");
    std::fs::write(&file, json!({ "today": today, "cases": cases }).to_string()).unwrap();
    let out = Command::new("node")
        .arg(browser_dir().join("pruefung.mjs"))
        .arg(&file)
        .output()
        .expect("node is missing: install Node.js (apt-get install nodejs npm)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), expected.len());
    let mut problems_seen = std::collections::BTreeSet::new();
    let mut true_conds = 0;
    for (i, (g, (conds, problems))) in got.iter().zip(&expected).enumerate() {
        let js_conds: Vec<Val> = serde_json::from_value(g["conds"].clone()).unwrap();
        let js_problems: Vec<Option<Problem>> =
            serde_json::from_value(g["problems"].clone()).unwrap();
        assert_eq!(
            &js_conds, conds,
            "case {i}: conditions differ\n{}",
            cases[i]
        );
        assert_eq!(
            &js_problems, problems,
            "case {i}: checks differ\n{}",
            cases[i]
        );
        problems_seen.extend(problems.iter().flatten().copied());
        true_conds += conds.iter().filter(|v| eval::truthy(v)).count();
    }
    // The generated inputs reach every problem and both outcomes of a
    // condition, so the agreement is not an agreement on nothing.
    assert!(
        problems_seen.len() >= 15,
        "only these problems were reached: {problems_seen:?}"
    );
    assert!(true_conds > 1000 && true_conds < 8000, "{true_conds}");
}

/// The package page says who publishes and where the sources are, links
/// the licence text, and its banners name the reason and the version to
/// use instead.
#[test]
fn banners_links_and_publisher_on_the_package_page() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let links = "repository = \"https://git.example.org/kassel/a\"\nhomepage = \"https://www.kassel.de/a\"\n";
    for version in ["1.0.0", "1.1.0"] {
        let r = reg.publish_bytes(
            Some(&token),
            &archive_of(&pkg_with("kassel/a", version, links)),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let out = reg.cli(
        Some(&token),
        &["yank", "kassel/a@1.1.0", "--reason", "Falsche Gebühr"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut v = Visitor::new(&reg);
    let yanked = v.get("/pakete/kassel/a?version=1.1.0").text();
    assert!(
        yanked.contains("Version 1.1.0 wurde zurückgezogen. Grund: Falsche Gebühr."),
        "{yanked}"
    );
    assert!(
        yanked.contains("Verwenden Sie stattdessen Version <a href=\"/pakete/kassel/a?version=1.0.0\">1.0.0</a>."),
        "{yanked}"
    );
    let page = v.get("/pakete/kassel/a").text();
    for expected in [
        "<a href=\"https://git.example.org/kassel/a\" rel=\"nofollow noopener\">",
        "<a href=\"https://www.kassel.de/a\" rel=\"nofollow noopener\">",
        "https://spdx.org/licenses/EUPL-1.2.html",
        "Formular von <a href=\"/namensraeume/kassel\">Stadt kassel</a>",
        "<p class=\"brotkrumen\"><a href=\"/namensraeume/kassel\">Stadt kassel</a> / ",
    ] {
        assert!(page.contains(expected), "the package page lacks {expected}");
    }
    assert!(
        !page.contains("wurde zurückgezogen"),
        "1.0.0 is shown and usable"
    );

    // Deprecated: the banner keeps the message and names the newest usable
    // version wherever another one is shown.
    v.sign_in(&token);
    let csrf = hidden_csrf(&v.get("/pakete/kassel/a").text());
    let r = v.post(
        "/pakete/kassel/a/veraltet",
        &[("csrf", &csrf), ("text", "Bitte kassel/b verwenden.")],
    );
    assert_eq!(r.status, 303);
    let old = v.get("/pakete/kassel/a?version=1.1.0").text();
    assert!(
        old.contains("<strong>Veraltet:</strong> Bitte kassel/b verwenden."),
        "{old}"
    );
    assert!(
        old.contains(
            "Neueste verwendbare Version: <a href=\"/pakete/kassel/a?version=1.0.0\">1.0.0</a>"
        ),
        "{old}"
    );

    let namespace = v.get("/namensraeume/kassel").text();
    assert!(
        namespace.contains("Formular · Version 1.0.0"),
        "the card names the newest usable version"
    );
    assert!(
        namespace.contains("0 Downloads in 90 Tagen ·"),
        "{namespace}"
    );
}

/// FIM's legal bases show in the preview, next to the form, group and
/// field they belong to; elements FIM has not released are a warning on
/// the package page, from the published package's own `fim-status`.
#[test]
fn legal_bases_in_the_preview_and_unreleased_fim_elements_on_the_page() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let token = reg.owner_of("kassel");
    let form = r#"[form]
title = "Bewohnerparken"
vertrauensniveau = "niedrig"
legal-basis = ["§ 45 Abs. 1b Nr. 2a StVO"]
fim-id = "S60000000123"
fim-status = "6"

[[group]]
id = "fahrzeug"
label = "Fahrzeug"
legal-basis = [{ text = "§ 6 StVG", link = "https://www.gesetze-im-internet.de/stvg/__6.html" }]
fim-id = "G60000000100"
fim-status = "3"

[[group.field]]
id = "kennzeichen"
type = "text"
label = "Amtliches Kennzeichen"
legal-basis = ["§ 8 FZV", "§ 10 FZV"]
fim-id = "F60000000101"
fim-status = "8"
"#;
    let p = pkg("kassel/bewohnerparken", "1.0.0");
    p.write("form.toml", form);
    let r = reg.publish_bytes(Some(&token), &archive_of(&p));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut v = Visitor::new(&reg);
    let page = v.get("/pakete/kassel/bewohnerparken").text();
    for expected in [
        "<p class=\"rechtsgrundlage\">Rechtsgrundlage des Formulars: § 45 Abs. 1b Nr. 2a StVO</p>",
        "<p class=\"rechtsgrundlage\">Rechtsgrundlage: <a href=\"https://www.gesetze-im-internet.de/stvg/__6.html\">§ 6 StVG</a></p>",
        "<p class=\"rechtsgrundlage\">Rechtsgrundlage: § 8 FZV; § 10 FZV</p>",
        "<strong>Nicht von FIM freigegeben:</strong> 2 FIM-Elemente dieses Pakets sind nicht zur Verwendung freigegeben",
        "<li><code>fahrzeug</code>: G60000000100, Freigabestatus 3 Entwurf</li>",
        "<li><code>fahrzeug.kennzeichen</code>: F60000000101, Freigabestatus 8 vorgesehen zum Löschen</li>",
    ] {
        assert!(page.contains(expected), "the page lacks {expected}\n{page}");
    }
    // Released throughout: no warning.
    let released = form
        .replace("fim-status = \"3\"", "fim-status = \"5\"")
        .replace("fim-status = \"8\"", "fim-status = \"6\"");
    p.write(
        "gemeinwerk.toml",
        &common::manifest("kassel/bewohnerparken", "1.0.1", ""),
    )
    .write("form.toml", &released);
    let r = reg.publish_bytes(Some(&token), &archive_of(&p));
    assert_eq!(r.status, 200, "{}", r.text());
    let page = v.get("/pakete/kassel/bewohnerparken").text();
    assert!(page.contains("Version 1.0.1"));
    assert!(!page.contains("Nicht von FIM freigegeben"), "{page}");

    // A link that is no web address never reaches a page: publish refuses it.
    let p = pkg("kassel/boese", "1.0.0");
    p.write(
        "form.toml",
        &form.replace(
            "https://www.gesetze-im-internet.de/stvg/__6.html",
            "javascript:alert(1)",
        ),
    );
    let before = reg.snapshot();
    // Packed without the client's check, as a hostile publisher would.
    let files = gemeinwerk_client::folder::read_folder(p.path()).unwrap();
    let bytes = gemeinwerk_package::archive::build("boese-1.0.0", &files);
    let r = reg.publish_bytes(Some(&token), &bytes);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["code"], "model.invalid_legal_basis");
    assert_eq!(reg.snapshot(), before);
    assert_eq!(v.get("/pakete/kassel/boese").status, 404);
}

/// A signed-in member makes a token on the account page: shown once, with
/// no more than the session's token may do; bad input is a German page and
/// writes nothing.
#[test]
fn a_member_makes_a_token_on_the_account_page() {
    let reg = TestRegistry::start(Backend::Sqlite);
    reg.owner_of("kassel");
    let publish_yank = reg.token("kassel-owner", &["--scope", "publish,yank"]);
    let mut v = Visitor::new(&reg);
    assert_eq!(v.sign_in(&publish_yank).status, 303);
    let page = v.get("/konto").text();
    assert!(page.contains("Neues Token erstellen"), "{page}");
    let csrf = hidden_csrf(&page);

    let r = v.post(
        "/konto/tokens",
        &[
            ("csrf", &csrf),
            ("name", "CI Kassel"),
            ("publish", "ja"),
            ("namespace", "kassel"),
            ("days", "30"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_page(&r, "/konto/tokens");
    let html = r.text();
    let at = html
        .find("<code id=\"neues-token-wert\">")
        .expect("the new token is shown")
        + "<code id=\"neues-token-wert\">".len();
    let token = html[at..at + 67].to_string();
    assert!(token.starts_with("gw_"), "{token}");
    assert!(html.contains("Es wird nur dieses eine Mal angezeigt"));
    // It works, restricted to Kassel, and is never shown again.
    let r = reg.publish_bytes(Some(&token), &archive_of(&pkg("kassel/a", "1.0.0")));
    assert_eq!(r.status, 200, "{}", r.text());
    let again = v.get("/konto").text();
    assert!(again.contains("CI Kassel") && !again.contains(&token));

    let before = reg.snapshot();
    for (form, expected) in [
        (
            vec![("name", "x"), ("publish", "ja"), ("days", "400")],
            "höchstens 365 Tage",
        ),
        (
            vec![("name", "x"), ("publish", "ja"), ("days", "neunzig")],
            "höchstens 365 Tage",
        ),
        (
            vec![("name", "x"), ("days", "30")],
            "mindestens eine Berechtigung",
        ),
        (
            vec![("name", ""), ("publish", "ja"), ("days", "30")],
            "1 bis 64 Zeichen",
        ),
        // The session's token has no owners scope: no new token gets it.
        (
            vec![("name", "x"), ("owners", "ja"), ("days", "30")],
            "hat die Berechtigung „owners“ nicht",
        ),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let r = v.post("/konto/tokens", &fields);
        assert!(matches!(r.status, 400 | 403), "{expected}: {}", r.status);
        assert!(r.text().contains(expected), "{expected}: {}", r.text());
    }
    let r = v.post(
        "/konto/tokens",
        &[("name", "x"), ("publish", "ja"), ("days", "30")],
    );
    assert_eq!(r.status, 403, "no CSRF token, no new token");
    assert_eq!(reg.snapshot(), before, "nothing was written");
}

/// Sign-ins and refused sign-ins are in the audit log; an owner signed in
/// with the `owners` scope sees the namespace's log on its page, a
/// publisher and an owner whose token lacks the scope do not.
#[test]
fn sign_ins_are_audited_and_owners_see_the_log_on_the_namespace_page() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    reg.user("paul", "kassel", "publisher");
    let paul = reg.token("paul", &["--scope", "publish"]);
    let owner_without_scope = reg.token("kassel-owner", &["--scope", "publish"]);
    assert_eq!(
        reg.publish_bytes(Some(&owner), &archive_of(&pkg("kassel/a", "1.0.0")))
            .status,
        200
    );

    let mut stranger = Visitor::new(&reg);
    assert_eq!(
        stranger.sign_in(&format!("gw_{}", "f".repeat(64))).status,
        401
    );
    let mut v = Visitor::new(&reg);
    assert_eq!(v.sign_in(&owner).status, 303);
    let page = v.get("/namensraeume/kassel").text();
    assert!(
        page.contains("<h2 id=\"protokoll-titel\">Protokoll</h2>"),
        "{page}"
    );
    assert!(
        page.contains("<code>publish</code>") && page.contains("kassel/a@1.0.0"),
        "{page}"
    );

    for token in [&paul, &owner_without_scope] {
        let mut w = Visitor::new(&reg);
        assert_eq!(w.sign_in(token).status, 303);
        let page = w.get("/namensraeume/kassel").text();
        assert!(!page.contains("protokoll-titel"), "{page}");
    }
    let anonymous = Visitor::new(&reg).get("/namensraeume/kassel").text();
    assert!(!anonymous.contains("protokoll-titel"));

    // Both outcomes of a sign-in are in the database's log.
    let db = reg.db();
    let mut conn = db.conn().unwrap();
    use diesel::prelude::*;
    use gemeinwerk_server::store::schema::audit_log;
    let rows: Vec<(String, Option<String>, String)> = audit_log::table
        .filter(audit_log::action.like("sign_in%"))
        .order(audit_log::id)
        .select((audit_log::action, audit_log::actor, audit_log::details))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(rows[0].0, "sign_in_failed");
    assert_eq!(rows[0].1.as_deref(), Some("(unknown)"));
    assert!(rows[0].2.contains("unknown_token"), "{}", rows[0].2);
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_deref()),
        ("sign_in", Some("kassel-owner"))
    );
    assert_eq!(rows.len(), 4);
}

/// A member removed from a namespace keeps a session (it is the user's),
/// but it can do nothing more in that namespace: every form is refused
/// with 403 and nothing changes; a form without its CSRF token is refused
/// before anything else.
#[test]
fn the_session_of_a_removed_member_acts_no_more_in_the_namespace() {
    let reg = TestRegistry::start(Backend::Sqlite);
    let owner = reg.owner_of("kassel");
    reg.user("bernd", "kassel", "owner");
    let bernd = reg.token("bernd", &["--scope", "publish,yank,owners"]);
    assert_eq!(
        reg.publish_bytes(Some(&owner), &archive_of(&pkg("kassel/a", "1.0.0")))
            .status,
        200
    );
    let mut b = Visitor::new(&reg);
    assert_eq!(b.sign_in(&bernd).status, 303);
    let csrf = hidden_csrf(&b.get("/konto").text());
    reg.admin_ok(&["member", "remove", "kassel", "bernd"]);

    let before = reg.snapshot();
    for (path, form) in [
        (
            "/pakete/kassel/a/versionen/1.0.0/zurueckziehen",
            vec![("text", "weg")],
        ),
        ("/pakete/kassel/a/veraltet", vec![("text", "veraltet")]),
        (
            "/namensraeume/kassel/mitglieder",
            vec![("login", "bernd"), ("role", "owner")],
        ),
        (
            "/namensraeume/kassel/mitglieder/kassel-owner/entfernen",
            vec![],
        ),
        (
            "/namensraeume/kassel/pipelines",
            vec![
                ("issuer", "https://gitlab.com"),
                ("project", "stadt-kassel/formulare"),
            ],
        ),
        ("/namensraeume/kassel/pipelines/1/entfernen", vec![]),
        (
            "/konto/tokens",
            vec![
                ("name", "x"),
                ("publish", "ja"),
                ("namespace", "kassel"),
                ("days", "30"),
            ],
        ),
    ] {
        let mut with = vec![("csrf", csrf.as_str())];
        with.extend(form.iter().copied());
        let r = b.post(path, &with);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert!(
            r.text().contains("nicht Mitglied") || r.text().contains("Eigentümer"),
            "{path}: {}",
            r.text()
        );
        // Without the CSRF token: refused the same, whoever asks.
        let r = b.post(path, &form);
        assert_eq!(r.status, 403, "{path} without CSRF");
        assert!(
            r.text().contains("Schutz vor untergeschobenen Anfragen"),
            "{path}"
        );
    }
    assert_eq!(
        reg.snapshot(),
        before,
        "the removed member changed something"
    );
    // No audit log on the page for them either.
    assert!(!b
        .get("/namensraeume/kassel")
        .text()
        .contains("protokoll-titel"));
}

/// An owner sets up a webhook on the Benachrichtigungen page, sees its
/// secret once, reads the delivery log with each attempt and sends a
/// delivery again; bad input gets a German message and writes nothing.
#[test]
fn an_owner_sets_up_a_webhook_and_reads_its_delivery_log_on_the_web() {
    let reg = TestRegistry::start_with(
        Backend::Sqlite,
        &[
            "--webhook-allow-private",
            "--webhook-retry-base-ms",
            "60000",
        ],
    );
    let owner = reg.owner_of("kassel");
    let r = reg.publish_bytes(Some(&owner), &archive_of(&pkg("kassel/parken", "1.0.0")));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut v = Visitor::new(&reg);
    assert_eq!(v.sign_in(&owner).status, 303);
    assert!(v
        .get("/namensraeume/kassel")
        .text()
        .contains("href=\"/namensraeume/kassel/benachrichtigungen\""));
    let r = v.get("/namensraeume/kassel/benachrichtigungen");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_page(&r, "/namensraeume/kassel/benachrichtigungen");
    assert!(r
        .text()
        .contains("Noch keine Benachrichtigung eingerichtet."));
    let csrf = hidden_csrf(&r.text());

    // Port 9 (discard) has no listener here: every attempt fails.
    let hook = "http://127.0.0.1:9/hook";
    let before = reg.snapshot();
    for (form, says) in [
        (
            vec![
                ("channel", "webhook"),
                ("address", "ftp://x"),
                ("scope", "upstream"),
            ],
            "Diese Adresse ruft die Registry nicht auf",
        ),
        (
            vec![
                ("channel", "webhook"),
                ("address", hook),
                ("scope", "package"),
            ],
            "das Paket als namensraum/name",
        ),
        (
            vec![
                ("channel", "mail"),
                ("address", "kein-at"),
                ("scope", "upstream"),
            ],
            "gültige Mail-Adresse",
        ),
        (
            vec![
                ("channel", "mail"),
                ("address", "a@kassel.de"),
                ("scope", "upstream"),
            ],
            "keinen Mail-Server",
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let r = v.post("/namensraeume/kassel/benachrichtigungen", &form);
        assert!(r.status == 400 || r.status == 409, "{form:?}: {}", r.status);
        assert!(r.text().contains(says), "{form:?}: {}", r.text());
    }
    let r = v.post(
        "/namensraeume/kassel/benachrichtigungen",
        &[
            ("channel", "webhook"),
            ("address", hook),
            ("scope", "upstream"),
        ],
    );
    assert_eq!(r.status, 403, "without the form's CSRF token");
    assert_eq!(reg.snapshot(), before, "nothing refused was written");

    let r = v.post(
        "/namensraeume/kassel/benachrichtigungen",
        &[
            ("csrf", &csrf),
            ("channel", "webhook"),
            ("address", hook),
            ("scope", "package"),
            ("target", "kassel/parken"),
            ("yanked", "ja"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("<code id=\"neues-geheimnis\">gwhsec_"),
        "{html}"
    );
    assert!(html.contains("Paket kassel/parken"), "{html}");
    assert!(html.contains("Version zurückgezogen"), "{html}");

    let r = reg.request(
        "DELETE",
        "/api/v1/packages/kassel/parken/1.0.0/yank",
        Some(&owner),
        None,
    );
    assert_eq!(r.status, 200);
    let log = "/namensraeume/kassel/benachrichtigungen/1";
    let started = std::time::Instant::now();
    let page = loop {
        let page = v.get(log).text();
        if page.contains("Zustellung 1 erneut senden") && page.contains("refused") {
            break page;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(page.contains("wird versucht"), "{page}");
    assert!(page.contains("kassel/parken"), "{page}");
    assert!(!page.contains("gwhsec_"), "the secret is shown once only");
    let csrf = hidden_csrf(&page);
    let r = v.post(
        "/namensraeume/kassel/benachrichtigungen/1/zustellungen/1/erneut",
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 303);
    let started = std::time::Instant::now();
    while !v.get(log).text().contains("<td>2</td>") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no second attempt"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // Someone from elsewhere sees nothing of it.
    let darmstadt = reg.owner_of("darmstadt");
    let mut other = Visitor::new(&reg);
    other.sign_in(&darmstadt);
    let r = other.get(log);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!r.text().contains(hook));
    let r = Visitor::new(&reg).get("/namensraeume/kassel/benachrichtigungen");
    assert_eq!(r.status, 403);

    let r = v.post(
        "/namensraeume/kassel/benachrichtigungen/1/entfernen",
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 303);
    assert!(v
        .get("/namensraeume/kassel/benachrichtigungen")
        .text()
        .contains("Noch keine Benachrichtigung eingerichtet."));
}
