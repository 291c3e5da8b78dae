//! The package page's download chart: a server-rendered SVG, no script,
//! with a title and a description that screen readers announce.

use std::fmt::Write;

use chrono::NaiveDate;

/// Width of one day's bar and the chart's inner height, in SVG units.
const BAR: i64 = 3;
const HEIGHT: i64 = 60;

fn date_de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// "1 Download", "2 Downloads", with German digit grouping.
pub fn downloads_de(n: i64) -> String {
    super::count(n, "Download", "Downloads")
}

/// An SVG bar chart of one count per day, oldest first. Every bar has its
/// own `<title>` (date and count) for a pointer's tooltip; the `<desc>`
/// sums the period up in a sentence.
pub fn downloads_svg(days: &[(NaiveDate, i64)]) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return String::new();
    };
    let total: i64 = days.iter().map(|(_, n)| n).sum();
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let width = BAR * days.len() as i64;
    let mut desc = format!(
        "{} vom {} bis {}",
        downloads_de(total),
        date_de(first.0),
        date_de(last.0)
    );
    if let Some((day, n)) = days
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(d, n)| (*n, *d))
    {
        let _ = write!(
            desc,
            "; am meisten am {} ({})",
            date_de(*day),
            downloads_de(*n)
        );
    }
    desc.push('.');
    let mut svg = format!(
        "<svg class=\"downloads-verlauf\" viewBox=\"0 0 {width} {h}\" preserveAspectRatio=\"none\" \
         role=\"img\" aria-labelledby=\"downloads-titel downloads-beschreibung\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"downloads-titel\">Downloads je Tag in den letzten {n} Tagen</title>\
         <desc id=\"downloads-beschreibung\">{desc}</desc>",
        h = HEIGHT + 1,
        n = days.len(),
    );
    for (i, (day, n)) in days.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        // At least one unit high, so that a single download is visible.
        let h = (n * HEIGHT / max.max(1)).max(1);
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"currentColor\"><title>{d}: {t}</title></rect>",
            x = i as i64 * BAR,
            y = HEIGHT - h,
            w = BAR - 1,
            d = date_de(*day),
            t = downloads_de(*n),
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{HEIGHT}\" x2=\"{width}\" y2=\"{HEIGHT}\" stroke=\"currentColor\" stroke-width=\"1\"/></svg>"
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_per_day_with_downloads_and_says_what_it_shows() {
        let start = NaiveDate::from_ymd_opt(2026, 9, 2).unwrap();
        let days: Vec<(NaiveDate, i64)> = start
            .iter_days()
            .take(90)
            .enumerate()
            .map(|(i, d)| {
                (
                    d,
                    if i == 10 {
                        4
                    } else if i == 89 {
                        1
                    } else {
                        0
                    },
                )
            })
            .collect();
        let svg = downloads_svg(&days);
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(
            "<title id=\"downloads-titel\">Downloads je Tag in den letzten 90 Tagen</title>"
        ));
        assert!(svg.contains(
            "5 Downloads vom 02.09.2026 bis 30.11.2026; am meisten am 12.09.2026 (4 Downloads)."
        ));
        assert!(svg.contains("<title>30.11.2026: 1 Download</title>"));
        // The tallest bar fills the height; one download is still visible.
        assert!(svg.contains("x=\"30\" y=\"0\" width=\"2\" height=\"60\""));
        assert!(svg.contains("x=\"267\" y=\"45\" width=\"2\" height=\"15\""));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn no_downloads_give_an_empty_chart_that_says_so() {
        let start = NaiveDate::from_ymd_opt(2026, 9, 2).unwrap();
        let days: Vec<(NaiveDate, i64)> = start.iter_days().take(90).map(|d| (d, 0)).collect();
        let svg = downloads_svg(&days);
        assert_eq!(svg.matches("<rect").count(), 0);
        assert!(svg.contains("0 Downloads vom 02.09.2026 bis 30.11.2026.</desc>"));
    }
}
