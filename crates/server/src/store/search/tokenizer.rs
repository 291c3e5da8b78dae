//! The German analysis (`german`) as tantivy tokenizers: stems, compound
//! parts, and folded words.

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::Index;

use super::german;

pub(super) const WORDS: &str = "gw_de";
pub(super) const PARTS: &str = "gw_de_parts";
pub(super) const FOLDED: &str = "gw_de_folded";

#[derive(Clone, Copy)]
enum Mode {
    Stems,
    Parts,
    Folded,
}

/// Runs `german::analyze` for tantivy.
#[derive(Clone)]
struct GermanTokenizer {
    mode: Mode,
}

struct VecTokenStream {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for GermanTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut tokens = Vec::new();
        for (position, a) in german::analyze(text).into_iter().enumerate() {
            let mut push = |t: String| {
                tokens.push(Token {
                    offset_from: a.from,
                    offset_to: a.to,
                    position,
                    text: t,
                    position_length: 1,
                })
            };
            match self.mode {
                Mode::Stems => push(a.stem),
                Mode::Folded => push(a.folded),
                Mode::Parts => german::parts(&a.stem).into_iter().for_each(push),
            }
        }
        VecTokenStream { tokens, at: 0 }
    }
}

pub(super) fn register_tokenizers(index: &Index) {
    let t = index.tokenizers();
    t.register(
        WORDS,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Stems }),
    );
    t.register(
        PARTS,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Parts }),
    );
    t.register(
        FOLDED,
        TextAnalyzer::from(GermanTokenizer { mode: Mode::Folded }),
    );
}
