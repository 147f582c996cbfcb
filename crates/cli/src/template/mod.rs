//! Go text/template, the subset docker's `--format` uses, written here because
//! the Go semantics that matter to users (how maps, slices and nil print,
//! sorted map ranges, methods with arguments such as `.Label "k"`, missing-key
//! errors) are not reachable through gtmpl.

mod exec;
pub mod funcs;
mod lex;
mod parse;
mod printf;
pub mod value;

pub use funcs::Mode;
pub use value::{ObjKind, Value};

/// Errors of parsing or executing a template; the text is Go's.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template: :{line}: {msg}")]
    Parse { line: usize, msg: String },
    #[error("{0}")]
    Exec(String),
}

impl TemplateError {
    fn parse(line: usize, msg: &str) -> TemplateError {
        TemplateError::Parse {
            line,
            msg: msg.to_string(),
        }
    }
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    src: String,
    tree: parse::Tree,
}

impl Template {
    /// Parses Go template text.
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let toks = lex::lex(src)?;
        let tree = parse::parse(src, toks, &funcs::exists)?;
        Ok(Template {
            src: src.to_string(),
            tree,
        })
    }

    /// Executes with `dot` as data.
    pub fn execute(&self, dot: &Value, mode: Mode) -> Result<String, TemplateError> {
        let mut ex = exec::Exec::new(&self.src, &self.tree, mode);
        ex.run(dot)?;
        Ok(ex.out)
    }

    /// Executes and keeps whatever was written before an error, as Go does
    /// for docker's table headers.
    pub fn execute_lossy(&self, dot: &Value, mode: Mode) -> String {
        let mut ex = exec::Exec::new(&self.src, &self.tree, mode);
        let _ = ex.run(dot);
        ex.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn run(t: &str, json: &str) -> String {
        let v = Value::parse_json(json).unwrap();
        Template::parse(t)
            .unwrap()
            .execute(&v, Mode::Normal)
            .unwrap()
    }

    #[test]
    fn fields_ranges_and_conditions() {
        let d = r#"{"Name":"/x","State":{"Running":true,"Pid":42},"Config":{"Env":["A=1","B=2"],"Labels":{"b":"2","a":"1"}},"Mounts":[]}"#;
        assert_eq!(run("{{.Name}} {{.State.Pid}}", d), "/x 42");
        assert_eq!(
            run("{{.Config.Env}} {{.Config.Labels}}", d),
            "[A=1 B=2] map[a:1 b:2]"
        );
        assert_eq!(
            run("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", d),
            "a=1;b=2;"
        );
        assert_eq!(run("{{range .Config.Env}}[{{.}}]{{end}}", d), "[A=1][B=2]");
        assert_eq!(run("{{if .State.Running}}up{{else}}down{{end}}", d), "up");
        assert_eq!(
            run(
                "{{if not .State.Running}}a{{else if eq .Name \"/x\"}}b{{else}}c{{end}}",
                d
            ),
            "b"
        );
        assert_eq!(run("{{range .Mounts}}m{{else}}none{{end}}", d), "none");
        assert_eq!(run("{{with .State}}{{.Pid}}{{end}}", d), "42");
        assert_eq!(run("{{json .Config.Labels}}", d), r#"{"a":"1","b":"2"}"#);
        assert_eq!(run("{{index .Config.Labels \"a\"}}|{{index .Config.Labels \"zz\"}}|{{.Config.Labels.zz}}", d), "1||<no value>");
        assert_eq!(
            run("{{len .Config.Env}} {{join .Config.Env \",\"}}", d),
            "2 A=1,B=2"
        );
        assert_eq!(run("{{ .Name | printf \"%s!\" }}", d), "/x!");
        assert_eq!(run("{{- $n := .Name -}}  {{ $n }}", d), "/x");
        assert_eq!(run("{{(index .Config.Env 1)}}", d), "B=2");
        assert_eq!(
            run("{{define \"t\"}}<{{.}}>{{end}}{{template \"t\" .Name}}", d),
            "</x>"
        );
    }

    #[test]
    fn errors_like_go() {
        let v = Value::parse_json(r#"{"A":1}"#).unwrap();
        let e = Template::parse("{{.Foo}}")
            .unwrap()
            .execute(&v, Mode::Normal)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\""
        );
        let e = Template::parse("{{nosuch .}}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: :1: function \"nosuch\" not defined"
        );
        assert!(Template::parse("{{if .A}}").is_err());
    }

    #[test]
    fn methods_take_arguments() {
        let label: value::Method =
            Rc::new(|a: &[Value]| Ok(Value::Str(format!("L{}", a[0].to_go_string()))));
        let v = Value::Object(
            ObjKind::Context("*formatter.ContainerContext"),
            vec![("Label".into(), Value::Method(label))],
        );
        assert_eq!(
            Template::parse("{{.Label \"x\"}}")
                .unwrap()
                .execute(&v, Mode::Normal)
                .unwrap(),
            "Lx"
        );
        let e = Template::parse("{{.Nope}}")
            .unwrap()
            .execute(&v, Mode::Normal)
            .unwrap_err();
        assert!(e
            .to_string()
            .ends_with("can't evaluate field Nope in type *formatter.ContainerContext"));
    }
}
