//! Executes a parsed template against a [`Value`]: field chains, variables,
//! pipelines, `if`/`range`/`with`, `template` calls, and function calls
//! through [`funcs`](super::funcs).

use super::funcs::{self, Mode};
use super::parse::{Arg, Branch, Cmd, List, Node, Pipe, Tree};
use super::value::{self, ObjKind, Value};
use super::TemplateError;

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct Exec<'a> {
    pub src: &'a str,
    pub tree: &'a Tree,
    pub mode: Mode,
    pub out: String,
    vars: Vec<(String, Value)>,
    depth: usize,
}

impl<'a> Exec<'a> {
    pub fn new(src: &'a str, tree: &'a Tree, mode: Mode) -> Self {
        Exec {
            src,
            tree,
            mode,
            out: String::new(),
            vars: Vec::new(),
            depth: 0,
        }
    }

    pub fn run(&mut self, dot: &Value) -> Result<(), TemplateError> {
        self.vars.push(("$".to_string(), dot.clone()));
        let tree = self.tree;
        self.walk(&tree.root, dot)?;
        Ok(())
    }

    fn err(&self, pos: usize, at: &str, msg: &str) -> TemplateError {
        let before = &self.src[..pos.min(self.src.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        TemplateError::Exec(format!(
            "template: :{line}:{col}: executing \"\" at <{at}>: {msg}"
        ))
    }

    fn walk(&mut self, list: &List, dot: &Value) -> Result<Flow, TemplateError> {
        for node in list {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipeline(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        self.print(&v, pipe)?;
                    }
                }
                Node::If(b) => {
                    let mark = self.vars.len();
                    let v = self.pipeline(&b.pipe, dot)?;
                    let flow = if v.truthy() {
                        self.walk(&b.list, dot)?
                    } else if let Some(e) = &b.else_list {
                        self.walk(e, dot)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::With(b) => {
                    let mark = self.vars.len();
                    let v = self.pipeline(&b.pipe, dot)?;
                    let flow = if v.truthy() {
                        self.walk(&b.list, &v)?
                    } else if let Some(e) = &b.else_list {
                        self.walk(e, dot)?
                    } else {
                        Flow::Normal
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(b) => self.range(b, dot)?,
                Node::Template(name, pipe, pos) => {
                    let Some(body) = self.tree.defines.get(name) else {
                        return Err(self.err(
                            *pos,
                            &format!("template {name:?}"),
                            &format!("no such template {name:?}"),
                        ));
                    };
                    let arg = match pipe {
                        Some(p) => self.pipeline(p, dot)?,
                        None => Value::Nil,
                    };
                    self.depth += 1;
                    if self.depth > 100 {
                        return Err(self.err(
                            *pos,
                            name,
                            "exceeded maximum template depth (100000)",
                        ));
                    }
                    let saved = std::mem::take(&mut self.vars);
                    self.vars.push(("$".to_string(), arg.clone()));
                    let r = self.walk(body, &arg);
                    self.vars = saved;
                    self.depth -= 1;
                    r?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, b: &Branch, dot: &Value) -> Result<(), TemplateError> {
        let mark = self.vars.len();
        let decl = b.pipe.decl.clone();
        let mut pipe = b.pipe.clone();
        pipe.decl.clear();
        let v = self.pipeline(&pipe, dot)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                .collect(),
            Value::Object(kind, fields) => {
                let mut f: Vec<(Value, Value)> = fields
                    .iter()
                    .map(|(k, x)| (Value::Str(k.clone()), x.clone()))
                    .collect();
                if *kind != ObjKind::Struct {
                    f.sort_by_key(|a| a.0.to_go_string());
                } else {
                    return Err(self.err(pipe.pos, &pipe.text, "range can't iterate over struct"));
                }
                f
            }
            Value::Int(n) => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            Value::Nil | Value::NilOf(_) | Value::Missing => Vec::new(),
            other => {
                return Err(self.err(
                    pipe.pos,
                    &pipe.text,
                    &format!("range can't iterate over {}", other.to_go_string()),
                ))
            }
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                self.walk(e, dot)?;
            }
            self.vars.truncate(mark);
            return Ok(());
        }
        for (k, x) in items {
            let inner = self.vars.len();
            match decl.len() {
                0 => {}
                1 => self.vars.push((decl[0].clone(), x.clone())),
                _ => {
                    self.vars.push((decl[0].clone(), k));
                    self.vars.push((decl[1].clone(), x.clone()));
                }
            }
            let flow = self.walk(&b.list, &x)?;
            self.vars.truncate(inner);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn print(&mut self, v: &Value, pipe: &Pipe) -> Result<(), TemplateError> {
        if let Value::Method(_) = v {
            return Err(self.err(pipe.pos, &pipe.text, "can't print method value"));
        }
        self.out.push_str(&v.to_go_string());
        Ok(())
    }

    fn pipeline(&mut self, pipe: &Pipe, dot: &Value) -> Result<Value, TemplateError> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, dot, value)?);
        }
        let v = value.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.assign {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => {
                        return Err(self.err(
                            pipe.pos,
                            &pipe.text,
                            &format!("undefined variable: {name}"),
                        ))
                    }
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn command(
        &mut self,
        cmd: &Cmd,
        dot: &Value,
        fin: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let first = &cmd.args[0];
        match first {
            Arg::Ident(name) => {
                if name == "and" || name == "or" {
                    return self.and_or(name == "and", cmd, dot, fin);
                }
                let mut args = Vec::new();
                for a in &cmd.args[1..] {
                    args.push(self.arg(a, dot, cmd)?);
                }
                if let Some(f) = fin {
                    args.push(f);
                }
                funcs::call(name, &args, self.mode).map_err(|e| {
                    self.err(cmd.pos, &cmd.text, &format!("error calling {name}: {e}"))
                })
            }
            Arg::Field(chain, pos) => {
                let v = self.chain(dot, chain, *pos)?;
                self.maybe_call(v, cmd, dot, fin)
            }
            Arg::Var(name, chain) => {
                let base = self.var(name, cmd)?;
                let v = if chain.is_empty() {
                    base
                } else {
                    self.chain(&base, chain, cmd.pos)?
                };
                self.maybe_call(v, cmd, dot, fin)
            }
            _ => {
                if cmd.args.len() > 1 || fin.is_some() {
                    return Err(self.err(
                        cmd.pos,
                        &cmd.text,
                        &format!("can't give argument to non-function {}", cmd.text),
                    ));
                }
                self.arg(first, dot, cmd)
            }
        }
    }

    fn and_or(
        &mut self,
        is_and: bool,
        cmd: &Cmd,
        dot: &Value,
        fin: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let n = cmd.args.len() - 1 + usize::from(fin.is_some());
        if n == 0 {
            return Err(self.err(
                cmd.pos,
                &cmd.text,
                "wrong number of args: want at least 1 got 0",
            ));
        }
        let mut last = Value::Missing;
        for a in &cmd.args[1..] {
            last = self.arg(a, dot, cmd)?;
            if last.truthy() != is_and {
                return Ok(last);
            }
        }
        if let Some(f) = fin {
            last = f;
        }
        Ok(last)
    }

    fn maybe_call(
        &mut self,
        v: Value,
        cmd: &Cmd,
        dot: &Value,
        fin: Option<Value>,
    ) -> Result<Value, TemplateError> {
        if let Value::Method(m) = &v {
            let mut args = Vec::new();
            for a in &cmd.args[1..] {
                args.push(self.arg(a, dot, cmd)?);
            }
            if let Some(f) = fin {
                args.push(f);
            }
            return m(&args).map_err(|e| self.err(cmd.pos, &cmd.text, &e));
        }
        if cmd.args.len() > 1 || fin.is_some() {
            return Err(self.err(
                cmd.pos,
                &cmd.text,
                &format!("can't give argument to non-function {}", cmd.text),
            ));
        }
        Ok(v)
    }

    fn var(&self, name: &str, cmd: &Cmd) -> Result<Value, TemplateError> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.err(cmd.pos, name, &format!("undefined variable: {name}")))
    }

    fn arg(&mut self, a: &Arg, dot: &Value, cmd: &Cmd) -> Result<Value, TemplateError> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Field(chain, pos) => self.chain(dot, chain, *pos)?,
            Arg::Var(name, chain) => {
                let base = self.var(name, cmd)?;
                if chain.is_empty() {
                    base
                } else {
                    self.chain(&base, chain, cmd.pos)?
                }
            }
            Arg::Ident(name) => funcs::call(name, &[], self.mode)
                .map_err(|e| self.err(cmd.pos, &cmd.text, &format!("error calling {name}: {e}")))?,
            Arg::Str(s) => Value::Str(s.clone()),
            Arg::Number(n) => parse_number(n)
                .ok_or_else(|| self.err(cmd.pos, n, &format!("illegal number syntax: {n:?}")))?,
            Arg::Char(c) => Value::Int(*c as i64),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Nil => Value::Nil,
            Arg::Pipe(p, chain) => {
                let v = self.pipeline(p, dot)?;
                if chain.is_empty() {
                    v
                } else {
                    self.chain(&v, chain, cmd.pos)?
                }
            }
        })
    }

    fn chain(&self, base: &Value, chain: &[String], pos: usize) -> Result<Value, TemplateError> {
        let mut cur = base.clone();
        let at = format!(".{}", chain.join("."));
        for (i, name) in chain.iter().enumerate() {
            cur = match &cur {
                Value::Object(kind, fields) => match fields.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => v.clone(),
                    None => match kind {
                        ObjKind::Map => Value::Missing,
                        // Fields Docker's structs always have print their zero
                        // value when the daemon left them out.
                        ObjKind::Struct
                            if i + 1 == chain.len() && value::is_pointer_field(name) =>
                        {
                            Value::Nil
                        }
                        ObjKind::Struct if i + 1 == chain.len() && value::is_map_field(name) => {
                            Value::NilOf(value::NilKind::Map)
                        }
                        ObjKind::Struct => {
                            return Err(self.err(
                                pos,
                                &at,
                                &format!("map has no entry for key {name:?}"),
                            ))
                        }
                        ObjKind::Context(ty) => {
                            return Err(self.err(
                                pos,
                                &at,
                                &format!("can't evaluate field {name} in type {ty}"),
                            ))
                        }
                    },
                },
                Value::NilOf(value::NilKind::Map) => Value::Missing,
                Value::Nil | Value::NilOf(_) | Value::Missing => {
                    return Err(self.err(
                        pos,
                        &at,
                        &format!("nil pointer evaluating interface {{}}.{name}"),
                    ))
                }
                other => {
                    return Err(self.err(
                        pos,
                        &at,
                        &format!("can't evaluate field {name} in type {}", type_name(other)),
                    ))
                }
            };
            // A method in the middle of a chain is called without arguments.
            if i + 1 < chain.len() {
                if let Value::Method(m) = &cur {
                    cur = m(&[]).map_err(|e| self.err(pos, &at, &e))?;
                }
            }
        }
        Ok(cur)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) | Value::Number(_) => "float64",
        Value::List(_) => "[]interface {}",
        _ => "interface {}",
    }
}

/// Parses a Go number literal into an int or a float.
pub fn parse_number(n: &str) -> Option<Value> {
    let clean: String = n.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let radix_int = |s: &str, r: u32| i64::from_str_radix(s, r).ok();
    let int = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        radix_int(h, 16)
    } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        radix_int(o, 8)
    } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        radix_int(b, 2)
    } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(|c| c.is_ascii_digit()) {
        radix_int(&body[1..], 8)
    } else {
        body.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Value::Int(if neg { -i } else { i }));
    }
    let f: f64 = body.parse().ok()?;
    Some(Value::Float(if neg { -f } else { f }))
}
