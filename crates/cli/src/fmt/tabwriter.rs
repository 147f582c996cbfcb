//! Go's text/tabwriter (as forked by docker/cli) with space padding: cells are
//! tab-terminated, a column is as wide as its widest cell plus padding (at
//! least `minwidth`), and a line without tabs ends a block of aligned lines.

#[derive(Clone, Copy, Default)]
struct Cell {
    size: usize,
    width: usize,
}

/// Elastic tabstops writer collecting into a `String`.
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    buf: String,
    pos: usize,
    cell: Cell,
    lines: Vec<Vec<Cell>>,
    widths: Vec<usize>,
    out: String,
}

impl TabWriter {
    /// docker's table settings are `new(10, 3)` (minwidth 10, padding 3).
    pub fn new(minwidth: usize, padding: usize) -> Self {
        TabWriter {
            minwidth,
            padding,
            buf: String::new(),
            pos: 0,
            cell: Cell::default(),
            lines: vec![Vec::new()],
            widths: Vec::new(),
            out: String::new(),
        }
    }

    fn update_width(&mut self) {
        self.cell.width += super::text::display_width(&self.buf[self.pos..]);
        self.pos = self.buf.len();
    }

    fn terminate_cell(&mut self) -> usize {
        let cell = std::mem::take(&mut self.cell);
        match self.lines.last_mut() {
            Some(line) => {
                line.push(cell);
                line.len()
            }
            None => {
                self.lines.push(vec![cell]);
                1
            }
        }
    }

    /// Adds text.
    pub fn write(&mut self, text: &str) {
        let mut start = 0;
        for (i, ch) in text.char_indices() {
            if matches!(ch, '\t' | '\x0b' | '\n' | '\x0c') {
                self.buf.push_str(&text[start..i]);
                self.cell.size += i - start;
                self.update_width();
                start = i + 1;
                let ncells = self.terminate_cell();
                if ch == '\n' || ch == '\x0c' {
                    self.lines.push(Vec::new());
                    if ch == '\x0c' || ncells == 1 {
                        self.flush_internal();
                    }
                }
            }
        }
        self.buf.push_str(&text[start..]);
        self.cell.size += text.len() - start;
    }

    fn flush_internal(&mut self) {
        if self.cell.size > 0 {
            self.update_width();
            self.terminate_cell();
        }
        let n = self.lines.len();
        self.format(0, 0, n);
        self.buf.clear();
        self.pos = 0;
        self.cell = Cell::default();
        self.lines = vec![Vec::new()];
        self.widths.clear();
    }

    /// Flushes and returns everything written.
    pub fn finish(mut self) -> String {
        self.flush_internal();
        self.out
    }

    fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> usize {
        for i in line0..line1 {
            let line = self.lines[i].clone();
            for (j, c) in line.iter().enumerate() {
                if c.size > 0 {
                    self.out.push_str(&self.buf[pos..pos + c.size]);
                    pos += c.size;
                }
                if j < self.widths.len() {
                    let pad = self.widths[j].saturating_sub(c.width);
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 == self.lines.len() {
                self.out.push_str(&self.buf[pos..pos + self.cell.size]);
                pos += self.cell.size;
            } else {
                self.out.push('\n');
            }
        }
        pos
    }

    fn format(&mut self, mut pos: usize, mut line0: usize, line1: usize) -> usize {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            pos = self.write_lines(pos, line0, this);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].width + self.padding);
                this += 1;
            }
            self.widths.push(width);
            pos = self.format(pos, line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(pos, line0, line1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_docker_ps() {
        let mut tw = TabWriter::new(10, 3);
        tw.write("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n");
        let got = tw.finish();
        // Exact header of `docker ps` with no containers.
        assert_eq!(
            got,
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
        let mut tw = TabWriter::new(10, 3);
        tw.write("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n");
        tw.write("440ed7b85125\tbusybox\t\"sleep 300\"\t3 seconds ago\tUp 2 seconds\t\tbcli-c\n");
        let want = "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     NAMES\n\
                    440ed7b85125   busybox   \"sleep 300\"   3 seconds ago   Up 2 seconds             bcli-c\n";
        assert_eq!(tw.finish(), want);
    }

    #[test]
    fn line_without_tabs_breaks_alignment() {
        let mut tw = TabWriter::new(1, 1);
        tw.write("a\tb\nlong\n");
        tw.write("cc\td\n");
        assert_eq!(tw.finish(), "a b\nlong\ncc d\n");
    }
}
