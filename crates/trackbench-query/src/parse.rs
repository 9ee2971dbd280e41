//! The recursive-descent parser: filter text to an [`Expr`], order-by text to [`OrderBy`] terms.
//!
//! Two limits keep every input safe for the stack: the parsed tree may be at most
//! [`MAX_DEPTH`] `not` / `and` / `or` levels deep, and the text may open at most twice that many
//! `(` / `not` levels (the printer needs up to two per tree level). Long `and` / `or` chains are
//! folded into balanced trees, so they count only `log2 n` levels.

use crate::lex::{Lexer, Tok, Token};
use crate::{Agg, Attribute, Expr, Field, Literal, OrderBy, ParseError};

/// How deep (in `not` / `and` / `or` nodes) a parsed filter may be.
pub(crate) const MAX_DEPTH: usize = 64;

/// An attribute name the language does not know, offered to the caller: another tool's
/// dialect (MLflow's `attributes.user_id`) can map it onto a field of ours.
pub type Alias<'a> = &'a dyn Fn(&str) -> Option<Field>;

/// Parses a filter. Empty (or whitespace-only) input means "match everything": `Ok(None)`.
pub fn parse_filter(input: &str) -> Result<Option<Expr>, ParseError> {
    parse_filter_with(input, &|_| None)
}

/// [`parse_filter`], with `alias` asked for attribute names the language does not know.
pub fn parse_filter_with(input: &str, alias: Alias<'_>) -> Result<Option<Expr>, ParseError> {
    let mut p = Parser::new(input, alias);
    if p.peek()?.tok == Tok::Eof {
        return Ok(None);
    }
    let expr = p.or_expr()?.expr;
    let tok = p.next()?;
    match tok.tok {
        Tok::Eof => Ok(Some(expr)),
        Tok::RParen => Err(error_at(&tok, "unmatched `)`")),
        _ => Err(error_at(&tok, format!("trailing input {} (expected `and`, `or` or end of input)", p.quote(&tok)))),
    }
}

/// Parses a comma-separated order-by list (`field [asc|desc], …`); empty input gives no terms.
pub fn parse_order_by(input: &str) -> Result<Vec<OrderBy>, ParseError> {
    parse_order_by_with(input, &|_| None)
}

/// [`parse_order_by`], with `alias` asked for attribute names the language does not know.
pub fn parse_order_by_with(input: &str, alias: Alias<'_>) -> Result<Vec<OrderBy>, ParseError> {
    let mut p = Parser::new(input, alias);
    let mut terms = Vec::new();
    if p.peek()?.tok == Tok::Eof {
        return Ok(terms);
    }
    loop {
        let (field, text) = p.field(true)?;
        let mut descending = false;
        let mut tok = p.next()?;
        if tok.is_keyword("asc") || tok.is_keyword("desc") {
            descending = tok.is_keyword("desc");
            tok = p.next()?;
        }
        terms.push(OrderBy { field, descending });
        match tok.tok {
            Tok::Eof => return Ok(terms),
            Tok::Comma => {}
            _ => {
                let what = format!("`asc`, `desc`, `,` or end of input after `{text}`");
                return Err(p.unexpected(&tok, &what));
            }
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    /// `(` and `not` levels open at the current token.
    nesting: usize,
    /// Byte offset just past the last consumed token.
    last_end: usize,
    alias: Alias<'a>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, alias: Alias<'a>) -> Self {
        Parser { src, lexer: Lexer::new(src), peeked: None, nesting: 0, last_end: 0, alias }
    }

    /// The field an attribute name stands for: ours, else the caller's alias.
    fn attribute(&self, name: &str) -> Option<Field> {
        attribute_named(name).map(Field::Attr).or_else(|| (self.alias)(name))
    }

    fn peek(&mut self) -> Result<&Token<'a>, ParseError> {
        let tok = match self.peeked.take() {
            Some(tok) => tok,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(tok))
    }

    fn next(&mut self) -> Result<Token<'a>, ParseError> {
        let tok = match self.peeked.take() {
            Some(tok) => tok,
            None => self.lexer.next_token()?,
        };
        self.last_end = tok.end();
        Ok(tok)
    }

    /// Consumes the next token if it is the keyword `kw`.
    fn eat_keyword(&mut self, kw: &str) -> Result<bool, ParseError> {
        let found = self.peek()?.is_keyword(kw);
        if found {
            self.next()?;
        }
        Ok(found)
    }

    /// The input from `start` up to the end of the last consumed token, e.g. a field's text.
    fn since(&self, start: usize) -> &'a str {
        self.src.get(start..self.last_end).unwrap_or("")
    }

    /// A token's source text in backquotes, shortened if long, for messages.
    fn quote(&self, tok: &Token<'_>) -> String {
        let text = self.src.get(tok.offset..tok.end()).unwrap_or("");
        match text.char_indices().nth(32) {
            Some((cut, _)) => format!("`{}…`", &text[..cut]),
            None => format!("`{text}`"),
        }
    }

    /// "expected X, found `y`" (or "unexpected end of input, expected X").
    fn unexpected(&self, tok: &Token<'_>, expected: &str) -> ParseError {
        let message = match tok.tok {
            Tok::Eof => format!("unexpected end of input, expected {expected}"),
            _ => format!("expected {expected}, found {}", self.quote(tok)),
        };
        error_at(tok, message)
    }

    fn expect_rparen(&mut self, opened: &Token<'_>, what: &str) -> Result<(), ParseError> {
        let tok = self.next()?;
        if tok.tok == Tok::RParen {
            return Ok(());
        }
        let expected = format!("`)` to close {what} at position {}", opened.offset + 1);
        Err(self.unexpected(&tok, &expected))
    }

    fn or_expr(&mut self) -> Result<Node, ParseError> {
        self.chain("or", Expr::Or, Self::and_expr)
    }

    fn and_expr(&mut self) -> Result<Node, ParseError> {
        self.chain("and", Expr::And, Self::not_expr)
    }

    /// `operand (keyword operand)*`, as a balanced tree.
    fn chain(
        &mut self,
        keyword: &str,
        join: Join,
        operand: fn(&mut Self) -> Result<Node, ParseError>,
    ) -> Result<Node, ParseError> {
        let start = self.peek()?.offset;
        let mut chain = Balanced::new(operand(self)?);
        while self.eat_keyword(keyword)? {
            chain = chain.push(operand(self)?, join);
        }
        let node = chain.finish(join);
        if node.depth > MAX_DEPTH {
            let len = self.since(start).len();
            return Err(error(start, len, too_deep()));
        }
        Ok(node)
    }

    fn not_expr(&mut self) -> Result<Node, ParseError> {
        let tok = self.peek()?;
        let is_not = tok.is_keyword("not");
        if !is_not && tok.tok != Tok::LParen {
            return Ok(Node { expr: self.predicate()?, depth: 0 });
        }
        let tok = self.next()?;
        if self.nesting >= 2 * MAX_DEPTH {
            return Err(error_at(&tok, too_deep()));
        }
        self.nesting += 1;
        let node = if is_not {
            let inner = self.not_expr()?;
            if inner.depth >= MAX_DEPTH {
                return Err(error_at(&tok, too_deep()));
            }
            Node { expr: Expr::Not(Box::new(inner.expr)), depth: inner.depth + 1 }
        } else {
            let inner = self.or_expr()?;
            self.expect_rparen(&tok, "`(`")?;
            inner
        };
        self.nesting -= 1;
        Ok(node)
    }

    fn predicate(&mut self) -> Result<Expr, ParseError> {
        let (field, text) = self.field(true)?;
        let tok = self.next()?;
        if let Tok::Op(op) = tok.tok {
            let value = self.literal(&format!("a value after `{text}`"))?;
            return Ok(Expr::Compare { field, op, value });
        }
        if tok.is_keyword("is") {
            let negated = self.eat_keyword("not")?;
            let null = self.next()?;
            if !null.is_keyword("null") {
                let expected = if negated { "`null`" } else { "`null` or `not null`" };
                return Err(self.unexpected(&null, &format!("{expected} after `is`")));
            }
            return Ok(Expr::IsNull { field, negated });
        }
        let negated = tok.is_keyword("not");
        let tok = if negated { self.next()? } else { tok };
        if tok.is_keyword("like") || tok.is_keyword("ilike") {
            let case_insensitive = tok.is_keyword("ilike");
            let pat = self.next()?;
            return match pat.tok.string().map(str::to_string) {
                Some(pattern) => Ok(Expr::Like { field, pattern, case_insensitive, negated }),
                None => {
                    let kw = if case_insensitive { "ilike" } else { "like" };
                    Err(self.unexpected(&pat, &format!("a quoted string pattern after `{kw}`")))
                }
            };
        }
        if tok.is_keyword("in") {
            let values = self.in_list()?;
            return Ok(Expr::In { field, values, negated });
        }
        let expected = if negated {
            "`like`, `ilike` or `in` after `not`".to_string()
        } else {
            format!("a comparison operator after `{text}`")
        };
        Err(self.unexpected(&tok, &expected))
    }

    /// `( literal, … )`, the opening parenthesis not yet consumed.
    fn in_list(&mut self) -> Result<Vec<Literal>, ParseError> {
        let open = self.next()?;
        if open.tok != Tok::LParen {
            return Err(self.unexpected(&open, "`(` after `in`"));
        }
        if let Tok::RParen = self.peek()?.tok {
            let tok = self.next()?;
            return Err(error_at(&tok, "empty `in` list (give at least one value)"));
        }
        let mut values = vec![self.literal("a value in the `in` list")?];
        loop {
            let tok = self.next()?;
            match tok.tok {
                Tok::RParen => return Ok(values),
                Tok::Comma if self.peek()?.tok == Tok::RParen => {
                    return Err(error_at(&tok, "trailing comma in `in` list"));
                }
                Tok::Comma => values.push(self.literal("a value in the `in` list")?),
                _ => return Err(self.unexpected(&tok, "`,` or `)` in the `in` list")),
            }
        }
    }

    fn literal(&mut self, expected: &str) -> Result<Literal, ParseError> {
        let tok = self.next()?;
        if let Some(text) = tok.tok.string() {
            return Ok(Literal::Str(text.to_string()));
        }
        match &tok.tok {
            Tok::Quoted { .. } => {
                Err(error_at(&tok, "backquotes quote keys, not values (use 'single quotes' for strings)"))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Tok::Word(w) if looks_numeric(w) => match parse_number(w) {
                Some(n) => Ok(Literal::Number(n)),
                None => Err(error_at(&tok, format!("invalid number {}", self.quote(&tok)))),
            },
            _ => {
                let expected = format!("{expected} (a number, 'string', true or false)");
                Err(self.unexpected(&tok, &expected))
            }
        }
    }

    /// A field, returned with its source text (for messages).
    fn field(&mut self, allow_agg: bool) -> Result<(Field, &'a str), ParseError> {
        let tok = self.next()?;
        let word = match tok.tok {
            Tok::Word(w) if !looks_numeric(w) => w,
            _ => return Err(self.unexpected(&tok, "a field")),
        };
        if let Some(agg) = agg_named(word) {
            let open = self.next()?;
            if open.tok != Tok::LParen {
                return Err(self.unexpected(&open, &format!("`(` after `{word}`")));
            }
            if !allow_agg {
                return Err(error_at(&tok, "aggregates cannot be nested"));
            }
            let inner_start = self.peek()?.offset;
            let (inner, inner_text) = self.field(false)?;
            let Field::Metric { key, agg: Agg::Last } = inner else {
                let message = format!("aggregates apply only to metrics, found `{inner_text}`");
                return Err(error(inner_start, inner_text.len(), message));
            };
            self.expect_rparen(&open, &format!("`{word}(`"))?;
            return Ok((Field::Metric { key, agg }, self.since(tok.offset)));
        }
        let Some((prefix, key)) = word.split_once('.') else {
            let field = self.attribute(word).ok_or_else(|| unknown_attribute(word, tok.offset, tok.len, true))?;
            return Ok((field, word));
        };
        let make: Option<fn(String) -> Field> = match prefix.to_ascii_lowercase().as_str() {
            "metrics" | "metric" => Some(|key| Field::Metric { key, agg: Agg::Last }),
            "params" | "param" | "parameters" | "parameter" => Some(Field::Param),
            "tags" | "tag" => Some(Field::Tag),
            "attributes" | "attribute" | "attr" | "run" => None,
            _ => {
                let message =
                    format!("unknown field prefix `{prefix}` (expected metrics., params., tags. or attributes.)");
                return Err(error(tok.offset, prefix.len().max(1), message));
            }
        };
        let (key, key_offset, key_len) = if key.is_empty() {
            self.quoted_key(&tok)?
        } else {
            (key.to_string(), tok.offset + prefix.len() + 1, key.len())
        };
        let field = match make {
            Some(make) => make(key),
            None => match self.attribute(&key) {
                Some(field) => field,
                None => return Err(unknown_attribute(&key, key_offset, key_len, false)),
            },
        };
        Ok((field, self.since(tok.offset)))
    }

    /// The quoted key (text, offset, length) right after a prefix like `tags.`, with no space.
    fn quoted_key(&mut self, prefix: &Token<'a>) -> Result<(String, usize, usize), ParseError> {
        let name = self.src.get(prefix.offset..prefix.end()).unwrap_or("");
        let next = self.peek()?;
        if next.offset != prefix.end() || !matches!(next.tok, Tok::Quoted { .. }) {
            return Err(error_at(prefix, format!("empty key after `{name}`")));
        }
        match self.next()? {
            Token { tok: Tok::Quoted { quote: '\'', .. }, offset, len } => {
                Err(error(offset, len, "keys are quoted with `backquotes` or \"double quotes\", not single quotes"))
            }
            Token { tok: Tok::Quoted { text, .. }, offset, len } if !text.is_empty() => Ok((text, offset, len)),
            tok => Err(error_at(&tok, format!("empty key after `{name}`"))),
        }
    }
}

fn error(offset: usize, len: usize, message: impl Into<String>) -> ParseError {
    ParseError { message: message.into(), offset, len }
}

fn error_at(tok: &Token<'_>, message: impl Into<String>) -> ParseError {
    error(tok.offset, tok.len, message)
}

fn too_deep() -> String {
    format!("filter nested too deeply (more than {MAX_DEPTH} levels)")
}

/// A parsed (sub)expression and its depth in `not` / `and` / `or` nodes.
struct Node {
    expr: Expr,
    depth: usize,
}

type Join = fn(Box<Expr>, Box<Expr>) -> Expr;

/// Builds a balanced tree (depth `log2 n`) out of an `a op b op c …` chain, keeping operands
/// in order. Short chains come out left-associated: `a and b and c` is `(a and b) and c`.
struct Balanced {
    /// Finished subtrees with their operand counts (strictly decreasing), then `top`.
    stack: Vec<(Node, usize)>,
    top: (Node, usize),
}

impl Balanced {
    fn new(first: Node) -> Self {
        Balanced { stack: Vec::new(), top: (first, 1) }
    }

    fn push(self, next: Node, join: Join) -> Self {
        let Balanced { mut stack, top } = self;
        stack.push(top);
        let mut top = (next, 1);
        while let Some(left) = stack.pop() {
            if left.1 != top.1 {
                stack.push(left);
                break;
            }
            top = Self::join(left, top, join);
        }
        Balanced { stack, top }
    }

    fn finish(self, join: Join) -> Node {
        let Balanced { mut stack, mut top } = self;
        while let Some(left) = stack.pop() {
            top = Self::join(left, top, join);
        }
        top.0
    }

    fn join((l, m): (Node, usize), (r, n): (Node, usize), join: Join) -> (Node, usize) {
        let depth = 1 + l.depth.max(r.depth);
        (Node { expr: join(Box::new(l.expr), Box::new(r.expr)), depth }, m + n)
    }
}

fn agg_named(word: &str) -> Option<Agg> {
    Some(match word.to_ascii_lowercase().as_str() {
        "min" => Agg::Min,
        "max" => Agg::Max,
        "mean" | "avg" => Agg::Mean,
        "last" => Agg::Last,
        "count" => Agg::Count,
        "sum" => Agg::Sum,
        _ => return None,
    })
}

fn attribute_named(name: &str) -> Option<Attribute> {
    Some(match name.to_ascii_lowercase().as_str() {
        "run_id" | "id" => Attribute::RunId,
        "run_name" | "name" => Attribute::RunName,
        "status" => Attribute::Status,
        "group" => Attribute::Group,
        "project" | "experiment" | "experiment_id" => Attribute::Project,
        "start_time" => Attribute::StartTime,
        "end_time" => Attribute::EndTime,
        "created" | "created_time" | "creation_time" => Attribute::Created,
        "duration" => Attribute::Duration,
        "host" => Attribute::Host,
        "notes" => Attribute::Notes,
        _ => return None,
    })
}

fn unknown_attribute(name: &str, offset: usize, len: usize, bare: bool) -> ParseError {
    let valid: Vec<&str> = Attribute::ALL.iter().map(|(_, n)| *n).collect();
    let hint = if bare { "; metrics, params and tags need a prefix, as in metrics.loss" } else { "" };
    let message = format!("unknown attribute `{name}` (expected one of {}{hint})", valid.join(", "));
    error(offset, len, message)
}

/// Whether a word is meant as a number (it starts like one), valid or not.
fn looks_numeric(word: &str) -> bool {
    let word = word.strip_prefix(['+', '-']).unwrap_or(word);
    let word = word.strip_prefix('.').unwrap_or(word);
    word.starts_with(|c: char| c.is_ascii_digit())
}

/// Parses `[+-] digits [. digits] [e [+-] digits]` (either mantissa digit run may be empty, not
/// both) into a finite number. Rust's own parser alone would also take `inf`, `nan`, `infinity`.
fn parse_number(word: &str) -> Option<f64> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    fn unsigned(s: &str) -> &str {
        s.strip_prefix(['+', '-']).unwrap_or(s)
    }
    let (mantissa, exponent) = word.split_once(['e', 'E']).unwrap_or((word, "0"));
    let mantissa = unsigned(mantissa);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exponent = unsigned(exponent);
    let valid = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    if !valid || exponent.is_empty() || !digits(exponent) {
        return None;
    }
    word.parse::<f64>().ok().filter(|n| n.is_finite())
}
