//! The lexer: turns filter / order-by text into tokens, on demand, for the parser.
//!
//! The lexer is deliberately context-free and coarse. A *word* is any run of key characters
//! (letters, digits, `_ - / : @ + .`), so `metrics.train.loss`, `-0.5`, `1e-3`, `and` and
//! `tags.` are all single words; the parser decides what a word means where it stands.
//! Quoted text (`'…'`, `"…"`, `` `…` ``) is one token whose quote character is kept; a quote
//! inside is escaped by doubling it (`'it''s'`). Backslashes are ordinary characters.

use crate::{CmpOp, ParseError};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    /// A run of [`is_word_char`] characters: a keyword, a field, a number, ….
    Word(&'a str),
    /// Quoted text with the escapes resolved; `quote` is `'`, `"` or `` ` ``.
    Quoted {
        quote: char,
        text: String,
    },
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    Eof,
}

/// A token and where it sits in the input (byte offsets, always on char boundaries).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub offset: usize,
    pub len: usize,
}

impl Tok<'_> {
    /// The text of a `'single'` or `"double"` quoted string literal.
    pub fn string(&self) -> Option<&str> {
        match self {
            Tok::Quoted { quote: '\'' | '"', text } => Some(text),
            _ => None,
        }
    }
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }

    /// Whether the token is the word `kw`, compared case-insensitively.
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// Characters an unquoted key (or any other word) may contain.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | ':' | '@' | '+' | '.')
}

/// An on-demand tokenizer over one input string.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The next token; [`Tok::Eof`] (with `len` 0) once the input is used up, forever after.
    pub fn next_token(&mut self) -> Result<Token<'a>, ParseError> {
        let rest = &self.src[self.pos..];
        let trimmed = rest.trim_start();
        let start = self.pos + (rest.len() - trimmed.len());
        let mut chars = trimmed.chars();
        let Some(c) = chars.next() else {
            self.pos = self.src.len();
            return Ok(Token { tok: Tok::Eof, offset: self.src.len(), len: 0 });
        };
        let next = chars.next();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' if next == Some('=') => (Tok::Op(CmpOp::Eq), 2),
            '=' => (Tok::Op(CmpOp::Eq), 1),
            '!' if next == Some('=') => (Tok::Op(CmpOp::Ne), 2),
            '<' if next == Some('>') => (Tok::Op(CmpOp::Ne), 2),
            '<' if next == Some('=') => (Tok::Op(CmpOp::Le), 2),
            '<' => (Tok::Op(CmpOp::Lt), 1),
            '>' if next == Some('=') => (Tok::Op(CmpOp::Ge), 2),
            '>' => (Tok::Op(CmpOp::Gt), 1),
            '\'' | '"' | '`' => self.quoted(start, c)?,
            c if is_word_char(c) => {
                let len = trimmed.find(|c| !is_word_char(c)).unwrap_or(trimmed.len());
                (Tok::Word(&trimmed[..len]), len)
            }
            '!' => {
                return Err(ParseError {
                    message: "unexpected `!` (did you mean `!=`?)".into(),
                    offset: start,
                    len: 1,
                });
            }
            c => {
                // Right after something like `metrics.a`, the character was likely meant as
                // part of the key.
                let word = self.src[..start].rsplit(|c| !is_word_char(c)).next();
                let in_key = word.is_some_and(|w| w.contains('.') && w.starts_with(char::is_alphabetic));
                let hint = if in_key { " (keys with special characters must be quoted: `my key`)" } else { "" };
                return Err(ParseError {
                    message: format!("unexpected character `{c}`{hint}"),
                    offset: start,
                    len: c.len_utf8(),
                });
            }
        };
        self.pos = start + len;
        Ok(Token { tok, offset: start, len })
    }

    /// Reads quoted text opening with `quote` at byte `start`; returns the token and its length.
    fn quoted(&self, start: usize, quote: char) -> Result<(Tok<'a>, usize), ParseError> {
        let body = &self.src[start + 1..];
        let mut text = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != quote {
                text.push(c);
            } else if chars.next_if(|&(_, c)| c == quote).is_some() {
                text.push(quote);
            } else {
                return Ok((Tok::Quoted { quote, text }, i + 2));
            }
        }
        let what = if quote == '`' { "quoted key" } else { "string" };
        Err(ParseError { message: format!("unterminated {what} (missing closing {quote})"), offset: start, len: 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_all(src: &str) -> Result<Vec<Tok<'_>>, ParseError> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token()?;
            if t.tok == Tok::Eof {
                return Ok(out);
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn words_ops_and_quotes() {
        let q = |quote, text: &str| Tok::Quoted { quote, text: text.into() };
        assert_eq!(
            lex_all("metrics.a.b>=-1e-3 and tags.`x``y`<>'it''s'"),
            Ok(vec![
                Tok::Word("metrics.a.b"),
                Tok::Op(CmpOp::Ge),
                Tok::Word("-1e-3"),
                Tok::Word("and"),
                Tok::Word("tags."),
                q('`', "x`y"),
                Tok::Op(CmpOp::Ne),
                q('\'', "it's"),
            ])
        );
        assert_eq!(
            lex_all(" ( , ) == \"\\\" "),
            Ok(vec![Tok::LParen, Tok::Comma, Tok::RParen, Tok::Op(CmpOp::Eq), q('"', "\\"),])
        );
    }
}
