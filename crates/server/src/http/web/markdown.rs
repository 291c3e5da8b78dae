//! README Markdown to HTML that is safe to put into a page: pulldown-cmark
//! renders, ammonia removes everything that could run or restyle (script,
//! event handlers, `style`, `javascript:` links, forms, frames).

use pulldown_cmark::{html, Options, Parser};

pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        // Headings of the README sit below the page's own h1 and h2.
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = render("# Titel\n\nEin **fetter** Text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Titel</h1>"), "{html}");
        assert!(html.contains("<strong>fetter</strong>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn removes_what_could_run() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[x](javascript:alert(3))\n\n<a href=\"#\" onclick=\"alert(4)\" style=\"color:red\">y</a>\n\n<iframe src=\"https://example.org\"></iframe>",
        );
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "onclick",
            "style=",
            "<iframe",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }
}
