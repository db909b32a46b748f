//! Bindings (`${input.NAME}`, `${var.NAME}`, `${Stage.Task.output.path}`, `${executionId}`,
//! `${executionIndex}`, `${name}`, `${requestBy}`; stage and task names may hold spaces, as
//! Aria's `${Prepare Environment.Get API Token.output.responseHeaders.Authorization}`) and the expressions of Condition tasks, preconditions and Poll
//! exit criteria: `==`, `!=`, `<`, `>`, `<=`, `>=`, `&&`, `||`, `!`, `matches`, parentheses,
//! string and number literals, `true`, `false` and bindings.
//!
//! A binding inside an expression is one operand whatever its value holds: a tag such as
//! `" || true` stays a string and cannot change the expression.

use std::fmt;

/// What a `${…}` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `${input.NAME}`: a pipeline input.
    Input(String),
    /// `${var.NAME}`: a project variable.
    Var(String),
    /// `${Stage.Task.output.path}`: an output of an earlier task; `path` may go into objects
    /// and lists (`body.items.0.name`).
    Output {
        /// The stage.
        stage: String,
        /// The task.
        task: String,
        /// The path inside the task's outputs.
        path: Vec<String>,
    },
    /// `${executionId}`.
    ExecutionId,
    /// `${executionIndex}`: the execution's number within its pipeline.
    ExecutionIndex,
    /// `${name}`: the pipeline's name.
    Name,
    /// `${requestBy}`: who started the execution (the e-mail address of the person, or of the
    /// API token's owner for a webhook).
    RequestBy,
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::Input(n) => write!(f, "${{input.{n}}}"),
            Binding::Var(n) => write!(f, "${{var.{n}}}"),
            Binding::Output { stage, task, path } => {
                write!(f, "${{{stage}.{task}.output")?;
                for p in path {
                    write!(f, ".{p}")?;
                }
                f.write_str("}")
            }
            Binding::ExecutionId => f.write_str("${executionId}"),
            Binding::ExecutionIndex => f.write_str("${executionIndex}"),
            Binding::Name => f.write_str("${name}"),
            Binding::RequestBy => f.write_str("${requestBy}"),
        }
    }
}

fn ident(s: &str) -> bool {
    super::valid_identifier(s)
}

fn named(s: &str) -> bool {
    super::valid_name(s)
}

/// Parses what is between `${` and `}`.
pub fn parse_binding(inner: &str) -> Result<Binding, String> {
    let inner = inner.trim();
    match inner {
        "executionId" => return Ok(Binding::ExecutionId),
        "executionIndex" => return Ok(Binding::ExecutionIndex),
        "name" => return Ok(Binding::Name),
        "requestBy" => return Ok(Binding::RequestBy),
        _ => {}
    }
    let parts: Vec<&str> = inner.split('.').collect();
    match parts.as_slice() {
        ["input", n] if ident(n) => Ok(Binding::Input((*n).to_owned())),
        ["var", n] if ident(n) => Ok(Binding::Var((*n).to_owned())),
        [stage, task, "output", path @ ..]
            if named(stage) && named(task) && path.iter().all(|p| !p.is_empty()) =>
        {
            Ok(Binding::Output {
                stage: (*stage).to_owned(),
                task: (*task).to_owned(),
                path: path.iter().map(|p| (*p).to_owned()).collect(),
            })
        }
        _ => Err(format!(
            "${{{inner}}} is not a binding: use ${{input.NAME}}, ${{var.NAME}}, ${{Stage.Task.output.NAME}}, ${{executionId}}, ${{executionIndex}}, ${{name}} or ${{requestBy}}"
        )),
    }
}

/// A piece of a string with bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text as written.
    Text(String),
    /// A binding to replace.
    Bind(Binding),
}

/// Splits `s` into text and bindings. `$${` writes a literal `${`.
pub fn pieces(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            text.push_str(&rest[..i - 1]);
            text.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        text.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('}').ok_or_else(|| {
            format!(
                "a binding is not closed: '${{{}'",
                after.chars().take(30).collect::<String>()
            )
        })?;
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        out.push(Piece::Bind(parse_binding(&after[..end])?));
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// The bindings `s` uses.
pub fn bindings_in(s: &str) -> Result<Vec<Binding>, String> {
    Ok(pieces(s)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Bind(b) => Some(b),
            Piece::Text(_) => None,
        })
        .collect())
}

/// A binding that has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The binding, as written.
    pub binding: String,
    /// Why it has no value.
    pub reason: String,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cannot be resolved: {}", self.binding, self.reason)
    }
}

/// Replaces every binding in `s` with its value from `resolve` (`Err` says why there is none).
pub fn substitute(
    s: &str,
    resolve: &dyn Fn(&Binding) -> Result<String, String>,
) -> Result<String, Unresolved> {
    let ps = pieces(s).map_err(|reason| Unresolved {
        binding: s.chars().take(60).collect(),
        reason,
    })?;
    let mut out = String::with_capacity(s.len());
    for p in ps {
        match p {
            Piece::Text(t) => out.push_str(&t),
            Piece::Bind(b) => out.push_str(&resolve(&b).map_err(|reason| Unresolved {
                binding: b.to_string(),
                reason,
            })?),
        }
    }
    Ok(out)
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string literal.
    Str(String),
    /// A number literal.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A binding (one operand).
    Bind(Binding),
    /// A string with bindings inside it (`"v${input.TAG}"`).
    Template(Vec<Piece>),
    /// `!e`.
    Not(Box<Expr>),
    /// `a && b`.
    And(Box<Expr>, Box<Expr>),
    /// `a || b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a op b`.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `matches` (a regular expression found in the left side)
    Matches,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Word(String),
    Bind(Binding),
    Op(&'static str),
    Open,
    Close,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (tok, next) = if let Some(op) = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|op| *op == two)
        {
            (Tok::Op(op), i + 2)
        } else {
            match c {
                '(' => (Tok::Open, i + 1),
                ')' => (Tok::Close, i + 1),
                '<' => (Tok::Op("<"), i + 1),
                '>' => (Tok::Op(">"), i + 1),
                '!' => (Tok::Op("!"), i + 1),
                '"' | '\'' => lex_string(&chars, i)?,
                '$' if chars.get(i + 1) == Some(&'{') => lex_binding(&chars, i)?,
                c if c.is_ascii_digit()
                    || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
                {
                    lex_number(&chars, i)?
                }
                c if c.is_ascii_alphabetic() => lex_word(&chars, i),
                other => return Err(format!("unexpected '{other}'")),
            }
        };
        toks.push(tok);
        i = next;
    }
    Ok(toks)
}

/// A quoted string starting at `i` (backslash escapes the next character), and where the
/// text after it starts.
fn lex_string(chars: &[char], mut i: usize) -> Result<(Tok, usize), String> {
    let quote = chars[i];
    let mut s = String::new();
    i += 1;
    loop {
        match chars.get(i) {
            None => return Err("a string is not closed".to_owned()),
            Some('\\') if chars.get(i + 1).is_some() => {
                s.push(chars[i + 1]);
                i += 2;
            }
            Some(q) if *q == quote => return Ok((Tok::Str(s), i + 1)),
            Some(ch) => {
                s.push(*ch);
                i += 1;
            }
        }
    }
}

/// A `${…}` binding starting at `i`.
fn lex_binding(chars: &[char], i: usize) -> Result<(Tok, usize), String> {
    let start = i + 2;
    let end = chars[start..]
        .iter()
        .position(|c| *c == '}')
        .ok_or("a binding is not closed")?;
    let inner: String = chars[start..start + end].iter().collect();
    Ok((Tok::Bind(parse_binding(&inner)?), start + end + 1))
}

/// A number (a leading '-', digits and '.') starting at `i`.
fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), String> {
    let mut i = start + 1;
    while chars
        .get(i)
        .is_some_and(|c| c.is_ascii_digit() || *c == '.')
    {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let n = text
        .parse()
        .map_err(|_| format!("{text} is not a number"))?;
    Ok((Tok::Num(n), i))
}

/// A word (true, false, matches …) starting at `i`.
fn lex_word(chars: &[char], start: usize) -> (Tok, usize) {
    let mut i = start;
    while chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        i += 1;
    }
    (Tok::Word(chars[start..i].iter().collect()), i)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Op("||")) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::Op("&&")) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::Op("!")) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, String> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Op("==")) => CmpOp::Eq,
            Some(Tok::Op("!=")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            Some(Tok::Word(w)) if w == "matches" => CmpOp::Matches,
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.primary()?;
        if let (CmpOp::Matches, Expr::Str(pattern)) = (op, &right) {
            regex_lite::Regex::new(pattern)
                .map_err(|e| format!("'{pattern}' is not a regular expression: {e}"))?;
        }
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("a '(' is not closed".to_owned()),
                }
            }
            Some(Tok::Str(s)) if s.contains("${") => Ok(Expr::Template(pieces(&s)?)),
            Some(Tok::Str(s)) => Ok(Expr::Str(s)),
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Bind(b)) => Ok(Expr::Bind(b)),
            Some(Tok::Word(w)) if w == "true" => Ok(Expr::Bool(true)),
            Some(Tok::Word(w)) if w == "false" => Ok(Expr::Bool(false)),
            Some(Tok::Word(w)) => Err(format!(
                "'{w}' is not a value: quote strings, and write bindings as ${{…}}"
            )),
            Some(Tok::Op(op)) => Err(format!("'{op}' needs a value before it")),
            Some(Tok::Close) => Err("')' without '('".to_owned()),
            None => Err("the expression ends too soon".to_owned()),
        }
    }
}

/// Parses an expression.
pub fn parse_expr(src: &str) -> Result<Expr, String> {
    if src.len() > 4096 {
        return Err("an expression has at most 4096 characters".to_owned());
    }
    let mut p = Parser {
        toks: lex(src)?,
        at: 0,
    };
    if p.toks.is_empty() {
        return Err("the expression is empty".to_owned());
    }
    let e = p.or()?;
    if p.at < p.toks.len() {
        return Err(
            "there is more after the end of the expression; join parts with && or ||".to_owned(),
        );
    }
    Ok(e)
}

impl Expr {
    /// The bindings it uses.
    pub fn bindings(&self) -> Vec<Binding> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<Binding>) {
        match self {
            Expr::Bind(b) => out.push(b.clone()),
            Expr::Template(ps) => out.extend(ps.iter().filter_map(|p| match p {
                Piece::Bind(b) => Some(b.clone()),
                Piece::Text(_) => None,
            })),
            Expr::Not(e) => e.collect(out),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
            Expr::Str(_) | Expr::Num(_) | Expr::Bool(_) => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(n) => n.to_string(),
            Val::Bool(b) => b.to_string(),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.trim().parse().ok(),
            Val::Bool(_) => None,
        }
    }

    fn truth(&self) -> Result<bool, String> {
        match self {
            Val::Bool(b) => Ok(*b),
            Val::Str(s) if s == "true" => Ok(true),
            Val::Str(s) if s == "false" => Ok(false),
            other => Err(format!("'{}' is not true or false", other.text())),
        }
    }
}

type Resolve<'a> = &'a dyn Fn(&Binding) -> Result<String, String>;

fn value(e: &Expr, resolve: Resolve<'_>) -> Result<Val, String> {
    Ok(match e {
        Expr::Str(s) => Val::Str(s.clone()),
        Expr::Num(n) => Val::Num(*n),
        Expr::Bool(b) => Val::Bool(*b),
        Expr::Bind(b) => Val::Str(resolve(b).map_err(|r| format!("{b} cannot be resolved: {r}"))?),
        Expr::Template(ps) => {
            let mut s = String::new();
            for p in ps {
                match p {
                    Piece::Text(t) => s.push_str(t),
                    Piece::Bind(b) => {
                        s.push_str(&resolve(b).map_err(|r| format!("{b} cannot be resolved: {r}"))?)
                    }
                }
            }
            Val::Str(s)
        }
        other => Val::Bool(eval(other, resolve)?),
    })
}

/// Evaluates an expression with binding values from `resolve`.
pub fn eval(e: &Expr, resolve: Resolve<'_>) -> Result<bool, String> {
    match e {
        Expr::Not(inner) => Ok(!eval(inner, resolve)?),
        Expr::And(a, b) => Ok(eval(a, resolve)? && eval(b, resolve)?),
        Expr::Or(a, b) => Ok(eval(a, resolve)? || eval(b, resolve)?),
        Expr::Cmp(op, a, b) => {
            let (l, r) = (value(a, resolve)?, value(b, resolve)?);
            let numbers = l.number().zip(r.number());
            match op {
                CmpOp::Eq | CmpOp::Ne => {
                    let same = match numbers {
                        Some((x, y)) => x == y,
                        None => l.text() == r.text(),
                    };
                    Ok(same == (*op == CmpOp::Eq))
                }
                CmpOp::Matches => {
                    let pattern = r.text();
                    let re = regex_lite::Regex::new(&pattern)
                        .map_err(|e| format!("'{pattern}' is not a regular expression: {e}"))?;
                    Ok(re.is_match(&l.text()))
                }
                _ => {
                    let (x, y) = numbers.ok_or_else(|| {
                        format!("'{}' and '{}' are not both numbers", l.text(), r.text())
                    })?;
                    Ok(match op {
                        CmpOp::Lt => x < y,
                        CmpOp::Gt => x > y,
                        CmpOp::Le => x <= y,
                        _ => x >= y,
                    })
                }
            }
        }
        leaf => value(leaf, resolve)?.truth(),
    }
}

/// Parses and evaluates `src`.
pub fn evaluate(src: &str, resolve: Resolve<'_>) -> Result<bool, String> {
    eval(&parse_expr(src)?, resolve)
}
