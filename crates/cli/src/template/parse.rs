//! Parser for Go's text/template: turns tokens into a tree of text, actions
//! and `if`/`range`/`with` blocks (with `else if`), pipelines with variable
//! declarations, and `define`/`template`.

use super::lex::{line_of, Tok, Token};
use super::TemplateError;
use std::collections::HashMap;

/// A list of nodes.
pub type List = Vec<Node>;

/// A node of the template tree.
#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template(String, Option<Pipe>, usize),
    Break,
    Continue,
}

/// `if`, `range` and `with` share this shape.
#[derive(Debug, Clone)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline: optional variable declarations then commands joined by `|`.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub decl: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Cmd>,
    pub pos: usize,
    /// The source text of the pipeline, for error messages.
    pub text: String,
}

/// One command: an operand or function followed by arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub args: Vec<Arg>,
    pub pos: usize,
    pub text: String,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    Dot,
    /// A field chain and the position Go reports for it.
    Field(Vec<String>, usize),
    Var(String, Vec<String>),
    Ident(String),
    Str(String),
    Number(String),
    Char(char),
    Bool(bool),
    Nil,
    Pipe(Box<Pipe>, Vec<String>),
}

/// The parsed template: the main tree and any `define`d ones.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub root: List,
    pub defines: HashMap<String, List>,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    i: usize,
    funcs: &'a dyn Fn(&str) -> bool,
    defines: HashMap<String, List>,
}

enum Stop {
    Eof,
    End,
    Else(usize),
}

/// Parses `src`; `funcs` says whether a function name is defined.
pub fn parse(
    src: &str,
    toks: Vec<Token>,
    funcs: &dyn Fn(&str) -> bool,
) -> Result<Tree, TemplateError> {
    let mut p = Parser {
        src,
        toks,
        i: 0,
        funcs,
        defines: HashMap::new(),
    };
    let (root, end) = p.list()?;
    match end {
        Stop::Eof => {}
        Stop::End => return Err(p.err_at(p.prev_pos(), "unexpected {{end}}")),
        Stop::Else(pos) => return Err(p.err_at(pos, "unexpected {{else}}")),
    }
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].kind
    }

    fn pos(&self) -> usize {
        self.toks[self.i.min(self.toks.len() - 1)].pos
    }

    fn prev_pos(&self) -> usize {
        self.toks[self.i.saturating_sub(1).min(self.toks.len() - 1)].pos
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn skip_space(&mut self) {
        while *self.peek() == Tok::Space {
            self.i += 1;
        }
    }

    fn err_at(&self, pos: usize, msg: &str) -> TemplateError {
        TemplateError::parse(line_of(self.src, pos), msg)
    }

    /// Parses nodes until EOF, `{{end}}` or `{{else …`.
    fn list(&mut self) -> Result<(List, Stop), TemplateError> {
        let mut out = Vec::new();
        loop {
            match self.next() {
                Tok::Eof => return Ok((out, Stop::Eof)),
                Tok::Text(t) => out.push(Node::Text(t)),
                Tok::LeftDelim => {
                    self.skip_space();
                    let pos = self.pos();
                    if let Tok::Ident(word) = self.peek().clone() {
                        match word.as_str() {
                            "end" => {
                                self.i += 1;
                                self.close()?;
                                return Ok((out, Stop::End));
                            }
                            "else" => {
                                self.i += 1;
                                self.skip_space();
                                return Ok((out, Stop::Else(pos)));
                            }
                            "if" | "range" | "with" => {
                                self.i += 1;
                                out.push(self.branch(&word)?);
                                continue;
                            }
                            "break" | "continue" => {
                                self.i += 1;
                                self.close()?;
                                out.push(if word == "break" {
                                    Node::Break
                                } else {
                                    Node::Continue
                                });
                                continue;
                            }
                            "template" => {
                                self.i += 1;
                                out.push(self.template()?);
                                continue;
                            }
                            "define" | "block" => {
                                self.i += 1;
                                let node = self.define(&word == "block")?;
                                if let Some(n) = node {
                                    out.push(n);
                                }
                                continue;
                            }
                            _ => {}
                        }
                    }
                    let pipe = self.pipeline(true)?;
                    out.push(Node::Action(pipe));
                }
                t => return Err(self.err_at(self.prev_pos(), &format!("unexpected {t:?}"))),
            }
        }
    }

    fn close(&mut self) -> Result<(), TemplateError> {
        self.skip_space();
        match self.next() {
            Tok::RightDelim => Ok(()),
            t => Err(self.err_at(
                self.prev_pos(),
                &format!("unexpected {} in end", describe(&t)),
            )),
        }
    }

    fn branch(&mut self, kind: &str) -> Result<Node, TemplateError> {
        self.skip_space();
        let pipe = self.pipeline(kind == "range" || kind == "with" || kind == "if")?;
        let (list, end) = self.list()?;
        let else_list = match end {
            Stop::Eof => return Err(self.err_at(self.src.len(), "unexpected EOF")),
            Stop::End => None,
            Stop::Else(_) => {
                // `else if …` / `else with …` chains into a nested branch.
                if let Tok::Ident(w) = self.peek().clone() {
                    if (w == "if" && kind == "if") || (w == "with" && kind == "with") {
                        self.i += 1;
                        let nested = self.branch(&w)?;
                        Some(vec![nested])
                    } else {
                        Some(self.else_body()?)
                    }
                } else {
                    Some(self.else_body()?)
                }
            }
        };
        let b = Branch {
            pipe,
            list,
            else_list,
        };
        Ok(match kind {
            "if" => Node::If(b),
            "range" => Node::Range(b),
            _ => Node::With(b),
        })
    }

    fn else_body(&mut self) -> Result<List, TemplateError> {
        self.close()?;
        let (list, end) = self.list()?;
        match end {
            Stop::End => Ok(list),
            Stop::Eof => Err(self.err_at(self.src.len(), "unexpected EOF")),
            Stop::Else(pos) => Err(self.err_at(pos, "expected end; found {{else}}")),
        }
    }

    fn template(&mut self) -> Result<Node, TemplateError> {
        self.skip_space();
        let pos = self.pos();
        let name = match self.next() {
            Tok::Str(s) => s,
            t => {
                return Err(self.err_at(
                    pos,
                    &format!("unexpected {} in template clause", describe(&t)),
                ))
            }
        };
        self.skip_space();
        if *self.peek() == Tok::RightDelim {
            self.i += 1;
            return Ok(Node::Template(name, None, pos));
        }
        let pipe = self.pipeline(false)?;
        Ok(Node::Template(name, Some(pipe), pos))
    }

    fn define(&mut self, block: bool) -> Result<Option<Node>, TemplateError> {
        self.skip_space();
        let pos = self.pos();
        let name = match self.next() {
            Tok::Str(s) => s,
            t => {
                return Err(self.err_at(
                    pos,
                    &format!("unexpected {} in define clause", describe(&t)),
                ))
            }
        };
        self.skip_space();
        let pipe = if block && *self.peek() != Tok::RightDelim {
            Some(self.pipeline(false)?)
        } else {
            self.close()?;
            None
        };
        let (list, end) = self.list()?;
        if !matches!(end, Stop::End) {
            return Err(self.err_at(pos, "unexpected EOF in define"));
        }
        self.defines.insert(name.clone(), list);
        Ok(if block {
            Some(Node::Template(name, pipe, pos))
        } else {
            None
        })
    }

    /// Parses a pipeline up to and including the closing delimiter (or the
    /// closing paren when nested).
    fn pipeline(&mut self, allow_decl: bool) -> Result<Pipe, TemplateError> {
        self.skip_space();
        let pos = self.pos();
        let mut decl = Vec::new();
        let mut assign = false;
        if allow_decl {
            // Lookahead for `$x :=`, `$x =` or `$i, $e :=`.
            let save = self.i;
            let mut vars = Vec::new();
            loop {
                if let Tok::Variable(v) = self.peek().clone() {
                    self.i += 1;
                    self.skip_space();
                    vars.push(v);
                    match self.peek() {
                        Tok::Declare | Tok::Assign => {
                            assign = *self.peek() == Tok::Assign;
                            self.i += 1;
                            decl = vars;
                            break;
                        }
                        Tok::Comma => {
                            self.i += 1;
                            self.skip_space();
                            continue;
                        }
                        _ => {}
                    }
                }
                self.i = save;
                break;
            }
        }
        let mut cmds = Vec::new();
        loop {
            self.skip_space();
            let cmd = self.command()?;
            cmds.push(cmd);
            self.skip_space();
            match self.next() {
                Tok::Pipe => continue,
                Tok::RightDelim | Tok::RParen => break,
                t => {
                    return Err(self.err_at(
                        self.prev_pos(),
                        &format!("unexpected {} in operand", describe(&t)),
                    ))
                }
            }
        }
        if cmds.iter().any(|c| c.args.is_empty()) {
            return Err(self.err_at(pos, "missing value for command"));
        }
        let end = self.prev_pos();
        let text = self.src.get(pos..end).unwrap_or("").trim_end().to_string();
        Ok(Pipe {
            decl,
            assign,
            cmds,
            pos,
            text,
        })
    }

    fn command(&mut self) -> Result<Cmd, TemplateError> {
        let pos = self.pos();
        let mut args = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Tok::RightDelim | Tok::RParen | Tok::Pipe => break,
                Tok::Eof => return Err(self.err_at(pos, "unclosed action")),
                _ => {}
            }
            args.push(self.operand()?);
        }
        let end = self.pos();
        let text = self.src.get(pos..end).unwrap_or("").trim_end().to_string();
        Ok(Cmd { args, pos, text })
    }

    fn operand(&mut self) -> Result<Arg, TemplateError> {
        let pos = self.pos();
        let arg = match self.next() {
            Tok::Dot => Arg::Dot,
            Tok::Field(f) => {
                let mut chain = vec![f];
                let next = self.pos();
                self.field_chain(&mut chain);
                Arg::Field(chain.clone(), if chain.len() > 1 { next } else { pos })
            }
            Tok::Variable(v) => {
                let mut chain = Vec::new();
                self.field_chain(&mut chain);
                Arg::Var(v, chain)
            }
            Tok::Ident(name) => {
                if !(self.funcs)(&name) {
                    return Err(self.err_at(pos, &format!("function {name:?} not defined")));
                }
                Arg::Ident(name)
            }
            Tok::Str(s) => Arg::Str(s),
            Tok::Number(n) => Arg::Number(n),
            Tok::Char(c) => Arg::Char(c),
            Tok::Bool(b) => Arg::Bool(b),
            Tok::Nil => Arg::Nil,
            Tok::LParen => {
                let p = self.pipeline(true)?;
                let mut chain = Vec::new();
                self.field_chain(&mut chain);
                Arg::Pipe(Box::new(p), chain)
            }
            t => return Err(self.err_at(pos, &format!("unexpected {} in operand", describe(&t)))),
        };
        Ok(arg)
    }

    fn field_chain(&mut self, chain: &mut Vec<String>) {
        while let Tok::Field(f) = self.peek().clone() {
            chain.push(f);
            self.i += 1;
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::RightDelim => "\"}}\"".into(),
        Tok::Eof => "EOF".into(),
        Tok::RParen => "\")\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::Pipe => "\"|\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Ident(s) | Tok::Number(s) | Tok::Variable(s) => format!("<{s}>"),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Field(s) => format!("<.{s}>"),
        other => format!("{other:?}"),
    }
}
