//! docker's formatter `Context.Write` for list commands: a `--format` value
//! (`table …`, `json`, or a custom template) applied to each row, with the
//! header line for tables rendered from the same template in header mode and
//! aligned by the tabwriter.

use super::tabwriter::TabWriter;
use crate::template::{Mode, Template, Value};

/// Errors of rendering a list.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("template parsing error: {0}")]
    Template(#[from] crate::template::TemplateError),
}

/// Whether the format is a table (`table` prefix).
pub fn is_table(format: &str) -> bool {
    format.starts_with("table")
}

/// docker's `templateString`: strips `table`, trims spaces, expands `\t`/`\n`.
pub fn template_string(format: &str) -> String {
    if format == "json" {
        return "{{json .}}".into();
    }
    let body = format.strip_prefix("table").unwrap_or(format);
    body.trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n")
}

/// Renders `rows`; `header` maps field names to column titles.
pub fn render(format: &str, rows: &[Value], header: &Value) -> Result<String, TableError> {
    let tmpl = Template::parse(&template_string(format))?;
    let mut body = String::new();
    for row in rows {
        body.push_str(&tmpl.execute(row, Mode::Normal)?);
        body.push('\n');
    }
    if !is_table(format) {
        return Ok(body);
    }
    let mut tw = TabWriter::new(10, 3);
    tw.write(&tmpl.execute_lossy(header, Mode::Header));
    tw.write("\n");
    tw.write(&body);
    Ok(tw.finish())
}

/// A header context: each field name maps to its column title, and
/// `.Label "a.b-c"` gives `b c` as docker's `SubHeaderContext` does.
pub fn header(fields: &[(&str, &str)]) -> Value {
    let mut entries: Vec<(String, Value)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::str(*v)))
        .collect();
    let label: crate::template::value::Method = std::rc::Rc::new(|args: &[Value]| {
        let name = args.first().map(Value::to_go_string).unwrap_or_default();
        let last = name
            .rsplit('.')
            .next()
            .unwrap_or("")
            .replace(['-', '_'], " ");
        Ok(Value::Str(last))
    });
    entries.push(("Label".into(), Value::Method(label)));
    Value::Object(crate::template::ObjKind::Map, entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::ObjKind;

    #[test]
    fn table_with_header() {
        let row = Value::Object(
            ObjKind::Context("t"),
            vec![
                ("ID".into(), Value::str("abc")),
                ("Name".into(), Value::str("n")),
            ],
        );
        let h = header(&[("ID", "CONTAINER ID"), ("Name", "NAME")]);
        let out = render("table {{.ID}}\\t{{.Name}}", std::slice::from_ref(&row), &h).unwrap();
        assert_eq!(out, "CONTAINER ID   NAME\nabc            n\n");
        let t = Template::parse("{{.Label \"com.x-y\"}}").unwrap();
        assert_eq!(t.execute(&h, Mode::Header).unwrap(), "x y");
        assert_eq!(
            render("{{.ID}}", std::slice::from_ref(&row), &h).unwrap(),
            "abc\n"
        );
        assert_eq!(
            render("json", &[row], &h).unwrap(),
            "{\"ID\":\"abc\",\"Name\":\"n\"}\n"
        );
    }
}
